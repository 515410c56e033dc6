// Multipath through the iSCSI server: one target on two portals in two portal groups. Each login is an I_T nexus
// whose target port is the portal group it arrived on (RFC 7143 §4.4.1), so VPD 0x83 names a different relative
// target port per path while the LU's NAA stays the same, RTPG lists both groups, and logging in with the same ISID
// through the other group is a second session, not a reinstatement (RFC 7143 §6.3.5: the target port is part of
// the session identity).
import assert from 'node:assert/strict';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openBackstore } from '../src/backstore/index.ts';
import { IscsiServer } from '../src/iscsi/server.ts';
import type { TargetEntry } from '../src/iscsi/target-config.ts';
import { ScsiTargetDevice } from '../src/scsi/device.ts';
import type { LunEntry } from '../src/scsi/types.ts';
import { RawInitiator } from './support/raw-initiator.ts';
import { capturingLogger } from './support/target-fixture.ts';
import { commandIn, decodeRtpg, decodeVpd83 } from './support/scsi-decode.ts';

const IQN = 'iqn.2026-11.org.openlun:alua-server';
const INITIATOR = 'iqn.2026-11.org.openlun:alua-host';

function rtpgCdb(): Buffer {
  const c = Buffer.alloc(12);
  c[0] = 0xa3;
  c[1] = 0x0a;
  c.writeUInt32BE(512, 6);
  return c;
}


describe('one target, two portal groups', () => {
  let dir: string;
  let server: IscsiServer;
  let entry: TargetEntry;
  const ports: Record<number, number> = {};
  const open_: RawInitiator[] = [];

  async function login(tpgt: number, isid: Buffer): Promise<RawInitiator> {
    const ini = await RawInitiator.connect(ports[tpgt]!);
    open_.push(ini);
    (ini as { isid: Buffer }).isid = isid;
    const resp = await ini.login({ initiatorName: INITIATOR, targetName: IQN });
    assert.equal(resp.statusClass, 0, `login through TPGT ${tpgt}`);
    return ini;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'openlun-alua-'));
    const path = join(dir, 'lun0.img');
    const fh = await open(path, 'w');
    await fh.truncate(2048 * 512);
    await fh.close();
    const luns = new Map<number, LunEntry>([
      [0, { id: '6001405aa1aa1aa1aa1aa1aa1aa1aa01', serial: 'ALUA0', readOnly: false, blockSize: 512, writeCache: 'back', backstore: await openBackstore(path, { readOnly: false }) }],
    ]);
    entry = {
      name: IQN,
      portalGroupTag: 1,
      extraPortalGroupTags: [2],
      portalGroupStates: { 2: 'active/non-optimized' },
      device: new ScsiTargetDevice({ targetName: IQN, luns }),
      allowedInitiators: [],
    };
    server = new IscsiServer({
      portals: [
        { host: '127.0.0.1', port: 0, portalGroupTag: 1 },
        { host: '127.0.0.1', port: 0, portalGroupTag: 2 },
      ],
      targets: [entry],
      log: capturingLogger(),
      nopIntervalMs: 0,
    });
    const bound = await server.listen();
    ports[1] = bound[0]!.port;
    ports[2] = bound[1]!.port;
  });

  after(async () => {
    for (const i of open_) i.close();
    await server.close(200);
    await rm(dir, { recursive: true, force: true });
  });

  test('each path is its own target port; the LU identity is the same; RTPG lists both groups', async () => {
    const isid = Buffer.from([0x80, 0, 0, 0, 0x42, 0x01]);
    const seen = [];
    for (const tpgt of [1, 2]) {
      const ini = await login(tpgt, isid);
      const vpd = decodeVpd83(await commandIn(ini, Buffer.from([0x12, 0x01, 0x83, 0x01, 0x00, 0x00]), 256));
      assert.deepEqual([vpd.tpg, vpd.relPort, vpd.portName], [tpgt, tpgt, `${IQN},t,0x000${tpgt}`]);
      assert.deepEqual(decodeRtpg(await commandIn(ini, rtpgCdb(), 512)), [
        { id: 1, state: 0x0, ports: [1] },
        { id: 2, state: 0x1, ports: [2] }, // configured active/non-optimized
      ]);
      seen.push(vpd.naa);
    }
    assert.equal(seen[0], seen[1]);
    // same initiator and ISID through another portal group is another I_T nexus: both sessions stay up
    const sessions = server.sessionList().filter((s) => s.kind === 'Normal' && s.isid === isid.toString('hex'));
    assert.equal(sessions.length, 2, 'no reinstatement across portal groups');
    const nexusIds = [...server.sessions.values()].map((s) => s.o.nexus?.id).filter(Boolean);
    assert.equal(new Set(nexusIds).size, nexusIds.length, 'distinct I_T nexus ids');
  });

  test('the same ISID through the same portal group again reinstates (RFC 7143 §6.3.5)', async () => {
    const isid = Buffer.from([0x80, 0, 0, 0, 0x43, 0x01]);
    await login(1, isid);
    await login(1, isid);
    const live = server.sessionList().filter((s) => s.isid === isid.toString('hex'));
    assert.equal(live.length, 1);
  });

  test('SendTargets answers every portal of both groups with its tag', async () => {
    const ini = await RawInitiator.connect(ports[2]!);
    open_.push(ini);
    const resp = await ini.login({ initiatorName: INITIATOR, discovery: true });
    assert.equal(resp.statusClass, 0);
    const dir_ = server.directoryFor('127.0.0.1');
    const listed = dir_.sendTargets(INITIATOR, 'All')[0]!.addresses.map((a) => `${a.port},${a.portalGroupTag}`).sort();
    assert.deepEqual(listed, [`${ports[1]},1`, `${ports[2]},2`].sort());
  });

  test('reconfiguring the target to one group leaves RTPG with one group', async () => {
    const oneGroup: TargetEntry = { ...entry };
    delete oneGroup.extraPortalGroupTags;
    delete oneGroup.portalGroupStates;
    await server.setTargets([oneGroup]);
    assert.deepEqual(entry.device.targetPortGroups().map((g) => g.id), [1]);
  });
});
