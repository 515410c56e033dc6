/** Round trips for every PDU kind, the public encode/decode API's edge cases, LUNs and CRC32C vectors. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32c as nativeCrc32c } from '@node-rs/crc32';
import {
  Opcode,
  PduDecodeError,
  RejectReason,
  crc32cDigest,
  crc32cUpdate,
  decodeLun,
  decodePdu,
  encodeLun,
  encodePdu,
  encodePduToBuffer,
  type Pdu,
  type ScsiCommandPdu,
} from '../src/index.ts';
import { Rng, hex } from './helpers.ts';
import { ALL_OPCODES, randomPdu } from './random-pdus.ts';

/** Decode a whole wire PDU without the framer (no digests). */
function decodeBuffer(wire: Buffer): Pdu {
  const ahsLen = wire[4]! * 4;
  const dataLen = wire.readUIntBE(5, 3);
  return decodePdu(wire.subarray(0, 48), wire.subarray(48, 48 + ahsLen), wire.subarray(48 + ahsLen, 48 + ahsLen + dataLen));
}

function withoutAhs(p: Pdu): Omit<Pdu, 'ahs'> {
  const { ahs: _ahs, ...rest } = p;
  return rest;
}

describe('round trips with random field values', () => {
  for (const opcode of ALL_OPCODES) {
    it(`opcode 0x${opcode.toString(16).padStart(2, '0')}: decode(encode(p)) = p, encode(decode(b)) = b`, () => {
      const r = new Rng(0x5eed + opcode);
      for (let i = 0; i < 300; i++) {
        const pdu = randomPdu(r, opcode);
        const wire = encodePduToBuffer(pdu);
        assert.equal(wire.length % 4, 0, 'PDUs are word aligned');
        const back = decodeBuffer(wire);
        if (opcode === Opcode.ScsiCommand) {
          // the AHS is derived from cdb / bidi length; compare the typed fields
          assert.deepStrictEqual(withoutAhs(back), withoutAhs(pdu));
        } else {
          assert.deepStrictEqual(back, pdu);
        }
        assert.equal(encodePduToBuffer(back).toString('hex'), wire.toString('hex'));
      }
    });
  }
});

describe('encodePdu', () => {
  const nop = {
    opcode: Opcode.NopIn,
    lun: 0n,
    itt: 1,
    ttt: 0xffffffff,
    statSN: 1,
    expCmdSN: 1,
    maxCmdSN: 1,
  } as const;

  it('returns [header] without data, [header, data] when aligned, the caller Buffer uncopied', () => {
    assert.equal(encodePdu(nop).length, 1);
    const data = Buffer.from('abcd');
    const chunks = encodePdu({ ...nop, data });
    assert.equal(chunks.length, 2);
    assert.equal(chunks[1], data, 'data chunk is the same Buffer object');
  });

  it('adds [padding (+ data digest)] as a third chunk', () => {
    const chunks = encodePdu({ ...nop, data: Buffer.from('abcde') }, { dataDigest: true, headerDigest: true });
    assert.equal(chunks.length, 3);
    assert.equal(chunks[0]!.length, 52);
    assert.equal(chunks[2]!.length, 3 + 4);
    assert.equal(chunks[2]!.readUInt32LE(3), crc32cDigest(Buffer.from('abcde\0\0\0')));
    assert.equal(chunks[0]!.readUInt32LE(48), crc32cDigest(chunks[0]!.subarray(0, 48)));
  });

  it('sends no data digest without a data segment (RFC 7143 §11.2.4)', () => {
    assert.equal(encodePduToBuffer(nop, { dataDigest: true }).length, 48);
  });

  it('derives TotalAHSLength and DataSegmentLength', () => {
    const wire = encodePduToBuffer({ ...nop, ahs: Buffer.alloc(8), data: Buffer.alloc(0x012345) });
    assert.equal(wire[4], 2);
    assert.equal(wire.readUIntBE(5, 3), 0x012345);
  });

  it('rejects an AHS that is not whole words, and unknown opcodes', () => {
    assert.throws(() => encodePdu({ ...nop, ahs: Buffer.alloc(3) }), RangeError);
    assert.throws(() => encodePdu({ ...nop, opcode: 0x1c } as unknown as Pdu), RangeError);
  });

  it('pads a short CDB with zeros and re-encodes a decoded SCSI Command without doubling its AHS', () => {
    const cmd: ScsiCommandPdu = {
      opcode: Opcode.ScsiCommand, immediate: false, final: true, read: true, write: false, attr: 1, lun: 0n,
      itt: 1, expectedDataTransferLength: 512, cmdSN: 1, expStatSN: 1, cdb: hex('28 00 00000000 00 0001 00'),
      ahs: Buffer.alloc(0), data: Buffer.alloc(0), bidiReadExpectedDataTransferLength: 7,
    };
    const wire = encodePduToBuffer(cmd);
    assert.equal(wire.subarray(32, 48).toString('hex'), '28000000000000000100' + '000000000000');
    const back = decodeBuffer(wire) as ScsiCommandPdu;
    assert.equal(back.cdb.length, 16);
    assert.equal(back.bidiReadExpectedDataTransferLength, 7);
    assert.equal(encodePduToBuffer(back).length, wire.length);
  });
});

