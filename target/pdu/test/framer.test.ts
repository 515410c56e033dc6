/** PduFramer: byte-stream splitting, digests, limits and resynchronization (RFC 7143 §11.2, §7.8). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Opcode,
  PduFramer,
  RejectReason,
  encodePduToBuffer,
  type FrameEvent,
  type FramerOptions,
  type Pdu,
} from '../src/index.ts';
import { Rng, hex } from './helpers.ts';
import { randomPdu } from './random-pdus.ts';

const MAX = 8192;

function framer(opts: Partial<FramerOptions> = {}): PduFramer {
  return new PduFramer({ headerDigest: false, dataDigest: false, maxRecvDataSegmentLength: MAX, ...opts });
}

function pdus(events: FrameEvent[]): Pdu[] {
  return events.map((e) => {
    assert.equal(e.kind, 'pdu', e.kind === 'error' ? e.message : '');
    return (e as { pdu: Pdu }).pdu;
  });
}

function dataOut(dataSN: number, data: Buffer, ahs?: Buffer): Pdu {
  return {
    opcode: Opcode.DataOut, final: false, lun: 0n, itt: 7, ttt: 9, expStatSN: 1, dataSN, bufferOffset: dataSN * 100,
    ahs: ahs ?? Buffer.alloc(0), data,
  };
}

function scsiCmdWithBadBidiAhs(): Buffer {
  const wire = encodePduToBuffer({
    opcode: Opcode.ScsiCommand, immediate: false, final: true, read: true, write: false, attr: 1, lun: 0n, itt: 3,
    expectedDataTransferLength: 0, cmdSN: 1, expStatSN: 1, cdb: Buffer.alloc(16),
    ahs: hex('0004 7f 00 00000000'), // an unknown AHS type kept as is; made invalid below
  });
  wire[50] = 2; // now it is a Bidirectional Read EDTL AHS with AHSLength 4 instead of 5
  return wire;
}

/** Several PDUs of every shape: AHS, odd data lengths (padding), no data. */
function sampleStream(digests: { headerDigest: boolean; dataDigest: boolean }): { wire: Buffer; expected: Pdu[] } {
  const r = new Rng(7);
  const expected: Pdu[] = [
    dataOut(0, r.bytes(5), hex('0001 40 00 ab000000')),
    dataOut(1, Buffer.alloc(0)),
    dataOut(2, r.bytes(1024)),
    dataOut(3, r.bytes(7)),
    randomPdu(r, Opcode.ScsiCommand),
    randomPdu(r, Opcode.LoginRequest),
  ];
  const wires = expected.map((p) => encodePduToBuffer(p, digests));
  // compare what the decoder sees: the SCSI Command's AHS is derived on encode
  const decoded = pdus(framer(digests).push(Buffer.concat(wires)));
  return { wire: Buffer.concat(wires), expected: decoded };
}

