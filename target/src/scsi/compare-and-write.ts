/**
 * COMPARE AND WRITE (SBC-4 §5.3) — VMware's ATS — and ORWRITE(16) (SBC-4 §5.6). Both read, decide and write as one
 * uninterrupted action: they hold the blocks in the LU's range lock (lba-lock.ts) that every writer takes.
 */
import type { CommandContext, CommandResult } from './command.ts';
import { checkRange, rejectProtectField } from './cdb.ts';
import { readBlockRange } from './cdb.ts';
import { ScsiError, invalidCdbField } from './sense.ts';
import {
  FUA,
  byteOffset,
  checkTransferLength,
  checkWritable,
  commitWrite,
  dataOut,
  firstDifference,
  luOf,
  throwIfAborted,
  withBlocks,
  withBlocksAtomic,
} from './sbc.ts';
import { provisioningLimits } from './vpd.ts';

const CAW_BLOCKS_AT = 13; // SBC-4 §5.3 Table 19: NUMBER OF LOGICAL BLOCKS, one byte

export async function compareAndWrite(ctx: CommandContext): Promise<CommandResult> {
  const lu = luOf(ctx);
  const cdb = ctx.cdb;
  const lba = cdb.readBigUInt64BE(2);
  const blocks = cdb[CAW_BLOCKS_AT]!;
  const bs = lu.blockSize;
  const half = blocks * bs;
  // The Data-Out Buffer is the verify instance followed by the write instance (SBC-4 §5.3.1).
  ctx.dataOutLength = 2 * half;
  rejectProtectField(cdb);
  // SBC-4 §5.3.1: above MAXIMUM COMPARE AND WRITE LENGTH (VPD B0h) → INVALID FIELD IN CDB.
  if (blocks > provisioningLimits(bs).maxCompareAndWriteBlocks) throw invalidCdbField(CAW_BLOCKS_AT);
  // The transport's expected length must be exactly the two instances. A mismatch means the CDB's NUMBER OF LOGICAL
  // BLOCKS is not what the initiator meant (e.g. 256 truncated to 0 in the one-byte field): refusing it is the only
  // safe answer for an atomic primitive (LIO does the same; libiscsi CompareAndWrite.Simple/InvalidDataOutSize).
  if (ctx.req.expectedDataTransferLength !== 2 * half) throw invalidCdbField(CAW_BLOCKS_AT);
  checkRange({ lba, blocks }, lu.blockCount());
  checkWritable(lu);
  // ... zero blocks (with no data-out): not an error, nothing compared or written.
  if (blocks === 0) return {};
  const data = await dataOut(ctx, 2 * half);
  const verifyData = data.subarray(0, half);
  const writeData = data.subarray(half);
  throwIfAborted(ctx);
  const offset = byteOffset(lu, lba);
  await withBlocksAtomic(lu, lba, blocks, async () => {
    const medium = await lu.backstore.read(offset, half);
    const diff = firstDifference(verifyData, medium);
    // SBC-4 §5.3.2: MISCOMPARE / MISCOMPARE DURING VERIFY OPERATION, INFORMATION = offset of the first differing byte
    // from the start of the Data-Out Buffer; nothing written.
    if (diff >= 0) throw new ScsiError('MISCOMPARE_DURING_VERIFY', { information: BigInt(diff) });
    await lu.backstore.write(offset, writeData);
  });
  await commitWrite(lu, (cdb[1]! & FUA) !== 0);
  return {};
}

/**
 * ORWRITE(16): medium := medium OR data-out. The 16-byte CDB has no BMOP field (that is ORWRITE(32), for which
 * there is no use without the generation-tracking of §4.24), so this is the plain OR, done under the range lock
 * so no other write can slip between the read and the write.
 */
export async function orWrite(ctx: CommandContext): Promise<CommandResult> {
  const size = 16;
  const lu = luOf(ctx);
  const cdb = ctx.cdb;
  const range = readBlockRange(cdb, size);
  const bs = lu.blockSize;
  ctx.dataOutLength = range.blocks * bs;
  rejectProtectField(cdb); // ORPROTECT
  checkRange(range, lu.blockCount());
  checkTransferLength(lu, range, size);
  checkWritable(lu);
  if (range.blocks === 0) return {};
  const data = await dataOut(ctx, range.blocks * bs, bs);
  if (data.length === 0) return {};
  throwIfAborted(ctx);
  const offset = byteOffset(lu, range.lba);
  await withBlocks(lu, range.lba, data.length / bs, async () => {
    const medium = await lu.backstore.read(offset, data.length);
    for (let i = 0; i < medium.length; i++) medium[i] = medium[i]! | data[i]!;
    await lu.backstore.write(offset, medium);
  });
  await commitWrite(lu, (cdb[1]! & FUA) !== 0);
  return {};
}
