// Logical Block Provisioning mode page (SBC-4 §6.5.8, page 1Ch subpage 02h): the soft threshold descriptor reflects
// --soft-threshold, in threshold sets of 2^THRESHOLD EXPONENT blocks (VPD B2h byte 4); MODE SENSE page/subpage
// selection (SPC-4 §6.11 Table 97) with all pages; MODE SELECT of the page (nothing changeable).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertGood, assertSense, makeDevice, run, settle } from './scsi-fixture.ts';
import type { LunSpec } from './scsi-fixture.ts';

const sense10 = (page: number, sub: number, pc = 0, alloc = 1024) => [0x5a, 0x08 /* DBD */, (pc << 6) | page, sub, 0, 0, 0, alloc >> 8, alloc & 0xff, 0];
const sense6 = (page: number, sub: number) => [0x1a, 0x08, page, sub, 255, 0];

/** (page, subpage) of every page in MODE SENSE(10) data without block descriptors. */
function pageList(d: Buffer, headerLength = 8): Array<[number, number, Buffer]> {
  const out: Array<[number, number, Buffer]> = [];
  for (let o = headerLength; o < d.length; ) {
    const spf = (d[o]! & 0x40) !== 0;
    const len = spf ? d.readUInt16BE(o + 2) + 4 : d[o + 1]! + 2;
    out.push([d[o]! & 0x3f, spf ? d[o + 1]! : 0, d.subarray(o, o + len)]);
    o += len;
  }
  return out;
}

async function withDevice(spec: LunSpec, fn: (f: Awaited<ReturnType<typeof makeDevice>>) => Promise<void>): Promise<void> {
  const f = await makeDevice([spec]);
  try {
    await settle(f.device);
    await fn(f);
  } finally {
    await f.cleanup();
  }
}

test('page 1Ch/02h: soft threshold descriptor = --soft-threshold percent of the LUN in threshold sets of VPD B2h', () =>
  // 64 MiB LUN, 512-byte blocks, 25 % → 16 MiB of free space; threshold sets of 2^11 blocks = 1 MiB → count 16
  withDevice({ blocks: 131072, softThresholdPercent: 25 }, async (f) => {
    const vpd = await run(f.device, [0x12, 0x01, 0xb2, 0x00, 0xff, 0x00]);
    assertGood(vpd);
    const exponent = vpd.data![4]!;
    assert.equal(exponent, 11, 'THRESHOLD EXPONENT: 1 MiB threshold sets at 512-byte blocks');
    const r = await run(f.device, sense10(0x1c, 0x02));
    assertGood(r);
    const pages = pageList(r.data!);
    assert.equal(pages.length, 1);
    const [code, sub, p] = pages[0]!;
    assert.deepEqual([code, sub], [0x1c, 0x02]);
    assert.equal(p[0]! & 0xc0, 0x40, 'PS 0, SPF 1');
    assert.equal(p.readUInt16BE(2), p.length - 4, 'PAGE LENGTH');
    assert.equal(p[4]! & 0x01, 0, 'SITUA 0: every I_T nexus gets the UA');
    const desc = p.subarray(16, 24);
    assert.equal(desc[0]! & 0x80, 0x80, 'ENABLED');
    assert.equal((desc[0]! >> 3) & 0x07, 0, 'THRESHOLD TYPE soft');
    assert.equal(desc[0]! & 0x07, 0, 'THRESHOLD ARMING: decreasing');
    assert.equal(desc[1], 0x01, 'THRESHOLD RESOURCE: available LBA mapping resources');
    const count = desc.readUInt32BE(4);
    assert.equal(count, 16);
    assert.equal(count * 2 ** exponent * 512, 0.25 * 131072 * 512, 'count × set size = the configured level in bytes');
    // changeable: nothing (the threshold is the appliance's setting); default = current
    const ch = pageList((await run(f.device, sense10(0x1c, 0x02, 1))).data!)[0]![2];
    assert.deepEqual([...ch.subarray(4)], new Array(ch.length - 4).fill(0));
    assert.deepEqual(pageList((await run(f.device, sense10(0x1c, 0x02, 2))).data!)[0]![2], p);
  }));

