// ALUA (SPC-4 §5.16) at the SCSI layer: REPORT TARGET PORT GROUPS in both parameter data formats, TPGS in the
// standard INQUIRY data, VPD 0x83's target port group / relative target port designators agreeing with RTPG,
// SET TARGET PORT GROUPS refused, RSOC listing RTPG, and RTPG allowed under another nexus' reservation.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AsymmetricAccessState, portGroupsFromTags, reportTargetPortGroupsData, SUPPORTED_STATES } from '../src/scsi/alua.ts';
import type { TargetPortGroup } from '../src/scsi/alua.ts';
import { RESERVATION_ACCESS } from '../src/scsi/reservations.ts';
import type { Nexus } from '../src/scsi/types.ts';
import { assertGood, assertSense, makeDevice, makeNexus, run, settle } from './scsi-fixture.ts';
import type { Fixture } from './scsi-fixture.ts';

function rtpgCdb(allocLength: number, format = 0): Buffer {
  const c = Buffer.alloc(12);
  c[0] = 0xa3;
  c[1] = (format << 5) | 0x0a;
  c.writeUInt32BE(allocLength, 6);
  return c;
}

interface ParsedGroup {
  pref: boolean;
  state: number;
  supported: number;
  id: number;
  status: number;
  ports: number[];
}

/** An independent decoder of SPC-4 §6.36.2 Tables 173/174 (header, then 8-byte group + 4-byte port descriptors). */
function parseRtpg(data: Buffer, extended: boolean): { returnLength: number; formatType?: number; groups: ParsedGroup[] } {
  const returnLength = data.readUInt32BE(0);
  let off = extended ? 8 : 4;
  assert.equal(data.length, off + returnLength, 'RETURN DATA LENGTH covers exactly the descriptors');
  const groups: ParsedGroup[] = [];
  while (off < data.length) {
    const count = data[off + 7]!;
    const ports: number[] = [];
    for (let i = 0; i < count; i++) ports.push(data.readUInt16BE(off + 8 + 4 * i + 2));
    groups.push({
      pref: (data[off]! & 0x80) !== 0,
      state: data[off]! & 0x0f,
      supported: data[off + 1]!,
      id: data.readUInt16BE(off + 2),
      status: data[off + 5]!,
      ports,
    });
    off += 8 + 4 * count;
  }
  return { returnLength, ...(extended ? { formatType: (data[4]! >> 4) & 0x7 } : {}), groups };
}

/** VPD 0x83 designators with association TARGET PORT (01b), by designator type (SPC-4 §7.8.6). */
function vpd83(data: Buffer): { naa: Buffer | undefined; tpg: number | undefined; relPort: number | undefined } {
  let off = 4;
  const out: { naa: Buffer | undefined; tpg: number | undefined; relPort: number | undefined } = { naa: undefined, tpg: undefined, relPort: undefined };
  while (off + 4 <= data.length) {
    const assoc = (data[off + 1]! >> 4) & 0x3;
    const type = data[off + 1]! & 0x0f;
    const len = data[off + 3]!;
    const value = data.subarray(off + 4, off + 4 + len);
    if (assoc === 0 && type === 3) out.naa = Buffer.from(value);
    if (assoc === 1 && type === 5) out.tpg = value.readUInt16BE(2);
    if (assoc === 1 && type === 4) out.relPort = value.readUInt16BE(2);
    off += 4 + len;
  }
  return out;
}

function nexusOn(tpgt: number, n = 1): Nexus {
  const base = makeNexus(n);
  return { ...base, id: base.id.replace(/,t,0x1$/, `,t,0x${tpgt.toString(16)}`), targetPortalGroupTag: tpgt, relativeTargetPortId: tpgt };
}

