import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertGood, assertSense, makeDevice, makeNexus, run, rw10, rw16, settle } from './scsi-fixture.ts';
import type { LunSpec } from './scsi-fixture.ts';
import { parseSense } from '../src/scsi/sense.ts';

const sense6 = (pc: number, page: number, sub = 0, alloc = 255, dbd = false) => [0x1a, dbd ? 0x08 : 0, (pc << 6) | page, sub, alloc, 0];
const sense10 = (pc: number, page: number, opts: { sub?: number; alloc?: number; dbd?: boolean; llbaa?: boolean } = {}) => {
  const alloc = opts.alloc ?? 1024;
  return [0x5a, (opts.dbd ? 0x08 : 0) | (opts.llbaa ? 0x10 : 0), (pc << 6) | page, opts.sub ?? 0, 0, 0, 0, alloc >> 8, alloc & 0xff, 0];
};
const select6 = (len: number, pf = true, sp = false) => [0x15, (pf ? 0x10 : 0) | (sp ? 1 : 0), 0, 0, len, 0];
const select10 = (len: number) => [0x55, 0x10, 0, 0, 0, 0, 0, len >> 8, len & 0xff, 0];

/** Pages after the header and block descriptors of MODE SENSE(6) data. */
function pages6(d: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  for (let o = 4 + d[3]!; o < d.length; ) {
    const len = d[o + 1]! + 2;
    out.set(d[o]! & 0x3f, d.subarray(o, o + len));
    o += len;
  }
  return out;
}

async function withDevice(fn: (f: Awaited<ReturnType<typeof makeDevice>>) => Promise<void>, spec: LunSpec[] = [{ blocks: 4096 }]): Promise<void> {
  const f = await makeDevice(spec);
  try {
    await settle(f.device);
    await fn(f);
  } finally {
    await f.cleanup();
  }
}

test('MODE SENSE(6) all pages: header, short block descriptor, caching/control/IE pages', () =>
  withDevice(async (f) => {
    const r = await run(f.device, sense6(0, 0x3f));
    assertGood(r);
    const d = r.data!;
    assert.equal(d[0], d.length - 1, 'mode data length');
    assert.equal(d[2], 0x10, 'DPOFUA, not write protected');
    assert.equal(d[3], 8);
    assert.equal(d.readUInt32BE(4), 4096);
    assert.equal(d.readUIntBE(9, 3), 512);
    const p = pages6(d);
    assert.deepEqual([...p.keys()], [0x08, 0x0a, 0x1c]);
    assert.equal(p.get(0x08)![2]! & 0x04, 0x04, 'WCE reflects write-back');
    assert.equal(p.get(0x0a)![1], 0x0a);
    assert.equal(p.get(0x0a)![2]! & 0x04, 0, 'D_SENSE off');
    // single page equals the one in all pages; subpage FFh behaves like all subpages of it
    const ctl = await run(f.device, sense6(0, 0x0a));
    assert.deepEqual(pages6(ctl.data!).get(0x0a), p.get(0x0a));
    assertGood(await run(f.device, sense6(0, 0x3f, 0xff)));
    // allocation length truncates (residuals test: ≤ 4 bytes)
    assert.equal((await run(f.device, sense6(0, 0x3f, 0, 4))).data!.length, 4);
    // DBD drops the block descriptor
    assert.equal((await run(f.device, sense6(0, 0x3f, 0, 255, true))).data![3], 0);
  }));

test('MODE SENSE: changeable values, default values, saved → SAVING PARAMETERS NOT SUPPORTED', () =>
  withDevice(async (f) => {
    const ch = pages6((await run(f.device, sense6(1, 0x3f))).data!);
    assert.equal(ch.get(0x08)![2], 0x04, 'WCE changeable');
    assert.equal(ch.get(0x0a)![2], 0x04, 'D_SENSE changeable');
    assert.equal(ch.get(0x0a)![4], 0x08, 'SWP changeable');
    assert.ok(ch.get(0x1c)!.subarray(2).every((b) => b === 0));
    assertGood(await run(f.device, sense6(2, 0x08)));
    assertSense(await run(f.device, sense6(3, 0x08)), 'SAVING_PARAMETERS_NOT_SUPPORTED');
    assertSense(await run(f.device, sense6(0, 0x19)), 'INVALID_FIELD_IN_CDB', { byte: 2, bit: 5 });
    assertSense(await run(f.device, sense6(0, 0x08, 0x01)), 'INVALID_FIELD_IN_CDB', { byte: 3 });
  }));

test('MODE SENSE(10): LLBAA long descriptor, LONGLBA, 2-byte lengths', () =>
  withDevice(async (f) => {
    const r = await run(f.device, sense10(0, 0x08, { llbaa: true }));
    assertGood(r);
    const d = r.data!;
    assert.equal(d.readUInt16BE(0), d.length - 2);
    assert.equal(d[4]! & 1, 1);
    assert.equal(d.readUInt16BE(6), 16);
    assert.equal(d.readBigUInt64BE(8), 4096n);
    assert.equal(d.readUInt32BE(20), 512);
    assert.equal(d[24], 0x08);
    const short = (await run(f.device, sense10(0, 0x08))).data!;
    assert.equal(short.readUInt16BE(6), 8);
  }));

test('read-only LU: WP bit in the device-specific parameter', () =>
  withDevice(
    async (f) => {
      const d = (await run(f.device, sense6(0, 0x3f))).data!;
      assert.equal(d[2]! & 0x80, 0x80);
    },
    [{ blocks: 64, readOnly: true }],
  ));

