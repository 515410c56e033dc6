// Snapshots: thick copy-on-write (with a COW size) and thin (pool-backed, no size), rollback by merge,
// and clones (a writable thin snapshot of a snapshot). lvmthin(7), lvcreate(8) "--snapshot", lvconvert(8) "--merge".
import { open } from 'node:fs/promises';
import type { LvmContext } from './context.ts';
import { RefusedError, StorageError } from './errors.ts';
import { createLinear, getLv, listLvs, setActive } from './lv.ts';
import { lvPath, sizeArg } from './names.ts';
import type { LvInfo } from './report.ts';

export interface SnapshotOptions {
  /** COW space for a thick snapshot. Omit for a thin snapshot (origin must be a thin volume). */
  sizeBytes?: number;
}

export async function createSnapshot(ctx: LvmContext, vg: string, origin: string, name: string, opts: SnapshotOptions = {}): Promise<LvInfo> {
  lvPath(vg, name);
  const o = await getLv(ctx, vg, origin);
  if (o.kind === 'thin-pool' || o.kind === 'internal') throw new RefusedError('refused', `${vg}/${origin} (${o.kind}) cannot be snapshotted`);
  if (opts.sizeBytes === undefined && o.kind !== 'thin' && o.kind !== 'thin-snapshot') {
    throw new RefusedError('refused', `${vg}/${origin} is not a thin volume: a snapshot of it needs a COW size`);
  }
  await ctx.run(['lvcreate', '--yes', '--snapshot',
    ...(opts.sizeBytes !== undefined ? ['-L', sizeArg(opts.sizeBytes, 'snapshot size')] : []),
    '-n', name, lvPath(vg, origin)]);
  return getLv(ctx, vg, name);
}

export async function listSnapshots(ctx: LvmContext, vg: string, origin?: string): Promise<LvInfo[]> {
  return (await listLvs(ctx, vg)).filter((l) => (l.kind === 'snapshot' || l.kind === 'thin-snapshot') && (!origin || l.origin === origin));
}

export interface RollbackHooks {
  /** Take the origin's LUN offline (the target stops serving it and closes the device). */
  offline?: () => Promise<void> | void;
  /** Bring the LUN back (the target reopens the device and raises the unit attentions it must). */
  online?: () => Promise<void> | void;
  /** How long to wait for a thick merge to finish in the background (default 5 min). */
  mergeTimeoutMs?: number;
  pollMs?: number;
}

export interface RollbackResult {
  origin: string;
  snapshot: string;
  thin: boolean;
  /** ms from starting the merge to the snapshot being gone. */
  mergeMs: number;
}

/**
 * Roll `origin` back to `snapshot` by merging it (the snapshot is consumed). The origin must not be open while
 * the merge starts: otherwise lvm2 only schedules it for the next activation and says so with exit 0. So: LUN
 * offline → origin deactivated → lvconvert --merge (scheduled) → origin activated (merge starts; a thick
 * origin already reads as the snapshot) → LUN online → wait until lvm2 reports the merge finished.
 */
export async function rollback(ctx: LvmContext, vg: string, snapshot: string, hooks: RollbackHooks = {}): Promise<RollbackResult> {
  const snap = await getLv(ctx, vg, snapshot);
  if ((snap.kind !== 'snapshot' && snap.kind !== 'thin-snapshot') || !snap.origin) {
    throw new RefusedError('refused', `${vg}/${snapshot} is not a snapshot`);
  }
  const origin = snap.origin;
  const thin = snap.kind === 'thin-snapshot';
  await hooks.offline?.();
  let onlineDone = false;
  try {
    const o = await getLv(ctx, vg, origin);
    if (o.open) throw new RefusedError('in-use', `${vg}/${origin} is still open; the LUN must be offline to roll it back`);
    const t0 = Date.now();
    if (o.active) await setActive(ctx, vg, origin, false);
    await ctx.run(['lvconvert', '--merge', lvPath(vg, snapshot)]);
    await setActive(ctx, vg, origin, true);
    await hooks.online?.();
    onlineDone = true;
    await waitForMerge(ctx, vg, snapshot, hooks.mergeTimeoutMs ?? 300_000, hooks.pollMs ?? 250);
    return { origin, snapshot, thin, mergeMs: Date.now() - t0 };
  } finally {
    if (!onlineDone) {
      // Whatever failed, the origin goes back to serving: active, and the LUN online again.
      await setActive(ctx, vg, origin, true).catch(() => {});
      await hooks.online?.();
    }
  }
}

