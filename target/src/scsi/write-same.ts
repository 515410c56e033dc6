/** WRITE SAME(10) and WRITE SAME(16) (SBC-4 §5.49, §5.50), with the UNMAP bit, ANCHOR and NDOB. */
import type { CommandContext, CommandResult } from './command.ts';
import type { LogicalUnit } from './logical-unit.ts';
import { checkRange, rejectProtectField } from './cdb.ts';
import { ScsiError, invalidCdbField } from './sense.ts';
import { byteOffset, checkWritable, commitWrite, dataOut, luOf, throwIfAborted, withBlocks } from './sbc.ts';
import { provisioningLimits } from './vpd.ts';
import { deallocate } from './unmap.ts';

const ANCHOR = 0x10; // byte 1 bit 4
const UNMAP = 0x08; // byte 1 bit 3
const NDOB = 0x01; // WRITE SAME(16) byte 1 bit 0: no data-out buffer, the block is zeros (SBC-4 §5.50)

/** Where WRITE SAME(10)/(16) keep LBA and NUMBER OF LOGICAL BLOCKS. */
const LAYOUT = {
  10: { lbaAt: 2, lbaBytes: 4, lenAt: 7, lenBytes: 2 },
  16: { lbaAt: 2, lbaBytes: 8, lenAt: 10, lenBytes: 4 },
} as const;

/** Repeated writes go out this many bytes at a time (one buffer of the block repeated). */
const CHUNK_BYTES = 1024 * 1024;

export async function writeSame(ctx: CommandContext, size: 10 | 16): Promise<CommandResult> {
  const lu = luOf(ctx);
  const cdb = ctx.cdb;
  const l = LAYOUT[size];
  const b1 = cdb[1]!;
  const unmap = (b1 & UNMAP) !== 0;
  const ndob = size === 16 && (b1 & NDOB) !== 0;
  const lba = l.lbaBytes === 8 ? cdb.readBigUInt64BE(l.lbaAt) : BigInt(cdb.readUInt32BE(l.lbaAt));
  let blocks = l.lenBytes === 2 ? cdb.readUInt16BE(l.lenAt) : cdb.readUInt32BE(l.lenAt);
  const bs = lu.blockSize;
  ctx.dataOutLength = ndob ? 0 : bs;

  rejectProtectField(cdb); // WRPROTECT: no protection information
  // SBC-4 §5.49: ANCHOR with UNMAP clear is invalid; with UNMAP set it needs ANC_SUP, which we don't claim (VPD B2h).
  if (b1 & ANCHOR) throw invalidCdbField(1, 4);
  const capacity = lu.blockCount();
  if (lba >= capacity && !(lba === capacity && blocks === 0)) throw new ScsiError('LBA_OUT_OF_RANGE', { information: lba });
  // WSNZ 0 (VPD B0h): NUMBER OF LOGICAL BLOCKS 0 means from LBA through the last LBA.
  if (blocks === 0) {
    const toEnd = capacity - lba;
    if (toEnd > 0xffffffffn) throw invalidCdbField(l.lenAt);
    blocks = Number(toEnd);
  }
  // SBC-4 §5.49: more than MAXIMUM WRITE SAME LENGTH → INVALID FIELD IN CDB.
  if (blocks > provisioningLimits(bs).maxWriteSameBlocks) throw invalidCdbField(l.lenAt);
  checkRange({ lba, blocks }, capacity);
  checkWritable(lu);
  if (blocks === 0) return {};

  let block: Buffer;
  if (ndob) {
    block = Buffer.alloc(bs);
  } else {
    // Exactly one logical block of data-out; a transport that declared a different length is refused before
    // anything is written (libiscsi WriteSame*InvalidDataOutSize).
    if (ctx.req.expectedDataTransferLength > bs) throw new ScsiError('INVALID_FIELD_IN_COMMAND_INFORMATION_UNIT');
    block = await dataOut(ctx, bs);
  }
  throwIfAborted(ctx);
  const offset = byteOffset(lu, lba);
  const length = blocks * bs;
  const zeros = !unmap && isZero(block);
  await withBlocks(lu, lba, blocks, async () => {
    if (unmap) {
      // UNMAP bit: the blocks are deallocated and read back as zeros (LBPRZ), whatever the data block holds — as LIO
      // and tgt do, and as libiscsi's WriteSame*.UnmapUntilEnd requires (it sends a block of FFh with UNMAP set and
      // expects zeros back).
      await deallocate(lu, offset, length);
    } else if (zeros && lu.backstore.writeZeroes) {
      await lu.backstore.writeZeroes(offset, length);
    } else {
      await writeRepeated(ctx, lu, offset, length, block);
    }
  });
  await commitWrite(lu, false);
  return {};
}

function isZero(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

async function writeRepeated(ctx: CommandContext, lu: LogicalUnit, offset: number, length: number, block: Buffer): Promise<void> {
  const perChunk = Math.max(1, Math.floor(CHUNK_BYTES / block.length)) * block.length;
  const chunk = Buffer.allocUnsafe(Math.min(perChunk, length));
  for (let i = 0; i < chunk.length; i += block.length) block.copy(chunk, i);
  for (let done = 0; done < length; done += chunk.length) {
    throwIfAborted(ctx);
    await lu.backstore.write(offset + done, chunk.subarray(0, Math.min(chunk.length, length - done)));
  }
}
