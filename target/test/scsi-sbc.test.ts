import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { assertGood, assertSense, makeDevice, pattern, run, rw10, rw12, rw16, rw6, settle } from './scsi-fixture.ts';
import type { LunSpec } from './scsi-fixture.ts';

const BLOCKS = 2048;
const BS = 512;

async function withDevice(fn: (f: Awaited<ReturnType<typeof makeDevice>>) => Promise<void>, spec: LunSpec[] = [{ blocks: BLOCKS }]): Promise<void> {
  const f = await makeDevice(spec);
  try {
    await settle(f.device);
    await fn(f);
  } finally {
    await f.cleanup();
  }
}

test('WRITE then READ round-trips for every CDB size; data lands at LBA × block size', () =>
  withDevice(async (f) => {
    const cases: [string, (lba: number, n: number) => Buffer, (lba: number, n: number) => Buffer][] = [
      ['6', (l, n) => rw6(0x0a, l, n), (l, n) => rw6(0x08, l, n)],
      ['10', (l, n) => rw10(0x2a, l, n), (l, n) => rw10(0x28, l, n)],
      ['12', (l, n) => rw12(0xaa, l, n), (l, n) => rw12(0xa8, l, n)],
      ['16', (l, n) => rw16(0x8a, BigInt(l), n), (l, n) => rw16(0x88, BigInt(l), n)],
    ];
    for (const [i, [name, w, r]] of cases.entries()) {
      const lba = 10 + i * 20;
      const data = pattern(3 * BS, i);
      const wr = await run(f.device, w(lba, 3), { dataOut: data });
      assertGood(wr, `WRITE(${name})`);
      assert.equal(wr.dataOutLength, 3 * BS);
      const rd = await run(f.device, r(lba, 3));
      assertGood(rd, `READ(${name})`);
      assert.deepEqual(rd.data, data);
    }
    const file = await readFile(f.paths[0]!);
    assert.deepEqual(file.subarray(10 * BS, 13 * BS), pattern(3 * BS, 0));
  }));

test('READ(6) transfer length 0 means 256 blocks; READ(10) 0 blocks is GOOD with no data', () =>
  withDevice(async (f) => {
    const r6 = await run(f.device, rw6(0x08, 0, 0));
    assertGood(r6);
    assert.equal(r6.data!.length, 256 * BS);
    const r10 = await run(f.device, rw10(0x28, 0, 0));
    assertGood(r10);
    assert.equal(r10.data!.length, 0);
    assertGood(await run(f.device, rw10(0x2a, 0, 0)), 'WRITE(10) of 0 blocks');
  }));

test('beyond end of medium → LBA OUT OF RANGE, before any data-out is fetched', () =>
  withDevice(async (f) => {
    const asked: number[] = [];
    assertGood(await run(f.device, rw10(0x28, BLOCKS - 1, 1)), 'last block');
    assertSense(await run(f.device, rw10(0x28, BLOCKS - 1, 2)), 'LBA_OUT_OF_RANGE');
    assertSense(await run(f.device, rw10(0x28, BLOCKS + 1, 0)), 'LBA_OUT_OF_RANGE');
    assertSense(await run(f.device, rw10(0x28, 0xffffffff, 1)), 'LBA_OUT_OF_RANGE');
    assertSense(await run(f.device, rw16(0x88, 0xffffffffffffffffn, 1)), 'LBA_OUT_OF_RANGE'); // no 64-bit wrap
    assertSense(await run(f.device, rw16(0x88, 0x8000000000000000n, 0)), 'LBA_OUT_OF_RANGE');
    assertSense(await run(f.device, rw6(0x08, 0x1fffff, 1)), 'LBA_OUT_OF_RANGE');
    assertSense(await run(f.device, rw10(0x2a, BLOCKS, 1), { dataOut: Buffer.alloc(BS), asked }), 'LBA_OUT_OF_RANGE');
    assertSense(await run(f.device, rw10(0x2f, BLOCKS, 1, 0x02), { dataOut: Buffer.alloc(BS), asked }), 'LBA_OUT_OF_RANGE');
    assert.deepEqual(asked, [], 'no data-out solicited for a rejected command');
  }));

