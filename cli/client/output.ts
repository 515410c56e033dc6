/** What the client prints: aligned tables, sizes in binary units, and generic key/value rendering for JSON it does
 *  not know the shape of (a newer server's storage overview). */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;
const SIZE_SUFFIX: Record<string, number> = { '': 1, B: 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40, P: 2 ** 50 };

/** "10G", "10GiB", "1.5T", "4096" → bytes. K/M/G/T/P are powers of 1024 (what block storage means by them). */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGTP]?)(?:i?B)?$/i.exec(text.trim());
  if (!m) return undefined;
  const bytes = Number(m[1]) * SIZE_SUFFIX[m[2]!.toUpperCase()]!;
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}

export function formatBytes(bytes: number): string {
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  const text = i === 0 || Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 2 : 1).replace(/\.?0+$/, '');
  return `${text} ${UNITS[i]}`;
}

/** Columns padded to the widest cell; the last column is not padded (no trailing blanks). */
export function table(headers: string[], rows: string[][]): string {
  if (rows.length === 0) return '';
  const all = [headers, ...rows];
  const widths = headers.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  return all.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd()).join('\n') + '\n';
}

/** Aligned "key: value" lines. */
export function fields(pairs: Array<[string, string]>): string {
  const w = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${(k + ':').padEnd(w + 2)}${v}`).join('\n') + '\n';
}

function scalar(key: string, v: unknown): string {
  if (typeof v === 'number' && /bytes$/i.test(key)) return formatBytes(v);
  if (v === null || v === undefined) return '-';
  return String(v);
}

/**
 * Any JSON as indented text: scalars as "key: value" (…Bytes keys as sizes), arrays of flat objects as tables,
 * nested objects as indented sections.
 */
export function renderAny(value: unknown, indent = ''): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return `${indent}(none)\n`;
    const flat = value.every((v) => v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => x === null || typeof x !== 'object'));
    if (flat) {
      const keys = [...new Set(value.flatMap((v) => Object.keys(v as object)))];
      const t = table(keys.map((k) => k.toUpperCase()), value.map((v) => keys.map((k) => scalar(k, (v as Record<string, unknown>)[k]))));
      return t.split('\n').filter(Boolean).map((l) => indent + l).join('\n') + '\n';
    }
    return value.map((v, i) => `${indent}- [${i}]\n${renderAny(v, indent + '  ')}`).join('');
  }
  if (value !== null && typeof value === 'object') {
    let s = '';
    for (const [k, v] of Object.entries(value)) {
      if (v !== null && typeof v === 'object') s += `${indent}${k}:\n${renderAny(v, indent + '  ')}`;
      else s += `${indent}${k}: ${scalar(k, v)}\n`;
    }
    return s;
  }
  return `${indent}${scalar('', value)}\n`;
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}
