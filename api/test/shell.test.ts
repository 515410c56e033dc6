// The web shell over a real WebSocket (the `ws` client @fastify/websocket itself uses; node 20 has no global
// WebSocket) against the API listening on a loopback port: a command's output comes back, resize works, the session
// is audited with its byte counts, and every refusal happens before a shell exists — no cookie, a read-only user,
// a foreign Origin, no Origin, a wrong CSRF token, an API token, too many shells; the idle timeout ends a session.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { afterEach, test } from 'node:test';
import { buildApp } from '../src/app.ts';
import { shellRoutes, type ShellOptions } from '../src/routes/shell.ts';
import { as, createReader, setupAdmin, type Session } from './support/fixture.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';

interface WsClient {
  on(event: 'message', l: (data: Buffer, isBinary: boolean) => void): void;
  on(event: 'open', l: () => void): void;
  on(event: 'close', l: (code: number, reason: Buffer) => void): void;
  on(event: 'error', l: (e: Error) => void): void;
  on(event: 'unexpected-response', l: (req: { destroy(): void }, res: { statusCode: number }) => void): void;
  send(data: string): void;
  close(): void;
}
type WsCtor = new (url: string, opts: { headers: Record<string, string> }) => WsClient;
const WebSocket = createRequire(import.meta.url)('ws') as WsCtor;

