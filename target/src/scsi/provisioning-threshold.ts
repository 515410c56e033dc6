/**
 * Thin-provisioning soft threshold (SBC-4 §4.7.3.8): when the space left to back a thin-provisioned LU falls below a
 * configured level, every I_T nexus of that LU gets THIN PROVISIONING SOFT THRESHOLD REACHED (UNIT ATTENTION 38h/07h)
 * once. It is re-armed only after the free space has recovered to the threshold or above, so a LU hovering near the
 * level does not flood initiators with UAs on every check.
 *
 * The level is a percentage of a reference size: for a sparse file, free bytes of its file system relative to the
 * LUN's capacity ("could the LUN still be filled another PERCENT% of its size?"); for a thin LV, free space of the
 * pool relative to the pool (fed by the caller through observeFree, e.g. 1 - lvs data_percent/100). One unit for both
 * keeps the CLI option meaningful whatever the backstore.
 *
 * Free space is sampled lazily: a write notes itself (a counter and a clock read), and at most one sample per
 * minIntervalMs is taken, asynchronously and never two at a time — never a statfs per command.
 */

/** Free space of the backing store as a fraction of the reference size (may exceed 1 for a small LUN on a big disk). */
export type FreeFractionSource = () => Promise<number | undefined>;

export interface SoftThresholdOptions {
  /** The level in percent (0 < percent ≤ 100): reached when free × 100 < percent × reference. Read at each sample. */
  percent: () => number | undefined;
  /** Establish the UA (device: for every I_T nexus of the LU, SBC-4 §4.7.3.8 with SITUA 0). */
  onReached: () => void;
  /** Sampled on writes; absent when the caller feeds observeFree itself (LV thin pools). */
  source?: FreeFractionSource;
  /** At most one sample per this many ms (default 1000). */
  minIntervalMs?: number;
  /** Clock, for tests. */
  now?: () => number;
  /** Where a failing sample is reported; default silent. */
  log?: (message: string) => void;
}

export const SOFT_THRESHOLD_DEFAULT_INTERVAL_MS = 1000;

export class SoftThreshold {
  readonly #opts: SoftThresholdOptions;
  readonly #interval: number;
  readonly #now: () => number;
  /** Armed until the UA is raised; re-armed by a sample at or above the level (SBC-4 §4.7.3.8: crossing, not level). */
  #armed = true;
  #lastSample = Number.NEGATIVE_INFINITY;
  #inFlight: Promise<void> | undefined;
  /** The most recent free fraction seen, for status displays. */
  lastFree: number | undefined;

  constructor(opts: SoftThresholdOptions) {
    this.#opts = opts;
    this.#interval = opts.minIntervalMs ?? SOFT_THRESHOLD_DEFAULT_INTERVAL_MS;
    this.#now = opts.now ?? Date.now;
  }

  /** True once the UA has been raised and free space has not yet recovered. */
  get reached(): boolean {
    return !this.#armed;
  }

  /**
   * A write (or unmap) completed: sample the source if the interval has passed and none is running. Synchronous and
   * cheap; the sample itself runs in the background. Returns the sample's promise when one was started (tests).
   */
  noteWrite(): Promise<void> | undefined {
    if (!this.#opts.source || this.#inFlight || this.#opts.percent() === undefined) return undefined;
    const t = this.#now();
    if (t - this.#lastSample < this.#interval) return undefined;
    this.#lastSample = t;
    return this.sample();
  }

  /** Sample the source now (interval ignored); concurrent callers share one sample. */
  sample(): Promise<void> {
    const source = this.#opts.source;
    if (!source) return Promise.resolve();
    this.#inFlight ??= source()
      .then(
        (free) => {
          if (free !== undefined) this.observeFree(free);
        },
        (err: unknown) => this.#opts.log?.(`soft threshold: free space sample failed: ${(err as Error)?.message ?? String(err)}`),
      )
      .finally(() => {
        this.#inFlight = undefined;
      });
    return this.#inFlight;
  }

  /** Feed a free fraction (0..1+, of the reference size). Returns true when this observation raised the UA. */
  observeFree(free: number): boolean {
    if (!Number.isFinite(free)) return false;
    this.lastFree = free;
    const percent = this.#opts.percent();
    if (percent === undefined || percent <= 0) {
      this.#armed = true;
      return false;
    }
    const below = free * 100 < percent;
    if (!below) {
      this.#armed = true; // recovered: the next downward crossing is news again
      return false;
    }
    if (!this.#armed) return false;
    this.#armed = false;
    this.#opts.onReached();
    return true;
  }
}

/** Parse a CLI percentage: a number in (0, 100]. */
export function parseSoftThresholdPercent(text: string): number {
  const v = Number(text.trim().replace(/%$/, ''));
  if (!Number.isFinite(v) || v <= 0 || v > 100) throw new RangeError(`soft threshold must be a percentage in (0, 100], got '${text}'`);
  return v;
}
