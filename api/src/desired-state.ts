/**
 * The store turned into exactly what the target daemon needs to run: backstores, targets with their LUNs, ACLs,
 * CHAP and portals. `desiredState(snapshot)` is a pure function over plain data (deterministic order, so two
 * states compare with deepEqual and a reconcile can diff them); `readSnapshot(store)` is the only part that reads.
 *
 * The result holds decrypted CHAP secrets: it is for the local control socket only, never for a log or the API.
 */
import { BlockList, isIP } from 'node:net';
import type { Store } from './store/store.ts';
import type { AluaState, ChapSecrets, InitiatorGroup, Lun, LunMapping, Portal, PortalGroup, Settings, Target, TargetAcl } from './store/types.ts';

export const DESIRED_STATE_VERSION = 1;
// every target starts with portal group 1 (RFC 7143 §4.4.1: tags are unique within a target); a snapshot without
// portal groups (older callers) reads as that one group, active/optimized
export const DEFAULT_PORTAL_GROUP_TAG = 1;
// a target with no portal of its own listens on every address at the configured port
const WILDCARD_HOSTS = ['0.0.0.0', '::'] as const;

export interface StoreSnapshot {
  settings: Settings;
  targets: Target[];
  portals: Portal[];
  /** absent or without a target's groups: that target has group 1 only, active/optimized */
  portalGroups?: PortalGroup[];
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

/**
 * One portal group of a target (RFC 7143 §4.4.1): its tag (TPGT, reported by SendTargets and at login, §13.9), the
 * ALUA access state of the target port group it is (SPC-4 §5.16.2.4) and the portals it listens on.
 */
export interface DesiredPortalGroup {
  tag: number;
  aluaState: AluaState;
  portals: Array<{ host: string; port: number }>;
}

/** What every target has besides its portals. */
export interface DesiredTargetBase {
  /** iSCSI name, RFC 7143 §4.2.7 */
  name: string;
  alias?: string;
  /** sorted by LUN number */
  luns: Array<{ lun: number; backstore: string }>;
  /** deny by default: an empty list lets nobody in */
  acl: DesiredAclEntry[];
  chap?: ChapCredential;
  mutualChap?: ChapCredential;
}

/**
 * A target as the API produces it: its portal groups, ascending by tag. targetd also reads the one-group form of
 * state files written before portal groups (portalGroupTag + portals: one active/optimized group); its validateState
 * requires one form or the other, and target/src/daemon/state.ts portalGroupsOf reads either.
 */
export interface DesiredTarget extends DesiredTargetBase {
  portalGroups?: DesiredPortalGroup[];
  /** the one-group form: the tag of the target's only portal group */
  portalGroupTag?: number;
  /** the one-group form: that group's portals */
  portals?: Array<{ host: string; port: number }>;
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
    const own = s.portals.filter((p) => p.targetId === t.id);
    const stored = (s.portalGroups ?? []).filter((g) => g.targetId === t.id).sort((a, b) => a.tag - b.tag);
    const groups = stored.length > 0 ? stored : [{ tag: DEFAULT_PORTAL_GROUP_TAG, aluaState: 'active-optimized' as const }];
    const portalGroups = groups.map((g): DesiredPortalGroup => ({
      tag: g.tag,
      aluaState: g.aluaState,
      portals: own
        .filter((p) => (p.portalGroupTag ?? DEFAULT_PORTAL_GROUP_TAG) === g.tag)
        .map((p) => ({ host: p.address, port: p.port }))
        .sort(byString(portalKey)),
    }));
    // a target with no portal of its own listens everywhere, in its first portal group
    if (own.length === 0) portalGroups[0]!.portals = [...defaultPortals].sort(byString(portalKey));
    // SPC-4 §5.16.2.4.4/5: standby and unavailable ports serve no media access
    if (!portalGroups.some((g) => g.portals.length > 0 && (g.aluaState === 'active-optimized' || g.aluaState === 'active-non-optimized'))) {
      warnings.push(`${t.iqn} has no active portal group with portals; initiators reach its LUNs through none of its paths`);
    }
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
      portalGroups,
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
  // RFC 7143 §4.4.1: one listener gives its connections one TPGT, so a portal shared by targets needs one tag
  const tagAt = new Map<string, { tag: number; target: string }>();
  for (const t of targets) {
    for (const g of t.portalGroups ?? []) {
      for (const p of g.portals) {
        listen.set(portalKey(p), p);
        const first = tagAt.get(portalKey(p));
        if (!first) tagAt.set(portalKey(p), { tag: g.tag, target: t.name });
        else if (first.tag !== g.tag) warnings.push(`${t.name} has ${p.host}:${p.port} in portal group ${g.tag}, ${first.target} in portal group ${first.tag}; the portal answers as group ${first.tag}`);
      }
    }
  }
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
export function initiatorAllowed(target: Pick<DesiredTargetBase, 'acl'>, initiatorName: string, address: string): boolean {
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
    portalGroups: store.listPortalGroups(),
    luns: store.listLuns(),
    mappings: store.listMappings(),
    groups: store.listInitiatorGroups(),
    acls: store.listAcls(),
    chap,
  };
}
