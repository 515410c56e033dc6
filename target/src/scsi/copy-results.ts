/**
 * RECEIVE COPY RESULTS (SPC-4 §6.18, LID1 service actions) and the per-I_T-nexus list identifier bookkeeping it
 * reads: which EXTENDED COPY commands are running or finished, how far they got, and how a failed one ended.
 * State lives per logical unit (the copy manager that received the EXTENDED COPY) and per I_T nexus, since LID1
 * list identifiers are only unique per nexus (SPC-4 §6.4.3.2).
 */
import type { CommandContext, CommandResult } from './command.ts';
import { truncate } from './cdb.ts';
import { ReceiveCopyAction, operatingParameters } from './copy-limits.ts';
import type { LogicalUnit } from './logical-unit.ts';
import { luOf } from './sbc.ts';
import { ScsiError, invalidCdbField } from './sense.ts';

/** SPC-4 §6.4.3.2 Table 106 LIST ID USAGE. */
export const ListIdUsage = {
  /** Hold status for RECEIVE COPY RESULTS; the list identifier is unique among this nexus' copies. */
  HOLD: 0b00,
  RESERVED: 0b01,
  /** Unique while running; nothing held afterwards. */
  NO_HOLD: 0b10,
  /** The list identifier means nothing: not tracked at all. */
  DISCARD: 0b11,
} as const;

/** SPC-4 §6.18.3 Table 224 COPY MANAGER STATUS. */
const CopyManagerStatus = { IN_PROGRESS: 0x00, SUCCEEDED: 0x01, FAILED: 0x02 } as const;

export interface CopyRecord {
  listId: number;
  state: 'running' | 'succeeded' | 'failed';
  held: boolean;
  segmentsProcessed: number;
  bytesTransferred: number;
  /** How the failed command ended (FAILED SEGMENT DETAILS): its SCSI status and the sense data returned. */
  failure?: { status: number; sense: Buffer };
}

/** Finished records kept per nexus before the oldest is dropped (SPC-4 §6.18.1: "vendor specific" retention). */
const MAX_HELD_PER_NEXUS = 64;

/** One copy manager's (logical unit's) list identifiers, per I_T nexus. */
export class CopyResults {
  readonly #byNexus = new Map<string, Map<number, CopyRecord>>();
  #running = 0;

  get running(): number {
    return this.#running;
  }

  /**
   * Start tracking a copy. SPC-4 §6.4.3.2: a list identifier already in use by a running copy of the same nexus is
   * OPERATION IN PROGRESS; a finished one with the same identifier is replaced (its held data is discarded).
   */
  begin(nexusId: string, listId: number, usage: number): CopyRecord {
    const record: CopyRecord = { listId, state: 'running', held: usage === ListIdUsage.HOLD, segmentsProcessed: 0, bytesTransferred: 0 };
    if (usage !== ListIdUsage.DISCARD) {
      let lists = this.#byNexus.get(nexusId);
      if (!lists) this.#byNexus.set(nexusId, (lists = new Map()));
      if (lists.get(listId)?.state === 'running') throw new ScsiError('OPERATION_IN_PROGRESS');
      lists.delete(listId); // re-inserted last: Map order is age order for the eviction below
      lists.set(listId, record);
      if (lists.size > MAX_HELD_PER_NEXUS) {
        for (const [id, r] of lists) {
          if (r.state === 'running') continue;
          lists.delete(id);
          break;
        }
      }
    }
    this.#running++;
    return record;
  }

  finish(nexusId: string, record: CopyRecord, failure?: { status: number; sense: Buffer }): void {
    this.#running--;
    record.state = failure ? 'failed' : 'succeeded';
    if (failure) record.failure = failure;
    const lists = this.#byNexus.get(nexusId);
    // Not held (LIST ID USAGE 10b): the identifier is free again as soon as the copy ends.
    if (!record.held && lists?.get(record.listId) === record) lists.delete(record.listId);
  }

  get(nexusId: string, listId: number): CopyRecord | undefined {
    return this.#byNexus.get(nexusId)?.get(listId);
  }

  discard(nexusId: string, listId: number): void {
    this.#byNexus.get(nexusId)?.delete(listId);
  }

