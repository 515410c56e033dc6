/**
 * EXTENDED COPY (LID1) — SPC-4 §6.4 (SPC-3 §6.3) — VMware's XCOPY "full copy" primitive: block device to block
 * device segments (02h) between LUs named by identification CSCD descriptors (E4h).
 *
 * Two phases. First the whole parameter list is checked (ILLEGAL REQUEST with the specific additional sense and a
 * field pointer into the list): nothing has been copied when one of those errors comes back. Then each segment is
 * processed in order; what goes wrong there (unreachable CSCD, LBA out of range, medium errors) is COPY ABORTED
 * (SPC-4 §6.4.1: errors while processing segments) and RECEIVE COPY RESULTS can tell how far the copy got.
 *
 * Security: CSCD designators resolve only among LUs the initiator may reach (lun-registry.ts, CVE-2020-28374), and
 * the reservations of the source and destination LUs are honoured for the requesting I_T nexus.
 */
import type { CommandContext, CommandResult } from './command.ts';
import { COPY_LIMITS, CopyDescriptorType } from './copy-limits.ts';
import { ListIdUsage, copyResultsOf } from './copy-results.ts';
import type { CopyRecord } from './copy-results.ts';
import { lbaLockOf } from './lba-lock.ts';
import type { LogicalUnit } from './logical-unit.ts';
import { resolveCopyTarget } from './lun-registry.ts';
import type { Designator } from './lun-registry.ts';
import { ReservationConflict } from './reservations.ts';
import { commitWrite, dataOut, luOf } from './sbc.ts';
import { ScsiError, buildSense, invalidParameterField } from './sense.ts';
import type { SenseReason } from './sense.ts';
import { ScsiStatus } from './types.ts';
import { DEVICE_TYPE_DISK } from './vpd.ts';

const PARAMETER_LIST_LENGTH_AT = 10; // SPC-4 §6.4.1 Table 101: bytes 10..13
const HEADER_LENGTH = 16; // SPC-4 §6.4.3.1 Table 104 parameter list header (LID1)
const CSCD_DESCRIPTOR_LENGTH = 32; // SPC-4 §6.4.5.1: every CSCD descriptor type we might meet is 32 bytes
const B2B_DESCRIPTOR_LENGTH = 0x18; // SPC-4 §6.4.6.5: DESCRIPTOR LENGTH of a 02h segment descriptor
const SEGMENT_HEADER_LENGTH = 4; // type, DC/CAT, DESCRIPTOR LENGTH
/** A parameter list beyond this cannot be valid (header + descriptors + no inline data): refused unread. */
const MAX_PARAMETER_LIST_LENGTH = HEADER_LENGTH + COPY_LIMITS.maxDescriptorListLength + 64 * 1024;

/** SPC-4 §6.4.5.6 Table 118 identification descriptor CSCD descriptor fields. */
const Cscd = {
  DEVICE_TYPE_AT: 1,
  DEVICE_TYPE_MASK: 0x1f,
  NUL: 0x20, // SPC-3 only (obsolete in SPC-4): a null device — never a real LU
  DESIGNATOR_AT: 4, // a designation descriptor (SPC-4 §7.8.6.1) of at most 20 bytes
  DESIGNATOR_MAX: 16,
  BLOCK_LENGTH_AT: 29, // device type specific parameters (SPC-4 §6.4.5.2.2): DISK BLOCK LENGTH, 3 bytes
} as const;

/** SPC-4 §6.4.6.5 Table 132 block device to block device segment descriptor fields. */
const Segment = {
  DC: 0x02,
  SOURCE_INDEX_AT: 4,
  DESTINATION_INDEX_AT: 6,
  BLOCKS_AT: 10,
  SOURCE_LBA_AT: 12,
  DESTINATION_LBA_AT: 20,
} as const;

interface CscdDescriptor {
  /** Offset of the descriptor in the parameter list (for field pointers). */
  at: number;
  nul: boolean;
  designator: Designator;
  blockLength: number;
}

interface BlockSegment {
  at: number;
  dc: boolean;
  sourceIndex: number;
  destinationIndex: number;
  blocks: number;
  sourceLba: bigint;
  destinationLba: bigint;
}

export interface CopyParameters {
  listId: number;
  listIdUsage: number;
  cscds: CscdDescriptor[];
  segments: BlockSegment[];
}

