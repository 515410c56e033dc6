/**
 * `openlun serve` in-process (plain HTTP on loopback) against an in-process targetd (TargetRuntime behind its real
 * control socket), and a fetch client that keeps the session cookie and CSRF token as a browser does. For the tests
 * that need the live side of serve: the reconcile, the self-test, the admin pages.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServe, type ServeHandle } from '../../src/serve.ts';
import { startControlServer } from '../../../target/src/daemon/control.ts';
import { TargetRuntime } from '../../../target/src/daemon/runtime.ts';
import { writeStateFile } from '../../../target/src/daemon/state-file.ts';
import { capturingLogger } from '../../../target/test/support/target-fixture.ts';

export interface HttpReply {
  status: number;
  json: any;
  headers: Headers;
}

export interface SessionClient {
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<HttpReply>;
}

/** Over fetch; the session a setup or login opens (cookie, CSRF token) is sent with every later request. */
export function sessionClient(base: string): SessionClient {
  let cookie = '';
  let csrf = '';
  return {
    async call(method, path, body, extra = {}) {
      const res = await fetch(base + path, {
        method,
        headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(cookie ? { cookie, 'x-csrf-token': csrf } : {}), ...extra },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      const json = text ? JSON.parse(text) : undefined;
      const set = res.headers.getSetCookie();
      if (set.length) cookie = set.map((c) => c.split(';')[0]).join('; ');
      if (json?.csrfToken) csrf = json.csrfToken;
      return { status: res.status, json, headers: res.headers };
    },
  };
}

export interface InProcessServe {
  serve: ServeHandle;
  rt: TargetRuntime;
  log: ReturnType<typeof capturingLogger>;
  close(): Promise<void>;
}

/**
 * serve on `dir` (data in dir/data, targetd's state and control socket in dir); with `targetd: false` nothing
 * listens on the control socket (an unreachable target daemon).
 */
export async function startInProcessServe(dir: string, o: { targetd?: boolean } = {}): Promise<InProcessServe> {
  const log = capturingLogger();
  const rt = new TargetRuntime({ log, persist: (s) => writeStateFile(join(dir, 'state.json'), s), nopIntervalMs: 0 });
  const sock = join(dir, 'target.sock');
  const control = o.targetd === false ? undefined : await startControlServer(sock, rt, log);
  const closeTarget = async () => {
    await control?.close();
    await rt.close(100);
  };
  let serve: ServeHandle;
  try {
    serve = await startServe({
      dataDir: join(dir, 'data'),
      host: '127.0.0.1',
      port: 0,
      spawnTarget: false,
      controlPath: sock,
      stateFile: join(dir, 'state.json'),
      tls: false,
      logLevel: 'error',
      selfArgv: [],
    });
  } catch (e) {
    // an open control socket would keep the test process alive
    await closeTarget();
    throw e;
  }
  return {
    serve,
    rt,
    log,
    async close() {
      await serve.close();
      await closeTarget();
    },
  };
}

/** serve in a fresh temp dir for the length of `fn`; everything is closed and removed afterwards, also on failure. */
export async function withInProcessServe(prefix: string, fn: (s: InProcessServe, api: SessionClient) => Promise<void>, o: { targetd?: boolean } = {}): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  try {
    const s = await startInProcessServe(dir, o);
    try {
      await fn(s, sessionClient(s.serve.url));
    } finally {
      await s.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
