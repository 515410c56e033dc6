/**
 * Basic Header Segment field helpers (RFC 7143 §11.2.1). Every PDU is a 48-byte BHS, optional AHS, optional
 * header digest, optional data segment padded to 4 bytes, optional data digest (RFC 7143 §11.2).
 * All multi-byte fields are big-endian (network order) — RFC 7143 §11.1 — except the digests (see crc32c.ts).
 */

/** RFC 7143 §11.2.1 */
export const BHS_LENGTH = 48;
/** CRC32C digest length (RFC 7143 §11.2.4, §13.1) */
export const DIGEST_LENGTH = 4;
/** TotalAHSLength is one byte counting 4-byte words (RFC 7143 §11.2.1.4), so the AHS is at most 1020 bytes. */
export const MAX_AHS_LENGTH = 255 * 4;
/** DataSegmentLength is 24 bits (RFC 7143 §11.2.1.5). */
export const MAX_DATA_SEGMENT_LENGTH = 0xffffff;

// RFC 7143 §11.2.1.1: byte 0 = reserved bit, I bit, 6-bit opcode
export const IMMEDIATE_BIT = 0x40;
export const OPCODE_MASK = 0x3f;
// Byte 1 bit 7 is the F (final) bit on every PDU that has one (RFC 7143 §11.2.1.3)
export const FINAL_BIT = 0x80;

/** Offsets of the fields that sit at the same place in every BHS (RFC 7143 §11.2.1). */
export const BhsOffset = {
  opcode: 0,
  flags: 1,
  totalAhsLength: 4,
  dataSegmentLength: 5,
  lun: 8,
  itt: 16,
} as const;

/** Bytes needed to pad `n` to a 4-byte boundary (RFC 7143 §11.2.3: the data segment is padded to a word). */
export function padLength(n: number): number {
  return (4 - (n & 3)) & 3;
}

export function readOpcode(bhs: Buffer): number {
  return bhs[0]! & OPCODE_MASK;
}

export function readImmediate(bhs: Buffer): boolean {
  return (bhs[0]! & IMMEDIATE_BIT) !== 0;
}

export function readFinal(bhs: Buffer): boolean {
  return (bhs[1]! & FINAL_BIT) !== 0;
}

/** TotalAHSLength in bytes (the field counts 4-byte words — RFC 7143 §11.2.1.4). */
export function readTotalAhsBytes(bhs: Buffer): number {
  return bhs[BhsOffset.totalAhsLength]! * 4;
}

export function readU24(buf: Buffer, offset: number): number {
  return (buf[offset]! << 16) | (buf[offset + 1]! << 8) | buf[offset + 2]!;
}

export function writeU24(buf: Buffer, offset: number, value: number): void {
  buf[offset] = (value >>> 16) & 0xff;
  buf[offset + 1] = (value >>> 8) & 0xff;
  buf[offset + 2] = value & 0xff;
}

/** DataSegmentLength, without padding (RFC 7143 §11.2.1.5). */
export function readDataSegmentLength(bhs: Buffer): number {
  return readU24(bhs, BhsOffset.dataSegmentLength);
}

export function readU32(buf: Buffer, offset: number): number {
  return buf.readUInt32BE(offset);
}

export function writeU32(buf: Buffer, offset: number, value: number): void {
  buf.writeUInt32BE(value >>> 0, offset);
}

export function readU16(buf: Buffer, offset: number): number {
  return buf.readUInt16BE(offset);
}

export function writeU16(buf: Buffer, offset: number, value: number): void {
  buf.writeUInt16BE(value & 0xffff, offset);
}

/** The 8-byte LUN field, raw (SAM-5 §4.7 structure decoded by lun.ts). */
export function readLunField(buf: Buffer, offset = BhsOffset.lun): bigint {
  return buf.readBigUInt64BE(offset);
}

export function writeLunField(buf: Buffer, value: bigint, offset = BhsOffset.lun): void {
  buf.writeBigUInt64BE(BigInt.asUintN(64, value), offset);
}

export function readItt(bhs: Buffer): number {
  return bhs.readUInt32BE(BhsOffset.itt);
}

/** ISID: 6 bytes at offset 8 of Login Request/Response (RFC 7143 §11.12.5). A copy, so it outlives the input. */
export function readIsid(bhs: Buffer): Buffer {
  return Buffer.from(bhs.subarray(8, 14));
}

export function writeIsid(bhs: Buffer, isid: Buffer): void {
  if (isid.length !== 6) throw new RangeError(`ISID must be 6 bytes, got ${isid.length}`);
  isid.copy(bhs, 8);
}

/** Set bit flags: returns `mask` when `on`, else 0 — reads better than ternaries in the flag bytes. */
export function bit(on: boolean | undefined, mask: number): number {
  return on ? mask : 0;
}

/** StatSN, ExpCmdSN and MaxCmdSN: every target PDU carries them at bytes 24, 28 and 32 (RFC 7143 §11.4-§11.19). */
export interface StatusSequence {
  statSN: number;
  expCmdSN: number;
  maxCmdSN: number;
}

export function writeStatusSequence(bhs: Buffer, pdu: StatusSequence): void {
  bhs.writeUInt32BE(pdu.statSN >>> 0, 24);
  bhs.writeUInt32BE(pdu.expCmdSN >>> 0, 28);
  bhs.writeUInt32BE(pdu.maxCmdSN >>> 0, 32);
}

export function readStatusSequence(bhs: Buffer): StatusSequence {
  return { statSN: bhs.readUInt32BE(24), expCmdSN: bhs.readUInt32BE(28), maxCmdSN: bhs.readUInt32BE(32) };
}
