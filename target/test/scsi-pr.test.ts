/** SPC-4 §5.13 persistent reservations on ScsiTargetDevice: each PR OUT service action, PR IN, the conflict table, UAs, APTPL. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { openBackstore } from '../src/backstore/index.ts';
import { ScsiTargetDevice } from '../src/scsi/device.ts';
import type { Nexus } from '../src/scsi/types.ts';
import { assertGood, assertSense, makeDevice, makeNexus, run, rw10, settle } from './scsi-fixture.ts';
import {
  RESERVATION_CONFLICT,
  SA,
  TYPE,
  basicList,
  moveList,
  prIn,
  prInCdb,
  prOut,
  prOutCdb,
  readKeys,
  readReservation,
  register,
  reserve,
} from './scsi-pr-support.ts';

/** Another path of the same host: same initiator name, different ISID (interop.md: two registrations). */
function secondPath(n: Nexus): Nexus {
  const isid = Buffer.from(n.isid);
  isid[5] = isid[5]! + 0x10;
  return { ...n, isid, id: `${n.initiatorName},i,0x${isid.toString('hex')},${n.targetName},t,0x1` };
}

async function setup(nexuses: Nexus[]) {
  const fx = await makeDevice([{}]);
  for (const n of nexuses) await settle(fx.device, n);
  return fx;
}

const A = makeNexus(1);
const B = makeNexus(2);
const C = makeNexus(3);
const READ = rw10(0x28, 0, 1);
const WRITE = rw10(0x2a, 0, 1);
const TUR = Buffer.alloc(6);

