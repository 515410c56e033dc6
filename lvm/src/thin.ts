// Thin pools and thin volumes: create, grow data and metadata, usage with overcommit, and threshold
// crossings (the target turns them into the thin-provisioning soft threshold unit attention, SBC-4 §4.7.3.7).
import type { LvmContext } from './context.ts';
import { RefusedError } from './errors.ts';
import { getLv, listLvs } from './lv.ts';
import { lvPath, percentArg, sizeArg } from './names.ts';
import type { LvInfo } from './report.ts';

export interface CreatePoolOptions {
  metadataBytes?: number;
  chunkBytes?: number;
}

export async function createPool(ctx: LvmContext, vg: string, name: string, bytes: number, opts: CreatePoolOptions = {}): Promise<LvInfo> {
  lvPath(vg, name);
  await ctx.run(['lvcreate', '--yes', '--type', 'thin-pool', '-L', sizeArg(bytes),
    ...(opts.metadataBytes ? ['--poolmetadatasize', sizeArg(opts.metadataBytes, 'metadata size')] : []),
    ...(opts.chunkBytes ? ['--chunksize', sizeArg(opts.chunkBytes, 'chunk size')] : []),
    '-n', name, vg]);
  return getLv(ctx, vg, name);
}

async function getPool(ctx: LvmContext, vg: string, name: string): Promise<LvInfo> {
  const lv = await getLv(ctx, vg, name);
  if (lv.kind !== 'thin-pool') throw new RefusedError('refused', `${vg}/${name} is not a thin pool (${lv.segtype})`);
  return lv;
}

export async function extendPoolData(ctx: LvmContext, vg: string, name: string, newBytes: number): Promise<LvInfo> {
  const pool = await getPool(ctx, vg, name);
  if (newBytes <= pool.size) throw new RefusedError('refused', `pool ${vg}/${name} is already ${pool.size} bytes`);
  await ctx.run(['lvextend', '-L', sizeArg(newBytes), lvPath(vg, name)]);
  return getPool(ctx, vg, name);
}

export async function extendPoolMetadata(ctx: LvmContext, vg: string, name: string, newBytes: number): Promise<LvInfo> {
  const pool = await getPool(ctx, vg, name);
  if (pool.metadataSize !== null && newBytes <= pool.metadataSize) {
    throw new RefusedError('refused', `pool ${vg}/${name} metadata is already ${pool.metadataSize} bytes`);
  }
  await ctx.run(['lvextend', '--poolmetadatasize', sizeArg(newBytes, 'metadata size'), lvPath(vg, name)]);
  return getPool(ctx, vg, name);
}

export async function createThin(ctx: LvmContext, vg: string, pool: string, name: string, virtualBytes: number): Promise<LvInfo> {
  lvPath(vg, name);
  await getPool(ctx, vg, pool);
  await ctx.run(['lvcreate', '--yes', '--type', 'thin', '-V', sizeArg(virtualBytes, 'virtual size'), '--thinpool', lvPath(vg, pool), '-n', name]);
  return getLv(ctx, vg, name);
}

export interface PoolUsage {
  vg: string;
  pool: string;
  size: number;
  metadataSize: number | null;
  dataPercent: number;
  metadataPercent: number;
  usedBytes: number;
  thinVolumes: string[];
  /** Sum of the thin volumes' virtual sizes. */
  virtualSize: number;
  /** virtualSize / size: above 1 the pool is overcommitted. */
  overcommit: number;
}

export function usageOf(pool: LvInfo, all: readonly LvInfo[]): PoolUsage {
  const thins = all.filter((l) => l.vg === pool.vg && l.pool === pool.name && (l.kind === 'thin' || l.kind === 'thin-snapshot'));
  const virtualSize = thins.reduce((s, l) => s + l.size, 0);
  const dataPercent = pool.dataPercent ?? 0;
  return {
    vg: pool.vg, pool: pool.name, size: pool.size, metadataSize: pool.metadataSize, dataPercent,
    metadataPercent: pool.metadataPercent ?? 0, usedBytes: Math.round((pool.size * dataPercent) / 100),
    thinVolumes: thins.map((l) => l.name), virtualSize, overcommit: pool.size ? virtualSize / pool.size : 0,
  };
}

export async function poolUsage(ctx: LvmContext, vg?: string): Promise<PoolUsage[]> {
  const all = await listLvs(ctx, vg);
  return all.filter((l) => l.kind === 'thin-pool').map((p) => usageOf(p, all));
}

export interface ThresholdEvent {
  vg: string;
  pool: string;
  metric: 'data' | 'metadata';
  percent: number;
  threshold: number;
  /** 'crossed': went to or above the threshold; 'cleared': back below it (minus hysteresis). */
  state: 'crossed' | 'cleared';
}

/** Remembers which pools are above their thresholds and reports only the crossings, once each way. */
export class PoolThresholdWatcher {
  private readonly above = new Set<string>();
  constructor(readonly thresholds: { data: number; metadata: number } = { data: 80, metadata: 80 }, readonly hysteresis = 2) {
    percentArg(thresholds.data, 'data threshold');
    percentArg(thresholds.metadata, 'metadata threshold');
  }

  update(usages: readonly PoolUsage[]): ThresholdEvent[] {
    const events: ThresholdEvent[] = [];
    for (const u of usages) {
      for (const metric of ['data', 'metadata'] as const) {
        const percent = metric === 'data' ? u.dataPercent : u.metadataPercent;
        const threshold = this.thresholds[metric];
        const key = `${u.vg}/${u.pool}/${metric}`;
        if (!this.above.has(key) && percent >= threshold) {
          this.above.add(key);
          events.push({ vg: u.vg, pool: u.pool, metric, percent, threshold, state: 'crossed' });
        } else if (this.above.has(key) && percent < threshold - this.hysteresis) {
          this.above.delete(key);
          events.push({ vg: u.vg, pool: u.pool, metric, percent, threshold, state: 'cleared' });
        }
      }
    }
    return events;
  }
}
