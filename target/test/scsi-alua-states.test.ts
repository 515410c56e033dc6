// ALUA access states beyond active (SPC-4 §5.16.2.4): through a port in standby only the commands of §5.16.2.4.4 are
// served (NOT READY 04h/0Bh for the rest), through an unavailable one only those of §5.16.2.4.5 (04h/0Ch); RTPG
// reports the states; changing a group's state raises ASYMMETRIC ACCESS STATE CHANGED (2Ah/06h) on every I_T nexus.
import assert from 'node:assert/strict';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openBackstore } from '../src/backstore/index.ts';
import { IscsiServer } from '../src/iscsi/server.ts';
import { ScsiTargetDevice } from '../src/scsi/device.ts';
import { RawInitiator } from './support/raw-initiator.ts';
import { capturingLogger } from './support/target-fixture.ts';
import { AsymmetricAccessState, portGroupsFromTags } from '../src/scsi/alua.ts';
import type { Nexus } from '../src/scsi/types.ts';
import { assertGood, assertSense, makeDevice, makeNexus, run, rw10, settle } from './scsi-fixture.ts';
import type { Fixture } from './scsi-fixture.ts';
import { decodeRtpg } from './support/scsi-decode.ts';

/** A nexus through target port group / relative port `tpgt` (openlun maps one to the other). */
function through(tpgt: number, n: number): Nexus {
  const base = makeNexus(n);
  return { ...base, id: `${base.initiatorName},i,0x${base.isid.toString('hex')},${base.targetName},t,0x${tpgt}`, targetPortalGroupTag: tpgt, relativeTargetPortId: tpgt };
}

