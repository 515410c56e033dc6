/**
 * Storage page logic apart from the elements (testable without a browser): where a LUN may live, extend and
 * snapshot form checks, schedule intervals, usage levels against a threshold, which disks may be initialized.
 */
import type { Disk, FilePoolInfo, SnapshotSchedule, StorageOverview, ThinPool, VolumeGroup } from './api-storage.ts';
import { SIZE_UNITS, formatBytes, parseSize, type SizeUnit } from './format.ts';

export interface LocationOption {
  /** 'file', 'vg:NAME' or 'pool:VG/NAME' (the wizard's and the LUN form's value) */
  key: string;
  label: string;
}

/** Where a new LUN can be stored: the file pool in file mode; each VG (linear LV) and thin pool in LVM mode. */
export function locationOptions(overview: StorageOverview | undefined, vgs: readonly VolumeGroup[], pools: readonly ThinPool[]): LocationOption[] {
  if (!overview || overview.mode === 'file') {
    const fp = overview?.filePool;
    return [{ key: 'file', label: fp ? `File pool ${fp.path} (${formatBytes(fp.freeBytes)} free)` : 'File pool' }];
  }
  const out: LocationOption[] = [];
  for (const p of pools) out.push({ key: `pool:${p.vg}/${p.name}`, label: `Thin pool ${p.vg}/${p.name} (thin; ${formatBytes(Math.max(0, p.sizeBytes - p.usedBytes))} of ${formatBytes(p.sizeBytes)} free)` });
  for (const vg of vgs) out.push({ key: `vg:${vg.name}`, label: `Volume group ${vg.name} (thick: ${formatBytes(vg.free)} free)` });
  return out;
}

/** The new size of an extend form, or the message for its field. Sizes only grow (shrinking loses data). */
export function extendProblem(currentBytes: number, amount: string, unit: SizeUnit): { bytes: number } | { error: string } {
  const size = parseSize(amount, unit in SIZE_UNITS ? unit : 'GiB');
  if ('error' in size) return size;
  if (size.bytes <= currentBytes) return { error: `must be larger than the current ${formatBytes(currentBytes)} (a LUN only grows)` };
  return size;
}

/**
 * What the extend form suggests: the next power of two above the current size, in the unit the size reads best in
 * (a 96 MiB LUN suggests 128 MiB, 10 GiB suggests 16 GiB), so the placeholder is always a size the form accepts.
 */
export function extendSuggestion(currentBytes: number): { amount: number; unit: SizeUnit } {
  const unit: SizeUnit = currentBytes >= SIZE_UNITS.TiB ? 'TiB' : currentBytes >= SIZE_UNITS.GiB ? 'GiB' : 'MiB';
  const now = currentBytes / SIZE_UNITS[unit];
  return { amount: 2 ** Math.floor(Math.log2(Math.max(now, 1)) + 1), unit };
}

// mirrors lvm(8) VALID NAMES and the file pool's rule: the stricter of the two
const SNAP_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export function snapshotNameProblem(name: string): string | undefined {
  if (!name) return 'is required';
  if (!SNAP_NAME.test(name) || name.includes('..')) return 'must be 1-64 letters, digits, "_", "-", "." starting with a letter or digit';
  if (name.startsWith('auto-')) return 'must not start with "auto-" (reserved for scheduled snapshots)';
  return undefined;
}

/** A default snapshot name from the clock: "snap-20261128-0412" (UTC, sorts by time). */
export function defaultSnapshotName(now: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `snap-${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}`;
}

export const SCHEDULE_PRESETS = { hourly: 60, daily: 1440, weekly: 10080 } as const;
export type SchedulePreset = keyof typeof SCHEDULE_PRESETS;

/** The schedule form's values → the API's {every, keep}, or messages per field. */
export function scheduleFormBody(v: { every: string; minutes?: string; keep: string }): { body?: { every: number | SchedulePreset; keep: number }; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  let every: number | SchedulePreset | undefined;
  if (v.every in SCHEDULE_PRESETS) every = v.every as SchedulePreset;
  else if (v.every === 'minutes') {
    const m = (v.minutes ?? '').trim();
    if (!/^\d{1,6}$/.test(m) || Number(m) < 5) errors['everyMinutes'] = 'must be a whole number of minutes, at least 5';
    else every = Number(m);
  } else errors['every'] = 'choose how often';
  const keep = v.keep.trim();
  if (!/^\d{1,3}$/.test(keep) || Number(keep) < 1 || Number(keep) > 100) errors['keep'] = 'must be 1-100 snapshots';
  if (Object.keys(errors).length > 0 || every === undefined) return { errors };
  return { body: { every, keep: Number(keep) }, errors };
}

/** "every hour", "every 15 minutes", "daily" … as a person says it. */
export function scheduleLabel(s: Pick<SnapshotSchedule, 'everyMinutes'>): string {
  const m = s.everyMinutes;
  if (m === 60) return 'hourly';
  if (m === 1440) return 'daily';
  if (m === 10080) return 'weekly';
  if (m % 1440 === 0) return `every ${m / 1440} days`;
  if (m % 60 === 0) return `every ${m / 60} hours`;
  return `every ${m} minutes`;
}

export type UsageLevel = 'ok' | 'warn' | 'full';
/** A usage bar's colour: warn from the threshold on, full from 95 % (writes to a thin pool may soon fail). */
export function usageLevel(percent: number, threshold: number): UsageLevel {
  if (percent >= 95) return 'full';
  if (percent >= threshold) return 'warn';
  return 'ok';
}

export function filePoolUsage(fp: FilePoolInfo): { usedBytes: number; percent: number } {
  const usedBytes = Math.max(0, fp.sizeBytes - fp.freeBytes);
  return { usedBytes, percent: fp.sizeBytes > 0 ? (usedBytes / fp.sizeBytes) * 100 : 0 };
}

/** Whether a disk may be offered for "Initialize as PV", and if not, why (shown beside it). */
export function diskOffer(d: Disk): { selectable: boolean; reason: string; needsWipe: boolean } {
  if (d.system) return { selectable: false, reason: 'holds the running system', needsWipe: false };
  if (d.isPv) return { selectable: false, reason: 'already a physical volume', needsWipe: false };
  if (!d.available) return { selectable: false, reason: d.inUse.join('; ') || 'in use', needsWipe: false };
  return { selectable: true, reason: '', needsWipe: d.signatures.length > 0 };
}

/** Physical volumes not in any VG: what a new VG or an extend can use. */
export function freePvDevices(pvs: ReadonlyArray<{ name: string; vg: string | null }>): string[] {
  return pvs.filter((p) => !p.vg).map((p) => p.name);
}

/** VG names follow lvm(8) VALID NAMES; a few names are reserved by lvm itself. */
export function vgNameProblem(name: string): string | undefined {
  if (!name) return 'is required';
  if (!/^[A-Za-z0-9+_.][A-Za-z0-9+_.-]{0,126}$/.test(name)) return 'must be letters, digits, "+", "_", ".", "-" and not start with "-"';
  if (name === '.' || name === '..' || name === 'snapshot' || name === 'pvmove') return 'is reserved by LVM';
  return undefined;
}
