/** GET LBA STATUS (SBC-4 §5.22): which blocks from a starting LBA are mapped and which are deallocated. */
import type { CommandContext, CommandResult } from './command.ts';
import type { LogicalUnit } from './logical-unit.ts';
import { truncate } from './cdb.ts';
import { ScsiError } from './sense.ts';
import { luOf } from './sbc.ts';

/** SBC-4 §5.22.2 Table 60 PROVISIONING STATUS. */
export const ProvisioningStatus = { MAPPED: 0x0, DEALLOCATED: 0x1, ANCHORED: 0x2 } as const;

const HEADER_BYTES = 8;
const DESCRIPTOR_BYTES = 16;
/** Descriptors in one answer at most: the initiator asks again from where the last one ends. */
const MAX_DESCRIPTORS = 64;
const MAX_EXTENT_BLOCKS = 0xffffffff; // NUMBER OF LOGICAL BLOCKS is 4 bytes

export interface LbaExtent {
  lba: bigint;
  blocks: number;
  status: number;
}

/**
 * The extent of one status that starts at block `b` (bigint-free: LBAs of a real LU fit a double exactly).
 * A block is mapped if any byte of it holds data: a hole narrower than a block leaves it mapped.
 */
async function extentAt(lu: LogicalUnit, b: number, last: number): Promise<{ mapped: boolean; end: number }> {
  const bs = lu.blockSize;
  if (!lu.backstore.allocation) return { mapped: true, end: last };
  const here = await lu.backstore.allocation(b * bs);
  if (here.mapped) return { mapped: true, end: Math.min(last, Math.max(b + 1, Math.ceil(here.end / bs))) };
  const holeEnd = Math.floor(here.end / bs);
  if (holeEnd > b) return { mapped: false, end: Math.min(last, holeEnd) };
  // The hole ends inside block b: that block holds data; the mapped run goes on from there.
  const next = await lu.backstore.allocation(here.end);
  return { mapped: true, end: Math.min(last, Math.max(b + 1, Math.ceil(next.end / bs))) };
}

/** Up to `max` descriptors from `start`, adjacent runs of one status merged. */
export async function lbaStatus(lu: LogicalUnit, start: bigint, max: number): Promise<LbaExtent[]> {
  const capacity = Number(lu.blockCount());
  const out: LbaExtent[] = [];
  let b = Number(start);
  while (b < capacity && out.length <= max) {
    const { mapped, end } = await extentAt(lu, b, capacity);
    const status = mapped ? ProvisioningStatus.MAPPED : ProvisioningStatus.DEALLOCATED;
    const prev = out[out.length - 1];
    if (prev && prev.status === status && Number(prev.lba) + prev.blocks === b && prev.blocks + (end - b) <= MAX_EXTENT_BLOCKS) {
      prev.blocks += end - b;
    } else {
      out.push({ lba: BigInt(b), blocks: Math.min(end - b, MAX_EXTENT_BLOCKS), status });
    }
    b = Number(out[out.length - 1]!.lba) + out[out.length - 1]!.blocks;
  }
  return out.slice(0, max);
}

export async function getLbaStatus(ctx: CommandContext): Promise<CommandResult> {
  const lu = luOf(ctx);
  const cdb = ctx.cdb;
  const start = cdb.readBigUInt64BE(2);
  const allocLength = cdb.readUInt32BE(10);
  // SBC-4 §5.22.1: a STARTING LOGICAL BLOCK ADDRESS beyond the last LBA → LBA OUT OF RANGE.
  if (start >= lu.blockCount()) throw new ScsiError('LBA_OUT_OF_RANGE', { information: start });
  if (allocLength === 0) return { data: Buffer.alloc(0) };
  const room = Math.max(1, Math.min(MAX_DESCRIPTORS, Math.floor((allocLength - HEADER_BYTES) / DESCRIPTOR_BYTES)));
  const extents = await lbaStatus(lu, start, room);
  const data = Buffer.alloc(HEADER_BYTES + extents.length * DESCRIPTOR_BYTES);
  // SBC-4 §5.22.2 Table 58: PARAMETER DATA LENGTH counts the bytes after itself.
  data.writeUInt32BE(data.length - 4, 0);
  extents.forEach((e, i) => {
    const at = HEADER_BYTES + i * DESCRIPTOR_BYTES;
    data.writeBigUInt64BE(e.lba, at);
    data.writeUInt32BE(e.blocks, at + 8);
    data[at + 12] = e.status;
  });
  return { data: truncate(data, allocLength) };
}
