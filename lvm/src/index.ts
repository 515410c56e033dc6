// StorageManager: the facade the API and the service use. Changes run one at a time (a queue: lvm2 takes
// its own VG locks, but interleaved multi-step operations — deactivate, merge, activate — must not be),
// each bounded in time and cancellable; reads run at once. Pool threshold crossings are emitted as events.
import { EventEmitter } from 'node:events';
import { createContext } from './context.ts';
import type { ContextOptions, LvmContext } from './context.ts';
import { listDisks } from './disks.ts';
import type { DiskInfo, ListDisksOptions } from './disks.ts';
import { StorageError } from './errors.ts';
import type { Runner } from './exec.ts';
import { OperationJournal } from './journal.ts';
import type { JournalEntry } from './journal.ts';
import * as lv from './lv.ts';
import type { InUseCheck, ShrinkOptions } from './lv.ts';
import * as pv from './pv.ts';
import type { CreatePvOptions } from './pv.ts';
import type { LvInfo, PvInfo, ReportFormat, VgInfo } from './report.ts';
import * as snapshot from './snapshot.ts';
import type { RollbackHooks, RollbackResult, SnapshotOptions } from './snapshot.ts';
import * as thin from './thin.ts';
import type { CreatePoolOptions, PoolUsage, ThresholdEvent } from './thin.ts';
import * as vg from './vg.ts';

export * from './errors.ts';
export type { DiskInfo, InUseCheck, LvInfo, PoolUsage, PvInfo, RollbackResult, Runner, ThresholdEvent, VgInfo };
export { localRunner, execTool } from './exec.ts';

export interface StorageManagerOptions {
  runner?: Runner;
  /** PATH for the tools (tests). */
  path?: string;
  reportFormat?: ReportFormat;
  /** Bound on each tool process. Default 60 s. */
  commandTimeoutMs?: number;
  /** Bound on each whole operation (all its processes). Default 10 min. */
  operationTimeoutMs?: number;
  /** Answers whether an LV is mapped as a LUN (removal, rename, rollback are refused while it is). */
  inUse?: InUseCheck;
  thresholds?: { data: number; metadata: number };
  /** How thick clones copy blocks (default: local reads/writes; a remote runner needs its own). */
  blockCopy?: snapshot.BlockCopy;
  /** Intent journal file (e.g. /var/lib/openlun/storage-journal.json): see recover(). */
  journalPath?: string;
}

export interface RecoveryReport {
  /** The change that was running when the previous process died. */
  interrupted: JournalEntry;
  /** What recovery did, and the state found, in sentences for the admin. */
  actions: string[];
}

export interface OpOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface StorageManagerEvents {
  'pool-threshold': [ThresholdEvent];
}

export class StorageManager extends EventEmitter<StorageManagerEvents> {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly watcher: thin.PoolThresholdWatcher;
  /** Operations queued or running. */
  pending = 0;
  private readonly journal: OperationJournal | undefined;

  constructor(private readonly opts: StorageManagerOptions = {}) {
    super();
    this.watcher = new thin.PoolThresholdWatcher(opts.thresholds);
    this.journal = opts.journalPath ? new OperationJournal(opts.journalPath) : undefined;
  }

  private ctxOptions(signal?: AbortSignal): ContextOptions {
    const o = this.opts;
    return {
      ...(o.runner ? { runner: o.runner } : {}), ...(o.path ? { path: o.path } : {}),
      ...(o.reportFormat ? { reportFormat: o.reportFormat } : {}),
      ...(o.commandTimeoutMs ? { timeoutMs: o.commandTimeoutMs } : {}), ...(signal ? { signal } : {}),
    };
  }

  /** Reads: not queued, bounded per process. */
  private read<T>(fn: (ctx: LvmContext) => Promise<T>, op: OpOptions = {}): Promise<T> {
    return fn(createContext(this.ctxOptions(op.signal)));
  }

