/**
 * EXTENDED COPY (LID1) and RECEIVE COPY RESULTS at the SCSI layer: parameter list validation with its specific
 * sense, block copies between LUs and within one, RECEIVE COPY RESULTS bookkeeping, reservations, abort, and the
 * designator resolver that keeps a copy inside the LUs an initiator may reach (CVE-2020-28374).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { COPY_LIMITS, operatingParameters } from '../src/scsi/copy-limits.ts';
import type { ScsiTargetDevice } from '../src/scsi/device.ts';
import { findByDesignator, setCopyTargetResolver } from '../src/scsi/lun-registry.ts';
import { naaRegisteredExtended } from '../src/scsi/vpd.ts';
import { parseSense } from '../src/scsi/sense.ts';
import type { Fixture } from './scsi-fixture.ts';
import { assertGood, assertSense, makeDevice, makeNexus, pattern, run, rw10, settle } from './scsi-fixture.ts';

const BS = 512;
// Not hex: vpd.ts hashes such ids, so the NAA designators differ (hex ids share their first 25 digits here).
const IDS = ['xcopy-test-lu0', 'xcopy-test-lu1'];
const CAP = 16384;

/** E4h identification CSCD descriptor naming the LU with this id by its VPD 83h NAA designator. */
function cscd(id: string, o: { blockLength?: number; deviceType?: number; type?: number } = {}): Buffer {
  const d = Buffer.alloc(32);
  d[0] = o.type ?? 0xe4;
  d[1] = o.deviceType ?? 0;
  const naa = naaRegisteredExtended(id);
  d[4] = 0x01; // binary
  d[5] = 0x03; // LU association, NAA
  d[7] = naa.length;
  naa.copy(d, 8);
  d.writeUIntBE(o.blockLength ?? BS, 29, 3);
  return d;
}

/** 02h block → block segment descriptor. */
function segment(src: number, dst: number, blocks: number, srcLba: number, dstLba: number, type = 0x02): Buffer {
  const d = Buffer.alloc(28);
  d[0] = type;
  d.writeUInt16BE(0x18, 2);
  d.writeUInt16BE(src, 4);
  d.writeUInt16BE(dst, 6);
  d.writeUInt16BE(blocks, 10);
  d.writeBigUInt64BE(BigInt(srcLba), 12);
  d.writeBigUInt64BE(BigInt(dstLba), 20);
  return d;
}

function parameterList(cscds: Buffer[], segments: Buffer[], o: { listId?: number; usage?: number } = {}): Buffer {
  const h = Buffer.alloc(16);
  h[0] = o.listId ?? 1;
  h[1] = (o.usage ?? 0) << 3;
  const c = Buffer.concat(cscds);
  const s = Buffer.concat(segments);
  h.writeUInt16BE(c.length, 2);
  h.writeUInt32BE(s.length, 8);
  return Buffer.concat([h, c, s]);
}

function xcopyCdb(length: number): Buffer {
  const c = Buffer.alloc(16);
  c[0] = 0x83;
  c.writeUInt32BE(length, 10);
  return c;
}

function rcrCdb(sa: number, listId: number, alloc = 1024): Buffer {
  const c = Buffer.alloc(16);
  c[0] = 0x84;
  c[1] = sa;
  c[2] = listId;
  c.writeUInt32BE(alloc, 10);
  return c;
}

async function xcopy(device: ScsiTargetDevice, list: Buffer, o: { lun?: number; cdbLength?: number; signal?: AbortSignal; nexus?: ReturnType<typeof makeNexus> } = {}) {
  return run(device, xcopyCdb(o.cdbLength ?? list.length), {
    lun: o.lun ?? 0,
    dataOut: list,
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.nexus ? { nexus: o.nexus } : {}),
  });
}

async function readBlocks(device: ScsiTargetDevice, lun: number, lba: number, blocks: number): Promise<Buffer> {
  const r = await run(device, rw10(0x28, lba, blocks), { lun });
  assertGood(r, 'READ(10)');
  return r.data!;
}

async function writeBlocks(device: ScsiTargetDevice, lun: number, lba: number, data: Buffer): Promise<void> {
  assertGood(await run(device, rw10(0x2a, lba, data.length / BS), { lun, dataOut: data }), 'WRITE(10)');
}

