// Parsers for lvm2's JSON reports. Asked with `--reportformat json_std --units b --nosuffix -o <fields>`
// (lvmreport(7)): sizes come back as decimal strings of bytes, counts as numbers, undefined percentages as
// null, binary fields as 1/0/-1 ("-1": undefined, e.g. lv_device_open of an inactive LV). lvm2 < 2.03.17 has
// only `--reportformat json` (every value a string), asked with `--binary`; both shapes parse to the same records.
import { ReportParseError } from './errors.ts';
import { LV_FIELDS, PV_FIELDS, VG_FIELDS } from './fields.ts';

export type ReportFormat = 'json_std' | 'json';
export type ReportKind = 'pv' | 'vg' | 'lv';

export const REPORT_FIELDS = { pv: PV_FIELDS, vg: VG_FIELDS, lv: LV_FIELDS } as const satisfies Record<ReportKind, readonly string[]>;
const REPORT_COMMANDS = { pv: 'pvs', vg: 'vgs', lv: 'lvs' } as const satisfies Record<ReportKind, string>;

/** The argv of a report: explicit fields, bytes without suffix, JSON. `selectors` are validated names. */
export function reportArgv(kind: ReportKind, format: ReportFormat, selectors: readonly string[] = [], extra: readonly string[] = []): string[] {
  return [REPORT_COMMANDS[kind], '--reportformat', format, ...(format === 'json' ? ['--binary'] : []),
    '--units', 'b', '--nosuffix', '-o', REPORT_FIELDS[kind].join(','), ...extra, ...selectors];
}

type Row = Record<string, unknown>;

function parseJson(stdout: string): { report?: unknown; log?: unknown } {
  try {
    const v: unknown = JSON.parse(stdout);
    if (v && typeof v === 'object') return v as { report?: unknown; log?: unknown };
  } catch { /* below */ }
  throw new ReportParseError('lvm2 report is not JSON', stdout.trim());
}

/** The rows of one report kind. lvm2 prints one {"<kind>": [...]} object per report section. */
export function reportRows(kind: ReportKind, stdout: string): Row[] {
  const doc = parseJson(stdout);
  if (!Array.isArray(doc.report)) throw new ReportParseError('lvm2 report has no "report" array', stdout.trim());
  const rows: Row[] = [];
  for (const section of doc.report as unknown[]) {
    const list = (section as Record<string, unknown> | null)?.[kind];
    if (Array.isArray(list)) rows.push(...(list as Row[]));
  }
  return rows;
}

/** The error messages lvm2 put in the report's "log" section (with a JSON report they go there, not stderr). */
export function reportLogErrors(stdout: string): string[] {
  let doc: { log?: unknown };
  try { doc = JSON.parse(stdout) as { log?: unknown }; } catch { return []; }
  if (!doc || !Array.isArray(doc.log)) return [];
  return (doc.log as Row[]).filter((l) => l.log_type === 'error' && typeof l.log_message === 'string')
    .map((l) => l.log_message as string);
}

// --- field converters: accept both json_std and json shapes ---
function need(row: Row, f: string): unknown {
  if (!(f in row)) throw new ReportParseError(`report row lacks field ${f}`, JSON.stringify(row));
  return row[f];
}
function str(row: Row, f: string): string {
  const v = need(row, f);
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (v === null) return '';
  throw new ReportParseError(`field ${f} is not a string`, JSON.stringify(row));
}
function optStr(row: Row, f: string): string | null {
  const s = str(row, f);
  return s === '' ? null : s;
}
/** Whole bytes or counts. Refuses what is not a safe integer (sizes beyond 8 PiB would lose precision). */
function int(row: Row, f: string): number {
  const v = need(row, f);
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw new ReportParseError(`field ${f} is not an integer`, JSON.stringify(row));
  return n;
}
function optInt(row: Row, f: string): number | null {
  const v = need(row, f);
  return v === null || v === '' ? null : int(row, f);
}
function percent(row: Row, f: string): number | null {
  const v = need(row, f);
  if (v === null || v === '') return null;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) throw new ReportParseError(`field ${f} is not a percentage`, JSON.stringify(row));
  return n;
}
/** Binary fields: 1/0/-1 in json_std, "1"/"0"/"-1"/"" with --binary, or the field's name as a word without it. */
function flag(row: Row, f: string): boolean {
  const v = need(row, f);
  if (v === 1 || v === true || v === '1') return true;
  if (v === 0 || v === -1 || v === '0' || v === '-1' || v === '' || v === null || v === false) return false;
  if (typeof v === 'string') return v.length > 0; // e.g. "active", "open", "merging"
  throw new ReportParseError(`field ${f} is not a flag`, JSON.stringify(row));
}
function tags(row: Row, f: string): string[] {
  const v = need(row, f);
  if (Array.isArray(v)) return v.map(String);
  if (typeof v === 'string') return v === '' ? [] : v.split(',');
  return [];
}

export interface PvInfo {
  name: string;
  uuid: string;
  vg: string | null;
  format: string;
  size: number;
  free: number;
  devSize: number;
  attr: string;
  extentCount: number;
  allocatedExtents: number;
  /** pv_attr[0] 'a': allocatable. */
  allocatable: boolean;
  /** pv_attr[2] 'm': missing. */
  missing: boolean;
}

