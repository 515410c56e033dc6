import { truncate } from 'node:fs/promises';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertGood, assertSense, makeDevice, makeNexus, run, settle, TARGET } from './scsi-fixture.ts';
import { parseSense } from '../src/scsi/sense.ts';
import { naaRegisteredExtended } from '../src/scsi/vpd.ts';

const INQUIRY = (evpd: number, page: number, alloc: number) => [0x12, evpd, page, alloc >> 8, alloc & 0xff, 0];
const TUR = [0, 0, 0, 0, 0, 0];

test('unit attention: first command of each nexus gets 29h/00h, once; INQUIRY is not blocked', async () => {
  const f = await makeDevice();
  try {
    const inq = await run(f.device, INQUIRY(0, 0, 96));
    assertGood(inq, 'INQUIRY ignores the pending UA');
    const r = await run(f.device, TUR);
    assertSense(r, 'POWER_ON_RESET_OCCURRED');
    assertGood(await run(f.device, TUR));
    // a second nexus has its own condition
    assertSense(await run(f.device, TUR, { nexus: makeNexus(2) }), 'POWER_ON_RESET_OCCURRED');
  } finally {
    await f.cleanup();
  }
});

test('standard INQUIRY: SPC-4 version, HiSup, format 2, CmdQue, ASCII ids, version descriptors', async () => {
  const f = await makeDevice([{ product: 'test disk' }]);
  try {
    const r = await run(f.device, INQUIRY(0, 0, 260));
    assertGood(r);
    const d = r.data!;
    assert.ok(d.length >= 36);
    assert.equal(d[0], 0x00, 'qualifier 0, type 0 (disk)');
    assert.equal(d[1] & 0x80, 0, 'RMB 0');
    assert.equal(d[2], 0x06);
    assert.equal(d[3], 0x12, 'HISUP + response data format 2');
    assert.equal(d[4], d.length - 5, 'additional length covers the data');
    assert.equal(d[7] & 0x02, 0x02, 'CMDQUE');
    assert.equal(d.subarray(8, 16).toString('ascii'), 'OPENLUN ');
    assert.equal(d.subarray(16, 32).toString('ascii'), 'test disk       ');
    const descriptors = [0, 1, 2, 3].map((i) => d.readUInt16BE(58 + 2 * i));
    assert.ok(descriptors.includes(0x0460) && descriptors.includes(0x04c0), 'claims SPC-4 and SBC-3');
    // allocation length truncates; 511 and 512 give identical data (16-bit allocation length)
    assert.equal((await run(f.device, INQUIRY(0, 0, 5))).data!.length, 5);
    assert.deepEqual((await run(f.device, INQUIRY(0, 0, 511))).data, (await run(f.device, INQUIRY(0, 0, 512))).data);
  } finally {
    await f.cleanup();
  }
});

test('INQUIRY EVPD=0 with a page code is INVALID FIELD IN CDB; unknown VPD page too', async () => {
  const f = await makeDevice();
  try {
    assertSense(await run(f.device, INQUIRY(0, 1, 255)), 'INVALID_FIELD_IN_CDB', { byte: 2 });
    assertSense(await run(f.device, INQUIRY(1, 0x99, 255)), 'INVALID_FIELD_IN_CDB', { byte: 2 });
    assertSense(await run(f.device, INQUIRY(2, 0, 255)), 'INVALID_FIELD_IN_CDB', { byte: 1, bit: 1 }, );
  } finally {
    await f.cleanup();
  }
});

test('INQUIRY to an unmapped LUN: peripheral qualifier 011b, type 1Fh; other commands: LU NOT SUPPORTED', async () => {
  const f = await makeDevice();
  try {
    const r = await run(f.device, INQUIRY(0, 0, 96), { lun: 7 });
    assertGood(r);
    assert.equal(r.data![0], 0x7f);
    assertSense(await run(f.device, TUR, { lun: 7 }), 'LOGICAL_UNIT_NOT_SUPPORTED');
    assertSense(await run(f.device, TUR, { lun: undefined }), 'LOGICAL_UNIT_NOT_SUPPORTED');
    // REQUEST SENSE answers GOOD with the reason in the data (SPC-4 §4.6.4)
    const rs = await run(f.device, [0x03, 0, 0, 0, 252, 0], { lun: 7 });
    assertGood(rs);
    const s = parseSense(rs.data!);
    assert.deepEqual([s.key, s.asc], [5, 0x25]);
  } finally {
    await f.cleanup();
  }
});

