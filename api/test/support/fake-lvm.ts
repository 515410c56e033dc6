/**
 * An in-memory lvm2 for the storage API tests: a Runner (lvm/src/exec.ts) that answers the argv lvm/ sends —
 * reports in json_std, lsblk, wipefs, and the changes (pvcreate … lvconvert --merge) applied to a small model of
 * disks, PVs, VGs and LVs. Every call is recorded, so a test can assert that a refused request ran no command.
 * Only the shapes lvm/ produces are understood; anything else fails loudly (exit 3, "fake-lvm: unsupported").
 */
import type { RunRequest, RunResult, Runner } from '../../../lvm/src/exec.ts';

const EXTENT = 4 * 1024 * 1024;
const up = (n: number) => Math.ceil(n / EXTENT) * EXTENT;

export interface FakeDisk {
  name: string;
  size: number;
  /** mounted at '/': the system disk */
  system?: boolean;
  signatures?: string[];
}

export interface FakeLv {
  name: string;
  vg: string;
  size: number;
  segtype: 'linear' | 'thin-pool' | 'thin';
  pool: string;
  origin: string;
  snapshot: boolean;
  active: boolean;
  open: boolean;
  dataPercent: number | null;
  metadataPercent: number | null;
  metadataSize: number | null;
  time: string;
}

export class FakeLvm {
  readonly calls: string[][] = [];
  readonly disks: FakeDisk[];
  readonly pvs = new Map<string, string | null>(); // device → vg
  readonly vgs = new Set<string>();
  readonly lvs: FakeLv[] = [];
  /** "lvcreate" → stderr: the next call of that tool fails with it (exit 5) */
  readonly failNext = new Map<string, string>();
  clock = Date.parse('2026-11-28T04:00:00Z');

  constructor(disks?: FakeDisk[]) {
    this.disks = disks ?? [
      { name: 'sda', size: 32 * 2 ** 30, system: true },
      { name: 'sdb', size: 2 ** 30, signatures: ['ext4'] },
      { name: 'sdc', size: 2 ** 30 },
      { name: 'sdd', size: 2 ** 30 },
    ];
  }

  /** Calls that change something (not reports, lsblk, probes). */
  changes(): string[] {
    return this.calls.filter((c) => !['lvm', 'pvs', 'vgs', 'lvs', 'lsblk'].includes(c[0]!) && !(c[0] === 'wipefs' && c.includes('--no-act'))).map((c) => c.join(' '));
  }

  readonly runner: Runner = async (req: RunRequest): Promise<RunResult> => {
    const argv = [...req.argv];
    this.calls.push(argv);
    const ok = (stdout = ''): RunResult => ({ code: 0, signal: null, stdout, stderr: '', timedOut: false, aborted: false, ms: 1 });
    const fail = (stderr: string, code = 5): RunResult => ({ code, signal: null, stdout: '', stderr: `  ${stderr}\n`, timedOut: false, aborted: false, ms: 1 });
    const injected = this.failNext.get(argv[0]!);
    if (injected !== undefined) {
      this.failNext.delete(argv[0]!);
      return fail(injected);
    }
    try {
      const out = this.#run(argv);
      return typeof out === 'string' ? ok(out) : out;
    } catch (e) {
      return fail((e as Error).message);
    }
  };

