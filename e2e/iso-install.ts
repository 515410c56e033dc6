// The appliance end to end (issue 7, "What must be shown" 2 and 3): boot the ISO in QEMU (TCG), install it to a
// virtual disk unattended, power off, boot that disk alone, and from the host through QEMU's port forwarding:
// first-run setup through the API, a LUN (LVM thin when the storage API is on the image, else file-backed), a
// target with CHAP, 64 MiB written and read back with qemu-img over iSCSI; a browser loads the dashboard; a static
// address through PUT /api/network; power off, boot again (UEFI when OVMF is installed), and find the same LUN
// (same NAA id from the API and in VPD page 0x83) with the same data and the static address. Then an upgrade from
// the ISO into the other root slot, and the same checks once more. Prints boot-to-web-UI seconds per boot.
//
//   npm run test:iso-install                 (not part of npm test: ~15 min under TCG)
//   node --import tsx e2e/iso-install.ts [--iso PATH] [--firmware bios|uefi|both] [--no-upgrade] [--interactive] [--keep]
//   (--interactive: the first install answers the installer's menu on the serial console instead of openlun.yes=1)
//
// The install is unattended through the kernel command line (openlun.install=/dev/vda openlun.yes=1
// openlun.after=poweroff, which openlun-install.service acts on); the live kernel and initrd are taken from the
// ISO with xorriso and booted with -kernel, the ISO attached as the CD the live system runs from.
import { onPath } from '../iso/on-path.ts';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultIsoPath } from '../iso/build.ts';
import { LIVE_KERNEL_ARGS } from '../iso/grub.ts';
import { BANNER, type ApiClient, type Firmware, haveOvmf, sleep, Vm } from './iso-qemu.ts';

const { values } = parseArgs({ options: {
  iso: { type: 'string' },
  firmware: { type: 'string', default: 'both' },
  'no-upgrade': { type: 'boolean', default: false },
  interactive: { type: 'boolean', default: false },
  keep: { type: 'boolean', default: false },
  'timeout-min': { type: 'string', default: '12' },
} });

const TARGET_IQN = 'iqn.2026-11.org.openlun:iso-install';
const INITIATOR_IQN = 'iqn.2026-11.org.openlun:iso-install-host';
const CHAP = { username: 'iso-install', secret: `S${randomBytes(12).toString('hex')}` };
const PASSWORD = `Iso-install-${randomBytes(9).toString('hex')}`;
const DATA_BYTES = 64 * 2 ** 20;
const STEP_MS = Number(values['timeout-min']) * 60_000;
/** QEMU's user network: the guest's address, the gateway and the DNS forwarder slirp provides. */
const SLIRP = { address: '10.0.2.15', prefixLength: 24, gateway: '10.0.2.2', dns: ['10.0.2.3'] } as const;

function need(cmd: string, pkg: string): void {
  if (!onPath(cmd)) {
    console.error(`iso-install: ${cmd} is missing: apt-get install ${pkg}`);
    process.exit(2);
  }
}

function run(argv: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: opts.timeoutMs ?? 300_000, env: opts.env ?? process.env, maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`${argv.slice(0, 3).join(' ')} …: exit ${r.status ?? r.signal}\n${(r.stdout + r.stderr).trim().slice(-2000)}`);
  return r.stdout;
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

interface Boot { name: string; firmware: Firmware; uiSeconds: number; bannerSeconds: number }
const boots: Boot[] = [];
const notes: string[] = [];
/** Problems that fail the run without stopping it (the later checks still say something). */
const failures: string[] = [];

const iso = values.iso ?? await defaultIsoPath();
if (!existsSync(iso)) { console.error(`iso-install: no ISO at ${iso}; build it first (as root): npm run iso`); process.exit(2); }
for (const [cmd, pkg] of [['qemu-system-x86_64', 'qemu-system-x86'], ['qemu-img', 'qemu-utils qemu-block-extra'], ['xorriso', 'xorriso'], ['iscsi-inq', 'libiscsi-bin']] as const) need(cmd, pkg);
let firmwares: Firmware[] = values.firmware === 'both' ? ['bios', 'uefi'] : [values.firmware as Firmware];
if (firmwares.includes('uefi') && !haveOvmf()) {
  console.log('[iso-install] UEFI boots skipped: no OVMF firmware (apt-get install ovmf)');
  firmwares = firmwares.filter((f) => f !== 'uefi');
  if (firmwares.length === 0) firmwares = ['bios'];
}
/** Firmware of the n-th boot from disk: alternate when both are asked for. */
const fwFor = (n: number): Firmware => firmwares[n % firmwares.length]!;

