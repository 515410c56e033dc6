/**
 * `openlun acl …`: who may log in to a target. The API's model: an initiator group (IQNs, optional CIDR networks)
 * is allowed on a target by an ACL entry; a target with no entry admits nobody.
 */
import type { InitiatorGroup, Target, TargetAcl } from '../../../api/src/store/types.ts';
import { ApiError } from '../api.ts';
import { CliError, HelpRequested, UsageError, parseCommand } from '../args.ts';
import { makeContext } from '../context.ts';
import { findTarget, sameIqn } from '../lookup.ts';
import { table } from '../output.ts';

export const ACL_USAGE = `usage: openlun acl list [IQN]
       openlun acl allow IQN [INITIATOR-IQN ...] [--network CIDR ...] [--group NAME]
       openlun acl deny IQN GROUP

allow lets initiators in: their IQNs (and, optionally, only from the networks given, e.g. 192.0.2.0/24) go into
the initiator group NAME (default: "<last part of the target IQN>-hosts"), created if missing and extended if it
exists (a group allowed on other targets admits the new initiators there too), and the group is allowed on the
target. allow IQN --group NAME with no initiators allows an existing group. deny removes the group's access
to the target (initiators logged in through it are logged out); the group itself is kept.`;

/** A label (letters, digits, space, "_", ".", ":", "@", "-"; at most 64) from the target's name. */
export function defaultGroupName(iqn: string): string {
  const tail = iqn.includes(':') ? iqn.slice(iqn.lastIndexOf(':') + 1) : iqn;
  const clean = tail.replace(/[^A-Za-z0-9_.@-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 58) || 'target';
  return `${clean}-hosts`;
}

export async function aclCommand(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  const U = ACL_USAGE;
  switch (verb) {
    case 'list': {
      const { values, positionals } = parseCommand(U, rest, {}, [0, 1]);
      const ctx = makeContext(values, U);
      const api = ctx.api();
      const only = positionals[0] ? await findTarget(api, positionals[0]) : undefined;
      const [acls, groups, targets] = await Promise.all([
        api.get<TargetAcl[]>(`/api/acls${only ? `?targetId=${only.id}` : ''}`),
        api.get<InitiatorGroup[]>('/api/initiator-groups'),
        api.get<Target[]>('/api/targets'),
      ]);
      const rows = acls.map((a) => ({ ...a, target: targets.find((t) => t.id === a.targetId)?.iqn ?? String(a.targetId), group: groups.find((g) => g.id === a.groupId) }));
      ctx.print(rows.map((r) => ({ id: r.id, targetId: r.targetId, groupId: r.groupId, target: r.target, group: r.group ?? null })), () =>
        rows.length === 0
          ? `no ACL entries${only ? ` on ${only.iqn}: nobody may log in` : ''} (openlun acl allow IQN INITIATOR-IQN)\n`
          : table(
              ['TARGET', 'GROUP', 'INITIATORS', 'NETWORKS'],
              rows.map((r) => [r.target, r.group?.name ?? String(r.groupId), r.group?.initiators.join(' ') || '-', r.group?.networks.join(' ') || 'any']),
            ),
      );
      return 0;
    }
    case 'allow': {
      const { values, positionals } = parseCommand(U, rest, { network: { type: 'string', multiple: true }, group: { type: 'string' } }, [1, Infinity]);
      const [iqn, ...initiators] = positionals;
      const networks = values.network ?? [];
      if (initiators.length === 0 && networks.length === 0 && !values.group) throw new UsageError('name the initiators (IQNs) to allow, or --group NAME', U);
      const ctx = makeContext(values, U);
      const api = ctx.api();
      const target = await findTarget(api, iqn!);
      const name = values.group ?? defaultGroupName(target.iqn);
      const existing = (await api.get<InitiatorGroup[]>('/api/initiator-groups')).find((g) => g.name === name);
      let group: InitiatorGroup;
      let created = false;
      if (!existing) {
        if (initiators.length === 0 && networks.length === 0) throw new CliError(`no initiator group named ${name}; name the initiators to put in it`);
        group = await api.call<InitiatorGroup>('POST', '/api/initiator-groups', { name, initiators, networks });
        created = true;
      } else {
        const addI = initiators.filter((i) => !existing.initiators.some((e) => sameIqn(e, i)));
        const addN = networks.filter((n) => !existing.networks.includes(n));
        group = addI.length || addN.length
          ? await api.call<InitiatorGroup>('PATCH', `/api/initiator-groups/${existing.id}`, { initiators: [...existing.initiators, ...addI], networks: [...existing.networks, ...addN] })
          : existing;
      }
      const acls = await api.get<TargetAcl[]>(`/api/acls?targetId=${target.id}`);
      let acl = acls.find((a) => a.groupId === group.id);
      if (!acl) {
        try {
          acl = await api.call<TargetAcl>('POST', '/api/acls', { targetId: target.id, groupId: group.id });
        } catch (err) {
          // all or nothing: a group made just for this is removed again
          if (created) await api.call('DELETE', `/api/initiator-groups/${group.id}`).catch(() => undefined);
          throw err;
        }
      }
      ctx.print({ acl, group }, () => `${target.iqn} allows group ${group.name}: ${group.initiators.join(' ') || '(no initiators)'}${group.networks.length ? ` from ${group.networks.join(' ')}` : ''}\n`);
      return 0;
    }
    case 'deny': {
      const { values, positionals } = parseCommand(U, rest, {}, [2, 2]);
      const ctx = makeContext(values, U);
      const api = ctx.api();
      const target = await findTarget(api, positionals[0]!);
      const groups = await api.get<InitiatorGroup[]>('/api/initiator-groups');
      const acls = await api.get<TargetAcl[]>(`/api/acls?targetId=${target.id}`);
      const here = acls.map((a) => ({ acl: a, group: groups.find((g) => g.id === a.groupId) }));
      const hit = here.find((h) => h.group?.name === positionals[1]);
      if (!hit) {
        throw new CliError(`group ${positionals[1]} is not allowed on ${target.iqn} (allowed: ${here.map((h) => h.group?.name ?? h.acl.groupId).join(', ') || 'nobody'})`);
      }
      try {
        await api.call('DELETE', `/api/acls/${hit.acl.id}`);
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) throw new CliError(`group ${positionals[1]} is no longer allowed on ${target.iqn}`);
        throw err;
      }
      ctx.print({ deleted: hit.acl }, () => `${target.iqn} no longer allows group ${positionals[1]} (the group is kept)\n`);
      return 0;
    }
    case undefined:
      throw new UsageError('missing acl command', U);
    case '--help':
    case '-h':
    case 'help':
      throw new HelpRequested(U);
    default:
      throw new UsageError(`unknown acl command "${verb}"`, U);
  }
}
