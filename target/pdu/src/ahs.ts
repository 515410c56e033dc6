/**
 * Additional Header Segments (RFC 7143 §11.2.2). Each segment: AHSLength (2 bytes, counts the AHS-specific bytes
 * after the type byte), AHSType (1 byte), AHS-specific bytes, padding to a 4-byte word.
 */
import { padLength } from './bhs.ts';
import { PduDecodeError } from './errors.ts';
import { RejectReason } from './types.ts';

/** RFC 7143 §11.2.2.1 AHSType codes */
export const AhsType = {
  ExtendedCdb: 1,
  BidirectionalReadExpectedDataTransferLength: 2,
} as const;

/** The first 16 CDB bytes live in the BHS; longer CDBs spill into the Extended CDB AHS (RFC 7143 §11.3.5). */
export const BHS_CDB_LENGTH = 16;
/** RFC 7143 §11.2.2: the 3 bytes of AHSLength + AHSType before the AHS-specific bytes. */
const AHS_SEGMENT_HEADER = 3;
/** RFC 7143 §11.3.5: Bidirectional Read EDTL AHS has AHSLength 0x0005 (a reserved byte + a 4-byte length). */
const BIDI_AHS_LENGTH = 5;

export interface AhsSegment {
  type: number;
  /** The AHS-specific bytes (AHSLength of them), a view into the input. */
  specific: Buffer;
  /** The whole segment including padding, a view into the input. */
  raw: Buffer;
}

/** Split a raw AHS into segments. Throws PduDecodeError when a segment runs past TotalAHSLength. */
export function parseAhs(ahs: Buffer): AhsSegment[] {
  const segments: AhsSegment[] = [];
  let offset = 0;
  while (offset < ahs.length) {
    if (ahs.length - offset < AHS_SEGMENT_HEADER) {
      throw new PduDecodeError(`AHS: ${ahs.length - offset} trailing bytes are too short for a segment`);
    }
    const length = ahs.readUInt16BE(offset);
    const type = ahs[offset + 2]!;
    const start = offset + AHS_SEGMENT_HEADER;
    const end = start + length;
    const padded = end + padLength(end - offset);
    if (padded > ahs.length) {
      // RFC 7143 §11.2.1.4: TotalAHSLength covers every AHS with its padding
      throw new PduDecodeError(`AHS type ${type}: AHSLength ${length} runs past TotalAHSLength`);
    }
    segments.push({ type, specific: ahs.subarray(start, end), raw: ahs.subarray(offset, padded) });
    offset = padded;
  }
  return segments;
}

function segment(type: number, specific: Buffer): Buffer {
  const size = AHS_SEGMENT_HEADER + specific.length;
  const out = Buffer.alloc(size + padLength(size));
  out.writeUInt16BE(specific.length, 0);
  out[2] = type;
  specific.copy(out, AHS_SEGMENT_HEADER);
  return out;
}

/** RFC 7143 §11.3.5 Extended CDB AHS: AHSLength = CDB length − 15 (one reserved byte + the CDB beyond 16 bytes). */
export function extendedCdbAhs(cdb: Buffer): Buffer {
  const specific = Buffer.alloc(1 + cdb.length - BHS_CDB_LENGTH);
  cdb.copy(specific, 1, BHS_CDB_LENGTH);
  return segment(AhsType.ExtendedCdb, specific);
}

/** RFC 7143 §11.3.5 Bidirectional Read Expected Data Transfer Length AHS. */
export function bidiReadLengthAhs(length: number): Buffer {
  const specific = Buffer.alloc(BIDI_AHS_LENGTH);
  specific.writeUInt32BE(length >>> 0, 1);
  return segment(AhsType.BidirectionalReadExpectedDataTransferLength, specific);
}

export interface ScsiCommandAhs {
  /** Bytes of the CDB beyond the first 16, or undefined. */
  extendedCdb?: Buffer;
  bidiReadExpectedDataTransferLength?: number;
}

/** The two AHS types a SCSI Command can carry (RFC 7143 §11.3.5); other types are left in `ahs` untouched. */
export function decodeScsiCommandAhs(ahs: Buffer): ScsiCommandAhs {
  const out: ScsiCommandAhs = {};
  if (ahs.length === 0) return out;
  for (const s of parseAhs(ahs)) {
    if (s.type === AhsType.ExtendedCdb) {
      if (out.extendedCdb) throw new PduDecodeError('two Extended CDB AHS', RejectReason.InvalidPduField);
      if (s.specific.length < 2) {
        throw new PduDecodeError(`Extended CDB AHS with AHSLength ${s.specific.length}`, RejectReason.InvalidPduField);
      }
      out.extendedCdb = s.specific.subarray(1);
    } else if (s.type === AhsType.BidirectionalReadExpectedDataTransferLength) {
      if (out.bidiReadExpectedDataTransferLength !== undefined) {
        throw new PduDecodeError('two Bidirectional Read EDTL AHS', RejectReason.InvalidPduField);
      }
      if (s.specific.length !== BIDI_AHS_LENGTH) {
        throw new PduDecodeError(
          `Bidirectional Read EDTL AHS with AHSLength ${s.specific.length} (must be ${BIDI_AHS_LENGTH})`,
          RejectReason.InvalidPduField,
        );
      }
      out.bidiReadExpectedDataTransferLength = s.specific.readUInt32BE(1);
    }
  }
  return out;
}

/** Segments of `ahs` other than the given types, concatenated (so re-encoding a decoded PDU doesn't double them). */
export function ahsWithout(ahs: Buffer, types: readonly number[]): Buffer {
  if (ahs.length === 0) return ahs;
  const kept = parseAhs(ahs).filter((s) => !types.includes(s.type));
  return Buffer.concat(kept.map((s) => s.raw));
}
