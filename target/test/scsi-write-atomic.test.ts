// WRITE ATOMIC(16) (SBC-4 §5.48): limits in VPD B0h, the RSOC entry from the opcode table, field checks, atomicity
// against COMPARE AND WRITE / WRITE on the same blocks and against readers; SANITIZE refused as not supported.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lbaLockOf } from '../src/scsi/lba-lock.ts';
import { atomicLimits } from '../src/scsi/vpd.ts';
import { assertGood, assertSense, makeDevice, makeNexus, pattern, run, rw10, settle } from './scsi-fixture.ts';

const BS = 512;

function writeAtomic16(lba: bigint, blocks: number, opts: { b1?: number; boundary?: number; group?: number } = {}): Buffer {
  const c = Buffer.alloc(16);
  c[0] = 0x9c;
  c[1] = opts.b1 ?? 0;
  c.writeBigUInt64BE(lba, 2);
  c.writeUInt16BE(opts.boundary ?? 0, 10);
  c.writeUInt16BE(blocks, 12);
  c[14] = opts.group ?? 0;
  return c;
}

async function withDevice(fn: (f: Awaited<ReturnType<typeof makeDevice>>) => Promise<void>, blocks = 8192): Promise<void> {
  const f = await makeDevice([{ blocks }]);
  try {
    await settle(f.device);
    await fn(f);
  } finally {
    await f.cleanup();
  }
}

test('VPD B0h advertises the atomic limits (bytes 44..63) the handler enforces', () =>
  withDevice(async (f) => {
    const r = await run(f.device, [0x12, 0x01, 0xb0, 0x00, 0xff, 0x00]);
    assertGood(r);
    const d = r.data!;
    assert.equal(d.readUInt16BE(2), 0x3c, 'page length');
    const maxAtomic = d.readUInt32BE(44);
    assert.equal(maxAtomic, atomicLimits(BS).maxTransferBlocks);
    assert.ok(maxAtomic > 0 && maxAtomic <= d.readUInt32BE(8), 'non-zero and ≤ MAXIMUM TRANSFER LENGTH');
    assert.equal(d.readUInt32BE(48), 0, 'ATOMIC ALIGNMENT: none');
    assert.equal(d.readUInt32BE(52), 0, 'ATOMIC TRANSFER LENGTH GRANULARITY: none');
    assert.equal(d.readUInt32BE(56), 0, 'MAXIMUM ATOMIC TRANSFER LENGTH WITH ATOMIC BOUNDARY');
    assert.equal(d.readUInt32BE(60), 0, 'MAXIMUM ATOMIC BOUNDARY SIZE');
    // one more block than the limit is refused at the TRANSFER LENGTH field, nothing written
    const over = maxAtomic + 1;
    assertSense(await run(f.device, writeAtomic16(0n, over), { dataOut: Buffer.alloc(over * BS, 0xee) }), 'INVALID_FIELD_IN_CDB', { byte: 12 });
    const back = await run(f.device, rw10(0x28, 0, 1));
    assert.ok(back.data!.equals(Buffer.alloc(BS)), 'refused write left the medium alone');
  }));

test('WRITE ATOMIC(16): writes, reads back; zero length; LBA out of range; WRPROTECT, ATOMIC BOUNDARY refused', () =>
  withDevice(async (f) => {
    const data = pattern(8 * BS, 3);
    assertGood(await run(f.device, writeAtomic16(16n, 8, { b1: 0x08 /* FUA */ }), { dataOut: data }), 'write atomic');
    assert.ok((await run(f.device, rw10(0x28, 16, 8))).data!.equals(data));
    assertGood(await run(f.device, writeAtomic16(0n, 0)), 'zero blocks');
    assertSense(await run(f.device, writeAtomic16(8192n - 4n, 8), { dataOut: Buffer.alloc(8 * BS) }), 'LBA_OUT_OF_RANGE');
    assertSense(await run(f.device, writeAtomic16(8193n, 0)), 'LBA_OUT_OF_RANGE');
    assertSense(await run(f.device, writeAtomic16(0x8000000000000000n, 1), { dataOut: Buffer.alloc(BS) }), 'LBA_OUT_OF_RANGE');
    assertSense(await run(f.device, writeAtomic16(0n, 1, { b1: 0x20 }), { dataOut: Buffer.alloc(BS) }), 'INVALID_FIELD_IN_CDB', { byte: 1 });
    assertSense(await run(f.device, writeAtomic16(0n, 1, { boundary: 1 }), { dataOut: Buffer.alloc(BS) }), 'INVALID_FIELD_IN_CDB', { byte: 10 });
    // reserved bit in byte 1 (bit 2) → the generic reserved-bit check
    assertSense(await run(f.device, writeAtomic16(0n, 1, { b1: 0x04 }), { dataOut: Buffer.alloc(BS) }), 'INVALID_FIELD_IN_CDB', { byte: 1, bit: 2 });
    // a short Data-Out is not written in part: an atomic write is all or nothing
    assertSense(await run(f.device, writeAtomic16(32n, 4), { dataOut: Buffer.alloc(2 * BS, 0x55) }), 'INVALID_FIELD_IN_COMMAND_INFORMATION_UNIT');
    assert.ok((await run(f.device, rw10(0x28, 32, 4))).data!.equals(Buffer.alloc(4 * BS)), 'nothing of the short write landed');
  }));

