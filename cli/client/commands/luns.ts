/** `openlun lun …`: file-pool (or LV) LUNs over /api/luns. */
import type { Lun, LunMapping, Target } from '../../../api/src/store/types.ts';
import { HelpRequested, UsageError, parseCommand } from '../args.ts';
import { makeContext } from '../context.ts';
import { findLun } from '../lookup.ts';
import { fields, formatBytes, parseSize, table } from '../output.ts';
import { confirmDestructive } from './confirm.ts';

export const LUN_USAGE = `usage: openlun lun list
       openlun lun show NAME
       openlun lun create NAME --size SIZE [--block-size 512|4096] [--read-only] [--write-through]
                              [--vg VG [--thin-pool POOL] | --lv-path /dev/VG/LV]
       openlun lun resize NAME --size SIZE
       openlun lun set NAME [--read-only | --read-write] [--write-through | --write-back]
       openlun lun delete NAME [--force] [--delete-data [--yes]]

SIZE is bytes or a number with K, M, G, T (powers of 1024: 10G = 10 GiB). A LUN is a sparse file in the file pool
unless --vg (a new LV, thin in --thin-pool; --pool is the same) or --lv-path (an existing LV) says otherwise.
delete refuses a LUN that a target maps while initiators are logged in unless --force; the backing data is kept
unless --delete-data, which at a terminal asks you to type the LUN's name (a script adds --yes).`;

function sizeArg(text: string | undefined): number {
  if (text === undefined) throw new UsageError('--size is required', LUN_USAGE);
  const n = parseSize(text);
  if (n === undefined) throw new UsageError(`--size wants a size like 10G, 512M or 1073741824, got "${text}"`, LUN_USAGE);
  return n;
}

function flags(l: Lun): string {
  return [l.readOnly ? 'read-only' : 'read-write', l.writeCache].join(',');
}