test('RDPROTECT / WRPROTECT / VRPROTECT ≠ 0 → INVALID FIELD IN CDB at byte 1 bit 7', () =>
  withDevice(async (f) => {
    for (let p = 1; p < 8; p++) {
      assertSense(await run(f.device, rw10(0x28, 0, 1, p << 5)), 'INVALID_FIELD_IN_CDB', { byte: 1, bit: 7 });
      assertSense(await run(f.device, rw16(0x8a, 0n, 1, p << 5), { dataOut: Buffer.alloc(BS) }), 'INVALID_FIELD_IN_CDB', { byte: 1, bit: 7 });
      assertSense(await run(f.device, rw12(0xaf, 0, 1, (p << 5) | 0x02), { dataOut: Buffer.alloc(BS) }), 'INVALID_FIELD_IN_CDB', { byte: 1, bit: 7 });
    }
  }));

test('DPO / FUA / FUA_NV accepted on READ and WRITE', () =>
  withDevice(async (f) => {
    for (const b1 of [0x10, 0x08, 0x0a, 0x02, 0x1a]) {
      assertGood(await run(f.device, rw10(0x2a, 0, 1, b1), { dataOut: Buffer.alloc(BS, 0xa6) }), `WRITE(10) flags ${b1}`);
      assertGood(await run(f.device, rw10(0x28, 0, 1, b1 | (b1 & 0x04))), `READ(10) flags ${b1}`);
    }
  }));

test('transfer above the maximum transfer length → INVALID FIELD IN CDB at the length field', () =>
  withDevice(
    async (f) => {
      assertSense(await run(f.device, rw10(0x28, 0, 0xffff)), 'INVALID_FIELD_IN_CDB', { byte: 7 });
    },
    [{ blocks: 0x20000 }],
  ));

test('short data-out → INVALID FIELD IN COMMAND INFORMATION UNIT and nothing written', () =>
  withDevice(async (f) => {
    const r = await run(f.device, rw10(0x2a, 4, 2), { dataOut: Buffer.alloc(BS + 200, 0x62) });
    assertSense(r, 'INVALID_FIELD_IN_COMMAND_INFORMATION_UNIT');
    assert.equal(r.dataOutLength, 2 * BS, 'data-out length reported for the residual');
    const rd = await run(f.device, rw10(0x28, 4, 2));
    assert.ok(rd.data!.every((b) => b === 0));
  }));

test('read-only LU: every write → DATA PROTECT / WRITE PROTECTED; reads work', () =>
  withDevice(
    async (f) => {
      const d = Buffer.alloc(BS);
      assertGood(await run(f.device, rw10(0x28, 0, 1)));
      assertSense(await run(f.device, rw6(0x0a, 0, 1), { dataOut: d }), 'WRITE_PROTECTED');
      assertSense(await run(f.device, rw10(0x2a, 0, 1), { dataOut: d }), 'WRITE_PROTECTED');
      assertSense(await run(f.device, rw12(0xaa, 0, 1), { dataOut: d }), 'WRITE_PROTECTED');
      assertSense(await run(f.device, rw16(0x8a, 0n, 1), { dataOut: d }), 'WRITE_PROTECTED');
      assertSense(await run(f.device, rw10(0x2e, 0, 1, 0x02), { dataOut: d }), 'WRITE_PROTECTED');
      assertSense(await run(f.device, rw16(0x8e, 0n, 1, 0x02), { dataOut: d }), 'WRITE_PROTECTED');
    },
    [{ blocks: BLOCKS, readOnly: true }],
  ));

