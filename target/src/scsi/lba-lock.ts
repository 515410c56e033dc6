/**
 * Per-backstore LBA range lock. COMPARE AND WRITE must be atomic against every other write to the same blocks from
 * any I_T nexus (SBC-4 §5.3: "the device server shall ... perform the compare and write operations as an
 * uninterrupted series of actions"); so the writers (WRITE, WRITE AND VERIFY, WRITE SAME, UNMAP, ORWRITE, COMPARE
 * AND WRITE) hold the blocks they change while they change them. Reads take no lock.
 *
 * The lock is keyed by the Backstore object, so a LUN exported by several targets (one backstore) shares it.
 * Hot path: no contention = one scan of the (short: ≤ queue depth) list of held ranges and no extra promise.
 * Waiters are served in arrival order among overlapping ranges, so a busy write stream can't starve an ATS.
 */
import type { Backstore } from '../backstore/types.ts';

interface Held {
  start: number;
  end: number; // exclusive
}

interface Waiter extends Held {
  resolve: (release: Release) => void;
}

export type Release = () => void;

function overlaps(a: Held, start: number, end: number): boolean {
  return a.start < end && start < a.end;
}

export class LbaRangeLock {
  readonly #held: Held[] = [];
  readonly #waiting: Waiter[] = [];
  /** Holders whose write readers must not see half of (WRITE ATOMIC, COMPARE AND WRITE); see readersMustWait. */
  #atomicHolders = 0;

  /**
   * SBC-4 §4.29.1: a read that overlaps an atomic write returns all old or all new data. Reads take no lock while
   * no atomic write is running (the hot path: one integer compare); while one is, they queue on the range too.
   */
  get readersMustWait(): boolean {
    return this.#atomicHolders > 0;
  }

  /** Run `fn` holding [lba, lba + blocks) with readers of the range held off as well (readersMustWait). */
  async runAtomic<T>(lba: number, blocks: number, fn: () => Promise<T>): Promise<T> {
    this.#atomicHolders++;
    try {
      return await this.run(lba, blocks, fn);
    } finally {
      this.#atomicHolders--;
    }
  }

  /** Blocks [lba, lba + blocks) — resolved synchronously (a Release) when nothing overlaps, else a Promise. */
  acquire(lba: number, blocks: number): Release | Promise<Release> {
    const start = lba;
    const end = lba + Math.max(1, blocks);
    if (!this.#conflicts(start, end, this.#waiting.length)) return this.#take(start, end);
    return new Promise<Release>((resolve) => this.#waiting.push({ start, end, resolve }));
  }

  /** Run `fn` holding [lba, lba + blocks). */
  async run<T>(lba: number, blocks: number, fn: () => Promise<T>): Promise<T> {
    const got = this.acquire(lba, blocks);
    const release = typeof got === 'function' ? got : await got;
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** Ranges held now (tests, diagnostics). */
  get heldCount(): number {
    return this.#held.length;
  }

  get waitingCount(): number {
    return this.#waiting.length;
  }

  /** Overlap with a held range, or with a waiter that arrived earlier (the first `waitersBefore` of the queue). */
  #conflicts(start: number, end: number, waitersBefore: number): boolean {
    for (const h of this.#held) if (overlaps(h, start, end)) return true;
    for (let i = 0; i < waitersBefore; i++) if (overlaps(this.#waiting[i]!, start, end)) return true;
    return false;
  }

  #take(start: number, end: number): Release {
    const entry: Held = { start, end };
    this.#held.push(entry);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const i = this.#held.indexOf(entry);
      if (i >= 0) this.#held.splice(i, 1);
      if (this.#waiting.length > 0) this.#wake();
    };
  }

  #wake(): void {
    for (let i = 0; i < this.#waiting.length; ) {
      const w = this.#waiting[i]!;
      if (this.#conflicts(w.start, w.end, i)) {
        i++;
        continue;
      }
      this.#waiting.splice(i, 1);
      // Taken here, synchronously, so the waiters after it see this range as held.
      w.resolve(this.#take(w.start, w.end));
    }
  }
}

const locks = new WeakMap<Backstore, LbaRangeLock>();

/** The lock of the LU's backstore (created on first use). */
export function lbaLockOf(backstore: Backstore): LbaRangeLock {
  let lock = locks.get(backstore);
  if (!lock) {
    lock = new LbaRangeLock();
    locks.set(backstore, lock);
  }
  return lock;
}
