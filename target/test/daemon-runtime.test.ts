// The target daemon's reconcile: an apply touches only what changed, refuses to take away LUNs in use, maps the
// API's deny-by-default ACLs onto the iSCSI layer, and keeps LUN identity from the state.
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { accessRulesOf } from '../src/daemon/acl.ts';
import { initiatorAllowed } from '../src/iscsi/target-config.ts';
import { TargetRuntime } from '../src/daemon/runtime.ts';
import { StateProblems, validateState } from '../src/daemon/state.ts';
import type { DesiredState } from '../src/daemon/state.ts';
import { RawInitiator } from './support/raw-initiator.ts';
import { assertHealthy, capturingLogger, read10, senseOf, writeImmediate } from './support/target-fixture.ts';
import { ALLOWED, STRANGER, TARGET, backstore, stateWith } from './daemon-fixture.ts';
import { freePort } from '../../e2e/helpers/ports.ts';

const TUR = Buffer.alloc(6);
// SAM-5 §4.7.3 peripheral device addressing: LUN 1 in the first level, as the LUN field carries it
const LUN1 = 0x0001_0000_0000_0000n;

async function login(port: number, initiatorName = ALLOWED, chap?: { user: string; secret: string }): Promise<{ ini: RawInitiator; status: number; detail: number }> {
  const ini = await RawInitiator.connect(port);
  const resp = await ini.login({ initiatorName, targetName: TARGET, ...(chap ? { chap } : {}) });
  return { ini, status: resp.statusClass, detail: resp.statusDetail };
}

/** Logs in and consumes the power-on unit attention of the new nexus. */
async function session(port: number, lun = 0n): Promise<RawInitiator> {
  const { ini, status } = await login(port);
  assert.equal(status, 0, 'login succeeds');
  for (let i = 0; i < 3; i++) if ((await ini.result(ini.command(TUR, { lun }))).status === 0) break;
  return ini;
}