export async function lunCommand(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  switch (verb) {
    case 'list': {
      const { values } = parseCommand(LUN_USAGE, rest, {});
      const ctx = makeContext(values, LUN_USAGE);
      const api = ctx.api();
      const luns = await api.get<Lun[]>('/api/luns');
      const [mappings, targets] = ctx.json ? [[], []] : await Promise.all([api.get<LunMapping[]>('/api/mappings'), api.get<Target[]>('/api/targets')]);
      const iqn = new Map(targets.map((t) => [t.id, t.iqn]));
      ctx.print(luns, () =>
        luns.length === 0
          ? 'no LUNs (create one: openlun lun create NAME --size 10G)\n'
          : table(
              ['NAME', 'SIZE', 'BLOCK', 'BACKING', 'FLAGS', 'MAPPED', 'NAA'],
              luns.map((l) => {
                const where = mappings.filter((m) => m.lunId === l.id).map((m) => `${iqn.get(m.targetId)}/${m.lun}`);
                return [l.name, formatBytes(l.sizeBytes), String(l.blockSize), l.backing, flags(l), where.join(' ') || '-', l.naaId];
              }),
            ),
      );
      return 0;
    }
    case 'show': {
      const { values, positionals } = parseCommand(LUN_USAGE, rest, {}, [1, 1]);
      const ctx = makeContext(values, LUN_USAGE);
      const api = ctx.api();
      const lun = await findLun(api, positionals[0]!);
      const [mappings, targets] = await Promise.all([api.get<LunMapping[]>('/api/mappings'), api.get<Target[]>('/api/targets')]);
      const mapped = mappings.filter((m) => m.lunId === lun.id).map((m) => ({ target: targets.find((t) => t.id === m.targetId)?.iqn ?? String(m.targetId), lun: m.lun }));
      ctx.print({ ...lun, mappings: mapped }, () =>
        fields([
          ['name', lun.name],
          ['size', `${formatBytes(lun.sizeBytes)} (${lun.sizeBytes} bytes)`],
          ['block size', String(lun.blockSize)],
          ['backing', `${lun.backing} ${lun.path}`],
          ['access', lun.readOnly ? 'read-only' : 'read-write'],
          ['write cache', lun.writeCache],
          ['serial', lun.serial],
          ['NAA id', lun.naaId],
          ['created', new Date(lun.createdAt).toISOString()],
          ['mapped', mapped.map((m) => `${m.target} LUN ${m.lun}`).join(', ') || 'nowhere'],
        ]),
      );
      return 0;
    }
    case 'create': {
      const { values, positionals } = parseCommand(
        LUN_USAGE,
        rest,
        {
          size: { type: 'string' },
          'block-size': { type: 'string', default: '512' },
          'read-only': { type: 'boolean', default: false },
          'write-through': { type: 'boolean', default: false },
          vg: { type: 'string' },
          pool: { type: 'string' },
          'thin-pool': { type: 'string' },
          'lv-path': { type: 'string' },
        },
        [1, 1],
      );
      const sizeBytes = sizeArg(values.size);
      const blockSize = values['block-size'] === '4096' ? 4096 : values['block-size'] === '512' ? 512 : undefined;
      if (blockSize === undefined) throw new UsageError(`--block-size must be 512 or 4096, got "${values['block-size']}"`, LUN_USAGE);
      if (values.vg && values['lv-path']) throw new UsageError('give either --vg or --lv-path, not both', LUN_USAGE);
      if (values.pool && values['thin-pool'] && values.pool !== values['thin-pool']) throw new UsageError('--pool and --thin-pool name the same thing; give one', LUN_USAGE);
      const thinPool = values['thin-pool'] ?? values.pool;
      if (thinPool && !values.vg) throw new UsageError('--thin-pool needs --vg', LUN_USAGE);
      const ctx = makeContext(values, LUN_USAGE);
      const body = {
        name: positionals[0]!,
        sizeBytes,
        blockSize,
        ...(values.vg ? { backing: 'lv', vg: values.vg, ...(thinPool ? { pool: thinPool } : {}) } : values['lv-path'] ? { backing: 'lv', lvPath: values['lv-path'] } : { backing: 'file' }),
        ...(values['read-only'] ? { readOnly: true } : {}),
        ...(values['write-through'] ? { writeCache: 'write-through' } : {}),
      };
      const lun = await ctx.api().call<Lun>('POST', '/api/luns', body);
      ctx.print(lun, () => `created LUN ${lun.name}: ${formatBytes(lun.sizeBytes)}, ${lun.blockSize}-byte blocks, ${lun.backing} ${lun.path}, NAA ${lun.naaId}\n`);
      return 0;
    }
    case 'resize': {
      const { values, positionals } = parseCommand(LUN_USAGE, rest, { size: { type: 'string' } }, [1, 1]);
      const sizeBytes = sizeArg(values.size);
      const ctx = makeContext(values, LUN_USAGE);
      const api = ctx.api();
      const lun = await findLun(api, positionals[0]!);
      const updated = await api.call<Lun>('PATCH', `/api/luns/${lun.id}`, { sizeBytes });
      ctx.print(updated, () => `LUN ${updated.name}: ${formatBytes(lun.sizeBytes)} → ${formatBytes(updated.sizeBytes)}\n`);
      return 0;
    }
    case 'set': {
      const { values, positionals } = parseCommand(
        LUN_USAGE,
        rest,
        { 'read-only': { type: 'boolean' }, 'read-write': { type: 'boolean' }, 'write-through': { type: 'boolean' }, 'write-back': { type: 'boolean' } },
        [1, 1],
      );
      if (values['read-only'] && values['read-write']) throw new UsageError('give either --read-only or --read-write', LUN_USAGE);
      if (values['write-through'] && values['write-back']) throw new UsageError('give either --write-through or --write-back', LUN_USAGE);
      const patch = {
        ...(values['read-only'] ? { readOnly: true } : values['read-write'] ? { readOnly: false } : {}),
        ...(values['write-through'] ? { writeCache: 'write-through' } : values['write-back'] ? { writeCache: 'write-back' } : {}),
      };
      if (Object.keys(patch).length === 0) throw new UsageError('nothing to change: give --read-only, --read-write, --write-through or --write-back', LUN_USAGE);
      const ctx = makeContext(values, LUN_USAGE);
      const api = ctx.api();
      const lun = await findLun(api, positionals[0]!);
      const updated = await api.call<Lun>('PATCH', `/api/luns/${lun.id}`, patch);
      ctx.print(updated, () => `LUN ${updated.name}: ${flags(updated)}\n`);
      return 0;
    }
    case 'delete': {
      const { values, positionals } = parseCommand(
        LUN_USAGE, rest, { force: { type: 'boolean', default: false }, 'delete-data': { type: 'boolean', default: false }, yes: { type: 'boolean', default: false } }, [1, 1],
      );
      const ctx = makeContext(values, LUN_USAGE);
      const api = ctx.api();
      const lun = await findLun(api, positionals[0]!);
      if (values['delete-data']) await confirmDestructive({ yes: values.yes, consequence: `lun delete --delete-data destroys the data of LUN ${lun.name} (${lun.path})`, typed: lun.name });
      const q = new URLSearchParams({ ...(values.force ? { force: 'true' } : {}), ...(values['delete-data'] ? { deleteData: 'true' } : {}) }).toString();
      await api.call('DELETE', `/api/luns/${lun.id}${q ? `?${q}` : ''}`);
      ctx.print({ deleted: lun }, () => `deleted LUN ${lun.name}${values['delete-data'] ? ' and its data' : ` (data kept in ${lun.path})`}\n`);
      return 0;
    }
    case undefined:
      throw new UsageError('missing lun command', LUN_USAGE);
    case '--help':
    case '-h':
    case 'help':
      throw new HelpRequested(LUN_USAGE);
    default:
      throw new UsageError(`unknown lun command "${verb}"`, LUN_USAGE);
  }
}