test('VERIFY: BYTCHK 0 range only, 1 compares (MISCOMPARE + offset), 3 compares one block with each', () =>
  withDevice(async (f) => {
    const data = pattern(8 * BS, 5);
    assertGood(await run(f.device, rw10(0x2a, 100, 8), { dataOut: data }));
    assertGood(await run(f.device, rw10(0x2f, 100, 8, 0x02), { dataOut: data }), 'VERIFY(10) equal');
    assertGood(await run(f.device, rw12(0xaf, 100, 8, 0x02), { dataOut: data }), 'VERIFY(12) equal');
    assertGood(await run(f.device, rw16(0x8f, 100n, 8, 0x02), { dataOut: data }), 'VERIFY(16) equal');
    const bad = Buffer.from(data);
    bad[3 * BS + 17] ^= 0x58;
    assertSense(await run(f.device, rw10(0x2f, 100, 8, 0x02), { dataOut: bad }), 'MISCOMPARE_DURING_VERIFY', { information: BigInt(3 * BS + 17) });
    assertSense(await run(f.device, rw16(0x8f, 100n, 8, 0x02), { dataOut: bad }), 'MISCOMPARE_DURING_VERIFY', { information: BigInt(3 * BS + 17) });
    assertGood(await run(f.device, rw10(0x2f, 100, 8, 0x00), { dataOut: bad }), 'BYTCHK 0 does not compare');
    const asked: number[] = [];
    assertGood(await run(f.device, rw10(0x2f, 1000, 4, 0x06), { dataOut: Buffer.alloc(BS), asked }), 'BYTCHK 3: zeros everywhere');
    assert.deepEqual(asked, [BS], 'BYTCHK 3 transfers one block');
    const one = Buffer.alloc(BS);
    one[9] = 1;
    assertSense(await run(f.device, rw10(0x2f, 1000, 4, 0x06), { dataOut: one }), 'MISCOMPARE_DURING_VERIFY', { information: 9n });
    assertSense(await run(f.device, rw10(0x2f, 0, 1, 0x04)), 'INVALID_FIELD_IN_CDB', { byte: 1, bit: 2 });
    assertGood(await run(f.device, rw10(0x2f, 0, 0, 0x02)), 'VERIFY of 0 blocks');
  }));

test('WRITE AND VERIFY writes and verifies; the data is on the file afterwards', () =>
  withDevice(async (f) => {
    const data = pattern(2 * BS, 9);
    assertGood(await run(f.device, rw10(0x2e, 50, 2, 0x02), { dataOut: data }));
    assertGood(await run(f.device, rw12(0xae, 60, 2, 0x00), { dataOut: data }));
    assertGood(await run(f.device, rw16(0x8e, 70n, 2, 0x12), { dataOut: data }));
    const file = await readFile(f.paths[0]!);
    for (const lba of [50, 60, 70]) assert.deepEqual(file.subarray(lba * BS, (lba + 2) * BS), data);
    assertSense(await run(f.device, rw10(0x2e, BLOCKS - 1, 2, 0x02), { dataOut: data }), 'LBA_OUT_OF_RANGE');
  }));

