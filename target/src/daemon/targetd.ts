/**
 * `openlun targetd`: the data path as its own process (design.md). It starts from the desired-state file alone,
 * serves iSCSI, and takes new states over its control socket; it keeps serving whatever happens to the API.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createLogger } from '../log.ts';
import type { LogLevel } from '../log.ts';
import { formatPortal } from '../iscsi/target-config.ts';
import { startControlServer } from './control.ts';
import { TargetRuntime } from './runtime.ts';
import { STATE_VERSION } from './state.ts';
import type { DesiredState } from './state.ts';
import { readStateFile, writeStateFile } from './state-file.ts';
import { parseCommandArgs, untilStopSignal } from '../command-args.ts';

export const DEFAULT_CONTROL_SOCKET = '/run/openlun/target.sock';
export const DEFAULT_STATE_FILE = '/var/lib/openlun/target-state.json';

const USAGE = `usage: openlun targetd [--state FILE] [--control SOCKET] [--allow-missing-state] [--log-level LEVEL]

Serves the targets of a desired-state file (default ${DEFAULT_STATE_FILE}) and takes changes over a local
control socket (default ${DEFAULT_CONTROL_SOCKET}, mode 0600). --allow-missing-state starts with no targets when
the file does not exist yet (first start of 'openlun serve').`;

export const EMPTY_STATE: DesiredState = { version: STATE_VERSION, hostname: '', listen: [], backstores: [], targets: [], warnings: [] };

export async function runTargetdCommand(argv: string[]): Promise<number> {
  const values = parseCommandArgs('targetd', USAGE, argv, {
    state: { type: 'string', default: DEFAULT_STATE_FILE },
    control: { type: 'string', default: DEFAULT_CONTROL_SOCKET },
    'allow-missing-state': { type: 'boolean', default: false },
    'log-level': { type: 'string', default: 'info' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (typeof values === 'number') return values;
  if (!['debug', 'info', 'warn', 'error'].includes(values['log-level']!)) {
    process.stderr.write(`openlun targetd: bad --log-level\n${USAGE}\n`);
    return 2;
  }
  const log = createLogger(values['log-level'] as LogLevel);
  const stateFile = values.state!;
  const controlPath = values.control!;
  let initial: DesiredState;
  try {
    initial = values['allow-missing-state'] && !existsSync(stateFile) ? EMPTY_STATE : await readStateFile(stateFile);
  } catch (err) {
    process.stderr.write(`openlun targetd: ${(err as Error).message}\n`);
    return 1;
  }
  // APTPL reservations live beside the state file (SPC-4 §5.13.5: they survive a restart of the target)
  const prStateDir = join(dirname(stateFile), 'reservations');
  await mkdir(prStateDir, { recursive: true, mode: 0o700 });
  const runtime = new TargetRuntime({ log, persist: (s) => writeStateFile(stateFile, s), prStateDir });
  let control;
  try {
    await runtime.apply(initial);
    await mkdir(dirname(controlPath), { recursive: true, mode: 0o700 });
    control = await startControlServer(controlPath, runtime, log);
  } catch (err) {
    await runtime.close(0).catch(() => undefined);
    process.stderr.write(`openlun targetd: ${(err as Error).message}\n`);
    return 1;
  }
  for (const p of runtime.portals()) process.stdout.write(`listening on ${formatPortal(p.host, p.port)}\n`);
  process.stdout.write(`control socket ${controlPath}\n`);
  log.info(`targetd serving ${initial.targets.length} target(s)`);

  await untilStopSignal(log);
  await control.close();
  await runtime.close(1000);
  return 0;
}
