/**
 * A fresh app in LVM mode whose lvm2 is the in-memory fake (support/fake-lvm.ts) behind lvm/'s real StorageManager,
 * so every route runs its real checks and what reached lvm2 can be read from the fake's command log.
 */
import { StorageManager } from '../../../lvm/src/index.ts';
import { StorageBackend, lunInUse, type TargetHooks } from '../../src/storage/backend.ts';
import type { FakeLvm } from './fake-lvm.ts';
import { newApp, type Fixture } from './fixture.ts';

/** No target daemon: a reconcile does nothing and no LUN has live sessions. */
export const idleTarget = (): TargetHooks => ({ reconcile: async () => undefined, sessionsOn: async () => [] });

/** `target` gets the backend, so a test's hooks can look at it (e.g. which LUNs it holds offline). */
export function newLvmApp(lvm: FakeLvm, target: (backend: StorageBackend) => TargetHooks = idleTarget): Promise<Fixture> {
  return newApp({
    storage: (store) => {
      const b = new StorageBackend(store, 'lvm', new StorageManager({ runner: lvm.runner, reportFormat: 'json_std', inUse: lunInUse(store) }));
      b.target = target(b);
      return b;
    },
  });
}
