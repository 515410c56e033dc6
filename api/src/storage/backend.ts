/**
 * The storage behind the LUNs, one interface for both modes: `lvm` (lvm/'s StorageManager on the host's lvm2: disks,
 * PVs, VGs, thin pools, LV-backed LUNs) and `file` (the embedded default: sparse files in the file pool). File-backed
 * LUNs work in both modes; the LVM operations answer 409 in file mode. LUN-level operations that touch both the
 * disk and the store (create an LV then its row, roll back with the LUN offline) live here so each is all-or-nothing.
 */
import { statfs } from 'node:fs/promises';
import type { InUseCheck, StorageManager } from '../../../lvm/src/index.ts';
import { StorageError } from '../../../lvm/src/errors.ts';
import { lvName, vgName } from '../../../lvm/src/names.ts';
import { Problems, StoreError } from '../store/errors.ts';
import { poolNameProblem } from '../store/names.ts';
import type { Store } from '../store/store.ts';
import type { ChangeContext, Lun, WriteCache } from '../store/types.ts';
import { FileSnapshots, LvSnapshots, lvOf, snapshotName } from './snapshots.ts';
import type { SnapshotBacking, SnapshotInfo } from './snapshots.ts';
import { readSoftThresholdPercent, writeSoftThresholdPercent } from './settings.ts';

export type StorageMode = 'lvm' | 'file';

/** What the storage needs from the target side (serve wires these to targetd; without serve they do nothing). */
export interface TargetHooks {
  /** Send the desired state now (LUNs in `offline` left out); force: even if it takes a LUN from live sessions. */
  reconcile(o?: { force?: boolean }): Promise<void>;
  /** Live sessions on targets that map this LUN, one line each ("iqn… from 192.0.2.1"). */
  sessionsOn(lun: Lun): Promise<string[]>;
}

const NO_TARGET: TargetHooks = { reconcile: async () => {}, sessionsOn: async () => [] };

/** SBC-4 §4.7.3.8: the soft threshold every LUN gets unless the admin sets another. */
export { DEFAULT_SOFT_THRESHOLD_PERCENT } from './settings.ts';

export interface FilePoolInfo {
  path: string;
  sizeBytes: number;
  freeBytes: number;
  usedBytes: number;
}

export interface NewLvLun {
  name: string;
  vg: string;
  pool?: string;
  sizeBytes: number;
  blockSize: 512 | 4096;
  readOnly?: boolean;
  writeCache?: WriteCache;
}

/** lvm/'s in-use answer from the store: an LV that backs a LUN is not removed or renamed behind the LUN's back. */
export function lunInUse(store: Store): InUseCheck {
  return (vg, lv) => {
    const lun = store.listLuns().find((l) => l.backing === 'lv' && l.path === `/dev/${vg}/${lv}`);
    if (!lun) return null;
    const mapped = store.listMappings().filter((m) => m.lunId === lun.id).map((m) => `${store.getTarget(m.targetId).iqn} LUN ${m.lun}`);
    return `it backs LUN ${lun.name}${mapped.length ? ` (mapped as ${mapped.join(', ')})` : ''}`;
  };
}

export async function filePoolInfo(dir: string): Promise<FilePoolInfo> {
  const st = await statfs(dir);
  const sizeBytes = st.blocks * st.bsize;
  const freeBytes = st.bavail * st.bsize;
  return { path: dir, sizeBytes, freeBytes, usedBytes: sizeBytes - st.bfree * st.bsize };
}

export class StorageBackend {
  readonly files: FileSnapshots;
  readonly lvSnapshots: LvSnapshots | undefined;
  /** LUN ids taken out of the desired state while their data is replaced (rollback). */
  readonly offline = new Set<number>();
  target: TargetHooks = NO_TARGET;

  /** data% and metadata% at which a thin pool raises an alert (lvm/'s PoolThresholdWatcher uses the same) */
  readonly poolThresholds: { data: number; metadata: number };

