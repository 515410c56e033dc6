// A throw-away Debian 13 guest under QEMU (TCG) for tests that need what the host kernel lacks
// (device-mapper, an iSCSI initiator). Commands run through a small agent on a virtio-serial port
// (overlay/usr/local/lib/openlun/agent.mjs), not the serial console, so a getty or kernel messages can't
// interleave with results. QEMU is always killed: on shutdown(), boot/command timeouts, a lifetime limit,
// and this process's exit; if this process is SIGKILLed, the agent sees the port close and powers off.
//
//   const vm = await Guest.boot({ disks: [{ sizeMiB: 256 }] });
//   const r = await vm.run(['lvcreate', ...], { timeoutMs: 30_000 });
//   await vm.shutdown();
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { ensureGuestImage } from './build.ts';
import type { GuestImage } from './build.ts';
import { runCommand } from './run-command.ts';

export interface GuestDiskSpec {
  sizeMiB: number;
}

export interface GuestDisk {
  /** Sparse raw file on the host backing the disk. */
  hostPath: string;
  /** Stable name in the guest (udev by-id link from the virtio serial number). */
  guestPath: string;
  /** Kernel name in the guest: the root disk is vda, extra disks follow in order. */
  device: string;
}

export interface GuestBootOptions {
  disks?: GuestDiskSpec[];
  /** Host directory shared into the guest at /mnt/share over virtio-9p. */
  shareDir?: string;
  /** Default true. */
  shareReadOnly?: boolean;
  /** Time allowed from starting QEMU to the agent's hello (a cold image cache is built before the clock
   *  starts: ~1-2 min once per machine). Default 240 s. */
  timeoutMs?: number;
  /** Hard limit on the VM's whole life; QEMU is killed after it. Default 30 min. */
  maxLifetimeMs?: number;
  memoryMiB?: number;
  cpus?: number;
  /** Progress lines (boot phases); default silent. */
  log?: (line: string) => void;
  /** Keep the work directory (console log, disk files) after shutdown, for debugging. Also OPENLUN_GUEST_KEEP=1. */
  keepWorkDir?: boolean;
}

export interface GuestRunOptions {
  /** Default 120 s. The agent kills the command's process group when it expires. */
  timeoutMs?: number;
  cwd?: string;
  env?: Record<string, string>;
  stdin?: Buffer | string | Readable;
  /** Reject with GuestCommandError when the command exits non-zero or times out. */
  check?: boolean;
  /** Live output, e.g. to echo a long script's progress. */
  onOutput?: (fd: 1 | 2, chunk: Buffer) => void;
}

export interface GuestRunResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

export class GuestCommandError extends Error {
  constructor(readonly argv: readonly string[], readonly result: GuestRunResult) {
    const what = result.timedOut ? `timed out after ${result.ms} ms` : `exited with ${result.code ?? result.signal}`;
    const tail = (result.stderr || result.stdout).trim().split('\n').slice(-20).join('\n');
    super(`guest: ${argv.join(' ').slice(0, 200)} ${what}\n${tail}`);
  }
}

type AgentMessage =
  | { op: 'ready'; uptime: number; node: string; kernel: string }
  | { op: 'out'; id: number; fd: 1 | 2; data: string }
  | { op: 'exit'; id: number; code: number | null; signal: string | null; timedOut: boolean; error?: string };

interface PendingRun {
  out: Buffer[];
  err: Buffer[];
  onOutput: GuestRunOptions['onOutput'];
  resolve: (r: Omit<GuestRunResult, 'ms'>) => void;
  reject: (e: Error) => void;
}

const QEMU = process.env.OPENLUN_QEMU ?? 'qemu-system-x86_64';
const live = new Set<Guest>();
let exitHooksInstalled = false;

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', () => { for (const g of live) { g.kill(); g.removeWorkDirSync(); } });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      // Death by the re-raised signal emits no 'exit' event: clean up here too.
      for (const g of live) { g.kill(); g.removeWorkDirSync(); }
      process.kill(process.pid, sig);
    });
  }
}

