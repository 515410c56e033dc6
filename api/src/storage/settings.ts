/**
 * Storage settings kept in the store (storage_settings): read by the backend, the pool monitor and config-as-code, so
 * the one place that knows the key and its default is here.
 */
import { Problems } from '../store/errors.ts';
import type { Store } from '../store/store.ts';
import type { ChangeContext } from '../store/types.ts';

// SBC-4 §4.7.3.7: the soft threshold is the appliance's choice; 80 % leaves an ESXi admin time to act on the warning
export const DEFAULT_SOFT_THRESHOLD_PERCENT = 80;

export function readSoftThresholdPercent(store: Store): number {
  const r = store.db.prepare("SELECT value FROM storage_settings WHERE key = 'softThresholdPercent'").get() as { value: string } | undefined;
  return r ? Number(JSON.parse(r.value)) : DEFAULT_SOFT_THRESHOLD_PERCENT;
}

export function softThresholdProblem(percent: number): string | undefined {
  return Number.isFinite(percent) && percent > 0 && percent <= 100 ? undefined : 'must be a percentage in (0, 100]';
}

export function writeSoftThresholdPercent(store: Store, ctx: ChangeContext, percent: number): void {
  const p = new Problems();
  p.check('softThresholdPercent', softThresholdProblem(percent));
  p.throwIfAny();
  store.db.transaction(() => {
    store.db.prepare("INSERT INTO storage_settings (key, value) VALUES ('softThresholdPercent', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(JSON.stringify(percent));
    store.audit(ctx, 'storage.settings', 'storage', { softThresholdPercent: percent });
  })();
}