  /** Changes: queued, then run with a deadline and the caller's signal merged into one AbortSignal. */
  private change<T>(name: string, fn: (ctx: LvmContext) => Promise<T>, op: OpOptions = {}, args: unknown[] = []): Promise<T> {
    const limit = op.timeoutMs ?? this.opts.operationTimeoutMs ?? 600_000;
    this.pending++;
    const run = async (): Promise<T> => {
      if (op.signal?.aborted) throw new StorageError('aborted', `${name}: cancelled before it started`);
      const deadline = new AbortController();
      const timer = setTimeout(() => deadline.abort(), limit);
      const signal = op.signal ? AbortSignal.any([op.signal, deadline.signal]) : deadline.signal;
      try {
        await this.journal?.begin(name, args);
        const result = await fn(createContext(this.ctxOptions(signal)));
        await this.journal?.end();
        return result;
      } catch (e) {
        // The change ended (failed, refused, timed out): not "interrupted"; lvm2 left consistent metadata.
        await this.journal?.end();
        if (deadline.signal.aborted && (e instanceof StorageError) && e.code === 'aborted') {
          throw new StorageError('timeout', `${name}: did not finish within ${limit} ms (stopped)`, { cause: e });
        }
        throw e;
      } finally {
        clearTimeout(timer);
      }
    };
    const p = this.tail.then(run, run).finally(() => { this.pending--; });
    this.tail = p.catch(() => {});
    if (!op.signal) return p;
    // A caller that cancels while queued gets its answer now, not when its turn comes.
    const signal = op.signal;
    return Promise.race([p, new Promise<never>((_, reject) => {
      const onAbort = () => reject(new StorageError('aborted', `${name}: cancelled`));
      if (signal.aborted) onAbort(); else signal.addEventListener('abort', onAbort, { once: true });
      void p.finally(() => signal.removeEventListener('abort', onAbort)).catch(() => {});
    })]);
  }

  // disks and PVs
  listDisks(o: ListDisksOptions = {}, op?: OpOptions): Promise<DiskInfo[]> { return this.read((c) => listDisks(c, o), op); }
  listPvs(op?: OpOptions): Promise<PvInfo[]> { return this.read((c) => pv.listPvs(c), op); }
  createPv(device: string, o?: CreatePvOptions, op?: OpOptions): Promise<PvInfo> { return this.change('createPv', (c) => pv.createPv(c, device, o), op, [device, o]); }
  removePv(device: string, op?: OpOptions): Promise<void> { return this.change('removePv', (c) => pv.removePv(c, device), op, [device]); }

  // VGs
  listVgs(op?: OpOptions): Promise<VgInfo[]> { return this.read((c) => vg.listVgs(c), op); }
  getVg(name: string, op?: OpOptions): Promise<VgInfo> { return this.read((c) => vg.getVg(c, name), op); }
  createVg(name: string, devices: string[], op?: OpOptions): Promise<VgInfo> { return this.change('createVg', (c) => vg.createVg(c, name, devices), op, [name, devices]); }
  extendVg(name: string, devices: string[], op?: OpOptions): Promise<VgInfo> { return this.change('extendVg', (c) => vg.extendVg(c, name, devices), op, [name, devices]); }
  reduceVg(name: string, devices: string[], op?: OpOptions): Promise<VgInfo> { return this.change('reduceVg', (c) => vg.reduceVg(c, name, devices), op, [name, devices]); }
  renameVg(from: string, to: string, op?: OpOptions): Promise<VgInfo> { return this.change('renameVg', (c) => vg.renameVg(c, from, to), op, [from, to]); }
  removeVg(name: string, op?: OpOptions): Promise<void> { return this.change('removeVg', (c) => vg.removeVg(c, name), op, [name]); }

  // LVs
  listLvs(vgName?: string, op?: OpOptions): Promise<LvInfo[]> { return this.read((c) => lv.listLvs(c, vgName), op); }
  getLv(vgName: string, name: string, op?: OpOptions): Promise<LvInfo> { return this.read((c) => lv.getLv(c, vgName, name), op); }
  createLinear(vgName: string, name: string, bytes: number, op?: OpOptions): Promise<LvInfo> { return this.change('createLinear', (c) => lv.createLinear(c, vgName, name, bytes), op, [vgName, name, bytes]); }
  extendLv(vgName: string, name: string, newBytes: number, op?: OpOptions): Promise<LvInfo> { return this.change('extendLv', (c) => lv.extendLv(c, vgName, name, newBytes), op, [vgName, name, newBytes]); }
  shrinkLv(vgName: string, name: string, newBytes: number, o: ShrinkOptions, op?: OpOptions): Promise<LvInfo> { return this.change('shrinkLv', (c) => lv.shrinkLv(c, vgName, name, newBytes, o), op, [vgName, name, newBytes, o]); }
  renameLv(vgName: string, from: string, to: string, op?: OpOptions): Promise<LvInfo> { return this.change('renameLv', (c) => lv.renameLv(c, vgName, from, to, this.opts.inUse), op, [vgName, from, to]); }
  removeLv(vgName: string, name: string, op?: OpOptions): Promise<void> { return this.change('removeLv', (c) => lv.removeLv(c, vgName, name, this.opts.inUse), op, [vgName, name]); }