describe('EXTENDED COPY (LID1)', () => {
  let f: Fixture;
  before(async () => {
    f = await makeDevice([
      { id: IDS[0]!, blocks: CAP },
      { id: IDS[1]!, blocks: CAP },
    ]);
    await settle(f.device, makeNexus(1), [0, 1]);
    await settle(f.device, makeNexus(2), [0, 1]);
  });
  after(() => f.cleanup());

  test('copies blocks from one LU to another, in chunks larger than one step', async () => {
    const blocks = (COPY_LIMITS.chunkBytes / BS) * 2 + 7; // three chunks, the last partial
    const data = pattern(blocks * BS, 5);
    await writeBlocks(f.device, 0, 100, data);
    const list = parameterList([cscd(IDS[0]!), cscd(IDS[1]!)], [segment(0, 1, blocks, 100, 10)]);
    assertGood(await xcopy(f.device, list), 'EXTENDED COPY');
    assert.ok((await readBlocks(f.device, 1, 10, blocks)).equals(data), 'destination holds the source blocks');
  });

  test('several segments, and a copy within one LU whose ranges overlap (copied as if through a buffer)', async () => {
    const data = pattern(64 * BS, 9);
    await writeBlocks(f.device, 0, 0, data);
    const list = parameterList([cscd(IDS[0]!)], [segment(0, 0, 64, 0, 16), segment(0, 0, 8, 16, 200)]);
    assertGood(await xcopy(f.device, list));
    assert.ok((await readBlocks(f.device, 0, 16, 64)).equals(data), 'overlapping forward copy is a memmove');
    assert.ok((await readBlocks(f.device, 0, 200, 8)).equals(data.subarray(0, 8 * BS)), 'second segment read the first one\'s result');
  });

  test('PARAMETER LIST LENGTH 0 is GOOD and copies nothing', async () => {
    assertGood(await run(f.device, xcopyCdb(0), { lun: 0 }));
  });

  test('parameter list errors carry their specific sense', async () => {
    const one = [cscd(IDS[0]!)];
    const seg = [segment(0, 0, 1, 0, 1)];
    const full = parameterList(one, seg);
    // truncated descriptors
    assertSense(await xcopy(f.device, full.subarray(0, 16 + 31)), 'PARAMETER_LIST_LENGTH_ERROR');
    assertSense(await xcopy(f.device, full.subarray(0, full.length - 1)), 'PARAMETER_LIST_LENGTH_ERROR');
    assertSense(await xcopy(f.device, full.subarray(0, 8)), 'PARAMETER_LIST_LENGTH_ERROR');
    // limits, as OPERATING PARAMETERS advertises them
    const manyCscds = Array.from({ length: COPY_LIMITS.maxCscdDescriptors + 1 }, () => cscd(IDS[0]!));
    assertSense(await xcopy(f.device, parameterList(manyCscds, seg)), 'TOO_MANY_TARGET_DESCRIPTORS');
    const manySegs = Array.from({ length: COPY_LIMITS.maxSegmentDescriptors + 1 }, () => seg[0]!);
    assertSense(await xcopy(f.device, parameterList(one, manySegs)), 'TOO_MANY_SEGMENT_DESCRIPTORS');
    const overLimit = Array.from({ length: Math.ceil(COPY_LIMITS.maxDescriptorListLength / 28) }, () => seg[0]!);
    assertSense(await xcopy(f.device, parameterList(one, overLimit)), 'PARAMETER_LIST_LENGTH_ERROR');
    // unsupported types, with a pointer at the descriptor
    assertSense(await xcopy(f.device, parameterList([cscd(IDS[0]!, { type: 0xe0 })], seg)), 'UNSUPPORTED_TARGET_DESCRIPTOR_TYPE_CODE', { byte: 16, cd: false });
    assertSense(await xcopy(f.device, parameterList(one, [segment(0, 0, 1, 0, 1, 0x03)])), 'UNSUPPORTED_SEGMENT_DESCRIPTOR_TYPE_CODE', { byte: 48, cd: false });
    assertSense(await xcopy(f.device, parameterList([cscd(IDS[0]!, { deviceType: 0x01 })], seg)), 'UNSUPPORTED_TARGET_DESCRIPTOR_TYPE_CODE', { byte: 17, cd: false });
    // LIST ID USAGE 01b is reserved
    assertSense(await xcopy(f.device, parameterList(one, seg, { usage: 1 })), 'INVALID_FIELD_IN_PARAMETER_LIST', { byte: 1, bit: 4, cd: false });
    // a segment longer than MAXIMUM SEGMENT LENGTH (counted in the CSCD's block length)
    const long = parameterList([cscd(IDS[0]!, { blockLength: 4096 })], [segment(0, 0, 0xffff, 0, 0)]);
    assertSense(await xcopy(f.device, long), 'INVALID_FIELD_IN_PARAMETER_LIST', { byte: 48 + 10, cd: false });
  });

  test('segment errors are COPY ABORTED, nothing past them is written', async () => {
    const before0 = await readBlocks(f.device, 1, 3000, 4);
    // destination index outside the CSCD list
    assertSense(await xcopy(f.device, parameterList([cscd(IDS[0]!)], [segment(0, 1, 4, 0, 3000)])), 'UNREACHABLE_COPY_TARGET', { byte: 16 + 32 + 6, cd: false });
    // past the end of the destination
    assertSense(await xcopy(f.device, parameterList([cscd(IDS[0]!), cscd(IDS[1]!)], [segment(0, 1, 4, 0, CAP - 2)])), 'COPY_ABORTED', { byte: 16 + 64 + 20, cd: false });
    // a designator that names no LU
    const unknown = 'xcopy-test-nobody';
    assertSense(await xcopy(f.device, parameterList([cscd(IDS[0]!), cscd(unknown)], [segment(0, 1, 4, 0, 3000)])), 'COPY_TARGET_DEVICE_NOT_REACHABLE');
    // a DISK BLOCK LENGTH that is not the LU's
    assertSense(await xcopy(f.device, parameterList([cscd(IDS[0]!), cscd(IDS[1]!, { blockLength: 4096 })], [segment(0, 1, 4, 0, 3000)])), 'COPY_ABORTED');
    assert.ok((await readBlocks(f.device, 1, 3000, 4)).equals(before0), 'destination untouched');
  });

  test('RECEIVE COPY RESULTS: OPERATING PARAMETERS advertise the limits enforced', async () => {
    const r = await run(f.device, rcrCdb(0x03, 0), { lun: 0 });
    assertGood(r);
    const d = r.data!;
    assert.ok(d.equals(operatingParameters(BS)));
    assert.equal(d.readUInt32BE(0), d.length - 4, 'AVAILABLE DATA');
    assert.equal(d.readUInt16BE(8), COPY_LIMITS.maxCscdDescriptors);
    assert.equal(d.readUInt16BE(10), COPY_LIMITS.maxSegmentDescriptors);
    assert.equal(d.readUInt32BE(12), COPY_LIMITS.maxDescriptorListLength);
    assert.equal(d.readUInt32BE(16), COPY_LIMITS.maxSegmentBytes);
    assert.deepEqual([...d.subarray(44, 44 + d[43]!)], [0x02, 0xe4], 'implemented descriptor type codes');
    const short = await run(f.device, rcrCdb(0x03, 0, 10), { lun: 0 });
    assert.equal(short.data!.length, 10, 'allocation length truncates');
    assertSense(await run(f.device, rcrCdb(0x01, 0), { lun: 0 }), 'INVALID_FIELD_IN_CDB', { byte: 1 });
  });

  test('RECEIVE COPY RESULTS: COPY STATUS and FAILED SEGMENT DETAILS per list identifier and nexus', async () => {
    assertSense(await run(f.device, rcrCdb(0x00, 7), { lun: 0 }), 'INVALID_FIELD_IN_CDB', { byte: 2 });
    assertGood(await xcopy(f.device, parameterList([cscd(IDS[0]!)], [segment(0, 0, 3, 0, 3500), segment(0, 0, 2, 0, 3600)], { listId: 7 })));
    // another nexus has no copy with that list identifier
    assertSense(await run(f.device, rcrCdb(0x00, 7), { lun: 0, nexus: makeNexus(2) }), 'INVALID_FIELD_IN_CDB');
    const st = await run(f.device, rcrCdb(0x00, 7), { lun: 0 });
    assertGood(st);
    assert.equal(st.data!.readUInt32BE(0), 8);
    assert.equal(st.data![4], 0x01, 'completed successfully');
    assert.equal(st.data!.readUInt16BE(5), 2, 'segments processed');
    assert.equal(st.data![7], 0, 'units: bytes');
    assert.equal(st.data!.readUInt32BE(8), 5 * BS, 'transfer count');
    assertSense(await run(f.device, rcrCdb(0x00, 7), { lun: 0 }), 'INVALID_FIELD_IN_CDB'); // reported once

    // a failed copy: status says how far it got; FAILED SEGMENT DETAILS returns the sense it ended with
    const failed = await xcopy(f.device, parameterList([cscd(IDS[0]!)], [segment(0, 0, 1, 0, 3700), segment(0, 0, 4, 0, CAP - 1)], { listId: 8 }));
    assertSense(failed, 'COPY_ABORTED');
    const st2 = await run(f.device, rcrCdb(0x00, 8), { lun: 0 });
    assert.equal(st2.data![4], 0x02, 'completed with failure');
    assert.equal(st2.data!.readUInt16BE(5), 1, 'one segment processed');
    const fsd = await run(f.device, rcrCdb(0x04, 8), { lun: 0 });
    assertGood(fsd);
    assert.equal(fsd.data![56], 0x02, 'EXTENDED COPY COMMAND STATUS: CHECK CONDITION');
    const senseLength = fsd.data!.readUInt16BE(58);
    assert.ok(fsd.data!.subarray(60, 60 + senseLength).equals(failed.sense!), 'the same sense data');

    // LIST ID USAGE 11b: nothing held
    assertGood(await xcopy(f.device, parameterList([cscd(IDS[0]!)], [segment(0, 0, 1, 0, 3800)], { listId: 9, usage: 3 })));
    assertSense(await run(f.device, rcrCdb(0x00, 9), { lun: 0 }), 'INVALID_FIELD_IN_CDB');

    // I_T nexus loss discards held results
    assertGood(await xcopy(f.device, parameterList([cscd(IDS[0]!)], [segment(0, 0, 1, 0, 3800)], { listId: 10 })));
    f.device.nexusLost(makeNexus(1).id);
    for (const lun of [0, 1]) assertSense(await run(f.device, [0, 0, 0, 0, 0, 0], { lun }), 'I_T_NEXUS_LOSS_OCCURRED');
    assertSense(await run(f.device, rcrCdb(0x00, 10), { lun: 0 }), 'INVALID_FIELD_IN_CDB');
  });

  test('INQUIRY sets 3PC and VPD 8Fh lists the commands; RSOC reports both opcodes', async () => {
    const std = await run(f.device, [0x12, 0, 0, 0, 96, 0], { lun: 0 });
    assert.equal(std.data![5]! & 0x08, 0x08, '3PC');
    const pages = await run(f.device, [0x12, 1, 0x00, 0, 255, 0], { lun: 0 });
    assert.ok([...pages.data!.subarray(4)].includes(0x8f), 'VPD 8Fh listed');
    const tpc = await run(f.device, [0x12, 1, 0x8f, 4, 0, 0], { lun: 0 });
    assertGood(tpc);
    const d = tpc.data!;
    assert.equal(d.readUInt16BE(2), d.length - 4);
    assert.equal(d.readUInt16BE(4), 0x0001, 'first descriptor: supported commands');
    assert.deepEqual([...d.subarray(9, 9 + d[8]!)], [0x83, 1, 0x00, 0x84, 3, 0x00, 0x03, 0x04]);
    for (const [op, sa] of [[0x83, 0x00], [0x84, 0x00], [0x84, 0x03], [0x84, 0x04]] as const) {
      const rsoc = await run(f.device, [0xa3, 0x0c, 0x02, op, 0, sa, 0, 0, 1, 0, 0, 0], { lun: 0 });
      assertGood(rsoc);
      assert.equal(rsoc.data![1]! & 0x07, 0x03, `opcode ${op.toString(16)}/${sa} supported`);
    }
    assertSense(await run(f.device, xcopyCdb(0).fill(0x01, 1, 2), { lun: 0 }), 'INVALID_FIELD_IN_CDB', { byte: 1 }); // LID4
  });

  test('reservations of the destination LU apply to the copying nexus', async () => {
    const holder = makeNexus(2);
    const key = Buffer.alloc(24);
    key.writeBigUInt64BE(0xabcn, 8);
    assertGood(await run(f.device, [0x5f, 0x00, 0, 0, 0, 0, 0, 0, 24, 0], { lun: 1, nexus: holder, dataOut: key }), 'REGISTER');
    const resv = Buffer.alloc(24);
    resv.writeBigUInt64BE(0xabcn, 0);
    assertGood(await run(f.device, [0x5f, 0x01, 0x01, 0, 0, 0, 0, 0, 24, 0], { lun: 1, nexus: holder, dataOut: resv }), 'RESERVE (WRITE EXCLUSIVE)');
    try {
      const r = await xcopy(f.device, parameterList([cscd(IDS[0]!), cscd(IDS[1]!)], [segment(0, 1, 1, 0, 3900)]));
      assert.equal(r.status, 0x18, 'RESERVATION CONFLICT');
      // the other direction (reading LU 1) is allowed under WRITE EXCLUSIVE
      assertGood(await xcopy(f.device, parameterList([cscd(IDS[1]!), cscd(IDS[0]!)], [segment(0, 1, 1, 0, 3900)])));
    } finally {
      const clear = Buffer.alloc(24);
      clear.writeBigUInt64BE(0xabcn, 0);
      assertGood(await run(f.device, [0x5f, 0x03, 0, 0, 0, 0, 0, 0, 24, 0], { lun: 1, nexus: holder, dataOut: clear }), 'CLEAR');
    }
  });

  test('an aborted task stops the copy and is reported as failed', async () => {
    const ac = new AbortController();
    ac.abort();
    const r = await xcopy(f.device, parameterList([cscd(IDS[0]!)], [segment(0, 0, 8, 0, 3000)], { listId: 20 }), { signal: ac.signal });
    assert.equal(r.status, 0x40, 'TASK ABORTED');
    const st = await run(f.device, rcrCdb(0x00, 20), { lun: 0 });
    assert.equal(st.data![4], 0x02, 'completed with failure');
    assert.equal(st.data!.readUInt32BE(8), 0, 'nothing transferred');
  });
});

