/**
 * The stored login: ~/.config/openlun/cli.json ($XDG_CONFIG_HOME honoured), mode 0600 in a 0700 directory,
 * written to a temporary file and renamed so it is never half-written. It holds an API token, so a file others can
 * read is refused rather than used (as ssh does with keys).
 */
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError } from './args.ts';
import type { Trust } from './transport.ts';

export interface StoredLogin {
  url: string;
  username: string;
  token: string;
  tokenId: number;
  trust: Trust;
  savedAt: string;
}

export function credentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env['XDG_CONFIG_HOME'] || join(env['HOME'] || homedir(), '.config');
  return join(base, 'openlun', 'cli.json');
}

function isTrust(t: unknown): t is Trust {
  const x = t as Record<string, unknown> | null;
  if (!x || typeof x !== 'object') return false;
  if (x['kind'] === 'pin') return typeof x['fingerprint256'] === 'string';
  if (x['kind'] === 'ca') return typeof x['caFile'] === 'string';
  return x['kind'] === 'system' || x['kind'] === 'plain';
}

export function loadLogin(path = credentialsPath()): StoredLogin | undefined {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch {
    return undefined;
  }
  if ((mode & 0o077) !== 0) throw new CliError(`${path} holds an API token but others may read it (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${path}, or log in again`);
  let data: Partial<StoredLogin>;
  try {
    data = JSON.parse(readFileSync(path, 'utf8')) as Partial<StoredLogin>;
  } catch (err) {
    throw new CliError(`cannot read ${path}: ${(err as Error).message}; run openlun login again`);
  }
  if (typeof data.url !== 'string' || typeof data.token !== 'string' || typeof data.tokenId !== 'number' || !isTrust(data.trust)) {
    throw new CliError(`${path} is not a login this version understands; run openlun login again`);
  }
  return data as StoredLogin;
}

export function saveLogin(login: StoredLogin, path = credentialsPath()): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, JSON.stringify(login, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new CliError(`cannot store the login in ${path}: ${(err as Error).message}`);
  }
}

export function removeLogin(path = credentialsPath()): boolean {
  try {
    rmSync(path);
    return true;
  } catch {
    return false;
  }
}