test('VPD 0x00 lists ascending pages, each readable, page length right', async () => {
  const f = await makeDevice();
  try {
    const r = await run(f.device, INQUIRY(1, 0, 255));
    assertGood(r);
    const pages = [...r.data!.subarray(4)];
    assert.deepEqual(pages, [0x00, 0x80, 0x83, 0x8f, 0xb0, 0xb1, 0xb2]);
    for (const p of pages) {
      const pr = await run(f.device, INQUIRY(1, p, 255));
      assertGood(pr, `VPD ${p.toString(16)}`);
      assert.equal(pr.data![1], p);
      assert.equal(pr.data!.readUInt16BE(2), pr.data!.length - 4, `page ${p.toString(16)} length`);
    }
  } finally {
    await f.cleanup();
  }
});

test('VPD 0x80 serial and 0x83 designators (NAA 6, T10, relative port, TPG, SCSI names)', async () => {
  const f = await makeDevice([{ serial: 'ABC123', id: '6001405abcdef0123456789ab' }]);
  try {
    const serial = await run(f.device, INQUIRY(1, 0x80, 255));
    assert.equal(serial.data!.subarray(4).toString('ascii'), 'ABC123');
    const d = (await run(f.device, INQUIRY(1, 0x83, 1024))).data!;
    const found: { codeSet: number; piv: number; assoc: number; type: number; value: Buffer; proto: number }[] = [];
    for (let o = 4; o < d.length; ) {
      const len = d[o + 3]!;
      found.push({ proto: d[o]! >> 4, codeSet: d[o]! & 0xf, piv: d[o + 1]! >> 7, assoc: (d[o + 1]! >> 4) & 3, type: d[o + 1]! & 0xf, value: d.subarray(o + 4, o + 4 + len) });
      o += 4 + len;
    }
    const naa = found.find((x) => x.type === 3)!;
    assert.equal(naa.assoc, 0);
    assert.equal(naa.value.length, 16);
    assert.equal(naa.value[0]! >> 4, 6, 'NAA IEEE Registered Extended');
    assert.deepEqual(naa.value, naaRegisteredExtended('6001405abcdef0123456789ab'));
    // derived from the stable id through a hash: ids that share a long prefix still get distinct designators
    assert.notDeepEqual(naaRegisteredExtended('6001405abcdef0123456789ab0'), naaRegisteredExtended('6001405abcdef0123456789ab1'));
    assert.deepEqual(naaRegisteredExtended('6001405abcdef0123456789ab'), naaRegisteredExtended('6001405abcdef0123456789ab'));
    assert.ok(found.some((x) => x.type === 1 && x.value.subarray(0, 8).toString() === 'OPENLUN '));
    const rel = found.find((x) => x.type === 4)!;
    assert.deepEqual([rel.assoc, rel.piv, rel.proto, rel.value.readUInt16BE(2)], [1, 1, 5, 1]);
    assert.ok(found.some((x) => x.type === 5 && x.assoc === 1));
    const portName = found.find((x) => x.type === 8 && x.assoc === 1)!;
    assert.equal(portName.value.length % 4, 0);
    assert.equal(portName.value.toString('utf8').replace(/\0+$/, ''), `${TARGET},t,0x0001`);
    const devName = found.find((x) => x.type === 8 && x.assoc === 2)!;
    assert.equal(devName.value.toString('utf8').replace(/\0+$/, ''), TARGET);
    // stable: another device built from the same id reports the same NAA
    assert.deepEqual(naaRegisteredExtended('6001405abcdef0123456789ab'), naa.value);
    assert.notDeepEqual(naaRegisteredExtended('some-other-id'), naa.value);
  } finally {
    await f.cleanup();
  }
});

