/**
 * What the storage adds to the desired state before serve sends it to targetd: LUNs being rolled back are left out
 * (targetd closes them; a session sees them vanish and come back), and every backstore carries the soft threshold
 * percentage (SBC-4 §4.7.3.8) the target applies to it.
 */
import type { DesiredBackstore, DesiredState } from '../desired-state.ts';
import type { Lun } from '../store/types.ts';

export type StorageBackstore = DesiredBackstore & { softThresholdPercent: number };

export function withStorage(state: DesiredState, o: { offline: readonly Lun[]; softThresholdPercent: number }): DesiredState {
  const gone = new Set(o.offline.map((l) => l.name));
  return {
    ...state,
    backstores: state.backstores.filter((b) => !gone.has(b.name)).map((b): StorageBackstore => ({ ...b, softThresholdPercent: o.softThresholdPercent })),
    targets: state.targets.map((t) => ({ ...t, luns: t.luns.filter((l) => !gone.has(l.backstore)) })),
  };
}