describe('copy target resolution (CVE-2020-28374)', () => {
  let a: Fixture;
  let b: Fixture;
  const B_ID = 'xcopy-test-b';
  before(async () => {
    a = await makeDevice([{ id: IDS[0]!, blocks: 256 }]);
    b = await makeDevice([{ id: B_ID, blocks: 256 }]);
    await settle(a.device);
    await settle(b.device);
    await writeBlocks(b.device, 0, 0, pattern(4 * BS, 3));
  });
  after(async () => {
    await a.cleanup();
    await b.cleanup();
  });

  test('without a resolver only the device\'s own LUs are found', async () => {
    const r = await xcopy(a.device, parameterList([cscd(B_ID), cscd(IDS[0]!)], [segment(0, 1, 4, 0, 10)]));
    assertSense(r, 'COPY_TARGET_DEVICE_NOT_REACHABLE', { byte: 16 + 4, cd: false });
    assert.ok(findByDesignator([a.device], { codeSet: 1, association: 0, type: 3, value: naaRegisteredExtended(IDS[0]!) }));
    assert.equal(findByDesignator([a.device], { codeSet: 1, association: 0, type: 3, value: naaRegisteredExtended(B_ID) }), undefined);
    assert.equal(findByDesignator([a.device], { codeSet: 2, association: 0, type: 3, value: naaRegisteredExtended(IDS[0]!) }), undefined, 'only the binary NAA');
  });

  test('the resolver decides per initiator: refused for one, allowed for another', async () => {
    const allowed = makeNexus(1).initiatorName;
    setCopyTargetResolver(a.device, (designator, nexus) =>
      findByDesignator(nexus.initiatorName === allowed ? [a.device, b.device] : [a.device], designator),
    );
    const list = parameterList([cscd(B_ID), cscd(IDS[0]!)], [segment(0, 1, 4, 0, 10)]);
    const other = makeNexus(2);
    await settle(a.device, other);
    const refused = await xcopy(a.device, list, { nexus: other });
    assertSense(refused, 'COPY_TARGET_DEVICE_NOT_REACHABLE');
    assert.ok((await readBlocks(a.device, 0, 10, 4)).equals(Buffer.alloc(4 * BS)), 'nothing copied for the refused initiator');
    assertGood(await xcopy(a.device, list), 'allowed initiator');
    assert.ok((await readBlocks(a.device, 0, 10, 4)).equals(pattern(4 * BS, 3)), 'copied from the other device');
    const s = parseSense(refused.sense!);
    assert.equal(s.key, 0x0a, 'COPY ABORTED');
  });
});
