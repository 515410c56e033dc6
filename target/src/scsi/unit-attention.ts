/**
 * Unit attention conditions, kept per I_T nexus for one logical unit (SAM-5 §5.14). A nexus never
 * seen before starts with POWER ON, RESET, OR BUS DEVICE RESET OCCURRED; a reset-class condition
 * (ASC 29h) supersedes everything queued before it (SAM-5 §5.14.2: it reports the most severe).
 */
import { SENSE_REASONS } from './sense.ts';
import type { SenseReason } from './sense.ts';

const RESET_ASC = 0x29;
const MAX_QUEUED = 8; // bounded: an idle nexus must not accumulate conditions forever

export class UnitAttentions {
  readonly #pending = new Map<string, SenseReason[]>();

  #queue(nexusId: string): SenseReason[] {
    let q = this.#pending.get(nexusId);
    if (!q) {
      q = ['POWER_ON_RESET_OCCURRED'];
      this.#pending.set(nexusId, q);
    }
    return q;
  }

  /** The condition the next command on this nexus would report, without clearing it. */
  peek(nexusId: string): SenseReason | undefined {
    return this.#queue(nexusId)[0];
  }

  /** Report (and clear) the oldest pending condition. */
  take(nexusId: string): SenseReason | undefined {
    return this.#queue(nexusId).shift();
  }

  /** Establish a condition for every known nexus except `except`. */
  establish(reason: SenseReason, except?: string): void {
    for (const id of this.#pending.keys()) {
      if (id !== except) this.establishFor(id, reason);
    }
  }

  establishFor(nexusId: string, reason: SenseReason): void {
    const q = this.#queue(nexusId);
    if (SENSE_REASONS[reason].asc === RESET_ASC) {
      q.length = 0;
      q.push(reason);
      return;
    }
    if (q.includes(reason)) return;
    if (q.length >= MAX_QUEUED) q.pop();
    q.push(reason);
  }

  /** Clear one kind of condition (SPC-4 §6.33: REPORT LUNS clears REPORTED LUNS DATA HAS CHANGED). */
  clear(nexusId: string, reason: SenseReason): void {
    const q = this.#pending.get(nexusId);
    if (!q) return;
    const i = q.indexOf(reason);
    if (i >= 0) q.splice(i, 1);
  }

  /** Drop every pending condition of a nexus and mark it as known. */
  forget(nexusId: string): void {
    this.#pending.delete(nexusId);
  }

  knows(nexusId: string): boolean {
    return this.#pending.has(nexusId);
  }
}