/** PARAMETER LIST LENGTH ERROR (SPC-4 §6.4.1): the list ends inside something it announced. */
function listLengthError(): ScsiError {
  return new ScsiError('PARAMETER_LIST_LENGTH_ERROR');
}

function parameterError(reason: SenseReason, at: number): ScsiError {
  return new ScsiError(reason, { fieldPointer: { cd: false, byte: at } });
}

/**
 * Parse and check a LID1 parameter list, in the order that makes each answer specific: lengths first (a truncated
 * or oversized list), then descriptor counts and types, then fields. Throws ILLEGAL REQUEST; nothing is resolved.
 */
export function parseCopyParameters(list: Buffer): CopyParameters {
  if (list.length < HEADER_LENGTH) throw listLengthError();
  const listId = list[0]!;
  const listIdUsage = (list[1]! >> 3) & 0x03;
  if (listIdUsage === ListIdUsage.RESERVED) throw invalidParameterField(1, 4);
  const cscdLength = list.readUInt16BE(2);
  const segmentLength = list.readUInt32BE(8);
  const inlineLength = list.readUInt32BE(12);
  // SPC-4 §6.4.3.1: descriptors beyond MAXIMUM DESCRIPTOR LIST LENGTH are a parameter list length error.
  if (cscdLength + segmentLength > COPY_LIMITS.maxDescriptorListLength) throw listLengthError();
  if (HEADER_LENGTH + cscdLength + segmentLength + inlineLength > list.length) throw listLengthError();
  if (inlineLength > COPY_LIMITS.maxInlineDataLength) throw invalidParameterField(12);

  const cscds: CscdDescriptor[] = [];
  const cscdEnd = HEADER_LENGTH + cscdLength;
  for (let at = HEADER_LENGTH; at < cscdEnd; at += CSCD_DESCRIPTOR_LENGTH) {
    if (cscds.length === COPY_LIMITS.maxCscdDescriptors) throw new ScsiError('TOO_MANY_TARGET_DESCRIPTORS');
    if (at + CSCD_DESCRIPTOR_LENGTH > cscdEnd) throw invalidParameterField(2); // CSCD DESCRIPTOR LIST LENGTH
    cscds.push(parseCscd(list, at));
  }

  const segments: BlockSegment[] = [];
  const segmentEnd = cscdEnd + segmentLength;
  for (let at = cscdEnd; at < segmentEnd; ) {
    if (segments.length === COPY_LIMITS.maxSegmentDescriptors) throw new ScsiError('TOO_MANY_SEGMENT_DESCRIPTORS');
    if (at + SEGMENT_HEADER_LENGTH > segmentEnd) throw invalidParameterField(8); // SEGMENT DESCRIPTOR LIST LENGTH
    if (list[at] !== CopyDescriptorType.BLOCK_TO_BLOCK) throw parameterError('UNSUPPORTED_SEGMENT_DESCRIPTOR_TYPE_CODE', at);
    const length = list.readUInt16BE(at + 2);
    if (length !== B2B_DESCRIPTOR_LENGTH) throw invalidParameterField(at + 2);
    if (at + SEGMENT_HEADER_LENGTH + length > segmentEnd) throw invalidParameterField(8);
    segments.push(parseBlockSegment(list, at, cscds));
    at += SEGMENT_HEADER_LENGTH + length;
  }
  return { listId, listIdUsage, cscds, segments };
}

function parseCscd(list: Buffer, at: number): CscdDescriptor {
  if (list[at] !== CopyDescriptorType.IDENTIFICATION_CSCD) throw parameterError('UNSUPPORTED_TARGET_DESCRIPTOR_TYPE_CODE', at);
  // SPC-4 §6.4.5.1: a peripheral device type the copy manager cannot copy to or from. LU ID TYPE (bits 7..6) is
  // ignored (SPC-4: the designator names the LU; libiscsi ExtendedCopy.ValidateTargetDescriptor).
  const deviceType = list[at + Cscd.DEVICE_TYPE_AT]! & Cscd.DEVICE_TYPE_MASK;
  if (deviceType !== DEVICE_TYPE_DISK) throw parameterError('UNSUPPORTED_TARGET_DESCRIPTOR_TYPE_CODE', at + Cscd.DEVICE_TYPE_AT);
  const d = at + Cscd.DESIGNATOR_AT;
  const length = list[d + 3]!;
  if (length > Cscd.DESIGNATOR_MAX) throw invalidParameterField(d + 3);
  return {
    at,
    nul: (list[at + Cscd.DEVICE_TYPE_AT]! & Cscd.NUL) !== 0,
    designator: {
      codeSet: list[d]! & 0x0f,
      association: (list[d + 1]! >> 4) & 0x03,
      type: list[d + 1]! & 0x0f,
      value: Buffer.from(list.subarray(d + 4, d + 4 + length)),
    },
    blockLength: list.readUIntBE(at + Cscd.BLOCK_LENGTH_AT, 3),
  };
}