describe('PR OUT REGISTER / REGISTER AND IGNORE EXISTING KEY', () => {
  test('registration rules, generation and READ KEYS', async () => {
    const { device, cleanup } = await setup([A, B]);
    try {
      assert.deepEqual(await readKeys(device, A), { generation: 0, keys: [] });
      // SPC-4 §5.13.7: an unregistered nexus must send RESERVATION KEY 0
      assert.equal((await prOut(device, A, SA.REGISTER, 0, basicList(5n, 0xaan))).status, RESERVATION_CONFLICT);
      assertGood(await prOut(device, A, SA.REGISTER, 0, basicList(0n, 0xaan)));
      assertGood(await register(device, B, 0xbbn));
      assert.deepEqual(await readKeys(device, B), { generation: 2, keys: [0xaan, 0xbbn] });
      // wrong current key → conflict, nothing changes
      assert.equal((await prOut(device, A, SA.REGISTER, 0, basicList(0x1n, 0xccn))).status, RESERVATION_CONFLICT);
      assert.equal((await readKeys(device, A)).generation, 2);
      // change key, then unregister with SARK 0
      assertGood(await prOut(device, A, SA.REGISTER, 0, basicList(0xaan, 0xa2n)));
      assertGood(await prOut(device, A, SA.REGISTER, 0, basicList(0xa2n, 0n)));
      assert.deepEqual(await readKeys(device, B), { generation: 4, keys: [0xbbn] });
      // REGISTER AND IGNORE EXISTING KEY replaces whatever key is there
      assertGood(await prOut(device, B, SA.REGISTER_AND_IGNORE, 0, basicList(0x999n, 0xb2n)));
      assert.deepEqual((await readKeys(device, B)).keys, [0xb2n]);
    } finally {
      await cleanup();
    }
  });

  test('parameter list length must be 24 without SPEC_I_PT', async () => {
    const { device, cleanup } = await setup([A]);
    try {
      const list = Buffer.concat([basicList(0n, 1n), Buffer.alloc(4)]);
      assertSense(await run(device, prOutCdb(SA.REGISTER, 0, 28), { nexus: A, dataOut: list }), 'PARAMETER_LIST_LENGTH_ERROR');
      assertSense(await run(device, prOutCdb(SA.REGISTER, 0, 20), { nexus: A, dataOut: list }), 'PARAMETER_LIST_LENGTH_ERROR');
    } finally {
      await cleanup();
    }
  });

  test('two paths of one host are two registrations; READ FULL STATUS names each initiator port', async () => {
    const A2 = secondPath(A);
    const { device, cleanup } = await setup([A, A2]);
    try {
      assertGood(await register(device, A, 0x10n));
      assertGood(await register(device, A2, 0x10n));
      assertGood(await reserve(device, A, 0x10n, TYPE.WE));
      assert.deepEqual((await readKeys(device, A)).keys, [0x10n, 0x10n]);
      // the other path of the same host is not the holder: its writes conflict under WRITE EXCLUSIVE
      assert.equal((await run(device, WRITE, { nexus: A2, dataOut: Buffer.alloc(512) })).status, RESERVATION_CONFLICT);
      const fs = (await prIn(device, A, 3)).data!;
      assert.equal(fs.readUInt32BE(4), fs.length - 8);
      const descs: Array<{ key: bigint; holder: boolean; type: number; tid: string }> = [];
      for (let at = 8; at < fs.length; ) {
        const len = fs.readUInt32BE(at + 20);
        const tid = fs.subarray(at + 24, at + 24 + len);
        assert.equal(tid[0], 0x45, 'TransportID: FORMAT CODE 01b, protocol iSCSI'); // SPC-4 §7.6.4.6
        descs.push({ key: fs.readBigUInt64BE(at), holder: (fs[at + 12]! & 1) === 1, type: fs[at + 13]!, tid: tid.subarray(4, tid.indexOf(0, 4)).toString() });
        at += 24 + len;
      }
      assert.deepEqual(descs, [
        { key: 0x10n, holder: true, type: TYPE.WE, tid: `${A.initiatorName},i,0x${A.isid.toString('hex')}` },
        { key: 0x10n, holder: false, type: 0, tid: `${A2.initiatorName},i,0x${A2.isid.toString('hex')}` },
      ]);
    } finally {
      await cleanup();
    }
  });

  test('SPEC_I_PT registers known I_T nexuses and refuses unknown ones', async () => {
    const { device, cleanup } = await setup([A, B]);
    const { encodeTransportId } = await import('../src/scsi/transport-id.ts');
    try {
      const unknown = encodeTransportId('iqn.2026-01.org.openlun:nobody', '800000000009');
      let r = await prOut(device, A, SA.REGISTER, 0, basicList(0n, 0x1n, { specIPt: true, transportIds: [unknown] }));
      assertSense(r, 'INVALID_FIELD_IN_PARAMETER_LIST', { byte: 28, cd: false });
      assert.deepEqual((await readKeys(device, A)).keys, []); // nothing registered on failure
      const b = encodeTransportId(B.initiatorName, B.isid.toString('hex'));
      r = await prOut(device, A, SA.REGISTER, 0, basicList(0n, 0x1n, { specIPt: true, transportIds: [b] }));
      assertGood(r);
      assert.deepEqual((await readKeys(device, A)).keys, [0x1n, 0x1n]);
      // B is registered now: it may reserve with that key
      assertGood(await reserve(device, B, 0x1n, TYPE.EA));
      // SPEC_I_PT is invalid for REGISTER AND IGNORE EXISTING KEY
      assertSense(await prOut(device, A, SA.REGISTER_AND_IGNORE, 0, basicList(0n, 2n, { specIPt: true, transportIds: [b] })), 'INVALID_FIELD_IN_PARAMETER_LIST', {
        byte: 20,
        bit: 3,
        cd: false,
      });
    } finally {
      await cleanup();
    }
  });
});

