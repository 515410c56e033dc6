/** How live numbers read on the dashboard and the sessions page: rates, latencies, durations, percentages. */
import { formatBytes } from './format.ts';

const intFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const oneFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

/** "1,234 IOPS"; fractions below 10 keep one digit so a trickle does not read as 0 */
export function formatIops(v: number): string {
  return `${v > 0 && v < 10 ? oneFmt.format(v) : intFmt.format(v)} IOPS`;
}

export function formatRate(bytesPerSec: number | null | undefined): string {
  if (bytesPerSec === null || bytesPerSec === undefined || !Number.isFinite(bytesPerSec)) return '—';
  return `${formatBytes(Math.max(0, bytesPerSec))}/s`;
}

/** microseconds as µs below a millisecond, else ms */
export function formatLatency(us: number | null | undefined): string {
  if (us === null || us === undefined || !Number.isFinite(us)) return '—';
  if (us < 1000) return `${intFmt.format(us)} µs`;
  if (us < 10_000) return `${(us / 1000).toFixed(2)} ms`;
  return `${oneFmt.format(us / 1000)} ms`;
}

export function formatPercent(fraction: number): string {
  return `${oneFmt.format(Math.max(0, fraction) * 100)} %`;
}

/** "3 d 4 h", "2 h 5 min", "4 min", "12 s" */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min`;
  return `${s} s`;
}

/** How long ago an ISO time was, from `now` (ms). */
export function formatSince(iso: string, now: number): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  return `${formatDuration((now - t) / 1000)} ago`;
}

/** A compact axis label: 1.2k, 3.4M */
export function formatCompact(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${oneFmt.format(v / 1e9)}G`;
  if (a >= 1e6) return `${oneFmt.format(v / 1e6)}M`;
  if (a >= 1e3) return `${oneFmt.format(v / 1e3)}k`;
  return oneFmt.format(v);
}

/** Bytes per second on an axis: binary units, short */
export function formatCompactBytes(v: number): string {
  const units = ['B', 'K', 'M', 'G', 'T'];
  let x = Math.abs(v);
  let i = 0;
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return `${oneFmt.format(x)}${units[i]}`;
}

/**
 * A negotiated key as RFC 7143 §13 spells it ("maxBurstLength" → "MaxBurstLength"), with byte counts readable.
 * The target reports the keys camel-cased (target/src/iscsi/negotiator.ts NegotiatedParams).
 */
export function paramRows(params: Record<string, unknown>): Array<{ key: string; value: string }> {
  return Object.entries(params)
    .map(([k, v]) => {
      const key = k.charAt(0).toUpperCase() + k.slice(1);
      // the target reports digests as on/off: RFC 7143 §13.1 names them None / CRC32C
      let value = typeof v === 'boolean' ? (/Digest$/.test(key) ? (v ? 'CRC32C' : 'None') : v ? 'Yes' : 'No') : String(v);
      if (typeof v === 'number' && /Length|Segment/i.test(k) && v >= 1024) value = `${v} (${formatBytes(v)})`;
      return { key, value };
    })
    .sort((a, b) => a.key.localeCompare(b.key));
}
