// GET /api/events over a real listening server: the first events arrive (sessions, stats, heartbeats), a login
// shows up as a sessions event, reads as IOPS; the poller stops when the last client leaves; a revoked token ends
// its stream; an unreachable targetd is an event, not a crash.
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.ts';
import { computeRates, eventRoutes, sseFrame } from '../src/routes/events.ts';
import { Reconciler } from '../src/serve.ts';
import { TargetClient } from '../src/target-client.ts';
import { startControlServer } from '../../target/src/daemon/control.ts';
import { TargetRuntime } from '../../target/src/daemon/runtime.ts';
import { RawInitiator } from '../../target/test/support/raw-initiator.ts';
import { capturingLogger } from '../../target/test/support/target-fixture.ts';
import { freePort } from '../../e2e/helpers/ports.ts';

const IQN = 'iqn.2026-11.org.openlun:events-test';
const INITIATOR = 'iqn.2026-11.org.openlun:events-host';

class CountingClient extends TargetClient {
  calls = 0;
  override request<T = unknown>(op: string, params: Record<string, unknown> = {}): Promise<T> {
    this.calls++;
    return super.request<T>(op, params);
  }
}

interface SseEvent {
  event: string;
  data: any;
}

interface Stream {
  status: number;
  headers: http.IncomingHttpHeaders;
  comments: string[];
  /** the next event of that name (earlier events of other names are skipped) */
  next(name: string, timeoutMs?: number): Promise<SseEvent>;
  ended: Promise<void>;
  close(): void;
}

function openStream(url: string, headers: Record<string, string>): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      const queue: SseEvent[] = [];
      const comments: string[] = [];
      let waiter: (() => void) | undefined;
      let buf = '';
      const ended = new Promise<void>((r) => res.on('close', () => r()));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of frame.split('\n')) {
            if (line.startsWith(':')) comments.push(line);
            else if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length) queue.push({ event, data: JSON.parse(data.join('\n')) });
        }
        waiter?.();
      });
      resolve({
        status: res.statusCode!,
        headers: res.headers,
        comments,
        ended,
        async next(name, timeoutMs = 3000) {
          const deadline = Date.now() + timeoutMs;
          for (;;) {
            const idx = queue.findIndex((e) => e.event === name);
            if (idx >= 0) return queue.splice(0, idx + 1).at(-1)!;
            const left = deadline - Date.now();
            if (left <= 0) throw new Error(`no ${name} event within ${timeoutMs} ms (queued: ${queue.map((e) => e.event).join(',')})`);
            await new Promise<void>((r) => {
              const t = setTimeout(r, left);
              waiter = () => {
                clearTimeout(t);
                r();
              };
            });
          }
        },
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
  });
}

interface Env {
  app: FastifyInstance;
  base: string;
  client: CountingClient;
  admin: Record<string, string>;
  token: { id: number; headers: Record<string, string> };
  iscsiPort: number;
}

async function withEvents(fn: (e: Env) => Promise<void>, o: { targetd?: boolean } = {}): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'openlun-events-'));
  const log = capturingLogger();
  const rt = new TargetRuntime({ log, nopIntervalMs: 0 });
  const sock = join(dir, 'target.sock');
  const control = o.targetd === false ? undefined : await startControlServer(sock, rt, log);
  const client = new CountingClient(sock, 2000);
  let app: FastifyInstance | undefined;
  try {
    app = await buildApp({ dataDir: join(dir, 'data'), secureCookies: false, extend: async (a) => void (await a.register(eventRoutes(client, { intervalMs: 60, heartbeatMs: 40, credentialRecheckMs: 0 }))) });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const setup = await app.inject({ method: 'POST', url: '/api/setup', payload: { password: 'events-admin-pw-1' } });
    const admin = { cookie: setup.cookies.map((c) => `${c.name}=${c.value}`).join('; '), 'x-csrf-token': setup.json().csrfToken };
    const user = await app.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { username: 'ui', password: 'events-reader-pw-1', role: 'read-only' } });
    const tok = await app.inject({ method: 'POST', url: '/api/tokens', headers: admin, payload: { name: 'ui', userId: user.json().id } });
    assert.equal(tok.statusCode, 201, tok.body);
    const { port } = app.server.address() as { port: number };
    await fn({ app, base: `http://127.0.0.1:${port}`, client, admin, token: { id: tok.json().token.id, headers: { authorization: `Bearer ${tok.json().secret}` } }, iscsiPort: await freePort() });
  } finally {
    await app?.close();
    await control?.close();
    await rt.close(100);
    await rm(dir, { recursive: true, force: true });
  }
}