describe('decodePdu errors', () => {
  const header = encodePduToBuffer({
    opcode: Opcode.ScsiCommand, immediate: false, final: true, read: false, write: false, attr: 0, lun: 0n, itt: 1,
    expectedDataTransferLength: 0, cmdSN: 1, expStatSN: 1, cdb: Buffer.alloc(16),
  });

  function expectDecodeError(fn: () => unknown, reason: number) {
    assert.throws(fn, (e: unknown) => e instanceof PduDecodeError && e.rejectReason === reason);
  }

  it('unknown opcode → Command not supported', () => {
    const h = Buffer.from(header);
    h[0] = 0x1c;
    expectDecodeError(() => decodePdu(h, Buffer.alloc(0), Buffer.alloc(0)), RejectReason.CommandNotSupported);
  });

  it('lengths that disagree with the BHS → Protocol Error', () => {
    expectDecodeError(() => decodePdu(header, Buffer.alloc(4), Buffer.alloc(0)), RejectReason.ProtocolError);
    expectDecodeError(() => decodePdu(header, Buffer.alloc(0), Buffer.alloc(1)), RejectReason.ProtocolError);
    expectDecodeError(() => decodePdu(header.subarray(0, 40), Buffer.alloc(0), Buffer.alloc(0)), RejectReason.ProtocolError);
  });

  it('an AHS segment running past TotalAHSLength → Protocol Error', () => {
    const h = Buffer.from(header);
    h[4] = 1;
    expectDecodeError(() => decodePdu(h, hex('0009 01 00'), Buffer.alloc(0)), RejectReason.ProtocolError);
  });

  it('a Bidirectional Read EDTL AHS of the wrong length → Invalid PDU Field', () => {
    const h = Buffer.from(header);
    h[4] = 2;
    expectDecodeError(() => decodePdu(h, hex('0004 02 00 00000000'), Buffer.alloc(0)), RejectReason.InvalidPduField);
  });

  it('two Extended CDB AHS → Invalid PDU Field', () => {
    const h = Buffer.from(header);
    h[4] = 4;
    expectDecodeError(() => decodePdu(h, hex('0002 01 00 aa000000', '0002 01 00 bb000000'), Buffer.alloc(0)),
      RejectReason.InvalidPduField);
  });
});

describe('LUN (SAM-5 §4.7)', () => {
  it('peripheral addressing below 256, flat space above', () => {
    assert.equal(encodeLun(0), 0n);
    assert.equal(encodeLun(1), 0x0001_0000_0000_0000n);
    assert.equal(encodeLun(255), 0x00ff_0000_0000_0000n);
    assert.equal(encodeLun(256), 0x4100_0000_0000_0000n);
    assert.equal(encodeLun(16383), 0x7fff_0000_0000_0000n);
    assert.throws(() => encodeLun(16384), RangeError);
    assert.throws(() => encodeLun(-1), RangeError);
    assert.throws(() => encodeLun(1.5), RangeError);
  });

  it('decodes both methods and round trips', () => {
    for (const n of [0, 1, 17, 255, 256, 1000, 16383]) assert.equal(decodeLun(encodeLun(n)), n);
    // flat space addressing of a small LUN (some initiators send it)
    assert.equal(decodeLun(0x4005_0000_0000_0000n), 5);
  });

  it('undefined for other methods, a bus number, or a second level', () => {
    assert.equal(decodeLun(0x8001_0000_0000_0000n), undefined); // logical unit addressing (10b)
    assert.equal(decodeLun(0xc000_0000_0000_0000n), undefined); // extended addressing (11b)
    assert.equal(decodeLun(0x0101_0000_0000_0000n), undefined); // peripheral, bus 1
    assert.equal(decodeLun(0x0001_0002_0000_0000n), undefined); // second level present
  });
});

describe('CRC32C (RFC 3720 Appendix B.4 vectors)', () => {
  const vectors: Array<[string, Buffer, string]> = [
    ['32 bytes of zeros', Buffer.alloc(32), 'aa36918a'],
    ['32 bytes of 0xff', Buffer.alloc(32, 0xff), '43aba862'],
    ['32 incrementing bytes', Buffer.from(Array.from({ length: 32 }, (_, i) => i)), '4e79dd46'],
    ['32 decrementing bytes', Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i)), '5cdb3f11'],
  ];
  for (const [name, input, wire] of vectors) {
    it(`${name} → ${wire} on the wire (least significant byte first)`, () => {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(crc32cDigest(input));
      assert.equal(b.toString('hex'), wire);
    });
  }

  it('the JS path for short buffers equals the native one at every length and split', () => {
    const r = new Rng(42);
    for (let len = 0; len < 600; len++) {
      const buf = r.bytes(len);
      const want = nativeCrc32c(buf) >>> 0;
      assert.equal(crc32cDigest(buf), want, `length ${len}`);
      const cut = r.int(len + 1);
      assert.equal(crc32cUpdate(crc32cUpdate(0, buf, 0, cut), buf, cut), want, `length ${len} split at ${cut}`);
    }
  });

  it('concatenates its arguments', () => {
    assert.equal(crc32cDigest(Buffer.from('1234'), Buffer.from('56789')), 0xe3069283);
  });
});
