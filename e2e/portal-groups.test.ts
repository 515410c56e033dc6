// Portal groups and ALUA states from the management API to a real initiator: `bin/openlun serve` on a fresh data
// directory; through the HTTPS API a target gets a second portal group (TPGT 2) with two portals, one on a second
// IPv4 loopback port and one on ::1. libiscsi's iscsi-ls (SendTargets, RFC 7143 Appendix C) lists every portal with
// its TPGT; a raw
// initiator logged in through group 2 reads VPD 0x83 and REPORT TARGET PORT GROUPS (SPC-4 §6.36). A PATCH puts group
// 2 in standby: the live session is not dropped, its next command gets ASYMMETRIC ACCESS STATE CHANGED (2Ah/06h,
// SPC-4 §5.16.2.5), RTPG reports standby, and libiscsi is refused NOT READY 04h/0Bh through that path while the
// group-1 path keeps serving READ CAPACITY.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RawInitiator } from '../target/test/support/raw-initiator.ts';
import { commandIn, decodeRtpg, decodeVpd83 } from '../target/test/support/scsi-decode.ts';
import { MiB, makeTempDir } from './helpers/files.ts';
import type { TempDir } from './helpers/files.ts';
import { freePort } from './helpers/ports.ts';
import { describeRun, run } from './helpers/run.ts';
import { ServeApi, endTargetd, startServeProcess, stopServeProcess, targetdPid, type ServeProcess } from './helpers/serve-process.ts';

const ROOT = join(import.meta.dirname, '..');
const TARGET_IQN = 'iqn.2026-11.org.openlun:portal-groups';
const INITIATOR = 'iqn.2026-11.org.openlun:portal-groups-host';
const ADMIN_PASSWORD = 'portal-groups-admin-pw-1';
const HOST = '127.0.0.1';
const HOST6 = '::1';
const LUN_BYTES = 16 * MiB;
// SPC-4 §6.36.2 Table 175
const AO = 0x0;
const STANDBY = 0x2;

let dir: TempDir;
let dataDir: string;
let apiPort: number;
let serve: ServeProcess | undefined;
let server: ServeApi;

const api = (method: string, path: string, body?: unknown) => server.request(method, path, body);
const ok = (method: string, path: string, body?: unknown) => server.applied(method, path, body);

const url = (port: number, host = HOST) => `iscsi://${host.includes(':') ? `[${host}]` : host}:${port}/${TARGET_IQN}/0`;

function rtpgCdb(): Buffer {
  const cdb = Buffer.alloc(12);
  cdb[0] = 0xa3; // MAINTENANCE IN
  cdb[1] = 0x0a; // REPORT TARGET PORT GROUPS
  cdb.writeUInt32BE(512, 6);
  return cdb;
}

function inquiryVpdCdb(page: number): Buffer {
  return Buffer.from([0x12, 0x01, page, 0x02, 0x00, 0x00]);
}

/** sense key / ASC / ASCQ of a CHECK CONDITION (fixed format, SPC-4 §4.5.3), or the status as text. */
async function tur(ini: RawInitiator): Promise<string> {
  const r = await ini.result(ini.command(Buffer.alloc(6)));
  if (r.status !== 2) return `status ${r.status}`;
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return `${r.sense[2]! & 0x0f}/${hex(r.sense[12]!)}/${hex(r.sense[13]!)}`;
}

