/**
 * SBC-4 thin provisioning and VAAI primitives against a ScsiTargetDevice over temp sparse files: WRITE SAME(10/16),
 * UNMAP, GET LBA STATUS, COMPARE AND WRITE, ORWRITE(16), VPD B0h/B2h, READ CAPACITY(16) LBPME/LBPRZ, RSOC entries.
 */
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { test } from 'node:test';
import type { Backstore } from '../src/backstore/types.ts';
import { ScsiTargetDevice } from '../src/scsi/device.ts';
import { LbaRangeLock } from '../src/scsi/lba-lock.ts';
import { provisioningLimits } from '../src/scsi/vpd.ts';
import { assertGood, assertSense, makeDevice, makeNexus, pattern, run, rw10, rw16, settle } from './scsi-fixture.ts';

const BS = 512;

// ---- CDB builders ----

function ws10(lba: number, blocks: number, b1 = 0): Buffer {
  const c = Buffer.alloc(10);
  c[0] = 0x41;
  c[1] = b1;
  c.writeUInt32BE(lba >>> 0, 2);
  c.writeUInt16BE(blocks, 7);
  return c;
}

function ws16(lba: bigint, blocks: number, b1 = 0): Buffer {
  return rw16(0x93, lba, blocks, b1);
}

const WS_UNMAP = 0x08;
const WS_ANCHOR = 0x10;
const WS_NDOB = 0x01;

function unmapCdb(listLength: number, b1 = 0): Buffer {
  const c = Buffer.alloc(10);
  c[0] = 0x42;
  c[1] = b1;
  c.writeUInt16BE(listLength, 7);
  return c;
}

function unmapList(descs: [bigint | number, number][]): Buffer {
  const b = Buffer.alloc(8 + 16 * descs.length);
  b.writeUInt16BE(b.length - 2, 0);
  b.writeUInt16BE(16 * descs.length, 2);
  descs.forEach(([lba, n], i) => {
    b.writeBigUInt64BE(BigInt(lba), 8 + 16 * i);
    b.writeUInt32BE(n, 16 + 16 * i);
  });
  return b;
}

function getLbaStatusCdb(lba: bigint, alloc: number): Buffer {
  const c = Buffer.alloc(16);
  c[0] = 0x9e;
  c[1] = 0x12;
  c.writeBigUInt64BE(lba, 2);
  c.writeUInt32BE(alloc, 10);
  return c;
}

function cawCdb(lba: bigint, blocks: number, b1 = 0): Buffer {
  const c = Buffer.alloc(16);
  c[0] = 0x89;
  c[1] = b1;
  c.writeBigUInt64BE(lba, 2);
  c[13] = blocks;
  return c;
}

const read10 = (lba: number, blocks: number) => rw10(0x28, lba, blocks);
const write10 = (lba: number, blocks: number) => rw10(0x2a, lba, blocks);

async function readBlocks(device: ScsiTargetDevice, lba: number, blocks: number): Promise<Buffer> {
  const r = await run(device, read10(lba, blocks));
  assertGood(r, 'READ(10)');
  return r.data!;
}

async function writeBlocks(device: ScsiTargetDevice, lba: number, data: Buffer): Promise<void> {
  assertGood(await run(device, write10(lba, data.length / BS), { dataOut: data }), 'WRITE(10)');
}

async function allocated(path: string): Promise<number> {
  return (await stat(path)).blocks * 512;
}

function inquiryVpd(page: number): number[] {
  return [0x12, 0x01, page, 0x01, 0x00, 0];
}

// ---- capability advertising ----

