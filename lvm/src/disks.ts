// Disk inventory from `lsblk -J -b -O` (every column, bytes): size, model, serial, rotational, partitions,
// signatures, and whether a disk is in use. The disk that holds the running system (/, /boot, swap, or any
// PV of the VG those live on) is marked `system` and never offered.
import type { LvmContext } from './context.ts';
import { ReportParseError, StorageError, ToolError } from './errors.ts';
import { LSBLK_ARGS } from './fields.ts';
import { devicePath } from './names.ts';

/** Mount points that make a device part of the running system. */
export const SYSTEM_MOUNTS = ['/', '/boot', '/boot/efi', '/efi', '/usr', '/var', '[SWAP]'] as const;
/** lsblk TYPEs offered as disks (loop only on request: tests and file-backed development setups). */
const DISK_TYPES = ['disk'] as const;

interface LsblkNode {
  name: string;
  kname?: string;
  path?: string;
  type: string;
  size: number | string;
  model?: string | null;
  serial?: string | null;
  vendor?: string | null;
  wwn?: string | null;
  tran?: string | null;
  rota?: boolean | string;
  rm?: boolean | string;
  ro?: boolean | string;
  fstype?: string | null;
  pttype?: string | null;
  label?: string | null;
  uuid?: string | null;
  mountpoint?: string | null;
  mountpoints?: (string | null)[];
  children?: LsblkNode[];
}

export interface PartitionInfo {
  name: string;
  path: string;
  size: number;
  fstype: string | null;
  label: string | null;
  mountpoints: string[];
}

export interface DiskInfo {
  name: string;
  path: string;
  size: number;
  model: string | null;
  serial: string | null;
  vendor: string | null;
  wwn: string | null;
  transport: string | null;
  rotational: boolean;
  removable: boolean;
  readOnly: boolean;
  /** Partition table type (dos, gpt) if any. */
  partitionTable: string | null;
  partitions: PartitionInfo[];
  /** What lsblk (udev's probe) sees on the disk and its partitions: filesystems, PV labels, partition tables. */
  signatures: string[];
  /** Mount points on the disk, its partitions and anything stacked on it. */
  mounted: string[];
  isPv: boolean;
  /** device-mapper devices stacked on this disk (LVs, crypt …). */
  holders: string[];
  system: boolean;
  /** Why the disk can't be used as it is ('' when it can): a sentence per reason. */
  inUse: string[];
  /** Free to initialize as a PV (maybe after a wipe confirmation if it has signatures). */
  available: boolean;
  smart?: { passed: boolean | null; temperatureC: number | null } | null;
}

const bool = (v: unknown): boolean => v === true || v === '1' || v === 1;
const num = (v: unknown): number => {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isSafeInteger(n)) throw new ReportParseError('lsblk size is not an integer', String(v));
  return n;
};
const mounts = (n: LsblkNode): string[] =>
  (Array.isArray(n.mountpoints) ? n.mountpoints : [n.mountpoint]).filter((m): m is string => typeof m === 'string' && m !== '');
const descendants = (n: LsblkNode): LsblkNode[] => (n.children ?? []).flatMap((c) => [c, ...descendants(c)]);

/** device-mapper names escape '-' as '--': "vg--a-lv" is VG "vg-a", LV "lv". */
export function vgOfDmName(dmName: string): string | null {
  const m = /^((?:[^-]|--)+)-(?!-)/.exec(dmName);
  return m ? m[1]!.replaceAll('--', '-') : null;
}

export interface InventoryOptions {
  includeLoop?: boolean;
}

