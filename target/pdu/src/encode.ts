import { BHS_LENGTH, DIGEST_LENGTH, MAX_AHS_LENGTH, MAX_DATA_SEGMENT_LENGTH, padLength, writeU24 } from './bhs.ts';
import { codecForOpcode } from './codec-table.ts';
import { crc32cUpdate, writeDigest } from './crc32c.ts';
import type { Pdu, PduInit } from './types.ts';

export interface EncodeOptions {
  headerDigest?: boolean;
  dataDigest?: boolean;
}

const EMPTY = Buffer.alloc(0);

/**
 * Encode a PDU as chunks for a cork/writev: [BHS + AHS (+ header digest)], then when there is data [data] (the
 * caller's Buffer, not copied) and [padding (+ data digest)] when either is non-empty (RFC 7143 §11.2).
 * TotalAHSLength and DataSegmentLength are derived from `ahs` / `data`.
 */
export function encodePdu(pdu: PduInit<Pdu>, opts: EncodeOptions = {}): Buffer[] {
  const codec = codecForOpcode(pdu.opcode);
  if (!codec || codec.opcode !== pdu.opcode) throw new RangeError(`unknown iSCSI opcode 0x${Number(pdu.opcode).toString(16)}`);
  const ahs = codec.encodeAhs ? codec.encodeAhs(pdu) : (pdu.ahs ?? EMPTY);
  // RFC 7143 §11.2.1.4: TotalAHSLength counts 4-byte words in one byte
  if ((ahs.length & 3) !== 0 || ahs.length > MAX_AHS_LENGTH) {
    throw new RangeError(`AHS length ${ahs.length} is not a multiple of 4 up to ${MAX_AHS_LENGTH}`);
  }
  const data = pdu.data ?? EMPTY;
  // RFC 7143 §11.2.1.5: DataSegmentLength is 24 bits
  if (data.length > MAX_DATA_SEGMENT_LENGTH) throw new RangeError(`data segment of ${data.length} bytes is too long`);

  const headerEnd = BHS_LENGTH + ahs.length;
  const header = Buffer.alloc(headerEnd + (opts.headerDigest ? DIGEST_LENGTH : 0));
  header[0] = pdu.opcode;
  header[4] = ahs.length >>> 2;
  writeU24(header, 5, data.length);
  codec.encode(pdu, header);
  if (ahs.length > 0) ahs.copy(header, BHS_LENGTH);
  // RFC 7143 §11.2.4: the header digest covers the BHS and the AHS
  if (opts.headerDigest) writeDigest(header, headerEnd, crc32cUpdate(0, header, 0, headerEnd));
  if (data.length === 0) return [header];

  const pad = padLength(data.length);
  const trailerLength = pad + (opts.dataDigest ? DIGEST_LENGTH : 0);
  if (trailerLength === 0) return [header, data];
  const trailer = Buffer.alloc(trailerLength);
  // RFC 7143 §11.2.4: the data digest covers the data segment and its padding
  if (opts.dataDigest) writeDigest(trailer, pad, crc32cUpdate(crc32cUpdate(0, data), trailer, 0, pad));
  return [header, data, trailer];
}

/** encodePdu's chunks concatenated into one Buffer (tests, logs, small PDUs). */
export function encodePduToBuffer(pdu: PduInit<Pdu>, opts: EncodeOptions = {}): Buffer {
  const chunks = encodePdu(pdu, opts);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}
