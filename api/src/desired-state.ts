/**
 * The store turned into exactly what the target daemon needs to run: backstores, targets with their LUNs, ACLs,
 * CHAP and portals. `desiredState(snapshot)` is a pure function over plain data (deterministic order, so two
 * states compare with deepEqual and a reconcile can diff them); `readSnapshot(store)` is the only part that reads.
 *
 * The result holds decrypted CHAP secrets: it is for the local control socket only, never for a log or the API.
 */
import { BlockList, isIP } from 'node:net';
import type { Store } from './store/store.ts';
import type { ChapSecrets, InitiatorGroup, Lun, LunMapping, Portal, Settings, Target, TargetAcl } from './store/types.ts';

export const DESIRED_STATE_VERSION = 1;
// each target is its own portal group (RFC 7143 §4.4.1: the tag is unique within a target, so 1 suffices)
export const DEFAULT_PORTAL_GROUP_TAG = 1;
// a target with no portal of its own listens on every address at the configured port
const WILDCARD_HOSTS = ['0.0.0.0', '::'] as const;

export interface StoreSnapshot {
  settings: Settings;
  targets: Target[];
  portals: Portal[];
  luns: Lun[];
  mappings: LunMapping[];
  groups: InitiatorGroup[];
  acls: TargetAcl[];
  /** targetId null = discovery sessions */
  chap: Array<{ targetId: number | null; secrets: ChapSecrets }>;
}

export interface ChapCredential {
  user: string;
  secret: string;
}

export interface DesiredBackstore {
  /** LUN name in the store; targets reference backstores by it */
  name: string;
  kind: 'file' | 'block';
  path: string;
  sizeBytes: number;
  blockSize: 512 | 4096;
  readOnly: boolean;
  /** SBC-4 §6.5 (caching mode page WCE): write-back acknowledges before the data is on stable storage */
  writeBack: boolean;
  /** SPC-4 §7.8.5 unit serial number */
  serial: string;
  /** SPC-4 §7.8.6.6 NAA designator, hex digits without the "naa." prefix */
  naaId: string;
}

/** One ACL entry: an initiator is let in when its name is listed (or the list is empty) and, when networks are
 *  given, its address lies in one of them. */
export interface DesiredAclEntry {
  group: string;
  initiators: string[];
  networks: string[];
}

export interface DesiredTarget {
  /** iSCSI name, RFC 7143 §4.2.7 */
  name: string;
  alias?: string;
  portalGroupTag: number;
  portals: Array<{ host: string; port: number }>;
  /** sorted by LUN number */
  luns: Array<{ lun: number; backstore: string }>;
  /** deny by default: an empty list lets nobody in */
  acl: DesiredAclEntry[];
  chap?: ChapCredential;
  mutualChap?: ChapCredential;
}

export interface DesiredState {
  version: typeof DESIRED_STATE_VERSION;
  hostname: string;
  /** every address:port to listen on (the union of all targets' portals) */
  listen: Array<{ host: string; port: number }>;
  discoveryChap?: ChapCredential;
  discoveryMutualChap?: ChapCredential;
  backstores: DesiredBackstore[];
  targets: DesiredTarget[];
  /** configurations that run but that initiators handle badly, for the UI to show */
  warnings: string[];
}

const byString = <T>(key: (x: T) => string) => (a: T, b: T) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
const portalKey = (p: { host: string; port: number }) => `${p.host}|${String(p.port).padStart(5, '0')}`;

function chapOf(secrets: ChapSecrets | undefined): { chap?: ChapCredential; mutualChap?: ChapCredential } {
  if (!secrets) return {};
  return {
    chap: { user: secrets.username, secret: secrets.secret },
    ...(secrets.mutual ? { mutualChap: { user: secrets.mutual.username, secret: secrets.mutual.secret } } : {}),
  };
}

