/** `openlun target list|show|create|delete|map|unmap|portal …`: targets, their LUN mappings and portals. */
import type { ChapInfo, InitiatorGroup, Lun, LunMapping, Portal, Target, TargetAcl } from '../../../api/src/store/types.ts';
import { CliError, HelpRequested, UsageError, parseCommand, parseInteger } from '../args.ts';
import { makeContext } from '../context.ts';
import { findLun, findTarget } from '../lookup.ts';
import { fields, table } from '../output.ts';

export const TARGET_CLIENT_USAGE = `usage: openlun target list
       openlun target show IQN
       openlun target create IQN [--alias ALIAS] [--portal ADDR[:PORT] ...]
       openlun target delete IQN [--force]
       openlun target map IQN LUN-NAME [--lun N]
       openlun target unmap IQN --lun N [--force]
       openlun target portal add|remove IQN ADDR[:PORT]

Targets on the appliance, through its API. IQN is an iSCSI name (iqn.YYYY-MM.reversed.domain[:name], eui.…, naa.…,
RFC 7143 §4.2.7). map gives the LUN the lowest free LUN number unless --lun N (0-1023). A portal's port defaults
to 3260; IPv6 addresses go in brackets: [2001:db8::1]:3260. delete and unmap refuse while initiators are logged
in to what they remove, unless --force.`;

// RFC 7143 §13.8: the well-known iSCSI port
const ISCSI_PORT = 3260;

/** ADDR, ADDR:PORT, [V6ADDR] or [V6ADDR]:PORT. */
export function parsePortalArg(text: string, usage: string): { address: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:[\]]+)(?::(\d+))?$/.exec(text) ?? /^([0-9a-fA-F:.]*:[0-9a-fA-F:.]*)()$/.exec(text);
  if (!m) throw new UsageError(`"${text}" is not ADDR[:PORT] (IPv6: [ADDR]:PORT)`, usage);
  return { address: m[1]!, port: m[2] ? parseInteger(m[2], 'the port', 1, 65535, usage) : ISCSI_PORT };
}

const portalText = (p: { address: string; port: number }): string => (p.address.includes(':') ? `[${p.address}]:${p.port}` : `${p.address}:${p.port}`);

