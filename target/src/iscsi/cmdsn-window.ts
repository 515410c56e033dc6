/**
 * The session's command numbering (RFC 7143 §4.2.2.1, §4.2.2.2): non-immediate commands are delivered in CmdSN
 * order, one ExpCmdSN at a time; commands beyond the window are ignored; immediate commands skip the queue.
 */
import { serialAdd, serialInWindow, serialLt } from './serial.ts';

export type Admission = 'deliver' | 'queued' | 'out-of-window' | 'aborted';

export class CmdSNWindow<T> {
  private exp: number;
  private max: number;
  private readonly queued = new Map<number, T>();
  /** CmdSNs that a TMF declared received (ABORT TASK on a command not yet arrived, RFC 7143 §11.5.1). */
  private readonly skipped = new Set<number>();

  constructor(
    firstCmdSN: number,
    private readonly depth: number,
  ) {
    this.exp = firstCmdSN >>> 0;
    this.max = serialAdd(this.exp, depth - 1);
  }

  get expCmdSN(): number {
    return this.exp;
  }

  get maxCmdSN(): number {
    return this.max;
  }

  /**
   * Offers a non-immediate command. 'deliver' means the caller processes it now and then calls drain() for any
   * queued successors; 'queued' means it waits for a gap to fill; 'out-of-window' means it must be ignored
   * (§4.2.2.1: "silently ignored" — the libiscsi iSCSICmdSnTooHigh/TooLow tests check exactly that); 'aborted'
   * means an ABORT TASK already counted it. After every offer the caller calls drain().
   */
  offer(cmdSN: number, item: T): Admission {
    if (!serialInWindow(cmdSN, this.exp, this.max)) return 'out-of-window';
    if (this.skipped.has(cmdSN)) {
      // aborted before it arrived: drop it; its CmdSN was already counted by drain() or is counted now
      if (cmdSN === this.exp) {
        this.skipped.delete(cmdSN);
        this.advance();
      }
      return 'aborted';
    }
    if (cmdSN !== this.exp) {
      if (this.queued.has(cmdSN)) return 'out-of-window';
      this.queued.set(cmdSN, item);
      return 'queued';
    }
    this.advance();
    return 'deliver';
  }

  /** Returns the queued commands that became deliverable, in order. */
  drain(): T[] {
    const out: T[] = [];
    for (;;) {
      if (this.skipped.delete(this.exp)) {
        this.advance();
        continue;
      }
      const next = this.queued.get(this.exp);
      if (next === undefined) break;
      this.queued.delete(this.exp);
      this.advance();
      out.push(next);
    }
    return out;
  }

  /** Whether cmdSN is in the window and not yet received (for ABORT TASK of a command that has not arrived). */
  notYetReceived(cmdSN: number, before: number): boolean {
    return serialInWindow(cmdSN, this.exp, this.max) && serialLt(cmdSN, before) && !this.queued.has(cmdSN);
  }

  /** Treats cmdSN as received without a command (RFC 7143 §11.5.1); a later arrival with that CmdSN is dropped. */
  markReceived(cmdSN: number): void {
    this.skipped.add(cmdSN);
  }

  /** Removes a queued command (aborted before delivery); its CmdSN counts as received. */
  removeQueued(predicate: (item: T) => boolean): T[] {
    const removed: T[] = [];
    for (const [sn, item] of this.queued) {
      if (predicate(item)) {
        this.queued.delete(sn);
        this.skipped.add(sn);
        removed.push(item);
      }
    }
    return removed;
  }

  private advance(): void {
    this.exp = serialAdd(this.exp, 1);
    this.max = serialAdd(this.exp, this.depth - 1);
  }
}
