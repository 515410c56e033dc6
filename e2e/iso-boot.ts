// Boots the appliance ISO in QEMU (TCG) and checks it from the host through port forwarding, as an admin would:
// the console banner appears on the serial console, the API's health endpoint answers, and the iSCSI portal
// accepts a login (a SendTargets discovery session with iscsi-ls, then iscsi-inq on the first target if any).
// Prints how long each boot took to a working web UI.
//
//   npm run test:iso                         # BIOS, then UEFI (OVMF) when installed
//   node --import tsx e2e/iso-boot.ts [--iso PATH] [--firmware bios|uefi|both] [--keep]
//
// Not part of `npm test`: it needs the ISO (`npm run iso`, as root) and 3–6 minutes per boot under TCG.
// -smp 1: multi-threaded TCG panicked a guest kernel here (platform-notes).
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { createServer, connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultIsoPath } from '../iso/build.ts';

/** What the appliance listens on inside the guest (the units' defaults). */
const GUEST_UI_PORT = Number(process.env.OPENLUN_ISO_UI_PORT ?? 443);
const GUEST_UI_SCHEME = (process.env.OPENLUN_ISO_UI_SCHEME ?? 'https') as 'https' | 'http';
const GUEST_ISCSI_PORT = 3260; // RFC 7143 §13.1: the registered iSCSI port
/** The banner line openlun-banner prints once the services are started and the network is up. */
const BANNER = /Web UI: (https?:\/\/\S+)/;