let dir: string;
let app: FastifyInstance;
afterEach(async () => {
  await app?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function start(o: Partial<ShellOptions> = {}): Promise<{ base: string; origin: string; admin: Session }> {
  dir = mkdtempSync(join(tmpdir(), 'openlun-shell-'));
  app = await buildApp({ dataDir: dir, secureCookies: false, extend: async (a) => {
    await a.register(shellRoutes({ dataDir: dir, command: ['/bin/bash', '--norc', '--noprofile', '-i'], ...o }));
  } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { base: `ws://127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}`, admin: await setupAdmin(app) };
}

interface Conn {
  ws: WsClient;
  output: () => string;
  controls: Array<{ type: string; reason?: string; pid?: number }>;
  closed: Promise<{ code: number; reason: string }>;
  waitFor(re: RegExp, ms?: number): Promise<string>;
}

/** Opens the socket; resolves with the HTTP status when the handshake is refused. */
function connect(url: string, headers: Record<string, string>): Promise<Conn | { status: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    let out = '';
    const controls: Conn['controls'] = [];
    const waiters: Array<() => void> = [];
    let closedResolve!: (v: { code: number; reason: string }) => void;
    const closed = new Promise<{ code: number; reason: string }>((r) => (closedResolve = r));
    ws.on('unexpected-response', (req, res) => {
      req.destroy();
      resolve({ status: res.statusCode });
    });
    ws.on('error', (e) => reject(e));
    ws.on('close', (code, reason) => closedResolve({ code, reason: reason.toString() }));
    ws.on('message', (data, isBinary) => {
      if (isBinary) out += data.toString('utf8');
      else controls.push(JSON.parse(data.toString('utf8')) as Conn['controls'][number]);
      for (const w of waiters.splice(0)) w();
    });
    ws.on('open', () =>
      resolve({
        ws,
        output: () => out,
        controls,
        closed,
        waitFor: (re, ms = 10_000) =>
          new Promise((res, rej) => {
            const deadline = setTimeout(() => rej(new Error(`no ${re} in output: ${JSON.stringify(out.slice(-400))}`)), ms);
            const check = (): void => {
              const m = re.exec(out);
              if (m) {
                clearTimeout(deadline);
                res(m[0]);
              } else waiters.push(check);
            };
            check();
          }),
      }),
    );
  });
}

function hello(c: Conn, csrf: string, cols = 100, rows = 30): void {
  c.ws.send(JSON.stringify({ type: 'hello', csrf, cols, rows }));
}

async function audit(admin: Session): Promise<Array<{ action: string; actor: string; ip: string; detail: Record<string, unknown> }>> {
  return (await app.inject({ method: 'GET', url: '/api/audit', headers: as(admin) })).json();
}

test('an admin runs a command and reads its output; resize; the session is audited with duration and bytes', async () => {
  const { base, origin, admin } = await start();
  const c = await connect(`${base}/api/shell`, { cookie: admin.cookie, origin });
  assert.ok('ws' in c, 'handshake accepted');
  hello(c, admin.csrf);
  c.ws.send(JSON.stringify({ type: 'input', data: 'echo "sum=$((40 + 2))"; stty size\r' }));
  // the shell computed it (the typed line holds "40 + 2", only the output holds "sum=42")
  await c.waitFor(/sum=42/);
  await c.waitFor(/\b30 100\b/);
  c.ws.send(JSON.stringify({ type: 'resize', cols: 132, rows: 43 }));
  c.ws.send(JSON.stringify({ type: 'input', data: 'stty size\r' }));
  await c.waitFor(/\b43 132\b/);
  assert.equal(c.controls[0]?.type, 'ready');
  c.ws.send(JSON.stringify({ type: 'input', data: 'exit 3\r' }));
  const closed = await c.closed;
  assert.equal(closed.code, 1000);
  assert.ok(c.controls.some((m) => m.type === 'exit' && /status 3/.test(m.reason ?? '')), JSON.stringify(c.controls));
  // the end is audited right after the close; give the server a moment
  let log = await audit(admin);
  for (let i = 0; i < 50 && !log.some((e) => e.action === 'shell.end'); i++) {
    await new Promise((r) => setTimeout(r, 50));
    log = await audit(admin);
  }
  const startEntry = log.find((e) => e.action === 'shell.start')!;
  const end = log.find((e) => e.action === 'shell.end')!;
  assert.equal(startEntry.actor, 'admin');
  assert.equal(startEntry.ip, '127.0.0.1');
  assert.ok((end.detail['bytesOut'] as number) > 20 && (end.detail['bytesIn'] as number) > 20, JSON.stringify(end.detail));
  assert.ok((end.detail['durationMs'] as number) >= 0);
  assert.match(end.detail['reason'] as string, /status 3/);
  const transcript = end.detail['transcript'] as string;
  assert.ok(existsSync(transcript));
  assert.equal(statSync(transcript).mode & 0o777, 0o600);
  assert.match(readFileSync(transcript, 'utf8'), /sum=42/);
});

test('refused before any shell: no cookie, read-only, foreign or missing Origin, API token; wrong CSRF closes with 4403', async () => {
  const { base, origin, admin } = await start();
  const url = `${base}/api/shell`;
  assert.deepEqual(await connect(url, { origin }), { status: 401 });
  const reader = await createReader(app, admin);
  assert.deepEqual(await connect(url, { cookie: reader.cookie, origin }), { status: 403 });
  assert.deepEqual(await connect(url, { cookie: admin.cookie, origin: 'https://evil.example' }), { status: 403 });
  assert.deepEqual(await connect(url, { cookie: admin.cookie, origin: origin.replace('http:', 'https:') }), { status: 403 });
  assert.deepEqual(await connect(url, { cookie: admin.cookie }), { status: 403 });
  const token = (await app.inject({ method: 'POST', url: '/api/tokens', headers: as(admin), payload: { name: 'script' } })).json().secret as string;
  assert.deepEqual(await connect(url, { authorization: `Bearer ${token}`, origin }), { status: 403 });
  // a plain GET (no upgrade) is not a shell either
  assert.equal((await app.inject({ method: 'GET', url: '/api/shell', headers: as(admin) })).statusCode, 403);

  const c = await connect(url, { cookie: admin.cookie, origin });
  assert.ok('ws' in c);
  hello(c, 'not-the-token');
  assert.equal((await c.closed).code, 4403);
  assert.equal(c.output(), '', 'no shell output before the CSRF token');
  const c2 = await connect(url, { cookie: admin.cookie, origin });
  assert.ok('ws' in c2);
  c2.ws.send(JSON.stringify({ type: 'input', data: 'id\r' }));
  assert.equal((await c2.closed).code, 4400);
  const log = await audit(admin);
  assert.equal(log.filter((e) => e.action === 'shell.start').length, 0, 'no shell ever started');
  assert.ok(log.some((e) => e.action === 'shell.refused' && /evil\.example/.test(String(e.detail['reason']))));
});

test('at most maxSessions shells at once; the idle timeout ends a session', async () => {
  const { base, origin, admin } = await start({ maxSessions: 1, idleTimeoutMs: 700, transcripts: false });
  const url = `${base}/api/shell`;
  const first = await connect(url, { cookie: admin.cookie, origin });
  assert.ok('ws' in first);
  hello(first, admin.csrf);
  first.ws.send(JSON.stringify({ type: 'input', data: 'echo up-$((1+1))\r' }));
  await first.waitFor(/up-2/);
  assert.deepEqual(await connect(url, { cookie: admin.cookie, origin }), { status: 409 });
  const closed = await first.closed;
  assert.equal(closed.code, 4408);
  assert.match(closed.reason, /idle/);
  // the slot is free again
  let again: Awaited<ReturnType<typeof connect>> = { status: 0 };
  for (let i = 0; i < 20; i++) {
    again = await connect(url, { cookie: admin.cookie, origin });
    if ('ws' in again) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok('ws' in again, 'a new shell after the idle one ended');
  again.ws.close();
});
