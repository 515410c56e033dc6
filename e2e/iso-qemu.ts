// What the appliance e2e scripts share: one QEMU (TCG) guest with its serial console in a file and the UI and
// iSCSI ports forwarded to the host, and an API client for the appliance behind the forwarded port.
// Used by e2e/iso-boot.ts (live ISO) and e2e/iso-install.ts (install, disk boots, upgrade).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { createServer, connect, type Socket } from 'node:net';
import { join } from 'node:path';

/** What the appliance listens on inside the guest (the units' defaults). */
export const GUEST_UI_PORT = Number(process.env.OPENLUN_ISO_UI_PORT ?? 443);
export const GUEST_UI_SCHEME = (process.env.OPENLUN_ISO_UI_SCHEME ?? 'https') as 'https' | 'http';
export const GUEST_ISCSI_PORT = 3260; // RFC 7143 §13.1: the registered iSCSI port
/** The banner line openlun-banner prints once the services are started and the network is up. */
export const BANNER = /Web UI: (https?:\/\/\S+)/;

export const OVMF = [
  { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.fd' },
  { code: '/usr/share/OVMF/OVMF_CODE.fd', vars: '/usr/share/OVMF/OVMF_VARS.fd' },
] as const;
export const haveOvmf = (): boolean => OVMF.some((o) => existsSync(o.code) && existsSync(o.vars));

export type Firmware = 'bios' | 'uefi';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export function get(url: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = (url.startsWith('https:') ? request : httpRequest)(url, { rejectUnauthorized: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** The appliance's API over the forwarded port. Its certificate is the self-signed one serve made on first start
 *  inside the guest, which the host cannot know in advance: TLS is not verified here (the appliance e2e pins it). */
export class ApiClient {
  #cookie = '';
  #csrf = '';
  constructor(readonly base: string) {}
  get cookie(): string { return this.#cookie; }
  call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any; headers: Record<string, unknown> }> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = (this.base.startsWith('https:') ? request : httpRequest)(`${this.base}${path}`, {
        method, rejectUnauthorized: false, timeout: 120_000,
        headers: { ...(payload ? { 'content-type': 'application/json' } : {}), ...(this.#cookie ? { cookie: this.#cookie, 'x-csrf-token': this.#csrf } : {}) },
      }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          let json: unknown;
          try { json = text ? JSON.parse(text) : undefined; } catch { json = text; }
          resolve({ status: res.statusCode ?? 0, json, headers: res.headers });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timeout`)));
      req.on('error', reject);
      req.end(payload);
    });
  }
  async ok(method: string, path: string, body?: unknown): Promise<any> {
    const r = await this.call(method, path, body);
    if (r.status < 200 || r.status >= 300) throw new Error(`${method} ${path}: HTTP ${r.status} ${JSON.stringify(r.json)}`);
    return r.json;
  }
  #session(r: { json: any; headers: Record<string, unknown> }): void {
    this.#cookie = ([] as string[]).concat((r.headers['set-cookie'] as string[]) ?? []).map((c) => c.split(';')[0]).join('; ');
    this.#csrf = r.json.csrfToken;
  }
  async setup(password: string): Promise<void> {
    const r = await this.call('POST', '/api/setup', { password });
    if (r.status !== 201) throw new Error(`POST /api/setup: HTTP ${r.status} ${JSON.stringify(r.json)}`);
    this.#session(r);
  }
  async login(username: string, password: string): Promise<void> {
    const r = await this.call('POST', '/api/login', { username, password });
    if (r.status !== 200) throw new Error(`POST /api/login: HTTP ${r.status} ${JSON.stringify(r.json)}`);
    this.#session(r);
  }
}

/** True once something behind the forwarded port keeps a TCP connection open (slirp accepts every forwarded
 *  connection itself and closes it at once when nothing listens in the guest). */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    const t = setTimeout(() => { s.destroy(); resolve(true); }, 1500);
    s.on('close', () => { clearTimeout(t); resolve(false); });
    s.on('error', () => { clearTimeout(t); resolve(false); });
  });
}

export function consoleText(path: string): string {
  try { return readFileSync(path, 'latin1'); } catch { return ''; }
}

export interface VmOptions {
  name: string;
  work: string;
  firmware: Firmware;
  /** Extra QEMU arguments: drives, -cdrom, -kernel … */
  args: string[];
  /** Forward the UI and iSCSI ports (slirp hostfwd to free host ports). */
  forward?: boolean;
  /** The serial console as a socket too, so type() can answer a menu on it (output still goes to the log). */
  interactive?: boolean;
}

/** One QEMU run: -smp 1 (multi-threaded TCG panicked a guest kernel here, platform-notes), serial console to a
 *  file, a QMP socket for an ACPI power-off. Killed with SIGKILL on stop() or when this process exits. */
export class Vm {
  readonly consoleLog: string;
  readonly qmp: string;
  readonly serialSocket: string;
  #serial: Socket | undefined;
  uiPort = 0;
  iscsiPort = 0;
  readonly started = Date.now();
  #proc!: ChildProcess;
  #exited = false;
  #stderr = '';
  #onExit = () => this.kill();

  private constructor(readonly opts: VmOptions) {
    this.consoleLog = join(opts.work, `${opts.name}.console.log`);
    this.qmp = join(opts.work, `${opts.name}.qmp`);
    this.serialSocket = join(opts.work, `${opts.name}.serial`);
  }

  static async start(opts: VmOptions): Promise<Vm> {
    const vm = new Vm(opts);
    const serial = opts.interactive
      ? ['-chardev', `socket,id=ser0,path=${vm.serialSocket},server=on,wait=off,logfile=${vm.consoleLog}`, '-serial', 'chardev:ser0']
      : ['-serial', `file:${vm.consoleLog}`];
    const argv = ['-machine', 'pc', '-accel', 'tcg', '-smp', '1', '-m', '2048', '-display', 'none', '-monitor', 'none',
      ...serial, '-qmp', `unix:${vm.qmp},server=on,wait=off`, '-no-reboot'];
    let nic = 'user,model=virtio-net-pci';
    if (opts.forward) {
      vm.uiPort = await freePort();
      vm.iscsiPort = await freePort();
      nic += `,hostfwd=tcp:127.0.0.1:${vm.uiPort}-:${GUEST_UI_PORT},hostfwd=tcp:127.0.0.1:${vm.iscsiPort}-:${GUEST_ISCSI_PORT}`;
    }
    argv.push('-nic', nic);
    if (opts.firmware === 'uefi') {
      const ovmf = OVMF.find((o) => existsSync(o.code) && existsSync(o.vars));
      if (!ovmf) throw new Error('no OVMF firmware (apt-get install ovmf)');
      const vars = join(opts.work, `${opts.name}.OVMF_VARS.fd`);
      copyFileSync(ovmf.vars, vars);
      argv.push('-drive', `if=pflash,format=raw,readonly=on,file=${ovmf.code}`, '-drive', `if=pflash,format=raw,file=${vars}`);
    }
    argv.push(...opts.args);
    console.log(`[${opts.name}] qemu-system-x86_64 ${argv.join(' ')}`);
    vm.#proc = spawn('qemu-system-x86_64', argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    vm.#proc.stderr!.on('data', (c: Buffer) => { vm.#stderr += c.toString(); });
    vm.#proc.on('exit', () => { vm.#exited = true; });
    process.once('exit', vm.#onExit);
    return vm;
  }

  get exited(): boolean { return this.#exited; }
  get stderr(): string { return this.#stderr; }
  seconds(): number { return (Date.now() - this.started) / 1000; }
  console(): string { return consoleText(this.consoleLog); }

  /** Waits for a console line; throws when QEMU exits first or the deadline passes. */
  async waitConsole(re: RegExp, deadlineMs: number): Promise<RegExpExecArray> {
    for (;;) {
      const m = re.exec(this.console());
      if (m) return m;
      if (this.#exited) throw new Error(`qemu exited before ${re}: ${this.#stderr.trim()}`);
      if (Date.now() > deadlineMs) throw new Error(`no ${re} on the console before the deadline`);
      await sleep(2000);
    }
  }

  /** Types on the serial console (interactive VMs only), as a person at a terminal would. */
  async type(text: string): Promise<void> {
    if (!this.opts.interactive) throw new Error('type(): the VM was not started interactive');
    if (!this.#serial) {
      this.#serial = await new Promise<Socket>((resolve, reject) => {
        const s = connect(this.serialSocket, () => resolve(s));
        s.on('error', reject);
      });
      this.#serial.on('data', () => undefined); // the logfile keeps the output
    }
    await new Promise<void>((resolve) => this.#serial!.write(text, () => resolve()));
  }

  async waitExit(deadlineMs: number): Promise<boolean> {
    while (!this.#exited && Date.now() < deadlineMs) await sleep(1000);
    return this.#exited;
  }

  /** Polls GET /api/health through the forwarded port; returns the seconds since power-on when it answered. */
  async waitHealth(deadlineMs: number): Promise<number> {
    const url = `${GUEST_UI_SCHEME}://127.0.0.1:${this.uiPort}/api/health`;
    let last = '';
    for (;;) {
      if (this.#exited) throw new Error(`qemu exited while waiting for ${url}`);
      try {
        const r = await get(url, 5000);
        if (r.status === 200 && /"status"\s*:\s*"ok"/.test(r.body)) return this.seconds();
        last = `HTTP ${r.status} ${r.body.slice(0, 200)}`;
      } catch (e) { last = (e as Error).message; }
      if (Date.now() > deadlineMs) throw new Error(`health never answered: ${last}`);
      await sleep(2000);
    }
  }

  api(): ApiClient { return new ApiClient(`${GUEST_UI_SCHEME}://127.0.0.1:${this.uiPort}`); }

  /** ACPI power button through QMP (the guest shuts down cleanly); SIGKILL if it has not stopped in time. */
  async powerOff(timeoutMs = 120_000): Promise<boolean> {
    if (this.#exited) return true;
    await new Promise<void>((resolve) => {
      const s = connect(this.qmp);
      let buf = '';
      let sent = false;
      s.setEncoding('utf8');
      s.on('data', (c: string) => {
        buf += c;
        if (!sent && buf.includes('"QMP"')) {
          sent = true;
          s.write('{"execute":"qmp_capabilities"}\n{"execute":"system_powerdown"}\n');
          setTimeout(() => { s.end(); resolve(); }, 500);
        }
      });
      s.on('error', () => resolve());
    });
    const clean = await this.waitExit(Date.now() + timeoutMs);
    if (!clean) this.kill();
    return clean;
  }

  kill(): void {
    this.#serial?.destroy();
    if (!this.#exited) this.#proc?.kill('SIGKILL');
    process.removeListener('exit', this.#onExit);
  }
}