test('WRITE ATOMIC(16) on a read-only LU: WRITE PROTECTED', async () => {
  const f = await makeDevice([{ blocks: 64, readOnly: true }]);
  try {
    await settle(f.device);
    assertSense(await run(f.device, writeAtomic16(0n, 1), { dataOut: Buffer.alloc(BS) }), 'WRITE_PROTECTED');
  } finally {
    await f.cleanup();
  }
});

test('WRITE ATOMIC(16) holds its range: a WRITE and a COMPARE AND WRITE on the same blocks wait; readers see all old or all new', () =>
  withDevice(async (f) => {
    const lu = f.device.logicalUnit(0)!;
    const bs = lu.backstore;
    for (const n of [2, 3, 4]) await settle(f.device, makeNexus(n));
    const oldData = Buffer.alloc(16 * BS, 0x11);
    const newData = Buffer.alloc(16 * BS, 0x22);
    assertGood(await run(f.device, rw10(0x2a, 100, 16), { dataOut: oldData }));
    // slow the backstore's writes down so the atomic write is caught in the middle
    const realWrite = bs.write.bind(bs);
    let gate!: () => void;
    const opened = new Promise<void>((r) => (gate = r));
    let started!: () => void;
    const writing = new Promise<void>((r) => (started = r));
    let first = true;
    (bs as { write: typeof bs.write }).write = async (offset, data) => {
      if (first) {
        first = false;
        // half the data lands, then the write stalls until the test opens the gate
        await realWrite(offset, data.subarray(0, data.length / 2));
        started();
        await opened;
        return realWrite(offset + data.length / 2, data.subarray(data.length / 2));
      }
      return realWrite(offset, data);
    };
    try {
      const atomic = run(f.device, writeAtomic16(100n, 16), { dataOut: newData });
      await writing;
      assert.equal(lbaLockOf(bs).readersMustWait, true, 'an atomic write is in flight');
      const reader = run(f.device, rw10(0x28, 100, 16), { nexus: makeNexus(2) });
      const cawData = Buffer.concat([Buffer.alloc(BS, 0x22), Buffer.alloc(BS, 0x33)]);
      const caw = Buffer.alloc(16);
      caw[0] = 0x89;
      caw.writeBigUInt64BE(100n, 2);
      caw[13] = 1;
      const cawRes = run(f.device, caw, { dataOut: cawData, nexus: makeNexus(3) });
      const overlapping = run(f.device, rw10(0x2a, 110, 1), { dataOut: Buffer.alloc(BS, 0x44), nexus: makeNexus(4) });
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(lbaLockOf(bs).waitingCount, 3, 'reader, CAW and WRITE queue behind the atomic write');
      gate();
      assertGood(await atomic);
      const seen = (await reader).data!;
      assert.ok(seen.equals(newData) || seen.equals(oldData), 'the reader saw all old or all new blocks, never half');
      assert.ok(seen.equals(newData), 'queued after the atomic write, it sees the new data');
      // the CAW compared against the atomic write's data (0x22), so it matched and wrote 0x33
      assertGood(await cawRes, 'CAW after the atomic write');
      assertGood(await overlapping);
      const after = (await run(f.device, rw10(0x28, 100, 16))).data!;
      assert.ok(after.subarray(0, BS).equals(Buffer.alloc(BS, 0x33)));
      assert.ok(after.subarray(10 * BS, 11 * BS).equals(Buffer.alloc(BS, 0x44)));
      assert.equal(lbaLockOf(bs).readersMustWait, false);
    } finally {
      (bs as { write: typeof bs.write }).write = realWrite;
    }
  }));

test('REPORT SUPPORTED OPERATION CODES lists WRITE ATOMIC(16) with its usage mask; SANITIZE is not supported', () =>
  withDevice(async (f) => {
    const one = await run(f.device, [0xa3, 0x0c, 0x01, 0x9c, 0, 0, 0, 0, 0, 64, 0, 0]);
    assertGood(one);
    const d = one.data!;
    assert.equal(d[1]! & 0x07, 0b011, 'supported, per the standard');
    assert.equal(d.readUInt16BE(2), 16, 'CDB size');
    assert.deepEqual([...d.subarray(4, 20)], [0x9c, 0xf8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3f, 0x00]);
    // SANITIZE (48h): absent from RSOC and answered INVALID COMMAND OPERATION CODE — the plain "not supported"
    const san = await run(f.device, [0xa3, 0x0c, 0x03, 0x48, 0, 0x01, 0, 0, 0, 64, 0, 0]);
    assertGood(san);
    assert.equal(san.data![1]! & 0x07, 0b001, 'SANITIZE OVERWRITE not supported');
    const sanitize = Buffer.alloc(10);
    sanitize[0] = 0x48;
    sanitize[1] = 0x01; // OVERWRITE
    assertSense(await run(f.device, sanitize), 'INVALID_COMMAND_OPERATION_CODE');
  }));
