/** `openlun pool list|create|extend`: thin pools, the LVM space thin LUNs and their snapshots draw from. */
import { UsageError, parseCommand } from '../args.ts';
import type { Parsed } from '../args.ts';
import { makeContext } from '../context.ts';
import { formatBytes, parseSize, table } from '../output.ts';
import type { ThinPoolReply } from '../../../api/src/routes/storage.ts';

export const THIN_POOL_USAGE = `       openlun pool list [--vg VG]
       openlun pool create VG NAME --size SIZE [--metadata-size SIZE]
       openlun pool extend VG NAME [--size SIZE] [--metadata-size SIZE]

list shows each thin pool's data and metadata use, the thin volumes in it and the overcommit (their virtual
sizes over the pool's size: above 1.00 the pool can fill before its LUNs do). create makes a thin pool of SIZE in
VG (lvm2 sizes the metadata unless --metadata-size); extend grows the data to --size and/or the metadata to
--metadata-size (sizes are the new totals; pools only grow). Thin LUNs: openlun lun create NAME --size S --vg VG
--thin-pool NAME.`;

type ThinPool = ThinPoolReply;

function sizeOption(text: string | undefined, option: string, usage: string): number | undefined {
  if (text === undefined) return undefined;
  const n = parseSize(text);
  if (n === undefined) throw new UsageError(`${option} wants a size like 10G, 512M or 1073741824, got "${text}"`, usage);
  return n;
}

const SIZES = { size: { type: 'string' }, 'metadata-size': { type: 'string' } } as const;
type SizeValues = Parsed<typeof SIZES>['values'];

function sizesBody(values: SizeValues, usage: string): { sizeBytes?: number; metadataBytes?: number } {
  const sizeBytes = sizeOption(values.size, '--size', usage);
  const metadataBytes = sizeOption(values['metadata-size'], '--metadata-size', usage);
  return { ...(sizeBytes !== undefined ? { sizeBytes } : {}), ...(metadataBytes !== undefined ? { metadataBytes } : {}) };
}

const percent = (used: number, mark: number): string => `${used.toFixed(1)}%${used >= mark ? ' (!)' : ''}`;

/** The thin-pool verbs of `openlun pool` (`usage` is the whole pool usage, show included). */
export async function thinPoolCommand(verb: 'list' | 'create' | 'extend', rest: string[], usage: string): Promise<number> {
  switch (verb) {
    case 'list': {
      const { values } = parseCommand(usage, rest, { vg: { type: 'string' } });
      const ctx = makeContext(values, usage);
      const pools = await ctx.api().get<ThinPool[]>(`/api/storage/pools${values.vg ? `?vg=${encodeURIComponent(values.vg)}` : ''}`);
      ctx.print(pools, () =>
        pools.length === 0
          ? 'no thin pools (openlun pool create VG NAME --size SIZE)\n'
          : table(
              ['VG', 'POOL', 'SIZE', 'DATA', 'METADATA', 'VOLUMES', 'VIRTUAL', 'OVERCOMMIT'],
              pools.map((p) => [
                p.vg, p.name, formatBytes(p.sizeBytes), percent(p.dataPercent, p.thresholds.data), percent(p.metadataPercent, p.thresholds.metadata),
                String(p.thinVolumes.length), formatBytes(p.virtualBytes), p.overcommit.toFixed(2),
              ]),
            ),
      );
      return 0;
    }
    case 'create': {
      const { values, positionals } = parseCommand(usage, rest, SIZES, [2, 2]);
      if (values.size === undefined) throw new UsageError('--size is required', usage);
      const body = { vg: positionals[0]!, name: positionals[1]!, ...sizesBody(values, usage) };
      const ctx = makeContext(values, usage);
      const pool = await ctx.api().call<ThinPool>('POST', '/api/storage/pools', body);
      ctx.print(pool, () => `created thin pool ${pool.vg}/${pool.name}: ${formatBytes(pool.sizeBytes)}${pool.metadataBytes ? `, ${formatBytes(pool.metadataBytes)} metadata` : ''}\n`);
      return 0;
    }
    case 'extend': {
      const { values, positionals } = parseCommand(usage, rest, SIZES, [2, 2]);
      const body = sizesBody(values, usage);
      if (Object.keys(body).length === 0) throw new UsageError('nothing to grow: give --size and/or --metadata-size', usage);
      const [vg, name] = positionals as [string, string];
      const ctx = makeContext(values, usage);
      const pool = await ctx.api().call<ThinPool>('PATCH', `/api/storage/pools/${encodeURIComponent(vg)}/${encodeURIComponent(name)}`, body);
      ctx.print(pool, () => `thin pool ${pool.vg}/${pool.name}: ${formatBytes(pool.sizeBytes)}${pool.metadataBytes ? `, ${formatBytes(pool.metadataBytes)} metadata` : ''}\n`);
      return 0;
    }
  }
}
