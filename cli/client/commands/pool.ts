/** `openlun pool show`: the storage overview (GET /api/storage), or LUN totals from a server without that route;
 *  `pool list|create|extend` are the thin pools (pools.ts). */
import type { Lun } from '../../../api/src/store/types.ts';
import { ApiError } from '../api.ts';
import { HelpRequested, UsageError, parseCommand } from '../args.ts';
import { makeContext } from '../context.ts';
import { fields, formatBytes, renderAny } from '../output.ts';
import { THIN_POOL_USAGE, thinPoolCommand } from './pools.ts';

export const POOL_USAGE = `usage: openlun pool show
${THIN_POOL_USAGE}

show: the appliance's storage: the mode (LVM or the file pool), the file pool's size and free space or the volume
groups and thin pools (GET /api/storage). A server without that route gets the totals of its LUNs instead
(--json: {"storage": null, "luns": {count, provisionedBytes, byBacking}}).`;

export async function poolCommand(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === '--help' || verb === '-h' || verb === 'help') throw new HelpRequested(POOL_USAGE);
  if (verb === 'list' || verb === 'create' || verb === 'extend') return thinPoolCommand(verb, rest, POOL_USAGE);
  if (verb !== 'show') throw new UsageError(verb === undefined ? 'missing pool command' : `unknown pool command "${verb}"`, POOL_USAGE);
  const { values } = parseCommand(POOL_USAGE, rest, {});
  const ctx = makeContext(values, POOL_USAGE);
  const api = ctx.api();
  try {
    const storage = await api.get<unknown>('/api/storage');
    ctx.print(storage, () => renderAny(storage));
    return 0;
  } catch (err) {
    if (!(err instanceof ApiError && err.routeMissing)) throw err;
  }
  const luns = await api.get<Lun[]>('/api/luns');
  const sum = (ls: Lun[]): number => ls.reduce((n, l) => n + l.sizeBytes, 0);
  const byBacking = { file: sum(luns.filter((l) => l.backing === 'file')), lv: sum(luns.filter((l) => l.backing === 'lv')) };
  const totals = { count: luns.length, provisionedBytes: sum(luns), byBacking };
  ctx.print({ storage: null, luns: totals }, () =>
    'this server does not support the storage overview (GET /api/storage); LUN totals instead:\n' +
      fields([
        ['LUNs', String(totals.count)],
        ['provisioned', formatBytes(totals.provisionedBytes)],
        ['in the file pool', formatBytes(byBacking.file)],
        ['on LVs', formatBytes(byBacking.lv)],
      ]),
  );
  return 0;
}
