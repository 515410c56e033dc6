/**
 * One logical unit per backing store, whatever the number of targets that export it (issue 3: "several targets
 * sharing a LUN: the same LUN through two sessions is the same device — same NAA id, same data, same reservations").
 * SAM-5 §4.6.1 makes a logical unit one object behind every target port it is reached through: its identity,
 * persistent and SCSI-2 reservations, unit attention queues, mode parameters, LBA range lock (keyed by its backstore)
 * and soft threshold must be one — two targets that each built their own LogicalUnit for the same file would let a
 * PR RESERVE through target A leave writes through target B unconflicted (the split brain clusters rely on PR to avoid).
 *
 * Keyed by what the backing store really is, not by the name it was given: (st_dev, st_ino) for a regular file, the
 * device number (st_rdev) for a block device, so /dev/vg/lv and /dev/dm-3, or a file reached through a symlink, are
 * one LU. Reference counted: the devices that map a shared LU release it, and only the last release closes the
 * backstore.
 */
import { statSync } from 'node:fs';
import type { Backstore } from '../backstore/types.ts';
import { LogicalUnit } from './logical-unit.ts';
import type { LunEntry } from './types.ts';

/** What a backing path really is (see above); undefined when it cannot be stat'ed (the LU is then not shared). */
export function backingKey(backstore: Backstore): string | undefined {
  try {
    const st = statSync(backstore.path);
    if (st.isBlockDevice()) return `blk:${st.rdev}`;
    return `file:${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

interface Held {
  lu: LogicalUnit;
  refs: number;
}

export class LogicalUnitRegistry {
  readonly #byKey = new Map<string, Held>();
  readonly #keyOf = new WeakMap<LogicalUnit, string>();

  /**
   * The LU for this entry's backing store: the one already mapped elsewhere (the entry's own backstore is then
   * surplus: `duplicate` is set and the caller closes it), or a new one created from the entry.
   */
  acquire(lun: number, entry: LunEntry): { lu: LogicalUnit; duplicate: boolean } {
    const key = backingKey(entry.backstore);
    const held = key === undefined ? undefined : this.#byKey.get(key);
    if (held) {
      held.refs++;
      return { lu: held.lu, duplicate: held.lu.backstore !== entry.backstore };
    }
    const lu = new LogicalUnit(lun, entry);
    if (key !== undefined) {
      this.#byKey.set(key, { lu, refs: 1 });
      this.#keyOf.set(lu, key);
    }
    return { lu, duplicate: false };
  }

  /** Drop one mapping; true when it was the last (the caller then closes the backstore). */
  release(lu: LogicalUnit): boolean {
    const key = this.#keyOf.get(lu);
    if (key === undefined) return true;
    const held = this.#byKey.get(key);
    if (!held || held.lu !== lu) return true;
    held.refs--;
    if (held.refs > 0) return false;
    this.#byKey.delete(key);
    return true;
  }

  /** How many devices map this LU (tests, diagnostics). */
  references(lu: LogicalUnit): number {
    const key = this.#keyOf.get(lu);
    return key === undefined ? 1 : (this.#byKey.get(key)?.refs ?? 0);
  }
}

/** The process-wide registry: every ScsiTargetDevice of one process shares its LUs through it by default. */
export const sharedLogicalUnits = new LogicalUnitRegistry();