test('READ CAPACITY(16) LBPME + LBPRZ; VPD B2h LBPU/LBPWS/LBPWS10/LBPRZ thin; VPD B0h limits', async () => {
  const f = await makeDevice([{ blocks: 4096 }]);
  try {
    await settle(f.device);
    const rc = await run(f.device, rw16(0x9e, 0n, 32, 0x10));
    assertGood(rc);
    assert.equal(rc.data![14]! & 0xc0, 0xc0, 'LBPME and LBPRZ');
    assert.equal(rc.data![13]! & 0x0f, 0, 'one logical block per physical block');

    const lbp = (await run(f.device, inquiryVpd(0xb2))).data!;
    assert.equal(lbp[1], 0xb2);
    assert.equal(lbp.readUInt16BE(2), 4);
    assert.equal(lbp[5]! & 0xe0, 0xe0, 'LBPU LBPWS LBPWS10');
    assert.equal((lbp[5]! >> 2) & 0x07, 0b001, 'LBPRZ 001b: deallocated blocks read zeros');
    assert.equal(lbp[5]! & 0x02, 0, 'ANC_SUP 0');
    assert.equal(lbp[6]! & 0x07, 0x2, 'thin provisioned');

    const bl = (await run(f.device, inquiryVpd(0xb0))).data!;
    const lim = provisioningLimits(BS);
    assert.equal(bl[4]! & 0x01, 0, 'WSNZ 0');
    assert.equal(bl[5], lim.maxCompareAndWriteBlocks, 'MAXIMUM COMPARE AND WRITE LENGTH');
    assert.equal(bl.readUInt32BE(20), lim.maxUnmapBlocks, 'MAXIMUM UNMAP LBA COUNT');
    assert.equal(bl.readUInt32BE(24), lim.maxUnmapDescriptors, 'MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT');
    assert.equal(bl.readUInt32BE(28), 8, 'OPTIMAL UNMAP GRANULARITY: one 4 KiB fs block');
    assert.equal(bl[32]! & 0x80, 0x80, 'UGAVALID');
    assert.equal(bl.readBigUInt64BE(36), BigInt(lim.maxWriteSameBlocks), 'MAXIMUM WRITE SAME LENGTH');
    assert.ok(lim.maxWriteSameBlocks > 0 && lim.maxUnmapBlocks > 0 && lim.maxCompareAndWriteBlocks >= 1);
  } finally {
    await f.cleanup();
  }
});

test('RSOC reports every new command with usage data; SANITIZE is an invalid opcode', async () => {
  const f = await makeDevice();
  try {
    await settle(f.device);
    const one = async (opts: number, op: number, sa = 0) => {
      const c = Buffer.alloc(12);
      c[0] = 0xa3;
      c[1] = 0x0c;
      c[2] = opts;
      c[3] = op;
      c.writeUInt16BE(sa, 4);
      c.writeUInt32BE(512, 6);
      const r = await run(f.device, c);
      assertGood(r);
      return r.data!;
    };
    for (const [op, len] of [[0x41, 10], [0x42, 10], [0x89, 16], [0x8b, 16], [0x93, 16]] as const) {
      const d = await one(1, op);
      assert.equal(d[1]! & 0x07, 0b011, `0x${op.toString(16)} supported`);
      assert.equal(d.readUInt16BE(2), len);
      assert.equal(d[4], op, 'usage data byte 0 = opcode');
    }
    assert.equal((await one(1, 0x89))[5]! & 0x18, 0x18, 'COMPARE AND WRITE: DPO/FUA in usage data');
    assert.equal((await one(1, 0x8b))[5]! & 0x18, 0x18, 'ORWRITE: DPO/FUA in usage data');
    assert.equal((await one(1, 0x93))[5]! & 0x19, 0x19, 'WRITE SAME(16): UNMAP + NDOB');
    const gls = await one(2, 0x9e, 0x12);
    assert.equal(gls[1]! & 0x07, 0b011, 'GET LBA STATUS supported');
    assert.equal(gls[5]! & 0x1f, 0x12);
    assert.equal((await one(1, 0x48))[1]! & 0x07, 0b001, 'SANITIZE not supported');
    assertSense(await run(f.device, [0x48, 0x01, 0, 0, 0, 0, 0, 0, 0, 0]), 'INVALID_COMMAND_OPERATION_CODE');
  } finally {
    await f.cleanup();
  }
});

// ---- WRITE SAME ----

