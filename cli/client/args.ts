/**
 * Argument parsing for the API client commands: node:util parseArgs (strict, positionals allowed) with the options
 * every command shares, and the two ways a command ends early — a usage error (exit 2, usage on stderr) and --help
 * (exit 0, usage on stdout).
 */
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Bad arguments: the caller prints the message and the command's usage, and exits 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
  }
}

/** --help: the caller prints the usage on stdout and exits 0. */
export class HelpRequested extends Error {
  constructor(readonly usage: string) {
    super('help');
  }
}

/** A failure the user can act on (not found, refused, unreachable): message on stderr, exit 1. */
export class CliError extends Error {}

export const GLOBAL_OPTIONS = {
  json: { type: 'boolean', default: false },
  url: { type: 'string' },
  fingerprint: { type: 'string' },
  ca: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies Options;

export const GLOBAL_HELP = `Options every command takes:
  --json               print the API's JSON instead of a table (for scripts)
  --url URL            the appliance (default: the stored login, or OPENLUN_URL)
  --fingerprint SHA256 trust the server certificate with this SHA-256 fingerprint (or OPENLUN_FINGERPRINT)
  --ca FILE            trust server certificates issued by this CA (or OPENLUN_CA)
  OPENLUN_TOKEN        an API token to use instead of the stored login`;

export interface GlobalValues {
  json: boolean;
  url?: string | undefined;
  fingerprint?: string | undefined;
  ca?: string | undefined;
}

export interface Parsed<O extends Options> {
  values: { [K in keyof O]: O[K] extends { type: 'boolean' } ? boolean | undefined : O[K] extends { multiple: true } ? string[] | undefined : string | undefined } & GlobalValues;
  positionals: string[];
}

/**
 * Parses `argv` for one command. `positionals` is [min, max] (max Infinity for "one or more").
 * Throws UsageError or HelpRequested.
 */
export function parseCommand<O extends Options>(usage: string, argv: string[], options: O, positionals: [number, number] = [0, 0]): Parsed<O> {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options: { ...GLOBAL_OPTIONS, ...options }, strict: true, allowPositionals: true }) as typeof parsed;
  } catch (err) {
    throw new UsageError((err as Error).message, usage);
  }
  if (parsed.values['help'] === true) throw new HelpRequested(usage);
  const [min, max] = positionals;
  const n = parsed.positionals.length;
  if (n < min) throw new UsageError(`missing argument${min - n > 1 ? 's' : ''}`, usage);
  if (n > max) throw new UsageError(`unexpected argument "${parsed.positionals[max]}"`, usage);
  return parsed as unknown as Parsed<O>;
}

/** A whole number within [min, max] from an argument, or a usage error naming the option. */
export function parseInteger(text: string, what: string, min: number, max: number, usage: string): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) throw new UsageError(`${what} must be a whole number ${min}-${max}, got "${text}"`, usage);
  return Number(text);
}