describe('REPORT TARGET PORT GROUPS data (SPC-4 §6.36.2)', () => {
  const groups: TargetPortGroup[] = [
    { id: 1, state: AsymmetricAccessState.ACTIVE_OPTIMIZED, relativePortIds: [1] },
    { id: 7, state: AsymmetricAccessState.ACTIVE_NON_OPTIMIZED, relativePortIds: [7, 9] },
  ];

  test('length-only header: RETURN DATA LENGTH, one descriptor per group with its ports', () => {
    const data = reportTargetPortGroupsData(groups, false);
    assert.equal(data.length, 4 + (8 + 4) + (8 + 8));
    const parsed = parseRtpg(data, false);
    assert.equal(parsed.returnLength, 28);
    assert.deepEqual(parsed.groups, [
      { pref: false, state: 0x0, supported: 0x0f, id: 1, status: 0, ports: [1] },
      { pref: false, state: 0x1, supported: 0x0f, id: 7, status: 0, ports: [7, 9] },
    ]);
  });

  test('extended header: FORMAT TYPE 001b, implicit transition time 0, same descriptors', () => {
    const data = reportTargetPortGroupsData(groups, true);
    const parsed = parseRtpg(data, true);
    assert.equal(parsed.formatType, 0b001);
    assert.equal(data[5], 0, 'IMPLICIT TRANSITION TIME');
    assert.deepEqual(parsed.groups, parseRtpg(reportTargetPortGroupsData(groups, false), false).groups);
  });

  test('supported states: both active states, standby and unavailable (no OFFLINE, LBD or transitions)', () => {
    assert.equal(SUPPORTED_STATES, 0x0f);
  });

  test('portGroupsFromTags: one group per distinct tag, ascending, active/optimized unless configured', () => {
    assert.deepEqual(portGroupsFromTags([2, 1, 2], { 2: 'active/non-optimized' }), [
      { id: 1, state: AsymmetricAccessState.ACTIVE_OPTIMIZED, relativePortIds: [1] },
      { id: 2, state: AsymmetricAccessState.ACTIVE_NON_OPTIMIZED, relativePortIds: [2] },
    ]);
  });
});

