/** Finding objects by the names people type (target IQN, LUN name, group name) instead of database ids. */
import type { InitiatorGroup, Lun, Target } from '../../api/src/store/types.ts';
import type { Api } from './api.ts';
import { CliError } from './args.ts';

// RFC 7143 §4.2.7.1: iSCSI names are compared case-insensitively (the store keeps them lower-cased)
const sameIqn = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

export async function findTarget(api: Api, iqn: string): Promise<Target> {
  const t = (await api.get<Target[]>('/api/targets')).find((x) => sameIqn(x.iqn, iqn));
  if (!t) throw new CliError(`no target ${iqn} (openlun target list shows the targets)`);
  return t;
}

export async function findLun(api: Api, name: string): Promise<Lun> {
  const l = (await api.get<Lun[]>('/api/luns')).find((x) => x.name === name);
  if (!l) throw new CliError(`no LUN named ${name} (openlun lun list shows the LUNs)`);
  return l;
}

export async function findGroup(api: Api, name: string): Promise<InitiatorGroup | undefined> {
  return (await api.get<InitiatorGroup[]>('/api/initiator-groups')).find((g) => g.name === name);
}

export { sameIqn };
