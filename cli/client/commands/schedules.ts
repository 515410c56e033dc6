/** `openlun schedule …`: snapshots taken on a timer, the oldest pruned beyond --keep. */
import type { SnapshotSchedule } from '../../../api/src/storage/schedules.ts';
import type { Lun } from '../../../api/src/store/types.ts';
import { HelpRequested, UsageError, parseCommand, parseInteger } from '../args.ts';
import { makeContext } from '../context.ts';
import { findLun } from '../lookup.ts';
import { formatBytes, parseSize, table } from '../output.ts';

export const SCHEDULE_USAGE = `usage: openlun schedule list
       openlun schedule create LUN (--every MINUTES | --hourly | --daily | --weekly) --keep N [--size SIZE]
       openlun schedule delete ID

create snapshots LUN every MINUTES (at least 5) or hourly/daily/weekly and keeps the newest N of them (1-100);
older ones it made are deleted (manual snapshots are never touched). --size is the copy-on-write room for a
linear LV's snapshots. delete stops the schedule; the snapshots it took stay (openlun snapshot list LUN).`;

/** the snapshot-schedule routes answer the scheduler's own shape */
type Schedule = SnapshotSchedule;

const when = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString().replace(/:\d\d\.\d+Z$/, 'Z'));
const every = (s: Schedule): string => s.preset ?? (s.everyMinutes % 60 === 0 ? `every ${s.everyMinutes / 60} h` : `every ${s.everyMinutes} min`);

export async function scheduleCommand(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  const U = SCHEDULE_USAGE;
  switch (verb) {
    case 'list': {
      const { values } = parseCommand(U, rest, {});
      const ctx = makeContext(values, U);
      const api = ctx.api();
      const [schedules, luns] = await Promise.all([api.get<Schedule[]>('/api/snapshot-schedules'), api.get<Lun[]>('/api/luns')]);
      const lunName = new Map(luns.map((l) => [l.id, l.name]));
      ctx.print(schedules, () =>
        schedules.length === 0
          ? 'no snapshot schedules (openlun schedule create LUN --daily --keep 7)\n'
          : table(
              ['ID', 'LUN', 'EVERY', 'KEEP', 'NEXT', 'LAST', 'LAST ERROR'],
              schedules.map((s) => [String(s.id), lunName.get(s.lunId) ?? String(s.lunId), every(s), String(s.keep), when(s.nextRunAt), when(s.lastRunAt), s.lastError ?? '-']),
            ),
      );
      return 0;
    }
    case 'create': {
      const { values, positionals } = parseCommand(
        U, rest,
        { every: { type: 'string' }, hourly: { type: 'boolean' }, daily: { type: 'boolean' }, weekly: { type: 'boolean' }, keep: { type: 'string' }, size: { type: 'string' } },
        [1, 1],
      );
      const chosen = (['hourly', 'daily', 'weekly'] as const).filter((p) => values[p]);
      if (chosen.length + (values.every !== undefined ? 1 : 0) !== 1) throw new UsageError('give exactly one of --every MINUTES, --hourly, --daily, --weekly', U);
      if (values.keep === undefined) throw new UsageError('--keep N is required (how many of its snapshots to keep)', U);
      const keep = parseInteger(values.keep, '--keep', 1, 100, U);
      // the API's floor is 5 minutes; the ceiling here just keeps the number sane (a year)
      const everyMinutes = values.every !== undefined ? parseInteger(values.every, '--every', 5, 366 * 24 * 60, U) : undefined;
      const sizeBytes = values.size === undefined ? undefined : parseSize(values.size);
      if (values.size !== undefined && sizeBytes === undefined) throw new UsageError(`--size wants a size like 1G or 512M, got "${values.size}"`, U);
      const ctx = makeContext(values, U);
      const api = ctx.api();
      const lun = await findLun(api, positionals[0]!);
      const body = { lunId: lun.id, keep, ...(everyMinutes !== undefined ? { everyMinutes } : { preset: chosen[0] }), ...(sizeBytes !== undefined ? { sizeBytes } : {}) };
      const s = await api.call<Schedule>('POST', '/api/snapshot-schedules', body);
      ctx.print(s, () => `schedule ${s.id}: LUN ${lun.name} ${every(s)}, keeping ${s.keep}${s.sizeBytes ? `, ${formatBytes(s.sizeBytes)} COW each` : ''}; first at ${when(s.nextRunAt)}\n`);
      return 0;
    }
    case 'delete': {
      const { values, positionals } = parseCommand(U, rest, {}, [1, 1]);
      const id = parseInteger(positionals[0]!, 'ID', 1, Number.MAX_SAFE_INTEGER, U);
      const ctx = makeContext(values, U);
      await ctx.api().call('DELETE', `/api/snapshot-schedules/${id}`);
      ctx.print({ deleted: id }, () => `schedule ${id} deleted (its snapshots are kept)\n`);
      return 0;
    }
    case undefined:
      throw new UsageError('missing schedule command', U);
    case '--help':
    case '-h':
    case 'help':
      throw new HelpRequested(U);
    default:
      throw new UsageError(`unknown schedule command "${verb}"`, U);
  }
}