const work = mkdtempSync(join(tmpdir(), 'openlun-iso-install-'));
const log = (s: string) => console.log(`[iso-install] ${s}`);
let current: Vm | undefined;
const onSignal = () => { current?.kill(); process.exit(130); };
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);

// The live kernel and initrd from the ISO (no mount: the build hosts' kernels have no iso9660).
const kernel = join(work, 'vmlinuz');
const initrd = join(work, 'initrd.img');
run(['xorriso', '-osirrox', 'on', '-indev', iso, '-extract', '/live/vmlinuz', kernel, '-extract', '/live/initrd.img', initrd]);
const disks = { system: join(work, 'system.qcow2'), pv1: join(work, 'pv1.qcow2'), pv2: join(work, 'pv2.qcow2') };
run(['qemu-img', 'create', '-q', '-f', 'qcow2', disks.system, '10G']);
run(['qemu-img', 'create', '-q', '-f', 'qcow2', disks.pv1, '1G']);
run(['qemu-img', 'create', '-q', '-f', 'qcow2', disks.pv2, '1G']);
// virtio-blk in this order: /dev/vda (system), /dev/vdb and /dev/vdc (the VG's PVs); serials show as lsblk's SERIAL.
const diskArgs = [disks.system, disks.pv1, disks.pv2].flatMap((f, i) => ['-drive', `file=${f},if=none,id=d${i},format=qcow2,cache=unsafe`,
  '-device', `virtio-blk-pci,drive=d${i},serial=openlun-${['sys', 'pv1', 'pv2'][i]}`]);

/** Boots the ISO's live system with the installer's kernel arguments; waits for its result and the power-off.
 *  Unattended (openlun.yes=1), or with --interactive the first install goes through the installer's menu on the
 *  serial console (the ISO's "Install … (menu on the serial console)" entry): pick the disk, type its name. */
async function installRun(name: string, mode: 'install' | 'upgrade', interactive = false): Promise<number> {
  const t0 = Date.now();
  const how = interactive ? ['openlun.install=menu', 'openlun.tty=ttyS0'] : ['openlun.install=/dev/vda', 'openlun.yes=1', `openlun.mode=${mode}`, 'openlun.after=poweroff'];
  const append = [...LIVE_KERNEL_ARGS, ...how].join(' ');
  const vm = current = await Vm.start({ name, work, firmware: 'bios', interactive, args: ['-kernel', kernel, '-initrd', initrd, '-append', append, '-cdrom', iso, ...diskArgs] });
  try {
    if (interactive) {
      const deadline = Date.now() + STEP_MS;
      await vm.waitConsole(/Install to which disk \(number, or q to quit\)\? $/m, deadline);
      const menu = vm.console();
      const pick = /^\s+(\d+)\) \/dev\/vda\s/m.exec(menu)?.[1];
      assert.ok(pick, `/dev/vda is not in the installer's menu:\n${menu.split('\n').slice(-12).join('\n')}`);
      assert.doesNotMatch(menu.slice(menu.lastIndexOf('openlun ')), /\/dev\/sr0/, 'the boot medium is offered');
      await vm.type(`${pick}\r`);
      await vm.waitConsole(/Type the disk's name \(vda\) to erase it/, deadline);
      await vm.type('vda\r');
      const m = await vm.waitConsole(/installer finished with status (\d+)/, deadline);
      if (m[1] !== '0') throw new Error(`interactive ${mode} failed (status ${m[1]})`);
      await vm.type('\r'); // "press Enter to reboot": -no-reboot turns the reboot into QEMU exiting
      if (!(await vm.waitExit(Date.now() + 120_000))) throw new Error(`${mode}: the live system did not reboot`);
    } else {
      const m = await vm.waitConsole(/openlun-install: result=(\d+)/, Date.now() + STEP_MS);
      if (m[1] !== '0') throw new Error(`${mode} failed (result ${m[1]}); console tail:\n${vm.console().split('\n').slice(-40).join('\n')}`);
      if (!(await vm.waitExit(Date.now() + 120_000))) throw new Error(`${mode}: the live system did not power off`);
    }
  } catch (e) {
    log(`${name}: console tail:\n${vm.console().split('\n').slice(-40).join('\n')}`);
    throw e;
  } finally { vm.kill(); }
  const secs = (Date.now() - t0) / 1000;
  log(`${name}: ${mode} finished and powered off after ${secs.toFixed(0)} s`);
  return secs;
}

