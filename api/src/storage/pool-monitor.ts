/**
 * Pool usage → the target's thin-provisioning soft threshold (SBC-4 §4.7.3.8: UNIT ATTENTION 38h/07h). Every few
 * seconds serve reads how full each pool is — the file pool by statfs, thin pools by lvs (StorageManager.checkPools) —
 * and sends targetd `poolUsage` entries for the LUNs living there:
 *   - a file-backed LUN: 1 - free / LUN size (clamped to [0, 1]): the same measure the target samples itself after
 *     writes ("could the LUN still grow by PERCENT % of its size?"), so both agree and the UA never flaps;
 *   - a thin LV: the pool's data or metadata use, whichever is higher (either running out stops writes).
 * Thick (linear) LVs are fully allocated: no entry. Thin pools crossing their data/metadata thresholds, and the file
 * pool's file system crossing the data threshold, raise alerts (once per crossing).
 */
import { EventEmitter } from 'node:events';
import type { ThresholdEvent } from '../../../lvm/src/index.ts';
import type { StorageBackend } from './backend.ts';
import { filePoolInfo } from './backend.ts';
import type { FilePoolInfo } from './backend.ts';
import type { Alert } from './schedules.ts';

export interface PoolUsageEntry {
  path: string;
  usedFraction: number;
}

const clamp = (x: number) => Math.min(1, Math.max(0, x));

export interface PoolMonitorOptions {
  intervalMs?: number;
  /** the file pool's file system (tests inject one) */
  statfs?: (dir: string) => Promise<FilePoolInfo>;
}

export class PoolMonitor extends EventEmitter<{ alert: [Alert] }> {
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<unknown> | undefined;
  #filePoolAbove = false;

  constructor(
    readonly backend: StorageBackend,
    /** sends the entries to targetd (serve: TargetClient.request('poolUsage', {entries})) */
    readonly send: (entries: PoolUsageEntry[]) => Promise<unknown>,
    readonly o: PoolMonitorOptions = {},
  ) {
    super();
    backend.lvm?.on('pool-threshold', (e) => this.emit('alert', thinAlert(e)));
  }

  /** The entries for the LUNs of the store now. */
  async entries(): Promise<PoolUsageEntry[]> {
    const luns = this.backend.store.listLuns();
    const out: PoolUsageEntry[] = [];
    const files = luns.filter((l) => l.backing === 'file');
    if (files.length || !this.backend.lvm) {
      const fs = await (this.o.statfs ?? filePoolInfo)(this.backend.store.pool.dir);
      for (const l of files) out.push({ path: l.path, usedFraction: clamp(1 - fs.freeBytes / l.sizeBytes) });
      const usedPercent = fs.sizeBytes > 0 ? (100 * (fs.sizeBytes - fs.freeBytes)) / fs.sizeBytes : 0;
      const limit = this.backend.poolThresholds.data;
      if (!this.#filePoolAbove && usedPercent >= limit) {
        this.#filePoolAbove = true;
        this.emit('alert', { at: Date.now(), level: 'warning', source: 'pool', message: `file pool ${fs.path} is ${usedPercent.toFixed(1)} % full (threshold ${limit} %)`, detail: { path: fs.path, usedPercent } });
      } else if (this.#filePoolAbove && usedPercent < limit - 2) {
        this.#filePoolAbove = false;
        this.emit('alert', { at: Date.now(), level: 'info', source: 'pool', message: `file pool ${fs.path} is back below ${limit} % (${usedPercent.toFixed(1)} %)`, detail: { path: fs.path, usedPercent } });
      }
    }
    if (this.backend.lvm) {
      const { usage } = await this.backend.lvm.checkPools();
      const byPath = new Map(luns.filter((l) => l.backing === 'lv').map((l) => [l.path, l]));
      for (const u of usage) {
        for (const thin of u.thinVolumes) {
          const path = `/dev/${u.vg}/${thin}`;
          if (byPath.has(path)) out.push({ path, usedFraction: clamp(Math.max(u.dataPercent, u.metadataPercent) / 100) });
        }
      }
    }
    return out;
  }

  /** One round: read, send. Returns targetd's answer. */
  async poll(): Promise<unknown> {
    const entries = await this.entries();
    return this.send(entries);
  }

  start(): void {
    const every = this.o.intervalMs ?? 5000;
    const loop = () => {
      this.#polling = this.poll()
        .catch(() => undefined) // targetd away or lvs failing: the next round tries again
        .finally(() => {
          if (this.#timer !== undefined) this.#timer = setTimeout(loop, every).unref();
        });
    };
    this.#timer = setTimeout(loop, 0).unref();
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#polling;
  }
}

function thinAlert(e: ThresholdEvent): Alert {
  const crossed = e.state === 'crossed';
  return {
    at: Date.now(), level: crossed ? 'warning' : 'info', source: 'pool',
    message: `thin pool ${e.vg}/${e.pool} ${e.metric} is ${e.percent} % ${crossed ? 'full, at or above' : 'full, back below'} its ${e.threshold} % threshold`,
    detail: { ...e },
  };
}