const rtpg = Buffer.from([0xa3, 0x0a, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0]);
const TUR = [0x00, 0, 0, 0, 0, 0];
const INQUIRY = [0x12, 0, 0, 0, 96, 0];
const REPORT_LUNS = [0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0];
const MODE_SENSE_6 = [0x1a, 0x08, 0x3f, 0, 255, 0];
const PR_IN_READ_KEYS = [0x5e, 0x00, 0, 0, 0, 0, 0, 1, 0, 0];
const READ_CAPACITY_10 = [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const REQUEST_SENSE = [0x03, 0, 0, 0, 18, 0];

describe('ALUA standby and unavailable groups', () => {
  let f: Fixture;
  const active = through(1, 1);
  const standby = through(2, 2);
  const unavailable = through(3, 3);

  before(async () => {
    f = await makeDevice([{ blocks: 2048 }]);
    f.device.setTargetPortGroups(portGroupsFromTags([1, 2, 3], { 2: 'standby', 3: 'unavailable' }));
    for (const n of [active, standby, unavailable]) await settle(f.device, n);
  });
  after(() => f.cleanup());

  test('RTPG reports each group in its state, with S_SUP and U_SUP claimed', async () => {
    const r = await run(f.device, rtpg, { nexus: standby });
    assertGood(r, 'RTPG through a standby port');
    assert.deepEqual(decodeRtpg(r.data!), [
      { id: 1, state: AsymmetricAccessState.ACTIVE_OPTIMIZED, ports: [1] },
      { id: 2, state: AsymmetricAccessState.STANDBY, ports: [2] },
      { id: 3, state: AsymmetricAccessState.UNAVAILABLE, ports: [3] },
    ]);
    assert.equal(r.data![4 + 1]! & 0x0c, 0x0c, 'S_SUP and U_SUP');
  });

  test('standby serves INQUIRY, REPORT LUNS, RTPG, MODE SENSE, PR IN, REQUEST SENSE; refuses media access and TUR with 04h/0Bh', async () => {
    for (const [name, cdb] of Object.entries({ INQUIRY, REPORT_LUNS, MODE_SENSE_6, PR_IN_READ_KEYS, REQUEST_SENSE })) {
      assertGood(await run(f.device, cdb, { nexus: standby }), `${name} through standby`);
    }
    for (const [name, cdb] of Object.entries({ TUR, READ_CAPACITY_10, READ_10: rw10(0x28, 0, 1) })) {
      const r = await run(f.device, cdb, { nexus: standby });
      assertSense(r, 'LOGICAL_UNIT_NOT_ACCESSIBLE_STANDBY');
      assert.equal(r.data, undefined, `${name}: no data`);
    }
    const w = await run(f.device, rw10(0x2a, 7, 1), { nexus: standby, dataOut: Buffer.alloc(512, 0xee) });
    assertSense(w, 'LOGICAL_UNIT_NOT_ACCESSIBLE_STANDBY');
    const back = await run(f.device, rw10(0x28, 7, 1), { nexus: active });
    assertGood(back);
    assert.ok(back.data!.equals(Buffer.alloc(512)), 'the refused write changed nothing');
  });

  test('unavailable serves INQUIRY, REPORT LUNS, RTPG, REQUEST SENSE only; the rest gets 04h/0Ch', async () => {
    for (const [name, cdb] of Object.entries({ INQUIRY, REPORT_LUNS, REQUEST_SENSE, RTPG: rtpg })) {
      assertGood(await run(f.device, cdb, { nexus: unavailable }), `${name} through unavailable`);
    }
    for (const cdb of [TUR, MODE_SENSE_6, PR_IN_READ_KEYS, READ_CAPACITY_10, rw10(0x28, 0, 1)]) {
      assertSense(await run(f.device, cdb, { nexus: unavailable }), 'LOGICAL_UNIT_NOT_ACCESSIBLE_UNAVAILABLE');
    }
  });

  test('the active group is unaffected', async () => {
    assertGood(await run(f.device, TUR, { nexus: active }));
    assertGood(await run(f.device, rw10(0x28, 0, 8), { nexus: active }));
  });

  test('a state change raises 2Ah/06h on every I_T nexus once; then the new states apply', async () => {
    // group 2 becomes active/optimized, group 1 standby (a failover)
    f.device.setTargetPortGroups(portGroupsFromTags([1, 2, 3], { 1: 'standby', 3: 'unavailable' }));
    for (const n of [active, standby, unavailable]) {
      // INQUIRY is exempt from unit attentions (SAM-5 §5.14): it neither reports nor clears it
      assertGood(await run(f.device, INQUIRY, { nexus: n }));
      assertSense(await run(f.device, TUR, { nexus: n }), 'ASYMMETRIC_ACCESS_STATE_CHANGED');
    }
    assertGood(await run(f.device, TUR, { nexus: standby }), 'group 2 is active now');
    assertSense(await run(f.device, TUR, { nexus: active }), 'LOGICAL_UNIT_NOT_ACCESSIBLE_STANDBY');
    // the same states again are no transition: no unit attention
    f.device.setTargetPortGroups(portGroupsFromTags([1, 2, 3], { 1: 'standby', 3: 'unavailable' }));
    assertGood(await run(f.device, TUR, { nexus: standby }), 'no UA without a change');
  });
});

describe('a live ALUA state change through IscsiServer.setTargets (what targetd does on apply)', () => {
  test('the session through the group that went to standby gets 2Ah/06h, then 04h/0Bh; the other path keeps working', async () => {
    const IQN = 'iqn.2026-11.org.openlun:alua-live';
    const dir = await mkdtemp(join(tmpdir(), 'openlun-alua-live-'));
    const path = join(dir, 'lun.img');
    const fh = await open(path, 'w');
    await fh.truncate(1024 * 1024);
    await fh.close();
    const device = new ScsiTargetDevice({
      targetName: IQN,
      luns: new Map([[0, { id: 'a1a1a1a1live', serial: 'LIVE', readOnly: false, blockSize: 512, writeCache: 'back', backstore: await openBackstore(path, { readOnly: false }) }]]),
    });
    const entry = { name: IQN, portalGroupTag: 1, extraPortalGroupTags: [2], device, allowedInitiators: [] };
    const server = new IscsiServer({
      portals: [{ host: '127.0.0.1', port: 0, portalGroupTag: 1 }, { host: '127.0.0.1', port: 0, portalGroupTag: 2 }],
      targets: [entry],
      log: capturingLogger(),
      nopIntervalMs: 0,
    });
    const bound = await server.listen();
    const inis: RawInitiator[] = [];
    try {
      const tur = async (ini: RawInitiator) => {
        const r = await ini.result(ini.command(Buffer.alloc(6)));
        return r.status === 2 ? `${r.sense[2]! & 0xf}/${r.sense[12]!.toString(16)}/${r.sense[13]!.toString(16)}` : String(r.status);
      };
      for (const b of bound) {
        const ini = await RawInitiator.connect(b.port);
        inis.push(ini);
        assert.equal((await ini.login({ initiatorName: 'iqn.2026-11.org.openlun:alua-live-host', targetName: IQN })).statusClass, 0);
        for (let i = 0; i < 3 && (await tur(ini)) !== '0'; i++);
      }
      const [one, two] = inis as [RawInitiator, RawInitiator];
      await server.setTargets([{ ...entry, portalGroupStates: { 2: 'standby' } }]);
      assert.equal(await tur(two), '6/2a/6', 'ASYMMETRIC ACCESS STATE CHANGED on the standby path');
      assert.equal(await tur(two), '2/4/b', 'then NOT READY, TARGET PORT IN STANDBY STATE');
      assert.equal(await tur(one), '6/2a/6', 'the other path hears of the transition too');
      assert.equal(await tur(one), '0', 'and keeps serving');
    } finally {
      for (const i of inis) i.close();
      await server.close(200);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