/** Boots the installed disk alone (no CD) and waits for the banner and the API. */
async function diskBoot(name: string, firmware: Firmware): Promise<Vm> {
  const vm = current = await Vm.start({ name, work, firmware, args: diskArgs, forward: true });
  try {
    const deadline = Date.now() + STEP_MS;
    await vm.waitConsole(BANNER, deadline);
    const bannerSeconds = vm.seconds();
    const uiSeconds = await vm.waitHealth(deadline);
    boots.push({ name, firmware, bannerSeconds, uiSeconds });
    log(`${name} (${firmware}): banner after ${bannerSeconds.toFixed(0)} s, web UI (GET /api/health) after ${uiSeconds.toFixed(0)} s`);
    return vm;
  } catch (e) {
    log(`${name}: console tail:\n${vm.console().split('\n').slice(-40).join('\n')}`);
    vm.kill();
    throw e;
  }
}

/** Does the image's API have this route? (The storage API is being added while this script is written.) */
async function hasRoute(api: ApiClient, method: string, path: string): Promise<boolean> {
  const r = await api.call(method, path, method === 'GET' ? undefined : {});
  return !(r.status === 404 && /Route .* not found/i.test(JSON.stringify(r.json)));
}

interface Provisioned { lunId: number; naaId: string; backing: string }

async function provision(api: ApiClient): Promise<Provisioned> {
  await api.setup(PASSWORD);
  let lun: { id: number; naaId: string; backing: string };
  if (await hasRoute(api, 'POST', '/api/storage/pvs')) {
    for (const device of ['/dev/vdb', '/dev/vdc']) await api.ok('POST', '/api/storage/pvs', { device, wipe: true });
    await api.ok('POST', '/api/storage/vgs', { name: 'vg0', devices: ['/dev/vdb', '/dev/vdc'] });
    await api.ok('POST', '/api/storage/pools', { vg: 'vg0', name: 'pool0', sizeBytes: 1536 * 2 ** 20 });
    lun = await api.ok('POST', '/api/luns', { backing: 'lv', vg: 'vg0', pool: 'pool0', name: 'e2e0', sizeBytes: DATA_BYTES, blockSize: 512 });
    log('LUN e2e0: thin LV in pool vg0/pool0 on a VG over /dev/vdb and /dev/vdc');
  } else {
    lun = await api.ok('POST', '/api/luns', { name: 'e2e0', backing: 'file', sizeBytes: DATA_BYTES, blockSize: 512 });
    notes.push('the image has no storage API (POST /api/storage/pvs is 404): the LUN is file-backed, not a thin LV');
    log('LUN e2e0: file-backed (no storage API on this image)');
  }
  const target = await api.ok('POST', '/api/targets', { iqn: TARGET_IQN });
  await api.ok('POST', '/api/portals', { targetId: target.id, address: '0.0.0.0', port: 3260 });
  await api.ok('POST', '/api/mappings', { targetId: target.id, lun: 0, lunId: lun.id });
  const group = await api.ok('POST', '/api/initiator-groups', { name: 'iso-install', initiators: [INITIATOR_IQN] });
  await api.ok('POST', '/api/acls', { targetId: target.id, groupId: group.id });
  await api.ok('PUT', `/api/chap/targets/${target.id}`, { username: CHAP.username, secret: CHAP.secret });
  return { lunId: lun.id, naaId: lun.naaId, backing: lun.backing };
}

// CHAP: the secret reaches qemu-img through a secret object read from a 0600 file (never argv); iscsi-inq reads
// it from libiscsi's LIBISCSI_CHAP_* environment variables.
const secretFile = join(work, 'chap.secret');
writeFileSync(secretFile, CHAP.secret, { mode: 0o600 });
const qemuSecret = ['--object', `secret,id=chap0,file=${secretFile}`];
const imageOpts = (vm: Vm) => ['driver=iscsi', 'transport=tcp', `portal=127.0.0.1:${vm.iscsiPort}`, `target=${TARGET_IQN}`, 'lun=0',
  `initiator-name=${INITIATOR_IQN}`, `user=${CHAP.username}`, 'password-secret=chap0'].join(',');
const source = join(work, 'source.raw');
writeFileSync(source, randomBytes(DATA_BYTES));
const sourceHash = sha256(source);

