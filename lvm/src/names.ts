// Validation of everything that becomes an lvm2 argument, done before any process runs: LVM's own naming
// rules (lvm(8) "VALID NAMES"), device paths, sizes. A name that fails here never reaches argv, so a name
// like '-y' cannot turn into an option and '../x' cannot turn into a path.
import { RefusedError } from './errors.ts';

/** lvm(8): "The following characters are valid for VG and LV names: a-z A-Z 0-9 + _ . -". */
const NAME_CHARS = /^[A-Za-z0-9+_.-]+$/;
/** Device-mapper names are at most 127 characters (DM_NAME_LEN 128 with the NUL); lvm2 uses the same bound. */
export const MAX_NAME_LENGTH = 127;

/** lvm(8): LV names may not contain these (lvm2 uses them for hidden sub-LVs). */
export const RESERVED_LV_SUBSTRINGS = [
  '_cdata', '_cmeta', '_corig', '_cpool', '_cvol', '_iorig', '_mimage', '_mlog', '_pmspare', '_rimage', '_rmeta',
  '_tdata', '_tmeta', '_vorigin', '_vdata', '_wcorig',
] as const;
/** lvm(8): LV names may not begin with these (lvm2's own snapshot and pvmove LVs). */
export const RESERVED_LV_PREFIXES = ['snapshot', 'pvmove'] as const;

export type NameKind = 'VG' | 'LV';

function refuse(kind: string, name: unknown, why: string): never {
  const shown = typeof name === 'string' ? JSON.stringify(name.length > 60 ? `${name.slice(0, 60)}…` : name) : String(name);
  throw new RefusedError('invalid-name', `invalid ${kind} name ${shown}: ${why}`);
}

/** Throws RefusedError('invalid-name') unless `name` is a valid VG or LV name; returns it otherwise. */
export function validateName(kind: NameKind, name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) refuse(kind, name, 'a name is required');
  if (name.length > MAX_NAME_LENGTH) refuse(kind, name, `longer than ${MAX_NAME_LENGTH} characters`);
  if (!NAME_CHARS.test(name)) refuse(kind, name, 'only letters, digits and + _ . - are allowed');
  if (name.startsWith('-')) refuse(kind, name, 'may not begin with a hyphen');
  if (name === '.' || name === '..') refuse(kind, name, "'.' and '..' are reserved");
  if (kind === 'LV') {
    const prefix = RESERVED_LV_PREFIXES.find((p) => name.startsWith(p));
    if (prefix) refuse(kind, name, `names beginning with '${prefix}' are reserved by lvm2`);
    const sub = RESERVED_LV_SUBSTRINGS.find((s) => name.includes(s));
    if (sub) refuse(kind, name, `names containing '${sub}' are reserved by lvm2`);
  }
  return name;
}

export const vgName = (name: unknown): string => validateName('VG', name);
export const lvName = (name: unknown): string => validateName('LV', name);

/** "vg/lv", both parts validated, and the device-mapper name (hyphens doubled) within DM's limit. */
export function lvPath(vg: unknown, lv: unknown): string {
  const v = vgName(vg);
  const l = lvName(lv);
  const dmName = `${v.replaceAll('-', '--')}-${l.replaceAll('-', '--')}`;
  if (dmName.length > MAX_NAME_LENGTH) refuse('LV', lv, `device-mapper name ${dmName.length} characters long (max ${MAX_NAME_LENGTH})`);
  return `${v}/${l}`;
}

/** Block device paths: absolute under /dev, no '..' segments, no characters a shell or lvm2 would read as more. */
export function devicePath(path: unknown): string {
  if (typeof path !== 'string') throw new RefusedError('invalid-name', 'a device path is required');
  const bad = (why: string): never => { throw new RefusedError('invalid-name', `invalid device path ${JSON.stringify(path.slice(0, 80))}: ${why}`); };
  if (!path.startsWith('/dev/')) bad('must be under /dev/');
  if (!/^[A-Za-z0-9._+:/@-]+$/.test(path)) bad('unexpected characters');
  if (path.split('/').some((seg) => seg === '..' || seg === '.')) bad("'.' and '..' segments are not allowed");
  if (path.length > 4096) bad('too long');
  return path;
}

/** A size in bytes as lvm2 reads it ("<n>b"), refused unless it is a positive safe integer. */
export function sizeArg(bytes: unknown, what = 'size'): string {
  if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new RefusedError('refused', `${what} must be a positive whole number of bytes, got ${String(bytes)}`);
  }
  return `${bytes}b`;
}

/** A percentage threshold 1..100. */
export function percentArg(p: unknown, what: string): number {
  if (typeof p !== 'number' || !Number.isFinite(p) || p <= 0 || p > 100) {
    throw new RefusedError('refused', `${what} must be a percentage in (0, 100], got ${String(p)}`);
  }
  return p;
}