test('WRITE SAME(10/16) writes one block everywhere; 0 blocks = to the end; NDOB writes zeros', async () => {
  const f = await makeDevice([{ blocks: 2048 }]);
  try {
    await settle(f.device);
    const block = pattern(BS, 3);
    assertGood(await run(f.device, ws10(10, 5), { dataOut: block }));
    const got = await readBlocks(f.device, 9, 7);
    assert.ok(got.subarray(0, BS).equals(Buffer.alloc(BS)), 'block before untouched');
    for (let i = 1; i <= 5; i++) assert.ok(got.subarray(i * BS, (i + 1) * BS).equals(block), `block ${9 + i}`);
    assert.ok(got.subarray(6 * BS).equals(Buffer.alloc(BS)), 'block after untouched');

    const b2 = pattern(BS, 9);
    assertGood(await run(f.device, ws16(2040n, 0), { dataOut: b2 }), 'WRITE SAME(16) 0 blocks → to the last LBA');
    const tail = await readBlocks(f.device, 2040, 8);
    for (let i = 0; i < 8; i++) assert.ok(tail.subarray(i * BS, (i + 1) * BS).equals(b2));

    const asked: number[] = [];
    assertGood(await run(f.device, ws16(2040n, 4, WS_NDOB), { asked }), 'NDOB');
    assert.deepEqual(asked, [], 'NDOB: no data-out fetched');
    assert.ok((await readBlocks(f.device, 2040, 4)).equals(Buffer.alloc(4 * BS)));

    // A zero block without UNMAP: zeros, but still mapped.
    await writeBlocks(f.device, 100, pattern(8 * BS, 1));
    assertGood(await run(f.device, ws10(100, 8), { dataOut: Buffer.alloc(BS) }));
    assert.ok((await readBlocks(f.device, 100, 8)).equals(Buffer.alloc(8 * BS)));
    const st = await run(f.device, getLbaStatusCdb(100n, 24));
    assert.equal(st.data![20], 0, 'WRITE SAME without UNMAP leaves blocks mapped');
  } finally {
    await f.cleanup();
  }
});

test('WRITE SAME with UNMAP deallocates (file blocks freed, zeros read back, whatever the data block)', async () => {
  const f = await makeDevice([{ blocks: 8192 }]);
  try {
    await settle(f.device);
    await writeBlocks(f.device, 0, Buffer.alloc(4096 * BS, 0xff));
    const before = await allocated(f.paths[0]!);
    assertGood(await run(f.device, ws16(0n, 4096, WS_UNMAP), { dataOut: Buffer.alloc(BS) }));
    assertGood(await run(f.device, ws10(0, 8, WS_UNMAP), { dataOut: Buffer.alloc(BS, 0xee) }));
    const after = await allocated(f.paths[0]!);
    assert.ok(before - after >= 4096 * BS - 8192, `space freed: ${before} → ${after}`);
    assert.ok((await readBlocks(f.device, 0, 64)).equals(Buffer.alloc(64 * BS)), 'LBPRZ: zeros');
    const st = await run(f.device, getLbaStatusCdb(0n, 24));
    assert.equal(st.data![20], 1, 'deallocated');
  } finally {
    await f.cleanup();
  }
});