  constructor(
    readonly store: Store,
    readonly mode: StorageMode,
    readonly lvm?: StorageManager,
    o: { poolThresholds?: { data: number; metadata: number } } = {},
  ) {
    this.poolThresholds = o.poolThresholds ?? { data: 80, metadata: 80 };
    if (mode === 'lvm' && !lvm) throw new Error('lvm mode needs a StorageManager');
    this.files = new FileSnapshots(store.pool);
    this.lvSnapshots = lvm ? new LvSnapshots(lvm) : undefined;
  }

  /** The LVM manager, or a 409 saying why there is none. */
  requireLvm(): StorageManager {
    if (this.mode !== 'lvm' || !this.lvm) {
      throw new StorageError('refused', 'storage is in file mode (no volume group was found at start); start openlun serve with --storage lvm to manage disks and volume groups');
    }
    return this.lvm;
  }

  snapshotsOf(lun: Lun): SnapshotBacking {
    if (lun.backing === 'file') return this.files;
    if (!this.lvSnapshots) throw new StorageError('refused', `lun ${lun.name} is LV-backed but storage is in file mode`);
    return this.lvSnapshots;
  }

  // ---- settings

  get softThresholdPercent(): number {
    return readSoftThresholdPercent(this.store);
  }

  setSoftThresholdPercent(ctx: ChangeContext, percent: number): void {
    writeSoftThresholdPercent(this.store, ctx, percent);
  }

  // ---- audit

  /** Runs a storage change and audits it, failed or not (a refused wipe is worth a line in the log too). */
  async audited<T>(ctx: ChangeContext, action: string, object: string, detail: Record<string, unknown>, fn: () => Promise<T>): Promise<T> {
    try {
      const r = await fn();
      this.store.audit(ctx, action, object, detail);
      return r;
    } catch (e) {
      this.store.audit(ctx, action, object, { ...detail, failed: (e as Error).message.slice(0, 500) });
      throw e;
    }
  }

  // ---- LV-backed LUNs

