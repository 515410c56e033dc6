/**
 * GET /metrics in the Prometheus text exposition format 0.0.4: per-LUN counters and latency histogram from the
 * target daemon, sessions per target, the file pool's filesystem usage and (LVM mode) each thin pool's use. Read-only role is enough (scrapers use
 * an API token: `Authorization: Bearer olt_…`). Without an answer from targetd the scrape fails with 503, so
 * Prometheus marks the target down instead of recording zeros.
 */
import { statfs } from 'node:fs/promises';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { HttpError } from '../auth/principal.ts';
import { ErrorBody, responses } from '../schemas.ts';
import { TargetControlError, type TargetClient } from '../target-client.ts';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** What targetd's `stats` op reports per LUN (target/src/scsi/stats.ts LunCounters). */
export interface LunStatsSample {
  lun: number;
  backstore?: string | undefined;
  readOps: number;
  writeOps: number;
  otherOps: number;
  readBytes: number;
  writeBytes: number;
  errors: number;
  inFlight: number;
  latency: { bucketsUs: readonly number[]; counts: readonly number[]; sumUs: number };
}
export interface TargetStatsSample {
  target: string;
  luns: LunStatsSample[];
}
export interface SessionSample {
  kind: string;
  target?: string | undefined;
}
export interface PoolUsage {
  sizeBytes: number;
  usedBytes: number;
  freeBytes: number;
}
/** One LVM thin pool (lvs data_percent / metadata_percent); the LUNs in it run out of space when it fills. */
export interface ThinPoolSample {
  vg: string;
  pool: string;
  sizeBytes: number;
  usedBytes: number;
  dataPercent: number;
  metadataPercent: number;
  virtualBytes: number;
}
export interface MetricsInput {
  stats: TargetStatsSample[];
  sessions: SessionSample[];
  pool?: PoolUsage | undefined;
  thinPools?: ThinPoolSample[] | undefined;
}

type MetricType = 'counter' | 'gauge' | 'histogram';
type LunCounterField = 'readOps' | 'writeOps' | 'otherOps' | 'readBytes' | 'writeBytes' | 'errors';

// Prometheus naming: base units (bytes, seconds), counters end in _total
const LUN_COUNTERS = [
  { name: 'openlun_lun_read_ops_total', field: 'readOps', help: 'SCSI READ commands completed' },
  { name: 'openlun_lun_write_ops_total', field: 'writeOps', help: 'SCSI WRITE commands completed (WRITE, WRITE AND VERIFY, WRITE SAME, COMPARE AND WRITE)' },
  { name: 'openlun_lun_other_ops_total', field: 'otherOps', help: 'SCSI commands that move no user data (INQUIRY, TEST UNIT READY, ...)' },
  { name: 'openlun_lun_read_bytes_total', field: 'readBytes', help: 'bytes read by initiators' },
  { name: 'openlun_lun_write_bytes_total', field: 'writeBytes', help: 'bytes written by initiators' },
  { name: 'openlun_lun_errors_total', field: 'errors', help: 'commands that ended in a status other than GOOD' },
] as const satisfies ReadonlyArray<{ name: string; field: LunCounterField; help: string }>;

/** Exposition format 0.0.4: in label values, backslash, double quote and line feed are escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Exposition format 0.0.4: in HELP text, backslash and line feed are escaped. */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function labels(l: Record<string, string | number>): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${escapeLabelValue(String(v))}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

/** Go's ParseFloat reads JavaScript's number text (including 1e-7 and +Inf); integers stay exact. */
function num(n: number): string {
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return Number.isNaN(n) ? 'NaN' : String(n);
}

class Exposition {
  readonly #lines: string[] = [];
  family(name: string, type: MetricType, help: string): void {
    this.#lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
  }
  sample(name: string, l: Record<string, string | number>, value: number): void {
    this.#lines.push(`${name}${labels(l)} ${num(value)}`);
  }
  text(): string {
    return this.#lines.join('\n') + '\n';
  }
}