function parseBlockSegment(list: Buffer, at: number, cscds: CscdDescriptor[]): BlockSegment {
  const segment: BlockSegment = {
    at,
    dc: (list[at + 1]! & Segment.DC) !== 0,
    sourceIndex: list.readUInt16BE(at + Segment.SOURCE_INDEX_AT),
    destinationIndex: list.readUInt16BE(at + Segment.DESTINATION_INDEX_AT),
    blocks: list.readUInt16BE(at + Segment.BLOCKS_AT),
    sourceLba: list.readBigUInt64BE(at + Segment.SOURCE_LBA_AT),
    destinationLba: list.readBigUInt64BE(at + Segment.DESTINATION_LBA_AT),
  };
  // MAXIMUM SEGMENT LENGTH (OPERATING PARAMETERS), in the block length of the CSCD the count refers to (DC).
  const counted = cscds[segment.dc ? segment.destinationIndex : segment.sourceIndex];
  if (counted && segment.blocks * counted.blockLength > COPY_LIMITS.maxSegmentBytes) throw invalidParameterField(at + Segment.BLOCKS_AT);
  return segment;
}

/** COPY ABORTED with a pointer into the parameter list (SPC-4 §4.5.2.4.5 segment pointer, SD 0). */
function copyAborted(reason: SenseReason, at: number): ScsiError {
  return new ScsiError(reason, { fieldPointer: { cd: false, byte: at } });
}

/** The LU a segment's CSCD index names, resolved for this nexus only; COPY ABORTED when it cannot be used. */
function copyTarget(ctx: CommandContext, params: CopyParameters, segment: BlockSegment, which: 'source' | 'destination'): LogicalUnit {
  const indexAt = segment.at + (which === 'source' ? Segment.SOURCE_INDEX_AT : Segment.DESTINATION_INDEX_AT);
  const cscd = params.cscds[which === 'source' ? segment.sourceIndex : segment.destinationIndex];
  if (!cscd) throw copyAborted('UNREACHABLE_COPY_TARGET', indexAt);
  const lu = cscd.nul ? undefined : resolveCopyTarget(ctx.target, cscd.designator, ctx.nexus);
  // Not found and not permitted are one answer: an initiator learns nothing about LUs it may not reach.
  if (!lu) throw copyAborted('COPY_TARGET_DEVICE_NOT_REACHABLE', cscd.at + Cscd.DESIGNATOR_AT);
  // SPC-4 §6.4.5.2.2: DISK BLOCK LENGTH must be the LU's; copying with another would misplace every block.
  if (cscd.blockLength !== lu.blockSize) throw copyAborted('COPY_ABORTED', cscd.at + Cscd.BLOCK_LENGTH_AT);
  // SPC-4 §5.13.1: the copy reads and writes on behalf of this I_T nexus; its reservations apply.
  if (lu.reservations.conflicts(ctx.nexus, which === 'source' ? 'read' : 'write')) throw new ReservationConflict('EXTENDED COPY');
  if (which === 'destination') {
    const protectedBy = lu.writeProtection();
    if (protectedBy) throw new ScsiError(protectedBy);
  }
  return lu;
}

interface Extent {
  lu: LogicalUnit;
  offset: number;
  bytes: number;
}

function extentOf(lu: LogicalUnit, lba: bigint, bytes: number, lbaAt: number): Extent {
  const blocks = BigInt(bytes / lu.blockSize);
  // SBC-4 §4.5: every block of the segment must exist on its LU.
  if (lba + blocks > lu.blockCount()) throw copyAborted('COPY_ABORTED', lbaAt);
  return { lu, offset: Number(lba) * lu.blockSize, bytes };
}

