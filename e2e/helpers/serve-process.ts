/**
 * `openlun serve` as a child process for whole-system tests (HTTPS with the self-signed certificate it makes in its
 * data directory), the API reached over that HTTPS trusting exactly that certificate, and the detached targetd it
 * spawned ended by its pid. Shared by the CLI, appliance and portal-group tests.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { TargetClient } from '../../api/src/target-client.ts';
import { trackChild } from './run.ts';

export interface ServeProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
}

export interface ServeProcessOptions {
  dataDir: string;
  /** host:port for --listen */
  listen: string;
  /** how long serve may take to say the API listens (default 60 s) */
  startTimeoutMs?: number;
  /** default warn */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** e.g. --no-tls */
  extraArgs?: readonly string[];
}

/**
 * Starts `<argv> serve --data-dir … --listen … [extraArgs] --log-level warn` (argv: the program, e.g. bin/openlun or node and
 * the bundle) and resolves once it prints that the API listens; rejects with its output if it exits first.
 */
export function startServeProcess(argv: readonly string[], o: ServeProcessOptions): Promise<ServeProcess> {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error('startServeProcess: empty argv');
  const serveArgs = ['serve', '--data-dir', o.dataDir, '--listen', o.listen, ...(o.extraArgs ?? []), '--log-level', o.logLevel ?? 'warn'];
  const child = spawn(file, [...args, ...serveArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}\n${err}`)), o.startTimeoutMs ?? 60_000);
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('API listening on')) {
        clearTimeout(timer);
        resolve({ child, exited });
      }
    });
    void exited.then((code) => reject(new Error(`serve exited with ${code}:\n${out}\n${err}`)));
  });
}

export async function stopServeProcess(serve: ServeProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!serve) return;
  serve.child.kill(signal);
  await serve.exited;
}

/** The pid of the targetd listening on the data directory's control socket, if one answers. */
export async function targetdPid(dataDir: string): Promise<number | undefined> {
  return (await new TargetClient(join(dataDir, 'target.sock'), 5000).ping().catch(() => undefined))?.pid;
}

/** targetd outlives the API by design (iSCSI keeps serving): a test ends the one it started by its pid. */
export async function endTargetd(pid: number | undefined): Promise<void> {
  if (pid) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  await new Promise((r) => setTimeout(r, 300));
}

export interface ApiReply {
  status: number;
  json: any;
  headers: IncomingHttpHeaders;
}

/**
 * The management API of a serve process over HTTPS, trusting exactly the certificate serve created in its data
 * directory; signed in either with a session (cookie + CSRF header, taken from a setup or login reply) or a bearer
 * token.
 */
export class ServeApi {
  cookie = '';
  csrf = '';

  constructor(
    readonly host: string,
    readonly port: number,
    readonly dataDir: string,
    readonly bearer = '',
  ) {}

  async request(method: string, path: string, body?: unknown): Promise<ApiReply> {
    const ca = await readFile(join(this.dataDir, 'tls', 'cert.pem'));
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers = {
      ...(payload ? { 'content-type': 'application/json' } : {}),
      ...(this.bearer ? { authorization: `Bearer ${this.bearer}` } : {}),
      ...(this.cookie ? { cookie: this.cookie, 'x-csrf-token': this.csrf } : {}),
    };
    return new Promise((resolve, reject) => {
      const req = https.request({ host: this.host, port: this.port, method, path, ca, servername: 'localhost', headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, json: text ? JSON.parse(text) : undefined, headers: res.headers }));
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Keeps the session a setup (201) or login (200) reply opened. */
  adoptSession(reply: ApiReply): void {
    this.cookie = (reply.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ');
    this.csrf = reply.json.csrfToken;
  }

  /** First-run setup (the one step the CLI does not do); the admin session is kept. */
  async setup(password: string): Promise<void> {
    const r = await this.request('POST', '/api/setup', { password });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    this.adoptSession(r);
  }

  /** A change that must succeed and reach the target (serve sets x-openlun-target when the apply failed). */
  async applied(method: string, path: string, body?: unknown): Promise<any> {
    const r = await this.request(method, path, body);
    assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`);
    assert.equal(r.headers['x-openlun-target'], undefined, `${method} ${path}: the target applied the change`);
    return r.json;
  }
}
