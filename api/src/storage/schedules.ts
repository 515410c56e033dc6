/**
 * Snapshot schedules (OpenFiler had them): every N minutes (at least 5) or hourly/daily/weekly, keeping the newest
 * `keep` snapshots the schedule made. Which schedules are due is a pure function of the rows and the clock; the
 * scheduler runs them one at a time on a timer, audits every run and reports failures as alerts. Retention only
 * ever prunes snapshots named auto-<this schedule's id>-<stamp>: manual snapshots and other schedules' are kept.
 */
import { EventEmitter } from 'node:events';
import { Problems, StoreError } from '../store/errors.ts';
import type { Store } from '../store/store.ts';
import type { ChangeContext } from '../store/types.ts';
import type { StorageBackend } from './backend.ts';
import { scheduledSnapshotName } from './snapshots.ts';

export const PRESETS = { hourly: 60, daily: 24 * 60, weekly: 7 * 24 * 60 } as const;
export type Preset = keyof typeof PRESETS;
export const MIN_EVERY_MINUTES = 5;
export const MAX_KEEP = 100;

export interface SnapshotSchedule {
  id: number;
  lunId: number;
  everyMinutes: number;
  preset: Preset | null;
  keep: number;
  /** COW size for snapshots of a thick (linear) LV; null: 20 % of the LUN */
  sizeBytes: number | null;
  createdAt: number;
  lastRunAt: number | null;
  lastError: string | null;
  nextRunAt: number;
}

interface Row {
  id: number; lun_id: number; every_minutes: number; preset: Preset | null; keep: number; size_bytes: number | null;
  created_at: number; last_run_at: number | null; last_error: string | null;
}

export function nextRunAt(s: Pick<SnapshotSchedule, 'everyMinutes' | 'createdAt' | 'lastRunAt'>): number {
  return (s.lastRunAt ?? s.createdAt) + s.everyMinutes * 60_000;
}

/**
 * The schedules due at `now`: each at most once, however many intervals were missed while the service was down
 * (one snapshot now is what an admin expects, not a burst).
 */
export function dueSchedules<T extends Pick<SnapshotSchedule, 'everyMinutes' | 'createdAt' | 'lastRunAt'>>(schedules: readonly T[], now: number): T[] {
  return schedules.filter((s) => now >= nextRunAt(s));
}

/** Of one schedule's snapshot names, those past the newest `keep` (names sort by their UTC stamp). */
export function prunable(names: readonly string[], scheduleId: number, keep: number): string[] {
  const ours = names.filter((n) => n.startsWith(`auto-${scheduleId}-`)).sort();
  return ours.slice(0, Math.max(0, ours.length - keep));
}

function fromRow(r: Row): SnapshotSchedule {
  const s = { id: r.id, lunId: r.lun_id, everyMinutes: r.every_minutes, preset: r.preset, keep: r.keep, sizeBytes: r.size_bytes, createdAt: r.created_at, lastRunAt: r.last_run_at, lastError: r.last_error };
  return { ...s, nextRunAt: nextRunAt(s) };
}

export interface NewSchedule {
  lunId: number;
  everyMinutes?: number;
  preset?: Preset;
  keep: number;
  sizeBytes?: number;
}

export class ScheduleStore {
  constructor(readonly store: Store) {}

  list(): SnapshotSchedule[] {
    return (this.store.db.prepare('SELECT * FROM snapshot_schedules ORDER BY id').all() as Row[]).map(fromRow);
  }

  get(id: number): SnapshotSchedule {
    const r = this.store.db.prepare('SELECT * FROM snapshot_schedules WHERE id = ?').get(id) as Row | undefined;
    if (!r) throw new StoreError('not-found', `snapshot schedule ${id} not found`);
    return fromRow(r);
  }