export async function targetClientCommand(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  const U = TARGET_CLIENT_USAGE;
  switch (verb) {
    case 'list': {
      const { values } = parseCommand(U, rest, {});
      const ctx = makeContext(values, U);
      const api = ctx.api();
      const targets = await api.get<Target[]>('/api/targets');
      if (ctx.json) {
        ctx.print(targets, () => '');
        return 0;
      }
      const [portals, mappings, acls, groups, chap] = await Promise.all([
        api.get<Portal[]>('/api/portals'),
        api.get<LunMapping[]>('/api/mappings'),
        api.get<TargetAcl[]>('/api/acls'),
        api.get<InitiatorGroup[]>('/api/initiator-groups'),
        api.get<ChapInfo[]>('/api/chap'),
      ]);
      ctx.out(
        targets.length === 0
          ? 'no targets (create one: openlun target create IQN)\n'
          : table(
              ['IQN', 'ALIAS', 'PORTALS', 'LUNS', 'ACL', 'CHAP'],
              targets.map((t) => [
                t.iqn,
                t.alias ?? '-',
                portals.filter((p) => p.targetId === t.id).map(portalText).join(' ') || '-',
                String(mappings.filter((m) => m.targetId === t.id).length),
                acls.filter((a) => a.targetId === t.id).map((a) => groups.find((g) => g.id === a.groupId)?.name ?? a.groupId).join(',') || 'nobody',
                chap.find((c) => c.targetId === t.id)?.username ?? '-',
              ]),
            ),
      );
      return 0;
    }
    case 'show': {
      const { values, positionals } = parseCommand(U, rest, {}, [1, 1]);
      const ctx = makeContext(values, U);
      const api = ctx.api();
      const target = await findTarget(api, positionals[0]!);
      const q = `?targetId=${target.id}`;
      const [portals, mappings, acls, groups, chap, luns] = await Promise.all([
        api.get<Portal[]>(`/api/portals${q}`),
        api.get<LunMapping[]>(`/api/mappings${q}`),
        api.get<TargetAcl[]>(`/api/acls${q}`),
        api.get<InitiatorGroup[]>('/api/initiator-groups'),
        api.get<ChapInfo[]>('/api/chap'),
        api.get<Lun[]>('/api/luns'),
      ]);
      const allowed = acls.map((a) => groups.find((g) => g.id === a.groupId)).filter((g): g is InitiatorGroup => g !== undefined);
      const lunRows = mappings.sort((a, b) => a.lun - b.lun).map((m) => ({ ...m, name: luns.find((l) => l.id === m.lunId)?.name ?? String(m.lunId) }));
      const c = chap.find((x) => x.targetId === target.id);
      ctx.print({ target, portals, mappings: lunRows, acls: allowed, chap: c ?? null }, () => {
        let s = fields([
          ['target', target.iqn],
          ['alias', target.alias ?? '-'],
          ['portals', portals.map(portalText).join(' ') || 'none (not reachable)'],
          ['CHAP', c ? `${c.username}${c.mutualUsername ? ` (mutual: ${c.mutualUsername})` : ''}` : 'none'],
          ['allowed', allowed.length ? allowed.map((g) => `${g.name} [${[...g.initiators, ...g.networks].join(' ')}]`).join('; ') : 'nobody (openlun acl allow)'],
        ]);
        s += lunRows.length ? '\n' + table(['LUN', 'NAME'], lunRows.map((m) => [String(m.lun), m.name])) : 'no LUNs mapped (openlun target map)\n';
        return s;
      });
      return 0;
    }
    case 'create': {
      const { values, positionals } = parseCommand(U, rest, { alias: { type: 'string' }, portal: { type: 'string', multiple: true } }, [1, 1]);
      const portals = (values.portal ?? []).map((p) => parsePortalArg(p, U));
      const ctx = makeContext(values, U);
      const api = ctx.api();
      const target = await api.call<Target>('POST', '/api/targets', { iqn: positionals[0]!, ...(values.alias !== undefined ? { alias: values.alias } : {}) });
      const made: Portal[] = [];
      try {
        for (const p of portals) made.push(await api.call<Portal>('POST', '/api/portals', { targetId: target.id, ...p }));
      } catch (err) {
        // all or nothing: a refused portal takes the new target away again
        await api.call('DELETE', `/api/targets/${target.id}`).catch(() => undefined);
        throw err;
      }
      ctx.print({ ...target, portals: made }, () => `created target ${target.iqn}${made.length ? ` on ${made.map(portalText).join(' ')}` : ''}\n`);
      return 0;
    }
    case 'delete': {
      const { values, positionals } = parseCommand(U, rest, { force: { type: 'boolean', default: false } }, [1, 1]);
      const ctx = makeContext(values, U);
      const api = ctx.api();
      const target = await findTarget(api, positionals[0]!);
      await api.call('DELETE', `/api/targets/${target.id}${values.force ? '?force=true' : ''}`);
      ctx.print({ deleted: target }, () => `deleted target ${target.iqn}\n`);
      return 0;
    }
    case 'map': {
      const { values, positionals } = parseCommand(U, rest, { lun: { type: 'string' } }, [2, 2]);
      const wanted = values.lun === undefined ? undefined : parseInteger(values.lun, '--lun', 0, 1023, U);
      const ctx = makeContext(values, U);
      const api = ctx.api();
      const target = await findTarget(api, positionals[0]!);
      const lun = await findLun(api, positionals[1]!);
      let number = wanted;
      if (number === undefined) {
        // SAM-5 §4.7.2: LUN 0 must exist for REPORT LUNS; filling the lowest gap keeps it so
        const used = new Set((await api.get<LunMapping[]>(`/api/mappings?targetId=${target.id}`)).map((m) => m.lun));
        number = 0;
        while (used.has(number)) number++;
        if (number > 1023) throw new CliError(`${target.iqn} has no free LUN number left`);
      }
      const m = await api.call<LunMapping>('POST', '/api/mappings', { targetId: target.id, lun: number, lunId: lun.id });
      ctx.print(m, () => `mapped ${lun.name} as LUN ${m.lun} of ${target.iqn}\n`);
      return 0;
    }
    case 'unmap': {
      const { values, positionals } = parseCommand(U, rest, { lun: { type: 'string' }, force: { type: 'boolean', default: false } }, [1, 1]);
      if (values.lun === undefined) throw new UsageError('--lun N is required', U);
      const number = parseInteger(values.lun, '--lun', 0, 1023, U);
      const ctx = makeContext(values, U);
      const api = ctx.api();
      const target = await findTarget(api, positionals[0]!);
      const m = (await api.get<LunMapping[]>(`/api/mappings?targetId=${target.id}`)).find((x) => x.lun === number);
      if (!m) throw new CliError(`${target.iqn} has no LUN ${number}`);
      await api.call('DELETE', `/api/mappings/${m.id}${values.force ? '?force=true' : ''}`);
      ctx.print({ deleted: m }, () => `unmapped LUN ${number} from ${target.iqn}\n`);
      return 0;
    }
    case 'portal': {
      const [op, ...args] = rest;
      if (op !== 'add' && op !== 'remove') {
        if (op === '--help' || op === '-h') throw new HelpRequested(U);
        throw new UsageError(op === undefined ? 'portal wants add or remove' : `unknown portal command "${op}"`, U);
      }
      const { values, positionals } = parseCommand(U, args, {}, [2, 2]);
      const wanted = parsePortalArg(positionals[1]!, U);
      const ctx = makeContext(values, U);
      const api = ctx.api();
      const target = await findTarget(api, positionals[0]!);
      if (op === 'add') {
        const p = await api.call<Portal>('POST', '/api/portals', { targetId: target.id, ...wanted });
        ctx.print(p, () => `${target.iqn} now listens on ${portalText(p)}\n`);
      } else {
        const portals = await api.get<Portal[]>(`/api/portals?targetId=${target.id}`);
        const p = portals.find((x) => x.address.toLowerCase() === wanted.address.toLowerCase() && x.port === wanted.port);
        if (!p) throw new CliError(`${target.iqn} has no portal ${portalText(wanted)} (it has: ${portals.map(portalText).join(' ') || 'none'})`);
        await api.call('DELETE', `/api/portals/${p.id}`);
        ctx.print({ deleted: p }, () => `removed portal ${portalText(p)} from ${target.iqn}\n`);
      }
      return 0;
    }
    case undefined:
      throw new UsageError('missing target command', U);
    case 'help':
      throw new HelpRequested(U);
    default:
      throw new UsageError(`unknown target command "${verb}"`, U);
  }
}