test('WRITE SAME errors: ANCHOR, WRPROTECT, beyond the end, above MAXIMUM WRITE SAME LENGTH, data-out size, read-only', async () => {
  const max = provisioningLimits(BS).maxWriteSameBlocks;
  const f = await makeDevice([{ blocks: max + 100 }, { blocks: 64, readOnly: true }]);
  try {
    await settle(f.device, makeNexus(1), [0, 1]);
    const blk = Buffer.alloc(BS);
    assertSense(await run(f.device, ws10(0, 1, WS_ANCHOR), { dataOut: blk }), 'INVALID_FIELD_IN_CDB', { byte: 1, bit: 4 });
    assertSense(await run(f.device, ws10(0, 1, WS_ANCHOR | WS_UNMAP), { dataOut: blk }), 'INVALID_FIELD_IN_CDB', { byte: 1 });
    assertSense(await run(f.device, ws16(0n, 1, 0x20), { dataOut: blk }), 'INVALID_FIELD_IN_CDB', { byte: 1, bit: 7 });
    assertSense(await run(f.device, ws16(BigInt(max + 99), 2), { dataOut: blk }), 'LBA_OUT_OF_RANGE');
    assertSense(await run(f.device, ws16(BigInt(max + 101), 0), { dataOut: blk }), 'LBA_OUT_OF_RANGE');
    assertSense(await run(f.device, ws16(0xffffffffffffffffn, 1), { dataOut: blk }), 'LBA_OUT_OF_RANGE');
    assertSense(await run(f.device, ws16(0n, max + 1), { dataOut: blk }), 'INVALID_FIELD_IN_CDB', { byte: 10 });
    assertSense(await run(f.device, ws16(0n, 0), { dataOut: blk }), 'INVALID_FIELD_IN_CDB', { byte: 10 }); // to the end > max
    assertGood(await run(f.device, ws16(100n, 0, WS_UNMAP), { dataOut: blk }), 'exactly MAXIMUM WRITE SAME LENGTH to the end');
    assert.equal((await run(f.device, ws16(0n, 1), { dataOut: Buffer.alloc(BS / 2) })).status, 2, 'short data-out');
    assert.equal((await run(f.device, ws16(0n, 1), { dataOut: Buffer.alloc(2 * BS) })).status, 2, 'long data-out');
    assertSense(await run(f.device, ws10(0, 1), { lun: 1, dataOut: blk }), 'WRITE_PROTECTED');
    assertSense(await run(f.device, ws16(0n, 1, WS_UNMAP), { lun: 1, dataOut: blk }), 'WRITE_PROTECTED');
  } finally {
    await f.cleanup();
  }
});

// ---- UNMAP ----

test('UNMAP frees the file blocks of every descriptor; they read zeros; the rest is untouched', async () => {
  const f = await makeDevice([{ blocks: 8192 }]);
  try {
    await settle(f.device);
    const data = pattern(4096 * BS, 5);
    await writeBlocks(f.device, 0, data.subarray(0, 2048 * BS));
    await writeBlocks(f.device, 2048, data.subarray(2048 * BS));
    const before = await allocated(f.paths[0]!);
    const list = unmapList([
      [0, 1024],
      [2048, 1024],
      [4000, 0], // zero blocks: nothing
    ]);
    assertGood(await run(f.device, unmapCdb(list.length), { dataOut: list }));
    const after = await allocated(f.paths[0]!);
    assert.ok(before - after >= 2048 * BS - 16384, `1 MiB freed: ${before} → ${after}`);
    assert.ok((await readBlocks(f.device, 0, 1024)).equals(Buffer.alloc(1024 * BS)));
    assert.ok((await readBlocks(f.device, 1024, 1024)).equals(data.subarray(1024 * BS, 2048 * BS)));
    assert.ok((await readBlocks(f.device, 2048, 1024)).equals(Buffer.alloc(1024 * BS)));
    assert.ok((await readBlocks(f.device, 3072, 1024)).equals(data.subarray(3072 * BS)));
  } finally {
    await f.cleanup();
  }
});

