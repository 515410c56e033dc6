// Logical volumes (the LUNs): linear create, online extend, shrink only with an explicit force and never
// below the caller's floor, rename, remove. Removal and renaming are refused while the LV is in use: open
// on this host, or mapped as a LUN (the caller answers that through `InUseCheck`; lvm/ knows nothing of targets).
import type { LvmContext } from './context.ts';
import { RefusedError, StorageError } from './errors.ts';
import { lvName, lvPath, sizeArg, vgName } from './names.ts';
import { parseLvs } from './report.ts';
import type { LvInfo } from './report.ts';

/** Returns why vg/lv must not change (e.g. "mapped as LUN 0 of iqn…") or null when it is free. */
export type InUseCheck = (vg: string, lv: string) => Promise<string | null> | string | null;

export async function listLvs(ctx: LvmContext, vg?: string, opts: { all?: boolean } = {}): Promise<LvInfo[]> {
  const lvs = parseLvs(await ctx.report('lv', vg === undefined ? [] : [vgName(vg)], opts.all ? ['-a'] : []));
  return opts.all ? lvs : lvs.filter((l) => !l.hidden);
}

export async function getLv(ctx: LvmContext, vg: string, lv: string): Promise<LvInfo> {
  const path = lvPath(vg, lv);
  const found = (await listLvs(ctx, vg)).find((l) => l.name === lv);
  if (!found) throw new StorageError('not-found', `logical volume ${path} not found`);
  return found;
}

/** Every reason vg/lv can't be removed or renamed now: mapped (caller), open, has snapshots, pool with thin LVs. */
export async function busyReasons(ctx: LvmContext, lv: LvInfo, inUse?: InUseCheck): Promise<string[]> {
  const reasons: string[] = [];
  const mapped = inUse ? await inUse(lv.vg, lv.name) : null;
  if (mapped) reasons.push(mapped);
  // A thin pool's device reads as open whenever lvm2 keeps its -tpool layer up; its users are its thin LVs.
  if (lv.open && lv.kind !== 'thin-pool') reasons.push('its device is open');
  const others = await listLvs(ctx, lv.vg);
  // a thick snapshot lives off its origin (lvremove would take it too); a thin snapshot or clone is an independent
  // thin volume that merely records where it came from (lvmthin(7)), so it does not pin its origin
  const snaps = others.filter((o) => o.origin === lv.name && o.kind === 'snapshot').map((o) => o.name);
  if (snaps.length) reasons.push(`it has snapshots (${snaps.join(', ')})`);
  const thins = others.filter((o) => o.pool === lv.name).map((o) => o.name);
  if (lv.kind === 'thin-pool' && thins.length) reasons.push(`the pool holds thin volumes (${thins.join(', ')})`);
  return reasons;
}

/** New LVs are wiped of stale signatures (-W y) so an old filesystem never reappears inside a new LUN. */
export async function createLinear(ctx: LvmContext, vg: string, name: string, bytes: number): Promise<LvInfo> {
  lvPath(vg, name);
  await ctx.run(['lvcreate', '--yes', '--wipesignatures', 'y', '-L', sizeArg(bytes), '-n', name, vg]);
  return getLv(ctx, vg, name);
}

/** Online grow (linear and thin LVs alike); lvm2 rounds up to whole extents. */
export async function extendLv(ctx: LvmContext, vg: string, name: string, newBytes: number): Promise<LvInfo> {
  const lv = await getLv(ctx, vg, name);
  sizeArg(newBytes, 'new size');
  if (newBytes <= lv.size) {
    throw new RefusedError('refused', `${vg}/${name} is already ${lv.size} bytes; extend needs a larger size (shrink is separate)`);
  }
  await ctx.run(['lvextend', '-L', sizeArg(newBytes), lvPath(vg, name)]);
  return getLv(ctx, vg, name);
}

export interface ShrinkOptions {
  /** Must be true: shrinking destroys whatever lies past the new end. */
  force: boolean;
  /** Never shrink below this (e.g. the highest LBA in use on a mapped LUN, or its filesystem's size). */
  minBytes?: number;
}

export async function shrinkLv(ctx: LvmContext, vg: string, name: string, newBytes: number, opts: ShrinkOptions): Promise<LvInfo> {
  const lv = await getLv(ctx, vg, name);
  sizeArg(newBytes, 'new size');
  if (opts?.force !== true) throw new RefusedError('refused', `shrinking ${vg}/${name} destroys data past the new end; pass force to confirm`);
  if (newBytes >= lv.size) throw new RefusedError('refused', `${vg}/${name} is ${lv.size} bytes; shrink needs a smaller size`);
  if (opts.minBytes !== undefined && newBytes < opts.minBytes) {
    throw new RefusedError('refused', `${vg}/${name} holds data up to ${opts.minBytes} bytes; refusing to shrink it to ${newBytes}`);
  }
  // --yes answers lvreduce's "really reduce?" (the force above is the admin's answer); lvm2 still checks a
  // filesystem it finds (--fs checksize, its default since 2.03.17) and refuses to cut one.
  await ctx.run(['lvreduce', '--yes', '-L', sizeArg(newBytes), lvPath(vg, name)]);
  return getLv(ctx, vg, name);
}

export async function renameLv(ctx: LvmContext, vg: string, from: string, to: string, inUse?: InUseCheck): Promise<LvInfo> {
  lvPath(vg, to);
  const lv = await getLv(ctx, vg, from);
  const mapped = inUse ? await inUse(lv.vg, lv.name) : null;
  if (mapped) throw new RefusedError('in-use', `refusing to rename ${vg}/${from}: ${mapped}`);
  await ctx.run(['lvrename', vgName(vg), lvName(from), lvName(to)]);
  return getLv(ctx, vg, to);
}

export async function removeLv(ctx: LvmContext, vg: string, name: string, inUse?: InUseCheck): Promise<void> {
  const lv = await getLv(ctx, vg, name);
  const reasons = await busyReasons(ctx, lv, inUse);
  if (reasons.length) throw new RefusedError('in-use', `refusing to remove ${vg}/${name}: ${reasons.join('; ')}`);
  await ctx.run(['lvremove', '--yes', lvPath(vg, name)]);
}

export async function setActive(ctx: LvmContext, vg: string, name: string, active: boolean): Promise<void> {
  // -K: thin snapshots carry the activation-skip flag; an explicit activation is meant.
  await ctx.run(['lvchange', active ? '-ay' : '-an', ...(active ? ['-K'] : []), lvPath(vg, name)]);
}
