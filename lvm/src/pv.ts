// Physical volumes. A disk becomes a PV only after the inventory says it is free (not the system disk, not
// mounted, not already a PV, no holders) and, when it carries signatures, only with an explicit wipe
// confirmation: pvcreate would otherwise prompt, and a prompt without a terminal answers "no".
import type { LvmContext } from './context.ts';
import { canonicalDevice, inspectDevice } from './disks.ts';
import { RefusedError, StorageError } from './errors.ts';
import { devicePath } from './names.ts';
import { parsePvs } from './report.ts';
import type { PvInfo } from './report.ts';

export async function listPvs(ctx: LvmContext): Promise<PvInfo[]> {
  return parsePvs(await ctx.report('pv'));
}

export interface CreatePvOptions {
  /** The admin confirmed erasing the signatures the inventory showed (wipefs --all before pvcreate). */
  confirmWipe?: boolean;
}

export async function createPv(ctx: LvmContext, device: string, opts: CreatePvOptions = {}): Promise<PvInfo> {
  const dev = devicePath(device);
  const d = await inspectDevice(ctx, dev);
  if (d.system) throw new RefusedError('refused', `${dev} holds the system (${d.inUse.join(', ')}); it is never used for storage`);
  if (d.inUse.length) throw new RefusedError('in-use', `${dev} is in use: ${d.inUse.join(', ')}`);
  if (d.signatures.length) {
    if (!opts.confirmWipe) {
      throw new RefusedError('refused',
        `${dev} has existing signatures (${d.signatures.join(', ')}); confirm the wipe to erase them`);
    }
    await ctx.run(['wipefs', '--all', dev]);
  }
  await ctx.run(['pvcreate', dev]);
  const name = await canonicalDevice(ctx, dev);
  const pv = (await listPvs(ctx)).find((p) => p.name === name);
  if (!pv) throw new StorageError('not-found', `pvcreate ${dev} succeeded but lvm2 does not list ${name} as a PV`);
  return pv;
}

/** pvremove, refused while the PV belongs to a VG (vgreduce it first). */
export async function removePv(ctx: LvmContext, device: string): Promise<void> {
  const dev = devicePath(device);
  const name = await canonicalDevice(ctx, dev);
  const pv = (await listPvs(ctx)).find((p) => p.name === name);
  if (!pv) throw new RefusedError('not-found', `${dev} is not a physical volume`);
  if (pv.vg) throw new RefusedError('in-use', `${dev} belongs to volume group ${pv.vg}; remove it from the VG first`);
  await ctx.run(['pvremove', pv.name]);
}