async function waitForMerge(ctx: LvmContext, vg: string, snapshot: string, timeoutMs: number, pollMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const all = await listLvs(ctx, vg, { all: true });
    if (!all.some((l) => l.name === snapshot)) return;
    if (Date.now() > deadline) throw new StorageError('timeout', `merge of ${vg}/${snapshot} still running after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Copies `bytes` from one block device to another (thick clones). Replaceable where devices aren't local. */
export type BlockCopy = (from: string, to: string, bytes: number, signal?: AbortSignal) => Promise<void>;

const COPY_CHUNK = 4 * 2 ** 20;

/** Reads and writes in 4 MiB chunks, checks cancellation between chunks, fsyncs the target at the end. */
export const localBlockCopy: BlockCopy = async (from, to, bytes, signal) => {
  const src = await open(from, 'r');
  try {
    const dst = await open(to, 'r+');
    try {
      const buf = Buffer.alloc(COPY_CHUNK);
      for (let off = 0; off < bytes;) {
        if (signal?.aborted) throw new StorageError('aborted', `copy ${from} → ${to} cancelled at ${off} of ${bytes} bytes`);
        const { bytesRead } = await src.read(buf, 0, Math.min(COPY_CHUNK, bytes - off), off);
        if (bytesRead === 0) throw new StorageError('tool-failed', `copy ${from} → ${to}: source ended at ${off} of ${bytes} bytes`);
        await dst.write(buf, 0, bytesRead, off);
        off += bytesRead;
      }
      await dst.sync();
    } finally { await dst.close(); }
  } finally { await src.close(); }
};

/**
 * A new writable LV from a snapshot. Thin snapshots: a thin snapshot of the snapshot (no copy, shares blocks),
 * made activatable (-k n) and activated. Thick snapshots: a new linear LV of the origin's size and a full block
 * copy of the snapshot's view (removed again if the copy fails or is cancelled).
 */
export async function cloneSnapshot(ctx: LvmContext, vg: string, snapshot: string, name: string, copy: BlockCopy = localBlockCopy): Promise<LvInfo> {
  lvPath(vg, name);
  const snap = await getLv(ctx, vg, snapshot);
  if (snap.kind === 'snapshot' && snap.origin) {
    const origin = await getLv(ctx, vg, snap.origin);
    if (!snap.active || !snap.path) throw new RefusedError('refused', `${vg}/${snapshot} is not active; activate its origin first`);
    const clone = await createLinear(ctx, vg, name, origin.size);
    try {
      await copy(snap.path, clone.path ?? `/dev/${vg}/${name}`, origin.size, ctx.signal);
    } catch (e) {
      await ctx.run(['lvremove', '--yes', lvPath(vg, name)]).catch(() => {});
      throw e;
    }
    return getLv(ctx, vg, name);
  }
  if (snap.kind !== 'thin-snapshot' && snap.kind !== 'thin') {
    throw new RefusedError('refused', `${vg}/${snapshot} is a ${snap.kind}, not a snapshot`);
  }
  await ctx.run(['lvcreate', '--yes', '--snapshot', '--setactivationskip', 'n', '-n', name, lvPath(vg, snapshot)]);
  const clone = await getLv(ctx, vg, name);
  if (!clone.active) await setActive(ctx, vg, name, true);
  return getLv(ctx, vg, name);
}

/** Name of a scheduled snapshot: the origin, a fixed tag, and a UTC time stamp that sorts by age. */
export function scheduledName(origin: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z'); // 20261128T015100Z
  return `${origin}_auto_${stamp}`;
}

export interface ScheduledSnapshotOptions {
  /** How many scheduled snapshots of this origin to keep, the new one included (OpenFiler's retention count). */
  retain: number;
  /** COW size for a thick origin; omit for thin. */
  sizeBytes?: number;
  now?: Date;
  /** A snapshot mapped as a LUN is never pruned. */
  inUse?: (vg: string, lv: string) => Promise<string | null> | string | null;
}

export interface ScheduledSnapshotResult {
  created: LvInfo;
  pruned: string[];
  /** Snapshots past the retention count kept because they are in use, with the reason. */
  keptInUse: { name: string; reason: string }[];
}

/** One run of a snapshot schedule (the service calls it on its timer): take a snapshot, prune the oldest. */
export async function scheduledSnapshot(ctx: LvmContext, vg: string, origin: string, opts: ScheduledSnapshotOptions): Promise<ScheduledSnapshotResult> {
  if (!Number.isSafeInteger(opts.retain) || opts.retain < 1) throw new RefusedError('refused', `retention must be a count of at least 1, got ${opts.retain}`);
  const name = scheduledName(origin, opts.now ?? new Date());
  const created = await createSnapshot(ctx, vg, origin, name, opts.sizeBytes !== undefined ? { sizeBytes: opts.sizeBytes } : {});
  const prefix = `${origin}_auto_`;
  const ours = (await listSnapshots(ctx, vg, origin)).filter((l) => l.name.startsWith(prefix)).map((l) => l.name).sort();
  const excess = ours.slice(0, Math.max(0, ours.length - opts.retain));
  const pruned: string[] = [];
  const keptInUse: { name: string; reason: string }[] = [];
  for (const old of excess) {
    const reason = opts.inUse ? await opts.inUse(vg, old) : null;
    if (reason) { keptInUse.push({ name: old, reason }); continue; }
    await ctx.run(['lvremove', '--yes', lvPath(vg, old)]);
    pruned.push(old);
  }
  return { created, pruned, keptInUse };
}
