/**
 * Config as code: the whole desired state as one JSON document (export), and the difference between the current
 * state and a proposed document (plan). Objects are keyed by their natural names (LUN name, group name, target
 * IQN), not by database ids, so a document moves between appliances. Pure functions over plain data.
 */
import { Type, type Static } from '@sinclair/typebox';
import { AluaState, Formatted, IntEnum, LunPreset, StringEnum } from '../schemas.ts';
import { Problems } from '../store/errors.ts';
import {
  addressProblem,
  chapSecretProblem,
  chapUserProblem,
  cidrProblem,
  iscsiNameProblem,
  labelProblem,
  lvPathProblem,
  normalizeIscsiName,
  poolNameProblem,
} from '../store/names.ts';
import type { Store } from '../store/store.ts';
import { DEFAULT_SOFT_THRESHOLD_PERCENT, readSoftThresholdPercent } from '../storage/settings.ts';
import { MAX_KEEP, MIN_EVERY_MINUTES, ScheduleStore } from '../storage/schedules.ts';
import type { AluaState as AluaStateName, ChapSecrets } from '../store/types.ts';

export const CONFIG_VERSION = 1;

const Str = (max: number) => Type.String({ minLength: 1, maxLength: max });
export const ChapDoc = Type.Object(
  {
    username: Formatted('chap-user', { maxLength: 223 }),
    mutualUsername: Type.Optional(Formatted('chap-user', { maxLength: 223 })),
    // present only in a password-confirmed export, or when an import sets a secret
    secret: Type.Optional(Formatted('chap-secret')),
    mutualSecret: Type.Optional(Formatted('chap-secret')),
  },
  { additionalProperties: false },
);
export const LunDoc = Type.Object(
  {
    name: Formatted('pool-name', { maxLength: 64 }),
    backing: StringEnum(['file', 'lv']),
    lvPath: Type.Optional(Formatted('lv-path')),
    sizeBytes: Type.Integer({ minimum: 512 }),
    blockSize: IntEnum([512, 4096]),
    readOnly: Type.Boolean(),
    writeCache: StringEnum(['write-back', 'write-through']),
    serial: Type.Optional(Str(64)),
    naaId: Type.Optional(Str(64)),
    // the hypervisor preset the LUN was set up with (absent in documents from before presets = null)
    preset: Type.Optional(LunPreset),
  },
  { additionalProperties: false },
);
export const ScheduleDoc = Type.Object(
  {
    lun: Formatted('pool-name', { maxLength: 64 }),
    everyMinutes: Type.Integer({ minimum: MIN_EVERY_MINUTES }),
    keep: Type.Integer({ minimum: 1, maximum: MAX_KEEP }),
    // copy-on-write size for snapshots of a thick LV (absent: 20 % of the LUN)
    sizeBytes: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);
export const TargetDoc = Type.Object(
  {
    iqn: Formatted('iscsi-name', { maxLength: 223 }),
    alias: Type.Union([Formatted('label', { maxLength: 64 }), Type.Null()]),
    // RFC 7143 §4.4.1 portal groups (absent: group 1 only, active/optimized); SPC-4 §5.16.2.4 ALUA state of each
    portalGroups: Type.Optional(
      Type.Array(Type.Object({ tag: Type.Integer({ minimum: 1, maximum: 65535 }), aluaState: AluaState }, { additionalProperties: false }), { minItems: 1, maxItems: 64 }),
    ),
    portals: Type.Array(
      Type.Object(
        {
          address: Formatted('ip-address', { maxLength: 45 }),
          port: Type.Integer({ minimum: 1, maximum: 65535 }),
          // the tag of its portal group (absent: the target's lowest tag)
          tag: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
        },
        { additionalProperties: false },
      ),
      { maxItems: 64 },
    ),
    luns: Type.Array(Type.Object({ lun: Type.Integer({ minimum: 0, maximum: 1023 }), name: Formatted('pool-name', { maxLength: 64 }) }, { additionalProperties: false }), { maxItems: 1024 }),
    acls: Type.Array(Formatted('label', { maxLength: 64 }), { maxItems: 256 }),
    chap: Type.Optional(ChapDoc),
  },
  { additionalProperties: false },
);
export const ConfigDocument = Type.Object(
  {
    version: Type.Literal(CONFIG_VERSION),
    settings: Type.Object({ hostname: Str(63), baseIqn: Formatted('iscsi-name', { maxLength: 223 }), iscsiPort: Type.Integer({ minimum: 1, maximum: 65535 }) }, { additionalProperties: false }),
    luns: Type.Array(LunDoc, { maxItems: 4096 }),
    initiatorGroups: Type.Array(
      Type.Object({ name: Formatted('label', { maxLength: 64 }), initiators: Type.Array(Formatted('iscsi-name', { maxLength: 223 }), { maxItems: 256 }), networks: Type.Array(Formatted('cidr', { maxLength: 49 }), { maxItems: 64 }) }, { additionalProperties: false }),
      { maxItems: 1024 },
    ),
    targets: Type.Array(TargetDoc, { maxItems: 1024 }),
    discoveryChap: Type.Optional(ChapDoc),
    // absent: the default soft threshold (80 %)
    storage: Type.Optional(Type.Object({ softThresholdPercent: Type.Number({ exclusiveMinimum: 0, maximum: 100 }) }, { additionalProperties: false })),
    // absent: none. A schedule is identified by what it does (LUN, interval, retention), so a changed one is
    // deleted and created again; snapshots it already made keep their auto-<id>- names and are not pruned by the new one
    snapshotSchedules: Type.Optional(Type.Array(ScheduleDoc, { maxItems: 4096 })),
  },
  { additionalProperties: false },
);
export type ConfigDocument = Static<typeof ConfigDocument>;
type ChapDoc = Static<typeof ChapDoc>;
type TargetDocument = ConfigDocument['targets'][number];
export type ScheduleDocument = Static<typeof ScheduleDoc>;

const DEFAULT_PORTAL_GROUPS: ReadonlyArray<{ tag: number; aluaState: AluaStateName }> = [{ tag: 1, aluaState: 'active-optimized' }];

/** A target document's portal groups, ascending by tag (a document without them: group 1, active/optimized). */
export function portalGroupsOfDoc(t: TargetDocument): Array<{ tag: number; aluaState: AluaStateName }> {
  return [...(t.portalGroups ?? DEFAULT_PORTAL_GROUPS)].sort((a, b) => a.tag - b.tag);
}

/** Only group 1, active/optimized: what a document without portalGroups means, so the export leaves it out. */
function isDefaultGroups(groups: ReadonlyArray<{ tag: number; aluaState: AluaStateName }>): boolean {
  return groups.length === 1 && groups[0]!.tag === 1 && groups[0]!.aluaState === 'active-optimized';
}

/** The tag of a portal in a target document: its own, or the target's lowest (where POST /api/portals puts it too). */
export function portalTagOfDoc(t: TargetDocument, p: TargetDocument['portals'][number]): number {
  return p.tag ?? portalGroupsOfDoc(t)[0]!.tag;
}

function chapDoc(c: ChapSecrets | undefined, withSecrets: boolean): ChapDoc | undefined {
  if (!c) return undefined;
  return {
    username: c.username,
    ...(c.mutual ? { mutualUsername: c.mutual.username } : {}),
    ...(withSecrets ? { secret: c.secret, ...(c.mutual ? { mutualSecret: c.mutual.secret } : {}) } : {}),
  };
}

/** The current desired state as a document; secrets only when withSecrets (the caller re-checked the password). */
export function exportConfig(store: Store, withSecrets: boolean): ConfigDocument {
  const luns = store.listLuns();
  const lunName = new Map(luns.map((l) => [l.id, l.name]));
  const groups = store.listInitiatorGroups();
  const groupName = new Map(groups.map((g) => [g.id, g.name]));
  const discovery = chapDoc(store.chapSecrets(null), withSecrets);
  const softThreshold = readSoftThresholdPercent(store);
  const schedules: ScheduleDocument[] = new ScheduleStore(store)
    .list()
    .map((sc) => ({ lun: lunName.get(sc.lunId)!, everyMinutes: sc.everyMinutes, keep: sc.keep, ...(sc.sizeBytes !== null ? { sizeBytes: sc.sizeBytes } : {}) }));
  return {
    version: CONFIG_VERSION,
    settings: store.getSettings(),
    luns: luns.map((l) => ({
      name: l.name,
      backing: l.backing,
      ...(l.backing === 'lv' ? { lvPath: l.path } : {}),
      sizeBytes: l.sizeBytes,
      blockSize: l.blockSize,
      readOnly: l.readOnly,
      writeCache: l.writeCache,
      serial: l.serial,
      naaId: l.naaId,
      ...(l.preset !== null ? { preset: l.preset } : {}),
    })),
    initiatorGroups: groups.map((g) => ({ name: g.name, initiators: g.initiators, networks: g.networks })),
    targets: store.listTargets().map((t) => {
      const chap = chapDoc(store.chapSecrets(t.id), withSecrets);
      const groups = store.listPortalGroups(t.id).map((g) => ({ tag: g.tag, aluaState: g.aluaState }));
      return {
        iqn: t.iqn,
        alias: t.alias,
        ...(isDefaultGroups(groups) ? {} : { portalGroups: groups }),
        // a portal's tag is written when it is not the default one (the target's lowest)
        portals: store.listPortals(t.id).map((p) => ({ address: p.address, port: p.port, ...(p.portalGroupTag !== groups[0]?.tag ? { tag: p.portalGroupTag } : {}) })),
        luns: store.listMappings(t.id).map((m) => ({ lun: m.lun, name: lunName.get(m.lunId)! })),
        acls: store.listAcls(t.id).map((a) => groupName.get(a.groupId)!),
        ...(chap ? { chap } : {}),
      };
    }),
    ...(discovery ? { discoveryChap: discovery } : {}),
    ...(softThreshold !== DEFAULT_SOFT_THRESHOLD_PERCENT ? { storage: { softThresholdPercent: softThreshold } } : {}),
    ...(schedules.length ? { snapshotSchedules: schedules } : {}),
  };
}

/** The key that identifies a schedule in plans: what it does. */
export function scheduleKey(s: ScheduleDocument): string {
  return `${s.lun} every ${s.everyMinutes} min keep ${s.keep}${s.sizeBytes !== undefined ? ` cow ${s.sizeBytes}` : ''}`;
}

/** Semantic checks the schema cannot express: names, references, duplicates. Every problem at once. */
export function configProblems(doc: ConfigDocument): Problems {
  const p = new Problems();
  p.check('settings/baseIqn', iscsiNameProblem(doc.settings.baseIqn));
  const lunNames = new Set<string>();
  doc.luns.forEach((l, i) => {
    p.check(`luns/${i}/name`, poolNameProblem(l.name));
    if (lunNames.has(l.name)) p.check(`luns/${i}/name`, 'is used twice');
    lunNames.add(l.name);
    if (l.sizeBytes % l.blockSize !== 0) p.check(`luns/${i}/sizeBytes`, `must be a multiple of blockSize (${l.blockSize})`);
    if (l.backing === 'lv') p.check(`luns/${i}/lvPath`, l.lvPath === undefined ? 'is required for an lv-backed LUN' : lvPathProblem(l.lvPath));
  });
  const groupNames = new Set<string>();
  doc.initiatorGroups.forEach((g, i) => {
    p.check(`initiatorGroups/${i}/name`, labelProblem(g.name));
    if (groupNames.has(g.name)) p.check(`initiatorGroups/${i}/name`, 'is used twice');
    groupNames.add(g.name);
    g.initiators.forEach((iqn, j) => p.check(`initiatorGroups/${i}/initiators/${j}`, iscsiNameProblem(iqn)));
    g.networks.forEach((n, j) => p.check(`initiatorGroups/${i}/networks/${j}`, cidrProblem(n)));
  });
  const iqns = new Set<string>();
  const chapProblems = (path: string, c: ChapDoc | undefined) => {
    if (!c) return;
    p.check(`${path}/username`, chapUserProblem(c.username));
    if (c.mutualUsername !== undefined) p.check(`${path}/mutualUsername`, chapUserProblem(c.mutualUsername));
    if (c.secret !== undefined) p.check(`${path}/secret`, chapSecretProblem(c.secret));
    if (c.mutualSecret !== undefined) p.check(`${path}/mutualSecret`, chapSecretProblem(c.mutualSecret));
  };
  doc.targets.forEach((t, i) => {
    p.check(`targets/${i}/iqn`, iscsiNameProblem(t.iqn));
    const iqn = normalizeIscsiName(t.iqn);
    if (iqns.has(iqn)) p.check(`targets/${i}/iqn`, 'is used twice');
    iqns.add(iqn);
    if (t.alias !== null) p.check(`targets/${i}/alias`, labelProblem(t.alias));
    const tags = new Set<number>();
    t.portalGroups?.forEach((g, j) => {
      if (tags.has(g.tag)) p.check(`targets/${i}/portalGroups/${j}/tag`, `tag ${g.tag} is used twice on this target (RFC 7143 §4.4.1)`);
      tags.add(g.tag);
    });
    const groupTags = new Set(portalGroupsOfDoc(t).map((g) => g.tag));
    const portalKeys = new Set<string>();
    t.portals.forEach((portal, j) => {
      p.check(`targets/${i}/portals/${j}/address`, addressProblem(portal.address));
      if (portal.tag !== undefined && !groupTags.has(portal.tag)) p.check(`targets/${i}/portals/${j}/tag`, `names no portal group of this target`);
      const key = `${portal.address}:${portal.port}`;
      if (portalKeys.has(key)) p.check(`targets/${i}/portals/${j}`, 'is listed twice on this target');
      portalKeys.add(key);
    });
    const numbers = new Set<number>();
    const mapped = new Set<string>();
    t.luns.forEach((m, j) => {
      if (numbers.has(m.lun)) p.check(`targets/${i}/luns/${j}/lun`, `LUN ${m.lun} is used twice on this target`);
      numbers.add(m.lun);
      if (!lunNames.has(m.name)) p.check(`targets/${i}/luns/${j}/name`, `names no LUN in luns`);
      if (mapped.has(m.name)) p.check(`targets/${i}/luns/${j}/name`, 'is mapped twice on this target');
      mapped.add(m.name);
    });
    t.acls.forEach((g, j) => p.check(`targets/${i}/acls/${j}`, groupNames.has(g) ? undefined : 'names no initiator group'));
    chapProblems(`targets/${i}/chap`, t.chap);
  });
  chapProblems('discoveryChap', doc.discoveryChap);
  const scheduleKeys = new Set<string>();
  doc.snapshotSchedules?.forEach((sc, i) => {
    if (!lunNames.has(sc.lun)) p.check(`snapshotSchedules/${i}/lun`, 'names no LUN in luns');
    if (scheduleKeys.has(scheduleKey(sc))) p.check(`snapshotSchedules/${i}`, 'is listed twice');
    scheduleKeys.add(scheduleKey(sc));
  });
  return p;
}

export type ChangeKind = 'settings' | 'storage' | 'snapshot-schedule' | 'lun' | 'initiator-group' | 'target' | 'portal-group' | 'portal' | 'mapping' | 'acl' | 'chap';
export interface FieldChange {
  field: string;
  from: unknown;
  to: unknown;
}
export interface PlannedChange {
  op: 'create' | 'update' | 'delete';
  kind: ChangeKind;
  key: string;
  fields?: FieldChange[];
}
export interface Plan {
  changes: PlannedChange[];
  /** changes the plan cannot make (e.g. a LUN's NAA id, which never changes once assigned) */
  refused: Array<{ key: string; message: string }>;
  summary: { create: number; update: number; delete: number };
}

const SECRET_SHOWN = '(secret)';

function fieldChanges<T extends object>(from: T, to: T, fields: Array<keyof T & string>): FieldChange[] {
  const out: FieldChange[] = [];
  for (const f of fields) {
    if (JSON.stringify(from[f]) !== JSON.stringify(to[f])) out.push({ field: f, from: from[f] ?? null, to: to[f] ?? null });
  }
  return out;
}

/** Created, deleted and kept keys of two keyed lists. */
function diffKeys<T>(from: T[], to: T[], key: (x: T) => string): { created: T[]; deleted: T[]; kept: Array<[T, T]> } {
  const a = new Map(from.map((x) => [key(x), x]));
  const b = new Map(to.map((x) => [key(x), x]));
  return {
    created: [...b].filter(([k]) => !a.has(k)).map(([, v]) => v),
    deleted: [...a].filter(([k]) => !b.has(k)).map(([, v]) => v),
    kept: [...b].filter(([k]) => a.has(k)).map(([k, v]) => [a.get(k)!, v]),
  };
}

/** chap: a secret absent from the desired document means "keep the current one"; values are never shown. */
function chapChanges(from: ChapDoc | undefined, to: ChapDoc | undefined, key: string, changes: PlannedChange[]): void {
  if (!from && !to) return;
  if (!to) return void changes.push({ op: 'delete', kind: 'chap', key });
  if (!from) return void changes.push({ op: 'create', kind: 'chap', key, fields: [{ field: 'username', from: null, to: to.username }] });
  const fields = fieldChanges(from, to, ['username', 'mutualUsername']);
  if (to.secret !== undefined && to.secret !== from.secret) fields.push({ field: 'secret', from: SECRET_SHOWN, to: SECRET_SHOWN });
  if (to.mutualSecret !== undefined && to.mutualSecret !== from.mutualSecret) fields.push({ field: 'mutualSecret', from: SECRET_SHOWN, to: SECRET_SHOWN });
  if (fields.length) changes.push({ op: 'update', kind: 'chap', key, fields });
}

/** What applying `desired` to `current` would change (current should be exported with secrets to compare them). */
export function planConfig(current: ConfigDocument, desired: ConfigDocument): Plan {
  const changes: PlannedChange[] = [];
  const refused: Plan['refused'] = [];
  const settings = fieldChanges(current.settings, desired.settings, ['hostname', 'baseIqn', 'iscsiPort']);
  if (settings.length) changes.push({ op: 'update', kind: 'settings', key: 'settings', fields: settings });

  const luns = diffKeys(current.luns, desired.luns, (l) => l.name);
  for (const l of luns.created) changes.push({ op: 'create', kind: 'lun', key: l.name });
  for (const [from, to] of luns.kept) {
    // SPC-4 §7.8.6: identity designators are assigned once; a document cannot rewrite them
    for (const f of ['serial', 'naaId'] as const) {
      if (to[f] !== undefined && to[f] !== from[f]) refused.push({ key: `lun ${to.name}`, message: `${f} never changes once assigned (is ${from[f]})` });
    }
    for (const f of ['backing', 'lvPath', 'blockSize'] as const) {
      if (to[f] !== from[f]) refused.push({ key: `lun ${to.name}`, message: `${f} cannot change on an existing LUN; create a new LUN` });
    }
    if (to.sizeBytes < from.sizeBytes) refused.push({ key: `lun ${to.name}`, message: `sizeBytes cannot shrink (is ${from.sizeBytes})` });
    const fields = fieldChanges(from, to, ['sizeBytes', 'readOnly', 'writeCache']);
    // a document that leaves preset out keeps the LUN's (documents from before presets); null clears it
    if (to.preset !== undefined && (from.preset ?? null) !== to.preset) fields.push({ field: 'preset', from: from.preset ?? null, to: to.preset });
    if (fields.length) changes.push({ op: 'update', kind: 'lun', key: to.name, fields });
  }

  const groups = diffKeys(current.initiatorGroups, desired.initiatorGroups, (g) => g.name);
  for (const g of groups.created) changes.push({ op: 'create', kind: 'initiator-group', key: g.name });
  for (const [from, to] of groups.kept) {
    const norm = (g: typeof from) => ({ ...g, initiators: [...g.initiators].map(normalizeIscsiName).sort(), networks: [...g.networks].sort() });
    const fields = fieldChanges(norm(from), norm(to), ['initiators', 'networks']);
    if (fields.length) changes.push({ op: 'update', kind: 'initiator-group', key: to.name, fields });
  }

  const targets = diffKeys(current.targets, desired.targets.map((t) => ({ ...t, iqn: normalizeIscsiName(t.iqn) })), (t) => t.iqn);
  for (const t of targets.created) {
    changes.push({ op: 'create', kind: 'target', key: t.iqn });
    for (const g of portalGroupsOfDoc(t)) {
      // group 1 comes with the target; only a state other than the default is a change to it
      if (g.tag !== 1) changes.push({ op: 'create', kind: 'portal-group', key: `${t.iqn} portal group ${g.tag}`, fields: [{ field: 'aluaState', from: null, to: g.aluaState }] });
      else if (g.aluaState !== 'active-optimized') changes.push({ op: 'update', kind: 'portal-group', key: `${t.iqn} portal group 1`, fields: [{ field: 'aluaState', from: 'active-optimized', to: g.aluaState }] });
    }
    if (!portalGroupsOfDoc(t).some((g) => g.tag === 1)) changes.push({ op: 'delete', kind: 'portal-group', key: `${t.iqn} portal group 1` });
    for (const p of t.portals) changes.push({ op: 'create', kind: 'portal', key: `${t.iqn} ${p.address}:${p.port}`, fields: [{ field: 'tag', from: null, to: portalTagOfDoc(t, p) }] });
    for (const m of t.luns) changes.push({ op: 'create', kind: 'mapping', key: `${t.iqn} LUN ${m.lun}`, fields: [{ field: 'name', from: null, to: m.name }] });
    for (const a of t.acls) changes.push({ op: 'create', kind: 'acl', key: `${t.iqn} ${a}` });
    chapChanges(undefined, t.chap, `chap of ${t.iqn}`, changes);
  }
  for (const [from, to] of targets.kept) {
    const fields = fieldChanges(from, to, ['alias']);
    if (fields.length) changes.push({ op: 'update', kind: 'target', key: to.iqn, fields });
    const groups = diffKeys(portalGroupsOfDoc(from), portalGroupsOfDoc(to), (g) => String(g.tag));
    for (const g of groups.created) changes.push({ op: 'create', kind: 'portal-group', key: `${to.iqn} portal group ${g.tag}`, fields: [{ field: 'aluaState', from: null, to: g.aluaState }] });
    for (const [a, b] of groups.kept) {
      if (a.aluaState !== b.aluaState) changes.push({ op: 'update', kind: 'portal-group', key: `${to.iqn} portal group ${b.tag}`, fields: [{ field: 'aluaState', from: a.aluaState, to: b.aluaState }] });
    }
    for (const g of groups.deleted) changes.push({ op: 'delete', kind: 'portal-group', key: `${to.iqn} portal group ${g.tag}` });
    const portals = diffKeys(from.portals, to.portals, (p) => `${p.address}:${p.port}`);
    for (const p of portals.created) changes.push({ op: 'create', kind: 'portal', key: `${to.iqn} ${p.address}:${p.port}`, fields: [{ field: 'tag', from: null, to: portalTagOfDoc(to, p) }] });
    for (const p of portals.deleted) changes.push({ op: 'delete', kind: 'portal', key: `${to.iqn} ${p.address}:${p.port}` });
    for (const [a, b] of portals.kept) {
      // a portal changes group by leaving and joining again (apply recreates it: connections on it end)
      const was = portalTagOfDoc(from, a);
      const will = portalTagOfDoc(to, b);
      if (was !== will) changes.push({ op: 'update', kind: 'portal', key: `${to.iqn} ${b.address}:${b.port}`, fields: [{ field: 'tag', from: was, to: will }] });
    }
    const maps = diffKeys(from.luns, to.luns, (m) => String(m.lun));
    for (const m of maps.created) changes.push({ op: 'create', kind: 'mapping', key: `${to.iqn} LUN ${m.lun}`, fields: [{ field: 'name', from: null, to: m.name }] });
    for (const m of maps.deleted) changes.push({ op: 'delete', kind: 'mapping', key: `${to.iqn} LUN ${m.lun}` });
    for (const [a, b] of maps.kept) if (a.name !== b.name) changes.push({ op: 'update', kind: 'mapping', key: `${to.iqn} LUN ${b.lun}`, fields: [{ field: 'name', from: a.name, to: b.name }] });
    const acls = diffKeys(from.acls, to.acls, (a) => a);
    for (const a of acls.created) changes.push({ op: 'create', kind: 'acl', key: `${to.iqn} ${a}` });
    for (const a of acls.deleted) changes.push({ op: 'delete', kind: 'acl', key: `${to.iqn} ${a}` });
    chapChanges(from.chap, to.chap, `chap of ${to.iqn}`, changes);
  }
  // deletions last, dependents first: what an apply would have to do in that order
  for (const t of targets.deleted) changes.push({ op: 'delete', kind: 'target', key: t.iqn });
  for (const g of groups.deleted) changes.push({ op: 'delete', kind: 'initiator-group', key: g.name });
  for (const l of luns.deleted) changes.push({ op: 'delete', kind: 'lun', key: l.name });
  chapChanges(current.discoveryChap, desired.discoveryChap, 'discovery chap', changes);

  const threshold = (d: ConfigDocument) => d.storage?.softThresholdPercent ?? DEFAULT_SOFT_THRESHOLD_PERCENT;
  if (threshold(current) !== threshold(desired)) {
    changes.push({ op: 'update', kind: 'storage', key: 'storage', fields: [{ field: 'softThresholdPercent', from: threshold(current), to: threshold(desired) }] });
  }
  const schedules = diffKeys(current.snapshotSchedules ?? [], desired.snapshotSchedules ?? [], scheduleKey);
  for (const sc of schedules.deleted) changes.push({ op: 'delete', kind: 'snapshot-schedule', key: scheduleKey(sc) });
  for (const sc of schedules.created) changes.push({ op: 'create', kind: 'snapshot-schedule', key: scheduleKey(sc) });

  const count = (op: PlannedChange['op']) => changes.filter((c) => c.op === op).length;
  return { changes, refused, summary: { create: count('create'), update: count('update'), delete: count('delete') } };
}
