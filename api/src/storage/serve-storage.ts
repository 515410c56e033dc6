/**
 * serve's storage wiring, kept out of serve.ts: which mode (LVM when asked or when a volume group exists, else the
 * file pool), the desired-state additions, the target hooks a rollback or an LV removal needs, the snapshot
 * scheduler and the pool monitor, and where their alerts go.
 */
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { StorageManager } from '../../../lvm/src/index.ts';
import type { DesiredState } from '../desired-state.ts';
import type { Store } from '../store/store.ts';
import type { Lun } from '../store/types.ts';
import type { TargetClient } from '../target-client.ts';
import { StorageBackend, lunInUse } from './backend.ts';
import { withStorage } from './desired.ts';
import { PoolMonitor } from './pool-monitor.ts';
import { SnapshotScheduler } from './schedules.ts';
import type { Alert } from './schedules.ts';

export type StorageChoice = 'auto' | 'lvm' | 'file';

export interface StorageSetup {
  mode: 'lvm' | 'file';
  backend(store: Store): StorageBackend;
}

/** --storage lvm: LVM (lvm2 must answer); auto: LVM when any volume group exists; file otherwise. */
export async function chooseStorage(choice: StorageChoice, dataDir: string, say: (m: string) => void): Promise<StorageSetup> {
  let store: Store | undefined;
  const mgr = choice === 'file' ? undefined : new StorageManager({
    journalPath: join(dataDir, 'storage-journal.json'),
    inUse: (vg, lv) => (store ? lunInUse(store)(vg, lv) : `the store is not open yet (${vg}/${lv})`),
  });
  let mode: 'lvm' | 'file' = 'file';
  if (mgr) {
    try {
      const vgs = await mgr.listVgs({ timeoutMs: 15_000 });
      mode = choice === 'lvm' || vgs.length > 0 ? 'lvm' : 'file';
      if (mode === 'lvm') say(`storage: LVM (${vgs.map((v) => v.name).join(', ') || 'no volume group yet'})`);
    } catch (e) {
      if (choice === 'lvm') throw new Error(`--storage lvm: lvm2 does not answer: ${(e as Error).message}`);
    }
  }
  if (mode === 'file') say('storage: file pool (no volume group found; --storage lvm to manage disks)');
  if (mode === 'lvm') {
    const recovered = await mgr!.recover().catch((e: Error) => ({ interrupted: null, actions: [`recovery check failed: ${e.message}`] }));
    if (recovered) say(`storage: ${recovered.actions.join('; ')}`);
  }
  return {
    mode,
    backend(s: Store) {
      store = s;
      return mode === 'lvm' ? new StorageBackend(s, 'lvm', mgr) : new StorageBackend(s, 'file');
    },
  };
}

/** The desired state as targetd gets it: LUNs being rolled back left out, each backstore with its soft threshold. */
export function storageTransform(backend: StorageBackend): (s: DesiredState) => DesiredState {
  return (s) => {
    const offline: Lun[] = [];
    for (const id of backend.offline) {
      try { offline.push(backend.store.getLun(id)); } catch { /* deleted meanwhile */ }
    }
    return withStorage(s, { offline, softThresholdPercent: backend.softThresholdPercent });
  };
}

export interface StorageRuntime {
  /** every alert of the scheduler and the pool monitor ('alert'), for the event stream */
  alerts: EventEmitter<{ alert: [Alert] }>;
  scheduler: SnapshotScheduler;
  monitor: PoolMonitor;
  stop(): Promise<void>;
}

/** Target hooks, snapshot schedules and pool monitoring for a running serve. */
export function startStorageRuntime(app: FastifyInstance, target: TargetClient, sync: (o: { force?: boolean }) => Promise<unknown>, o: {
  scheduleCheckMs?: number;
  poolPollMs?: number;
  onAlert?: (a: Alert) => void;
} = {}): StorageRuntime {
  const { store, storage } = app.openlun;
  storage.target = {
    reconcile: async (r = {}) => void (await sync(r)),
    async sessionsOn(lun) {
      const iqns = new Set(store.listMappings().filter((m) => m.lunId === lun.id).map((m) => store.getTarget(m.targetId).iqn.toLowerCase()));
      if (iqns.size === 0) return [];
      const { sessions } = await target.request<{ sessions: Array<{ kind: string; target?: string; initiatorName: string; remote: string }> }>('sessions');
      return sessions
        .filter((s) => s.kind === 'Normal' && s.target !== undefined && iqns.has(s.target.toLowerCase()))
        .map((s) => `${s.initiatorName} from ${s.remote} on ${s.target}`);
    },
  };
  const scheduler = new SnapshotScheduler(storage, { ...(o.scheduleCheckMs ? { checkEveryMs: o.scheduleCheckMs } : {}) });
  const monitor = new PoolMonitor(storage, (entries) => target.request('poolUsage', { entries }), { ...(o.poolPollMs ? { intervalMs: o.poolPollMs } : {}) });
  const alerts = new EventEmitter<{ alert: [Alert] }>();
  const alert = (a: Alert) => {
    app.log.warn(`storage alert: ${a.message}`);
    alerts.emit('alert', a);
    o.onAlert?.(a);
  };
  scheduler.on('alert', alert);
  monitor.on('alert', alert);
  scheduler.start();
  if (o.poolPollMs !== 0) monitor.start(); // 0: the caller polls (tests)
  return {
    alerts,
    scheduler,
    monitor,
    async stop() {
      await scheduler.stop();
      await monitor.stop();
    },
  };
}
