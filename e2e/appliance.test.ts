// The appliance end to end: `bin/openlun serve` on a fresh data directory spawns targetd; first-run setup, a
// file-backed LUN, a target with portal, ACL and CHAP through the HTTPS API; libiscsi and qemu log in with those
// credentials (secrets via environment / qemu secret objects, never argv); a second LUN appears under a live
// session (REPORTED LUNS DATA HAS CHANGED); the API is SIGKILLed while qemu writes and the I/O goes on; after a
// restart of everything the same targets, LUN identities (VPD 0x83) and data come back.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TargetClient } from '../api/src/target-client.ts';
import { RawInitiator } from '../target/test/support/raw-initiator.ts';
import { MiB, createRandomFile, makeTempDir, sha256File } from './helpers/files.ts';
import type { TempDir } from './helpers/files.ts';
import { freePort } from './helpers/ports.ts';
import { describeRun, run, runOk } from './helpers/run.ts';
import { ServeApi, endTargetd, startServeProcess, stopServeProcess, targetdPid, type ServeProcess } from './helpers/serve-process.ts';

const ROOT = join(import.meta.dirname, '..');
const TARGET_IQN = 'iqn.2026-11.org.openlun:appliance';
const INITIATOR = 'iqn.2026-11.org.openlun:e2e-host';
const STRANGER = 'iqn.2026-11.org.openlun:e2e-stranger';
const ADMIN_PASSWORD = 'appliance-admin-pw-1';
const CHAP = { user: 'e2e-appliance', secret: 'appliance-chap-secret' } as const;
const LUN_BYTES = 16 * MiB;
const IMAGE_BYTES = 4 * MiB;
// SAM-5 §4.7.3 peripheral device addressing of LUN 1
const LUN1 = 0x0001_0000_0000_0000n;

let dir: TempDir;
let dataDir: string;
let apiPort: number;
let iscsiPort: number;
let serve: ServeProcess | undefined;
let server: ServeApi;
let source: string;
let secretFile: string;

function startServe(): Promise<ServeProcess> {
  return startServeProcess([join(ROOT, 'bin/openlun')], { dataDir, listen: `127.0.0.1:${apiPort}` });
}

async function stopServe(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  await stopServeProcess(serve, signal);
  serve = undefined;
}

const api = (method: string, path: string, body?: unknown) => server.request(method, path, body);
const ok = (method: string, path: string, body?: unknown) => server.applied(method, path, body);

function inquiry(lun: number, extra: string[] = [], initiator = INITIATOR) {
  const env = { ...process.env, LIBISCSI_CHAP_PASSWORD: CHAP.secret };
  return run(['iscsi-inq', '-i', initiator, ...extra, `iscsi://${CHAP.user}@127.0.0.1:${iscsiPort}/${TARGET_IQN}/${lun}`], { env, timeoutMs: 20_000 });
}

const imageOpts = (lun: number): string =>
  `driver=iscsi,transport=tcp,portal=127.0.0.1:${iscsiPort},target=${TARGET_IQN},lun=${lun},initiator-name=${INITIATOR},user=${CHAP.user},password-secret=chap0`;
const secretObject = (): string[] => ['--object', `secret,id=chap0,file=${secretFile}`];

async function targetd(): Promise<TargetClient> {
  return new TargetClient(join(dataDir, 'target.sock'), 5000);
}