test('page 1Ch/02h without --soft-threshold: descriptor present, not enabled', () =>
  withDevice({ blocks: 4096 }, async (f) => {
    const p = pageList((await run(f.device, sense10(0x1c, 0x02))).data!)[0]![2];
    assert.equal(p[16]! & 0x80, 0, 'ENABLED clear');
    assert.equal(p.readUInt32BE(20), 0);
  }));

test('MODE SENSE page/subpage selection: 3Fh/00h leaves subpages out, 3Fh/FFh and 1Ch/FFh include 1Ch/02h', () =>
  withDevice({ blocks: 4096, softThresholdPercent: 10 }, async (f) => {
    const ids = (d: Buffer, h = 8) => pageList(d, h).map(([c, s]) => `${c.toString(16)}/${s}`);
    assert.deepEqual(ids((await run(f.device, sense10(0x3f, 0x00))).data!), ['8/0', 'a/0', '1c/0']);
    assert.deepEqual(ids((await run(f.device, sense10(0x3f, 0xff))).data!), ['8/0', 'a/0', '1c/0', '1c/2']);
    assert.deepEqual(ids((await run(f.device, sense10(0x1c, 0xff))).data!), ['1c/0', '1c/2']);
    assert.deepEqual(ids((await run(f.device, sense10(0x1c, 0x00))).data!), ['1c/0']);
    // MODE SENSE(6) sees it too, with its 4-byte header
    assert.deepEqual(ids((await run(f.device, sense6(0x3f, 0xff))).data!, 4), ['8/0', 'a/0', '1c/0', '1c/2']);
    // MODE DATA LENGTH agrees with what is returned
    const all = (await run(f.device, sense10(0x3f, 0xff))).data!;
    assert.equal(all.readUInt16BE(0), all.length - 2);
    // a subpage the page does not have, and a subpage of a page without subpages → INVALID FIELD IN CDB (byte 3)
    assertSense(await run(f.device, sense10(0x1c, 0x01)), 'INVALID_FIELD_IN_CDB', { byte: 3 });
    assertSense(await run(f.device, sense10(0x0a, 0x02)), 'INVALID_FIELD_IN_CDB', { byte: 3 });
    assertSense(await run(f.device, sense10(0x3f, 0x02)), 'INVALID_FIELD_IN_CDB', { byte: 3 });
    assertSense(await run(f.device, sense10(0x19, 0x00)), 'INVALID_FIELD_IN_CDB', { byte: 2 });
  }));

test('MODE SELECT of page 1Ch/02h: its current value is accepted, a changed threshold is refused', () =>
  withDevice({ blocks: 4096, softThresholdPercent: 10 }, async (f) => {
    const p = Buffer.from(pageList((await run(f.device, sense10(0x1c, 0x02))).data!)[0]![2]);
    const select = (page: Buffer) => {
      const list = Buffer.concat([Buffer.alloc(8), page]);
      return run(f.device, [0x55, 0x10, 0, 0, 0, 0, 0, list.length >> 8, list.length & 0xff, 0], { dataOut: list });
    };
    assertGood(await select(p), 'restating the current page');
    const changed = Buffer.from(p);
    changed.writeUInt32BE(changed.readUInt32BE(20) + 1, 20);
    assertSense(await select(changed), 'INVALID_FIELD_IN_PARAMETER_LIST', { byte: 8 + 23, cd: false });
    const before = pageList((await run(f.device, sense10(0x1c, 0x02))).data!)[0]![2];
    assert.deepEqual(before, p, 'nothing changed');
    const badSub = Buffer.from(p);
    badSub[1] = 0x05;
    assertSense(await select(badSub), 'INVALID_FIELD_IN_PARAMETER_LIST');
  }));