describe('portal groups and ALUA states through the API', { timeout: 5 * 60_000 }, () => {
  const ports: number[] = [];
  let group2 = 0;
  let ini: RawInitiator | undefined;

  before(async () => {
    dir = await makeTempDir('openlun-portal-groups-');
    dataDir = dir.file('data');
    apiPort = await freePort();
    ports.push(await freePort(), await freePort(), await freePort(HOST6));
    server = new ServeApi(HOST, apiPort, dataDir);
    serve = await startServeProcess([join(ROOT, 'bin/openlun')], { dataDir, listen: `${HOST}:${apiPort}`, startTimeoutMs: 90_000 });
  });

  after(async () => {
    ini?.close();
    if (serve) {
      const pid = await targetdPid(dataDir);
      await stopServeProcess(serve, 'SIGTERM');
      await endTargetd(pid);
    }
    await dir?.remove();
  });

  test('a target with two portal groups on three portals (IPv4 and IPv6): SendTargets reports addr:port,TPGT for each', async () => {
    const setup = await api('POST', '/api/setup', { password: ADMIN_PASSWORD });
    assert.equal(setup.status, 201, JSON.stringify(setup.json));
    server.adoptSession(setup);

    const lun = await ok('POST', '/api/luns', { name: 'pg-disk', backing: 'file', sizeBytes: LUN_BYTES, blockSize: 512, preset: 'linux' });
    assert.equal(lun.preset, 'linux');
    const target = await ok('POST', '/api/targets', { iqn: TARGET_IQN });
    await ok('POST', '/api/mappings', { targetId: target.id, lun: 0, lunId: lun.id });
    const hosts = await ok('POST', '/api/initiator-groups', { name: 'pg-hosts', initiators: [INITIATOR] });
    await ok('POST', '/api/acls', { targetId: target.id, groupId: hosts.id });
    group2 = (await ok('POST', '/api/portal-groups', { targetId: target.id, tag: 2 })).id;
    const p1 = await ok('POST', '/api/portals', { targetId: target.id, address: HOST, port: ports[0] });
    const p2 = await ok('POST', '/api/portals', { targetId: target.id, address: HOST, port: ports[1], portalGroupId: group2 });
    const p3 = await ok('POST', '/api/portals', { targetId: target.id, address: HOST6, port: ports[2], portalGroupId: group2 });
    assert.deepEqual([p1.portalGroupTag, p2.portalGroupTag, p3.portalGroupTag], [1, 2, 2]);

    const want = [`${HOST}:${ports[0]},1`, `${HOST}:${ports[1]},2`, `[${HOST6}]:${ports[2]},2`].sort();
    for (const [host, port] of [[HOST, ports[0]!], [HOST, ports[1]!], [`[${HOST6}]`, ports[2]!]] as const) {
      const r = await run(['iscsi-ls', '-i', INITIATOR, `iscsi://${host}:${port}`], { timeoutMs: 20_000 });
      assert.equal(r.code, 0, describeRun(r));
      const listed = [...r.stdout.matchAll(/Portal:(\S+)/g)].map((m) => m[1]).sort();
      assert.deepEqual(listed, want, r.stdout);
    }
  });

  test('through group 2: VPD 0x83 names target port group 2; RTPG lists both groups active/optimized', async () => {
    ini = await RawInitiator.connect(ports[1]!, HOST);
    assert.equal((await ini.login({ initiatorName: INITIATOR, targetName: TARGET_IQN })).statusClass, 0);
    const vpd = decodeVpd83(await commandIn(ini, inquiryVpdCdb(0x83), 512));
    assert.deepEqual([vpd.tpg, vpd.relPort], [2, 2]);
    assert.deepEqual(decodeRtpg(await commandIn(ini, rtpgCdb(), 512)), [
      { id: 1, state: AO, ports: [1] },
      { id: 2, state: AO, ports: [2] },
    ]);
    // the nexus has consumed its power-on unit attention: the path is ready
    assert.equal(await tur(ini), 'status 0');
  });

  test('PATCH group 2 to standby: applied live, 2Ah/06h on the session, RTPG says standby, libiscsi refused on that path only', async () => {
    const sessionsBefore = (await api('GET', '/api/sessions')).json as Array<{ tsih: number; initiatorName: string }>;
    const mine = sessionsBefore.find((s) => s.initiatorName === INITIATOR);
    assert.ok(mine, JSON.stringify(sessionsBefore));

    const patched = await ok('PATCH', `/api/portal-groups/${group2}`, { aluaState: 'standby' });
    assert.equal(patched.aluaState, 'standby');

    // SPC-4 §5.16.2.5: an implicit transition is reported to every I_T nexus, once
    assert.equal(await tur(ini!), '6/2a/06', 'ASYMMETRIC ACCESS STATE CHANGED');
    assert.deepEqual(decodeRtpg(await commandIn(ini!, rtpgCdb(), 512)), [
      { id: 1, state: AO, ports: [1] },
      { id: 2, state: STANDBY, ports: [2] },
    ]);
    // SPC-4 §5.16.2.4.4: a standby port refuses media access and TEST UNIT READY with NOT READY 04h/0Bh
    assert.equal(await tur(ini!), '2/04/0b');
    assert.equal(ini!.closed, false, 'the session through the changed group stays logged in');
    const sessionsAfter = (await api('GET', '/api/sessions')).json as Array<{ tsih: number }>;
    assert.ok(sessionsAfter.some((s) => s.tsih === mine.tsih), 'same session (TSIH) after the change');

    const active = await run(['iscsi-readcapacity16', '-i', INITIATOR, url(ports[0]!)], { timeoutMs: 20_000 });
    assert.equal(active.code, 0, describeRun(active));
    assert.match(active.stdout, new RegExp(`Total size:${LUN_BYTES}`));
    for (const standbyUrl of [url(ports[1]!), url(ports[2]!, HOST6)]) {
      const standby = await run(['iscsi-readcapacity16', '-i', INITIATOR, standbyUrl], { timeoutMs: 20_000 });
      assert.notEqual(standby.code, 0, describeRun(standby));
      assert.match(standby.stdout + standby.stderr, /NOT READY.*0x040b/, standbyUrl);
    }
  });

  test('back to active/optimized: the path serves again, the audit log names who changed what', async () => {
    await ok('PATCH', `/api/portal-groups/${group2}`, { aluaState: 'active-optimized' });
    assert.equal(await tur(ini!), '6/2a/06');
    assert.equal(await tur(ini!), 'status 0');
    const r = await run(['iscsi-readcapacity16', '-i', INITIATOR, url(ports[1]!)], { timeoutMs: 20_000 });
    assert.equal(r.code, 0, describeRun(r));
    const audit = (await api('GET', '/api/audit?limit=50')).json as Array<{ action: string; actor: string; detail: { aluaState?: { to: string } } }>;
    const changes = audit.filter((a) => a.action === 'portal-group.update').map((a) => `${a.actor}:${a.detail.aluaState?.to}`);
    assert.deepEqual(changes, ['admin:active-optimized', 'admin:standby']);
  });

  test('a refused change leaves the running target alone', async () => {
    const busy = await api('DELETE', `/api/portal-groups/${group2}`);
    assert.equal(busy.status, 409, JSON.stringify(busy.json));
    const r = await run(['iscsi-ls', '-i', INITIATOR, `iscsi://${HOST}:${ports[0]}`], { timeoutMs: 20_000 });
    assert.match(r.stdout, new RegExp(`Portal:${HOST}:${ports[1]},2`));
    assert.equal(ini!.closed, false);
  });
});