describe('PR OUT RESERVE / RELEASE', () => {
  test('RESERVE needs a registration and the right key; holder re-reserve is a no-op', async () => {
    const { device, cleanup } = await setup([A, B]);
    try {
      assert.equal((await reserve(device, A, 0n, TYPE.WE)).status, RESERVATION_CONFLICT);
      await register(device, A, 0xan);
      await register(device, B, 0xbn);
      assert.equal((await reserve(device, A, 0xbn, TYPE.WE)).status, RESERVATION_CONFLICT);
      assertGood(await reserve(device, A, 0xan, TYPE.WE));
      const gen = (await readKeys(device, A)).generation;
      assertGood(await reserve(device, A, 0xan, TYPE.WE));
      assert.equal((await reserve(device, A, 0xan, TYPE.EA)).status, RESERVATION_CONFLICT);
      assert.equal((await reserve(device, B, 0xbn, TYPE.WE)).status, RESERVATION_CONFLICT);
      assert.deepEqual(await readReservation(device, B), { key: 0xan, type: TYPE.WE });
      assert.equal((await readKeys(device, A)).generation, gen, 'RESERVE does not bump PRgeneration');
      assertSense(await prOut(device, A, SA.RESERVE, 0x2, basicList(0xan, 0n)), 'INVALID_FIELD_IN_CDB', { byte: 2 });
    } finally {
      await cleanup();
    }
  });

  test('RELEASE: non-holder no-op, wrong type 26h/04h, registrants-only release tells the others', async () => {
    const { device, cleanup } = await setup([A, B]);
    try {
      await register(device, A, 0xan);
      await register(device, B, 0xbn);
      assertGood(await reserve(device, A, 0xan, TYPE.WE_RO));
      assertGood(await prOut(device, B, SA.RELEASE, TYPE.WE_RO, basicList(0xbn, 0n)));
      assert.ok(await readReservation(device, A), 'a non-holder RELEASE changes nothing');
      assertSense(await prOut(device, A, SA.RELEASE, TYPE.EA, basicList(0xan, 0n)), 'INVALID_RELEASE_OF_PERSISTENT_RESERVATION');
      assertGood(await prOut(device, A, SA.RELEASE, TYPE.WE_RO, basicList(0xan, 0n)));
      assert.equal(await readReservation(device, A), undefined);
      assertSense(await run(device, TUR, { nexus: B }), 'RESERVATIONS_RELEASED'); // SPC-4 §5.13.11.2.2
      assertGood(await run(device, TUR, { nexus: A }));
    } finally {
      await cleanup();
    }
  });

  test('all-registrants: key 0 in READ RESERVATION, every registrant is a holder', async () => {
    const { device, cleanup } = await setup([A, B]);
    try {
      await register(device, A, 0xan);
      await register(device, B, 0xbn);
      assertGood(await reserve(device, A, 0xan, TYPE.EA_AR));
      assert.deepEqual(await readReservation(device, A), { key: 0n, type: TYPE.EA_AR });
      // B is a holder too: its RELEASE releases
      assertGood(await prOut(device, B, SA.RELEASE, TYPE.EA_AR, basicList(0xbn, 0n)));
      assertSense(await run(device, TUR, { nexus: A }), 'RESERVATIONS_RELEASED');
      assert.equal(await readReservation(device, A), undefined);
    } finally {
      await cleanup();
    }
  });
});

describe('conflict table (SPC-4 §5.13.1 Table 66)', () => {
  // [type, registrant may read, registrant may write, non-registrant may read, non-registrant may write]
  const matrix = [
    ['WE', TYPE.WE, true, false, true, false],
    ['EA', TYPE.EA, false, false, false, false],
    ['WE_RO', TYPE.WE_RO, true, true, true, false],
    ['EA_RO', TYPE.EA_RO, true, true, false, false],
    ['WE_AR', TYPE.WE_AR, true, true, true, false],
    ['EA_AR', TYPE.EA_AR, true, true, false, false],
  ] as const;
  for (const [name, type, regRead, regWrite, unRead, unWrite] of matrix) {
    test(name, async () => {
      const { device, cleanup } = await setup([A, B, C]);
      try {
        await register(device, A, 0xan);
        await register(device, B, 0xbn);
        assertGood(await reserve(device, A, 0xan, type));
        const may = async (n: Nexus, cdb: Buffer, dataOut?: Buffer) => {
          const r = await run(device, cdb, { nexus: n, ...(dataOut ? { dataOut } : {}) });
          if (r.status === 0) return true;
          assert.equal(r.status, RESERVATION_CONFLICT, `${name}: unexpected status ${r.status}`);
          return false;
        };
        const block = Buffer.alloc(512);
        assert.deepEqual(
          {
            holderRead: await may(A, READ),
            holderWrite: await may(A, WRITE, block),
            regRead: await may(B, READ),
            regWrite: await may(B, WRITE, block),
            unRead: await may(C, READ),
            unWrite: await may(C, WRITE, block),
            unTur: await may(C, TUR),
            unInquiry: await may(C, Buffer.from([0x12, 0, 0, 0, 36, 0])),
            unReadCapacity: await may(C, Buffer.from([0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0])),
            unPrIn: await may(C, prInCdb(0)),
          },
          { holderRead: true, holderWrite: true, regRead, regWrite, unRead, unWrite, unTur: true, unInquiry: true, unReadCapacity: true, unPrIn: true },
        );
        // a non-registrant may still REGISTER (and then, for *_RO / *_AR, gets access)
        assertGood(await register(device, C, 0xcn));
        // ... but RESERVE/RELEASE/CLEAR/PREEMPT need a registration
        await settle(device, makeNexus(4));
        assert.equal((await prOut(device, makeNexus(4), SA.CLEAR, 0, basicList(0n, 0n))).status, RESERVATION_CONFLICT);
      } finally {
        await cleanup();
      }
    });
  }
});

