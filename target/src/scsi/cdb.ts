/** CDB field decoding shared by the handlers (SBC-4 §5, SPC-4 §4.2). */
import { ScsiError, invalidCdbField } from './sense.ts';

/** Logical block address and transfer length of a READ/WRITE/VERIFY-style CDB. */
export interface BlockRange {
  lba: bigint;
  blocks: number;
}

/** Where each CDB size keeps its LBA and transfer length (SBC-4 §5.x). */
export const RW_LAYOUT = {
  6: { lbaAt: 1, lbaBytes: 3, lenAt: 4, lenBytes: 1 },
  10: { lbaAt: 2, lbaBytes: 4, lenAt: 7, lenBytes: 2 },
  12: { lbaAt: 2, lbaBytes: 4, lenAt: 6, lenBytes: 4 },
  16: { lbaAt: 2, lbaBytes: 8, lenAt: 10, lenBytes: 4 },
} as const satisfies Record<number, { lbaAt: number; lbaBytes: number; lenAt: number; lenBytes: number }>;

export type CdbSize = keyof typeof RW_LAYOUT;

export function readBlockRange(cdb: Buffer, size: CdbSize): BlockRange {
  if (size === 6) {
    // SBC-4 §5.15 READ(6): 21-bit LBA; a TRANSFER LENGTH of 0 means 256 blocks.
    const lba = BigInt(((cdb[1]! & 0x1f) << 16) | cdb.readUInt16BE(2));
    const blocks = cdb[4]! === 0 ? 256 : cdb[4]!;
    return { lba, blocks };
  }
  const l = RW_LAYOUT[size];
  const lba = l.lbaBytes === 8 ? cdb.readBigUInt64BE(l.lbaAt) : BigInt(cdb.readUInt32BE(l.lbaAt));
  const blocks = l.lenBytes === 2 ? cdb.readUInt16BE(l.lenAt) : cdb.readUInt32BE(l.lenAt);
  return { lba, blocks };
}

/** SBC-4 §4.5: LBA + length beyond the capacity → LBA OUT OF RANGE; bigint so 2^64-1 can't wrap. */
export function checkRange(range: BlockRange, blockCount: bigint): void {
  if (range.lba + BigInt(range.blocks) > blockCount) {
    throw new ScsiError('LBA_OUT_OF_RANGE', { information: range.lba });
  }
}

/** SBC-4 §5.x: RDPROTECT/WRPROTECT/VRPROTECT (byte 1 bits 7..5) ≠ 0 needs protection information we lack. */
export function rejectProtectField(cdb: Buffer): void {
  if ((cdb[1]! & 0xe0) !== 0) throw invalidCdbField(1, 7);
}

/** Data-in truncated to the allocation length (SPC-4 §4.2.5.6: never an error). */
export function truncate(data: Buffer, allocLength: number): Buffer {
  return data.length > allocLength ? data.subarray(0, allocLength) : data;
}

/** Fixed-width ASCII, space padded (SPC-4 §4.4.1 — left-aligned, unused bytes are spaces). */
export function asciiField(text: string, width: number): Buffer {
  const b = Buffer.alloc(width, 0x20);
  b.write(text.replace(/[^\x20-\x7e]/g, '?').slice(0, width), 'ascii');
  return b;
}