describe('ALUA through the device', () => {
  let fx: Fixture;
  const a = nexusOn(1, 1);
  const b = nexusOn(2, 2);

  before(async () => {
    fx = await makeDevice([{}]);
    fx.device.setTargetPortGroups(portGroupsFromTags([1, 2]));
    await settle(fx.device, a);
    await settle(fx.device, b);
  });
  after(async () => fx.cleanup());

  test('standard INQUIRY claims implicit ALUA only: TPGS 01b (SPC-4 §6.6.2)', async () => {
    const r = await run(fx.device, [0x12, 0, 0, 0, 96, 0]);
    assertGood(r);
    assert.equal((r.data![5]! >> 4) & 0x3, 0b01);
  });

  test('RTPG reports both groups, each active/optimized with its relative target port', async () => {
    const r = await run(fx.device, rtpgCdb(1024), { nexus: a });
    assertGood(r);
    const parsed = parseRtpg(r.data!, false);
    assert.deepEqual(
      parsed.groups.map((g) => [g.id, g.state, g.ports]),
      [
        [1, AsymmetricAccessState.ACTIVE_OPTIMIZED, [1]],
        [2, AsymmetricAccessState.ACTIVE_OPTIMIZED, [2]],
      ],
    );
  });

  test('RTPG with the extended header format (PARAMETER DATA FORMAT 001b)', async () => {
    const r = await run(fx.device, rtpgCdb(1024, 1), { nexus: b });
    assertGood(r);
    assert.equal(parseRtpg(r.data!, true).groups.length, 2);
  });

  test('RTPG truncates to the allocation length and keeps the full RETURN DATA LENGTH', async () => {
    const r = await run(fx.device, rtpgCdb(4), { nexus: a });
    assertGood(r);
    assert.equal(r.data!.length, 4);
    assert.equal(r.data!.readUInt32BE(0), 24);
    const none = await run(fx.device, rtpgCdb(0), { nexus: a });
    assertGood(none);
    assert.equal(none.data?.length ?? 0, 0);
  });

  test('a reserved PARAMETER DATA FORMAT is an invalid field in byte 1', async () => {
    assertSense(await run(fx.device, rtpgCdb(1024, 0b010), { nexus: a }), 'INVALID_FIELD_IN_CDB', { byte: 1 });
  });

  test('reserved bytes 2..5 of the RTPG CDB are refused', async () => {
    const c = rtpgCdb(1024);
    c[3] = 1;
    assertSense(await run(fx.device, c, { nexus: a }), 'INVALID_FIELD_IN_CDB', { byte: 3 });
  });

  test('VPD 0x83 on each path: same NAA, TPG and relative port of that path, both present in RTPG', async () => {
    const seen = [];
    for (const n of [a, b]) {
      const inq = await run(fx.device, [0x12, 0x01, 0x83, 0x01, 0x00, 0], { nexus: n });
      assertGood(inq);
      const d = vpd83(inq.data!);
      const rtpg = parseRtpg((await run(fx.device, rtpgCdb(1024), { nexus: n })).data!, false);
      const group = rtpg.groups.find((g) => g.id === d.tpg);
      assert.ok(group, `TPG ${d.tpg} of VPD 0x83 is listed by RTPG`);
      assert.ok(group.ports.includes(d.relPort!), 'the relative port is in its group');
      seen.push(d);
    }
    assert.deepEqual(seen[0]!.naa, seen[1]!.naa);
    assert.ok(seen[0]!.naa && seen[0]!.naa.length === 16);
    assert.deepEqual([seen[0]!.relPort, seen[1]!.relPort], [1, 2]);
    assert.deepEqual([seen[0]!.tpg, seen[1]!.tpg], [1, 2]);
  });

  test('SET TARGET PORT GROUPS (MAINTENANCE OUT A4h/0Ah) is an invalid command operation code', async () => {
    const c = Buffer.alloc(12);
    c[0] = 0xa4;
    c[1] = 0x0a;
    c.writeUInt32BE(8, 6);
    assertSense(await run(fx.device, c, { nexus: a, dataOut: Buffer.alloc(8) }), 'INVALID_COMMAND_OPERATION_CODE');
  });

  test('RSOC reports RTPG (A3h/0Ah) with its CDB usage data', async () => {
    const c = Buffer.alloc(12);
    c[0] = 0xa3;
    c[1] = 0x0c;
    c[2] = 0x02; // REPORTING OPTIONS 010b: one command, with service action
    c[3] = 0xa3;
    c.writeUInt16BE(0x0a, 4);
    c.writeUInt32BE(64, 6);
    const r = await run(fx.device, c, { nexus: a });
    assertGood(r);
    assert.equal(r.data![1]! & 0x07, 0b011, 'SUPPORT: supported as the standard says');
    assert.equal(r.data!.readUInt16BE(2), 12, 'CDB SIZE');
    assert.deepEqual([...r.data!.subarray(4, 16)], [0xa3, 0xea, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0]);
  });

  test('RTPG is allowed under every reservation (SPC-4 §5.13.1 Table 66)', async () => {
    assert.equal(RESERVATION_ACCESS.REPORT_TARGET_PORT_GROUPS, 'always');
    assertGood(await run(fx.device, [0x16, 0, 0, 0, 0, 0], { nexus: a }), 'RESERVE(6) by path A');
    try {
      assertGood(await run(fx.device, rtpgCdb(1024), { nexus: b }), 'RTPG from path B while A holds RESERVE');
    } finally {
      assertGood(await run(fx.device, [0x17, 0, 0, 0, 0, 0], { nexus: a }), 'RELEASE(6)');
    }
  });
});

describe('ALUA on a device nobody configured', () => {
  test('RTPG reports the command’s own port as one active/optimized group', async () => {
    const fx = await makeDevice([{}]);
    try {
      const n = nexusOn(5);
      await settle(fx.device, n);
      const r = await run(fx.device, rtpgCdb(64), { nexus: n });
      assertGood(r);
      assert.deepEqual(
        parseRtpg(r.data!, false).groups.map((g) => [g.id, g.state, g.ports]),
        [[5, AsymmetricAccessState.ACTIVE_OPTIMIZED, [5]]],
      );
    } finally {
      await fx.cleanup();
    }
  });
});
