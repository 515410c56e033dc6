// Snapshots of file-backed LUNs through the API: sparse copies under the pool's .snapshots directory, rollback
// (LUN offline in the target meanwhile, same identity after) and clone, with the data checked byte for byte.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, openSync, closeSync, readFileSync, readdirSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { sparseCopy } from '../src/storage/sparse-copy.ts';
import { as, newApp, setupAdmin, type Fixture, type Session } from './support/fixture.ts';

const MiB = 2 ** 20;
let f: Fixture;
let app: FastifyInstance;
let admin: Session;
let sessions: string[] = [];
const reconciles: Array<{ force?: boolean; offline: number[] }> = [];

before(async () => {
  f = await newApp();
  app = f.app;
  admin = await setupAdmin(app);
  const storage = app.openlun.storage;
  storage.target = {
    reconcile: async (o = {}) => void reconciles.push({ ...o, offline: [...storage.offline] }),
    sessionsOn: async () => sessions,
  };
});
after(async () => f.close());

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
async function call(method: Method, url: string, payload?: unknown) {
  const res = await app.inject({ method, url, headers: as(admin), ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: res.statusCode, body: res.body ? (res.json() as any) : undefined };
}

function writeAt(path: string, offset: number, data: Buffer): void {
  const fd = openSync(path, 'r+');
  try { writeSync(fd, data, 0, data.length, offset); } finally { closeSync(fd); }
}
const blocks = (path: string) => statSync(path).blocks;

describe('file-backed LUN snapshots', () => {
  let lun: { id: number; path: string; naaId: string; serial: string; name: string };
  const a = randomBytes(64 * 1024);
  const b = randomBytes(128 * 1024);

  test('snapshot: a sparse copy in the pool\'s snapshot directory, listed with its time', async () => {
    lun = (await call('POST', '/api/luns', { name: 'vm1', backing: 'file', sizeBytes: 64 * MiB, blockSize: 512 })).body;
    writeAt(lun.path, 0, a);
    writeAt(lun.path, 40 * MiB, b);
    const s = await call('POST', `/api/luns/${lun.id}/snapshots`, { name: 'before' });
    assert.equal(s.status, 201, JSON.stringify(s.body));
    assert.equal(s.body.kind, 'file');
    assert.equal(s.body.sizeBytes, 64 * MiB);
    assert.equal(s.body.scheduleId, null);
    assert.ok(Math.abs(s.body.createdAt - Date.now()) < 60_000);
    const dir = join(f.dir, 'pool', '.snapshots', lun.serial);
    assert.deepEqual(readdirSync(dir), ['before.img']);
    const snap = join(dir, 'before.img');
    assert.equal(statSync(snap).size, 64 * MiB);
    assert.ok(blocks(snap) * 512 <= 4 * MiB, `snapshot of 192 KiB of data allocates ${blocks(snap) * 512} bytes`);
    assert.ok(readFileSync(snap).subarray(40 * MiB, 40 * MiB + b.length).equals(b));
    assert.equal((await call('POST', `/api/luns/${lun.id}/snapshots`, { name: 'before' })).status, 409);
    const list = (await call('GET', `/api/luns/${lun.id}/snapshots`)).body;
    assert.deepEqual(list.map((x: { name: string }) => x.name), ['before']);
  });

  test('names that could escape or run something are refused, nothing written', async () => {
    for (const name of ['../../../etc/passwd', '..', '.hidden', 'a/b', 'x;reboot', '$(id)', '-rf', 'a b']) {
      const r = await call('POST', `/api/luns/${lun.id}/snapshots`, { name });
      assert.equal(r.status, 400, `${name}: ${JSON.stringify(r.body)}`);
    }
    const enc = await call('POST', `/api/luns/${lun.id}/snapshots/..%2F..%2Fvm1/rollback`);
    assert.equal(enc.status, 400, JSON.stringify(enc.body));
    assert.equal((await call('DELETE', `/api/luns/${lun.id}/snapshots/..%2Fvm1`)).status, 400);
    assert.deepEqual(readdirSync(join(f.dir, 'pool', '.snapshots', lun.serial)), ['before.img']);
    assert.ok(existsSync(lun.path));
  });

  test('rollback: refused while initiators are logged in (unless force); data back byte for byte, identity kept', async () => {
    const original = readFileSync(lun.path);
    writeAt(lun.path, 0, randomBytes(4096));
    writeAt(lun.path, 10 * MiB, randomBytes(8192));
    assert.ok(!readFileSync(lun.path).equals(original));

    sessions = ['iqn.1994-05.com.redhat:client from 192.0.2.7'];
    const busy = await call('POST', `/api/luns/${lun.id}/snapshots/before/rollback`);
    assert.equal(busy.status, 409);
    assert.match(busy.body.message, /in use by 1 session\(s\) \(iqn\.1994-05\.com\.redhat:client from 192\.0\.2\.7\).*force=true/);
    assert.equal(reconciles.length, 0, 'nothing was taken offline');

    const r = await call('POST', `/api/luns/${lun.id}/snapshots/before/rollback?force=true`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.consumed, false);
    assert.equal(r.body.lun.naaId, lun.naaId);
    assert.equal(r.body.lun.serial, lun.serial);
    assert.deepEqual(reconciles, [{ force: true, offline: [lun.id] }, { offline: [] }]);
    sessions = [];
    assert.ok(readFileSync(lun.path).equals(original), 'LUN data equals the snapshot');
    assert.equal(statSync(lun.path).size, 64 * MiB);
    assert.ok(blocks(lun.path) * 512 <= 4 * MiB, 'the restored file is still sparse');
    assert.ok(existsSync(join(f.dir, 'pool', '.snapshots', lun.serial, 'before.img')), 'the snapshot stays');
    assert.equal((await call('POST', `/api/luns/${lun.id}/snapshots/nope/rollback`)).status, 404);
  });

  test('rollback refused, nothing changed, when the target cannot take the LUN offline', async () => {
    const storage = app.openlun.storage;
    const saved = storage.target;
    storage.target = { reconcile: async () => { if (storage.offline.size) throw new Error('the target daemon is not reachable'); }, sessionsOn: async () => [] };
    const now = readFileSync(lun.path);
    writeAt(lun.path, 0, randomBytes(512));
    const changed = readFileSync(lun.path);
    assert.ok(!changed.equals(now));
    try {
      const r = await call('POST', `/api/luns/${lun.id}/snapshots/before/rollback`);
      assert.equal(r.status, 409, JSON.stringify(r.body));
      assert.match(r.body.message, /could not be taken offline in the target \(the target daemon is not reachable\); nothing was changed/);
    } finally {
      storage.target = saved;
    }
    assert.ok(readFileSync(lun.path).equals(changed), 'LUN data untouched');
    assert.equal(storage.offline.size, 0);
  });

  test('rollback after the LUN grew keeps the new size', async () => {
    assert.equal((await call('PATCH', `/api/luns/${lun.id}`, { sizeBytes: 96 * MiB })).status, 200);
    writeAt(lun.path, 90 * MiB, randomBytes(512));
    const r = await call('POST', `/api/luns/${lun.id}/snapshots/before/rollback`);
    assert.equal(r.status, 200);
    const data = readFileSync(lun.path);
    assert.equal(data.length, 96 * MiB);
    assert.ok(data.subarray(0, a.length).equals(a));
    assert.ok(data.subarray(90 * MiB).equals(Buffer.alloc(6 * MiB)), 'past the snapshot: zeros');
  });

  test('clone: a new LUN with a new identity holding the snapshot\'s data', async () => {
    const c = await call('POST', `/api/luns/${lun.id}/snapshots/before/clone`, { name: 'vm1-copy' });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    assert.notEqual(c.body.naaId, lun.naaId);
    assert.notEqual(c.body.serial, lun.serial);
    assert.equal(c.body.sizeBytes, 64 * MiB);
    const snap = readFileSync(join(f.dir, 'pool', '.snapshots', lun.serial, 'before.img'));
    assert.ok(readFileSync(c.body.path).equals(snap));
    assert.ok(blocks(c.body.path) * 512 <= 4 * MiB, 'the clone is sparse');
    assert.equal((await call('POST', `/api/luns/${lun.id}/snapshots/before/clone`, { name: 'vm1-copy' })).status, 409);
    assert.equal((await call('POST', `/api/luns/${lun.id}/snapshots/before/clone`, { name: '../evil' })).status, 400);
    assert.equal((await call('POST', `/api/luns/${lun.id}/snapshots/missing/clone`, { name: 'vm1-copy2' })).status, 404);
    assert.equal((await call('GET', '/api/luns')).body.some((l: { name: string }) => l.name === 'vm1-copy2'), false, 'no LUN left from the failed clone');
  });

  test('delete a snapshot; deleting the LUN with deleteData takes its snapshots too', async () => {
    await call('POST', `/api/luns/${lun.id}/snapshots`, { name: 'second' });
    assert.equal((await call('DELETE', `/api/luns/${lun.id}/snapshots/before`)).status, 204);
    assert.equal((await call('DELETE', `/api/luns/${lun.id}/snapshots/before`)).status, 404);
    assert.deepEqual((await call('GET', `/api/luns/${lun.id}/snapshots`)).body.map((x: { name: string }) => x.name), ['second']);
    assert.equal((await call('DELETE', `/api/luns/${lun.id}?deleteData=true`)).status, 204);
    assert.equal(existsSync(join(f.dir, 'pool', '.snapshots', lun.serial)), false);
    const audit = (await call('GET', '/api/audit?limit=100')).body.map((x: { action: string; object: string }) => `${x.action} ${x.object}`);
    for (const e of ['snapshot.create lun vm1 snapshot before', 'snapshot.rollback lun vm1 snapshot before', 'snapshot.clone lun vm1 snapshot before', 'snapshot.delete lun vm1 snapshot before']) {
      assert.ok(audit.includes(e), e);
    }
  });
});

describe('sparseCopy', () => {
  test('keeps holes and data, refuses to overwrite with exclusive', async () => {
    const src = join(f.dir, 'src.bin');
    closeSync(openSync(src, 'w'));
    const data = randomBytes(3000);
    writeAt(src, 5 * MiB + 17, data);
    const dst = join(f.dir, 'dst.bin');
    const r = await sparseCopy(src, dst, { exclusive: true });
    assert.ok(readFileSync(dst).equals(readFileSync(src)));
    if (r.method === 'sparse') assert.ok(r.bytesWritten <= 128 * 1024, `wrote ${r.bytesWritten}`);
    await assert.rejects(sparseCopy(src, dst, { exclusive: true }), /EEXIST/);
  });
});
