/** SCSI-2 RESERVE/RELEASE (SPC-2 §7.21–7.24) on ScsiTargetDevice, resets, and the SPC-4 §5.13.3 mix with PRs. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertGood, assertSense, makeDevice, makeNexus, run, rw10, settle } from './scsi-fixture.ts';
import { RESERVATION_CONFLICT, SA, TYPE, basicList, prInCdb, prOut, register, reserve } from './scsi-pr-support.ts';

const A = makeNexus(1);
const B = makeNexus(2);
const RESERVE6 = Buffer.from([0x16, 0, 0, 0, 0, 0]);
const RELEASE6 = Buffer.from([0x17, 0, 0, 0, 0, 0]);
const RESERVE10 = Buffer.from([0x56, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
const RELEASE10 = Buffer.from([0x57, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
const MODE_SENSE6 = Buffer.from([0x1a, 0, 0x3f, 0, 255, 0]);
const INQUIRY = Buffer.from([0x12, 0, 0, 0, 36, 0]);

async function setup() {
  const fx = await makeDevice([{}]);
  await settle(fx.device, A);
  await settle(fx.device, B);
  return fx;
}

describe('SCSI-2 RESERVE / RELEASE', () => {
  for (const [name, reserveCdb, releaseCdb] of [
    ['(6)', RESERVE6, RELEASE6],
    ['(10)', RESERVE10, RELEASE10],
  ] as const) {
    test(`RESERVE${name}: holder keeps access, others conflict, non-holder RELEASE is a GOOD no-op`, async () => {
      const { device, cleanup } = await setup();
      try {
        assertGood(await run(device, reserveCdb, { nexus: A }));
        assertGood(await run(device, reserveCdb, { nexus: A }), 're-RESERVE by the holder');
        assert.equal((await run(device, reserveCdb, { nexus: B })).status, RESERVATION_CONFLICT);
        assertGood(await run(device, releaseCdb, { nexus: B }), 'libiscsi#21: RELEASE by a non-holder');
        assertGood(await run(device, MODE_SENSE6, { nexus: A }));
        assert.equal((await run(device, MODE_SENSE6, { nexus: B })).status, RESERVATION_CONFLICT);
        assert.equal((await run(device, rw10(0x28, 0, 1), { nexus: B })).status, RESERVATION_CONFLICT);
        assert.equal((await run(device, prInCdb(0), { nexus: B })).status, RESERVATION_CONFLICT);
        assertGood(await run(device, INQUIRY, { nexus: B }), 'INQUIRY never conflicts');
        assertGood(await run(device, releaseCdb, { nexus: A }));
        assertGood(await run(device, reserveCdb, { nexus: B }));
        assertGood(await run(device, releaseCdb, { nexus: B }));
      } finally {
        await cleanup();
      }
    });
  }

  test('third-party RESERVE(10) is refused as an invalid field', async () => {
    const { device, cleanup } = await setup();
    try {
      assertSense(await run(device, Buffer.from([0x56, 0x10, 0, 0, 0, 0, 0, 0, 0, 0]), { nexus: A }), 'INVALID_FIELD_IN_CDB', { byte: 1, bit: 4 });
    } finally {
      await cleanup();
    }
  });

  test('LOGICAL UNIT RESET, target reset and I_T nexus loss release it', async () => {
    const { device, cleanup } = await setup();
    try {
      const conflictsFor = async () => (await run(device, RESERVE6, { nexus: B })).status === RESERVATION_CONFLICT;
      assertGood(await run(device, RESERVE6, { nexus: A }));
      device.logicalUnitReset(0, A);
      assertSense(await run(device, Buffer.alloc(6), { nexus: A }), 'BUS_DEVICE_RESET_FUNCTION_OCCURRED');
      assertSense(await run(device, Buffer.alloc(6), { nexus: B }), 'BUS_DEVICE_RESET_FUNCTION_OCCURRED');
      assert.equal(await conflictsFor(), false);
      assertGood(await run(device, RELEASE6, { nexus: B }));

      assertGood(await run(device, RESERVE6, { nexus: A }));
      device.targetReset('warm', A);
      assertSense(await run(device, Buffer.alloc(6), { nexus: B }), 'POWER_ON_RESET_OCCURRED');
      assert.equal(await conflictsFor(), false);
      assertGood(await run(device, RELEASE6, { nexus: B }));

      assertGood(await run(device, RESERVE6, { nexus: A }));
      assert.equal(await conflictsFor(), true);
      device.nexusLost(A.id);
      assert.equal(await conflictsFor(), false);
    } finally {
      await cleanup();
    }
  });
});

describe('SCSI-2 and persistent reservations together (SPC-4 §5.13.3, CRH = 1)', () => {
  test('RESERVE(6) while registrations exist conflicts, except for the PR holder (GOOD, no effect)', async () => {
    const { device, cleanup } = await setup();
    try {
      assertGood(await register(device, A, 0xan));
      assert.equal((await run(device, RESERVE6, { nexus: B })).status, RESERVATION_CONFLICT);
      assert.equal((await run(device, RESERVE6, { nexus: A })).status, RESERVATION_CONFLICT, 'registered but not a holder');
      assertGood(await reserve(device, A, 0xan, TYPE.WE));
      assertGood(await run(device, RESERVE6, { nexus: A }));
      assertGood(await run(device, RELEASE6, { nexus: A }), 'RELEASE from a registrant: no effect on the PR');
      assert.equal((await run(device, RELEASE6, { nexus: B })).status, RESERVATION_CONFLICT, 'RELEASE from a non-registrant');
      assert.equal((await run(device, rw10(0x2a, 0, 1), { nexus: B, dataOut: Buffer.alloc(512) })).status, RESERVATION_CONFLICT);
    } finally {
      await cleanup();
    }
  });

  test('PR OUT from another nexus conflicts while a SCSI-2 reservation is held', async () => {
    const { device, cleanup } = await setup();
    try {
      assertGood(await run(device, RESERVE6, { nexus: A }));
      assert.equal((await prOut(device, B, SA.REGISTER_AND_IGNORE, 0, basicList(0n, 1n))).status, RESERVATION_CONFLICT);
      assertGood(await prOut(device, A, SA.REGISTER_AND_IGNORE, 0, basicList(0n, 1n)));
    } finally {
      await cleanup();
    }
  });
});
