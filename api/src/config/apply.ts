/**
 * Applies a config document: makes the store equal to it, in one transaction (all or nothing, pool files included).
 * It works from the same diff the plan shows, so what an admin reviewed is what runs. Refused changes (a LUN's
 * identity, backing or block size, shrinking) abort the whole apply. LUN data files are never deleted here.
 */
import { StoreError } from '../store/errors.ts';
import { normalizeIscsiName } from '../store/names.ts';
import type { Store } from '../store/store.ts';
import type { ChangeContext } from '../store/types.ts';
import { DEFAULT_SOFT_THRESHOLD_PERCENT, readSoftThresholdPercent, writeSoftThresholdPercent } from '../storage/settings.ts';
import { ScheduleStore } from '../storage/schedules.ts';
import { configProblems, exportConfig, planConfig, portalGroupsOfDoc, portalTagOfDoc, scheduleKey, type ConfigDocument, type Plan } from './document.ts';

type ChapDoc = NonNullable<ConfigDocument['discoveryChap']>;

/** A CHAP entry from a document with the current secrets filled in where the document leaves them out. */
function chapInput(path: string, desired: ChapDoc, current: ChapDoc | undefined) {
  const secret = desired.secret ?? current?.secret;
  if (secret === undefined) throw new StoreError('invalid', `${path}/secret is required: the document sets new CHAP credentials`, [{ field: `${path}/secret`, message: 'is required' }]);
  let mutual: { mutualUsername: string; mutualSecret: string } | undefined;
  if (desired.mutualUsername !== undefined) {
    const mutualSecret = desired.mutualSecret ?? current?.mutualSecret;
    if (mutualSecret === undefined) throw new StoreError('invalid', `${path}/mutualSecret is required for mutual CHAP`, [{ field: `${path}/mutualSecret`, message: 'is required' }]);
    mutual = { mutualUsername: desired.mutualUsername, mutualSecret };
  }
  return { username: desired.username, secret, ...mutual };
}

function sameChap(a: ChapDoc | undefined, b: ReturnType<typeof chapInput>): boolean {
  return !!a && a.username === b.username && a.secret === b.secret && a.mutualUsername === b.mutualUsername && a.mutualSecret === b.mutualSecret;
}