describe('PduFramer', () => {
  for (const digests of [
    { headerDigest: false, dataDigest: false },
    { headerDigest: true, dataDigest: false },
    { headerDigest: false, dataDigest: true },
    { headerDigest: true, dataDigest: true },
  ]) {
    const label = `HeaderDigest=${digests.headerDigest} DataDigest=${digests.dataDigest}`;

    it(`${label}: a stream split at every byte boundary yields the same PDUs`, () => {
      const { wire, expected } = sampleStream(digests);
      assert.equal(expected.length, 6);
      for (let cut = 0; cut <= wire.length; cut++) {
        const f = framer(digests);
        const got = [...pdus(f.push(wire.subarray(0, cut))), ...pdus(f.push(wire.subarray(cut)))];
        assert.deepStrictEqual(got, expected, `cut at ${cut}`);
        assert.equal(f.bufferedBytes, 0);
      }
    });

    it(`${label}: one byte at a time`, () => {
      const { wire, expected } = sampleStream(digests);
      const f = framer(digests);
      const got: Pdu[] = [];
      for (let i = 0; i < wire.length; i++) got.push(...pdus(f.push(wire.subarray(i, i + 1))));
      assert.deepStrictEqual(got, expected);
    });
  }

  it('many PDUs in one chunk, data returned as views of that chunk (zero copy)', () => {
    const r = new Rng(3);
    const sent = Array.from({ length: 200 }, (_, i) => dataOut(i, r.bytes(r.int(600))));
    const chunk = Buffer.concat(sent.map((p) => encodePduToBuffer(p)));
    const got = pdus(framer().push(chunk));
    assert.deepStrictEqual(got, sent);
    for (const p of got) if (p.data.length > 0) assert.equal(p.data.buffer, chunk.buffer);
  });

  it('a data segment split across chunks is reassembled once', () => {
    const payload = new Rng(4).bytes(4096);
    const wire = encodePduToBuffer(dataOut(0, payload));
    const f = framer();
    assert.deepStrictEqual(f.push(wire.subarray(0, 1000)), []);
    assert.equal(f.bufferedBytes, 1000 - 48);
    const [pdu] = pdus(f.push(wire.subarray(1000)));
    assert.deepStrictEqual(pdu!.data, payload);
  });

  it('gives the 48-byte BHS with every PDU', () => {
    const wire = encodePduToBuffer(dataOut(5, Buffer.from('xyz'), hex('0000 40 00')));
    const [ev] = framer().push(wire);
    assert.equal(ev!.kind, 'pdu');
    assert.equal(ev!.header!.length, 48);
    assert.deepStrictEqual(ev!.header, wire.subarray(0, 48));
  });

  it('a corrupted header digest is fatal and nothing more is returned', () => {
    const opts = { headerDigest: true, dataDigest: false };
    const wire = encodePduToBuffer(dataOut(0, Buffer.from('abcd')), opts);
    wire[49] ^= 0x01; // inside the digest
    const f = framer(opts);
    const events = f.push(Buffer.concat([wire, encodePduToBuffer(dataOut(1, Buffer.alloc(4)), opts)]));
    assert.equal(events.length, 1);
    const [ev] = events;
    assert.ok(ev!.kind === 'error' && ev!.reason === 'header-digest' && ev!.fatal);
    assert.equal(f.bufferedBytes, 0);
    assert.deepStrictEqual(f.push(encodePduToBuffer(dataOut(2, Buffer.alloc(4)), opts)), []);
  });

  it('a corrupted header field is caught by the header digest', () => {
    const opts = { headerDigest: true, dataDigest: false };
    const wire = encodePduToBuffer(dataOut(0, Buffer.from('abcd')), opts);
    wire[20] ^= 0x80; // TTT
    const [ev] = framer(opts).push(wire);
    assert.ok(ev!.kind === 'error' && ev!.reason === 'header-digest' && ev!.fatal);
  });

  it('a corrupted data digest is reported with the header (Reject 0x02) and the next PDU still decodes', () => {
    const opts = { headerDigest: true, dataDigest: true };
    const bad = encodePduToBuffer(dataOut(0, Buffer.from('hello')), opts);
    bad[52] ^= 0xff; // first data byte
    const good = dataOut(1, Buffer.from('world!'));
    const f = framer(opts);
    const events = f.push(Buffer.concat([bad, encodePduToBuffer(good, opts)]));
    assert.equal(events.length, 2);
    const [err, ok] = events;
    assert.ok(err!.kind === 'error');
    assert.equal(err!.reason, 'data-digest');
    assert.equal(err!.fatal, false);
    assert.equal(err!.rejectReason, RejectReason.DataDigestError);
    assert.deepStrictEqual(err!.header, bad.subarray(0, 48));
    assert.ok(ok!.kind === 'pdu');
    assert.deepStrictEqual(ok!.pdu, good);
  });

  it('a corrupted padding byte is a data digest error too (the digest covers the padding)', () => {
    const opts = { headerDigest: false, dataDigest: true };
    const wire = encodePduToBuffer(dataOut(0, Buffer.from('hello')), opts);
    wire[48 + 6] = 1;
    const [ev] = framer(opts).push(wire);
    assert.ok(ev!.kind === 'error' && ev!.reason === 'data-digest');
  });

  it('rejects an oversized data segment from the header, before its payload arrives', () => {
    const wire = encodePduToBuffer(dataOut(0, Buffer.alloc(MAX + 1)));
    const f = framer();
    const events = f.push(wire.subarray(0, 48));
    assert.equal(events.length, 1);
    const [ev] = events;
    assert.ok(ev!.kind === 'error');
    assert.equal(ev!.reason, 'data-segment-too-long');
    assert.equal(ev!.fatal, true);
    assert.equal(ev!.rejectReason, RejectReason.ProtocolError);
    assert.deepStrictEqual(ev!.header, wire.subarray(0, 48));
    assert.equal(f.bufferedBytes, 0);
    assert.deepStrictEqual(f.push(wire.subarray(48)), []);
  });

  it('accepts a data segment of exactly MaxRecvDataSegmentLength', () => {
    const [p] = pdus(framer().push(encodePduToBuffer(dataOut(0, Buffer.alloc(MAX, 1)))));
    assert.equal(p!.data.length, MAX);
  });

  it('rejects an AHS over maxAhsBytes as soon as the BHS is in', () => {
    const wire = encodePduToBuffer(dataOut(0, Buffer.alloc(0), Buffer.alloc(16)));
    const f = framer({ maxAhsBytes: 12 });
    const [ev] = f.push(wire.subarray(0, 48));
    assert.ok(ev!.kind === 'error' && ev!.reason === 'ahs-too-long' && ev!.fatal);
  });

  it('an unknown opcode is fatal with reason Command not supported', () => {
    const wire = encodePduToBuffer(dataOut(0, Buffer.alloc(0)));
    wire[0] = 0x1e; // vendor-specific initiator opcode range, not implemented
    const f = framer();
    const [ev] = f.push(wire);
    assert.ok(ev!.kind === 'error');
    assert.equal(ev!.reason, 'unknown-opcode');
    assert.equal(ev!.fatal, true);
    assert.equal(ev!.rejectReason, RejectReason.CommandNotSupported);
    assert.deepStrictEqual(ev!.header, wire.subarray(0, 48));
  });

  it('a malformed PDU is a non-fatal error with its reject reason; the next PDU decodes', () => {
    const next = dataOut(1, Buffer.from('ok'));
    const events = framer().push(Buffer.concat([scsiCmdWithBadBidiAhs(), encodePduToBuffer(next)]));
    assert.equal(events.length, 2);
    const [err, ok] = events;
    assert.ok(err!.kind === 'error' && err!.reason === 'malformed' && !err!.fatal);
    assert.equal(err!.rejectReason, RejectReason.InvalidPduField);
    assert.equal(err!.header!.length, 48);
    assert.ok(ok!.kind === 'pdu');
    assert.deepStrictEqual(ok!.pdu, next);
  });

  it('update() switches digests on for the following PDUs (end of login)', () => {
    const f = framer();
    const first = dataOut(0, Buffer.from('login'));
    const second = dataOut(1, Buffer.from('ffp'));
    assert.deepStrictEqual(pdus(f.push(encodePduToBuffer(first))), [first]);
    f.update({ headerDigest: true, dataDigest: true, maxRecvDataSegmentLength: 4 });
    assert.deepStrictEqual(pdus(f.push(encodePduToBuffer(second, { headerDigest: true, dataDigest: true }))), [second]);
    const [ev] = f.push(encodePduToBuffer(dataOut(2, Buffer.alloc(5)), { headerDigest: true, dataDigest: true }));
    assert.ok(ev!.kind === 'error' && ev!.reason === 'data-segment-too-long');
  });

  it('update() while a data segment is awaited applies from the next PDU', () => {
    const f = framer();
    const first = encodePduToBuffer(dataOut(0, Buffer.from('abcde')));
    assert.deepStrictEqual(f.push(first.subarray(0, 50)), []);
    f.update({ dataDigest: true });
    assert.deepStrictEqual(pdus(f.push(first.subarray(50))), [dataOut(0, Buffer.from('abcde'))]);
    const second = dataOut(1, Buffer.from('xyz'));
    assert.deepStrictEqual(pdus(f.push(encodePduToBuffer(second, { dataDigest: true }))), [second]);
  });

  it('ignores empty chunks', () => {
    const f = framer();
    assert.deepStrictEqual(f.push(Buffer.alloc(0)), []);
    assert.equal(f.bufferedBytes, 0);
  });
});