describe('PR OUT CLEAR / PREEMPT / PREEMPT AND ABORT / REGISTER AND MOVE', () => {
  test('CLEAR drops everything and tells the other registrants RESERVATIONS PREEMPTED', async () => {
    const { device, cleanup } = await setup([A, B, C]);
    try {
      await register(device, A, 0xan);
      await register(device, B, 0xbn);
      await reserve(device, A, 0xan, TYPE.EA);
      assertGood(await prOut(device, B, SA.CLEAR, 0, basicList(0xbn, 0n)));
      assert.deepEqual(await readKeys(device, C), { generation: 3, keys: [] });
      assert.equal(await readReservation(device, C), undefined);
      assertSense(await run(device, TUR, { nexus: A }), 'RESERVATIONS_PREEMPTED');
      assertGood(await run(device, TUR, { nexus: B }));
      assertGood(await run(device, TUR, { nexus: C }), 'an unregistered nexus is not told');
    } finally {
      await cleanup();
    }
  });

  test('PREEMPT takes the reservation; the preempted nexus gets REGISTRATIONS PREEMPTED', async () => {
    const { device, cleanup } = await setup([A, B]);
    try {
      await register(device, A, 0xan);
      await register(device, B, 0xbn);
      await reserve(device, A, 0xan, TYPE.WE);
      // SARK 0 with a non-all-registrants reservation → invalid field (SPC-4 §5.13.11.4.3)
      assertSense(await prOut(device, B, SA.PREEMPT, TYPE.WE, basicList(0xbn, 0n)), 'INVALID_FIELD_IN_PARAMETER_LIST', { byte: 8, cd: false });
      // SARK that matches nobody → conflict
      assert.equal((await prOut(device, B, SA.PREEMPT, TYPE.WE, basicList(0xbn, 0x77n))).status, RESERVATION_CONFLICT);
      assertGood(await prOut(device, B, SA.PREEMPT, TYPE.EA, basicList(0xbn, 0xan)));
      assert.deepEqual(await readReservation(device, B), { key: 0xbn, type: TYPE.EA });
      assert.deepEqual((await readKeys(device, B)).keys, [0xbn]);
      assertSense(await run(device, TUR, { nexus: A }), 'REGISTRATIONS_PREEMPTED');
      assert.equal((await run(device, READ, { nexus: A })).status, RESERVATION_CONFLICT);
    } finally {
      await cleanup();
    }
  });

  test('PREEMPT without a reservation removes registrations only', async () => {
    const { device, cleanup } = await setup([A, B]);
    try {
      await register(device, A, 0xan);
      await register(device, B, 0xbn);
      assertGood(await prOut(device, A, SA.PREEMPT, TYPE.WE, basicList(0xan, 0xbn)));
      assert.deepEqual((await readKeys(device, A)).keys, [0xan]);
      assert.equal(await readReservation(device, A), undefined);
      assertSense(await run(device, TUR, { nexus: B }), 'REGISTRATIONS_PREEMPTED');
    } finally {
      await cleanup();
    }
  });

  test('PREEMPT AND ABORT hands the preempted nexuses to the transport hook', async () => {
    const { device, cleanup } = await setup([A, B]);
    const calls: Array<[string[], number]> = [];
    device.onPreemptAbort = (ids, lun) => calls.push([ids, lun]);
    try {
      await register(device, A, 0xan);
      await register(device, B, 0xbn);
      await reserve(device, A, 0xan, TYPE.WE_RO);
      assertGood(await prOut(device, B, SA.PREEMPT_AND_ABORT, TYPE.WE_RO, basicList(0xbn, 0xan)));
      assert.deepEqual(calls, [[[A.id], 0]]);
    } finally {
      await cleanup();
    }
  });

  test('all-registrants PREEMPT with SARK 0 removes every other registration', async () => {
    const { device, cleanup } = await setup([A, B, C]);
    try {
      await register(device, A, 0xan);
      await register(device, B, 0xbn);
      await register(device, C, 0xcn);
      await reserve(device, A, 0xan, TYPE.WE_AR);
      assertGood(await prOut(device, B, SA.PREEMPT, TYPE.WE, basicList(0xbn, 0n)));
      assert.deepEqual((await readKeys(device, B)).keys, [0xbn]);
      assert.deepEqual(await readReservation(device, B), { key: 0xbn, type: TYPE.WE });
      assertSense(await run(device, TUR, { nexus: A }), 'REGISTRATIONS_PREEMPTED');
      assertSense(await run(device, TUR, { nexus: C }), 'REGISTRATIONS_PREEMPTED');
    } finally {
      await cleanup();
    }
  });

  test('REGISTER AND MOVE hands the reservation to another I_T nexus', async () => {
    const { device, cleanup } = await setup([A, B]);
    try {
      await register(device, A, 0xan);
      // not a holder yet → conflict
      assert.equal((await prOut(device, A, SA.REGISTER_AND_MOVE, TYPE.WE, moveList(0xan, 0xbn, B))).status, RESERVATION_CONFLICT);
      await reserve(device, A, 0xan, TYPE.WE);
      assertGood(await prOut(device, A, SA.REGISTER_AND_MOVE, TYPE.WE, moveList(0xan, 0xbn, B, { unreg: true })));
      assert.deepEqual(await readReservation(device, A), { key: 0xbn, type: TYPE.WE });
      assert.deepEqual((await readKeys(device, A)).keys, [0xbn]);
      assert.equal((await run(device, WRITE, { nexus: A, dataOut: Buffer.alloc(512) })).status, RESERVATION_CONFLICT);
      assertGood(await run(device, WRITE, { nexus: B, dataOut: Buffer.alloc(512) }));
    } finally {
      await cleanup();
    }
  });
});