function readLun(vm: Vm, tag: string): string {
  const back = join(work, `${tag}.back.raw`);
  const t0 = Date.now();
  run(['qemu-img', 'convert', ...qemuSecret, '--image-opts', imageOpts(vm), '-O', 'raw', back], { timeoutMs: 600_000 });
  const h = sha256(back);
  log(`${tag}: read 64 MiB back over iSCSI with CHAP in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  rmSync(back);
  return h;
}

function writeLun(vm: Vm): void {
  const t0 = Date.now();
  run(['qemu-img', 'convert', '-n', '-f', 'raw', ...qemuSecret, source, '--target-image-opts', imageOpts(vm)], { timeoutMs: 600_000 });
  log(`wrote 64 MiB over iSCSI with CHAP in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/** VPD page 0x83 (SPC-4 §7.8.6, device identification) as iscsi-inq prints it: the LU's NAA designator. */
function vpd83(vm: Vm): string {
  // latin1: iscsi-inq prints the binary NAA designator's bytes as they are; utf8 would fold them into U+FFFD.
  const r = spawnSync('iscsi-inq', ['-e', '1', '-c', '131', '-i', INITIATOR_IQN, `iscsi://127.0.0.1:${vm.iscsiPort}/${TARGET_IQN}/0`], {
    encoding: 'latin1', timeout: 60_000, env: { ...process.env, LIBISCSI_CHAP_USERNAME: CHAP.username, LIBISCSI_CHAP_PASSWORD: CHAP.secret },
  });
  if (r.status !== 0) throw new Error(`iscsi-inq VPD 0x83: exit ${r.status ?? r.signal}: ${(r.stdout + r.stderr).trim()}`);
  return r.stdout.trim();
}

async function waitIscsi(vm: Vm): Promise<void> {
  const end = Date.now() + 120_000;
  for (;;) {
    const r = spawnSync('iscsi-ls', ['-i', INITIATOR_IQN, `iscsi://127.0.0.1:${vm.iscsiPort}`], { encoding: 'utf8', timeout: 30_000 });
    if (r.status === 0 && r.stdout.includes(TARGET_IQN)) return;
    if (Date.now() > end) throw new Error(`the target never listed ${TARGET_IQN}: ${(r.stdout + r.stderr).trim()}`);
    await sleep(3000);
  }
}

/** playwright-core + Chromium against the booted appliance: sign in, the dashboard, a screenshot. */
async function browserCheck(vm: Vm, shot: string): Promise<void> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'] });
  try {
    // The appliance's certificate is self-signed and made on its first start: nothing to pin in advance.
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ignoreHTTPSErrors: true });
    const page = await context.newPage();
    page.setDefaultTimeout(60_000);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const res = await page.goto(`https://127.0.0.1:${vm.uiPort}/`);
    assert.equal(res?.status(), 200);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Storage', exact: true }).waitFor();
    await page.waitForLoadState('networkidle').catch(() => undefined);
    await sleep(2000);
    await page.screenshot({ path: shot, fullPage: true });
    log(`browser: signed in, dashboard shown; screenshot ${shot}`);
    // A script error fails the run, but only at the end: the rest of the appliance is still worth checking.
    if (errors.length) failures.push(`script errors on the dashboard: ${[...new Set(errors)].join(' | ')}`);
  } finally { await browser.close(); }
}

async function setStaticNetwork(api: ApiClient): Promise<boolean> {
  const r = await api.call('GET', '/api/network');
  if (r.status === 404) { notes.push('the image has no /api/network: static address not checked'); return false; }
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.mode, 'dhcp');
  const iface = (r.json.interfaces as { name: string; addresses: string[] }[]).find((i) => i.addresses.some((a) => a.startsWith(`${SLIRP.address}/`)));
  assert.ok(iface, `no interface with ${SLIRP.address}: ${JSON.stringify(r.json.interfaces)}`);
  // Bad input is refused and changes nothing.
  const bad = await api.call('PUT', '/api/network', { mode: 'static', interface: iface.name, address: SLIRP.address, prefixLength: 24, gateway: '10.9.9.9', dns: [] });
  assert.equal(bad.status, 400, JSON.stringify(bad.json));
  assert.equal((await api.ok('GET', '/api/network')).mode, 'dhcp');
  await api.ok('PUT', '/api/network', { mode: 'static', interface: iface.name, ...SLIRP });
  log(`static address ${SLIRP.address}/${SLIRP.prefixLength} via ${SLIRP.gateway} on ${iface.name} through PUT /api/network`);
  return true;
}

async function checkStaticNetwork(api: ApiClient, tag: string): Promise<void> {
  const net = await api.ok('GET', '/api/network');
  assert.equal(net.mode, 'static', `${tag}: network mode ${JSON.stringify(net)}`);
  assert.equal(net.address, SLIRP.address);
  assert.equal(net.gateway, SLIRP.gateway);
  log(`${tag}: the static address is still configured (and the API answers on it)`);
}