  // thin
  createPool(vgName: string, name: string, bytes: number, o?: CreatePoolOptions, op?: OpOptions): Promise<LvInfo> { return this.change('createPool', (c) => thin.createPool(c, vgName, name, bytes, o), op, [vgName, name, bytes, o]); }
  extendPoolData(vgName: string, name: string, newBytes: number, op?: OpOptions): Promise<LvInfo> { return this.change('extendPoolData', (c) => thin.extendPoolData(c, vgName, name, newBytes), op, [vgName, name, newBytes]); }
  extendPoolMetadata(vgName: string, name: string, newBytes: number, op?: OpOptions): Promise<LvInfo> { return this.change('extendPoolMetadata', (c) => thin.extendPoolMetadata(c, vgName, name, newBytes), op, [vgName, name, newBytes]); }
  createThin(vgName: string, pool: string, name: string, virtualBytes: number, op?: OpOptions): Promise<LvInfo> { return this.change('createThin', (c) => thin.createThin(c, vgName, pool, name, virtualBytes), op, [vgName, pool, name, virtualBytes]); }
  poolUsage(vgName?: string, op?: OpOptions): Promise<PoolUsage[]> { return this.read((c) => thin.poolUsage(c, vgName), op); }
  /** Reads pool usage and emits 'pool-threshold' for each crossing since the last check. Call it periodically. */
  async checkPools(op?: OpOptions): Promise<{ usage: PoolUsage[]; events: ThresholdEvent[] }> {
    const usage = await this.poolUsage(undefined, op);
    const events = this.watcher.update(usage);
    for (const e of events) this.emit('pool-threshold', e);
    return { usage, events };
  }

  // snapshots
  createSnapshot(vgName: string, origin: string, name: string, o?: SnapshotOptions, op?: OpOptions): Promise<LvInfo> { return this.change('createSnapshot', (c) => snapshot.createSnapshot(c, vgName, origin, name, o), op, [vgName, origin, name, o]); }
  listSnapshots(vgName: string, origin?: string, op?: OpOptions): Promise<LvInfo[]> { return this.read((c) => snapshot.listSnapshots(c, vgName, origin), op); }
  rollback(vgName: string, snap: string, hooks?: RollbackHooks, op?: OpOptions): Promise<RollbackResult> {
    return this.change('rollback', async (c) => {
      await this.journal?.note({ origin: (await lv.getLv(c, vgName, snap)).origin });
      return snapshot.rollback(c, vgName, snap, hooks);
    }, op, [vgName, snap]);
  }

  /**
   * At start: report a change the previous process didn't finish, and put right what it left half done
   * (a rollback's origin left inactive is activated; lvm2 resumes a pending merge on activation). Clears it.
   */
  async recover(op?: OpOptions): Promise<RecoveryReport | null> {
    const entry = await this.journal?.unfinished();
    if (!this.journal || !entry) return null;
    const actions: string[] = [`${entry.op}(${entry.args.map((a) => JSON.stringify(a)).join(', ')}) started ${entry.startedAt} by pid ${entry.pid} did not finish`];
    await this.change('recover', async (c) => {
      if (entry.op === 'rollback') {
        const [vgName, snap] = entry.args as [string, string];
        const origin = entry.notes.origin as string | undefined;
        const lvs = await lv.listLvs(c, vgName, { all: true });
        const s = lvs.find((l) => l.name === snap);
        actions.push(s ? `snapshot ${vgName}/${snap} still exists${s.merging ? ' (merge pending)' : ''}` : `snapshot ${vgName}/${snap} is gone: the merge completed`);
        const o = origin ? lvs.find((l) => l.name === origin) : undefined;
        if (o && !o.active) {
          await lv.setActive(c, vgName, o.name, true);
          actions.push(`activated ${vgName}/${o.name}${s?.merging ? ' (the merge resumes)' : ''}; bring its LUN back online`);
        } else if (o) {
          actions.push(`${vgName}/${o.name} is active`);
        }
      } else {
        const vgs = await vg.listVgs(c);
        actions.push(`volume groups now: ${vgs.map((v) => `${v.name} (${v.lvCount} LVs${v.partial ? ', PARTIAL' : ''})`).join(', ') || 'none'}`);
      }
    }, op);
    return { interrupted: entry, actions };
  }
  /** One run of a snapshot schedule with a retention count (the service owns the timer). */
  scheduledSnapshot(vgName: string, origin: string, o: Omit<snapshot.ScheduledSnapshotOptions, 'inUse'>, op?: OpOptions): Promise<snapshot.ScheduledSnapshotResult> {
    return this.change('scheduledSnapshot', (c) => snapshot.scheduledSnapshot(c, vgName, origin, { ...o, ...(this.opts.inUse ? { inUse: this.opts.inUse } : {}) }), op, [vgName, origin, o]);
  }
  /** Thin: instant. Thick: a full copy (bounded by the operation's time limit, cancellable between chunks). */
  cloneSnapshot(vgName: string, snap: string, name: string, op?: OpOptions): Promise<LvInfo> { return this.change('cloneSnapshot', (c) => snapshot.cloneSnapshot(c, vgName, snap, name, this.opts.blockCopy), op, [vgName, snap, name]); }
}

