// Volume groups: create, extend with disks, reduce, rename, remove (refused while it holds LVs: the LUNs).
import type { LvmContext } from './context.ts';
import { RefusedError, StorageError } from './errors.ts';
import { devicePath, vgName } from './names.ts';
import { canonicalDevice } from './disks.ts';
import { listPvs } from './pv.ts';
import { parseVgs } from './report.ts';
import type { VgInfo } from './report.ts';

export async function listVgs(ctx: LvmContext): Promise<VgInfo[]> {
  return parseVgs(await ctx.report('vg'));
}

export async function getVg(ctx: LvmContext, name: string): Promise<VgInfo> {
  const vg = parseVgs(await ctx.report('vg', [vgName(name)]))[0];
  if (!vg) throw new StorageError('not-found', `volume group ${name} not found`);
  return vg;
}

/** The devices must already be PVs outside any VG (createPv does the disk checks and the wipe). */
async function freePvs(ctx: LvmContext, devices: readonly string[]): Promise<string[]> {
  if (devices.length === 0) throw new RefusedError('refused', 'at least one physical volume is required');
  devices.forEach(devicePath);
  const devs: string[] = [];
  for (const d of devices) devs.push(await canonicalDevice(ctx, d));
  const pvs = await listPvs(ctx);
  return devs.map((dev) => {
    const pv = pvs.find((p) => p.name === dev);
    if (!pv) throw new RefusedError('refused', `${dev} is not a physical volume; initialize it first`);
    if (pv.vg) throw new RefusedError('in-use', `${dev} already belongs to volume group ${pv.vg}`);
    return dev;
  });
}

export async function createVg(ctx: LvmContext, name: string, devices: readonly string[]): Promise<VgInfo> {
  const vg = vgName(name);
  const devs = await freePvs(ctx, devices);
  await ctx.run(['vgcreate', vg, ...devs]);
  return getVg(ctx, vg);
}

export async function extendVg(ctx: LvmContext, name: string, devices: readonly string[]): Promise<VgInfo> {
  const vg = vgName(name);
  const devs = await freePvs(ctx, devices);
  await ctx.run(['vgextend', vg, ...devs]);
  return getVg(ctx, vg);
}

/** vgreduce: lvm2 itself refuses a PV that still holds extents ("still in use"); that error is passed on. */
export async function reduceVg(ctx: LvmContext, name: string, devices: readonly string[]): Promise<VgInfo> {
  const vg = vgName(name);
  devices.forEach(devicePath);
  if (devices.length === 0) throw new RefusedError('refused', 'name the physical volumes to remove');
  const devs: string[] = [];
  for (const d of devices) devs.push(await canonicalDevice(ctx, d));
  const pvs = await listPvs(ctx);
  for (const d of devs) {
    const pv = pvs.find((p) => p.name === d);
    if (!pv || pv.vg !== vg) throw new RefusedError('refused', `${d} is not a physical volume of ${vg}`);
    if (pv.allocatedExtents > 0) throw new RefusedError('in-use', `${d} holds ${pv.allocatedExtents} allocated extents; move or remove its LVs first`);
  }
  await ctx.run(['vgreduce', vg, ...devs]);
  return getVg(ctx, vg);
}

export async function renameVg(ctx: LvmContext, from: string, to: string): Promise<VgInfo> {
  const a = vgName(from);
  const b = vgName(to);
  await ctx.run(['vgrename', a, b]);
  return getVg(ctx, b);
}

/** Refused while the VG holds any LV (LUNs live there); then vgremove without --force. */
export async function removeVg(ctx: LvmContext, name: string): Promise<void> {
  const vg = await getVg(ctx, name);
  if (vg.lvCount > 0) {
    throw new RefusedError('in-use', `volume group ${vg.name} still holds ${vg.lvCount} logical volume(s); remove them first`);
  }
  await ctx.run(['vgremove', vg.name]);
}
