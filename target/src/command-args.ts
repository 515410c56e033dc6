/**
 * What the `openlun` commands share: strict node:util parseArgs, `--help`, one way to report bad arguments (message
 * + usage on stderr, exit code 2), and serving in the foreground until SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import type { Logger } from './log.ts';

type Options = NonNullable<ParseArgsConfig['options']>;
type Values<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: false }>>['values'];

/** The parsed options, or the exit code to return at once (0 after --help, 2 after a bad argument). */
export function parseCommandArgs<O extends Options>(command: string, usage: string, argv: string[], options: O): Values<O> | number {
  let values: Values<O>;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }));
  } catch (err) {
    process.stderr.write(`openlun ${command}: ${(err as Error).message}\n${usage}\n`);
    return 2;
  }
  if ((values as Record<string, unknown>)['help'] === true) {
    process.stdout.write(usage + '\n');
    return 0;
  }
  return values;
}

/** Resolves at the first SIGINT or SIGTERM (logged), then stops listening for them. */
export function untilStopSignal(log: Logger): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (sig: NodeJS.Signals): void => {
      log.info(`${sig}: shutting down`);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