export function parseLsblk(stdout: string, opts: InventoryOptions = {}): DiskInfo[] {
  let doc: { blockdevices?: LsblkNode[] };
  try { doc = JSON.parse(stdout) as { blockdevices?: LsblkNode[] }; } catch {
    throw new ReportParseError('lsblk output is not JSON', stdout);
  }
  if (!Array.isArray(doc.blockdevices)) throw new ReportParseError('lsblk output has no blockdevices', stdout);
  const types: readonly string[] = opts.includeLoop ? [...DISK_TYPES, 'loop'] : DISK_TYPES;
  const tops = doc.blockdevices.filter((n) => types.includes(n.type));

  // The VGs the system lives on: any LV mounted at a system mount point.
  const systemVgs = new Set<string>();
  for (const n of doc.blockdevices.flatMap((t) => [t, ...descendants(t)])) {
    if (n.type === 'lvm' && mounts(n).some((m) => (SYSTEM_MOUNTS as readonly string[]).includes(m))) {
      const vg = vgOfDmName(n.name);
      if (vg) systemVgs.add(vg);
    }
  }

  return tops.map((n) => {
    const all = [n, ...descendants(n)];
    const parts = (n.children ?? []).filter((c) => c.type === 'part');
    const dms = descendants(n).filter((c) => c.type !== 'part');
    const mounted = [...new Set(all.flatMap(mounts))];
    const isPv = [n, ...parts].some((p) => p.fstype === 'LVM2_member');
    const holders = [...new Set(dms.map((c) => c.name))];
    const sysMounts = mounted.filter((m) => (SYSTEM_MOUNTS as readonly string[]).includes(m));
    const sysVgs = [...new Set(dms.filter((c) => c.type === 'lvm').map((c) => vgOfDmName(c.name)))]
      .filter((v): v is string => v !== null && systemVgs.has(v));
    const system = sysMounts.length > 0 || sysVgs.length > 0;
    const inUse: string[] = [];
    if (sysMounts.length) inUse.push(`system disk (mounted at ${sysMounts.join(', ')})`);
    if (sysVgs.length) inUse.push(`system disk (PV of volume group ${sysVgs.join(', ')})`);
    const otherMounts = mounted.filter((m) => !sysMounts.includes(m));
    if (otherMounts.length) inUse.push(`mounted at ${otherMounts.join(', ')}`);
    if (isPv) inUse.push('LVM physical volume');
    if (holders.length && !isPv) inUse.push(`held by ${holders.join(', ')}`);
    if (bool(n.ro)) inUse.push('read-only');
    const signatures = [...new Set([n.pttype, n.fstype, ...parts.map((p) => p.fstype)].filter((s): s is string => !!s))];
    return {
      name: n.name, path: n.path ?? `/dev/${n.name}`, size: num(n.size), model: n.model?.trim() || null,
      serial: n.serial?.trim() || null, vendor: n.vendor?.trim() || null, wwn: n.wwn ?? null, transport: n.tran ?? null,
      rotational: bool(n.rota), removable: bool(n.rm), readOnly: bool(n.ro), partitionTable: n.pttype ?? null,
      partitions: parts.map((p) => ({ name: p.name, path: p.path ?? `/dev/${p.name}`, size: num(p.size),
        fstype: p.fstype ?? null, label: p.label ?? null, mountpoints: mounts(p) })),
      signatures, mounted, isPv, holders, system, inUse, available: inUse.length === 0,
    };
  });
}

export interface ListDisksOptions extends InventoryOptions {
  smart?: boolean;
  /** Probe each disk's signatures with wipefs too: lsblk's FSTYPE comes from udev's database, which can lag
   *  behind (or be absent without udev). Decisions (createPv) always probe. */
  probe?: boolean;
}

export async function listDisks(ctx: LvmContext, opts: ListDisksOptions = {}): Promise<DiskInfo[]> {
  const disks = parseLsblk((await ctx.run(['lsblk', ...LSBLK_ARGS])).stdout, opts);
  if (opts.probe) {
    for (const d of disks) {
      try {
        const found = parseWipefs((await ctx.run(['wipefs', '--no-act', '--json', d.path])).stdout).map((s) => s.type);
        d.signatures = [...new Set([...d.signatures, ...found])];
      } catch (e) {
        // A device we may not open (e.g. busy or not permitted) keeps lsblk's view; the inventory goes on.
        if (!(e instanceof ToolError)) throw e;
      }
    }
  }
  if (opts.smart) for (const d of disks) d.smart = await smartHealth(ctx, d.path);
  return disks;
}

