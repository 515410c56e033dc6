/** UNMAP (SBC-4 §5.32): deallocate the LBA ranges of a parameter list of block descriptors. */
import type { CommandContext, CommandResult } from './command.ts';
import type { LogicalUnit } from './logical-unit.ts';
import { ScsiError, invalidCdbField, invalidParameterField } from './sense.ts';
import { byteOffset, checkWritable, commitWrite, luOf, throwIfAborted, withBlocks } from './sbc.ts';
import { provisioningLimits } from './vpd.ts';

const ANCHOR = 0x01; // CDB byte 1 bit 0
const HEADER_BYTES = 8; // SBC-4 §5.32.2 Table 104: UNMAP parameter list header
const DESCRIPTOR_BYTES = 16; // Table 105: LBA (8), NUMBER OF LOGICAL BLOCKS (4), reserved (4)

interface Extent {
  lba: bigint;
  blocks: number;
}

/**
 * Deallocate bytes [offset, offset+length) so they read back as zeros (LBPRZ). The backstore punches a hole; one
 * without discard() gets zeros written.
 */
export async function deallocate(lu: LogicalUnit, offset: number, length: number): Promise<void> {
  if (lu.backstore.discard) return lu.backstore.discard(offset, length);
  const zeros = Buffer.alloc(Math.min(length, 1024 * 1024));
  for (let done = 0; done < length; done += zeros.length) {
    await lu.backstore.write(offset + done, zeros.subarray(0, Math.min(zeros.length, length - done)));
  }
}

export async function unmap(ctx: CommandContext): Promise<CommandResult> {
  const lu = luOf(ctx);
  const cdb = ctx.cdb;
  const listLength = cdb.readUInt16BE(7);
  ctx.dataOutLength = listLength;
  // ANCHOR needs ANC_SUP (VPD B2h), which we don't claim.
  if (cdb[1]! & ANCHOR) throw invalidCdbField(1, 0);
  checkWritable(lu);
  // SBC-4 §5.32.1: a PARAMETER LIST LENGTH of zero is not an error: nothing is unmapped.
  if (listLength === 0) return {};
  // ... one from 1 to 7 can't hold the header.
  if (listLength < HEADER_BYTES) throw new ScsiError('PARAMETER_LIST_LENGTH_ERROR');
  const list = await ctx.req.readDataOut(listLength);
  if (list.length < listLength) throw new ScsiError('PARAMETER_LIST_LENGTH_ERROR');
  const extents = parseList(list, lu);
  throwIfAborted(ctx);
  for (const e of extents) {
    if (e.blocks === 0) continue;
    await withBlocks(lu, e.lba, e.blocks, () => deallocate(lu, byteOffset(lu, e.lba), e.blocks * lu.blockSize));
  }
  await commitWrite(lu, false);
  return {};
}

/** Validate the whole list before anything is deallocated (an error leaves the medium untouched). */
export function parseList(list: Buffer, lu: LogicalUnit): Extent[] {
  const dataLength = list.readUInt16BE(0);
  const descLength = list.readUInt16BE(2);
  // SBC-4 §5.32.2: the lengths must fit the parameter list actually sent.
  if (dataLength + 2 > list.length || descLength + HEADER_BYTES > list.length) {
    throw new ScsiError('PARAMETER_LIST_LENGTH_ERROR');
  }
  // A trailing partial descriptor is ignored (SBC-4 §5.32.2: only whole descriptors count).
  const count = Math.floor(descLength / DESCRIPTOR_BYTES);
  const limits = provisioningLimits(lu.blockSize);
  if (count > limits.maxUnmapDescriptors) throw invalidParameterField(2);
  const capacity = lu.blockCount();
  const extents: Extent[] = [];
  let total = 0;
  for (let i = 0; i < count; i++) {
    const at = HEADER_BYTES + i * DESCRIPTOR_BYTES;
    const lba = list.readBigUInt64BE(at);
    const blocks = list.readUInt32BE(at + 8);
    // SBC-4 §5.32.1: LBA + NUMBER OF LOGICAL BLOCKS beyond the capacity → LBA OUT OF RANGE.
    if (lba + BigInt(blocks) > capacity) throw new ScsiError('LBA_OUT_OF_RANGE', { information: lba });
    total += blocks;
    // ... more than MAXIMUM UNMAP LBA COUNT → INVALID FIELD IN PARAMETER LIST.
    if (total > limits.maxUnmapBlocks) throw invalidParameterField(at + 8);
    extents.push({ lba, blocks });
  }
  return extents;
}
