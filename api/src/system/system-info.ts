/**
 * What GET /api/system reports: host, OS, CPU, load, memory, uptime, network interfaces with their rates, disks
 * with SMART health. The slow parts (systeminformation's OS and CPU probes, interface details, block devices,
 * smartctl) are cached and refreshed in the background, so an answer takes milliseconds after the first.
 */
import os from 'node:os';
import si from 'systeminformation';
import { RateSampler, type SamplerOptions } from './sampler.ts';
import { findSmartctl, smartReport, type SmartHealth } from './smart.ts';

export interface SystemReport {
  hostname: string;
  os: { platform: string; distro: string; release: string; kernel: string; arch: string };
  cpu: { model: string; cores: number; physicalCores: number; percent: number | null };
  load: { one: number; five: number; fifteen: number };
  memory: { totalBytes: number; usedBytes: number; availableBytes: number };
  uptimeSeconds: number;
  interfaces: InterfaceReport[];
  disks: DiskReport[];
  /** when the rates were measured and over how long (null until the sampler has two readings) */
  sampledAt: string | null;
  sampleIntervalMs: number | null;
}

export interface InterfaceReport {
  name: string;
  mac: string | null;
  state: string;
  /** link speed in Mbit/s; null when the driver does not say (virtual links, no carrier) */
  speedMbps: number | null;
  mtu: number | null;
  internal: boolean;
  addresses: Array<{ address: string; family: 'IPv4' | 'IPv6'; cidr: string | null }>;
  rxBytes: number;
  txBytes: number;
  rxBytesPerSec: number;
  txBytesPerSec: number;
}

export interface DiskReport {
  name: string;
  device: string;
  sizeBytes: number;
  model: string;
  serial: string;
  vendor: string;
  interfaceType: string;
  /** 'HDD', 'SSD', 'NVMe' or '' (what the kernel's rotational flag and the bus tell) */
  kind: string;
  removable: boolean;
  health: SmartHealth;
  temperatureC: number | null;
}

export interface SystemInfoOptions {
  sampler?: SamplerOptions;
  /** smartctl's path; null = do not use it; default: found in /usr/sbin and friends */
  smartctl?: string | null;
  /** how long interface details and disks are reused before a background refresh */
  interfacesTtlMs?: number;
  disksTtlMs?: number;
  /** the longest a request waits for a first (cold) probe before answering without it */
  coldWaitMs?: number;
}

/** A value refreshed in the background once older than `ttlMs`; callers get the last one at once. */
class Cached<T> {
  #value: T | undefined;
  #at = 0;
  #loading: Promise<void> | undefined;

  constructor(
    readonly ttlMs: number,
    readonly load: () => Promise<T>,
  ) {}

  /** The last value (refreshing it behind the scenes when old); a first load is awaited up to `waitMs`. */
  async get(waitMs: number): Promise<T | undefined> {
    if (this.#value === undefined || Date.now() - this.#at > this.ttlMs) {
      this.#loading ??= this.load()
        .then((v) => {
          this.#value = v;
          this.#at = Date.now();
        })
        .catch(() => undefined)
        .finally(() => {
          this.#loading = undefined;
        });
      if (this.#value === undefined) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([this.#loading, new Promise<void>((r) => (timer = setTimeout(r, waitMs)))]);
        clearTimeout(timer);
      }
    }
    return this.#value;
  }
}

// block devices that are not disks an admin looks after: RAM disks, loop files, compressed swap, floppy and optical
// drives (QEMU machines have both; the live ISO is sr0)
const NOT_A_DISK = /^(loop|ram|zram|nbd|fd|sr)\d*$/;

export class SystemInfo {
  readonly sampler: RateSampler;
  readonly #smartctl: string | undefined;
  readonly #coldWaitMs: number;
  readonly #static: Cached<{ os: SystemReport['os']; cpu: { model: string; cores: number; physicalCores: number } }>;
  readonly #interfaces: Cached<si.Systeminformation.NetworkInterfacesData[]>;
  readonly #disks: Cached<DiskReport[]>;

