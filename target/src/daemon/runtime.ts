/**
 * The running target: one IscsiServer and a ScsiTargetDevice per target, reconciled to a desired state
 * (design.md: "the database holds the desired state; the target reconciles to it"). An apply touches only what
 * changed: unchanged targets keep their objects and sessions, unchanged LUNs their backstores and state; a LUN
 * map that changed goes through setLuns (REPORTED LUNS DATA HAS CHANGED), a grown LUN through refreshCapacity.
 * Applies run one at a time.
 */
import { join } from 'node:path';
import { openBackstore as defaultOpenBackstore } from '../backstore/index.ts';
import type { Backstore, OpenBackstoreOptions } from '../backstore/index.ts';
import { IscsiServer } from '../iscsi/server.ts';
import type { SessionInfo } from '../iscsi/server.ts';
import type { AccessRule, PortalEntry, TargetEntry } from '../iscsi/target-config.ts';
import type { Logger } from '../log.ts';
import type { ConfigurableAccessState } from '../scsi/alua.ts';
import { ScsiTargetDevice } from '../scsi/device.ts';
import { TargetStats } from '../scsi/stats.ts';
import type { LunCounters } from '../scsi/stats.ts';
import type { LunEntry } from '../scsi/types.ts';
import { accessRulesOf } from './acl.ts';
import { ControlError } from './errors.ts';
import { portalGroupsOf, validateState } from './state.ts';
import type { DesiredBackstore, DesiredPortalGroup, DesiredState, DesiredTarget } from './state.ts';

export interface RuntimeOptions {
  log: Logger;
  /** called with every successfully applied state (targetd writes the state file here) */
  persist?: (state: DesiredState) => Promise<void>;
  openBackstore?: (path: string, opts: OpenBackstoreOptions) => Promise<Backstore>;
  nopIntervalMs?: number;
  nopTimeoutMs?: number;
  /** Where LUNs keep persistent reservations that asked for APTPL (one `<naa id>.pr.json` each); none = APTPL refused. */
  prStateDir?: string;
}

export interface ApplyResult {
  changed: boolean;
  targetsAdded: string[];
  targetsRemoved: string[];
  targetsUpdated: string[];
  lunsAdded: Array<{ target: string; lun: number }>;
  lunsRemoved: Array<{ target: string; lun: number }>;
  capacityRefreshed: Array<{ target: string; lun: number; sizeBytes: number }>;
  portalsChanged: boolean;
  sessionsEnded: number;
  warnings: string[];
}

interface RunningLun {
  lun: number;
  spec: DesiredBackstore;
  entry: LunEntry;
}

interface RunningTarget {
  spec: DesiredTarget;
  entry: TargetEntry;
  device: ScsiTargetDevice;
  stats: TargetStats;
  luns: Map<number, RunningLun>;
}

/** What makes a logical unit the same one: everything but its size (a size change is a capacity refresh). */
function lunIdentity(b: DesiredBackstore): string {
  return JSON.stringify([b.kind, b.path, b.blockSize, b.readOnly, b.writeBack, b.serial, b.naaId]);
}

/** The iSCSI-visible settings of a target besides its LUNs. */
function entryIdentity(t: DesiredTarget): string {
  const groups = servedGroups(t).map((g) => [g.tag, g.aluaState]);
  return JSON.stringify([t.alias ?? null, groups, t.acl, t.chap ?? null, t.mutualChap ?? null]);
}

const portalKey = (p: { host: string; port: number }): string => `${p.host}|${p.port}`;

/** The store's ALUA state names as the SCSI layer's (SPC-4 §5.16.2.4). */
const ACCESS_STATE = {
  'active-optimized': 'active/optimized',
  'active-non-optimized': 'active/non-optimized',
  standby: 'standby',
  unavailable: 'unavailable',
} as const satisfies Record<DesiredPortalGroup['aluaState'], ConfigurableAccessState>;

/**
 * The portal groups a target is served through: those with portals, ascending by tag. A group without portals has
 * no target port, so RTPG does not list it (SPC-4 §6.36).
 */
function servedGroups(t: DesiredTarget): DesiredPortalGroup[] {
  return portalGroupsOf(t).filter((g) => g.portals.length > 0).sort((a, b) => a.tag - b.tag);
}