  /** I_T nexus loss: its held results go (SPC-4 §6.18.1). */
  forgetNexus(nexusId: string): void {
    const lists = this.#byNexus.get(nexusId);
    if (!lists) return;
    for (const [id, r] of lists) if (r.state !== 'running') lists.delete(id);
    if (lists.size === 0) this.#byNexus.delete(nexusId);
  }
}

const results = new WeakMap<LogicalUnit, CopyResults>();

export function copyResultsOf(lu: LogicalUnit): CopyResults {
  let r = results.get(lu);
  if (!r) {
    r = new CopyResults();
    results.set(lu, r);
  }
  return r;
}

/** Forget every held result of a nexus on these LUs (the device calls it on I_T nexus loss). */
export function forgetCopyResults(lu: LogicalUnit, nexusId: string): void {
  results.get(lu)?.forgetNexus(nexusId);
}

const LIST_ID_AT = 2; // SPC-4 §6.18.1 Table 222: LIST IDENTIFIER
const ALLOCATION_LENGTH_AT = 10;

/** SPC-4 §6.18.3 Table 224 TRANSFER COUNT UNITS: bytes, then powers of 2^10, so the count fits 32 bits. */
function transferCount(bytes: number): { units: number; count: number } {
  let units = 0;
  let count = bytes;
  while (count > 0xffffffff) {
    count = Math.floor(count / 1024);
    units++;
  }
  return { units, count };
}

function copyStatus(record: CopyRecord): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt32BE(8, 0); // AVAILABLE DATA
  const status =
    record.state === 'running' ? CopyManagerStatus.IN_PROGRESS : record.state === 'succeeded' ? CopyManagerStatus.SUCCEEDED : CopyManagerStatus.FAILED;
  b[4] = status; // HDD 0: no held data was ever kept, so none was discarded
  b.writeUInt16BE(Math.min(record.segmentsProcessed, 0xffff), 5);
  const { units, count } = transferCount(record.bytesTransferred);
  b[7] = units;
  b.writeUInt32BE(count, 8);
  return b;
}

/** SPC-4 §6.18.5 FAILED SEGMENT DETAILS: 60 bytes, then the sense data the EXTENDED COPY returned. */
function failedSegmentDetails(record: CopyRecord): Buffer {
  const sense = record.failure?.sense ?? Buffer.alloc(0);
  const b = Buffer.alloc(60 + sense.length);
  b.writeUInt32BE(b.length - 4, 0); // AVAILABLE DATA
  b[56] = record.failure?.status ?? 0; // EXTENDED COPY COMMAND STATUS
  b.writeUInt16BE(sense.length, 58);
  sense.copy(b, 60);
  return b;
}

export function receiveCopyResults(ctx: CommandContext, action: number): CommandResult {
  const lu = luOf(ctx);
  const cdb = ctx.cdb;
  const allocLength = cdb.readUInt32BE(ALLOCATION_LENGTH_AT);
  const listId = cdb[LIST_ID_AT]!;
  const copies = copyResultsOf(lu);
  const nexusId = ctx.nexus.id;
  switch (action) {
    case ReceiveCopyAction.OPERATING_PARAMETERS:
      return { data: truncate(operatingParameters(lu.blockSize), allocLength) };
    case ReceiveCopyAction.COPY_STATUS: {
      // SPC-4 §6.18.3: no copy with this list identifier from this nexus (or its status already taken) → invalid field
      const record = copies.get(nexusId, listId);
      if (!record?.held) throw invalidCdbField(LIST_ID_AT);
      const data = copyStatus(record);
      // Held status goes once reported — except a failure's, kept until its FAILED SEGMENT DETAILS are read.
      if (record.state === 'succeeded') copies.discard(nexusId, listId);
      return { data: truncate(data, allocLength) };
    }
    case ReceiveCopyAction.FAILED_SEGMENT_DETAILS: {
      const record = copies.get(nexusId, listId);
      if (!record?.held || record.state === 'succeeded') throw invalidCdbField(LIST_ID_AT);
      const data = failedSegmentDetails(record);
      if (record.state === 'failed') copies.discard(nexusId, listId);
      return { data: truncate(data, allocLength) };
    }
    default:
      throw invalidCdbField(1, 4);
  }
}