test('READ CAPACITY(10/16): last LBA and block size; PMI rule; allocation length truncation', () =>
  withDevice(
    async (f) => {
      const rc10 = await run(f.device, [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
      assertGood(rc10);
      assert.deepEqual([rc10.data!.readUInt32BE(0), rc10.data!.readUInt32BE(4)], [999, 4096]);
      assertSense(await run(f.device, [0x25, 0, 0, 0, 0, 1, 0, 0, 0, 0]), 'INVALID_FIELD_IN_CDB', { byte: 2 });
      assertGood(await run(f.device, [0x25, 0, 0, 0, 0, 1, 0, 0, 1, 0]), 'PMI=1 with an LBA');
      const cdb16 = (alloc: number) => [0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, alloc, 0, 0];
      const rc16 = await run(f.device, cdb16(32));
      assertGood(rc16);
      assert.equal(rc16.data!.length, 32);
      assert.equal(rc16.data!.readBigUInt64BE(0), 999n);
      assert.equal(rc16.data!.readUInt32BE(8), 4096);
      assert.equal(rc16.data![12], 0, 'no protection');
      // a sparse file that can punch holes is thin: LBPME 1, and holes read as zeros: LBPRZ 1 (SBC-4 §5.20.2)
      assert.equal(rc16.data![14]! & 0xc0, 0xc0, 'LBPME 1, LBPRZ 1');
      for (let a = 0; a < 16; a++) {
        const r = await run(f.device, cdb16(a));
        assertGood(r);
        assert.equal(r.data!.length, a);
      }
    },
    [{ blocks: 1000, blockSize: 4096 }],
  ));

test('READ CAPACITY(10) says FFFFFFFFh above 2^32 blocks', () =>
  withDevice(
    async (f) => {
      const r = await run(f.device, [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
      assert.equal(r.data!.readUInt32BE(0), 0xffffffff);
      const r16 = await run(f.device, [0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0]);
      assert.equal(r16.data!.readBigUInt64BE(0), 0x100000004n - 1n);
    },
    [{ blocks: 0x100000004 }], // a 2 TiB sparse file
  ));

test('SYNCHRONIZE CACHE(10/16) with and without IMMED; range checked', () =>
  withDevice(async (f) => {
    assertGood(await run(f.device, [0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
    assertGood(await run(f.device, [0x35, 0x02, 0, 0, 0, 1, 0, 0, 1, 0]));
    assertGood(await run(f.device, rw16(0x91, 0n, 1, 0x02)));
    assertSense(await run(f.device, rw10(0x35, BLOCKS + 1, 0)), 'LBA_OUT_OF_RANGE');
    assertSense(await run(f.device, rw16(0x91, BigInt(BLOCKS - 1), 2)), 'LBA_OUT_OF_RANGE');
  }));

test('PRE-FETCH(10/16): GOOD inside the medium (with IMMED / group), LBA OUT OF RANGE beyond', () =>
  withDevice(async (f) => {
    assertGood(await run(f.device, rw10(0x34, 0, 1)));
    assertGood(await run(f.device, rw10(0x34, BLOCKS - 256, 256)));
    const grp = rw10(0x34, 0, 1, 0x02);
    grp[6] = 3;
    assertGood(await run(f.device, grp));
    assertGood(await run(f.device, rw16(0x90, 0n, 0)));
    assertSense(await run(f.device, rw10(0x34, BLOCKS - 1, 2)), 'LBA_OUT_OF_RANGE');
    assertSense(await run(f.device, rw16(0x90, 0xffffffffffffffffn, 1)), 'LBA_OUT_OF_RANGE');
    assertSense(await run(f.device, rw10(0x34, BLOCKS + 1, 0)), 'LBA_OUT_OF_RANGE');
  }));

test('START STOP UNIT: GOOD for start/stop/IMMED/valid power conditions; reserved conditions rejected', () =>
  withDevice(async (f) => {
    const ssu = (immed: number, pc: number, noFlush: number, loej: number, start: number) =>
      [0x1b, immed, 0, 0, (pc << 4) | (noFlush << 2) | (loej << 1) | start, 0];
    for (const [i, l, s] of [[0, 0, 0], [0, 0, 1], [1, 0, 0], [1, 0, 1], [0, 1, 1], [1, 1, 1]]) {
      assertGood(await run(f.device, ssu(i!, 0, 0, l!, s!)), `immed ${i} loej ${l} start ${s}`);
      assertGood(await run(f.device, [0, 0, 0, 0, 0, 0]), 'still ready');
    }
    assertGood(await run(f.device, ssu(0, 0, 1, 0, 0)), 'NO_FLUSH');
    for (const pc of [1, 2, 3, 7, 0xa, 0xb]) assertGood(await run(f.device, ssu(1, pc, 0, 0, 0)), `power condition ${pc}`);
    assertSense(await run(f.device, ssu(0, 5, 0, 0, 0)), 'INVALID_FIELD_IN_CDB', { byte: 4, bit: 7 });
  }));

test('PREVENT ALLOW MEDIUM REMOVAL: prevent blocks an eject; allow or nexus loss releases it', () =>
  withDevice(async (f) => {
    const eject = [0x1b, 0, 0, 0, 0x02, 0];
    assertGood(await run(f.device, [0x1e, 0, 0, 0, 1, 0]));
    assertSense(await run(f.device, eject), 'MEDIUM_REMOVAL_PREVENTED');
    assertGood(await run(f.device, [0x1e, 0, 0, 0, 0, 0]));
    assertGood(await run(f.device, eject));
    assertSense(await run(f.device, [0x1e, 0, 0, 0, 2, 0]), 'INVALID_FIELD_IN_CDB', { byte: 4, bit: 1 });
  }));

test('READ DEFECT DATA(10/12): empty lists with the right header', () =>
  withDevice(async (f) => {
    const r10 = await run(f.device, [0x37, 0, 0x18 | 0x05, 0, 0, 0, 0, 0, 32, 0]);
    assertGood(r10);
    assert.deepEqual([...r10.data!], [0, 0x1d, 0, 0]);
    const r12 = await run(f.device, [0xb7, 0x08 | 0x04, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0]);
    assertGood(r12);
    assert.deepEqual([...r12.data!], [0, 0x0c, 0, 0, 0, 0, 0, 0]);
  }));

test('4096-byte blocks: offsets and lengths scale', () =>
  withDevice(
    async (f) => {
      const data = pattern(4096 * 2, 3);
      assertGood(await run(f.device, rw10(0x2a, 7, 2), { dataOut: data }));
      const file = await readFile(f.paths[0]!);
      assert.deepEqual(file.subarray(7 * 4096, 9 * 4096), data);
    },
    [{ blocks: 64, blockSize: 4096 }],
  ));

test('an aborted task answers TASK ABORTED without touching the medium', () =>
  withDevice(async (f) => {
    const ac = new AbortController();
    ac.abort();
    const r = await run(f.device, rw10(0x2a, 0, 1), { dataOut: Buffer.alloc(BS, 1), signal: ac.signal });
    assert.equal(r.status, 0x40);
    const rd = await run(f.device, rw10(0x28, 0, 1));
    assert.ok(rd.data!.every((b) => b === 0));
  }));

/** An in-memory backstore that counts flushes and can be told to fail. */
class CountingBackstore {
  readonly path = 'mem';
  readonly readOnly = false;
  flushes = 0;
  failReads = false;
  constructor(
    private readonly buf: Buffer,
    readonly writeThrough = false,
  ) {}
  size(): number {
    return this.buf.length;
  }
  async refreshSize(): Promise<number> {
    return this.buf.length;
  }
  async read(offset: number, length: number): Promise<Buffer> {
    if (this.failReads) throw new Error('EIO from the disk');
    return Buffer.from(this.buf.subarray(offset, offset + length));
  }
  async write(offset: number, data: Buffer): Promise<void> {
    data.copy(this.buf, offset);
  }
  async flush(): Promise<void> {
    this.flushes++;
  }
  async close(): Promise<void> {}
}

async function memDevice(bs: CountingBackstore, writeCache: 'back' | 'through') {
  const { ScsiTargetDevice } = await import('../src/scsi/device.ts');
  const luns = new Map([[0, { id: 'abc', serial: 's', readOnly: false, blockSize: 512 as const, writeCache, backstore: bs }]]);
  const logs: string[] = [];
  const device = new ScsiTargetDevice({ targetName: 'iqn.x', luns, log: (m) => logs.push(m) });
  await settle(device);
  return { device, logs };
}

test('durability: FUA flushes, write-back without FUA does not, WCE off flushes, O_DSYNC never needs to', async () => {
  const back = new CountingBackstore(Buffer.alloc(64 * 512));
  const { device } = await memDevice(back, 'back');
  const d = Buffer.alloc(512, 1);
  assertGood(await run(device, rw10(0x2a, 0, 1), { dataOut: d }));
  assert.equal(back.flushes, 0);
  assertGood(await run(device, rw10(0x2a, 0, 1, 0x08), { dataOut: d }));
  assert.equal(back.flushes, 1, 'FUA');
  assertGood(await run(device, rw6(0x0a, 0, 1), { dataOut: d }));
  assert.equal(back.flushes, 1, 'WRITE(6) has no FUA');

  const through = new CountingBackstore(Buffer.alloc(64 * 512));
  const t = await memDevice(through, 'through');
  assertGood(await run(t.device, rw10(0x2a, 0, 1), { dataOut: d }));
  assert.equal(through.flushes, 1, 'WCE=0 → flush each write');

  const dsync = new CountingBackstore(Buffer.alloc(64 * 512), true);
  const s = await memDevice(dsync, 'through');
  assertGood(await run(s.device, rw10(0x2a, 0, 1, 0x08), { dataOut: d }));
  assert.equal(dsync.flushes, 0);
  assertGood(await run(s.device, [0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
  assert.equal(dsync.flushes, 1, 'SYNCHRONIZE CACHE always flushes');
});

test('a failing backstore read → MEDIUM ERROR / UNRECOVERED READ ERROR, logged', async () => {
  const bs = new CountingBackstore(Buffer.alloc(64 * 512));
  const { device, logs } = await memDevice(bs, 'back');
  bs.failReads = true;
  assertSense(await run(device, rw10(0x28, 0, 1)), 'UNRECOVERED_READ_ERROR');
  assert.equal(logs.length, 1);
  assert.match(logs[0]!, /READ\(10\).*EIO from the disk/);
});