  /** Creates the LV (thin in `pool`, linear otherwise), then the LUN row; if the row fails the LV goes again. */
  async createLvLun(ctx: ChangeContext, l: NewLvLun): Promise<Lun> {
    const mgr = this.requireLvm();
    const p = new Problems();
    p.check('name', poolNameProblem(l.name));
    const lvmName = (field: string, kind: 'VG' | 'LV', v: string | undefined): void => {
      if (v === undefined) return;
      try { (kind === 'VG' ? vgName : lvName)(v); } catch (e) { p.check(field, (e as Error).message.replace(/^invalid (VG|LV) name "[^"]*": /, 'is invalid: ')); }
    };
    lvmName('name', 'LV', l.name);
    lvmName('vg', 'VG', l.vg);
    lvmName('pool', 'LV', l.pool);
    if (l.sizeBytes % l.blockSize !== 0) p.check('sizeBytes', `must be a multiple of blockSize (${l.blockSize})`);
    p.throwIfAny();
    if (this.store.listLuns().some((x) => x.name === l.name)) {
      throw new StoreError('conflict', `lun ${l.name} already exists`, [{ field: 'name', message: 'name already exists' }]);
    }
    if (this.store.listLuns().some((x) => x.path === `/dev/${l.vg}/${l.name}`)) {
      throw new StoreError('conflict', `/dev/${l.vg}/${l.name} already backs a LUN`, [{ field: 'name', message: 'an LV of that name already backs a LUN' }]);
    }
    return this.audited(ctx, 'storage.lv.create', `lv ${l.vg}/${l.name}`, { pool: l.pool ?? null, sizeBytes: l.sizeBytes }, async () => {
      const lv = l.pool ? await mgr.createThin(l.vg, l.pool, l.name, l.sizeBytes) : await mgr.createLinear(l.vg, l.name, l.sizeBytes);
      try {
        return this.store.createLun(ctx, {
          name: l.name, backing: 'lv', lvPath: `/dev/${l.vg}/${l.name}`,
          // lvm2 rounds up to whole extents: the LUN is as big as the LV really is
          sizeBytes: lv.size - (lv.size % l.blockSize), blockSize: l.blockSize,
          ...(l.readOnly !== undefined ? { readOnly: l.readOnly } : {}), ...(l.writeCache ? { writeCache: l.writeCache } : {}),
        });
      } catch (e) {
        await mgr.removeLv(l.vg, l.name).catch(() => undefined);
        throw e;
      }
    });
  }

  /** lvextend, then the row (the reconcile after the request makes targetd re-read the capacity). */
  async updateLun(ctx: ChangeContext, id: number, patch: Parameters<Store['updateLun']>[2]): Promise<Lun> {
    const lun = this.store.getLun(id);
    if (lun.backing !== 'lv' || patch.sizeBytes === undefined || patch.sizeBytes === lun.sizeBytes) return this.store.updateLun(ctx, id, patch);
    const p = new Problems();
    if (patch.sizeBytes < lun.sizeBytes) p.check('sizeBytes', `must not shrink the LUN (now ${lun.sizeBytes})`);
    if (patch.sizeBytes % lun.blockSize !== 0) p.check('sizeBytes', `must be a multiple of blockSize (${lun.blockSize})`);
    p.throwIfAny();
    const mgr = this.requireLvm();
    const { vg, lv } = lvOf(lun);
    const grown = await this.audited(ctx, 'storage.lv.extend', `lv ${vg}/${lv}`, { sizeBytes: patch.sizeBytes }, () => mgr.extendLv(vg, lv, patch.sizeBytes!));
    return this.store.updateLun(ctx, id, { ...patch, sizeBytes: grown.size - (grown.size % lun.blockSize) }, { lvExtended: true });
  }

  /**
   * Deletes the LUN row (and with deleteData its LV or file and snapshots). An LV with snapshots is refused first;
   * the LV is removed after targetd has let go of it.
   */
  async deleteLun(ctx: ChangeContext, id: number, opts: { force?: boolean; deleteData?: boolean }): Promise<void> {
    const lun = this.store.getLun(id);
    // without LVM (file mode) an lv-backed LUN was adopted by path: the row goes, the device is not ours to remove
    if (!opts.deleteData || lun.backing === 'file' || !this.lvm) {
      this.store.deleteLun(ctx, id, opts);
      if (opts.deleteData && lun.backing === 'file') await this.files.removeAll(lun);
      return;
    }
    const mgr = this.requireLvm();
    const { vg, lv } = lvOf(lun);
    const snaps = await mgr.listSnapshots(vg, lv).catch(() => []);
    if (snaps.length) throw new StoreError('in-use', `lun ${lun.name} has snapshots (${snaps.map((s) => s.name).join(', ')}); delete them first`);
    this.store.deleteLun(ctx, id, opts);
    // targetd lets go of the device; if it cannot be told, lvm2 itself refuses to remove an LV still open
    await this.target.reconcile(opts.force ? { force: true } : {}).catch(() => undefined);
    try {
      await this.audited(ctx, 'storage.lv.remove', `lv ${vg}/${lv}`, { lun: lun.name }, () => mgr.removeLv(vg, lv));
    } catch (e) {
      throw new StorageError(e instanceof StorageError ? e.code : 'tool-failed', `lun ${lun.name} was deleted but its LV ${vg}/${lv} was kept: ${(e as Error).message}`);
    }
  }

  // ---- snapshots

  async listSnapshots(lunId: number): Promise<SnapshotInfo[]> {
    const lun = this.store.getLun(lunId);
    return this.snapshotsOf(lun).list(lun);
  }

  async createSnapshot(ctx: ChangeContext, lunId: number, name: string, o: { sizeBytes?: number } = {}): Promise<SnapshotInfo> {
    const lun = this.store.getLun(lunId);
    try { snapshotName(name); } catch (e) { throw new StoreError('invalid', (e as Error).message, [{ field: 'name', message: (e as Error).message }]); }
    return this.audited(ctx, 'snapshot.create', `lun ${lun.name} snapshot ${name}`, { sizeBytes: o.sizeBytes ?? null },
      () => this.snapshotsOf(lun).create(lun, name, o));
  }

  async deleteSnapshot(ctx: ChangeContext, lunId: number, name: string): Promise<void> {
    const lun = this.store.getLun(lunId);
    snapshotName(name);
    await this.audited(ctx, 'snapshot.delete', `lun ${lun.name} snapshot ${name}`, {}, () => this.snapshotsOf(lun).remove(lun, name));
  }

  /**
   * The LUN goes offline in targetd (left out of the desired state), its data is replaced, and it comes back with
   * the same serial and NAA id (the row is never touched). Refused while initiators are logged in unless force.
   */
  async rollback(ctx: ChangeContext, lunId: number, name: string, opts: { force?: boolean } = {}): Promise<{ consumed: boolean }> {
    const lun = this.store.getLun(lunId);
    snapshotName(name);
    const backing = this.snapshotsOf(lun);
    if (this.offline.has(lun.id)) throw new StoreError('conflict', `lun ${lun.name} is already being rolled back`);
    const sessions = await this.target.sessionsOn(lun);
    if (sessions.length && !opts.force) {
      throw new StoreError('in-use', `lun ${lun.name} is in use by ${sessions.length} session(s) (${sessions.join(', ')}); log them out first or repeat with force=true (they will see the LUN vanish and return)`);
    }
    const hooks = {
      offline: async () => {
        this.offline.add(lun.id);
        try {
          await this.target.reconcile(opts.force ? { force: true } : {});
        } catch (e) {
          this.offline.delete(lun.id);
          await this.target.reconcile().catch(() => undefined);
          throw new StoreError('conflict', `lun ${lun.name} could not be taken offline in the target (${(e as Error).message}); nothing was changed`);
        }
      },
      online: async () => {
        this.offline.delete(lun.id);
        // best effort: serve reconciles again after every change, so a failed apply here is retried right after
        await this.target.reconcile().catch(() => undefined);
      },
    };
    return this.audited(ctx, 'snapshot.rollback', `lun ${lun.name} snapshot ${name}`, { force: !!opts.force, sessions: sessions.length },
      () => backing.rollback(lun, name, hooks));
  }

  /** A new LUN (new serial and NAA id) holding the snapshot's data. */
  async cloneSnapshot(ctx: ChangeContext, lunId: number, name: string, newName: string): Promise<Lun> {
    const lun = this.store.getLun(lunId);
    snapshotName(name);
    const p = new Problems();
    p.check('name', poolNameProblem(newName));
    p.throwIfAny();
    if (this.store.listLuns().some((x) => x.name === newName)) {
      throw new StoreError('conflict', `lun ${newName} already exists`, [{ field: 'name', message: 'name already exists' }]);
    }
    return this.audited(ctx, 'snapshot.clone', `lun ${lun.name} snapshot ${name}`, { clone: newName }, async () => {
      if (lun.backing === 'file') {
        const snap = (await this.files.list(lun)).find((s) => s.name === name);
        if (!snap) throw new StorageError('not-found', `lun ${lun.name} has no snapshot named ${name}`);
        const size = snap.sizeBytes - (snap.sizeBytes % lun.blockSize);
        const clone = this.store.createLun(ctx, { name: newName, backing: 'file', sizeBytes: size, blockSize: lun.blockSize, readOnly: lun.readOnly, writeCache: lun.writeCache });
        try {
          await this.files.copyOut(lun, name, clone.path);
        } catch (e) {
          this.store.deleteLun(ctx, clone.id, { deleteData: true });
          throw e;
        }
        return clone;
      }
      const mgr = this.requireLvm();
      try { lvName(newName); } catch (e) { throw new StoreError('invalid', `name ${(e as Error).message}`, [{ field: 'name', message: (e as Error).message }]); }
      const { vg } = lvOf(lun);
      const lv = await this.lvSnapshots!.cloneToLv(lun, name, newName);
      try {
        return this.store.createLun(ctx, {
          name: newName, backing: 'lv', lvPath: `/dev/${vg}/${newName}`, sizeBytes: lv.size - (lv.size % lun.blockSize),
          blockSize: lun.blockSize, readOnly: lun.readOnly, writeCache: lun.writeCache,
        });
      } catch (e) {
        await mgr.removeLv(vg, newName).catch(() => undefined);
        throw e;
      }
    });
  }
}