describe('openlun serve: the appliance end to end', { timeout: 5 * 60_000 }, () => {
  before(async () => {
    dir = await makeTempDir('openlun-appliance-');
    dataDir = dir.file('data');
    apiPort = await freePort();
    iscsiPort = await freePort();
    server = new ServeApi('127.0.0.1', apiPort, dataDir);
    source = await createRandomFile(dir.file('source.raw'), IMAGE_BYTES);
    secretFile = dir.file('chap.secret');
    await writeFile(secretFile, CHAP.secret, { mode: 0o600 });
    await runOk(['node', join(ROOT, 'scripts/build.mjs')], { timeoutMs: 120_000 });
    serve = await startServe();
  });

  after(async () => {
    await stopServe('SIGKILL');
    await endTargetd(await targetdPid(dataDir));
    await dir?.remove();
  });

  let targetId = 0;
  let firstVpd83 = '';

  test('first-run setup, a LUN, a target with portal, ACL and CHAP; libiscsi and qemu log in with them', async () => {
    const setup = await api('POST', '/api/setup', { password: ADMIN_PASSWORD });
    assert.equal(setup.status, 201, JSON.stringify(setup.json));
    server.adoptSession(setup);

    const lun = await ok('POST', '/api/luns', { name: 'disk0', backing: 'file', sizeBytes: LUN_BYTES, blockSize: 512 });
    const target = await ok('POST', '/api/targets', { iqn: TARGET_IQN });
    targetId = target.id;
    await ok('POST', '/api/portals', { targetId, address: '127.0.0.1', port: iscsiPort });
    await ok('POST', '/api/mappings', { targetId, lun: 0, lunId: lun.id });
    // deny by default: without an ACL nobody gets in
    const denied = await inquiry(0);
    assert.notEqual(denied.code, 0, `logged in without an ACL:\n${describeRun(denied)}`);
    const group = await ok('POST', '/api/initiator-groups', { name: 'e2e-hosts', initiators: [INITIATOR] });
    await ok('POST', '/api/acls', { targetId, groupId: group.id });
    await ok('PUT', `/api/chap/targets/${targetId}`, { username: CHAP.user, secret: CHAP.secret });

    const r = await inquiry(0);
    assert.equal(r.code, 0, describeRun(r));
    const stranger = await inquiry(0, [], STRANGER);
    assert.notEqual(stranger.code, 0, 'an initiator outside the ACL is refused');
    const vpd = await runOk(['iscsi-inq', '-i', INITIATOR, '-e', '1', '-c', '131', `iscsi://${CHAP.user}@127.0.0.1:${iscsiPort}/${TARGET_IQN}/0`], {
      env: { ...process.env, LIBISCSI_CHAP_PASSWORD: CHAP.secret },
      timeoutMs: 20_000,
    });
    assert.match(vpd.stdout, /NAA/i);
    firstVpd83 = vpd.stdout;

    await runOk(['qemu-img', 'convert', '-n', '-f', 'raw', ...secretObject(), '--target-image-opts', source, imageOpts(0)], { timeoutMs: 120_000 });
    const back = dir.file('back.raw');
    await runOk(['qemu-img', 'convert', ...secretObject(), '--image-opts', imageOpts(0), '-O', 'raw', back], { timeoutMs: 120_000 });
    assert.equal(await sha256File(back, { length: IMAGE_BYTES }), await sha256File(source));

    const live = await ok('GET', '/api/stats');
    const counters = live[0].luns.find((l: { lun: number }) => l.lun === 0);
    assert.ok(counters.writeBytes >= IMAGE_BYTES, `write counters: ${JSON.stringify(counters)}`);
    const leaked = JSON.stringify(await ok('GET', '/api/sessions')) + JSON.stringify(live) + (await readFile(join(dataDir, 'targetd.log'), 'utf8'));
    assert.ok(!leaked.includes(CHAP.secret), 'no CHAP secret in live routes or the targetd log');
  });

  test('a second LUN appears under a logged-in session with REPORTED LUNS DATA HAS CHANGED', async () => {
    const ini = await RawInitiator.connect(iscsiPort);
    try {
      const resp = await ini.login({ initiatorName: INITIATOR, targetName: TARGET_IQN, chap: CHAP });
      assert.equal(resp.statusClass, 0);
      for (let i = 0; i < 3; i++) if ((await ini.result(ini.command(Buffer.alloc(6)))).status === 0) break;
      const sessions = await ok('GET', '/api/sessions');
      assert.ok(sessions.some((s: { initiatorName: string }) => s.initiatorName === INITIATOR));

      const lun = await ok('POST', '/api/luns', { name: 'disk1', backing: 'file', sizeBytes: LUN_BYTES, blockSize: 4096 });
      await ok('POST', '/api/mappings', { targetId, lun: 1, lunId: lun.id });
      const ua = await ini.result(ini.command(Buffer.alloc(6)));
      assert.equal(ua.status, 2);
      assert.deepEqual([ua.sense[2]! & 0x0f, ua.sense[12], ua.sense[13]], [0x06, 0x3f, 0x0e]); // SPC-4 §6.33
      const tur1 = await ini.result(ini.command(Buffer.alloc(6), { lun: LUN1 }));
      assert.notDeepEqual([tur1.sense[12], tur1.sense[13]], [0x25, 0x00], 'LUN 1 exists');
      const r = await inquiry(1);
      assert.equal(r.code, 0, describeRun(r));
    } finally {
      ini.close();
    }
  });

  test('SIGKILL of the API while qemu writes: no I/O error; a restarted API finds targetd running', async () => {
    const pidBefore = (await (await targetd()).ping())!.pid;
    // qemu-io writes the whole LUN over and over (16 MiB × 24) while the API is killed under it
    const writes = Array.from({ length: 24 }, (_, i) => ['-c', `write -P 0x${(0x40 + i).toString(16)} 0 16M`]).flat();
    let settled = false;
    const writing = run(['qemu-io', ...secretObject(), '--image-opts', imageOpts(0), ...writes], { timeoutMs: 120_000 }).finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 300));
    await stopServe('SIGKILL');
    assert.equal(settled, false, 'qemu-io was still writing when the API died');
    const w = await writing;
    assert.equal(w.code, 0, describeRun(w));
    assert.doesNotMatch(w.stdout + w.stderr, /error|failed/i, describeRun(w));
    assert.equal((w.stdout.match(/^wrote 16777216\//gm) ?? []).length, 24, describeRun(w));
    const r = await inquiry(0);
    assert.equal(r.code, 0, `iSCSI still serves without the API:\n${describeRun(r)}`);
    serve = await startServe();
    assert.equal((await (await targetd()).ping())!.pid, pidBefore, 'the same targetd, not a new one');
    assert.equal((await ok('GET', '/api/targets')).length, 1);
    // put the 4 MiB image back for the restart check
    await runOk(['qemu-img', 'convert', '-n', '-f', 'raw', ...secretObject(), '--target-image-opts', source, imageOpts(0)], { timeoutMs: 120_000 });
  });

  test('restart everything: the same targets, LUN identities and data', async () => {
    const client = await targetd();
    const pid = (await client.ping())!.pid;
    await stopServe('SIGTERM');
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 50 && (await client.ping(200)); i++) await new Promise((r) => setTimeout(r, 100));
    serve = await startServe();
    const login = await api('POST', '/api/login', { username: 'admin', password: ADMIN_PASSWORD });
    assert.equal(login.status, 200, JSON.stringify(login.json));
    server.adoptSession(login);
    assert.notEqual((await client.ping())!.pid, pid, 'a new targetd');
    assert.deepEqual((await ok('GET', '/api/targets')).map((t: { iqn: string }) => t.iqn), [TARGET_IQN]);
    const vpd = await runOk(['iscsi-inq', '-i', INITIATOR, '-e', '1', '-c', '131', `iscsi://${CHAP.user}@127.0.0.1:${iscsiPort}/${TARGET_IQN}/0`], {
      env: { ...process.env, LIBISCSI_CHAP_PASSWORD: CHAP.secret },
      timeoutMs: 20_000,
    });
    assert.equal(vpd.stdout, firstVpd83, 'VPD 0x83 (NAA designator) unchanged');
    const back = dir.file('back2.raw');
    await runOk(['qemu-img', 'convert', ...secretObject(), '--image-opts', imageOpts(0), '-O', 'raw', back], { timeoutMs: 120_000 });
    assert.equal(await sha256File(back, { length: IMAGE_BYTES }), await sha256File(source));
    assert.equal((await inquiry(1)).code, 0, 'LUN 1 is back too');
  });
});
