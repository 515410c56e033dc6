/**
 * Fuzz the framer with random bytes and mutated valid streams (fixed seeds): no exception escapes push(), every
 * call returns, a fatal error ends the stream, and the buffer never holds more than one maximal PDU.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PduFramer, encodePduToBuffer, type FramerOptions } from '../src/index.ts';
import { Rng } from './helpers.ts';
import { randomPdu } from './random-pdus.ts';

const MAX_SEGMENT = 4096;
const MAX_AHS = 1024;
/** header (BHS + AHS + digest) + largest segment + padding + data digest */
const BOUND = 48 + MAX_AHS + 4 + MAX_SEGMENT + 3 + 4;

function feed(r: Rng, opts: FramerOptions, stream: Buffer): { pdus: number; errors: number } {
  const f = new PduFramer(opts);
  let pdus = 0;
  let errors = 0;
  let dead = false;
  let off = 0;
  while (off < stream.length) {
    const n = 1 + r.int(r.bool() ? 64 : 2048);
    const events = f.push(stream.subarray(off, off + n));
    off += n;
    if (dead) assert.equal(events.length, 0, 'nothing after a fatal error');
    for (const e of events) {
      if (e.kind === 'pdu') pdus++;
      else {
        errors++;
        assert.equal(typeof e.rejectReason, 'number');
        if (e.header) assert.equal(e.header.length, 48);
        if (e.fatal) dead = true;
      }
    }
    assert.ok(f.bufferedBytes <= BOUND, `bufferedBytes ${f.bufferedBytes} > ${BOUND}`);
  }
  return { pdus, errors };
}

function options(r: Rng): FramerOptions {
  return { headerDigest: r.bool(), dataDigest: r.bool(), maxRecvDataSegmentLength: MAX_SEGMENT, maxAhsBytes: MAX_AHS };
}

describe('framer fuzz', () => {
  it('10k streams of random bytes', () => {
    const r = new Rng(0xf00d);
    for (let i = 0; i < 10_000; i++) feed(r, options(r), r.bytes(r.int(600)));
  });

  it('10k mutated streams of valid PDUs', () => {
    const r = new Rng(0xbeef);
    let decoded = 0;
    for (let i = 0; i < 10_000; i++) {
      const opts = options(r);
      const parts: Buffer[] = [];
      for (let k = 1 + r.int(4); k > 0; k--) {
        const p = randomPdu(r);
        if (p.data.length > MAX_SEGMENT) continue;
        parts.push(encodePduToBuffer(p, opts));
      }
      const stream = Buffer.concat(parts);
      // flip, overwrite or drop a few bytes; sometimes leave the stream intact
      for (let m = r.int(4); m > 0 && stream.length > 0; m--) {
        const at = r.int(stream.length);
        const how = r.int(3);
        if (how === 0) stream[at]! ^= 1 << r.int(8);
        else if (how === 1) stream[at] = r.u8();
        else stream.fill(0xff, at, Math.min(stream.length, at + 1 + r.int(8)));
      }
      decoded += feed(r, opts, stream).pdus;
    }
    assert.ok(decoded > 5000, `only ${decoded} PDUs survived mutation — the generator is broken`);
  });
});
