/**
 * WRITE ATOMIC(16) (SBC-4 §5.48, opcode 9Ch): the blocks are written all or none as other commands see them.
 * Atomic against every other write from any I_T nexus by holding the range in the LU's LBA lock — the one COMPARE
 * AND WRITE and every writer take (lba-lock.ts) — while the one positional write runs; reads of those blocks wait
 * for it too (withBlocksAtomic), so they return all old or all new data (SBC-4 §4.29.1). Not atomic across a power
 * loss: a file or LV backstore has no torn-write protection below it (known limit, see the report/README).
 * Limits (VPD B0h, vpd.ts atomicLimits): MAXIMUM ATOMIC TRANSFER LENGTH, no alignment or granularity restriction,
 * no atomic boundary (MAXIMUM ATOMIC BOUNDARY SIZE 0).
 */
import type { CommandContext, CommandResult } from './command.ts';
import { checkRange, rejectProtectField } from './cdb.ts';
import { invalidCdbField } from './sense.ts';
import { FUA, byteOffset, checkWritable, commitWrite, dataOut, luOf, throwIfAborted, withBlocksAtomic } from './sbc.ts';
import { atomicLimits } from './vpd.ts';

/** SBC-4 §5.48 Table 98: where the WRITE ATOMIC(16) fields are. */
export const WRITE_ATOMIC_16 = { opcode: 0x9c, lbaAt: 2, boundaryAt: 10, lengthAt: 12 } as const;

export async function writeAtomic16(ctx: CommandContext): Promise<CommandResult> {
  const lu = luOf(ctx);
  const cdb = ctx.cdb;
  const lba = cdb.readBigUInt64BE(WRITE_ATOMIC_16.lbaAt);
  const boundary = cdb.readUInt16BE(WRITE_ATOMIC_16.boundaryAt);
  const blocks = cdb.readUInt16BE(WRITE_ATOMIC_16.lengthAt); // TRANSFER LENGTH: two bytes in this CDB
  const bs = lu.blockSize;
  ctx.dataOutLength = blocks * bs;
  rejectProtectField(cdb); // WRPROTECT: no protection information
  const limits = atomicLimits(bs);
  // SBC-4 §5.48: an ATOMIC BOUNDARY other than zero while MAXIMUM ATOMIC BOUNDARY SIZE is zero → INVALID FIELD IN CDB
  if (boundary !== 0 && limits.maxBoundarySize === 0) throw invalidCdbField(WRITE_ATOMIC_16.boundaryAt);
  checkRange({ lba, blocks }, lu.blockCount());
  // SBC-4 §4.29.2: above MAXIMUM ATOMIC TRANSFER LENGTH, or off the ATOMIC ALIGNMENT / ATOMIC TRANSFER LENGTH
  // GRANULARITY, the device server shall not perform the write: INVALID FIELD IN CDB.
  if (blocks > limits.maxTransferBlocks) throw invalidCdbField(WRITE_ATOMIC_16.lengthAt);
  if (limits.alignment > 1 && blocks > 0 && lba % BigInt(limits.alignment) !== 0n) throw invalidCdbField(WRITE_ATOMIC_16.lbaAt);
  if (limits.granularity > 1 && blocks % limits.granularity !== 0) throw invalidCdbField(WRITE_ATOMIC_16.lengthAt);
  checkWritable(lu);
  if (blocks === 0) return {}; // SBC-4 §5.48: a TRANSFER LENGTH of zero is not an error and writes nothing
  // No partial-block tolerance (unlike WRITE): a short Data-Out would make a torn write of an atomic one.
  const data = await dataOut(ctx, blocks * bs);
  throwIfAborted(ctx);
  await withBlocksAtomic(lu, lba, blocks, () => lu.backstore.write(byteOffset(lu, lba), data));
  await commitWrite(lu, (cdb[1]! & FUA) !== 0);
  return {};
}