  create(ctx: ChangeContext, s: NewSchedule): SnapshotSchedule {
    const p = new Problems();
    if ((s.everyMinutes === undefined) === (s.preset === undefined)) p.check('everyMinutes', 'or preset is required (one of them, not both)');
    if (s.everyMinutes !== undefined && !(Number.isInteger(s.everyMinutes) && s.everyMinutes >= MIN_EVERY_MINUTES)) p.check('everyMinutes', `must be a whole number of minutes, at least ${MIN_EVERY_MINUTES}`);
    if (s.preset !== undefined && !Object.hasOwn(PRESETS, s.preset)) p.check('preset', 'must be one of "hourly", "daily", "weekly"');
    if (!(Number.isInteger(s.keep) && s.keep >= 1 && s.keep <= MAX_KEEP)) p.check('keep', `must be 1-${MAX_KEEP}`);
    if (s.sizeBytes !== undefined && !(Number.isSafeInteger(s.sizeBytes) && s.sizeBytes > 0)) p.check('sizeBytes', 'must be a positive integer');
    p.throwIfAny();
    const lun = this.store.getLun(s.lunId);
    const every = s.preset ? PRESETS[s.preset] : s.everyMinutes!;
    return this.store.db.transaction(() => {
      const id = Number(this.store.db
        .prepare('INSERT INTO snapshot_schedules (lun_id, every_minutes, preset, keep, size_bytes, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(s.lunId, every, s.preset ?? null, s.keep, s.sizeBytes ?? null, this.store.now()).lastInsertRowid);
      this.store.audit(ctx, 'snapshot-schedule.create', `lun ${lun.name} schedule ${id}`, { everyMinutes: every, preset: s.preset ?? null, keep: s.keep });
      return this.get(id);
    })();
  }

  delete(ctx: ChangeContext, id: number): void {
    const s = this.get(id);
    this.store.db.transaction(() => {
      this.store.db.prepare('DELETE FROM snapshot_schedules WHERE id = ?').run(id);
      this.store.audit(ctx, 'snapshot-schedule.delete', `schedule ${id}`, { lunId: s.lunId });
    })();
  }

  recordRun(id: number, at: number, error: string | null): void {
    this.store.db.prepare('UPDATE snapshot_schedules SET last_run_at = ?, last_error = ? WHERE id = ?').run(at, error, id);
  }
}

export interface Alert {
  at: number;
  level: 'warning' | 'error' | 'info';
  source: 'snapshot-schedule' | 'pool';
  message: string;
  detail?: Record<string, unknown>;
}

export interface RunOutcome {
  scheduleId: number;
  created: string | null;
  pruned: string[];
  error: string | null;
}

const SCHEDULER: ChangeContext = { actor: 'scheduler', ip: 'local' };

/** Runs due schedules on a timer; emits 'alert' for every failed run. */
export class SnapshotScheduler extends EventEmitter<{ alert: [Alert] }> {
  readonly schedules: ScheduleStore;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<RunOutcome[]> | undefined;

  constructor(
    readonly backend: StorageBackend,
    readonly o: { now?: () => number; checkEveryMs?: number } = {},
  ) {
    super();
    this.schedules = new ScheduleStore(backend.store);
  }

  now(): number {
    return this.o.now?.() ?? Date.now();
  }

  start(): void {
    this.#timer ??= setInterval(() => void this.tick(), this.o.checkEveryMs ?? 30_000);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /** Runs every due schedule once (never two ticks at a time). */
  tick(): Promise<RunOutcome[]> {
    if (this.#running) return this.#running;
    const run = (async () => {
      const out: RunOutcome[] = [];
      for (const s of dueSchedules(this.schedules.list(), this.now())) out.push(await this.runOne(s));
      return out;
    })();
    this.#running = run;
    // cleared only once this run is over (the async body may finish before the assignment above)
    void run.finally(() => { if (this.#running === run) this.#running = undefined; }).catch(() => undefined);
    return run;
  }

  async runOne(s: SnapshotSchedule): Promise<RunOutcome> {
    const at = this.now();
    const name = scheduledSnapshotName(s.id, new Date(at));
    const outcome: RunOutcome = { scheduleId: s.id, created: null, pruned: [], error: null };
    try {
      const lun = this.backend.store.getLun(s.lunId);
      // thick LV snapshots need COW space: the schedule's, or a fifth of the LUN rounded up to 4 MiB
      const cow = s.sizeBytes ?? Math.ceil(lun.sizeBytes / 5 / 4194304) * 4194304;
      await this.backend.createSnapshot(SCHEDULER, lun.id, name, lun.backing === 'lv' ? { sizeBytes: cow } : {});
      outcome.created = name;
      const names = (await this.backend.listSnapshots(lun.id)).map((x) => x.name);
      for (const old of prunable(names, s.id, s.keep)) {
        await this.backend.deleteSnapshot(SCHEDULER, lun.id, old);
        outcome.pruned.push(old);
      }
    } catch (e) {
      outcome.error = (e as Error).message;
    }
    this.schedules.recordRun(s.id, at, outcome.error);
    this.backend.store.audit(SCHEDULER, 'snapshot-schedule.run', `schedule ${s.id}`, { lunId: s.lunId, created: outcome.created, pruned: outcome.pruned, error: outcome.error });
    if (outcome.error) {
      this.emit('alert', { at, level: 'error', source: 'snapshot-schedule', message: `snapshot schedule ${s.id} (lun ${s.lunId}) failed: ${outcome.error}`, detail: { scheduleId: s.id, lunId: s.lunId } });
    }
    return outcome;
  }
}