async function fixture(): Promise<{ dir: string; port: number; rt: TargetRuntime; persisted: DesiredState[]; done(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'openlun-daemon-'));
  const port = await freePort();
  const persisted: DesiredState[] = [];
  const rt = new TargetRuntime({ log: capturingLogger(), persist: async (s) => void persisted.push(s), nopIntervalMs: 0 });
  return {
    dir,
    port,
    rt,
    persisted,
    async done() {
      await rt.close(100);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

test('validateState names every bad field at once and never echoes a secret', () => {
  const bad = {
    version: 2,
    hostname: 'h',
    listen: [{ host: 'not-an-ip', port: 70000 }],
    backstores: [{ name: 'a', kind: 'tape', path: 'relative.img', sizeBytes: -1, blockSize: 1000, readOnly: 'no', writeBack: true, serial: 'x', naaId: 'XYZ' }],
    targets: [
      {
        name: 'not a name',
        portalGroupTag: 0,
        portals: [],
        luns: [{ lun: 0, backstore: 'missing' }, { lun: 0, backstore: 'a' }],
        acl: [{ group: 'g', initiators: ['bad name'], networks: ['10.0.0.0/99'] }],
        chap: { user: 'u', secret: 'short-secret-visible?' .slice(0, 5) },
      },
    ],
    warnings: [],
  };
  let problems: string[] = [];
  try {
    validateState(bad);
    assert.fail('must throw');
  } catch (err) {
    assert.ok(err instanceof StateProblems);
    problems = err.problems;
  }
  const fields = problems.map((p) => p.split(':')[0]);
  for (const f of [
    'version', 'listen[0].host', 'listen[0].port', 'backstores[0].kind', 'backstores[0].path', 'backstores[0].sizeBytes',
    'backstores[0].blockSize', 'backstores[0].readOnly', 'backstores[0].naaId', 'targets[0].name', 'targets[0].portalGroupTag',
    'targets[0].luns[0].backstore', 'targets[0].luns[1].lun', 'targets[0].acl[0].initiators[0]', 'targets[0].acl[0].networks[0]', 'targets[0].chap.secret',
  ]) assert.ok(fields.includes(f), `${f} reported (got ${fields.join(', ')})`);
  assert.ok(!problems.join(' ').includes('short'), 'the secret value is not in the message');
});

test('ACL mapping: deny by default, wildcard entries admit everyone, network entries check the address', () => {
  const allowed = (acl: Parameters<typeof accessRulesOf>[0], name: string, address?: string) =>
    initiatorAllowed({ allowedInitiators: [], access: accessRulesOf(acl) }, name, address);
  assert.equal(allowed([], 'iqn.1994-05.com.example:a', '127.0.0.1'), false);
  assert.equal(allowed([{ group: 'any', initiators: [], networks: [] }], 'iqn.1994-05.com.example:a'), true);
  const named = [{ group: 'g', initiators: ['IQN.1994-05.com.example:B', 'iqn.1994-05.com.example:a'], networks: [] }];
  assert.deepEqual(accessRulesOf(named)[0]!.initiators, ['iqn.1994-05.com.example:a', 'iqn.1994-05.com.example:b']);
  assert.equal(allowed(named, 'iqn.1994-05.com.example:b'), true);
  assert.equal(allowed(named, 'iqn.1994-05.com.example:c'), false);
  const lab = [{ group: 'lab', initiators: [], networks: ['10.0.0.0/8'] }];
  assert.equal(allowed(lab, 'iqn.1994-05.com.example:a', '10.9.8.7'), true);
  assert.equal(allowed(lab, 'iqn.1994-05.com.example:a', '192.0.2.1'), false);
  assert.equal(allowed(lab, 'iqn.1994-05.com.example:a'), false, 'no address: fail closed');
});

test('a target with no ACL admits nobody; the ACL admits only its initiators', async () => {
  const f = await fixture();
  try {
    const b = await backstore(f.dir, 'disk0', 1);
    await f.rt.apply(stateWith(f.port, [b], { acl: [] }));
    const denied = await login(f.port);
    assert.equal(denied.status, 2, 'initiator error: not authorized');
    denied.ini.close();
    await f.rt.apply(stateWith(f.port, [b]));
    const ok = await login(f.port);
    assert.equal(ok.status, 0);
    ok.ini.close();
    const stranger = await login(f.port, STRANGER);
    assert.equal(stranger.status, 2);
    stranger.ini.close();
  } finally {
    await f.done();
  }
});

test('adding a LUN to a live target: the session stays and sees REPORTED LUNS DATA HAS CHANGED; identity comes from the state', async () => {
  const f = await fixture();
  try {
    const b0 = await backstore(f.dir, 'disk0', 1);
    const first = await f.rt.apply(stateWith(f.port, [b0]));
    assert.deepEqual(first.targetsAdded, [TARGET]);
    assert.equal(f.persisted.length, 1, 'the applied state is persisted');
    const ini = await session(f.port);
    await writeImmediate(ini, 0, Buffer.alloc(512, 0xab));

    const b1 = await backstore(f.dir, 'disk1', 2);
    const r = await f.rt.apply(stateWith(f.port, [b0, b1]));
    assert.deepEqual(r.lunsAdded, [{ target: TARGET, lun: 1 }]);
    assert.deepEqual(r.lunsRemoved, []);
    assert.equal(r.sessionsEnded, 0);
    assert.equal(r.portalsChanged, false);
    const ua = await ini.result(ini.command(TUR));
    assert.equal(ua.status, 2);
    assert.deepEqual(senseOf(ua.sense), { key: 0x06, asc: 0x3f, ascq: 0x0e }); // SPC-4 §6.33
    const data = await assertHealthy(ini);
    assert.equal(data[0], 0xab, 'LUN 0 kept its backstore and data');

    // VPD 0x80 of the new LUN: the serial from the state
    const inq = Buffer.from([0x12, 0x01, 0x80, 0x00, 0xff, 0x00]);
    // SAM-5 §5.14: the new LU first reports its pending unit attentions to this nexus
    let res = await ini.result(ini.command(inq, { lun: LUN1, read: true, edtl: 255 }));
    for (let i = 0; i < 3 && res.status !== 0; i++) res = await ini.result(ini.command(inq, { lun: LUN1, read: true, edtl: 255 }));
    assert.equal(res.status, 0, `INQUIRY VPD 0x80 on LUN 1: ${res.sense.length ? JSON.stringify(senseOf(res.sense)) : res.status}`);
    assert.ok(res.data.subarray(4).toString('ascii').includes(b1.serial));

    // the same state again changes nothing and raises no unit attention
    const again = await f.rt.apply(stateWith(f.port, [b0, b1]));
    assert.equal(again.changed, false);
    assert.equal((await ini.result(ini.command(TUR))).status, 0);
    ini.close();
  } finally {
    await f.done();
  }
});

test('removing a LUN with a live session is refused unless forced; a refused apply changes nothing', async () => {
  const f = await fixture();
  try {
    const b0 = await backstore(f.dir, 'disk0', 1);
    const b1 = await backstore(f.dir, 'disk1', 2);
    await f.rt.apply(stateWith(f.port, [b0, b1]));
    const ini = await session(f.port);
    await assert.rejects(f.rt.apply(stateWith(f.port, [b0])), (e: Error & { code?: string }) => e.code === 'in-use' && /LUN 1/.test(e.message));
    assert.equal(f.persisted.length, 1, 'nothing persisted');
    assert.equal((await ini.result(ini.command(TUR))).status, 0, 'no unit attention: nothing changed');
    const r = await f.rt.apply(stateWith(f.port, [b0]), { force: true });
    assert.deepEqual(r.lunsRemoved, [{ target: TARGET, lun: 1 }]);
    const ua = await ini.result(ini.command(TUR));
    assert.deepEqual(senseOf(ua.sense), { key: 0x06, asc: 0x3f, ascq: 0x0e });
    const gone = await ini.result(ini.command(TUR, { lun: LUN1 }));
    assert.deepEqual(senseOf(gone.sense), { key: 0x05, asc: 0x25, ascq: 0x00 }); // LOGICAL UNIT NOT SUPPORTED
    ini.close();
    // without a session the LUN goes without force
    await new Promise((r) => setTimeout(r, 100));
    const back = await f.rt.apply(stateWith(f.port, [b0, b1]));
    assert.deepEqual(back.lunsAdded, [{ target: TARGET, lun: 1 }]);
    const off = await f.rt.apply(stateWith(f.port, [b0]));
    assert.deepEqual(off.lunsRemoved, [{ target: TARGET, lun: 1 }]);
  } finally {
    await f.done();
  }
});

test('a grown LUN reports CAPACITY DATA HAS CHANGED; counters count reads and writes', async () => {
  const f = await fixture();
  try {
    const b0 = await backstore(f.dir, 'disk0', 1);
    await f.rt.apply(stateWith(f.port, [b0]));
    const ini = await session(f.port);
    await writeImmediate(ini, 0, Buffer.alloc(1024, 1));
    const rd = await ini.result(ini.command(read10(0, 4), { read: true, edtl: 2048 }));
    assert.equal(rd.status, 0);
    const [t] = f.rt.stats();
    const c = t!.luns.find((l) => l.lun === 0)!;
    assert.equal(c.writeOps, 1);
    assert.equal(c.writeBytes, 1024);
    assert.equal(c.readOps, 1);
    assert.equal(c.readBytes, 2048);
    assert.equal(c.inFlight, 0);
    assert.equal(c.backstore, 'disk0');
    assert.equal(c.latency.counts.reduce((a, b) => a + b, 0), c.readOps + c.writeOps + c.otherOps);

    await truncate(b0.path, 2 * 1024 * 1024);
    const r = await f.rt.apply(stateWith(f.port, [{ ...b0, sizeBytes: 2 * 1024 * 1024 }]));
    assert.deepEqual(r.capacityRefreshed, [{ target: TARGET, lun: 0, sizeBytes: 2 * 1024 * 1024 }]);
    assert.deepEqual(r.lunsAdded, []);
    const ua = await ini.result(ini.command(TUR));
    assert.deepEqual(senseOf(ua.sense), { key: 0x06, asc: 0x2a, ascq: 0x09 }); // SBC-4 §4.6
    assert.equal((await stat(b0.path)).size, 2 * 1024 * 1024);
    ini.close();
  } finally {
    await f.done();
  }
});

test('CHAP set and then removed: the removal takes effect (not left on the live entry)', async () => {
  const f = await fixture();
  try {
    const b0 = await backstore(f.dir, 'disk0', 1);
    const chap = { user: 'alice', secret: 'a-long-chap-secret' };
    await f.rt.apply(stateWith(f.port, [b0], { chap }));
    const without = await login(f.port);
    assert.notEqual(without.status, 0, 'CHAP is required');
    without.ini.close();
    const withChap = await login(f.port, ALLOWED, chap);
    assert.equal(withChap.status, 0);
    withChap.ini.close();
    const r = await f.rt.apply(stateWith(f.port, [b0]));
    assert.deepEqual(r.targetsUpdated, [TARGET]);
    const open = await login(f.port);
    assert.equal(open.status, 0, 'no CHAP any more');
    open.ini.close();
  } finally {
    await f.done();
  }
});

test('a backstore that cannot be opened fails the apply and leaves the running state alone', async () => {
  const f = await fixture();
  try {
    const b0 = await backstore(f.dir, 'disk0', 1);
    await f.rt.apply(stateWith(f.port, [b0]));
    const missing = { ...(await backstore(f.dir, 'disk1', 2)), path: join(f.dir, 'nope.img') };
    await assert.rejects(f.rt.apply(stateWith(f.port, [b0, missing])), (e: Error & { code?: string }) => e.code === 'backstore');
    assert.equal(f.rt.state!.backstores.length, 1);
    const ini = await session(f.port);
    await assertHealthy(ini);
    ini.close();
  } finally {
    await f.done();
  }
});