function tail(file: string, lines = 40): string {
  try { return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n'); } catch { return '(no console log)'; }
}

/** Work dirs left by a test process that was SIGKILLed (its guest powered itself off) are removed. */
async function sweepStaleWorkDirs(): Promise<void> {
  for (const name of await readdir(tmpdir()).catch(() => [] as string[])) {
    if (!name.startsWith('openlun-guest-')) continue;
    const dir = join(tmpdir(), name);
    const pid = Number(await readFile(join(dir, 'owner.pid'), 'utf8').catch(() => '0'));
    if (!pid) continue;
    try { process.kill(pid, 0); continue; } catch (e) { if ((e as NodeJS.ErrnoException).code === 'EPERM') continue; }
    const age = Date.now() - (await stat(dir).then((s) => s.mtimeMs).catch(() => Date.now()));
    if (age > 60_000) await rm(dir, { recursive: true, force: true });
  }
}

export class Guest {
  readonly disks: GuestDisk[];
  /** Milliseconds from spawning QEMU to the agent's hello. */
  bootMs = 0;
  /** Guest uptime (s) when the agent said hello: kernel + init time as the guest saw it. */
  guestUptime = 0;
  readonly consoleLog: string;
  private socket: Socket | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, PendingRun>();
  private exited: Promise<void>;
  private exitInfo: string | undefined;
  private lifetimeTimer: NodeJS.Timeout | undefined;
  private cleaned = false;

  private constructor(
    readonly workDir: string,
    readonly image: GuestImage,
    private readonly qemu: ChildProcess,
    server: Server,
    disks: GuestDisk[],
    private readonly keep: boolean,
  ) {
    this.disks = disks;
    this.consoleLog = join(workDir, 'console.log');
    this.exited = new Promise((resolve) => {
      qemu.on('exit', (code, signal) => {
        this.exitInfo = `QEMU exited (${code ?? signal})`;
        live.delete(this);
        clearTimeout(this.lifetimeTimer);
        for (const p of this.pending.values()) p.reject(new Error(`${this.exitInfo} while a command ran\n${tail(this.consoleLog)}`));
        this.pending.clear();
        server.close();
        resolve();
      });
    });
  }

  static async boot(opts: GuestBootOptions = {}): Promise<Guest> {
    const log = opts.log ?? (() => {});
    const image = await ensureGuestImage(log);
    installExitHooks();
    await sweepStaleWorkDirs();
    const workDir = await mkdtemp(join(tmpdir(), 'openlun-guest-'));
    await writeFile(join(workDir, 'owner.pid'), String(process.pid));
    const overlay = join(workDir, 'root.qcow2');
    // The cached image stays pristine: each boot writes to its own qcow2 overlay.
    await runCommand(['qemu-img', 'create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', image.rootImage, overlay]);
    const disks: GuestDisk[] = [];
    const diskArgs: string[] = [];
    for (const [i, spec] of (opts.disks ?? []).entries()) {
      const hostPath = join(workDir, `disk${i}.raw`);
      await writeFile(hostPath, '');
      await truncate(hostPath, spec.sizeMiB * 2 ** 20);
      const serial = `openlun-disk${i}`;
      disks.push({ hostPath, guestPath: `/dev/disk/by-id/virtio-${serial}`, device: `/dev/vd${String.fromCharCode(98 + i)}` });
      diskArgs.push('-drive', `file=${hostPath},format=raw,if=none,id=disk${i},cache=unsafe,aio=threads`,
        '-device', `virtio-blk-pci,drive=disk${i},serial=${serial}`);
    }
    const sock = join(workDir, 'agent.sock');
    const server = createServer();
    const connected = new Promise<Socket>((resolve) => server.once('connection', resolve));
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(sock, resolve); });

    const append = ['root=/dev/vda', 'rw', 'console=ttyS0', 'init=/sbin/openlun-init', 'net.ifnames=0',
      'panic=-1', 'loglevel=4', 'tsc=reliable'];
    const shareArgs: string[] = [];
    if (opts.shareDir) {
      const ro = opts.shareReadOnly ?? true;
      append.push(`openlun.share=${ro ? 'ro' : 'rw'}`);
      shareArgs.push('-virtfs',
        `local,path=${opts.shareDir},mount_tag=openlun-share,security_model=none,id=share0${ro ? ',readonly=on' : ''}`);
    }
    const consoleLog = join(workDir, 'console.log');
    const argv = [
      '-nodefaults', '-no-user-config', '-no-reboot', '-display', 'none', '-monitor', 'none',
      '-machine', 'pc', '-accel', 'tcg,thread=multi', '-cpu', 'max',
      // one vCPU by default: with two, multi-threaded TCG on QEMU 7.2 races the guest kernel's live code patching
      // (jump labels via int3) and the guest panicked at boot ("Oops: int3 … sched_clock_cpu"), seen here
      '-smp', String(opts.cpus ?? 1), '-m', String(opts.memoryMiB ?? 2048),
      '-serial', `file:${consoleLog}`,
      '-kernel', image.kernel, '-initrd', image.initrd, '-append', append.join(' '),
      '-drive', `file=${overlay},format=qcow2,if=none,id=root,cache=unsafe,aio=threads`,
      '-device', 'virtio-blk-pci,drive=root',
      ...diskArgs,
      // slirp: the guest reaches the host's loopback as 10.0.2.2, nothing else is routed (see openlun-init).
      '-netdev', 'user,id=net0', '-device', 'virtio-net-pci,netdev=net0',
      '-device', 'virtio-serial-pci',
      '-chardev', `socket,id=agent,path=${sock}`,
      '-device', 'virtserialport,chardev=agent,name=openlun.agent',
      '-device', 'virtio-rng-pci',
      ...shareArgs,
    ];
    const t0 = Date.now();
    const qemu = spawn(QEMU, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let qemuStderr = '';
    qemu.stderr!.on('data', (c: Buffer) => { qemuStderr += c.toString(); });
    const vm = new Guest(workDir, image, qemu, server, disks, opts.keepWorkDir ?? process.env.OPENLUN_GUEST_KEEP === '1');
    live.add(vm);
    vm.lifetimeTimer = setTimeout(() => { log('guest lifetime exceeded: killing QEMU'); vm.kill(); },
      opts.maxLifetimeMs ?? 30 * 60_000);
    vm.lifetimeTimer.unref();
    log(`qemu started (pid ${qemu.pid}, work dir ${workDir})`);

    const bootTimeout = opts.timeoutMs ?? 240_000;
    try {
      const ready = await new Promise<AgentMessage & { op: 'ready' }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`guest did not boot within ${bootTimeout} ms`)), bootTimeout);
        void vm.exited.then(() => reject(new Error(`${vm.exitInfo} during boot: ${qemuStderr.trim()}`)));
        void connected.then((s) => {
          vm.attach(s, (m) => { clearTimeout(timer); resolve(m); });
        });
      });
      vm.bootMs = Date.now() - t0;
      vm.guestUptime = ready.uptime;
      log(`guest ready in ${(vm.bootMs / 1000).toFixed(1)} s (guest uptime ${ready.uptime}s, kernel ${ready.kernel}, node ${ready.node})`);
      return vm;
    } catch (e) {
      vm.kill();
      await vm.exited;
      const msg = `${(e as Error).message}\n--- console (${consoleLog}) ---\n${tail(consoleLog)}`;
      await vm.cleanup(true);
      throw new Error(msg);
    }
  }

  private attach(socket: Socket, onReady: (m: AgentMessage & { op: 'ready' }) => void): void {
    this.socket = socket;
    let buf: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      let nl: number;
      while ((nl = buf.indexOf(10)) >= 0) {
        const line = buf.subarray(0, nl).toString('utf8');
        buf = buf.subarray(nl + 1);
        if (line.trim()) this.onMessage(JSON.parse(line) as AgentMessage, onReady);
      }
    });
    socket.on('error', () => { /* QEMU exit is handled by the exit hook */ });
  }

  private onMessage(m: AgentMessage, onReady: (m: AgentMessage & { op: 'ready' }) => void): void {
    if (m.op === 'ready') return onReady(m);
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.op === 'out') {
      const data = Buffer.from(m.data, 'base64');
      (m.fd === 1 ? p.out : p.err).push(data);
      p.onOutput?.(m.fd, data);
    } else {
      this.pending.delete(m.id);
      const stderr = Buffer.concat(p.err).toString('utf8') + (m.error ? `\n${m.error}` : '');
      p.resolve({ code: m.code, signal: m.signal, timedOut: m.timedOut, stdout: Buffer.concat(p.out).toString('utf8'), stderr });
    }
  }

  private async send(msg: object): Promise<void> {
    const s = this.socket;
    if (!s || this.exitInfo) throw new Error(`guest is not running (${this.exitInfo ?? 'no agent'})`);
    if (!s.write(JSON.stringify(msg) + '\n')) await new Promise<void>((r) => s.once('drain', () => r()));
  }

  /** Run argv in the guest (no shell), or a bash script when given a string. Never rejects on a non-zero exit
   *  unless `check` is set; rejects if the VM dies or the agent stops answering. */
  async run(cmd: readonly string[] | string, opts: GuestRunOptions = {}): Promise<GuestRunResult> {
    const argv = typeof cmd === 'string' ? ['bash', '-c', cmd] : [...cmd];
    const id = this.nextId++;
    const timeoutMs = opts.timeoutMs ?? 120_000;
    const t0 = Date.now();
    const done = new Promise<Omit<GuestRunResult, 'ms'>>((resolve, reject) => {
      this.pending.set(id, { out: [], err: [], onOutput: opts.onOutput, resolve, reject });
    });
    done.catch(() => { /* observed below; if sending failed first, the send error is the one reported */ });
    // If the agent itself stops answering, the VM is useless: kill it rather than hang the test.
    const watchdog = setTimeout(() => {
      this.pending.get(id)?.reject(new Error(`guest agent did not answer within ${timeoutMs + 30_000} ms; killing the VM`));
      this.pending.delete(id);
      this.kill();
    }, timeoutMs + 30_000);
    try {
      await this.send({ op: 'run', id, argv, cwd: opts.cwd, env: opts.env, timeoutMs, stdin: opts.stdin !== undefined });
      if (opts.stdin !== undefined) {
        const chunks: AsyncIterable<Buffer | string> | Array<Buffer | string> =
          typeof opts.stdin === 'string' || Buffer.isBuffer(opts.stdin) ? [opts.stdin] : opts.stdin;
        for await (const c of chunks) {
          const b = typeof c === 'string' ? Buffer.from(c) : c;
          for (let off = 0; off < b.length; off += 1 << 20) {
            await this.send({ op: 'stdin', id, data: b.subarray(off, off + (1 << 20)).toString('base64') });
          }
        }
        await this.send({ op: 'stdin-end', id });
      }
      const r = { ...(await done), ms: Date.now() - t0 };
      if (opts.check && (r.code !== 0 || r.timedOut)) throw new GuestCommandError(argv, r);
      return r;
    } finally {
      clearTimeout(watchdog);
    }
  }

  /** run() with check: true, returning stdout. */
  async sh(cmd: readonly string[] | string, opts: Omit<GuestRunOptions, 'check'> = {}): Promise<string> {
    return (await this.run(cmd, { ...opts, check: true })).stdout;
  }

  /** Copy a host file or directory tree into the guest (a directory's contents land in guestPath).
   *  `exclude` takes tar --exclude patterns, e.g. ['node_modules', '.git']. */
  async copyIn(hostPath: string, guestPath: string, opts: { exclude?: string[]; timeoutMs?: number } = {}): Promise<void> {
    const st = await stat(hostPath);
    const timeoutMs = opts.timeoutMs ?? 300_000;
    if (st.isDirectory()) {
      await this.run(['mkdir', '-p', guestPath], { check: true });
      const tar = spawn('tar', ['-C', hostPath, '-cf', '-', ...(opts.exclude ?? []).map((e) => `--exclude=${e}`), '.'],
        { stdio: ['ignore', 'pipe', 'pipe'] });
      let tarErr = '';
      tar.stderr.on('data', (c: Buffer) => { tarErr += c.toString(); });
      const tarExit = new Promise<number | null>((r) => tar.on('close', r));
      await this.run(['tar', '-xf', '-', '-C', guestPath, '--no-same-owner'], { stdin: tar.stdout, check: true, timeoutMs });
      const code = await tarExit;
      if (code !== 0) throw new Error(`tar of ${hostPath} failed (${code}): ${tarErr}`);
    } else {
      await this.run(['mkdir', '-p', dirname(guestPath)], { check: true });
      await this.run(['dd', `of=${guestPath}`, 'bs=1M', 'status=none'], { stdin: createReadStream(hostPath), check: true, timeoutMs });
      await this.run(['chmod', (st.mode & 0o7777).toString(8), guestPath], { check: true });
    }
  }

  /** Power the guest off (immediately: its root disk is a throw-away overlay) and remove the work directory. */
  async shutdown(): Promise<void> {
    if (!this.exitInfo && this.socket) {
      await this.send({ op: 'poweroff' }).catch(() => {});
      const timer = setTimeout(() => this.kill(), 15_000);
      await this.exited;
      clearTimeout(timer);
    } else {
      this.kill();
      await this.exited;
    }
    await this.cleanup(false);
  }

  /** SIGKILL QEMU now (synchronous: safe in an 'exit' handler). */
  kill(): void {
    if (this.qemu.exitCode === null && this.qemu.signalCode === null) this.qemu.kill('SIGKILL');
  }

  /** For the process 'exit' hook, where nothing asynchronous runs any more. */
  removeWorkDirSync(): void {
    if (this.keep || this.cleaned) return;
    this.cleaned = true;
    rmSync(this.workDir, { recursive: true, force: true });
  }

  private async cleanup(failed: boolean): Promise<void> {
    if (this.cleaned) return;
    this.cleaned = true;
    if (this.keep || (failed && process.env.OPENLUN_GUEST_KEEP_ON_FAILURE === '1')) return;
    if (existsSync(this.workDir)) await rm(this.workDir, { recursive: true, force: true });
  }
}
