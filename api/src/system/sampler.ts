/**
 * Rates need two readings: this keeps taking them in the background (every `intervalMs`) so that a request answers
 * from the last two instead of sleeping between two of its own. It reads counters the kernel already keeps —
 * /sys/class/net/<if>/statistics (Documentation/ABI/testing/sysfs-class-net-statistics) and the CPU times behind
 * os.cpus() — with no process spawned per sample.
 */
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';

export interface InterfaceRate {
  rxBytesPerSec: number;
  txBytesPerSec: number;
  rxBytes: number;
  txBytes: number;
}

export interface Rates {
  /** busy share of all CPUs over the last interval, 0-100; null before the second reading */
  cpuPercent: number | null;
  interfaces: Map<string, InterfaceRate>;
  /** when the newer of the two readings was taken (ms since the epoch); null before the second reading */
  sampledAt: number | null;
  intervalMs: number | null;
}

interface Reading {
  at: number;
  cpuIdle: number;
  cpuTotal: number;
  net: Map<string, { rx: number; tx: number }>;
}

export interface SamplerOptions {
  intervalMs?: number;
  /** where the per-interface counters live (a test points it elsewhere) */
  netClassDir?: string;
}

const NET_CLASS_DIR = '/sys/class/net';
// interface names the kernel accepts (net/core/dev.c dev_valid_name): no '/', no whitespace, at most 15 bytes
const IFACE_NAME = /^[^/\s:]{1,15}$/;

function cpuTimes(): { idle: number; total: number } {
  let idle = 0;
  let total = 0;
  for (const c of os.cpus()) {
    const t = c.times;
    idle += t.idle;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
  }
  return { idle, total };
}

async function readCounter(path: string): Promise<number | undefined> {
  try {
    const n = Number((await readFile(path, 'utf8')).trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

export class RateSampler {
  readonly intervalMs: number;
  readonly #dir: string;
  #timer: NodeJS.Timeout | undefined;
  #previous: Reading | undefined;
  #latest: Reading | undefined;
  #sampling: Promise<void> | undefined;

  constructor(o: SamplerOptions = {}) {
    this.intervalMs = o.intervalMs ?? 2000;
    this.#dir = o.netClassDir ?? NET_CLASS_DIR;
  }

  /** Takes a first reading now and then one every interval; the timer never keeps the process alive. */
  start(): Promise<void> {
    if (!this.#timer) {
      this.#timer = setInterval(() => void this.sample(), this.intervalMs);
      this.#timer.unref();
    }
    return this.sample();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One reading (a reading still in progress is shared, not doubled). */
  sample(): Promise<void> {
    this.#sampling ??= this.#read().finally(() => {
      this.#sampling = undefined;
    });
    return this.#sampling;
  }

  async #read(): Promise<void> {
    const cpu = cpuTimes();
    const net = new Map<string, { rx: number; tx: number }>();
    let names: string[] = [];
    try {
      names = (await readdir(this.#dir)).filter((n) => IFACE_NAME.test(n));
    } catch {
      // no sysfs (not Linux, or a container without it): no interface rates
    }
    await Promise.all(
      names.map(async (name) => {
        const [rx, tx] = await Promise.all([
          readCounter(`${this.#dir}/${name}/statistics/rx_bytes`),
          readCounter(`${this.#dir}/${name}/statistics/tx_bytes`),
        ]);
        if (rx !== undefined && tx !== undefined) net.set(name, { rx, tx });
      }),
    );
    this.#previous = this.#latest;
    this.#latest = { at: Date.now(), cpuIdle: cpu.idle, cpuTotal: cpu.total, net };
  }

  rates(): Rates {
    const a = this.#previous;
    const b = this.#latest;
    const interfaces = new Map<string, InterfaceRate>();
    if (!a || !b || b.at <= a.at) {
      for (const [name, c] of b?.net ?? []) interfaces.set(name, { rxBytes: c.rx, txBytes: c.tx, rxBytesPerSec: 0, txBytesPerSec: 0 });
      return { cpuPercent: null, interfaces, sampledAt: null, intervalMs: null };
    }
    const seconds = (b.at - a.at) / 1000;
    for (const [name, c] of b.net) {
      const p = a.net.get(name);
      // a counter that went backwards (interface re-created, 32-bit wrap) gives no rate for this interval
      const rate = (now: number, before: number | undefined): number => (before === undefined || now < before ? 0 : (now - before) / seconds);
      interfaces.set(name, { rxBytes: c.rx, txBytes: c.tx, rxBytesPerSec: rate(c.rx, p?.rx), txBytesPerSec: rate(c.tx, p?.tx) });
    }
    const total = b.cpuTotal - a.cpuTotal;
    const busy = total - (b.cpuIdle - a.cpuIdle);
    const cpuPercent = total > 0 ? Math.min(100, Math.max(0, (busy / total) * 100)) : 0;
    return { cpuPercent, interfaces, sampledAt: b.at, intervalMs: b.at - a.at };
  }
}
