/** Sizes as people type and read them: binary units (a "10 GiB" LUN is 10 × 2^30 bytes). */
export const SIZE_UNITS = { MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40 } as const satisfies Record<string, number>;
export type SizeUnit = keyof typeof SIZE_UNITS;

/** "10" GiB → bytes, or a message for the size field. */
export function parseSize(amount: string, unit: SizeUnit): { bytes: number } | { error: string } {
  const trimmed = amount.trim();
  if (!/^\d+(\.\d+)?$/.test(trimmed)) return { error: 'must be a positive number' };
  const bytes = Math.round(Number(trimmed) * SIZE_UNITS[unit]);
  if (bytes < 2 ** 20) return { error: 'must be at least 1 MiB' };
  if (!Number.isSafeInteger(bytes)) return { error: 'is too large' };
  return { bytes };
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const digits = v >= 100 || Number.isInteger(v) ? 0 : 1;
  return `${v.toFixed(digits)} ${units[i]}`;
}

/** A target name from a base IQN and a short name (RFC 7143 §4.2.7.2: iqn.yyyy-mm.reversed.domain[:unique]). */
export function targetIqn(baseIqn: string, shortName: string): string {
  const s = shortName.trim().toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '');
  return s ? `${baseIqn}:${s}` : baseIqn;
}

/**
 * An IQN (or a network) cut after each ':' and '.', the places a long name may wrap (RFC 7143 §4.2.7.2 builds names
 * from dot-separated parts and a ':' before the unique part): "iscsi-inq" stays whole instead of breaking at the '-'.
 */
export function nameSegments(name: string): string[] {
  return name.match(/[^:.]*[:.]|[^:.]+/g) ?? [name];
}

/** What went wrong, for a message on the page: an Error's message (ApiError carries the API's own), else the value. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