/** `wipefs --no-act --json`: every signature on the device itself, probed now (not udev's cached view). */
export function parseWipefs(stdout: string): { type: string; offset: string; uuid: string | null; label: string | null }[] {
  if (stdout.trim() === '') return [];
  let doc: { signatures?: { type: string; offset: string; uuid?: string | null; label?: string | null }[] };
  try { doc = JSON.parse(stdout) as typeof doc; } catch { throw new ReportParseError('wipefs output is not JSON', stdout); }
  return (doc.signatures ?? []).map((s) => ({ type: s.type, offset: s.offset, uuid: s.uuid ?? null, label: s.label ?? null }));
}

/** The name lvm2 reports a device by (lsblk's PATH: /dev/vdb for /dev/disk/by-id/…, /dev/mapper/x for dm). */
export async function canonicalDevice(ctx: LvmContext, dev: string): Promise<string> {
  devicePath(dev);
  const own = JSON.parse((await ctx.run(['lsblk', '-J', '-b', '-o', 'NAME,KNAME,PATH,TYPE', '--nodeps', dev])).stdout) as
    { blockdevices: { path?: string; kname: string }[] };
  const me = own.blockdevices[0];
  if (!me) throw new StorageError('not-found', `${dev}: no such block device`);
  return me.path ?? `/dev/${me.kname}`;
}

export interface DeviceState {
  name: string;
  /** The kernel's path (/dev/vdb) for a given alias (/dev/disk/by-id/…). */
  kname: string;
  system: boolean;
  inUse: string[];
  signatures: string[];
}

/** One device (a disk, a partition or a loop device) as the refusal rules see it. */
export async function inspectDevice(ctx: LvmContext, dev: string): Promise<DeviceState> {
  devicePath(dev);
  const own = JSON.parse((await ctx.run(['lsblk', '-J', '-b', '-o', 'NAME,KNAME,PATH,TYPE', '--nodeps', dev])).stdout) as
    { blockdevices: { name: string; kname: string; path: string; type: string }[] };
  const me = own.blockdevices[0];
  if (!me) throw new StorageError('not-found', `${dev}: no such block device`);
  const disks = parseLsblk((await ctx.run(['lsblk', ...LSBLK_ARGS])).stdout, { includeLoop: true });
  const kpath = `/dev/${me.kname}`;
  const disk = disks.find((d) => d.path === me.path || d.path === kpath);
  const parent = disks.find((d) => d.partitions.some((p) => p.path === me.path || p.path === kpath));
  const sigs = parseWipefs((await ctx.run(['wipefs', '--no-act', '--json', dev])).stdout).map((s) => s.type);
  if (disk) return { name: me.name, kname: kpath, system: disk.system, inUse: disk.inUse, signatures: sigs };
  if (parent) {
    const part = parent.partitions.find((p) => p.path === me.path || p.path === kpath)!;
    const inUse = [
      ...(parent.system ? parent.inUse.filter((r) => r.startsWith('system')) : []),
      ...(part.mountpoints.length ? [`mounted at ${part.mountpoints.join(', ')}`] : []),
      ...(part.fstype === 'LVM2_member' ? ['LVM physical volume'] : []),
    ];
    return { name: me.name, kname: kpath, system: parent.system, inUse, signatures: sigs };
  }
  throw new StorageError('refused', `${dev} is a ${me.type} device, not a disk or partition`);
}

/** SMART overall health via smartctl's JSON (-j), or null where smartctl isn't installed or can't tell. */
export async function smartHealth(ctx: LvmContext, dev: string): Promise<{ passed: boolean | null; temperatureC: number | null } | null> {
  try {
    // smartctl's exit status is a bit mask (smartctl(8) "RETURN VALUES"); bits 0-1 are the only hard failures.
    const r = await ctx.run(['smartctl', '-H', '-A', '-j', devicePath(dev)], { okCodes: [4, 8, 16, 32, 64, 128] });
    const j = JSON.parse(r.stdout) as { smart_status?: { passed?: boolean }; temperature?: { current?: number } };
    return { passed: j.smart_status?.passed ?? null, temperatureC: j.temperature?.current ?? null };
  } catch (e) {
    if (e instanceof ToolError || e instanceof SyntaxError) return null;
    throw e;
  }
}