export function parsePvs(stdout: string): PvInfo[] {
  return reportRows('pv', stdout).map((r) => {
    const attr = str(r, 'pv_attr');
    return {
      name: str(r, 'pv_name'), uuid: str(r, 'pv_uuid'), vg: optStr(r, 'vg_name'), format: str(r, 'pv_fmt'),
      size: int(r, 'pv_size'), free: int(r, 'pv_free'), devSize: int(r, 'dev_size'), attr,
      extentCount: int(r, 'pv_pe_count'), allocatedExtents: int(r, 'pv_pe_alloc_count'),
      allocatable: attr[0] === 'a', missing: attr[2] === 'm',
    };
  });
}

export interface VgInfo {
  name: string;
  uuid: string;
  attr: string;
  size: number;
  free: number;
  extentSize: number;
  extentCount: number;
  freeExtents: number;
  pvCount: number;
  lvCount: number;
  snapCount: number;
  missingPvCount: number;
  /** vg_attr[3] 'p': partial (a PV is missing). */
  partial: boolean;
}

export function parseVgs(stdout: string): VgInfo[] {
  return reportRows('vg', stdout).map((r) => {
    const attr = str(r, 'vg_attr');
    return {
      name: str(r, 'vg_name'), uuid: str(r, 'vg_uuid'), attr, size: int(r, 'vg_size'), free: int(r, 'vg_free'),
      extentSize: int(r, 'vg_extent_size'), extentCount: int(r, 'vg_extent_count'), freeExtents: int(r, 'vg_free_count'),
      pvCount: int(r, 'pv_count'), lvCount: int(r, 'lv_count'), snapCount: int(r, 'snap_count'),
      missingPvCount: int(r, 'vg_missing_pv_count'), partial: attr[3] === 'p',
    };
  });
}

export type LvKind = 'linear' | 'thin-pool' | 'thin' | 'thin-snapshot' | 'snapshot' | 'internal' | 'other';

/** lv_attr[0], the volume type (lvs(8) "lv_attr bits"). */
export const LV_ATTR_TYPES = {
  o: 'origin', O: 'origin with merging snapshot', s: 'snapshot', S: 'merging snapshot', t: 'thin pool',
  T: 'thin pool data', V: 'thin volume', e: 'raid or pool metadata or pool metadata spare', '-': 'plain',
  m: 'mirrored', M: 'mirrored without initial sync', i: 'mirror or raid image', I: 'image out of sync',
  l: 'log device', p: 'pvmove', r: 'raid', R: 'raid without initial sync', v: 'virtual', C: 'cache',
  d: 'vdo pool', D: 'vdo pool data', w: 'writecache',
} as const satisfies Record<string, string>;

export interface LvInfo {
  /** Without lvm2's [brackets] for hidden LVs. */
  name: string;
  hidden: boolean;
  vg: string;
  uuid: string;
  /** /dev/vg/lv; null for hidden and pool LVs, which have no /dev/vg link. */
  path: string | null;
  dmPath: string | null;
  attr: string;
  size: number;
  segtype: string;
  kind: LvKind;
  pool: string | null;
  origin: string | null;
  dataPercent: number | null;
  metadataPercent: number | null;
  metadataSize: number | null;
  active: boolean;
  open: boolean;
  merging: boolean;
  whenFull: string | null;
  time: string | null;
  tags: string[];
  health: string | null;
}

function lvKind(segtype: string, attr: string, origin: string | null, hidden: boolean): LvKind {
  if (hidden) return 'internal';
  if (segtype === 'thin-pool') return 'thin-pool';
  if (segtype === 'thin') return origin ? 'thin-snapshot' : 'thin';
  if (attr[0] === 's' || attr[0] === 'S') return 'snapshot';
  if (segtype === 'linear' || segtype === 'striped') return 'linear';
  return 'other';
}

export function parseLvs(stdout: string): LvInfo[] {
  return reportRows('lv', stdout).map((r) => {
    const raw = str(r, 'lv_name');
    const hidden = raw.startsWith('[') && raw.endsWith(']');
    const attr = str(r, 'lv_attr');
    const segtype = str(r, 'segtype');
    const origin = optStr(r, 'origin');
    return {
      name: hidden ? raw.slice(1, -1) : raw, hidden, vg: str(r, 'vg_name'), uuid: str(r, 'lv_uuid'),
      path: optStr(r, 'lv_path'), dmPath: optStr(r, 'lv_dm_path'), attr, size: int(r, 'lv_size'), segtype,
      kind: lvKind(segtype, attr, origin, hidden), pool: optStr(r, 'pool_lv'), origin,
      dataPercent: percent(r, 'data_percent'), metadataPercent: percent(r, 'metadata_percent'),
      metadataSize: optInt(r, 'lv_metadata_size'), active: flag(r, 'lv_active'), open: flag(r, 'lv_device_open'),
      merging: flag(r, 'lv_merging'), whenFull: optStr(r, 'lv_when_full'), time: optStr(r, 'lv_time'),
      tags: tags(r, 'lv_tags'), health: optStr(r, 'lv_health_status'),
    };
  });
}

/** `lvm version` → [major, minor, patch] of "LVM version: 2.03.31(2) (2025-02-27)". */
export function parseLvmVersion(stdout: string): [number, number, number] {
  const m = /LVM version:\s*(\d+)\.(\d+)\.(\d+)/.exec(stdout);
  if (!m) throw new ReportParseError('no "LVM version:" line', stdout.trim());
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** json_std arrived in lvm2 2.03.17 (Debian 12 ships 2.03.16: json only). */
export function reportFormatFor(version: readonly [number, number, number]): ReportFormat {
  const [a, b, c] = version;
  const atLeast = a > 2 || (a === 2 && (b > 3 || (b === 3 && c >= 17)));
  return atLeast ? 'json_std' : 'json';
}