export function desiredState(s: StoreSnapshot): DesiredState {
  const warnings: string[] = [];
  const lunById = new Map(s.luns.map((l) => [l.id, l]));
  const groupById = new Map(s.groups.map((g) => [g.id, g]));
  const chapByTarget = new Map(s.chap.map((c) => [c.targetId, c.secrets]));
  const defaultPortals = WILDCARD_HOSTS.map((host) => ({ host, port: s.settings.iscsiPort }));

  const targets = [...s.targets].sort(byString((t) => t.iqn)).map((t): DesiredTarget => {
    const own = s.portals.filter((p) => p.targetId === t.id).map((p) => ({ host: p.address, port: p.port }));
    const luns = s.mappings
      .filter((m) => m.targetId === t.id)
      .sort((a, b) => a.lun - b.lun)
      .map((m) => ({ lun: m.lun, backstore: lunById.get(m.lunId)!.name }));
    // SAM-5 §4.6.4 / SPC-4 §4.6.5: LUN 0 answers for the target; without it many initiators (ESXi) see no LUNs at all
    if (luns.length > 0 && luns[0]!.lun !== 0) warnings.push(`${t.iqn} has no LUN 0; initiators such as ESXi will not find its LUNs`);
    const acl = s.acls
      .filter((a) => a.targetId === t.id)
      .map((a) => groupById.get(a.groupId)!)
      .sort(byString((g) => g.name))
      .map((g) => ({ group: g.name, initiators: [...g.initiators].sort(), networks: [...g.networks].sort() }));
    if (acl.length === 0) warnings.push(`${t.iqn} has no ACL; no initiator can log in`);
    return {
      name: t.iqn,
      ...(t.alias ? { alias: t.alias } : {}),
      portalGroupTag: DEFAULT_PORTAL_GROUP_TAG,
      portals: (own.length > 0 ? own : defaultPortals).sort(byString(portalKey)),
      luns,
      acl,
      ...chapOf(chapByTarget.get(t.id)),
    };
  });

  const mapped = new Set(s.mappings.map((m) => m.lunId));
  const backstores = s.luns
    .filter((l) => mapped.has(l.id))
    .sort(byString((l) => l.name))
    .map((l): DesiredBackstore => ({
      name: l.name,
      kind: l.backing === 'file' ? 'file' : 'block',
      path: l.path,
      sizeBytes: l.sizeBytes,
      blockSize: l.blockSize,
      readOnly: l.readOnly,
      writeBack: l.writeCache === 'write-back',
      serial: l.serial,
      naaId: l.naaId,
    }));

  const listen = new Map<string, { host: string; port: number }>();
  for (const t of targets) for (const p of t.portals) listen.set(portalKey(p), p);
  const discovery = chapOf(chapByTarget.get(null));

  return {
    version: DESIRED_STATE_VERSION,
    hostname: s.settings.hostname,
    listen: [...listen.values()].sort(byString(portalKey)),
    ...(discovery.chap ? { discoveryChap: discovery.chap } : {}),
    ...(discovery.mutualChap ? { discoveryMutualChap: discovery.mutualChap } : {}),
    backstores,
    targets,
    warnings,
  };
}

/** The ACL decision the target makes at login (RFC 7143 §4.2.7.1: names compare case-insensitively). */
export function initiatorAllowed(target: DesiredTarget, initiatorName: string, address: string): boolean {
  const name = initiatorName.toLowerCase();
  return target.acl.some((entry) => {
    if (entry.initiators.length > 0 && !entry.initiators.includes(name)) return false;
    if (entry.networks.length === 0) return true;
    const family = isIP(address);
    if (family === 0) return false;
    const list = new BlockList();
    for (const n of entry.networks) {
      const [net, bits] = n.split('/');
      const netFamily = isIP(net!) === 6 ? 'ipv6' : 'ipv4';
      list.addSubnet(net!, Number(bits), netFamily);
    }
    return list.check(address, family === 6 ? 'ipv6' : 'ipv4');
  });
}

export function readSnapshot(store: Store): StoreSnapshot {
  const targets = store.listTargets();
  const chap: StoreSnapshot['chap'] = [];
  for (const id of [null, ...targets.map((t) => t.id)]) {
    const secrets = store.chapSecrets(id);
    if (secrets) chap.push({ targetId: id, secrets });
  }
  return {
    settings: store.getSettings(),
    targets,
    portals: store.listPortals(),
    luns: store.listLuns(),
    mappings: store.listMappings(),
    groups: store.listInitiatorGroups(),
    acls: store.listAcls(),
    chap,
  };
}
