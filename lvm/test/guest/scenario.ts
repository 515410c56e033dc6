// Runs INSIDE the Debian test guest (node + tsx from the 9p share): drives StorageManager against real lvm2
// and device-mapper, and prints one JSON line per step for guest-lvm.test.ts to assert on the host.
//   node --import tsx lvm/test/guest/scenario.ts <disk0> <disk1> <disk-with-ext4>
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { StorageError, StorageManager, ToolError } from '../../src/index.ts';
import type { ThresholdEvent } from '../../src/index.ts';

const [d0, d1, dSig] = process.argv.slice(2) as [string, string, string];
const MiB = 2 ** 20;
const mapped = new Map<string, string>();
const mgr = new StorageManager({ inUse: (vg, lv) => mapped.get(`${vg}/${lv}`) ?? null, thresholds: { data: 25, metadata: 80 } });
const events: ThresholdEvent[] = [];
mgr.on('pool-threshold', (e) => events.push(e));

function emit(step: string, data: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ step, ...data })}\n`);
}
async function step(name: string, fn: () => Promise<Record<string, unknown>>): Promise<void> {
  const t0 = Date.now();
  try {
    const data = await fn();
    emit(name, { ok: true, ...data, ms: Date.now() - t0 });
  } catch (e) {
    emit(name, { ok: false, error: String((e as Error).stack ?? e), ms: Date.now() - t0 });
  }
}
/** What a refusal looked like: the error's class, code and message. */
async function refusal(p: Promise<unknown>): Promise<{ cls: string; code: string; message: string; toolMessage?: string }> {
  try { await p; } catch (e) {
    if (e instanceof StorageError) {
      return { cls: e.name, code: e.code, message: e.message, ...(e instanceof ToolError ? { toolMessage: e.toolMessage } : {}) };
    }
    throw e;
  }
  throw new Error('expected a refusal');
}

function pattern(seed: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < len; i += 4) { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; b.writeUInt32LE(x, i); }
  return b;
}
async function writeAt(dev: string, offset: number, data: Buffer): Promise<void> {
  const fh = await open(dev, 'r+');
  try { await fh.write(data, 0, data.length, offset); await fh.sync(); } finally { await fh.close(); }
}
async function hashAt(dev: string, offset: number, len: number): Promise<string> {
  const fh = await open(dev, 'r');
  try {
    const b = Buffer.alloc(len);
    const { bytesRead } = await fh.read(b, 0, len, offset);
    return createHash('sha256').update(b.subarray(0, bytesRead)).digest('hex').slice(0, 16) + `:${bytesRead}`;
  } finally { await fh.close(); }
}
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex').slice(0, 16) + `:${b.length}`;

const A = pattern(1, 4 * MiB);
const B = pattern(2, 4 * MiB);
const C = pattern(3, 4 * MiB);
const D = pattern(4, 4 * MiB);
const lun0 = '/dev/vg0/lun0';

await step('inventory', async () => {
  const disks = await mgr.listDisks({ probe: true });
  return { disks: disks.map((d) => ({ path: d.path, size: d.size, serial: d.serial, system: d.system, available: d.available, signatures: d.signatures, inUse: d.inUse })) };
});

await step('pv-refusals', async () => ({
  system: await refusal(mgr.createPv('/dev/vda', { confirmWipe: true })),
  unconfirmed: await refusal(mgr.createPv(dSig)),
  pvsAfter: (await mgr.listPvs()).map((p) => p.name),
}));

await step('pv-vg', async () => {
  const p0 = await mgr.createPv(d0);
  const p1 = await mgr.createPv(d1);
  const vg = await mgr.createVg('vg0', [d0]);
  const vg2 = await mgr.extendVg('vg0', [d1]);
  return { pvs: [p0.name, p1.name], pvCountBefore: vg.pvCount, pvCountAfter: vg2.pvCount, size: vg2.size, free: vg2.free,
    badName: await refusal(mgr.createVg('a;b', [d0])) };
});

await step('linear-online-extend', async () => {
  const lv = await mgr.createLinear('vg0', 'lun0', 64 * MiB);
  await writeAt(lun0, 0, A);
  const fh: FileHandle = await open(lun0, 'r'); // held open across the extend: online
  try {
    const grown = await mgr.extendLv('vg0', 'lun0', 96 * MiB);
    const tail = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(tail, 0, 4096, 96 * MiB - 4096);
    const lvNow = await mgr.getLv('vg0', 'lun0');
    return { created: lv.size, grown: grown.size, openDuring: lvNow.open, tailRead: bytesRead, data: await hashAt(lun0, 0, A.length), expected: sha(A) };
  } finally { await fh.close(); }
});

await step('lvm-errors', async () => ({
  noSpace: await refusal(mgr.createLinear('vg0', 'huge', 64 * 1024 * MiB)),
  exists: await refusal(mgr.createLinear('vg0', 'lun0', 8 * MiB)),
  vgGone: await refusal(mgr.getVg('nosuchvg')),
  shrinkNoForce: await refusal(mgr.shrinkLv('vg0', 'lun0', 32 * MiB, { force: false })),
}));

await step('thick-snapshot', async () => {
  const s = await mgr.createSnapshot('vg0', 'lun0', 'lun0_s1', { sizeBytes: 32 * MiB });
  await writeAt(lun0, 0, B);
  const clone = await mgr.cloneSnapshot('vg0', 'lun0_s1', 'lun0_copy');
  const copyData = await hashAt('/dev/vg0/lun0_copy', 0, A.length);
  await mgr.removeLv('vg0', 'lun0_copy');
  return { kind: s.kind, origin: s.origin, size: s.size, originNow: await hashAt(lun0, 0, B.length), snapNow: await hashAt('/dev/vg0/lun0_s1', 0, A.length), a: sha(A), b: sha(B),
    noSize: await refusal(mgr.createSnapshot('vg0', 'lun0', 'lun0_s2')), clone: { kind: clone.kind, size: clone.size, data: copyData } };
});

await step('mapped-refusals', async () => {
  mapped.set('vg0/lun0', 'mapped as LUN 0 of iqn.2026-11.org.openlun:guest');
  const r = { remove: await refusal(mgr.removeLv('vg0', 'lun0')), rename: await refusal(mgr.renameLv('vg0', 'lun0', 'lun9')),
    stillThere: (await mgr.listLvs('vg0')).some((l) => l.name === 'lun0') };
  return r;
});

await step('thick-rollback', async () => {
  const order: string[] = [];
  const before = await hashAt(lun0, 0, B.length);
  const r = await mgr.rollback('vg0', 'lun0_s1', {
    offline: () => { order.push('offline'); mapped.delete('vg0/lun0'); },
    online: async () => { order.push(`online:${await hashAt(lun0, 0, A.length)}`); mapped.set('vg0/lun0', 'mapped again'); },
  });
  return { before, after: await hashAt(lun0, 0, A.length), a: sha(A), b: sha(B), order, result: r,
    snapshotsLeft: (await mgr.listSnapshots('vg0')).map((l) => l.name) };
});

await step('thin-pool', async () => {
  const pool = await mgr.createPool('vg0', 'pool', 128 * MiB);
  const t0 = await mgr.createThin('vg0', 'pool', 'thin0', 1024 * MiB);
  const t1 = await mgr.createThin('vg0', 'pool', 'thin1', 1024 * MiB);
  for (let off = 0; off < 40 * MiB; off += C.length) await writeAt('/dev/vg0/thin0', off, C);
  const first = await mgr.checkPools();
  const second = await mgr.checkPools();
  return { poolKind: pool.kind, thin: [t0.kind, t1.kind], usage: first.usage, eventsFirst: first.events, eventsSecond: second.events.length, emitted: events.length };
});

await step('scheduled-snapshots', async () => {
  const first = await mgr.scheduledSnapshot('vg0', 'thin1', { retain: 1, now: new Date('2026-11-27T00:00:00Z') });
  const second = await mgr.scheduledSnapshot('vg0', 'thin1', { retain: 1, now: new Date('2026-11-28T00:00:00Z') });
  const left = (await mgr.listSnapshots('vg0', 'thin1')).map((l) => l.name);
  for (const n of left) await mgr.removeLv('vg0', n);
  return { first: first.created.name, second: second.created.name, pruned: second.pruned, left };
});

await step('pool-extend', async () => {
  const data = await mgr.extendPoolData('vg0', 'pool', 192 * MiB);
  const meta = await mgr.extendPoolMetadata('vg0', 'pool', 8 * MiB);
  return { size: data.size, metadataSize: meta.metadataSize, usage: (await mgr.poolUsage('vg0'))[0] };
});

await step('thin-snapshot-clone', async () => {
  const s = await mgr.createSnapshot('vg0', 'thin0', 'thin0_s1');
  await writeAt('/dev/vg0/thin0', 0, D);
  const clone = await mgr.cloneSnapshot('vg0', 'thin0_s1', 'thin0_clone');
  const cloneBefore = await hashAt('/dev/vg0/thin0_clone', 0, C.length);
  await writeAt('/dev/vg0/thin0_clone', 0, A);
  return { kind: s.kind, sActive: s.active, cloneKind: clone.kind, cloneActive: clone.active, cloneBefore,
    cloneAfterWrite: await hashAt('/dev/vg0/thin0_clone', 0, A.length), thin0: await hashAt('/dev/vg0/thin0', 0, D.length),
    a: sha(A), c: sha(C), d: sha(D), notSnapshot: await refusal(mgr.cloneSnapshot('vg0', 'lun0', 'x')) };
});

await step('thin-rollback', async () => {
  const before = await hashAt('/dev/vg0/thin0', 0, D.length);
  const r = await mgr.rollback('vg0', 'thin0_s1');
  return { before, after: await hashAt('/dev/vg0/thin0', 0, C.length), c: sha(C), d: sha(D), result: r,
    left: (await mgr.listLvs('vg0')).map((l) => l.name).sort() };
});

await step('shrink-rename-remove', async () => {
  mapped.delete('vg0/lun0');
  const shrunk = await mgr.shrinkLv('vg0', 'lun0', 64 * MiB, { force: true });
  const renamed = await mgr.renameLv('vg0', 'thin1', 'thin1b');
  const vgBusy = await refusal(mgr.removeVg('vg0'));
  const poolBusy = await refusal(mgr.removeLv('vg0', 'pool'));
  for (const lv of ['thin0_clone', 'thin0', 'thin1b', 'pool', 'lun0']) await mgr.removeLv('vg0', lv);
  await mgr.removeVg('vg0');
  await mgr.removePv(d0);
  await mgr.removePv(d1);
  return { shrunk: shrunk.size, renamed: renamed.name, vgBusy, poolBusy, vgs: (await mgr.listVgs()).map((v) => v.name), pvs: (await mgr.listPvs()).length };
});
emit('done', { ok: true });