/** The management plane's soft threshold for a LUN (serve adds it to each backstore of the desired state). */
function softThresholdOf(b: DesiredBackstore): number | undefined {
  const v = (b as DesiredBackstore & { softThresholdPercent?: unknown }).softThresholdPercent;
  return typeof v === 'number' && v > 0 && v <= 100 ? v : undefined;
}

/** Parameter3 of the logout request (RFC 7143 §11.9.1): seconds the initiator has before its connection is dropped. */
const END_SESSION_LOGOUT_SECONDS = 2;

export class TargetRuntime {
  readonly #o: RuntimeOptions;
  readonly #server: IscsiServer;
  readonly #targets = new Map<string, RunningTarget>();
  readonly #open: (path: string, opts: OpenBackstoreOptions) => Promise<Backstore>;
  #state: DesiredState | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(o: RuntimeOptions) {
    this.#o = o;
    this.#open = o.openBackstore ?? defaultOpenBackstore;
    this.#server = new IscsiServer({
      portals: [],
      targets: [],
      log: o.log,
      ...(o.nopIntervalMs !== undefined ? { nopIntervalMs: o.nopIntervalMs } : {}),
      ...(o.nopTimeoutMs !== undefined ? { nopTimeoutMs: o.nopTimeoutMs } : {}),
    });
  }

  /** The running state (with secrets: never send it anywhere). */
  get state(): DesiredState | undefined {
    return this.#state;
  }

  /** Validates and applies a state; refuses (changing nothing) to take away a LUN in use unless force. */
  apply(input: unknown, opts: { force?: boolean } = {}): Promise<ApplyResult> {
    const run = this.#queue.then(() => {
      if (this.#closed) throw new ControlError('internal', 'the target is shutting down');
      let next: DesiredState;
      try {
        next = validateState(input);
      } catch (err) {
        throw new ControlError('invalid-state', (err as Error).message);
      }
      return this.#apply(next, opts.force ?? false);
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Live sessions a target has (its LUNs are in use while an initiator is logged in). */
  #sessionsOf(name: string): number {
    const key = name.toLowerCase();
    return this.#server.sessionList().filter((s) => s.kind === 'Normal' && s.target?.toLowerCase() === key).length;
  }

  async #apply(next: DesiredState, force: boolean): Promise<ApplyResult> {
    const result: ApplyResult = {
      changed: false,
      targetsAdded: [],
      targetsRemoved: [],
      targetsUpdated: [],
      lunsAdded: [],
      lunsRemoved: [],
      capacityRefreshed: [],
      portalsChanged: false,
      sessionsEnded: 0,
      warnings: [],
    };
    const backstores = new Map(next.backstores.map((b) => [b.name, b] as const));
    const wanted = new Map(next.targets.map((t) => [t.name.toLowerCase(), t] as const));

    // 1. refuse before touching anything: a LUN that goes away or is replaced while in use
    const busy: string[] = [];
    for (const [key, run] of this.#targets) {
      const nt = wanted.get(key);
      const sessions = this.#sessionsOf(run.spec.name);
      for (const l of run.luns.values()) {
        const m = nt?.luns.find((x) => x.lun === l.lun);
        if (m && lunIdentity(backstores.get(m.backstore)!) === lunIdentity(l.spec)) continue;
        const inFlight = run.stats.inFlight(l.lun);
        if (sessions > 0 || inFlight > 0) busy.push(`${run.spec.name} LUN ${l.lun} (${sessions} session(s), ${inFlight} command(s) in flight)`);
      }
    }
    if (busy.length > 0 && !force) throw new ControlError('in-use', `LUNs in use would be removed (apply with force to do it anyway): ${busy.join(', ')}`);

    // 2. open every new backstore; if one fails, nothing has changed yet
    const opened: Backstore[] = [];
    const plans = new Map<string, { spec: DesiredTarget; luns: Map<number, RunningLun>; grown: number[] }>();
    try {
      for (const t of next.targets) {
        const run = this.#targets.get(t.name.toLowerCase());
        const luns = new Map<number, RunningLun>();
        const grown: number[] = [];
        for (const m of t.luns) {
          const spec = backstores.get(m.backstore)!;
          const prev = run?.luns.get(m.lun);
          if (prev && lunIdentity(prev.spec) === lunIdentity(spec)) {
            luns.set(m.lun, { lun: m.lun, spec, entry: prev.entry });
            // the soft threshold is read at every sample: a new percentage applies to the running LU in place
            prev.entry.softThresholdPercent = softThresholdOf(spec);
            if (spec.sizeBytes !== prev.spec.sizeBytes) grown.push(m.lun);
            continue;
          }
          let backstore: Backstore;
          try {
            backstore = await this.#open(spec.path, { readOnly: spec.readOnly, writeThrough: !spec.writeBack });
          } catch (err) {
            throw new ControlError('backstore', `${t.name} LUN ${m.lun} (${spec.name}): ${(err as Error).message}`);
          }
          opened.push(backstore);
          luns.set(m.lun, {
            lun: m.lun,
            spec,
            entry: {
              // SPC-4 §7.8.6.6: the LU designators derive from the store's NAA id, so they survive restarts
              id: spec.naaId,
              serial: spec.serial,
              readOnly: spec.readOnly,
              blockSize: spec.blockSize,
              writeCache: spec.writeBack ? 'back' : 'through',
              backstore,
              ...(this.#o.prStateDir ? { prStatePath: join(this.#o.prStateDir, `${spec.naaId}.pr.json`) } : {}),
              ...(softThresholdOf(spec) !== undefined ? { softThresholdPercent: softThresholdOf(spec)! } : {}),
            },
          });
        }
        plans.set(t.name.toLowerCase(), { spec: t, luns, grown });
      }
    } catch (err) {
      for (const b of opened) await b.close().catch(() => undefined);
      throw err;
    }

    // 3. portals: every portal group's, each listening with its group's tag (RFC 7143 §4.4.1: a connection's TPGT is
    // its portal's). One listener per address:port: targets sharing one should give it the same tag (the store does)
    const portals = new Map<string, PortalEntry>();
    for (const t of next.targets) {
      for (const g of portalGroupsOf(t)) {
        for (const p of g.portals) {
          const shared = portals.get(portalKey(p));
          if (!shared) portals.set(portalKey(p), { host: p.host, port: p.port, portalGroupTag: g.tag });
          else if (shared.portalGroupTag !== g.tag) result.warnings.push(`${t.name}: portal ${p.host}:${p.port} is in portal group ${g.tag} but already listens as portal group ${shared.portalGroupTag}`);
        }
      }
    }
    const tagged = (p: PortalEntry): string => `${portalKey(p)}|${p.portalGroupTag}`;
    const before = this.#server.o.portals.map(tagged).sort().join(',');
    const after = [...portals.values()].map(tagged).sort().join(',');
    if (before !== after) {
      const previous = this.#server.o.portals.map((p) => ({ ...p }));
      try {
        await this.#server.setPortals([...portals.values()]);
      } catch (err) {
        for (const b of opened) await b.close().catch(() => undefined);
        await this.#server.setPortals(previous).catch(() => undefined);
        throw new ControlError('portal', (err as Error).message);
      }
      result.portalsChanged = true;
    }

    // 4. LUN maps of targets that stay, then the target table
    const entries: TargetEntry[] = [];
    const nextTargets = new Map<string, RunningTarget>();
    const lunSwaps: Array<{ target: string; swap: () => Promise<void> }> = [];
    for (const [key, plan] of plans) {
      const run = this.#targets.get(key);
      const t = plan.spec;
      const access = accessRulesOf(t.acl);
      if (!run) {
        const stats = new TargetStats();
        const device = new ScsiTargetDevice({
          targetName: t.name,
          luns: new Map([...plan.luns].map(([n, l]) => [n, l.entry])),
          log: (m) => this.#o.log.warn(m),
          stats,
        });
        const entry = this.#entryOf(t, device, access);
        entries.push(entry);
        nextTargets.set(key, { spec: t, entry, device, stats, luns: plan.luns });
        result.targetsAdded.push(t.name);
        for (const n of plan.luns.keys()) result.lunsAdded.push({ target: t.name, lun: n });
        continue;
      }
      const mapChanged = plan.luns.size !== run.luns.size || [...plan.luns].some(([n, l]) => run.luns.get(n)?.entry !== l.entry);
      if (mapChanged) {
        for (const [n, l] of run.luns) {
          if (plan.luns.get(n)?.entry === l.entry) continue;
          result.lunsRemoved.push({ target: t.name, lun: n });
          run.stats.reset(n);
        }
        for (const [n, l] of plan.luns) if (run.luns.get(n)?.entry !== l.entry) result.lunsAdded.push({ target: t.name, lun: n });
        // SPC-4 §6.33 / SAM-5 §5.14: every nexus learns of the new inventory through REPORTED LUNS DATA HAS CHANGED
        const map = new Map([...plan.luns].map(([n, l]) => [n, l.entry] as const));
        lunSwaps.push({ target: t.name, swap: () => run.device.setLuns(map) });
      }
      if (entryIdentity(t) === entryIdentity(run.spec)) {
        entries.push(run.entry);
      } else {
        entries.push(this.#entryOf(t, run.device, access));
        result.targetsUpdated.push(t.name);
      }
      // the server keeps the live entry object and copies new settings onto it
      nextTargets.set(key, { spec: t, entry: run.entry, device: run.device, stats: run.stats, luns: plan.luns });
    }
    for (const [key, run] of this.#targets) {
      if (plans.has(key)) continue;
      result.targetsRemoved.push(run.spec.name);
      for (const n of run.luns.keys()) result.lunsRemoved.push({ target: run.spec.name, lun: n });
    }
    // LUN maps and the target table (ACL, CHAP) change in the same turn of the event loop: setTargets switches the
    // table before its first await, and every setLuns is started just before it — whatever a setLuns does before
    // its own first await lands in that same turn, anything later (unmapping further LUNs, mapping new ones) lands
    // under the new ACL. No initiator that the new ACL refuses ever reaches a LUN the new state adds.
    const swapping = lunSwaps.map((l) => l.swap());
    const settingTargets = this.#server.setTargets(entries);
    const swapped = await Promise.allSettled(swapping);
    const done = await settingTargets;
    swapped.forEach((r, i) => {
      if (r.status === 'rejected') result.warnings.push(`${lunSwaps[i]!.target}: LUN map change: ${(r.reason as Error).message}`);
    });
    result.sessionsEnded = done.sessionsEnded;
    this.#targets.clear();
    for (const [k, v] of nextTargets) this.#targets.set(k, v);

    // 5. discovery CHAP (one-way and mutual) applies to the next discovery login
    this.#server.o.discoveryChap = next.discoveryChap;
    this.#server.o.discoveryMutualChap = next.discoveryChap ? next.discoveryMutualChap : undefined;

    // 6. SBC-4 §4.6: a LUN whose size changed reports CAPACITY DATA HAS CHANGED
    for (const [key, plan] of plans) {
      const run = this.#targets.get(key)!;
      for (const n of plan.grown) {
        try {
          const sizeBytes = await run.device.refreshCapacity(n);
          result.capacityRefreshed.push({ target: plan.spec.name, lun: n, sizeBytes });
        } catch (err) {
          result.warnings.push(`${plan.spec.name} LUN ${n}: capacity refresh failed: ${(err as Error).message}`);
        }
      }
    }

    result.changed =
      result.portalsChanged ||
      result.targetsAdded.length + result.targetsRemoved.length + result.targetsUpdated.length + result.lunsAdded.length + result.lunsRemoved.length + result.capacityRefreshed.length > 0 ||
      JSON.stringify(this.#state ?? null) !== JSON.stringify(next);
    this.#state = next;
    if (this.#o.persist) await this.#o.persist(next);
    for (const t of result.targetsAdded) this.#o.log.info(`target ${t} added`);
    for (const t of result.targetsRemoved) this.#o.log.info(`target ${t} removed`);
    for (const l of result.lunsAdded) this.#o.log.info(`${l.target} LUN ${l.lun} mapped`);
    for (const l of result.lunsRemoved) this.#o.log.info(`${l.target} LUN ${l.lun} unmapped`);
    for (const w of result.warnings) this.#o.log.warn(w);
    return result;
  }

  #entryOf(t: DesiredTarget, device: ScsiTargetDevice, access: AccessRule[]): TargetEntry {
    const groups = servedGroups(t);
    return {
      name: t.name,
      alias: t.alias,
      // SPC-4 §5.16: each portal group is one target port group; its state reaches RTPG and command filtering, and a
      // change of it is an implicit transition (ASYMMETRIC ACCESS STATE CHANGED on every nexus, no session drops)
      portalGroupTag: groups[0]?.tag ?? 1,
      extraPortalGroupTags: groups.slice(1).map((g) => g.tag),
      portalGroupStates: Object.fromEntries(groups.map((g) => [g.tag, ACCESS_STATE[g.aluaState]])),
      device,
      // the store's ACL decides (access); allowedInitiators is the command line's name list, unused here
      allowedInitiators: [],
      access,
      chap: t.chap ? { user: t.chap.user, secret: t.chap.secret } : undefined,
      mutualChap: t.mutualChap ? { user: t.mutualChap.user, secret: t.mutualChap.secret } : undefined,
    };
  }

  /** Addresses actually listened on (port 0 resolved). */
  portals(): Array<{ host: string; port: number }> {
    return this.#server.o.portals.map((p) => ({ host: p.host, port: p.port }));
  }

  sessions(): SessionInfo[] {
    return this.#server.sessionList();
  }

  stats(): Array<{ target: string; luns: Array<LunCounters & { backstore: string | undefined }> }> {
    return [...this.#targets.values()].map((run) => ({
      target: run.spec.name,
      luns: run.stats
        .snapshot()
        .filter((c) => run.luns.has(c.lun) || c.inFlight > 0)
        .map((c) => ({ ...c, backstore: run.luns.get(c.lun)?.spec.name })),
    }));
  }

  /**
   * Ends one live session (the initiator is asked to log out first, RFC 7143 §11.9.1); not-found when no session
   * has that TSIH. The initiator may log in again if the ACL still admits it.
   */
  async endSession(tsih: number): Promise<{ tsih: number; ended: 'logged-out' | 'dropped' }> {
    const ending = this.#server.endSession(tsih, END_SESSION_LOGOUT_SECONDS);
    if (!ending) throw new ControlError('not-found', `no session with TSIH ${tsih}`);
    return { tsih, ended: await ending };
  }

  /**
   * Pool usage from the management plane (SBC-4 §4.7.3.8): each entry names a backstore path, or a directory holding
   * backstore files (the file pool), and the share of it in use. Every LUN there gets ScsiTargetDevice.setPoolUsage;
   * the most specific entry wins. Returns how many LUNs were updated and which raised the soft threshold UA now.
   */
  poolUsage(entries: ReadonlyArray<{ path: string; usedFraction: number }>): { updated: number; raised: Array<{ target: string; lun: number }> } {
    const out = { updated: 0, raised: [] as Array<{ target: string; lun: number }> };
    for (const run of this.#targets.values()) {
      for (const l of run.luns.values()) {
        let best: { path: string; usedFraction: number } | undefined;
        for (const e of entries) {
          const covers = l.spec.path === e.path || l.spec.path.startsWith(e.path.endsWith('/') ? e.path : `${e.path}/`);
          if (covers && (!best || e.path.length > best.path.length)) best = e;
        }
        if (!best || !run.device.hasLun(l.lun)) continue;
        out.updated++;
        if (run.device.setPoolUsage(l.lun, best.usedFraction)) out.raised.push({ target: run.spec.name, lun: l.lun });
      }
    }
    return out;
  }

  async refreshCapacity(target: string, lun: number): Promise<number> {
    const run = this.#targets.get(target.toLowerCase());
    if (!run) throw new ControlError('not-found', `no target ${target}`);
    if (!run.luns.has(lun)) throw new ControlError('not-found', `${run.spec.name} has no LUN ${lun}`);
    return run.device.refreshCapacity(lun);
  }

  async close(graceMs = 1000): Promise<void> {
    this.#closed = true;
    await this.#queue;
    await this.#server.close(graceMs);
  }
}
