/**
 * Byte stream → whole PDUs (RFC 7143 §11.2: BHS, AHS, header digest, data segment + padding, data digest).
 *
 * Chunks are kept in a short list and never concatenated as a whole: a header or data segment that lies inside
 * one chunk is returned as a view of it (zero copy); one that spans chunks is copied once into its own Buffer.
 * Every limit is checked from the header before the payload is buffered, so a peer cannot make us hold more than
 * one header + MaxRecvDataSegmentLength + padding + digests.
 */
import {
  BHS_LENGTH,
  BhsOffset,
  DIGEST_LENGTH,
  MAX_AHS_LENGTH,
  padLength,
  readDataSegmentLength,
  readOpcode,
} from './bhs.ts';
import { codecForOpcode } from './codec-table.ts';
import { crc32cUpdate, readDigest } from './crc32c.ts';
import { PduDecodeError } from './errors.ts';
import { RejectReason, type Pdu } from './types.ts';

export interface FramerOptions {
  headerDigest: boolean;
  dataDigest: boolean;
  /** Our declared MaxRecvDataSegmentLength (RFC 7143 §13.12): the largest data segment we accept. */
  maxRecvDataSegmentLength: number;
  /** Largest AHS accepted (default 1024, which admits any TotalAHSLength up to its 1020-byte maximum). */
  maxAhsBytes?: number;
}

export type FrameErrorReason =
  | 'header-digest'
  | 'data-digest'
  | 'data-segment-too-long'
  | 'ahs-too-long'
  | 'unknown-opcode'
  | 'malformed';

export type FrameEvent =
  | { kind: 'pdu'; pdu: Pdu; header: Buffer /* the 48-byte BHS, for Reject */ }
  | {
      kind: 'error';
      reason: FrameErrorReason;
      /** RFC 7143 §11.17.1 reason code for the Reject PDU answering it (when the connection survives). */
      rejectReason: number;
      /** After a fatal error the stream cannot be resynchronized: close the connection (push() returns nothing more). */
      fatal: boolean;
      /** The 48-byte BHS of the offending PDU, for the Reject's data segment (RFC 7143 §11.17). */
      header?: Buffer;
      message: string;
    };

const DEFAULT_MAX_AHS_BYTES = 1024;

/** The PDU whose header has been taken off the stream and whose data segment is awaited. */
interface PendingPdu {
  /** BHS + AHS (header digest stripped). */
  header: Buffer;
  dataLength: number;
  /** Padding + data digest after the data segment. */
  trailerLength: number;
  /** Whether the trailer ends in a data digest (fixed when the header was read: update() may come in between). */
  dataDigest: boolean;
}

export class PduFramer {
  #headerDigest: boolean;
  #dataDigest: boolean;
  #maxRecvDataSegmentLength: number;
  #maxAhsBytes: number;

  /** Unconsumed input; the first chunk is consumed up to #head. */
  #chunks: Buffer[] = [];
  #head = 0;
  #buffered = 0;
  #pending: PendingPdu | undefined;
  #dead = false;

  constructor(opts: FramerOptions) {
    this.#headerDigest = opts.headerDigest;
    this.#dataDigest = opts.dataDigest;
    this.#maxRecvDataSegmentLength = opts.maxRecvDataSegmentLength;
    this.#maxAhsBytes = opts.maxAhsBytes ?? DEFAULT_MAX_AHS_BYTES;
  }

  /** Digests and MaxRecvDataSegmentLength change when login completes (RFC 7143 §13.1, §13.12); applies from the next header. */
  update(opts: Partial<FramerOptions>): void {
    if (opts.headerDigest !== undefined) this.#headerDigest = opts.headerDigest;
    if (opts.dataDigest !== undefined) this.#dataDigest = opts.dataDigest;
    if (opts.maxRecvDataSegmentLength !== undefined) this.#maxRecvDataSegmentLength = opts.maxRecvDataSegmentLength;
    if (opts.maxAhsBytes !== undefined) this.#maxAhsBytes = opts.maxAhsBytes;
  }

  get bufferedBytes(): number {
    return this.#buffered;
  }