async function configureTarget(e: Env): Promise<void> {
  const post = async (url: string, payload: object) => {
    const r = await e.app.inject({ method: 'POST', url, headers: e.admin, payload });
    assert.equal(r.statusCode, 201, `${url}: ${r.body}`);
    return r.json();
  };
  const l = await post('/api/luns', { name: 'e0', backing: 'file', sizeBytes: 1024 * 1024, blockSize: 512 });
  const t = await post('/api/targets', { iqn: IQN });
  await post('/api/portals', { targetId: t.id, address: '127.0.0.1', port: e.iscsiPort });
  await post('/api/mappings', { targetId: t.id, lun: 0, lunId: l.id });
  const g = await post('/api/initiator-groups', { name: 'hosts', initiators: [INITIATOR] });
  await post('/api/acls', { targetId: t.id, groupId: g.id });
  // serve.ts reconciles after every change; this app has no such hook, so apply once by hand
  await new Reconciler(e.app.openlun.store, e.client).sync();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('rates come from counter deltas; a restarted counter counts from zero; frames are well formed', () => {
  const l = (readOps: number, readBytes: number, counts: number[], sumUs: number) => ({
    lun: 0, readOps, writeOps: 0, otherOps: 0, readBytes, writeBytes: 0, errors: 0, inFlight: 1, latency: { bucketsUs: [100], counts, sumUs },
  });
  const a = { at: 1000, stats: [{ target: IQN, luns: [l(10, 5120, [10, 0], 1000)] }] };
  const b = { at: 3000, stats: [{ target: IQN.toUpperCase(), luns: [l(30, 15360, [25, 5], 4000)] }] };
  assert.deepEqual(computeRates(undefined, a).luns[0], {
    target: IQN, lun: 0, backstore: null, readIops: 0, writeIops: 0, readBytesPerSec: 0, writeBytesPerSec: 0, errorsPerSec: 0, avgLatencyUs: null, inFlight: 1,
  });
  const r = computeRates(a, b);
  assert.equal(r.intervalMs, 2000);
  assert.equal(r.luns[0]!.readIops, 10);
  assert.equal(r.luns[0]!.readBytesPerSec, 5120);
  assert.equal(r.luns[0]!.avgLatencyUs, 150, '3000 µs over 20 commands');
  const restarted = computeRates(b, { at: 4000, stats: [{ target: IQN, luns: [l(4, 2048, [4, 0], 400)] }] });
  assert.equal(restarted.luns[0]!.readIops, 4);
  assert.equal(sseFrame('x', { a: 'line\nbreak' }), 'event: x\ndata: {"a":"line\\nbreak"}\n\n');
});

test('a token holder gets sessions and stats events, heartbeats, and the poller stops when it leaves', async () => {
  await withEvents(async (e) => {
    await configureTarget(e);
    assert.equal((await e.app.inject({ method: 'GET', url: '/api/events' })).statusCode, 401, 'anonymous');
    const s = await openStream(`${e.base}/api/events`, e.token.headers);
    let ini: RawInitiator | undefined;
    try {
      assert.equal(s.status, 200);
      assert.match(String(s.headers['content-type']), /^text\/event-stream/);
      assert.equal(s.headers['x-content-type-options'], 'nosniff', 'the security headers survive the hijack');
      assert.deepEqual((await s.next('sessions')).data, []);
      const first = await s.next('stats');
      assert.equal(first.data.intervalMs, 0);

      ini = await RawInitiator.connect(e.iscsiPort);
      assert.equal((await ini.login({ initiatorName: INITIATOR, targetName: IQN })).statusClass, 0);
      const sessions = (await s.next('sessions')).data;
      assert.equal(sessions.length, 1);
      assert.equal(sessions[0].initiatorName, INITIATOR);

      await ini.result(ini.command(Buffer.alloc(6))); // TEST UNIT READY takes the power-on unit attention
      const read = Buffer.from([0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0]); // SBC-4 §5.16 READ (10), one block
      for (let i = 0; i < 5; i++) assert.equal((await ini.result(ini.command(read, { read: true, edtl: 512 }))).status, 0);
      let busy: any;
      for (let i = 0; i < 20 && !busy; i++) busy = (await s.next('stats')).data.luns.find((l: any) => l.target === IQN && l.readIops > 0);
      assert.ok(busy, 'the reads show as IOPS');
      assert.ok(busy.readBytesPerSec > 0);
      assert.equal(typeof busy.avgLatencyUs, 'number', 'commands completed in the interval have a mean latency');
      assert.ok(s.comments.includes(': heartbeat'), 'heartbeat comments');
    } finally {
      ini?.close();
      s.close();
    }
    await s.ended;
    await sleep(150);
    const calls = e.client.calls;
    await sleep(300);
    assert.equal(e.client.calls, calls, 'no polling without listeners');
  });
});

test('a revoked token ends its stream; closing the app ends the others', async () => {
  await withEvents(async (e) => {
    const byToken = await openStream(`${e.base}/api/events`, e.token.headers);
    const bySession = await openStream(`${e.base}/api/events`, { cookie: e.admin.cookie! });
    assert.equal(bySession.status, 200);
    await byToken.next('stats');
    assert.equal((await e.app.inject({ method: 'DELETE', url: `/api/tokens/${e.token.id}`, headers: e.admin })).statusCode, 204);
    assert.deepEqual((await byToken.next('end')).data, { reason: 'signed out' });
    await byToken.ended;
    await bySession.next('stats');
    await e.app.close();
    await bySession.ended;
  });
});

test('an unreachable targetd is reported as an event', async () => {
  await withEvents(
    async (e) => {
      const s = await openStream(`${e.base}/api/events`, e.token.headers);
      try {
        const ev = await s.next('target');
        assert.equal(ev.data.available, false);
        assert.match(ev.data.message, /not reachable/);
      } finally {
        s.close();
      }
      await s.ended;
    },
    { targetd: false },
  );
});
