// Runs INSIDE the Debian test guest (node + tsx from the 9p share): the management API with its LVM storage
// backend on real lvm2 and device-mapper, driven through app.inject() as the UI would, with the data checked on
// the LV devices themselves. One JSON line per step for e2e/storage-api-guest.test.ts to assert on the host.
//   node --import tsx e2e/storage-api-guest-scenario.ts <disk0> <disk1>
import { createHash } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { StorageManager } from '../lvm/src/index.ts';
import { buildApp } from '../api/src/app.ts';
import { StorageBackend, lunInUse } from '../api/src/storage/backend.ts';

const [d0, d1] = process.argv.slice(2) as [string, string];
const MiB = 2 ** 20;
const dataDir = '/tmp/openlun-storage-api';

function emit(step: string, data: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ step, ...data })}\n`);
}
async function step(name: string, fn: () => Promise<Record<string, unknown>>): Promise<void> {
  const t0 = Date.now();
  try {
    emit(name, { ok: true, ...(await fn()), ms: Date.now() - t0 });
  } catch (e) {
    emit(name, { ok: false, error: String((e as Error).stack ?? e), ms: Date.now() - t0 });
  }
}
function pattern(seed: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < len; i += 4) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; b.writeUInt32LE(x >>> 0, i); }
  return b;
}
async function writeDev(path: string, offset: number, data: Buffer): Promise<void> {
  const fh = await open(path, 'r+');
  try { await fh.write(data, 0, data.length, offset); await fh.sync(); } finally { await fh.close(); }
}
async function hashDev(path: string, bytes: number): Promise<string> {
  const fh = await open(path, 'r');
  const h = createHash('sha256');
  const buf = Buffer.alloc(4 * MiB);
  try {
    for (let off = 0; off < bytes; off += buf.length) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, bytes - off), off);
      h.update(buf.subarray(0, bytesRead));
    }
  } finally { await fh.close(); }
  return h.digest('hex');
}

await rm(dataDir, { recursive: true, force: true });
const app = await buildApp({
  dataDir, secureCookies: false,
  storage: (store) => new StorageBackend(store, 'lvm', new StorageManager({ inUse: lunInUse(store) })),
});
const setup = await app.inject({ method: 'POST', url: '/api/setup', payload: { password: 'admin-password-1' } });
const cookie = setup.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
const headers = { cookie, 'x-csrf-token': (setup.json() as { csrfToken: string }).csrfToken };
async function call(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown): Promise<{ status: number; body: any }> {
  const r = await app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: r.statusCode, body: r.body ? r.json() : undefined };
}
function must(r: { status: number; body: any }, status: number, what: string): any {
  if (r.status !== status) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

let thin: any;
let lin: any;
await step('inventory', async () => {
  const disks = must(await call('GET', '/api/storage/disks'), 200, 'disks');
  return { disks: disks.map((d: any) => ({ path: d.path, system: d.system, available: d.available })), mode: must(await call('GET', '/api/storage'), 200, 'storage').mode };
});
await step('vg', async () => {
  const system = await call('POST', '/api/storage/pvs', { device: '/dev/vda', wipe: true });
  for (const d of [d0, d1]) must(await call('POST', '/api/storage/pvs', { device: d }), 201, `pv ${d}`);
  const vg = must(await call('POST', '/api/storage/vgs', { name: 'vgapi', devices: [d0, d1] }), 201, 'vg');
  return { system: { status: system.status, message: system.body.message }, pvCount: vg.pvCount, size: vg.size };
});
await step('thin-lun', async () => {
  must(await call('POST', '/api/storage/pools', { vg: 'vgapi', name: 'pool0', sizeBytes: 256 * MiB }), 201, 'pool');
  thin = must(await call('POST', '/api/luns', { name: 'tlun', backing: 'lv', vg: 'vgapi', pool: 'pool0', sizeBytes: 1024 * MiB, blockSize: 512 }), 201, 'thin lun');
  const pool = must(await call('GET', '/api/storage/pools?vg=vgapi'), 200, 'pools')[0];
  return { path: thin.path, sizeBytes: thin.sizeBytes, overcommit: pool.overcommit, thinVolumes: pool.thinVolumes };
});
await step('thin-snapshot-rollback', async () => {
  await writeDev(thin.path, 0, pattern(1, MiB));
  await writeDev(thin.path, 32 * MiB, pattern(2, MiB));
  const before = await hashDev(thin.path, 64 * MiB);
  const snap = must(await call('POST', `/api/luns/${thin.id}/snapshots`, { name: 'snap1' }), 201, 'snapshot');
  await writeDev(thin.path, 0, pattern(3, 2 * MiB));
  const changed = await hashDev(thin.path, 64 * MiB);
  const rb = must(await call('POST', `/api/luns/${thin.id}/snapshots/snap1/rollback`), 200, 'rollback');
  const after = await hashDev(thin.path, 64 * MiB);
  const list = must(await call('GET', `/api/luns/${thin.id}/snapshots`), 200, 'list');
  return { kind: snap.kind, before, changed, after, consumed: rb.consumed, naaKept: rb.lun.naaId === thin.naaId, snapshotsAfter: list.length };
});
await step('thin-clone', async () => {
  const expected = await hashDev(thin.path, 64 * MiB);
  must(await call('POST', `/api/luns/${thin.id}/snapshots`, { name: 'golden' }), 201, 'snapshot');
  await writeDev(thin.path, 0, pattern(4, MiB));
  const clone = must(await call('POST', `/api/luns/${thin.id}/snapshots/golden/clone`, { name: 'tclone' }), 201, 'clone');
  return { expected, clone: await hashDev(clone.path, 64 * MiB), newIdentity: clone.naaId !== thin.naaId, path: clone.path };
});
await step('resize', async () => {
  const r = must(await call('PATCH', `/api/luns/${thin.id}`, { sizeBytes: 1536 * MiB }), 200, 'grow');
  const shrink = await call('PATCH', `/api/luns/${thin.id}`, { sizeBytes: 512 * MiB });
  const fh = await open(thin.path, 'r');
  const size = (await fh.stat()).size;
  await fh.close();
  // a block device's stat size is 0; its real size is what seeking to the end says (blockdev --getsize64)
  const dev = await open(thin.path, 'r');
  let devSize = 0;
  try { const b = Buffer.alloc(1); devSize = (await dev.read(b, 0, 1, 1536 * MiB - 1)).bytesRead === 1 ? 1536 * MiB : -1; } finally { await dev.close(); }
  return { sizeBytes: r.sizeBytes, shrink: shrink.status, statSize: size, lastByteReadable: devSize };
});
await step('thick-snapshot-rollback', async () => {
  lin = must(await call('POST', '/api/luns', { name: 'llun', backing: 'lv', vg: 'vgapi', sizeBytes: 32 * MiB, blockSize: 4096 }), 201, 'linear lun');
  await writeDev(lin.path, 0, pattern(5, 4 * MiB));
  const before = await hashDev(lin.path, 32 * MiB);
  const noSize = await call('POST', `/api/luns/${lin.id}/snapshots`, { name: 'cow' });
  const snap = must(await call('POST', `/api/luns/${lin.id}/snapshots`, { name: 'cow', sizeBytes: 16 * MiB }), 201, 'thick snapshot');
  await writeDev(lin.path, MiB, pattern(6, 4 * MiB));
  const changed = await hashDev(lin.path, 32 * MiB);
  const rb = must(await call('POST', `/api/luns/${lin.id}/snapshots/cow/rollback`), 200, 'rollback');
  return { noSize: noSize.status, kind: snap.kind, cowBytes: snap.cowBytes, before, changed, after: await hashDev(lin.path, 32 * MiB), consumed: rb.consumed };
});
await step('refusals', async () => {
  const vgDelete = await call('DELETE', '/api/storage/vgs/vgapi');
  const lunWithSnaps = await call('DELETE', `/api/luns/${thin.id}?deleteData=true`);
  const badName = await call('POST', '/api/storage/vgs', { name: 'x;reboot', devices: [d0] });
  return { vgDelete: vgDelete.status, lunWithSnaps: [lunWithSnaps.status, lunWithSnaps.body.message], badName: badName.status };
});
await step('cleanup', async () => {
  must(await call('DELETE', `/api/luns/${thin.id}/snapshots/golden`), 204, 'snapshot delete');
  for (const l of must(await call('GET', '/api/luns'), 200, 'luns')) must(await call('DELETE', `/api/luns/${l.id}?deleteData=true`), 204, `delete ${l.name}`);
  const lvs = must(await call('GET', '/api/storage/lvs?vg=vgapi'), 200, 'lvs').map((l: any) => l.name);
  const audit = must(await call('GET', '/api/audit?limit=200'), 200, 'audit').map((a: any) => a.action);
  return { lvs, audit: [...new Set(audit)] };
});
await app.close();
