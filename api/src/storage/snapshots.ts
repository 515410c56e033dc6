/**
 * Snapshots of a LUN, whatever backs it: a point-in-time copy kept beside the LUN (file pool: a sparse or reflinked
 * copy under the pool's .snapshots directory; LVM: a thin snapshot, or a thick copy-on-write one with its own COW
 * size). Names are checked before anything touches a disk: LVM's name rules (they are stricter than a file name's),
 * no leading dot, and the resolved path must stay inside the LUN's own snapshot directory.
 */
import { mkdir, readdir, rm, rename, stat, utimes } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { LvInfo, StorageManager } from '../../../lvm/src/index.ts';
import { RefusedError, StorageError } from '../../../lvm/src/errors.ts';
import { lvName, lvPath } from '../../../lvm/src/names.ts';
import type { FilePool } from '../store/file-pool.ts';
import type { Lun } from '../store/types.ts';
import { sparseCopy } from './sparse-copy.ts';

export const MAX_SNAPSHOT_NAME = 64;
const SNAPSHOT_SUFFIX = '.img';
/** Under the pool directory; LUN names cannot start with a dot, so no LUN file can be called this. */
export const SNAPSHOT_DIR = '.snapshots';
/** Scheduled snapshots: auto-<schedule id>-<UTC stamp>; the stamp sorts by age. */
const SCHEDULED = /^auto-(\d+)-(\d{8}T\d{6}Z)$/;

export interface SnapshotInfo {
  name: string;
  lunId: number;
  /** file: a copy in the file pool; thin: an LVM thin snapshot; thick: an LVM copy-on-write snapshot */
  kind: 'file' | 'thin' | 'thick';
  /** the LUN's size when the snapshot was taken (what a rollback or clone restores) */
  sizeBytes: number;
  /** thick snapshots: the COW area's size and how full it is (full = the snapshot is lost) */
  cowBytes: number | null;
  cowPercent: number | null;
  createdAt: number | null;
  /** the schedule that made it (its retention prunes it), or null for a manual snapshot */
  scheduleId: number | null;
}

export interface RollbackHooks {
  offline(): Promise<void>;
  online(): Promise<void>;
}