test('MODE SELECT: D_SENSE switches sense format; other nexus gets MODE PARAMETERS CHANGED', () =>
  withDevice(async (f) => {
    const other = makeNexus(2);
    await settle(f.device, other);
    const ctl = pages6((await run(f.device, sense6(0, 0x0a))).data!).get(0x0a)!;
    const page = Buffer.from(ctl);
    page[2] |= 0x04;
    const param = Buffer.concat([Buffer.alloc(4), page]);
    assertGood(await run(f.device, select6(param.length), { dataOut: param }));
    const r = await run(f.device, rw16(0x88, 0xffffffffffffffffn, 1));
    assert.equal(parseSense(r.sense!).descriptor, true, 'descriptor sense after D_SENSE=1');
    assertSense(r, 'LBA_OUT_OF_RANGE', { descriptor: true });
    assertSense(await run(f.device, [0, 0, 0, 0, 0, 0], { nexus: other }), 'MODE_PARAMETERS_CHANGED', { descriptor: true });
    assertGood(await run(f.device, [0, 0, 0, 0, 0, 0]), 'the selecting nexus gets no UA');
  }));

test('MODE SELECT: WCE off → write-through; SWP → writes WRITE PROTECTED, reads fine', () =>
  withDevice(async (f) => {
    const cache = Buffer.from(pages6((await run(f.device, sense6(0, 0x08))).data!).get(0x08)!);
    cache[2] &= ~0x04;
    const p10 = Buffer.concat([Buffer.alloc(8), cache]);
    assertGood(await run(f.device, select10(p10.length), { dataOut: p10 }));
    assert.equal(f.device.logicalUnit(0)!.mode.writeCacheEnabled, false);
    assert.equal(pages6((await run(f.device, sense6(0, 0x08))).data!).get(0x08)![2]! & 0x04, 0);
    assertGood(await run(f.device, rw10(0x2a, 0, 1), { dataOut: Buffer.alloc(512, 1) }), 'write-through write');

    const ctl = Buffer.from(pages6((await run(f.device, sense6(0, 0x0a))).data!).get(0x0a)!);
    ctl[4] |= 0x08;
    const p6 = Buffer.concat([Buffer.alloc(4), ctl]);
    assertGood(await run(f.device, select6(p6.length), { dataOut: p6 }));
    assertGood(await run(f.device, rw10(0x28, 0, 1)));
    assertSense(await run(f.device, rw10(0x2a, 0, 1), { dataOut: Buffer.alloc(512) }), 'SOFTWARE_WRITE_PROTECTED');
    assert.equal((await run(f.device, sense6(0, 0x3f))).data![2]! & 0x80, 0x80, 'WP shows SWP');
  }));

test('MODE SELECT checks: SP, PF, unchangeable bits, unknown page, bad length, block descriptor', () =>
  withDevice(async (f) => {
    const ctl = Buffer.from(pages6((await run(f.device, sense6(0, 0x0a))).data!).get(0x0a)!);
    const p = Buffer.concat([Buffer.alloc(4), ctl]);
    assertSense(await run(f.device, select6(p.length, true, true), { dataOut: p }), 'INVALID_FIELD_IN_CDB', { byte: 1, bit: 0 });
    assertSense(await run(f.device, select6(p.length, false), { dataOut: p }), 'INVALID_FIELD_IN_CDB', { byte: 1, bit: 4 });
    const tst = Buffer.from(p);
    tst[4 + 2] |= 0x20; // TST is not changeable
    assertSense(await run(f.device, select6(tst.length), { dataOut: tst }), 'INVALID_FIELD_IN_PARAMETER_LIST', { byte: 6, bit: 5, cd: false });
    const unknown = Buffer.from(p);
    unknown[4] = 0x19;
    assertSense(await run(f.device, select6(unknown.length), { dataOut: unknown }), 'INVALID_FIELD_IN_PARAMETER_LIST', { byte: 4, cd: false });
    const badLen = Buffer.from(p);
    badLen[5] = 0x08;
    assertSense(await run(f.device, select6(badLen.length), { dataOut: badLen }), 'INVALID_FIELD_IN_PARAMETER_LIST', { byte: 5, cd: false });
    const truncated = p.subarray(0, 10);
    assertSense(await run(f.device, select6(truncated.length), { dataOut: truncated }), 'PARAMETER_LIST_LENGTH_ERROR');
    // a block descriptor restating the block size is fine, another size is not
    const bd = Buffer.alloc(8);
    bd.writeUIntBE(512, 5, 3);
    const withBd = Buffer.concat([Buffer.from([0, 0, 0, 8]), bd, ctl]);
    assertGood(await run(f.device, select6(withBd.length), { dataOut: withBd }));
    withBd.writeUIntBE(4096, 4 + 5, 3);
    assertSense(await run(f.device, select6(withBd.length), { dataOut: withBd }), 'INVALID_FIELD_IN_PARAMETER_LIST', { byte: 9, cd: false });
    assertGood(await run(f.device, select6(0)), 'empty parameter list');
  }));

test('LU reset restores default mode parameters', () =>
  withDevice(async (f) => {
    const lu = f.device.logicalUnit(0)!;
    lu.mode.descriptorSense = true;
    lu.mode.softwareWriteProtect = true;
    f.device.logicalUnitReset(0, makeNexus(9));
    assert.deepEqual(lu.mode, { writeCacheEnabled: true, descriptorSense: false, softwareWriteProtect: false });
  }));
