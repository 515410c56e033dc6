/** `openlun snapshot …`: point-in-time copies of a LUN, put back (rollback) or turned into a new LUN (clone). */
import type { SnapshotInfo } from '../../../api/src/storage/snapshots.ts';
import type { Lun } from '../../../api/src/store/types.ts';
import { HelpRequested, UsageError, parseCommand } from '../args.ts';
import { makeContext } from '../context.ts';
import { findLun } from '../lookup.ts';
import { formatBytes, parseSize, table } from '../output.ts';
import { confirmDestructive } from './confirm.ts';

export const SNAPSHOT_USAGE = `usage: openlun snapshot list LUN
       openlun snapshot create LUN NAME [--size SIZE]
       openlun snapshot rollback LUN SNAPSHOT [--force] [--yes]
       openlun snapshot clone LUN SNAPSHOT NEW-LUN
       openlun snapshot delete LUN SNAPSHOT

A snapshot is a sparse copy in the file pool, a thin snapshot of a thin LV, or a copy-on-write snapshot of a
linear LV (that one needs --size: the room for changes made after it; when it fills up the snapshot is lost).
rollback puts the LUN's data back as it was (same serial and NAA id; the LUN is offline meanwhile); everything
written since is lost, so at a terminal you type the LUN's name to confirm, and a script adds --yes. It is refused
while initiators are logged in unless --force. clone makes NEW-LUN (a new identity) holding the snapshot's data.
Scheduled snapshots are named auto-<schedule>-<time> (openlun schedule).`;

/** GET /api/luns/:id/snapshots answers the storage layer's own shape */
type Snapshot = SnapshotInfo;

const snapPath = (lun: Lun, snap?: string): string => `/api/luns/${lun.id}/snapshots${snap === undefined ? '' : `/${encodeURIComponent(snap)}`}`;
const when = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z'));

export async function snapshotCommand(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  const U = SNAPSHOT_USAGE;
  switch (verb) {
    case 'list': {
      const { values, positionals } = parseCommand(U, rest, {}, [1, 1]);
      const ctx = makeContext(values, U);
      const api = ctx.api();
      const lun = await findLun(api, positionals[0]!);
      const snaps = await api.get<Snapshot[]>(snapPath(lun));
      ctx.print(snaps, () =>
        snaps.length === 0
          ? `LUN ${lun.name} has no snapshots (openlun snapshot create ${lun.name} NAME)\n`
          : table(
              ['NAME', 'KIND', 'SIZE', 'COW', 'CREATED', 'SCHEDULE'],
              snaps.map((s) => [
                s.name, s.kind, formatBytes(s.sizeBytes), s.cowBytes === null ? '-' : `${formatBytes(s.cowBytes)} ${s.cowPercent ?? 0}% full`,
                when(s.createdAt), s.scheduleId === null ? '-' : String(s.scheduleId),
              ]),
            ),
      );
      return 0;
    }
    case 'create': {
      const { values, positionals } = parseCommand(U, rest, { size: { type: 'string' } }, [2, 2]);
      const sizeBytes = values.size === undefined ? undefined : parseSize(values.size);
      if (values.size !== undefined && sizeBytes === undefined) throw new UsageError(`--size wants a size like 1G or 512M, got "${values.size}"`, U);
      const ctx = makeContext(values, U);
      const api = ctx.api();
      const lun = await findLun(api, positionals[0]!);
      const snap = await api.call<Snapshot>('POST', snapPath(lun), { name: positionals[1]!, ...(sizeBytes !== undefined ? { sizeBytes } : {}) });
      ctx.print(snap, () => `LUN ${lun.name}: snapshot ${snap.name} taken (${snap.kind}${snap.cowBytes !== null ? `, ${formatBytes(snap.cowBytes)} for changes` : ''})\n`);
      return 0;
    }
    case 'rollback': {
      const { values, positionals } = parseCommand(U, rest, { force: { type: 'boolean', default: false }, yes: { type: 'boolean', default: false } }, [2, 2]);
      const [lunName, snap] = positionals as [string, string];
      const ctx = makeContext(values, U);
      const api = ctx.api();
      const lun = await findLun(api, lunName);
      await confirmDestructive({ yes: values.yes, consequence: `rollback puts LUN ${lun.name} back to snapshot ${snap}: everything written to it since is lost`, typed: lun.name });
      const r = await api.call<{ lun: Lun; snapshot: string; consumed: boolean }>('POST', `${snapPath(lun, snap)}/rollback${values.force ? '?force=true' : ''}`);
      ctx.print(r, () => `LUN ${lun.name} is back at snapshot ${snap}${r.consumed ? ' (the snapshot was merged into it and is gone)' : ''}\n`);
      return 0;
    }
    case 'clone': {
      const { values, positionals } = parseCommand(U, rest, {}, [3, 3]);
      const [lunName, snap, name] = positionals as [string, string, string];
      const ctx = makeContext(values, U);
      const api = ctx.api();
      const lun = await findLun(api, lunName);
      const clone = await api.call<Lun>('POST', `${snapPath(lun, snap)}/clone`, { name });
      ctx.print(clone, () => `created LUN ${clone.name} from snapshot ${snap} of ${lun.name}: ${formatBytes(clone.sizeBytes)}, ${clone.backing} ${clone.path}, NAA ${clone.naaId}\n`);
      return 0;
    }
    case 'delete': {
      const { values, positionals } = parseCommand(U, rest, {}, [2, 2]);
      const [lunName, snap] = positionals as [string, string];
      const ctx = makeContext(values, U);
      const api = ctx.api();
      const lun = await findLun(api, lunName);
      await api.call('DELETE', snapPath(lun, snap));
      ctx.print({ deleted: snap, lun: lun.name }, () => `LUN ${lun.name}: snapshot ${snap} deleted\n`);
      return 0;
    }
    case undefined:
      throw new UsageError('missing snapshot command', U);
    case '--help':
    case '-h':
    case 'help':
      throw new HelpRequested(U);
    default:
      throw new UsageError(`unknown snapshot command "${verb}"`, U);
  }
}