test('UNMAP errors: lengths, beyond capacity (nothing unmapped), limits, ANCHOR, read-only', async () => {
  const lim = provisioningLimits(BS);
  const f = await makeDevice([{ blocks: 2048 }, { blocks: 64, readOnly: true }]);
  try {
    await settle(f.device, makeNexus(1), [0, 1]);
    const data = pattern(16 * BS, 7);
    await writeBlocks(f.device, 0, data);
    assertGood(await run(f.device, unmapCdb(0)), 'PARAMETER LIST LENGTH 0: nothing to do');
    assertSense(await run(f.device, unmapCdb(4), { dataOut: Buffer.alloc(4) }), 'PARAMETER_LIST_LENGTH_ERROR');
    const bad = unmapList([[0, 8]]);
    bad.writeUInt16BE(32, 2); // descriptor data length beyond the list
    assertSense(await run(f.device, unmapCdb(bad.length), { dataOut: bad }), 'PARAMETER_LIST_LENGTH_ERROR');
    const beyond = unmapList([
      [0, 8],
      [2040, 9],
    ]);
    assertSense(await run(f.device, unmapCdb(beyond.length), { dataOut: beyond }), 'LBA_OUT_OF_RANGE');
    assert.ok((await readBlocks(f.device, 0, 16)).equals(data), 'a bad descriptor anywhere: nothing unmapped');
    const many = unmapList(Array.from({ length: lim.maxUnmapDescriptors + 1 }, (_, i) => [i, 1] as [number, number]));
    assertSense(await run(f.device, unmapCdb(many.length), { dataOut: many }), 'INVALID_FIELD_IN_PARAMETER_LIST');
    const big = makeDevice([{ blocks: lim.maxUnmapBlocks + 16 }]);
    const g = await big;
    try {
      await settle(g.device);
      const l = unmapList([
        [0, lim.maxUnmapBlocks],
        [lim.maxUnmapBlocks, 1],
      ]);
      assertSense(await run(g.device, unmapCdb(l.length), { dataOut: l }), 'INVALID_FIELD_IN_PARAMETER_LIST');
    } finally {
      await g.cleanup();
    }
    const ok = unmapList([[0, 8]]);
    assertSense(await run(f.device, unmapCdb(ok.length, 0x01), { dataOut: ok }), 'INVALID_FIELD_IN_CDB', { byte: 1, bit: 0 });
    assertSense(await run(f.device, unmapCdb(ok.length), { lun: 1, dataOut: ok }), 'WRITE_PROTECTED');
    // The partial trailing descriptor is ignored (block descriptor data length not a multiple of 16).
    const partial = Buffer.concat([unmapList([[0, 8]]), Buffer.alloc(8)]);
    partial.writeUInt16BE(partial.length - 2, 0);
    partial.writeUInt16BE(24, 2);
    assertGood(await run(f.device, unmapCdb(partial.length), { dataOut: partial }));
    assert.ok((await readBlocks(f.device, 0, 8)).equals(Buffer.alloc(8 * BS)));
  } finally {
    await f.cleanup();
  }
});

test('UNMAP over a backstore without discard() writes zeros instead', async () => {
  const mem = Buffer.alloc(64 * BS, 0x77);
  const backstore: Backstore = {
    path: 'mem',
    readOnly: false,
    size: () => mem.length,
    refreshSize: async () => mem.length,
    read: async (o, l) => Buffer.from(mem.subarray(o, o + l)),
    write: async (o, d) => void d.copy(mem, o),
    flush: async () => {},
    close: async () => {},
  };
  const device = new ScsiTargetDevice({
    targetName: 'iqn.x',
    luns: new Map([[0, { id: 'mem', serial: 's', readOnly: false, blockSize: 512 as const, writeCache: 'back' as const, backstore }]]),
  });
  await settle(device);
  const list = unmapList([[4, 4]]);
  assertGood(await run(device, unmapCdb(list.length), { dataOut: list }));
  assert.ok(mem.subarray(4 * BS, 8 * BS).equals(Buffer.alloc(4 * BS)));
  assert.equal(mem[8 * BS], 0x77);
  const st = await run(device, getLbaStatusCdb(0n, 24));
  assert.deepEqual([st.data!.readUInt32BE(16), st.data![20]], [64, 0], 'no allocation(): all mapped');
});

// ---- GET LBA STATUS ----

test('GET LBA STATUS: mapped / deallocated extents from the starting LBA, merged, truncated to the allocation length', async () => {
  const f = await makeDevice([{ blocks: 4096 }]);
  try {
    await settle(f.device);
    const r0 = await run(f.device, getLbaStatusCdb(0n, 1024));
    assertGood(r0);
    assert.equal(r0.data!.readUInt32BE(0), 20, 'one descriptor');
    assert.deepEqual([r0.data!.readBigUInt64BE(8), r0.data!.readUInt32BE(16), r0.data![20]], [0n, 4096, 1], 'all deallocated');

    await writeBlocks(f.device, 64, pattern(64 * BS, 2));
    const list = unmapList([[80, 16]]);
    assertGood(await run(f.device, unmapCdb(list.length), { dataOut: list }));
    const r = await run(f.device, getLbaStatusCdb(8n, 1024));
    assertGood(r);
    const descs = [];
    for (let at = 8; at < r.data!.length; at += 16) {
      descs.push([Number(r.data!.readBigUInt64BE(at)), r.data!.readUInt32BE(at + 8), r.data![at + 12]]);
    }
    assert.deepEqual(descs, [
      [8, 56, 1],
      [64, 16, 0],
      [80, 16, 1],
      [96, 32, 0],
      [128, 3968, 1],
    ]);
    const short = await run(f.device, getLbaStatusCdb(8n, 24));
    assert.equal(short.data!.length, 24, 'truncated to the allocation length');
    assert.equal(short.data!.readUInt32BE(16), 56);
    const mid = await run(f.device, getLbaStatusCdb(70n, 24));
    assert.deepEqual([Number(mid.data!.readBigUInt64BE(8)), mid.data!.readUInt32BE(16), mid.data![20]], [70, 10, 0], 'starts at the LBA asked for');
    assertGood(await run(f.device, getLbaStatusCdb(4095n, 24)));
    assertSense(await run(f.device, getLbaStatusCdb(4096n, 24)), 'LBA_OUT_OF_RANGE');
    assertSense(await run(f.device, getLbaStatusCdb(0xffffffffffffffffn, 24)), 'LBA_OUT_OF_RANGE');
  } finally {
    await f.cleanup();
  }
});