/** Throws RefusedError('invalid-name') for a bad snapshot name; returns it otherwise. */
export function snapshotName(name: unknown): string {
  const bad = (why: string): never => { throw new RefusedError('invalid-name', `invalid snapshot name ${JSON.stringify(String(name).slice(0, 70))}: ${why}`); };
  if (typeof name !== 'string' || name.length === 0) return bad('a name is required');
  if (name.length > MAX_SNAPSHOT_NAME) bad(`longer than ${MAX_SNAPSHOT_NAME} characters`);
  if (name.startsWith('.') || name.startsWith('-')) bad('may not begin with "." or "-"');
  // LVM's character rule and reserved substrings (lvm(8) "VALID NAMES"), as part of the snapshot LV's name
  // <lun>.<snapshot>: so "snapshot-1" is fine although an LV may not be called that on its own
  try { lvName(`s.${name}`); } catch (e) { bad((e as Error).message.replace(/^invalid LV name "[^"]*": /, '')); }
  return name;
}

export function scheduleIdOf(name: string): number | null {
  const m = SCHEDULED.exec(name);
  return m ? Number(m[1]) : null;
}

/** auto-<id>-20261128T040000Z */
export function scheduledSnapshotName(scheduleId: number, at: Date): string {
  return `auto-${scheduleId}-${at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
}

export interface SnapshotBacking {
  list(lun: Lun): Promise<SnapshotInfo[]>;
  create(lun: Lun, name: string, o?: { sizeBytes?: number }): Promise<SnapshotInfo>;
  remove(lun: Lun, name: string): Promise<void>;
  /** Puts the LUN's data back as it was; `consumed`: the snapshot is gone afterwards (an LVM merge uses it up). */
  rollback(lun: Lun, name: string, hooks: RollbackHooks): Promise<{ consumed: boolean }>;
}

// ---- file pool

export class FileSnapshots implements SnapshotBacking {
  readonly root: string;
  constructor(readonly pool: FilePool) {
    this.root = resolve(join(pool.dir, SNAPSHOT_DIR));
  }

  /** One directory per LUN, named by its serial (random, never reused: a later LUN of the same name sees none). */
  dirOf(lun: Lun): string {
    if (!/^[0-9a-f]{16}$/.test(lun.serial)) throw new StorageError('refused', `lun ${lun.name} has an unexpected serial`);
    return join(this.root, lun.serial);
  }

  pathOf(lun: Lun, name: string): string {
    const dir = this.dirOf(lun);
    const path = resolve(join(dir, snapshotName(name) + SNAPSHOT_SUFFIX));
    if (!path.startsWith(dir + sep)) throw new RefusedError('invalid-name', 'snapshot name escapes the snapshot directory');
    return path;
  }

  #requireFile(lun: Lun): void {
    if (lun.backing !== 'file') throw new StorageError('refused', `lun ${lun.name} is not file-backed`);
  }

  async list(lun: Lun): Promise<SnapshotInfo[]> {
    this.#requireFile(lun);
    let names: string[];
    try {
      names = await readdir(this.dirOf(lun));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const out: SnapshotInfo[] = [];
    for (const f of names) {
      if (!f.endsWith(SNAPSHOT_SUFFIX)) continue;
      const name = f.slice(0, -SNAPSHOT_SUFFIX.length);
      const st = await stat(join(this.dirOf(lun), f)).catch(() => undefined);
      if (!st?.isFile()) continue;
      out.push(this.#info(lun, name, st.size, st.mtimeMs));
    }
    return out.sort((a, b) => (a.createdAt ?? 0) - (b.createdAt ?? 0) || a.name.localeCompare(b.name));
  }

  #info(lun: Lun, name: string, size: number, mtimeMs: number): SnapshotInfo {
    return { name, lunId: lun.id, kind: 'file', sizeBytes: size, cowBytes: null, cowPercent: null, createdAt: Math.round(mtimeMs), scheduleId: scheduleIdOf(name) };
  }

  async create(lun: Lun, name: string): Promise<SnapshotInfo> {
    this.#requireFile(lun);
    const path = this.pathOf(lun, name);
    await mkdir(this.dirOf(lun), { recursive: true, mode: 0o750 });
    try {
      await sparseCopy(lun.path, path, { exclusive: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new StorageError('exists', `lun ${lun.name} already has a snapshot named ${name}`);
      throw e;
    }
    // the file's mtime is the snapshot's time (a reflink keeps the source's)
    const now = new Date();
    await utimes(path, now, now);
    const st = await stat(path);
    return this.#info(lun, name, st.size, st.mtimeMs);
  }

  async #existing(lun: Lun, name: string): Promise<string> {
    const path = this.pathOf(lun, name);
    const st = await stat(path).catch(() => undefined);
    if (!st?.isFile()) throw new StorageError('not-found', `lun ${lun.name} has no snapshot named ${name}`);
    return path;
  }

  async remove(lun: Lun, name: string): Promise<void> {
    this.#requireFile(lun);
    await rm(await this.#existing(lun, name));
  }

  async removeAll(lun: Lun): Promise<void> {
    await rm(this.dirOf(lun), { recursive: true, force: true });
  }

  /**
   * The snapshot is copied beside the LUN file and renamed over it (atomic: the LUN file is either all old or all
   * restored), kept at the LUN's current size; the snapshot itself stays.
   */
  async rollback(lun: Lun, name: string, hooks: RollbackHooks): Promise<{ consumed: boolean }> {
    this.#requireFile(lun);
    const snap = await this.#existing(lun, name);
    const tmp = join(this.pool.dir, `${SNAPSHOT_DIR}`, `${lun.serial}.rollback.tmp`);
    await rm(tmp, { force: true });
    await sparseCopy(snap, tmp, { exclusive: true, length: lun.sizeBytes });
    await hooks.offline();
    try {
      await rename(tmp, lun.path);
    } finally {
      await rm(tmp, { force: true });
      await hooks.online();
    }
    return { consumed: false };
  }

  /** Copies a snapshot's data into an (empty, sparse) file of a new LUN. */
  async copyOut(lun: Lun, name: string, to: string): Promise<void> {
    await sparseCopy(await this.#existing(lun, name), to);
  }
}

// ---- LVM

/** vg/lv of an lv-backed LUN (its path is /dev/<vg>/<lv>, as createLvLun stores it). */
export function lvOf(lun: Lun): { vg: string; lv: string } {
  const m = /^\/dev\/([^/]+)\/([^/]+)$/.exec(lun.path);
  if (lun.backing !== 'lv' || !m || m[1] === 'mapper') throw new StorageError('refused', `lun ${lun.name} is not backed by an LVM logical volume at /dev/<vg>/<lv>`);
  lvPath(m[1], m[2]);
  return { vg: m[1]!, lv: m[2]! };
}

/** LVM's "2026-11-28 01:35:19 +0000" as ms since the epoch. */
export function lvTime(t: string | null): number | null {
  const m = t ? /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) ([+-]\d\d)(\d\d)$/.exec(t) : null;
  if (!m) return null;
  const ms = Date.parse(`${m[1]}T${m[2]}${m[3]}:${m[4]}`);
  return Number.isFinite(ms) ? ms : null;
}

export class LvSnapshots implements SnapshotBacking {
  constructor(readonly mgr: StorageManager) {}

  /** The snapshot LV of a LUN's snapshot: <lun lv>.<snapshot>, so two LUNs may both have a "daily". */
  lvNameOf(lun: Lun, name: string): string {
    const { vg, lv } = lvOf(lun);
    const full = `${lv}.${snapshotName(name)}`;
    lvPath(vg, full);
    return full;
  }

  #info(lun: Lun, l: LvInfo, origin: string): SnapshotInfo {
    const name = l.name.startsWith(`${origin}.`) ? l.name.slice(origin.length + 1) : l.name;
    const thick = l.kind === 'snapshot';
    return {
      name, lunId: lun.id, kind: thick ? 'thick' : 'thin', sizeBytes: thick ? lun.sizeBytes : l.size,
      cowBytes: thick ? l.size : null, cowPercent: thick ? l.dataPercent : null, createdAt: lvTime(l.time), scheduleId: scheduleIdOf(name),
    };
  }

  async list(lun: Lun): Promise<SnapshotInfo[]> {
    const { vg, lv } = lvOf(lun);
    const snaps = await this.mgr.listSnapshots(vg, lv);
    return snaps.map((s) => this.#info(lun, s, lv)).sort((a, b) => (a.createdAt ?? 0) - (b.createdAt ?? 0) || a.name.localeCompare(b.name));
  }

  /** Thin LVs get a thin snapshot; others need `sizeBytes` of COW space (lvm/ refuses otherwise, saying so). */
  async create(lun: Lun, name: string, o: { sizeBytes?: number } = {}): Promise<SnapshotInfo> {
    const { vg, lv } = lvOf(lun);
    const full = this.lvNameOf(lun, name);
    const origin = await this.mgr.getLv(vg, lv);
    const thin = origin.kind === 'thin' || origin.kind === 'thin-snapshot';
    const created = await this.mgr.createSnapshot(vg, lv, full, thin ? {} : o.sizeBytes !== undefined ? { sizeBytes: o.sizeBytes } : {});
    return this.#info(lun, created, lv);
  }

  async #snapshotLv(lun: Lun, name: string): Promise<{ vg: string; lv: string; snap: LvInfo }> {
    const { vg, lv } = lvOf(lun);
    const full = this.lvNameOf(lun, name);
    const snap = (await this.mgr.listSnapshots(vg, lv)).find((s) => s.name === full);
    if (!snap) throw new StorageError('not-found', `lun ${lun.name} has no snapshot named ${name}`);
    return { vg, lv, snap };
  }

  async remove(lun: Lun, name: string): Promise<void> {
    const { vg, snap } = await this.#snapshotLv(lun, name);
    await this.mgr.removeLv(vg, snap.name);
  }

  /** lvconvert --merge with the LUN offline (lvm/src/snapshot.ts rollback); the merge consumes the snapshot. */
  async rollback(lun: Lun, name: string, hooks: RollbackHooks): Promise<{ consumed: boolean }> {
    const { vg, snap } = await this.#snapshotLv(lun, name);
    await this.mgr.rollback(vg, snap.name, { offline: hooks.offline, online: hooks.online });
    return { consumed: true };
  }

  /** A new LV holding the snapshot's data (thin: a writable thin snapshot; thick: a full copy). */
  async cloneToLv(lun: Lun, name: string, newLv: string): Promise<LvInfo> {
    const { vg, snap } = await this.#snapshotLv(lun, name);
    lvPath(vg, newLv);
    return this.mgr.cloneSnapshot(vg, snap.name, newLv);
  }
}
