/**
 * The three live charts' series, from the stream's totals (pure: no DOM, no uPlot; tested in
 * ui/test/live-series.test.ts). uPlot takes columns: x (seconds since the epoch), then one array per series.
 */
import type { StatsPoint } from '../live-events.ts';
import { formatCompact, formatCompactBytes, formatLatency } from '../live-format.ts';

export type ChartKind = 'iops' | 'throughput' | 'latency';

export interface SeriesSpec {
  label: string;
  /** a theme token (custom property) for the line colour, with a fallback */
  colorVar: string;
  fallback: string;
  pick: (p: StatsPoint) => number | null;
}

export interface ChartSpec {
  title: string;
  series: SeriesSpec[];
  /** a y-axis tick label */
  axis: (v: number) => string;
  /** the smallest top of the y axis, so an idle chart is a flat line at the bottom, not noise blown up */
  minTop: number;
}

export const CHARTS: Record<ChartKind, ChartSpec> = {
  iops: {
    title: 'IOPS',
    series: [
      { label: 'Read', colorVar: '--chart-read', fallback: '#1d4ed8', pick: (p) => p.readIops },
      { label: 'Write', colorVar: '--chart-write', fallback: '#d9480f', pick: (p) => p.writeIops },
    ],
    axis: formatCompact,
    minTop: 10,
  },
  throughput: {
    title: 'Throughput',
    series: [
      { label: 'Read', colorVar: '--chart-read', fallback: '#1d4ed8', pick: (p) => p.readBytesPerSec },
      { label: 'Write', colorVar: '--chart-write', fallback: '#d9480f', pick: (p) => p.writeBytesPerSec },
    ],
    axis: (v) => `${formatCompactBytes(v)}/s`,
    minTop: 1024 * 1024,
  },
  latency: {
    title: 'Latency',
    series: [{ label: 'Average', colorVar: '--chart-latency', fallback: '#0b7285', pick: (p) => p.latencyUs }],
    axis: (v) => formatLatency(v).replace(' ', ''),
    minTop: 1000,
  },
};

/** Columns for uPlot: [x seconds, series...]; a null is a gap (nothing completed in that interval). */
export function toColumns(kind: ChartKind, points: readonly StatsPoint[]): [number[], ...Array<Array<number | null>>] {
  const spec = CHARTS[kind];
  const xs = points.map((p) => p.at / 1000);
  return [xs, ...spec.series.map((s) => points.map((p) => s.pick(p)))];
}

/** The y range: from 0 to a little above the largest value, never below the chart's minimum top. */
export function yRange(kind: ChartKind, max: number | null | undefined): [number, number] {
  const top = Math.max(CHARTS[kind].minTop, Number.isFinite(max ?? NaN) ? (max as number) * 1.15 : 0);
  return [0, top];
}

/** "#1d4ed8" → "rgba(29, 78, 216, 0.15)" for the area under a line; other colour syntaxes get no fill. */
export function translucent(color: string, alpha: number): string | undefined {
  const m = /^#([0-9a-f]{6})$/i.exec(color.trim());
  if (!m) return undefined;
  const n = parseInt(m[1]!, 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}