test('VPD 0xB0 block limits: length 3Ch, max transfer and unmap limits set; B1 non-rotating; B2 LBPU/LBPWS/LBPWS10', async () => {
  const f = await makeDevice();
  try {
    const bl = (await run(f.device, INQUIRY(1, 0xb0, 255))).data!;
    assert.equal(bl[3], 0x3c);
    assert.equal(bl.length, 0x40);
    assert.ok(bl.readUInt32BE(8) >= 256, 'maximum transfer length ≥ 256 blocks');
    const maxUnmap = bl.readUInt32BE(20);
    assert.ok(maxUnmap > 0 && maxUnmap <= 1024 * 1024, 'max unmap LBA count set, ≤ 2^20 (libiscsi Inquiry.BlockLimits)');
    assert.ok(bl.readUInt32BE(24) > 0, 'max unmap descriptor count set');
    const bdc = (await run(f.device, INQUIRY(1, 0xb1, 255))).data!;
    assert.equal(bdc.readUInt16BE(4), 1);
    const lbp = (await run(f.device, INQUIRY(1, 0xb2, 255))).data!;
    assert.equal(lbp[5]! & 0xe0, 0xe0, 'LBPU, LBPWS, LBPWS10');
  } finally {
    await f.cleanup();
  }
});

test('REPORT LUNS: sorted list, flat addressing ≥ 256, select report, allocation length < 16', async () => {
  const f = await makeDevice([{}, {}, {}], [5, 0, 300]);
  try {
    const cdb = (select: number, alloc: number) => [0xa0, 0, select, 0, 0, 0, (alloc >>> 24) & 0xff, (alloc >> 16) & 0xff, (alloc >> 8) & 0xff, alloc & 0xff, 0, 0];
    const r = await run(f.device, cdb(0, 4096), { lun: 99 }); // answered whatever LUN it is sent to
    assertGood(r);
    const d = r.data!;
    assert.equal(d.readUInt32BE(0), 24);
    assert.deepEqual([...d.subarray(8, 16)], [0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual([...d.subarray(16, 18)], [0, 5]);
    assert.deepEqual([...d.subarray(24, 26)], [0x41, 0x2c]);
    const wk = await run(f.device, cdb(1, 4096));
    assert.equal(wk.data!.readUInt32BE(0), 0);
    assertSense(await run(f.device, cdb(3, 4096)), 'INVALID_FIELD_IN_CDB', { byte: 2 });
    assertSense(await run(f.device, cdb(0, 15)), 'INVALID_FIELD_IN_CDB', { byte: 6 });
    assert.equal((await run(f.device, cdb(0, 16))).data!.length, 16);
  } finally {
    await f.cleanup();
  }
});

test('REQUEST SENSE returns and clears the pending UA, honours DESC, then NO SENSE', async () => {
  const f = await makeDevice();
  try {
    const r = await run(f.device, [0x03, 0x01, 0, 0, 252, 0]);
    assertGood(r);
    const s = parseSense(r.data!);
    assert.equal(s.descriptor, true);
    assert.deepEqual([s.key, s.asc, s.ascq], [6, 0x29, 0]);
    const r2 = await run(f.device, [0x03, 0, 0, 0, 252, 0]);
    const s2 = parseSense(r2.data!);
    assert.deepEqual([s2.descriptor, s2.key, s2.asc], [false, 0, 0]);
    assert.equal(r2.data!.length, 18);
    assertGood(await run(f.device, TUR), 'UA was consumed by REQUEST SENSE');
    assert.equal((await run(f.device, [0x03, 0, 0, 0, 8, 0])).data!.length, 8);
  } finally {
    await f.cleanup();
  }
});

test('unknown opcode → INVALID COMMAND OPERATION CODE; unknown service action → invalid field byte 1', async () => {
  const f = await makeDevice();
  try {
    await settle(f.device);
    // SANITIZE is deliberately unsupported (opcodes.ts says why)
    assertSense(await run(f.device, [0x48, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 'INVALID_COMMAND_OPERATION_CODE');
    const sa = new Array(16).fill(0);
    sa[0] = 0x9e;
    sa[1] = 0x13; // no such SERVICE ACTION IN(16) service action
    assertSense(await run(f.device, sa), 'INVALID_FIELD_IN_CDB', { byte: 1, bit: 4 });
  } finally {
    await f.cleanup();
  }
});

test('reserved bits and CONTROL byte (NACA, LINK) → INVALID FIELD IN CDB with pointer', async () => {
  const f = await makeDevice();
  try {
    await settle(f.device);
    assertSense(await run(f.device, [0, 0x01, 0, 0, 0, 0]), 'INVALID_FIELD_IN_CDB', { byte: 1, bit: 0 });
    assertSense(await run(f.device, [0, 0, 0, 0, 0, 0x04]), 'INVALID_FIELD_IN_CDB', { byte: 5, bit: 2 });
    assertSense(await run(f.device, [0, 0, 0, 0, 0, 0x01]), 'INVALID_FIELD_IN_CDB', { byte: 5, bit: 0 });
    assertGood(await run(f.device, [0, 0, 0, 0, 0, 0xc0]), 'vendor-specific CONTROL bits are ignored');
    // READ(10) byte 1 bit 0 is reserved
    assertSense(await run(f.device, [0x28, 0x01, 0, 0, 0, 0, 0, 0, 1, 0]), 'INVALID_FIELD_IN_CDB', { byte: 1, bit: 0 });
  } finally {
    await f.cleanup();
  }
});

test('TEST UNIT READY is GOOD; resets, nexus loss and LUN table changes raise the right UAs', async () => {
  const f = await makeDevice([{}, {}]);
  const a = makeNexus(1);
  const b = makeNexus(2);
  try {
    await settle(f.device, a, [0, 1]);
    await settle(f.device, b, [0, 1]);
    f.device.logicalUnitReset(0, a);
    // SAM-5 §6.3.3: every I_T nexus, the resetting one too (libiscsi MultipathIO.Reset checks each path)
    assertSense(await run(f.device, TUR, { nexus: a }), 'BUS_DEVICE_RESET_FUNCTION_OCCURRED');
    assertSense(await run(f.device, TUR, { nexus: b }), 'BUS_DEVICE_RESET_FUNCTION_OCCURRED');
    assertGood(await run(f.device, TUR, { nexus: b, lun: 1 }), 'other LUs unaffected');

    f.device.targetReset('cold', a);
    assertSense(await run(f.device, TUR, { nexus: a, lun: 1 }), 'POWER_ON_OCCURRED');
    assertSense(await run(f.device, TUR, { nexus: a, lun: 0 }), 'POWER_ON_OCCURRED', {});

    f.device.nexusLost(b.id);
    assertSense(await run(f.device, TUR, { nexus: b }), 'I_T_NEXUS_LOSS_OCCURRED');

    assertGood(await run(f.device, TUR, { nexus: a }));
    await f.device.refreshCapacity(0);
    assertGood(await run(f.device, TUR, { nexus: a }), 'an unchanged capacity raises nothing');
    await truncate(f.paths[0]!, f.device.logicalUnit(0)!.backstore.size() * 2);
    await f.device.refreshCapacity(0);
    assertSense(await run(f.device, TUR, { nexus: a }), 'CAPACITY_DATA_HAS_CHANGED');

    const luns = new Map([[0, f.device.logicalUnit(0)!.config], [1, f.device.logicalUnit(1)!.config]]);
    await f.device.setLuns(luns);
    assertSense(await run(f.device, TUR, { nexus: a, lun: 1 }), 'REPORTED_LUNS_DATA_HAS_CHANGED');
    // REPORT LUNS clears it on the other LU for this nexus
    await run(f.device, [0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0], { nexus: a });
    assertGood(await run(f.device, TUR, { nexus: a, lun: 0 }));
  } finally {
    await f.cleanup();
  }
});
