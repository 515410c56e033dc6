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
import type { PortalEntry, TargetEntry } from '../iscsi/target-config.ts';
import type { Logger } from '../log.ts';
import { ScsiTargetDevice } from '../scsi/device.ts';
import { TargetStats } from '../scsi/stats.ts';
import type { LunCounters } from '../scsi/stats.ts';
import type { LunEntry } from '../scsi/types.ts';
import { allowedInitiatorsOf } from './acl.ts';
import { ControlError } from './errors.ts';
import { validateState } from './state.ts';
import type { DesiredBackstore, DesiredState, DesiredTarget } from './state.ts';

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
  return JSON.stringify([t.alias ?? null, t.portalGroupTag, t.acl, t.chap ?? null, t.mutualChap ?? null]);
}

const portalKey = (p: { host: string; port: number }): string => `${p.host}|${p.port}`;

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
            },
          });
        }
        plans.set(t.name.toLowerCase(), { spec: t, luns, grown });
      }
    } catch (err) {
      for (const b of opened) await b.close().catch(() => undefined);
      throw err;
    }

    // 3. portals: each target's own, deduplicated by address (all targets share portal group tag semantics)
    const portals = new Map<string, PortalEntry>();
    for (const t of next.targets) for (const p of t.portals) if (!portals.has(portalKey(p))) portals.set(portalKey(p), { ...p, portalGroupTag: t.portalGroupTag });
    const before = this.#server.o.portals.map(portalKey).sort().join(',');
    const after = [...portals.keys()].sort().join(',');
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
    for (const [key, plan] of plans) {
      const run = this.#targets.get(key);
      const t = plan.spec;
      const { allowedInitiators, unenforced } = allowedInitiatorsOf(t.acl);
      for (const g of unenforced) result.warnings.push(`${t.name}: ACL entry ${g} restricts networks, which the target cannot check yet; it admits nobody`);
      if (!run) {
        const stats = new TargetStats();
        const device = new ScsiTargetDevice({
          targetName: t.name,
          luns: new Map([...plan.luns].map(([n, l]) => [n, l.entry])),
          log: (m) => this.#o.log.warn(m),
          stats,
        });
        const entry = this.#entryOf(t, device, allowedInitiators);
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
        await run.device.setLuns(new Map([...plan.luns].map(([n, l]) => [n, l.entry])));
      }
      if (entryIdentity(t) === entryIdentity(run.spec)) {
        entries.push(run.entry);
      } else {
        entries.push(this.#entryOf(t, run.device, allowedInitiators));
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
    const done = await this.#server.setTargets(entries);
    result.sessionsEnded = done.sessionsEnded;
    this.#targets.clear();
    for (const [k, v] of nextTargets) this.#targets.set(k, v);

    // 5. discovery CHAP applies to the next discovery login
    this.#server.o.discoveryChap = next.discoveryChap;
    if (next.discoveryMutualChap) result.warnings.push('mutual CHAP for discovery sessions is not supported by the target yet; one-way CHAP applies');

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

  #entryOf(t: DesiredTarget, device: ScsiTargetDevice, allowedInitiators: string[]): TargetEntry {
    // every optional key is present (possibly undefined): setTargets copies the entry onto the live one with
    // Object.assign, so a key left out would keep the old value (a removed CHAP secret would stay in force)
    return {
      name: t.name,
      alias: t.alias,
      portalGroupTag: t.portalGroupTag,
      device,
      allowedInitiators,
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
