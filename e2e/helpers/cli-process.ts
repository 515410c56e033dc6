/**
 * The built openlun command line (dist/openlun.mjs) as a script runs it, for the CLI tests: built first, then run
 * as a child process with no terminal, its own config directory and only the OPENLUN_* variables a test gives it.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeRun, run, runOk } from './run.ts';
import type { RunResult } from './run.ts';

const ROOT = join(import.meta.dirname, '../..');
export const CLI_BUNDLE = join(ROOT, 'dist/openlun.mjs');

/** dist/openlun.mjs from the current sources (the CLI tests run the bundle, as the appliance does). */
export async function buildBundle(): Promise<void> {
  await runOk(['node', join(ROOT, 'scripts/build.mjs')], { timeoutMs: 120_000 });
}

const CLI_ENV = ['OPENLUN_URL', 'OPENLUN_TOKEN', 'OPENLUN_FINGERPRINT', 'OPENLUN_CA'] as const;

export interface CliRunOptions {
  /** XDG_CONFIG_HOME: where the CLI keeps its stored login */
  configHome: string;
  input?: string;
  /** extra environment; of the OPENLUN_* variables only those given here reach the CLI */
  env?: Record<string, string>;
}

/**
 * The CLI with no terminal even when the tests run from one (setsid: a new session has no controlling terminal, so
 * /dev/tty cannot be opened and nothing waits for an answer on the developer's screen).
 */
export function runCli(args: readonly string[], o: CliRunOptions): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: o.configHome, ...o.env };
  for (const k of CLI_ENV) if (!o.env?.[k]) delete env[k];
  return run(['setsid', '--wait', 'node', CLI_BUNDLE, ...args], { env, timeoutMs: 30_000, ...(o.input !== undefined ? { input: o.input } : {}) });
}

/** A run that must end with exit code `code` and say `message` on stderr. */
export function assertCliFailed(r: RunResult, code: number, message: RegExp): RunResult {
  assert.equal(r.code, code, describeRun(r));
  assert.match(r.stderr, message, describeRun(r));
  return r;
}

/** The SHA-256 fingerprint (colon-separated hex) of the certificate serve made in its data directory. */
export async function serveFingerprint(dataDir: string): Promise<string> {
  return new X509Certificate(await readFile(join(dataDir, 'tls', 'cert.pem'))).fingerprint256;
}
