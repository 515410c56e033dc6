// Storage and the target together, over a real iSCSI session (the project's raw initiator over TCP) to a real
// targetd runtime behind its control socket, driven the way serve drives it (Reconciler + storage transform +
// storage runtime): pool usage → poolUsage control op → THIN PROVISIONING SOFT THRESHOLD REACHED (SBC-4 §4.7.3.8);
// rollback refused while the initiator is logged in, then forced: the LUN goes offline, comes back with the
// snapshot's data and the same NAA id.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { startControlServer } from '../../target/src/daemon/control.ts';
import type { ControlServer } from '../../target/src/daemon/control.ts';
import { TargetRuntime } from '../../target/src/daemon/runtime.ts';
import { RawInitiator } from '../../target/test/support/raw-initiator.ts';
import { decodeVpd83 } from '../../target/test/support/scsi-decode.ts';
import { BLOCK, capturingLogger, read10, senseOf, writeImmediate } from '../../target/test/support/target-fixture.ts';
import { freePort } from '../../e2e/helpers/ports.ts';
import { Reconciler } from '../src/serve.ts';
import { PoolMonitor } from '../src/storage/pool-monitor.ts';
import { startStorageRuntime, storageTransform } from '../src/storage/serve-storage.ts';
import type { StorageRuntime } from '../src/storage/serve-storage.ts';
import { TargetClient } from '../src/target-client.ts';
import { as, newApp, setupAdmin, type Fixture, type Session } from './support/fixture.ts';

const MiB = 2 ** 20;
const IQN = 'iqn.2026-11.org.openlun:pool-usage';
const INITIATOR = 'iqn.1994-05.com.example:pool-tester';
const TUR = Buffer.alloc(6);

let f: Fixture;
let app: FastifyInstance;
let admin: Session;
let dir: string;
let runtime: TargetRuntime;
let log: ReturnType<typeof capturingLogger>;
let control: ControlServer;
let client: TargetClient;
let reconciler: Reconciler;
let storageRt: StorageRuntime;
let port: number;
let lunId: number;
let naa: string;
const inis: RawInitiator[] = [];

async function call(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) {
  const res = await app.inject({ method, url, headers: as(admin), ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: res.statusCode, body: res.body ? (res.json() as any) : undefined };
}

async function login(): Promise<RawInitiator> {
  const ini = await RawInitiator.connect(port);
  inis.push(ini);
  const r = await ini.login({ initiatorName: INITIATOR, targetName: IQN });
  assert.equal(r.statusClass, 0, 'login accepted');
  // a new nexus first hears POWER ON / REPORTED LUNS changes: drain them
  for (let i = 0; i < 4; i++) if ((await ini.result(ini.command(TUR))).status === 0) return ini;
  throw new Error('TEST UNIT READY keeps failing');
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'openlun-pool-usage-'));
  log = capturingLogger();
  runtime = new TargetRuntime({ log, nopIntervalMs: 0 });
  control = await startControlServer(join(dir, 't.sock'), runtime, log);
  client = new TargetClient(join(dir, 't.sock'));
  f = await newApp();
  app = f.app;
  admin = await setupAdmin(app);
  port = await freePort();
  const lun = (await call('POST', '/api/luns', { name: 'thin-file', backing: 'file', sizeBytes: 8 * MiB, blockSize: 512 })).body;
  lunId = lun.id;
  naa = lun.naaId;
  const t = (await call('POST', '/api/targets', { iqn: IQN })).body;
  assert.equal((await call('POST', '/api/portals', { targetId: t.id, address: '127.0.0.1', port })).status, 201);
  const g = (await call('POST', '/api/initiator-groups', { name: 'pool-testers', initiators: [INITIATOR] })).body;
  assert.equal((await call('POST', '/api/acls', { targetId: t.id, groupId: g.id })).status, 201);
  assert.equal((await call('POST', '/api/mappings', { targetId: t.id, lun: 0, lunId })).status, 201);
  reconciler = new Reconciler(app.openlun.store, client, storageTransform(app.openlun.storage));
  storageRt = startStorageRuntime(app, client, (r) => reconciler.sync(r), { poolPollMs: 0, scheduleCheckMs: 3_600_000 });
  await reconciler.sync();
});