describe('PR IN', () => {
  test('REPORT CAPABILITIES bits and service action range', async () => {
    const { device, cleanup } = await setup([A]);
    try {
      const d = (await prIn(device, A, 2)).data!;
      assert.equal(d.readUInt16BE(0), 8);
      assert.equal(d[2], 0x1c, 'CRH SIP_C ATP_C set, PTPL_C clear without a state path');
      assert.equal(d[3], 0x80, 'TMV');
      assert.equal(d.readUInt16BE(4), 0xea01, 'all six types');
      assertSense(await prIn(device, A, 4), 'INVALID_FIELD_IN_CDB', { byte: 1 });
      // APTPL without a place to keep it is refused (PTPL_C = 0)
      assertSense(await register(device, A, 1n, { aptpl: true }), 'INVALID_FIELD_IN_PARAMETER_LIST', { byte: 20, bit: 0, cd: false });
      // allocation length truncates
      assert.equal((await run(device, prInCdb(2, 4), { nexus: A })).data!.length, 4);
    } finally {
      await cleanup();
    }
  });
});

describe('APTPL (SPC-4 §5.13.5)', () => {
  async function deviceAt(dir: string): Promise<ScsiTargetDevice> {
    const path = join(dir, 'lun.img');
    if (!existsSync(path)) {
      const fh = await open(path, 'w');
      await fh.truncate(1 << 20);
      await fh.close();
    }
    const backstore = await openBackstore(path, { readOnly: false });
    return new ScsiTargetDevice({
      targetName: A.targetName,
      luns: new Map([[0, { id: '6001405aa', serial: 'S', readOnly: false, blockSize: 512, writeCache: 'back', backstore, prStatePath: `${path}.pr.json` }]]),
    });
  }

  test('state written on change, restored by a new device, forgotten with APTPL=0', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'openlun-aptpl-'));
    try {
      let device = await deviceAt(dir);
      await settle(device, A);
      await settle(device, B);
      assert.equal((await prIn(device, A, 2)).data![2]! & 0x01, 1, 'PTPL_C with a state path');
      assertGood(await register(device, A, 0xan, { aptpl: true }));
      assertGood(await register(device, B, 0xbn, { aptpl: true }));
      assertGood(await reserve(device, B, 0xbn, TYPE.EA_RO));
      const saved = JSON.parse(await readFile(join(dir, 'lun.img.pr.json'), 'utf8')) as { generation: number };
      assert.equal(saved.generation, 2);
      await device.close();

      device = await deviceAt(dir);
      await settle(device, A);
      assert.deepEqual(await readKeys(device, A), { generation: 2, keys: [0xan, 0xbn] });
      assert.deepEqual(await readReservation(device, A), { key: 0xbn, type: TYPE.EA_RO });
      assert.equal((await prIn(device, A, 2)).data![3]! & 0x01, 1, 'PTPL_A');
      // the unregistered-nexus rule still holds after restore
      await settle(device, C);
      assert.equal((await run(device, READ, { nexus: C })).status, RESERVATION_CONFLICT);
      // APTPL=0 in a later REGISTER: the file goes, a restart forgets
      assertGood(await register(device, A, 0xa1n));
      assert.equal(existsSync(join(dir, 'lun.img.pr.json')), false);
      await device.close();
      device = await deviceAt(dir);
      await settle(device, A);
      assert.deepEqual(await readKeys(device, A), { generation: 0, keys: [] });
      await device.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