/** The metrics page for one scrape (pure: the route gathers the input). */
export function renderMetrics(input: MetricsInput): string {
  const out = new Exposition();
  const luns = input.stats.flatMap((t) => t.luns.map((l) => ({ target: t.target, l })));

  for (const c of LUN_COUNTERS) {
    out.family(c.name, 'counter', c.help);
    for (const { target, l } of luns) out.sample(c.name, { target, lun: l.lun }, l[c.field]);
  }
  out.family('openlun_lun_in_flight', 'gauge', 'commands received and not yet answered');
  for (const { target, l } of luns) out.sample('openlun_lun_in_flight', { target, lun: l.lun }, l.inFlight);

  // targetd keeps per-bucket counts in microseconds with an overflow bucket last; Prometheus wants cumulative
  // counts per upper bound in seconds, ending in le="+Inf" equal to _count
  const h = 'openlun_lun_latency_seconds';
  out.family(h, 'histogram', 'command latency from receipt to the response, in seconds');
  for (const { target, l } of luns) {
    let cumulative = 0;
    l.latency.bucketsUs.forEach((bound, i) => {
      cumulative += l.latency.counts[i] ?? 0;
      out.sample(`${h}_bucket`, { target, lun: l.lun, le: num(bound / 1e6) }, cumulative);
    });
    const total = l.latency.counts.reduce((a, b) => a + b, 0);
    out.sample(`${h}_bucket`, { target, lun: l.lun, le: '+Inf' }, total);
    out.sample(`${h}_sum`, { target, lun: l.lun }, l.latency.sumUs / 1e6);
    out.sample(`${h}_count`, { target, lun: l.lun }, total);
  }

  // every configured target appears, with 0 when nobody is logged in, so a dashboard can tell 0 from "unknown"
  const perTarget = new Map<string, number>(input.stats.map((t) => [t.target.toLowerCase(), 0]));
  const display = new Map<string, string>(input.stats.map((t) => [t.target.toLowerCase(), t.target]));
  let discovery = 0;
  for (const s of input.sessions) {
    if (s.kind !== 'Normal' || !s.target) {
      discovery++;
      continue;
    }
    // RFC 7143 §4.2.7.1: iSCSI names compare case-insensitively
    const key = s.target.toLowerCase();
    perTarget.set(key, (perTarget.get(key) ?? 0) + 1);
    if (!display.has(key)) display.set(key, s.target);
  }
  out.family('openlun_target_sessions', 'gauge', 'normal iSCSI sessions logged in to the target');
  for (const [key, n] of perTarget) out.sample('openlun_target_sessions', { target: display.get(key)! }, n);
  out.family('openlun_discovery_sessions', 'gauge', 'discovery sessions logged in');
  out.sample('openlun_discovery_sessions', {}, discovery);

  if (input.pool) {
    out.family('openlun_pool_size_bytes', 'gauge', 'size of the filesystem holding the file pool');
    out.sample('openlun_pool_size_bytes', {}, input.pool.sizeBytes);
    out.family('openlun_pool_used_bytes', 'gauge', 'bytes in use on the filesystem holding the file pool');
    out.sample('openlun_pool_used_bytes', {}, input.pool.usedBytes);
    out.family('openlun_pool_free_bytes', 'gauge', 'bytes still available to the file pool (unprivileged)');
    out.sample('openlun_pool_free_bytes', {}, input.pool.freeBytes);
  }
  if (input.thinPools?.length) {
    const families = [
      { name: 'openlun_thin_pool_size_bytes', help: 'data size of the LVM thin pool', value: (t: ThinPoolSample) => t.sizeBytes },
      { name: 'openlun_thin_pool_used_bytes', help: 'data in use in the LVM thin pool', value: (t: ThinPoolSample) => t.usedBytes },
      { name: 'openlun_thin_pool_data_ratio', help: 'data use of the thin pool, 0-1 (lvs data_percent / 100)', value: (t: ThinPoolSample) => t.dataPercent / 100 },
      { name: 'openlun_thin_pool_metadata_ratio', help: 'metadata use of the thin pool, 0-1 (a full metadata LV stops the pool too)', value: (t: ThinPoolSample) => t.metadataPercent / 100 },
      { name: 'openlun_thin_pool_virtual_bytes', help: 'sum of the virtual sizes of the thin volumes in the pool (above size: overcommitted)', value: (t: ThinPoolSample) => t.virtualBytes },
    ] as const;
    for (const f of families) {
      out.family(f.name, 'gauge', f.help);
      for (const t of input.thinPools) out.sample(f.name, { vg: t.vg, pool: t.pool }, f.value(t));
    }
  }
  return out.text();
}

/** statfs(2) of the pool directory; bavail (not bfree): the blocks reserved for root are not the pool's. */
export async function poolUsage(dir: string): Promise<PoolUsage> {
  const s = await statfs(dir);
  return { sizeBytes: s.blocks * s.bsize, usedBytes: (s.blocks - s.bfree) * s.bsize, freeBytes: s.bavail * s.bsize };
}

export function metricsRoutes(target: TargetClient) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/metrics', {
      schema: {
        tags: ['live'],
        summary: 'Prometheus metrics (text exposition format 0.0.4); an API token of a read-only user is enough',
        produces: ['text/plain'],
        response: { ...responses({ 200: Type.String({ description: METRICS_CONTENT_TYPE }) }), 503: ErrorBody },
      },
    }, async (_request, reply) => {
      let stats: TargetStatsSample[];
      let sessions: SessionSample[];
      try {
        [stats, sessions] = await Promise.all([
          target.request<{ targets: TargetStatsSample[] }>('stats').then((r) => r.targets),
          target.request<{ sessions: SessionSample[] }>('sessions').then((r) => r.sessions),
        ]);
      } catch (err) {
        if (err instanceof TargetControlError) throw new HttpError(503, 'target-unavailable', `no metrics: ${err.message}`);
        throw err;
      }
      // the pool's filesystem may be gone (unmounted disk): the LUN metrics are still worth a scrape
      const pool = await poolUsage(app.openlun.store.pool.dir).catch((err: Error) => {
        app.log.warn(`metrics: statfs of the file pool failed: ${err.message}`);
        return undefined;
      });
      const lvm = app.openlun.storage.lvm;
      const thinPools = lvm
        ? await lvm.poolUsage().then(
            (all) => all.map((u) => ({ vg: u.vg, pool: u.pool, sizeBytes: u.size, usedBytes: u.usedBytes, dataPercent: u.dataPercent, metadataPercent: u.metadataPercent, virtualBytes: u.virtualSize })),
            (err: Error) => {
              app.log.warn(`metrics: thin pool usage failed: ${err.message}`);
              return undefined;
            },
          )
        : undefined;
      return reply.type(METRICS_CONTENT_TYPE).send(renderMetrics({ stats, sessions, pool, thinPools }));
    });
  };
}