after(async () => {
  for (const i of inis) i.close();
  await storageRt?.stop();
  await runtime?.close(100);
  await control?.close();
  await f?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('pool usage reaches the initiator as the soft threshold unit attention', () => {
  test('the desired state carries the soft threshold setting to targetd', async () => {
    assert.equal((runtime.state!.backstores[0] as { softThresholdPercent?: number }).softThresholdPercent, 80);
    assert.equal((await call('PATCH', '/api/storage', { softThresholdPercent: 50 })).status, 200);
    await reconciler.sync();
    assert.equal((runtime.state!.backstores[0] as { softThresholdPercent?: number }).softThresholdPercent, 50);
  });

  test('file pool statfs below the threshold → poolUsage → 38h/07h on the live session, once', async () => {
    const ini = await login();
    let freeBytes = 100 * MiB;
    const monitor = new PoolMonitor(app.openlun.storage, (entries) => client.request('poolUsage', { entries }), {
      statfs: async (path) => ({ path, sizeBytes: 1000 * MiB, freeBytes, usedBytes: 1000 * MiB - freeBytes }),
    });
    assert.deepEqual(await monitor.entries(), [{ path: join(f.dir, 'pool', 'thin-file.img'), usedFraction: 0 }]);
    assert.deepEqual(await monitor.poll(), { updated: 1, raised: [] });
    assert.equal((await ini.result(ini.command(TUR))).status, 0, 'plenty of space: no UA');

    freeBytes = 2 * MiB; // 25 % of the LUN's size can still be backed: below 50 %
    assert.deepEqual(await monitor.poll(), { updated: 1, raised: [{ target: IQN, lun: 0 }] });
    const r = await ini.result(ini.command(TUR));
    assert.equal(r.status, 2, 'CHECK CONDITION');
    assert.deepEqual(senseOf(r.sense), { key: 0x6, asc: 0x38, ascq: 0x07 }, 'THIN PROVISIONING SOFT THRESHOLD REACHED');
    assert.equal((await ini.result(ini.command(TUR))).status, 0, 'reported once');
    assert.deepEqual(await monitor.poll(), { updated: 1, raised: [] }, 'still low: not news');
    freeBytes = 100 * MiB;
    await monitor.poll();
    freeBytes = MiB;
    assert.deepEqual(await monitor.poll(), { updated: 1, raised: [{ target: IQN, lun: 0 }] }, 're-armed after recovering');
    assert.equal((await ini.result(ini.command(TUR))).status, 2);
    freeBytes = 100 * MiB;
    await monitor.poll();
  });

  test('poolUsage rejects bad entries', async () => {
    await assert.rejects(client.request('poolUsage', { entries: [{ path: 'relative', usedFraction: 0.5 }] }), /absolute path/);
    await assert.rejects(client.request('poolUsage', { entries: [{ path: '/x', usedFraction: 1.5 }] }), /usedFraction/);
    await assert.rejects(client.request('poolUsage', {}), /entries must be an array/);
  });
});

describe('rollback with a live session', () => {
  test('refused while logged in; forced: offline, data restored, same NAA id', async () => {
    const ini = inis[0]!;
    const vpd83 = async () => {
      const v = await ini.result(ini.command(Buffer.from([0x12, 0x01, 0x83, 0x01, 0x00, 0x00]), { read: true, edtl: 256 }));
      assert.equal(v.status, 0);
      return decodeVpd83(v.data).naa;
    };
    const naaBefore = await vpd83();
    const before = Buffer.alloc(4 * BLOCK, 0xa5);
    await writeImmediate(ini, 0, before);
    assert.equal((await call('POST', `/api/luns/${lunId}/snapshots`, { name: 'golden' })).status, 201);
    await writeImmediate(ini, 0, Buffer.alloc(4 * BLOCK, 0x11));

    const refused = await call('POST', `/api/luns/${lunId}/snapshots/golden/rollback`);
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.match(refused.body.message, new RegExp(`${INITIATOR} from 127\\.0\\.0\\.1:\\d+ on ${IQN}.*force=true`));

    const mark = log.lines.length;
    const r = await call('POST', `/api/luns/${lunId}/snapshots/golden/rollback?force=true`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const lines = log.lines.slice(mark).filter((l) => l.includes(`${IQN} LUN 0`));
    assert.deepEqual(lines.map((l) => /LUN 0 (\w+)/.exec(l)![1]), ['unmapped', 'mapped'], 'offline in targetd during the copy, then back');
    assert.equal(r.body.lun.naaId, naa);
    assert.deepEqual(runtime.state!.targets[0]!.luns, [{ lun: 0, backstore: 'thin-file' }], 'back in the desired state');

    // the session is still there; the LUN came back (a unit attention first), with the snapshot's data
    let data: Buffer | undefined;
    for (let i = 0; i < 4 && !data; i++) {
      const rd = await ini.result(ini.command(read10(0, 4), { read: true, edtl: 4 * BLOCK }));
      if (rd.status === 0) data = rd.data;
    }
    assert.ok(data?.equals(before), 'READ returns the snapshot\'s data');
    assert.equal(await vpd83(), naaBefore, 'the same NAA designator (SPC-4 §7.8.6.6)');
  });
});

describe('resize through the API', () => {
  test('PATCH sizeBytes → reconcile → targetd re-reads capacity: CAPACITY DATA HAS CHANGED, READ CAPACITY grows', async () => {
    const ini = inis[0]!;
    assert.equal((await call('PATCH', `/api/luns/${lunId}`, { sizeBytes: 16 * MiB })).status, 200);
    const applied = (await reconciler.sync()) as { result?: { capacityRefreshed?: unknown[] } };
    assert.deepEqual(applied.result?.capacityRefreshed, [{ target: IQN, lun: 0, sizeBytes: 16 * MiB }]);
    const ua = await ini.result(ini.command(TUR));
    assert.equal(ua.status, 2);
    assert.deepEqual(senseOf(ua.sense), { key: 0x6, asc: 0x2a, ascq: 0x09 }, 'CAPACITY DATA HAS CHANGED (SBC-4 §4.6)');
    const rc = await ini.result(ini.command(Buffer.from([0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0]), { read: true, edtl: 8 }));
    assert.equal(rc.status, 0);
    assert.equal(rc.data.readUInt32BE(0), (16 * MiB) / BLOCK - 1, 'READ CAPACITY(10): last LBA');
  });
});

describe('alerts on the event stream', () => {
  test('a failed snapshot schedule arrives as event: alert', async () => {
    const { buildApp } = await import('../src/app.ts');
    const { eventRoutes } = await import('../src/routes/events.ts');
    const { EventEmitter } = await import('node:events');
    const http = await import('node:http');
    const alerts = new EventEmitter();
    const d = await mkdtemp(join(tmpdir(), 'openlun-alerts-'));
    const a = await buildApp({ dataDir: d, secureCookies: false, extend: async (x) => void (await x.register(eventRoutes(client, { intervalMs: 60_000 }, alerts))) });
    try {
      const s = await setupAdmin(a);
      await a.listen({ host: '127.0.0.1', port: 0 });
      const url = `http://127.0.0.1:${(a.server.address() as { port: number }).port}/api/events`;
      const got = await new Promise<string>((resolve, reject) => {
        const req = http.get(url, { headers: { cookie: s.cookie, accept: 'text/event-stream' } }, (res) => {
          let buf = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            buf += c;
            if (buf.includes('event: sessions') && !buf.includes('event: alert')) alerts.emit('alert', { source: 'snapshot-schedule', level: 'error', message: 'snapshot schedule 3 (lun 1) failed: disk full' });
            const m = /event: alert\ndata: (.*)\n\n/.exec(buf);
            if (m) { req.destroy(); resolve(m[1]!); }
          });
        });
        req.on('error', reject);
        setTimeout(() => reject(new Error('no alert event')), 5000).unref();
      });
      assert.deepEqual(JSON.parse(got), { source: 'snapshot-schedule', level: 'error', message: 'snapshot schedule 3 (lun 1) failed: disk full' });
    } finally {
      await a.close();
      await rm(d, { recursive: true, force: true });
    }
  });
});