  constructor(o: SystemInfoOptions = {}) {
    this.sampler = new RateSampler(o.sampler);
    this.#smartctl = o.smartctl === null ? undefined : (o.smartctl ?? findSmartctl());
    this.#coldWaitMs = o.coldWaitMs ?? 800;
    this.#static = new Cached(Number.POSITIVE_INFINITY, async () => {
      const [info, cpu] = await Promise.all([si.osInfo(), si.cpu()]);
      return {
        os: { platform: info.platform, distro: info.distro, release: info.release, kernel: info.kernel, arch: info.arch },
        cpu: { model: [cpu.manufacturer, cpu.brand].filter(Boolean).join(' ') || os.cpus()[0]?.model || 'unknown', cores: cpu.cores, physicalCores: cpu.physicalCores },
      };
    });
    this.#interfaces = new Cached(o.interfacesTtlMs ?? 30_000, async () => {
      const list = await si.networkInterfaces();
      return Array.isArray(list) ? list : [list];
    });
    this.#disks = new Cached(o.disksTtlMs ?? 60_000, () => this.#probeDisks());
  }

  start(): Promise<void> {
    return this.sampler.start();
  }

  stop(): void {
    this.sampler.stop();
  }

  async report(): Promise<SystemReport> {
    const wait = this.#coldWaitMs;
    const [stat, ifaces, disks, mem] = await Promise.all([this.#static.get(wait), this.#interfaces.get(wait), this.#disks.get(wait), si.mem()]);
    const rates = this.sampler.rates();
    const [one, five, fifteen] = os.loadavg() as [number, number, number];
    const osAddresses = os.networkInterfaces();
    const details = new Map((ifaces ?? []).map((i) => [i.iface, i] as const));
    const names = [...new Set([...Object.keys(osAddresses), ...details.keys(), ...rates.interfaces.keys()])].sort();
    const interfaces = names.map((name): InterfaceReport => {
      const d = details.get(name);
      const r = rates.interfaces.get(name);
      const addrs = osAddresses[name] ?? [];
      const speed = d?.speed;
      return {
        name,
        mac: d?.mac || addrs[0]?.mac || null,
        state: d?.operstate || 'unknown',
        speedMbps: typeof speed === 'number' && Number.isFinite(speed) && speed > 0 ? speed : null,
        mtu: typeof d?.mtu === 'number' ? d.mtu : null,
        internal: d?.internal ?? addrs.some((a) => a.internal),
        addresses: addrs.map((a) => ({ address: a.address, family: a.family, cidr: a.cidr })),
        rxBytes: r?.rxBytes ?? 0,
        txBytes: r?.txBytes ?? 0,
        rxBytesPerSec: Math.round(r?.rxBytesPerSec ?? 0),
        txBytesPerSec: Math.round(r?.txBytesPerSec ?? 0),
      };
    });
    return {
      hostname: os.hostname(),
      os: stat?.os ?? { platform: os.platform(), distro: '', release: os.release(), kernel: os.release(), arch: os.arch() },
      cpu: {
        model: stat?.cpu.model ?? os.cpus()[0]?.model ?? 'unknown',
        cores: stat?.cpu.cores ?? os.availableParallelism(),
        physicalCores: stat?.cpu.physicalCores ?? os.availableParallelism(),
        percent: rates.cpuPercent === null ? null : Math.round(rates.cpuPercent * 10) / 10,
      },
      load: { one, five, fifteen },
      // "used" as free(1) counts it: what is not available for new work (page cache is available)
      memory: { totalBytes: mem.total, usedBytes: mem.total - mem.available, availableBytes: mem.available },
      uptimeSeconds: Math.floor(os.uptime()),
      interfaces,
      disks: disks ?? [],
      sampledAt: rates.sampledAt === null ? null : new Date(rates.sampledAt).toISOString(),
      sampleIntervalMs: rates.intervalMs,
    };
  }

  async #probeDisks(): Promise<DiskReport[]> {
    const [blocks, layout] = await Promise.all([si.blockDevices(), si.diskLayout().catch(() => [])]);
    const byDevice = new Map(layout.map((d) => [d.device, d] as const));
    const disks = blocks.filter((b) => b.type === 'disk' && !NOT_A_DISK.test(b.name));
    return Promise.all(
      disks.map(async (b): Promise<DiskReport> => {
        const device = b.device || `/dev/${b.name}`;
        const l = byDevice.get(device);
        const smart = await smartReport(this.#smartctl, device);
        return {
          name: b.name,
          device,
          sizeBytes: b.size,
          model: (l?.name || b.model || '').trim(),
          serial: (l?.serialNum || b.serial || '').trim(),
          vendor: (l?.vendor || '').trim(),
          interfaceType: (l?.interfaceType || b.protocol || '').trim(),
          kind: l?.type || b.physical || '',
          removable: b.removable,
          health: smart.health,
          temperatureC: smart.temperatureC ?? (typeof l?.temperature === 'number' ? l.temperature : null),
        };
      }),
    );
  }
}