/** Copy one segment in chunks; each chunk's destination blocks are held in the destination's range lock. */
async function copySegment(ctx: CommandContext, record: CopyRecord, source: Extent, destination: Extent): Promise<void> {
  const bs = destination.lu.blockSize;
  const chunk = Math.max(bs, Math.floor(COPY_LIMITS.chunkBytes / bs) * bs);
  const total = source.bytes;
  // Overlapping ranges of one backstore with the destination after the source: copy from the end (memmove).
  const backwards =
    source.lu.backstore === destination.lu.backstore &&
    destination.offset > source.offset &&
    destination.offset < source.offset + total;
  const lock = lbaLockOf(destination.lu.backstore);
  for (let done = 0; done < total; ) {
    if (ctx.req.isAborted()) ctx.req.signal.throwIfAborted();
    const n = Math.min(chunk, total - done);
    const rel = backwards ? total - done - n : done;
    const data = await source.lu.backstore.read(source.offset + rel, n);
    const at = destination.offset + rel;
    await lock.run(at / bs, n / bs, () => destination.lu.backstore.write(at, data));
    done += n;
    record.bytesTransferred += n;
  }
}

async function runSegments(ctx: CommandContext, params: CopyParameters, record: CopyRecord): Promise<void> {
  const written = new Set<LogicalUnit>();
  for (const segment of params.segments) {
    const source = copyTarget(ctx, params, segment, 'source');
    const destination = copyTarget(ctx, params, segment, 'destination');
    const bytes = segment.blocks * (segment.dc ? destination.blockSize : source.blockSize);
    // SPC-4 §6.4.6.1: a residue (bytes not a whole number of the other side's blocks) is not supported.
    if (bytes % source.blockSize !== 0 || bytes % destination.blockSize !== 0) throw copyAborted('COPY_ABORTED', segment.at + Segment.BLOCKS_AT);
    const from = extentOf(source, segment.sourceLba, bytes, segment.at + Segment.SOURCE_LBA_AT);
    const to = extentOf(destination, segment.destinationLba, bytes, segment.at + Segment.DESTINATION_LBA_AT);
    if (bytes > 0) {
      try {
        await copySegment(ctx, record, from, to);
      } catch (err) {
        if (err instanceof ScsiError || ctx.req.isAborted()) throw err;
        // The medium failed under the copy (SPC-4 §6.4.1): COPY ABORTED, pointing at the segment.
        throw copyAborted('COPY_ABORTED', segment.at);
      }
      written.add(destination);
    }
    record.segmentsProcessed++;
  }
  // SBC-4 §6.5.5: with the write cache off, the copied blocks are durable before GOOD (as for WRITE).
  for (const lu of written) await commitWrite(lu, false);
}

export async function extendedCopy(ctx: CommandContext): Promise<CommandResult> {
  const lu = luOf(ctx);
  const length = ctx.cdb.readUInt32BE(PARAMETER_LIST_LENGTH_AT);
  ctx.dataOutLength = length;
  // SPC-4 §6.4.1: zero is not an error — nothing is transferred or copied.
  if (length === 0) return {};
  if (length > MAX_PARAMETER_LIST_LENGTH) throw listLengthError();
  const list = await dataOut(ctx, length);
  const params = parseCopyParameters(list);
  const copies = copyResultsOf(lu);
  // MAXIMUM CONCURRENT COPIES (OPERATING PARAMETERS): one more is asked to come back later.
  if (copies.running >= COPY_LIMITS.maxConcurrentCopies) return { status: ScsiStatus.BUSY };
  const record = copies.begin(ctx.nexus.id, params.listId, params.listIdUsage);
  try {
    await runSegments(ctx, params, record);
  } catch (err) {
    copies.finish(ctx.nexus.id, record, failureOf(err, lu));
    throw err;
  }
  copies.finish(ctx.nexus.id, record);
  return {};
}

/** What FAILED SEGMENT DETAILS reports: the status and sense the command ends with (device.ts builds the same). */
function failureOf(err: unknown, lu: LogicalUnit): { status: number; sense: Buffer } {
  if (err instanceof ReservationConflict) return { status: ScsiStatus.RESERVATION_CONFLICT, sense: Buffer.alloc(0) };
  if (err instanceof ScsiError) {
    return { status: ScsiStatus.CHECK_CONDITION, sense: buildSense(err.reason, err.detail, lu.mode.descriptorSense) };
  }
  return { status: ScsiStatus.TASK_ABORTED, sense: Buffer.alloc(0) };
}