const t0 = Date.now();
let failed = false;
try {
  const installSeconds = await installRun('install', 'install', values.interactive);
  let n = 0;

  // Boot 1: setup, storage, target, CHAP, 64 MiB, browser, static address.
  let vm = await diskBoot(`boot${n + 1}`, fwFor(n)); n++;
  const api = vm.api();
  const p = await provision(api);
  log(`LUN id ${p.lunId}, NAA ${p.naaId}, backing ${p.backing}`);
  const disksRoute = await api.call('GET', '/api/storage/disks');
  if (disksRoute.status === 200) {
    const list = (Array.isArray(disksRoute.json) ? disksRoute.json : disksRoute.json.disks) as { path: string; system: boolean; available: boolean }[];
    const sys = list.find((d) => d.path === '/dev/vda');
    assert.ok(sys?.system && !sys.available, `the system disk is offered as storage: ${JSON.stringify(sys)}`);
    log('GET /api/storage/disks: /dev/vda is the system disk and not offered');
  } else notes.push(`GET /api/storage/disks: HTTP ${disksRoute.status}; the system-disk flag was not checked through the API`);
  await waitIscsi(vm);
  writeLun(vm);
  assert.equal(readLun(vm, 'boot1'), sourceHash, 'boot 1: read back ≠ written');
  const vpdBefore = vpd83(vm);
  // The NAA designator is binary: shown as hex, compared as printed.
  log(`VPD 0x83 designators: ${[...vpdBefore.matchAll(/Designator:\[([^\]]*)\]/g)].map((m) => Buffer.from(m[1]!, 'latin1').toString(/^[\x20-\x7e]*$/.test(m[1]!) ? 'latin1' : 'hex')).join(', ')}`);
  await browserCheck(vm, join(work, 'dashboard.png'));
  const staticNet = await setStaticNetwork(api);
  assert.ok(await vm.powerOff(), 'boot 1 did not power off on the ACPI button');

  // Boot 2 (UEFI when available): same LUN, same identity, same data, same static address.
  const verify = async (tag: string) => {
    vm = await diskBoot(tag, fwFor(n)); n++;
    const again = vm.api();
    await again.login('admin', PASSWORD);
    const lun = await again.ok('GET', `/api/luns/${p.lunId}`);
    assert.equal(lun.naaId, p.naaId, `${tag}: the LUN's NAA id changed`);
    if (staticNet) await checkStaticNetwork(again, tag);
    await waitIscsi(vm);
    assert.equal(vpd83(vm), vpdBefore, `${tag}: VPD page 0x83 changed`);
    assert.equal(readLun(vm, tag), sourceHash, `${tag}: the data changed`);
    log(`${tag}: same LUN (NAA ${lun.naaId}), same VPD 0x83, same 64 MiB`);
    return vm;
  };
  vm = await verify(`boot${n + 1}`);
  const slotLine = /System: openlun \S+, slot ([ab])/.exec(vm.console())?.[1];
  assert.equal(slotLine, 'a', 'the first install runs from slot a');
  assert.ok(await vm.powerOff(), 'did not power off on the ACPI button');

  // Upgrade from the ISO into slot b; the data partition and the machine's settings stay.
  if (!values['no-upgrade']) {
    await installRun('upgrade', 'upgrade');
    vm = await verify(`boot${n + 1}-upgraded`);
    assert.equal(/System: openlun \S+, slot ([ab])/.exec(vm.console())?.[1], 'b', 'the upgrade boots slot b');
    assert.match(vm.console(), /previous: openlun \S+ in slot a/);
    log('upgrade: boots slot b by default, slot a is the previous entry');
    await vm.powerOff();
  }

  if (failures.length) throw new Error(`everything else passed, but:\n  ${failures.join('\n  ')}`);
  console.log('\n[iso-install] summary: PASS');
  console.log(`  install (live ISO → disk, unattended): ${installSeconds.toFixed(0)} s`);
  for (const b of boots) console.log(`  ${b.name} (${b.firmware}): banner ${b.bannerSeconds.toFixed(0)} s, boot to web UI ${b.uiSeconds.toFixed(0)} s`);
  console.log(`  total ${((Date.now() - t0) / 60_000).toFixed(1)} min`);
} catch (e) {
  failed = true;
  console.log(`\n[iso-install] FAIL: ${(e as Error).stack ?? e}`);
} finally {
  current?.kill();
  for (const note of notes) console.log(`  note: ${note}`);
  if (values.keep || failed) console.log(`[iso-install] kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
