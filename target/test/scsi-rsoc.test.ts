import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertGood, assertSense, makeDevice, run, settle } from './scsi-fixture.ts';
import { COMMANDS, OPCODES } from '../src/scsi/opcodes.ts';
import { listCommands } from '../src/scsi/rsoc.ts';
import { hasServiceActions } from '../src/scsi/command.ts';

const rsoc = (options: number, opcode = 0, sa = 0, alloc = 65535, rctd = false) => [
  0xa3, 0x0c, (rctd ? 0x80 : 0) | options, opcode, sa >> 8, sa & 0xff, (alloc >>> 24) & 0xff, (alloc >> 16) & 0xff, (alloc >> 8) & 0xff, alloc & 0xff, 0, 0,
];

test('opcode table: usage masks match CDB lengths, byte 0 is the opcode, CONTROL usage is 0', () => {
  for (const [name, spec] of Object.entries(COMMANDS)) {
    assert.equal(spec.usage.length, spec.cdbLength, `${name} usage length`);
    assert.equal(spec.usage[spec.cdbLength - 1], 0, `${name} control byte`);
  }
  for (const [opcode, slot] of OPCODES) {
    if (hasServiceActions(slot)) {
      for (const [sa, spec] of Object.entries(slot.serviceActions)) {
        assert.equal(spec.usage[0], opcode);
        assert.equal(spec.usage[1]! & 0x1f, Number(sa), `${spec.name} service action in usage byte 1`);
      }
    } else {
      assert.equal(slot.usage[0], opcode, slot.name);
    }
  }
  assert.equal(listCommands(OPCODES).length, Object.keys(COMMANDS).length, 'every command is reachable from the table');
});

test('RSOC all commands: one descriptor per command, SERVACTV only with a service action, CTDP with RCTD', async () => {
  const f = await makeDevice();
  try {
    await settle(f.device);
    const r = await run(f.device, rsoc(0));
    assertGood(r);
    const d = r.data!;
    assert.equal(d.readUInt32BE(0), d.length - 4);
    const seen: string[] = [];
    for (let o = 4; o < d.length; o += 8) {
      const servactv = d[o + 5]! & 1;
      const sa = d.readUInt16BE(o + 2);
      assert.equal(d[o + 5]! & 2, 0, 'no CTDP without RCTD');
      if (!servactv) assert.equal(sa, 0);
      seen.push(`${d[o]}/${servactv ? sa : '-'}`);
      const spec = listCommands(OPCODES).find((c) => c.opcode === d[o] && (c.serviceAction ?? 0) === sa)!;
      assert.equal(d.readUInt16BE(o + 6), spec.spec.cdbLength);
    }
    assert.equal(seen.length, Object.keys(COMMANDS).length);
    assert.ok(seen.includes(`${0x9e}/16`) && seen.includes(`${0xa3}/12`) && seen.includes(`${0x28}/-`));

    const t = (await run(f.device, rsoc(0, 0, 0, 65535, true))).data!;
    assert.equal(t.readUInt32BE(0), 20 * seen.length);
    for (let o = 4; o < t.length; o += 20) {
      assert.equal(t[o + 5]! & 2, 2, 'CTDP');
      assert.equal(t.readUInt16BE(o + 8), 0x0a, 'timeouts descriptor length');
      assert.ok(t.readUInt32BE(o + 16) >= t.readUInt32BE(o + 12), 'recommended ≥ nominal');
    }
    assert.equal((await run(f.device, rsoc(0, 0, 0, 1024))).data!.length, Math.min(1024, d.length));
  } finally {
    await f.cleanup();
  }
});

test('RSOC one command: usage data for every command, option/service-action mismatch rules', async () => {
  const f = await makeDevice();
  try {
    await settle(f.device);
    for (const { opcode, serviceAction, spec } of listCommands(OPCODES)) {
      const sa = serviceAction ?? 0;
      const wrongOption = serviceAction === undefined ? 2 : 1;
      const rightOption = serviceAction === undefined ? 1 : 2;
      assertSense(await run(f.device, rsoc(wrongOption, opcode, sa)), 'INVALID_FIELD_IN_CDB');
      for (const option of [rightOption, 3]) {
        const r = await run(f.device, rsoc(option, opcode, sa, 65535, true));
        assertGood(r, `${spec.name} option ${option}`);
        const d = r.data!;
        assert.equal(d[1]! & 0x07, 0b011, 'supported');
        assert.equal(d[1]! & 0x80, 0x80, 'CTDP');
        assert.equal(d.readUInt16BE(2), spec.cdbLength);
        assert.equal(d[4], opcode, 'usage byte 0 = opcode');
        if (serviceAction !== undefined) assert.equal(d[5]! & 0x1f, serviceAction);
        assert.equal(d.length, 4 + spec.cdbLength + 12);
        // every usage bit set in the report is accepted by the reserved-bit check
      }
    }
    const none = await run(f.device, rsoc(1, 0x48));
    assertGood(none);
    assert.equal(none.data![1]! & 0x07, 0b001, 'SANITIZE not supported');
    assert.equal((await run(f.device, rsoc(2, 0x9e, 0x13))).data![1]! & 0x07, 0b001, 'SERVICE ACTION IN(16) 13h not supported');
    assert.equal((await run(f.device, rsoc(1, 0x41))).data![1]! & 0x07, 0b011, 'WRITE SAME(10) supported');
    assert.equal((await run(f.device, rsoc(2, 0x9e, 0x12))).data![1]! & 0x07, 0b011, 'GET LBA STATUS supported');
    assertSense(await run(f.device, rsoc(5)), 'INVALID_FIELD_IN_CDB', { byte: 2 });
  } finally {
    await f.cleanup();
  }
});

test('reserved-bit check agrees with the reported usage data, bit for bit', async () => {
  const { checkCdb } = await import('../src/scsi/device.ts');
  for (const { opcode, serviceAction, spec } of listCommands(OPCODES)) {
    const usage = Buffer.from(spec.usage);
    usage[0] = opcode;
    const sa = serviceAction !== undefined;
    assert.doesNotThrow(() => checkCdb(usage, spec, sa), `${spec.name}: all usage bits are accepted`);
    for (let byte = 1; byte < spec.cdbLength - 1; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const m = 1 << bit;
        if (spec.usage[byte]! & m || (sa && byte === 1 && bit < 5)) continue;
        const cdb = Buffer.alloc(spec.cdbLength);
        cdb[0] = opcode;
        if (sa) cdb[1] = serviceAction!;
        cdb[byte] |= m;
        assert.throws(
          () => checkCdb(cdb, spec, sa),
          (e: { reason: string; detail: { fieldPointer?: { byte: number; bit?: number } } }) =>
            e.reason === 'INVALID_FIELD_IN_CDB' && e.detail.fieldPointer?.byte === byte && e.detail.fieldPointer?.bit === bit,
          `${spec.name}: reserved byte ${byte} bit ${bit}`,
        );
      }
    }
  }
});