// ---- COMPARE AND WRITE ----

test('COMPARE AND WRITE: match writes; miscompare leaves the medium and reports the first differing byte', async () => {
  const f = await makeDevice([{ blocks: 2048 }]);
  try {
    await settle(f.device);
    const old = pattern(2 * BS, 1);
    const neu = pattern(2 * BS, 2);
    await writeBlocks(f.device, 10, old);
    assertGood(await run(f.device, cawCdb(10n, 2, 0x18), { dataOut: Buffer.concat([old, neu]) }), 'match (DPO FUA)');
    assert.ok((await readBlocks(f.device, 10, 2)).equals(neu));

    const wrongVerify = Buffer.from(neu);
    wrongVerify[BS + 77] ^= 0xff;
    const r = await run(f.device, cawCdb(10n, 2), { dataOut: Buffer.concat([wrongVerify, old]) });
    assertSense(r, 'MISCOMPARE_DURING_VERIFY', { information: BigInt(BS + 77) });
    assert.ok((await readBlocks(f.device, 10, 2)).equals(neu), 'nothing written on a miscompare');
  } finally {
    await f.cleanup();
  }
});

test('COMPARE AND WRITE errors: above the maximum, data-out size, range, WRPROTECT, read-only; 0 blocks is GOOD', async () => {
  const f = await makeDevice([{ blocks: 2048 }, { blocks: 64, readOnly: true }]);
  try {
    await settle(f.device, makeNexus(1), [0, 1]);
    const max = provisioningLimits(BS).maxCompareAndWriteBlocks;
    if (max < 255) {
      const n = max + 1;
      assertSense(await run(f.device, cawCdb(0n, n), { dataOut: Buffer.alloc(2 * n * BS) }), 'INVALID_FIELD_IN_CDB', { byte: 13 });
    }
    const two = Buffer.alloc(2 * BS);
    assertSense(await run(f.device, cawCdb(0n, 1), { dataOut: Buffer.alloc(4 * BS) }), 'INVALID_FIELD_IN_CDB', { byte: 13 });
    assertSense(await run(f.device, cawCdb(0n, 0), { dataOut: Buffer.alloc(4 * BS) }), 'INVALID_FIELD_IN_CDB', { byte: 13 });
    assert.equal((await run(f.device, cawCdb(0n, 3), { dataOut: Buffer.alloc(4 * BS) })).status, 2, 'too little data-out');
    assertGood(await run(f.device, cawCdb(0n, 0)), '0 blocks, no data-out');
    assertSense(await run(f.device, cawCdb(2048n, 1), { dataOut: two }), 'LBA_OUT_OF_RANGE');
    assertSense(await run(f.device, cawCdb(0n, 1, 0x20), { dataOut: two }), 'INVALID_FIELD_IN_CDB', { byte: 1, bit: 7 });
    assertSense(await run(f.device, cawCdb(0n, 1), { lun: 1, dataOut: two }), 'WRITE_PROTECTED');
  } finally {
    await f.cleanup();
  }
});