  #diskPath(d: FakeDisk): string {
    return `/dev/${d.name}`;
  }

  #disk(path: string): FakeDisk {
    const d = this.disks.find((x) => this.#diskPath(x) === path);
    if (!d) throw new Error(`Device ${path} not found.`);
    return d;
  }

  #lv(spec: string): FakeLv {
    const [vg, name] = spec.split('/');
    const lv = this.lvs.find((l) => l.vg === vg && l.name === name);
    if (!lv) throw new Error(`Failed to find logical volume "${spec}"`);
    return lv;
  }

  #vgSize(vg: string): number {
    return [...this.pvs].filter(([, v]) => v === vg).reduce((s, [d]) => s + this.#pvSize(d), 0);
  }

  #pvSize(dev: string): number {
    return Math.floor((this.#disk(dev).size - EXTENT) / EXTENT) * EXTENT;
  }

  #vgUsed(vg: string): number {
    return this.lvs.filter((l) => l.vg === vg && l.segtype !== 'thin').reduce((s, l) => s + l.size + (l.metadataSize ?? 0), 0);
  }

  #time(): string {
    this.clock += 1000;
    return new Date(this.clock).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000');
  }

  #alloc(vg: string, bytes: number): void {
    if (!this.vgs.has(vg)) throw new Error(`Volume group "${vg}" not found`);
    if (this.#vgUsed(vg) + bytes > this.#vgSize(vg)) throw new Error(`Volume group "${vg}" has insufficient free space (${(this.#vgSize(vg) - this.#vgUsed(vg)) / EXTENT} extents): ${bytes / EXTENT} required.`);
  }

  #newLv(p: Partial<FakeLv> & Pick<FakeLv, 'name' | 'vg' | 'size' | 'segtype'>): FakeLv {
    if (this.lvs.some((l) => l.vg === p.vg && l.name === p.name)) throw new Error(`Logical Volume "${p.name}" already exists in volume group "${p.vg}"`);
    const lv: FakeLv = { pool: '', origin: '', snapshot: false, active: true, open: false, dataPercent: null, metadataPercent: null, metadataSize: null, time: this.#time(), ...p };
    this.lvs.push(lv);
    return lv;
  }

  #opt(argv: string[], flag: string): string | undefined {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  }

  #bytes(v: string | undefined): number {
    const m = /^(\d+)b$/.exec(v ?? '');
    if (!m) throw new Error(`fake-lvm: size ${v} not in bytes`);
    return Number(m[1]);
  }

  #run(argv: string[]): string | RunResult {
    const [cmd, ...args] = argv;
    switch (cmd) {
      case 'lvm':
        return '  LVM version:     2.03.31(2) (2025-02-27)\n';
      case 'pvs': return this.#report('pv', this.#pvRows());
      case 'vgs': {
        const sel = this.#selectors(args);
        const rows = this.#vgRows().filter((r) => sel.length === 0 || sel.includes(r['vg_name'] as string));
        if (sel.length && rows.length === 0) throw new Error(`Volume group "${sel[0]}" not found`);
        return this.#report('vg', rows);
      }
      case 'lvs': {
        const [vg] = this.#selectors(args);
        if (vg !== undefined && !this.vgs.has(vg)) throw new Error(`Volume group "${vg}" not found`);
        return this.#report('lv', this.#lvRows(vg));
      }
      case 'lsblk': {
        if (args.includes('--nodeps')) {
          const d = this.#disk(args.at(-1)!);
          return JSON.stringify({ blockdevices: [{ name: d.name, kname: d.name, path: this.#diskPath(d), type: 'disk' }] });
        }
        return JSON.stringify({ blockdevices: this.disks.map((d) => this.#lsblkNode(d)) });
      }
      case 'wipefs': {
        const d = this.#disk(args.at(-1)!);
        if (args.includes('--no-act')) {
          const sigs = [...(d.signatures ?? []), ...(this.pvs.has(this.#diskPath(d)) ? ['LVM2_member'] : [])];
          return sigs.length ? JSON.stringify({ signatures: sigs.map((type) => ({ device: d.name, offset: '0x438', type, uuid: null, label: null })) }) : '';
        }
        if (args.includes('--all')) { d.signatures = []; return ''; }
        break;
      }
      case 'pvcreate': {
        const dev = args.at(-1)!;
        const d = this.#disk(dev);
        if (this.pvs.has(dev)) throw new Error(`Can't initialize physical volume "${dev}" of volume group "${this.pvs.get(dev)}" without -ff`);
        if (d.signatures?.length) throw new Error(`WARNING: ${d.signatures[0]} signature detected on ${dev}. Wipe it? [y/n]: [n]\n  Aborted wiping of ${d.signatures[0]}.`);
        this.pvs.set(dev, null);
        return `  Physical volume "${dev}" successfully created.\n`;
      }
      case 'pvremove': {
        const dev = args.at(-1)!;
        if (!this.pvs.has(dev)) throw new Error(`No PV found on device ${dev}.`);
        this.pvs.delete(dev);
        return '';
      }
      case 'vgcreate': {
        const [vg, ...devs] = args;
        if (this.vgs.has(vg!)) throw new Error(`A volume group called ${vg} already exists.`);
        for (const d of devs) if (this.pvs.get(d)) throw new Error(`Physical volume '${d}' is already in volume group '${this.pvs.get(d)}'`);
        this.vgs.add(vg!);
        for (const d of devs) this.pvs.set(d, vg!);
        return '';
      }
      case 'vgextend': {
        const [vg, ...devs] = args;
        if (!this.vgs.has(vg!)) throw new Error(`Volume group "${vg}" not found`);
        for (const d of devs) this.pvs.set(d, vg!);
        return '';
      }
      case 'vgreduce': {
        const [vg, ...devs] = args;
        for (const d of devs) this.pvs.set(d, null);
        if (this.#vgUsed(vg!) > this.#vgSize(vg!)) throw new Error('fake-lvm: reduce left LVs without space');
        return '';
      }
      case 'vgrename': {
        const [a, b] = args;
        if (!this.vgs.has(a!)) throw new Error(`Volume group "${a}" not found`);
        if (this.vgs.has(b!)) throw new Error(`New volume group "${b}" already exists`);
        this.vgs.delete(a!); this.vgs.add(b!);
        for (const [d, v] of this.pvs) if (v === a) this.pvs.set(d, b!);
        for (const l of this.lvs) if (l.vg === a) l.vg = b!;
        return '';
      }
      case 'vgremove': {
        const vg = args.at(-1)!;
        if (this.lvs.some((l) => l.vg === vg)) throw new Error(`Volume group "${vg}" still contains logical volumes`);
        this.vgs.delete(vg);
        for (const [d, v] of this.pvs) if (v === vg) this.pvs.set(d, null);
        return '';
      }
      case 'lvcreate': return this.#lvcreate(args);
      case 'lvextend': {
        const lv = this.#lv(args.at(-1)!);
        const meta = this.#opt(args, '--poolmetadatasize');
        if (meta) { lv.metadataSize = up(this.#bytes(meta)); return ''; }
        const size = up(this.#bytes(this.#opt(args, '-L')));
        if (lv.segtype !== 'thin') this.#alloc(lv.vg, size - lv.size);
        lv.size = size;
        return '';
      }
      case 'lvremove': {
        const lv = this.#lv(args.at(-1)!);
        if (lv.open) throw new Error(`Logical volume ${lv.vg}/${lv.name} contains a filesystem in use.`);
        this.lvs.splice(this.lvs.indexOf(lv), 1);
        return '';
      }
      case 'lvchange': {
        const lv = this.#lv(args.at(-1)!);
        lv.active = args.includes('-ay');
        return '';
      }
      case 'lvconvert': {
        if (args[0] !== '--merge') break;
        const snap = this.#lv(args.at(-1)!);
        const origin = this.#lv(`${snap.vg}/${snap.origin}`);
        if (origin.open) return { code: 0, signal: null, stdout: '', stderr: '  Delaying merge since origin is open.\n', timedOut: false, aborted: false, ms: 1 };
        this.lvs.splice(this.lvs.indexOf(snap), 1);
        return '';
      }
    }
    return { code: 3, signal: null, stdout: '', stderr: `fake-lvm: unsupported ${argv.join(' ')}`, timedOut: false, aborted: false, ms: 1 };
  }

  #lvcreate(args: string[]): string {
    const name = this.#opt(args, '-n')!;
    const type = this.#opt(args, '--type');
    if (args.includes('--snapshot')) {
      const origin = this.#lv(args.at(-1)!);
      const cow = this.#opt(args, '-L');
      if (cow) {
        this.#alloc(origin.vg, up(this.#bytes(cow)));
        this.#newLv({ name, vg: origin.vg, size: up(this.#bytes(cow)), segtype: 'linear', origin: origin.name, snapshot: true, dataPercent: 0 });
      } else {
        if (origin.segtype !== 'thin') throw new Error('fake-lvm: thin snapshot of a non-thin LV');
        this.#newLv({ name, vg: origin.vg, size: origin.size, segtype: 'thin', pool: origin.pool, origin: origin.name, active: args.includes('--setactivationskip'), dataPercent: origin.dataPercent });
      }
      return '';
    }
    if (type === 'thin-pool') {
      const vg = args.at(-1)!;
      const size = up(this.#bytes(this.#opt(args, '-L')));
      const meta = up(this.#opt(args, '--poolmetadatasize') ? this.#bytes(this.#opt(args, '--poolmetadatasize')) : EXTENT);
      this.#alloc(vg, size + meta);
      this.#newLv({ name, vg, size, segtype: 'thin-pool', dataPercent: 0, metadataPercent: 10, metadataSize: meta, open: true });
      return '';
    }
    if (type === 'thin') {
      const pool = this.#lv(this.#opt(args, '--thinpool')!);
      if (pool.segtype !== 'thin-pool') throw new Error(`fake-lvm: ${pool.name} is no pool`);
      this.#newLv({ name, vg: pool.vg, size: up(this.#bytes(this.#opt(args, '-V'))), segtype: 'thin', pool: pool.name, dataPercent: 0 });
      return '';
    }
    const vg = args.at(-1)!;
    const size = up(this.#bytes(this.#opt(args, '-L')));
    this.#alloc(vg, size);
    this.#newLv({ name, vg, size, segtype: 'linear' });
    return '';
  }

  /** Report argv (lvm/src/report.ts reportArgv): … -o <fields> [extra options] [selectors]. */
  #selectors(args: string[]): string[] {
    return args.slice(args.indexOf('-o') + 2).filter((a) => !a.startsWith('-'));
  }

  #report(kind: string, rows: Record<string, unknown>[]): string {
    return JSON.stringify({ report: [{ [kind]: rows }], log: [] });
  }

  #pvRows(): Record<string, unknown>[] {
    return [...this.pvs].map(([dev, vg]) => {
      const size = this.#pvSize(dev);
      const alloc = vg && this.#vgUsed(vg) > 0 && [...this.pvs].find(([, v]) => v === vg)?.[0] === dev ? Math.min(size, this.#vgUsed(vg)) : 0;
      return {
        pv_name: dev, pv_uuid: `uuid-${dev}`, vg_name: vg ?? '', pv_fmt: 'lvm2', pv_size: String(size), pv_free: String(size - alloc),
        dev_size: String(this.#disk(dev).size), pv_attr: vg ? 'a--' : '---', pv_pe_count: size / EXTENT, pv_pe_alloc_count: alloc / EXTENT,
      };
    });
  }

  #vgRows(): Record<string, unknown>[] {
    return [...this.vgs].map((vg) => {
      const size = this.#vgSize(vg);
      const used = this.#vgUsed(vg);
      return {
        vg_name: vg, vg_uuid: `uuid-${vg}`, vg_attr: 'wz--n-', vg_size: String(size), vg_free: String(size - used), vg_extent_size: String(EXTENT),
        vg_extent_count: size / EXTENT, vg_free_count: (size - used) / EXTENT, pv_count: [...this.pvs.values()].filter((v) => v === vg).length,
        lv_count: this.lvs.filter((l) => l.vg === vg).length, snap_count: this.lvs.filter((l) => l.vg === vg && l.snapshot).length, vg_missing_pv_count: 0,
      };
    });
  }

  #lvRows(vg?: string): Record<string, unknown>[] {
    return this.lvs.filter((l) => !vg || l.vg === vg).map((l) => {
      const type = l.segtype === 'thin-pool' ? 't' : l.segtype === 'thin' ? 'V' : l.snapshot ? 's' : this.lvs.some((o) => o.origin === l.name && o.vg === l.vg) ? 'o' : '-';
      const attr = `${type}wi-${l.active ? 'a' : '-'}${l.open ? 'o' : '-'}${l.segtype === 'thin-pool' || l.segtype === 'thin' ? 't' : '-'}${l.segtype === 'thin-pool' ? 'z' : '-'}--`;
      return {
        lv_name: l.name, vg_name: l.vg, lv_uuid: `uuid-${l.vg}-${l.name}`, lv_path: l.segtype === 'thin-pool' ? '' : `/dev/${l.vg}/${l.name}`,
        lv_dm_path: `/dev/mapper/${l.vg.replaceAll('-', '--')}-${l.name.replaceAll('-', '--')}`, lv_attr: attr, lv_size: String(l.size), segtype: l.segtype,
        pool_lv: l.pool, origin: l.origin, data_percent: l.dataPercent, metadata_percent: l.metadataPercent, lv_metadata_size: l.metadataSize === null ? '' : String(l.metadataSize),
        lv_active: l.active ? 1 : 0, lv_device_open: l.open ? 1 : 0, lv_merging: 0, lv_when_full: l.segtype === 'thin-pool' ? 'queue' : '', lv_time: l.time, lv_tags: [], lv_health_status: '',
      };
    });
  }

  #lsblkNode(d: FakeDisk): Record<string, unknown> {
    const path = this.#diskPath(d);
    const isPv = this.pvs.has(path);
    const base = { name: d.name, kname: d.name, path, type: 'disk', size: d.size, model: 'FAKE DISK', serial: `SN-${d.name}`, vendor: 'openlun', wwn: null, tran: 'sata', rota: false, rm: false, ro: false, pttype: null, label: null, uuid: null };
    if (d.system) {
      return { ...base, pttype: 'gpt', fstype: null, mountpoint: null, mountpoints: [null], children: [
        { name: `${d.name}1`, kname: `${d.name}1`, path: `${path}1`, type: 'part', size: d.size, fstype: 'ext4', label: 'root', mountpoint: '/', mountpoints: ['/'] },
      ] };
    }
    const lvs = isPv ? this.lvs.filter((l) => l.vg === this.pvs.get(path) && l.active).map((l) => ({ name: `${l.vg}-${l.name}`, kname: 'dm-0', path: `/dev/mapper/${l.vg}-${l.name}`, type: 'lvm', size: l.size, fstype: null, mountpoint: null, mountpoints: [null] })) : [];
    return { ...base, fstype: isPv ? 'LVM2_member' : (d.signatures?.[0] ?? null), mountpoint: null, mountpoints: [null], ...(lvs.length ? { children: lvs } : {}) };
  }
}
