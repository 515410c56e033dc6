import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SENSE_REASONS, buildSense, buildDescriptorSense, buildFixedSense, invalidCdbField, parseSense } from '../src/scsi/sense.ts';

test('fixed sense: 70h, key/ASC/ASCQ at 2/12/13, additional length 10', () => {
  const s = buildSense('LBA_OUT_OF_RANGE');
  assert.equal(s.length, 18);
  assert.equal(s[0], 0x70);
  assert.equal(s[2], 0x05);
  assert.equal(s[7], 10);
  assert.equal(s[12], 0x21);
  assert.equal(s[13], 0x00);
  assert.equal(s[15], 0, 'no SKSV without a field pointer');
});

test('fixed sense: field pointer with SKSV, C/D, BPV and bit pointer (SPC-4 §4.5.2.4.2)', () => {
  const e = invalidCdbField(1, 7);
  const s = buildSense(e.reason, e.detail);
  assert.equal(s[15], 0x80 | 0x40 | 0x08 | 7);
  assert.equal(s.readUInt16BE(16), 1);
  const noBit = buildSense('INVALID_FIELD_IN_PARAMETER_LIST', { fieldPointer: { cd: false, byte: 300 } });
  assert.equal(noBit[15], 0x80);
  assert.equal(noBit.readUInt16BE(16), 300);
});

test('fixed sense: INFORMATION sets VALID only when it fits in 4 bytes', () => {
  const s = buildFixedSense(SENSE_REASONS.MISCOMPARE_DURING_VERIFY, { information: 0x1234n });
  assert.equal(s[0], 0xf0);
  assert.equal(s.readUInt32BE(3), 0x1234);
  const big = buildFixedSense(SENSE_REASONS.LBA_OUT_OF_RANGE, { information: 1n << 40n });
  assert.equal(big[0], 0x70);
});

test('descriptor sense: 72h header, information and sense-key-specific descriptors', () => {
  const s = buildDescriptorSense(SENSE_REASONS.INVALID_FIELD_IN_CDB, {
    information: 1n << 40n,
    fieldPointer: { cd: true, byte: 14, bit: 3 },
  });
  assert.equal(s[0], 0x72);
  assert.equal(s[1], 0x05);
  assert.equal(s[2], 0x24);
  assert.equal(s[3], 0x00);
  assert.equal(s[7], s.length - 8);
  assert.equal(s[8], 0x00); // information descriptor
  assert.equal(s[9], 0x0a);
  assert.equal(s[10], 0x80);
  assert.equal(s.readBigUInt64BE(12), 1n << 40n);
  assert.equal(s[20], 0x02); // sense key specific
  assert.equal(s[21], 0x06);
  assert.equal(s[24], 0x80 | 0x40 | 0x08 | 3);
  assert.equal(s.readUInt16BE(25), 14);
  const p = parseSense(s);
  assert.deepEqual(p, { descriptor: true, key: 5, asc: 0x24, ascq: 0, information: 1n << 40n, fieldPointer: { cd: true, byte: 14, bit: 3 } });
});

test('parseSense round-trips fixed format', () => {
  const s = buildSense('MISCOMPARE_DURING_VERIFY', { information: 77n });
  assert.deepEqual(parseSense(s), { descriptor: false, key: 0x0e, asc: 0x1d, ascq: 0, information: 77n });
});

test('the reason table has the codes libiscsi expects', () => {
  assert.deepEqual(SENSE_REASONS.WRITE_PROTECTED, { key: 7, asc: 0x27, ascq: 0 });
  assert.deepEqual(SENSE_REASONS.INVALID_COMMAND_OPERATION_CODE, { key: 5, asc: 0x20, ascq: 0 });
  assert.deepEqual(SENSE_REASONS.LOGICAL_UNIT_NOT_SUPPORTED, { key: 5, asc: 0x25, ascq: 0 });
  assert.deepEqual(SENSE_REASONS.PARAMETER_LIST_LENGTH_ERROR, { key: 5, asc: 0x1a, ascq: 0 });
  assert.deepEqual(SENSE_REASONS.MEDIUM_NOT_PRESENT, { key: 2, asc: 0x3a, ascq: 0 });
  for (const [name, c] of Object.entries(SENSE_REASONS)) {
    assert.ok(c.key >= 0 && c.key <= 0xf && c.asc <= 0xff && c.ascq <= 0xff, name);
  }
});