const OVMF = [
  { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.fd' },
  { code: '/usr/share/OVMF/OVMF_CODE.fd', vars: '/usr/share/OVMF/OVMF_VARS.fd' },
] as const;

type Firmware = 'bios' | 'uefi';

interface BootResult {
  firmware: Firmware;
  bannerSeconds?: number;
  healthSeconds?: number;
  health?: string;
  iscsiLogin?: string;
  iscsiInq?: string;
  failures: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function get(url: string, timeoutMs: number): Promise<{ status: number; body: string }> {
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
class ApiClient {
  #cookie = '';
  #csrf = '';
  constructor(readonly base: string) {}
  call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any; headers: Record<string, unknown> }> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = (this.base.startsWith('https:') ? request : httpRequest)(`${this.base}${path}`, {
        method, rejectUnauthorized: false, timeout: 60_000,
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
  async setup(password: string): Promise<void> {
    const r = await this.call('POST', '/api/setup', { password });
    if (r.status !== 201) throw new Error(`POST /api/setup: HTTP ${r.status} ${JSON.stringify(r.json)}`);
    this.#cookie = ([] as string[]).concat((r.headers['set-cookie'] as string[]) ?? []).map((c) => c.split(';')[0]).join('; ');
    this.#csrf = r.json.csrfToken;
  }
}

const TARGET_IQN = 'iqn.2026-11.org.openlun:iso-boot';
const INITIATOR_IQN = 'iqn.2026-11.org.openlun:iso-boot-host';

/** First-run setup and the smallest exported LUN, through the API as the UI would: a 64 MiB file LUN, a target
 *  with a wildcard portal on 3260, LUN 0 mapped, an ACL admitting this host's initiator name. */
async function provisionLun(api: ApiClient): Promise<void> {
  await api.setup(`Iso-boot-${randomBytes(12).toString('hex')}`);
  const lun = await api.ok('POST', '/api/luns', { name: 'isoboot0', backing: 'file', sizeBytes: 64 * 2 ** 20, blockSize: 512 });
  const target = await api.ok('POST', '/api/targets', { iqn: TARGET_IQN });
  await api.ok('POST', '/api/portals', { targetId: target.id, address: '0.0.0.0', port: GUEST_ISCSI_PORT });
  await api.ok('POST', '/api/mappings', { targetId: target.id, lun: 0, lunId: lun.id });
  const group = await api.ok('POST', '/api/initiator-groups', { name: 'iso-boot', initiators: [INITIATOR_IQN] });
  await api.ok('POST', '/api/acls', { targetId: target.id, groupId: group.id });
}

/** True once something behind the forwarded port answers a TCP connect with data or at least keeps it open
 *  (slirp accepts every forwarded connection itself and closes it at once when nothing listens in the guest). */
function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    const t = setTimeout(() => { s.destroy(); resolve(true); }, 1500);
    s.on('close', () => { clearTimeout(t); resolve(false); });
    s.on('error', () => { clearTimeout(t); resolve(false); });
  });
}

function consoleText(path: string): string {
  try { return readFileSync(path, 'latin1'); } catch { return ''; }
}

async function bootOnce(iso: string, firmware: Firmware, keep: boolean, deadlineMs: number): Promise<BootResult> {
  const work = mkdtempSync(join(tmpdir(), `openlun-iso-${firmware}-`));
  const consoleLog = join(work, 'console.log');
  const uiPort = await freePort();
  const iscsiPort = await freePort();
  const result: BootResult = { firmware, failures: [] };
  const argv = [
    '-machine', 'pc', '-accel', 'tcg', '-smp', '1', '-m', '2048',
    '-display', 'none', '-monitor', 'none', '-serial', `file:${consoleLog}`,
    '-cdrom', iso, '-boot', 'd',
    '-nic', `user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:${uiPort}-:${GUEST_UI_PORT},hostfwd=tcp:127.0.0.1:${iscsiPort}-:${GUEST_ISCSI_PORT}`,
  ];
  if (firmware === 'uefi') {
    const ovmf = OVMF.find((o) => existsSync(o.code) && existsSync(o.vars));
    if (!ovmf) throw new Error('no OVMF firmware (apt-get install ovmf)');
    const vars = join(work, 'OVMF_VARS.fd');
    copyFileSync(ovmf.vars, vars);
    argv.push('-drive', `if=pflash,format=raw,readonly=on,file=${ovmf.code}`, '-drive', `if=pflash,format=raw,file=${vars}`);
  }
  console.log(`[iso-boot] ${firmware}: qemu-system-x86_64 ${argv.join(' ')}`);
  const t0 = Date.now();
  const qemu: ChildProcess = spawn('qemu-system-x86_64', argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  let qemuErr = '';
  qemu.stderr!.on('data', (c: Buffer) => { qemuErr += c.toString(); });
  let exited = false;
  qemu.on('exit', () => { exited = true; });
  const kill = () => { if (!exited) qemu.kill('SIGKILL'); };
  const onSignal = () => { kill(); process.exit(130); };
  process.once('exit', kill);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const secs = () => (Date.now() - t0) / 1000;
  try {
    // 1. The banner on the serial console.
    let url: string | undefined;
    while (!url) {
      if (exited) throw new Error(`qemu exited: ${qemuErr.trim()}`);
      if (Date.now() > deadlineMs) throw new Error('no banner before the deadline');
      url = BANNER.exec(consoleText(consoleLog))?.[1];
      if (!url) await sleep(2000);
    }
    result.bannerSeconds = secs();
    console.log(`[iso-boot] ${firmware}: banner after ${result.bannerSeconds.toFixed(0)} s (${url})`);

    // 2. The API's health endpoint through the forwarded port (the services may still be starting).
    const healthUrl = `${GUEST_UI_SCHEME}://127.0.0.1:${uiPort}/api/health`;
    const healthDeadline = Math.min(deadlineMs, Date.now() + 180_000);
    for (;;) {
      try {
        const r = await get(healthUrl, 5000);
        if (r.status === 200 && /"status"\s*:\s*"ok"/.test(r.body)) { result.health = r.body; break; }
        result.health = `HTTP ${r.status} ${r.body.slice(0, 200)}`;
      } catch (e) { result.health = (e as Error).message; }
      if (Date.now() > healthDeadline) { result.failures.push(`health: ${result.health}`); break; }
      await sleep(3000);
    }
    if (!result.failures.length) {
      result.healthSeconds = secs();
      console.log(`[iso-boot] ${firmware}: web UI (GET /api/health) answered after ${result.healthSeconds.toFixed(0)} s`);
    }

    // 3. First-run setup and a LUN through the API; then iSCSI logins from the host: discovery (as the admitted
    //    initiator: SendTargets lists only targets an initiator may see), then a normal
    //    session with INQUIRY (iscsi-inq). A fresh appliance has no portal until a target names one.
    if (!result.failures.length) {
      try {
        await provisionLun(new ApiClient(`${GUEST_UI_SCHEME}://127.0.0.1:${uiPort}`));
        console.log(`[iso-boot] ${firmware}: setup done; target ${TARGET_IQN} with a 64 MiB LUN after ${secs().toFixed(0)} s`);
      } catch (e) { result.failures.push(`API provisioning: ${(e as Error).message}`); }
    }
    const iscsiDeadline = Math.min(deadlineMs, Date.now() + 120_000);
    while (!(await portOpen(iscsiPort)) && Date.now() < iscsiDeadline) await sleep(3000);
    const ls = spawnSync('iscsi-ls', ['-i', INITIATOR_IQN, `iscsi://127.0.0.1:${iscsiPort}`], { encoding: 'utf8', timeout: 30_000 });
    result.iscsiLogin = (ls.stdout + ls.stderr).trim();
    if (ls.status !== 0) result.failures.push(`iscsi-ls (discovery login): exit ${ls.status}: ${result.iscsiLogin}`);
    else {
      console.log(`[iso-boot] ${firmware}: discovery login ok: ${result.iscsiLogin || "(no targets listed)"}`);
      if (!ls.stdout.includes(TARGET_IQN)) result.failures.push(`discovery does not list ${TARGET_IQN}`);
      const inq = spawnSync('iscsi-inq', ['-i', INITIATOR_IQN, `iscsi://127.0.0.1:${iscsiPort}/${TARGET_IQN}/0`], { encoding: 'utf8', timeout: 30_000 });
      result.iscsiInq = (inq.stdout + inq.stderr).trim().split('\n').slice(0, 8).join('\n');
      if (inq.status !== 0) result.failures.push(`iscsi-inq ${TARGET_IQN}: exit ${inq.status}: ${result.iscsiInq}`);
      else console.log(`[iso-boot] ${firmware}: iscsi-inq logged in and read INQUIRY:\n${result.iscsiInq}`);
    }
  } catch (e) {
    result.failures.push((e as Error).message);
  } finally {
    kill();
    process.removeListener('exit', kill);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    const tail = consoleText(consoleLog).split('\n').slice(-40).join('\n');
    if (result.failures.length) console.log(`[iso-boot] ${firmware}: console tail:\n${tail}`);
    if (keep) console.log(`[iso-boot] ${firmware}: kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
  return result;
}

const { values } = parseArgs({ options: {
  iso: { type: 'string' },
  firmware: { type: 'string', default: 'both' },
  keep: { type: 'boolean', default: false },
  'timeout-min': { type: 'string', default: '10' },
} });
const iso = values.iso ?? await defaultIsoPath();
if (!existsSync(iso)) {
  console.error(`iso-boot: no ISO at ${iso}; build it first (as root): npm run iso`);
  process.exit(2);
}
const wanted: Firmware[] = values.firmware === 'both' ? ['bios', 'uefi'] : [values.firmware as Firmware];
const haveOvmf = OVMF.some((o) => existsSync(o.code));
const results: BootResult[] = [];
for (const fw of wanted) {
  if (fw === 'uefi' && !haveOvmf) { console.log('[iso-boot] uefi: skipped (no OVMF; apt-get install ovmf)'); continue; }
  results.push(await bootOnce(iso, fw, values.keep ?? false, Date.now() + Number(values['timeout-min']) * 60_000));
}
console.log('\n[iso-boot] summary');
for (const r of results) {
  const ok = r.failures.length === 0;
  console.log(`  ${r.firmware}: ${ok ? 'PASS' : 'FAIL'}  banner ${r.bannerSeconds?.toFixed(0) ?? '-'} s, ` +
    `boot to web UI ${r.healthSeconds?.toFixed(0) ?? '-'} s${ok ? '' : `\n    ${r.failures.join('\n    ')}`}`);
}
process.exit(results.every((r) => r.failures.length === 0) ? 0 : 1);