test('COMPARE AND WRITE is atomic: of 40 concurrent CAWs from two nexuses expecting the same old data, exactly one wins', async () => {
  const f = await makeDevice([{ blocks: 64 }]);
  try {
    const n1 = makeNexus(1);
    const n2 = makeNexus(2);
    await settle(f.device, n1);
    await settle(f.device, n2);
    const old = Buffer.alloc(BS, 0x01);
    await writeBlocks(f.device, 5, old);
    const attempts = Array.from({ length: 40 }, (_, i) =>
      run(f.device, cawCdb(5n, 1), { nexus: i % 2 ? n2 : n1, dataOut: Buffer.concat([old, Buffer.alloc(BS, 0x10 + i)]) }),
    );
    // Plain writes to other blocks interleave freely.
    const others = Array.from({ length: 10 }, (_, i) => run(f.device, write10(20 + i, 1), { dataOut: Buffer.alloc(BS, i) }));
    const results = await Promise.all(attempts);
    for (const o of await Promise.all(others)) assertGood(o);
    const winners = results.map((r, i) => (r.status === 0 ? i : -1)).filter((i) => i >= 0);
    assert.equal(winners.length, 1, `exactly one winner, got ${winners.length}`);
    for (const r of results) if (r.status !== 0) assertSense(r, 'MISCOMPARE_DURING_VERIFY');
    assert.ok((await readBlocks(f.device, 5, 1)).equals(Buffer.alloc(BS, 0x10 + winners[0]!)));
  } finally {
    await f.cleanup();
  }
});

// ---- ORWRITE ----

test('ORWRITE(16): medium OR data-out; 0 blocks; range; read-only', async () => {
  const f = await makeDevice([{ blocks: 2048 }, { blocks: 64, readOnly: true }]);
  try {
    await settle(f.device, makeNexus(1), [0, 1]);
    await writeBlocks(f.device, 3, Buffer.alloc(2 * BS, 0xa0));
    assertGood(await run(f.device, rw16(0x8b, 3n, 2), { dataOut: Buffer.alloc(2 * BS, 0x05) }));
    assert.ok((await readBlocks(f.device, 3, 2)).equals(Buffer.alloc(2 * BS, 0xa5)));
    assertGood(await run(f.device, rw16(0x8b, 0n, 0)));
    assertSense(await run(f.device, rw16(0x8b, 2047n, 2), { dataOut: Buffer.alloc(2 * BS) }), 'LBA_OUT_OF_RANGE');
    assertSense(await run(f.device, rw16(0x8b, 0n, 1, 0x40), { dataOut: Buffer.alloc(BS) }), 'INVALID_FIELD_IN_CDB', { byte: 1, bit: 7 });
    assertSense(await run(f.device, rw16(0x8b, 0n, 1), { lun: 1, dataOut: Buffer.alloc(BS) }), 'WRITE_PROTECTED');
  } finally {
    await f.cleanup();
  }
});

// ---- the range lock itself ----

test('LbaRangeLock: disjoint ranges proceed at once, overlapping ones wait in arrival order', async () => {
  const lock = new LbaRangeLock();
  const a = lock.acquire(0, 8);
  assert.equal(typeof a, 'function', 'uncontended: granted synchronously');
  const b = lock.acquire(8, 8);
  assert.equal(typeof b, 'function', 'adjacent, not overlapping');
  const order: string[] = [];
  const c = Promise.resolve(lock.acquire(4, 8)).then((r) => (order.push('c'), r));
  const d = Promise.resolve(lock.acquire(100, 1)).then((r) => (order.push('d'), r));
  const e = Promise.resolve(lock.acquire(10, 1)).then((r) => (order.push('e'), r)); // overlaps b and waiting c
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, ['d']);
  assert.equal(lock.waitingCount, 2);
  (a as () => void)();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, ['d'], 'c still overlaps b');
  (b as () => void)();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, ['d', 'c'], 'e queued behind c (overlap with an earlier waiter)');
  (await c)();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, ['d', 'c', 'e']);
  (await d)();
  const releaseE = await e;
  releaseE();
  releaseE(); // idempotent
  assert.equal(lock.heldCount, 0);
  assert.equal(lock.waitingCount, 0);
});
