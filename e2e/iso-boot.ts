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
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultIsoPath } from '../iso/build.ts';
import { ApiClient, BANNER, consoleText, freePort, get, GUEST_ISCSI_PORT, GUEST_UI_PORT, GUEST_UI_SCHEME, OVMF, portOpen, sleep, type Firmware } from './iso-qemu.ts';

interface BootResult {
  firmware: Firmware;
  bannerSeconds?: number;
  healthSeconds?: number;
  health?: string;
  iscsiLogin?: string;
  iscsiInq?: string;
  failures: string[];
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