  push(chunk: Buffer): FrameEvent[] {
    const events: FrameEvent[] = [];
    if (this.#dead || chunk.length === 0) return events;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    for (;;) {
      if (!this.#pending) {
        if (!this.#takeHeader(events)) break;
        if (this.#dead) break;
      }
      const p = this.#pending!;
      if (this.#buffered < p.dataLength + p.trailerLength) break;
      this.#pending = undefined;
      this.#finishPdu(p, events);
    }
    return events;
  }

  /** Take BHS + AHS (+ header digest) off the stream and check every limit. False when more bytes are needed. */
  #takeHeader(events: FrameEvent[]): boolean {
    if (this.#buffered < BHS_LENGTH) return false;
    // RFC 7143 §11.2.1.4: TotalAHSLength in 4-byte words
    const ahsBytes = this.#byteAt(BhsOffset.totalAhsLength) * 4;
    if (ahsBytes > Math.min(this.#maxAhsBytes, MAX_AHS_LENGTH)) {
      this.#fatal(events, 'ahs-too-long', RejectReason.ProtocolError, this.#peek(BHS_LENGTH),
        `TotalAHSLength of ${ahsBytes} bytes exceeds the ${this.#maxAhsBytes}-byte limit`);
      return true;
    }
    const headerEnd = BHS_LENGTH + ahsBytes;
    const digestLength = this.#headerDigest ? DIGEST_LENGTH : 0;
    if (this.#buffered < headerEnd + digestLength) return false;
    const raw = this.#take(headerEnd + digestLength);
    const header = digestLength ? raw.subarray(0, headerEnd) : raw;
    const bhs = header.subarray(0, BHS_LENGTH);

    // RFC 7143 §11.2.4 / §13.1: CRC32C over BHS + AHS. A bad header digest leaves every length in doubt, so the
    // stream cannot be resynchronized without markers (RFC 7143 §7.8: drop the connection).
    if (digestLength && crc32cUpdate(0, header) !== readDigest(raw, headerEnd)) {
      this.#fatal(events, 'header-digest', RejectReason.ProtocolError, Buffer.from(bhs), 'header digest mismatch');
      return true;
    }
    const opcode = readOpcode(bhs);
    if (!codecForOpcode(opcode)) {
      // RFC 7143 §11.17.1 reason 0x05 "Command not supported"; fatal because the header of an unknown PDU type
      // cannot be trusted to delimit it (a garbage stream looks exactly like this without digests). LIO closes
      // the connection here too; the header is handed out so a Reject can be sent first, as tgt does.
      this.#fatal(events, 'unknown-opcode', RejectReason.CommandNotSupported, Buffer.from(bhs),
        `unknown opcode 0x${opcode.toString(16).padStart(2, '0')}`);
      return true;
    }
    const dataLength = readDataSegmentLength(bhs);
    // RFC 7143 §13.12: a sender never exceeds the receiver's MaxRecvDataSegmentLength — checked before buffering
    if (dataLength > this.#maxRecvDataSegmentLength) {
      this.#fatal(events, 'data-segment-too-long', RejectReason.ProtocolError, Buffer.from(bhs),
        `DataSegmentLength ${dataLength} exceeds MaxRecvDataSegmentLength ${this.#maxRecvDataSegmentLength}`);
      return true;
    }
    // RFC 7143 §11.2.3–§11.2.4: padding to a word, then the data digest, only when there is a data segment
    const dataDigest = this.#dataDigest && dataLength > 0;
    const trailerLength = dataLength === 0 ? 0 : padLength(dataLength) + (dataDigest ? DIGEST_LENGTH : 0);
    this.#pending = { header, dataLength, trailerLength, dataDigest };
    return true;
  }

  #finishPdu(p: PendingPdu, events: FrameEvent[]): void {
    const data = p.dataLength ? this.#take(p.dataLength) : EMPTY;
    const bhs = p.header.subarray(0, BHS_LENGTH);
    if (p.trailerLength) {
      const trailer = this.#take(p.trailerLength);
      if (p.dataDigest) {
        const pad = p.trailerLength - DIGEST_LENGTH;
        const expected = crc32cUpdate(crc32cUpdate(0, data), trailer, 0, pad);
        if (expected !== readDigest(trailer, pad)) {
          // RFC 7143 §7.8: a data digest error leaves the framing intact — discard the PDU, Reject reason 0x02
          events.push({
            kind: 'error',
            reason: 'data-digest',
            rejectReason: RejectReason.DataDigestError,
            fatal: false,
            header: bhs,
            message: 'data digest mismatch',
          });
          return;
        }
      }
    }
    try {
      const pdu = decodePduChecked(bhs, p.header.subarray(BHS_LENGTH), data);
      events.push({ kind: 'pdu', pdu, header: bhs });
    } catch (err) {
      events.push({
        kind: 'error',
        reason: 'malformed',
        rejectReason: err instanceof PduDecodeError ? err.rejectReason : RejectReason.InvalidPduField,
        fatal: false,
        header: bhs,
        message: err instanceof Error ? err.message : String(err),
      });
    }
  }

  #fatal(events: FrameEvent[], reason: FrameErrorReason, rejectReason: number, header: Buffer, message: string): void {
    events.push({ kind: 'error', reason, rejectReason, fatal: true, header, message });
    this.#dead = true;
    this.#chunks = [];
    this.#head = 0;
    this.#buffered = 0;
    this.#pending = undefined;
  }

  #byteAt(offset: number): number {
    let i = 0;
    let at = this.#head + offset;
    while (at >= this.#chunks[i]!.length) {
      at -= this.#chunks[i]!.length;
      i++;
    }
    return this.#chunks[i]![at]!;
  }

  /** A copy of the next `n` buffered bytes, not consumed (error paths only). */
  #peek(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    let head = this.#head;
    for (const c of this.#chunks) {
      const k = Math.min(c.length - head, n - off);
      c.copy(out, off, head, head + k);
      off += k;
      head = 0;
      if (off === n) break;
    }
    return out;
  }

  /** Consume `n` buffered bytes: a view when they lie in one chunk, else one copy. */
  #take(n: number): Buffer {
    this.#buffered -= n;
    const first = this.#chunks[0]!;
    const start = this.#head;
    if (first.length - start >= n) {
      this.#head = start + n;
      if (this.#head === first.length) this.#dropFirst();
      return first.subarray(start, start + n);
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.#chunks[0]!;
      const k = Math.min(c.length - this.#head, n - off);
      c.copy(out, off, this.#head, this.#head + k);
      off += k;
      this.#head += k;
      if (this.#head === c.length) this.#dropFirst();
    }
    return out;
  }

  #dropFirst(): void {
    this.#chunks.shift();
    this.#head = 0;
  }
}

const EMPTY = Buffer.alloc(0);

/** The framer already knows the lengths match; only the codec's own checks can fail. */
function decodePduChecked(bhs: Buffer, ahs: Buffer, data: Buffer): Pdu {
  return codecForOpcode(readOpcode(bhs))!.decode(bhs, ahs, data);
}
