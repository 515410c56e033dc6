/**
 * APTPL persistence (SPC-4 §5.13.5): while the last REGISTER-class command set APTPL, the whole persistent
 * reservation state of the LU is written on every change, atomically (temp file, fsync, rename, directory fsync) so a
 * crash leaves either the old or the new state, and restored when the LU is created. With APTPL=0 the file is removed:
 * the state must not come back after a restart.
 */
import { readFileSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Registration, Reservation, Reservations } from './reservations.ts';
import { isPrType } from './reservations.ts';

const FORMAT = 'openlun-pr-state/1';

interface StoredRegistration extends Omit<Registration, 'key'> {
  key: string; // 16 hex digits: bigint has no JSON form
}

interface StoredState {
  format: typeof FORMAT;
  generation: number;
  registrations: StoredRegistration[];
  /** Index into registrations of the holder, and the TYPE. */
  reservation?: { holder: number; type: number };
}

export interface PrSnapshot {
  generation: number;
  registrations: Registration[];
  reservation: Reservation | undefined;
}

export function serializePrState(r: Reservations): string {
  const state: StoredState = {
    format: FORMAT,
    generation: r.generation,
    registrations: r.registrations.map((reg) => ({ ...reg, key: reg.key.toString(16).padStart(16, '0') })),
  };
  if (r.reservation) state.reservation = { holder: r.registrations.indexOf(r.reservation.holder), type: r.reservation.type };
  return JSON.stringify(state, null, 1) + '\n';
}

/** Parse a stored state; throws on anything malformed (a corrupt file must not silently drop reservations). */
export function parsePrState(text: string): PrSnapshot {
  const s = JSON.parse(text) as StoredState;
  if (s.format !== FORMAT) throw new Error(`unknown PR state format ${String(s.format)}`);
  if (!Number.isInteger(s.generation) || !Array.isArray(s.registrations)) throw new Error('malformed PR state');
  const registrations: Registration[] = s.registrations.map((r) => {
    if (typeof r.initiatorName !== 'string' || !/^[0-9a-f]{12}$/.test(r.isid) || !/^[0-9a-f]{1,16}$/.test(r.key)) {
      throw new Error('malformed registration in PR state');
    }
    return {
      key: BigInt(`0x${r.key}`),
      initiatorName: r.initiatorName,
      isid: r.isid,
      targetName: String(r.targetName),
      tpgt: Number(r.tpgt),
      relativeTargetPortId: Number(r.relativeTargetPortId),
      allTgPt: Boolean(r.allTgPt),
    };
  });
  let reservation: Reservation | undefined;
  if (s.reservation) {
    const holder = registrations[s.reservation.holder];
    const type = s.reservation.type;
    if (!holder || !isPrType(type)) throw new Error('malformed reservation in PR state');
    reservation = { holder, type };
  }
  return { generation: s.generation >>> 0, registrations, reservation };
}

/** Restore at LU creation; a missing file is an empty state. */
export function loadPrStateSync(path: string): PrSnapshot | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return parsePrState(text);
}

export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  // The rename itself is durable only once the directory entry is (POSIX: fsync the directory).
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** Serializes writes of one LU's state: the newest state always lands last. */
export class PrStore {
  #chain: Promise<void> = Promise.resolve();

  constructor(readonly path: string) {}

  load(): PrSnapshot | undefined {
    return loadPrStateSync(this.path);
  }

  /** Persist (aptpl) or forget (not aptpl) the state as it is now; resolves once it is durable. */
  save(r: Reservations): Promise<void> {
    const text = r.aptpl ? serializePrState(r) : undefined;
    const next = this.#chain.then(() => (text === undefined ? rm(this.path, { force: true }) : writeFileAtomic(this.path, text)));
    this.#chain = next.catch(() => undefined);
    return next;
  }
}