export function applyConfig(store: Store, ctx: ChangeContext, desired: ConfigDocument): Plan {
  configProblems(desired).throwIfAny();
  return store.atomically(() => {
    const current = exportConfig(store, true);
    const plan = planConfig(current, desired);
    if (plan.refused.length > 0) {
      throw new StoreError('conflict', `the document asks for changes that are refused: ${plan.refused.map((r) => `${r.key}: ${r.message}`).join('; ')}`);
    }
    const s = desired.settings;
    if (plan.changes.some((c) => c.kind === 'settings')) store.updateSettings(ctx, s);

    const lunId = () => new Map(store.listLuns().map((l) => [l.name, l.id]));
    const groupId = () => new Map(store.listInitiatorGroups().map((g) => [g.name, g.id]));
    const currentLuns = new Map(current.luns.map((l) => [l.name, l]));
    for (const l of desired.luns) {
      const was = currentLuns.get(l.name);
      if (!was) {
        store.createLun(ctx, {
          name: l.name,
          backing: l.backing,
          ...(l.lvPath !== undefined ? { lvPath: l.lvPath } : {}),
          sizeBytes: l.sizeBytes,
          blockSize: l.blockSize,
          readOnly: l.readOnly,
          writeCache: l.writeCache,
          preset: l.preset ?? null,
          ...(l.serial !== undefined && l.naaId !== undefined ? { identity: { serial: l.serial, naaId: l.naaId } } : {}),
        });
      } else if (plan.changes.some((c) => c.kind === 'lun' && c.op === 'update' && c.key === l.name)) {
        store.updateLun(ctx, lunId().get(l.name)!, {
          sizeBytes: l.sizeBytes,
          readOnly: l.readOnly,
          writeCache: l.writeCache,
          ...(l.preset !== undefined ? { preset: l.preset } : {}),
        });
      }
    }
    const currentGroups = new Map(current.initiatorGroups.map((g) => [g.name, g]));
    for (const g of desired.initiatorGroups) {
      const was = currentGroups.get(g.name);
      if (!was) store.createInitiatorGroup(ctx, g);
      else if (plan.changes.some((c) => c.kind === 'initiator-group' && c.key === g.name)) store.updateInitiatorGroup(ctx, groupId().get(g.name)!, g);
    }

    const currentTargets = new Map(current.targets.map((t) => [t.iqn, t]));
    const desiredIqns = new Set(desired.targets.map((t) => normalizeIscsiName(t.iqn)));
    for (const t of current.targets) {
      if (!desiredIqns.has(t.iqn)) store.deleteTarget(ctx, store.listTargets().find((x) => x.iqn === t.iqn)!.id);
    }
    for (const dt of desired.targets) {
      const iqn = normalizeIscsiName(dt.iqn);
      const was = currentTargets.get(iqn);
      const target = was ? store.listTargets().find((x) => x.iqn === iqn)! : store.createTarget(ctx, iqn, dt.alias);
      if (was && was.alias !== dt.alias) store.updateTarget(ctx, target.id, { alias: dt.alias });

      // portal groups first (new ones, states), then portals (a portal in another group is recreated there), then
      // the groups the document no longer names: empty by then (the store refuses to delete one with portals)
      const wantGroups = portalGroupsOfDoc(dt);
      const groupByTag = () => new Map(store.listPortalGroups(target.id).map((g) => [g.tag, g]));
      for (const g of wantGroups) {
        const have = groupByTag().get(g.tag);
        if (!have) store.createPortalGroup(ctx, target.id, g.tag, g.aluaState);
        else if (have.aluaState !== g.aluaState) store.updatePortalGroup(ctx, have.id, { aluaState: g.aluaState });
      }
      const portalKey = (p: { address: string; port: number }) => `${p.address}:${p.port}`;
      const wantPortals = new Map(dt.portals.map((p) => [portalKey(p), portalTagOfDoc(dt, p)]));
      for (const p of store.listPortals(target.id)) if (wantPortals.get(portalKey(p)) !== p.portalGroupTag) store.deletePortal(ctx, p.id);
      const havePortals = new Set(store.listPortals(target.id).map(portalKey));
      const portalGroups = groupByTag();
      for (const p of dt.portals) {
        if (!havePortals.has(portalKey(p))) store.createPortal(ctx, target.id, p.address, p.port, portalGroups.get(portalTagOfDoc(dt, p))!.id);
      }
      const wantTags = new Set(wantGroups.map((g) => g.tag));
      for (const g of store.listPortalGroups(target.id)) if (!wantTags.has(g.tag)) store.deletePortalGroup(ctx, g.id);

      // mappings: remove what differs first, so a LUN can move to another number in the same apply
      const luns = lunId();
      const wantMap = new Map(dt.luns.map((m) => [m.lun, luns.get(m.name)!]));
      for (const m of store.listMappings(target.id)) if (wantMap.get(m.lun) !== m.lunId) store.deleteMapping(ctx, m.id);
      const haveMap = new Set(store.listMappings(target.id).map((m) => m.lun));
      for (const [lun, id] of wantMap) if (!haveMap.has(lun)) store.createMapping(ctx, target.id, lun, id);

      const groups = groupId();
      const wantAcl = new Set(dt.acls.map((name) => groups.get(name)!));
      for (const a of store.listAcls(target.id)) if (!wantAcl.has(a.groupId)) store.deleteAcl(ctx, a.id);
      const haveAcl = new Set(store.listAcls(target.id).map((a) => a.groupId));
      for (const id of wantAcl) if (!haveAcl.has(id)) store.createAcl(ctx, target.id, id);

      if (dt.chap) {
        const input = chapInput(`targets/${desired.targets.indexOf(dt)}/chap`, dt.chap, was?.chap);
        if (!sameChap(was?.chap, input)) store.setChap(ctx, target.id, input);
      } else if (was?.chap) {
        store.deleteChap(ctx, target.id);
      }
    }

    // schedules before LUN deletions (a deleted LUN takes its schedules along; the plan already lists them)
    const scheduleStore = new ScheduleStore(store);
    const wantSchedules = new Set((desired.snapshotSchedules ?? []).map(scheduleKey));
    const lunNames = new Map(store.listLuns().map((l) => [l.id, l.name]));
    const haveSchedules = new Set<string>();
    for (const sc of scheduleStore.list()) {
      const key = scheduleKey({ lun: lunNames.get(sc.lunId)!, everyMinutes: sc.everyMinutes, keep: sc.keep, ...(sc.sizeBytes !== null ? { sizeBytes: sc.sizeBytes } : {}) });
      if (!wantSchedules.has(key) || haveSchedules.has(key)) scheduleStore.delete(ctx, sc.id);
      else haveSchedules.add(key);
    }
    const lunIds = lunId();
    for (const sc of desired.snapshotSchedules ?? []) {
      if (haveSchedules.has(scheduleKey(sc))) continue;
      scheduleStore.create(ctx, { lunId: lunIds.get(sc.lun)!, everyMinutes: sc.everyMinutes, keep: sc.keep, ...(sc.sizeBytes !== undefined ? { sizeBytes: sc.sizeBytes } : {}) });
      haveSchedules.add(scheduleKey(sc));
    }
    const threshold = desired.storage?.softThresholdPercent ?? DEFAULT_SOFT_THRESHOLD_PERCENT;
    if (readSoftThresholdPercent(store) !== threshold) writeSoftThresholdPercent(store, ctx, threshold);

    // groups and LUNs the document no longer names: their ACLs and mappings are gone by now (data files are kept)
    const wantGroups = new Set(desired.initiatorGroups.map((g) => g.name));
    for (const [name, id] of groupId()) if (!wantGroups.has(name)) store.deleteInitiatorGroup(ctx, id);
    const wantLuns = new Set(desired.luns.map((l) => l.name));
    for (const [name, id] of lunId()) if (!wantLuns.has(name)) store.deleteLun(ctx, id);

    if (desired.discoveryChap) {
      const input = chapInput('discoveryChap', desired.discoveryChap, current.discoveryChap);
      if (!sameChap(current.discoveryChap, input)) store.setChap(ctx, null, input);
    } else if (current.discoveryChap) {
      store.deleteChap(ctx, null);
    }
    store.audit(ctx, 'config.apply', 'config', { summary: plan.summary });
    return plan;
  });
}
