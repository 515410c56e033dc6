/**
 * Per-LUN counters for the control socket and /metrics: read/write ops and bytes, errors, commands in flight and a
 * latency histogram. Recording a command allocates nothing: counters are plain numbers, the histogram a typed
 * array, and the opcode class a 256-entry table.
 */
import type { ScsiResponse } from './types.ts';

/** Upper bounds of the latency buckets in microseconds; the last bucket counts everything slower. */
export const LATENCY_BUCKETS_US = [50, 100, 250, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000] as const satisfies readonly number[];

const READ = 1;
const WRITE = 2;
// SBC-4 §5: the commands that move user data (READ/WRITE 6/10/12/16, WRITE AND VERIFY, WRITE SAME, COMPARE AND WRITE)
const DATA_OPCODES = [
  [0x08, READ], [0x28, READ], [0xa8, READ], [0x88, READ],
  [0x0a, WRITE], [0x2a, WRITE], [0xaa, WRITE], [0x8a, WRITE],
  [0x2e, WRITE], [0x8e, WRITE], [0x41, WRITE], [0x93, WRITE], [0x89, WRITE],
] as const satisfies ReadonlyArray<readonly [number, number]>;
const OPCODE_CLASS = new Uint8Array(256);
for (const [op, cls] of DATA_OPCODES) OPCODE_CLASS[op] = cls;

export interface LunCounters {
  lun: number;
  readOps: number;
  writeOps: number;
  otherOps: number;
  readBytes: number;
  writeBytes: number;
  /** commands that ended in anything but GOOD (CHECK CONDITION, BUSY, TASK ABORTED, ...) */
  errors: number;
  inFlight: number;
  latency: { bucketsUs: readonly number[]; counts: number[]; sumUs: number };
}

class LunStats {
  readOps = 0;
  writeOps = 0;
  otherOps = 0;
  readBytes = 0;
  writeBytes = 0;
  errors = 0;
  inFlight = 0;
  sumUs = 0;
  readonly histogram = new Float64Array(LATENCY_BUCKETS_US.length + 1);
}

/** The hook ScsiTargetDevice calls around every command (device.ts). */
export interface CommandRecorder {
  begin(lun: number | undefined): void;
  end(lun: number | undefined, opcode: number, res: ScsiResponse, startedMs: number): void;
}

/** The counters of one target's LUNs, by LUN number. */
export class TargetStats implements CommandRecorder {
  readonly #luns = new Map<number, LunStats>();

  #get(lun: number): LunStats {
    let s = this.#luns.get(lun);
    if (!s) {
      s = new LunStats();
      this.#luns.set(lun, s);
    }
    return s;
  }

  begin(lun: number | undefined): void {
    if (lun !== undefined) this.#get(lun).inFlight++;
  }

  end(lun: number | undefined, opcode: number, res: ScsiResponse, startedMs: number): void {
    if (lun === undefined) return;
    const s = this.#get(lun);
    s.inFlight--;
    const cls = OPCODE_CLASS[opcode & 0xff]!;
    if (cls === READ) {
      s.readOps++;
      s.readBytes += res.data?.length ?? 0;
    } else if (cls === WRITE) {
      s.writeOps++;
      if (res.status === 0) s.writeBytes += res.dataOutLength ?? 0;
    } else s.otherOps++;
    if (res.status !== 0) s.errors++;
    const us = (performance.now() - startedMs) * 1000;
    s.sumUs += us;
    let i = 0;
    while (i < LATENCY_BUCKETS_US.length && us > LATENCY_BUCKETS_US[i]!) i++;
    s.histogram[i]!++;
  }

  inFlight(lun: number): number {
    return this.#luns.get(lun)?.inFlight ?? 0;
  }

  /** Counters restart when a LUN number is given a different logical unit. */
  reset(lun: number): void {
    const s = this.#luns.get(lun);
    if (s && s.inFlight === 0) this.#luns.delete(lun);
  }

  snapshot(): LunCounters[] {
    return [...this.#luns]
      .sort((a, b) => a[0] - b[0])
      .map(([lun, s]) => ({
        lun,
        readOps: s.readOps,
        writeOps: s.writeOps,
        otherOps: s.otherOps,
        readBytes: s.readBytes,
        writeBytes: s.writeBytes,
        errors: s.errors,
        inFlight: s.inFlight,
        latency: { bucketsUs: LATENCY_BUCKETS_US, counts: [...s.histogram], sumUs: Math.round(s.sumUs) },
      }));
  }
}
