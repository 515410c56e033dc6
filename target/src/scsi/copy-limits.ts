/**
 * What the EXTENDED COPY (LID1) copy manager supports, in one table: advertised by RECEIVE COPY RESULTS (OPERATING
 * PARAMETERS) and the Third-party Copy VPD page, and enforced by xcopy.ts. No imports beyond Node: vpd.ts builds
 * page 8Fh from here without an import cycle.
 */

/** SPC-4 §6.4.5 / §6.4.6 descriptor type codes the copy manager implements. */
export const CopyDescriptorType = {
  /** SPC-4 §6.4.6.5 block device to block device segment descriptor. */
  BLOCK_TO_BLOCK: 0x02,
  /** SPC-4 §6.4.5.6 identification descriptor CSCD descriptor (names a LU by its VPD 83h designator). */
  IDENTIFICATION_CSCD: 0xe4,
} as const;

export const COPY_LIMITS = {
  /** MAXIMUM CSCD DESCRIPTOR COUNT: VMware sends one or two; eight leaves room for multi-LU copies. */
  maxCscdDescriptors: 8,
  /** MAXIMUM SEGMENT DESCRIPTOR COUNT. */
  maxSegmentDescriptors: 16,
  /** MAXIMUM DESCRIPTOR LIST LENGTH (CSCD + segment descriptor bytes): the counts above fit well inside. */
  maxDescriptorListLength: 1024,
  /** MAXIMUM SEGMENT LENGTH in bytes: a 02h segment's NUMBER OF BLOCKS is 16 bits (32 MiB at 512 B). */
  maxSegmentBytes: 32 * 1024 * 1024,
  /** No inline or embedded data (only 02h segments are implemented), and no held data (no RECEIVE DATA). */
  maxInlineDataLength: 0,
  heldDataLimit: 0,
  /** TOTAL / MAXIMUM CONCURRENT COPIES: copies running at once on one LU (LID1 MAXIMUM is one byte). */
  maxConcurrentCopies: 16,
  /** Bytes read and then written per step; the destination range lock is held for one step at a time. */
  chunkBytes: 1024 * 1024,
} as const satisfies Record<string, number>;

/** EXTENDED COPY (83h) service action 00h and RECEIVE COPY RESULTS (84h) service actions, SPC-4 §6.4 / §6.18. */
export const EXTENDED_COPY_OPCODE = 0x83;
export const RECEIVE_COPY_RESULTS_OPCODE = 0x84;
export const ExtendedCopyAction = { LID1: 0x00 } as const;
export const ReceiveCopyAction = { COPY_STATUS: 0x00, OPERATING_PARAMETERS: 0x03, FAILED_SEGMENT_DETAILS: 0x04 } as const;

/** Implemented descriptor type codes, as both OPERATING PARAMETERS and VPD 8Fh list them (ascending). */
export const IMPLEMENTED_DESCRIPTORS = [CopyDescriptorType.BLOCK_TO_BLOCK, CopyDescriptorType.IDENTIFICATION_CSCD] as const;

/** SPC-4 §7.8.17 third-party copy descriptor type codes. */
const TpcDescriptor = {
  SUPPORTED_COMMANDS: 0x0001,
  PARAMETER_DATA: 0x0008,
  SUPPORTED_DESCRIPTORS: 0x0004,
  GENERAL_COPY_OPERATIONS: 0x8001,
} as const;

/** One third-party copy descriptor: type, length, body padded to a multiple of four bytes (SPC-4 §7.8.17.1). */
function tpcDescriptor(type: number, body: Buffer): Buffer {
  const padded = Math.ceil(body.length / 4) * 4;
  const d = Buffer.alloc(4 + padded);
  d.writeUInt16BE(type, 0);
  d.writeUInt16BE(padded, 2);
  body.copy(d, 4);
  return d;
}

/**
 * The body of the Third-party Copy VPD page (8Fh, SPC-4 §7.8.17) for LID1 only: which commands, the parameter
 * limits, the descriptor codes and the general copy limits. No ROD descriptors: offload via tokens (LID4) is not
 * offered, so Windows ODX does not try it.
 */
export function thirdPartyCopyVpdBody(blockSize: number): Buffer {
  const commands = Buffer.from([
    EXTENDED_COPY_OPCODE, 1, ExtendedCopyAction.LID1,
    RECEIVE_COPY_RESULTS_OPCODE, 3, ReceiveCopyAction.COPY_STATUS, ReceiveCopyAction.OPERATING_PARAMETERS,
    ReceiveCopyAction.FAILED_SEGMENT_DETAILS,
  ]);
  const supportedCommands = Buffer.concat([Buffer.from([commands.length]), commands]);
  const parameterData = Buffer.alloc(28); // descriptor bytes 4..31
  parameterData.writeUInt16BE(COPY_LIMITS.maxCscdDescriptors, 4);
  parameterData.writeUInt16BE(COPY_LIMITS.maxSegmentDescriptors, 6);
  parameterData.writeUInt32BE(COPY_LIMITS.maxDescriptorListLength, 8);
  parameterData.writeUInt32BE(COPY_LIMITS.maxInlineDataLength, 12);
  const supportedDescriptors = Buffer.from([IMPLEMENTED_DESCRIPTORS.length, ...IMPLEMENTED_DESCRIPTORS]);
  const general = Buffer.alloc(32); // descriptor bytes 4..35
  general.writeUInt32BE(COPY_LIMITS.maxConcurrentCopies, 0); // TOTAL CONCURRENT COPIES
  general.writeUInt32BE(COPY_LIMITS.maxConcurrentCopies, 4); // MAXIMUM IDENTIFIED CONCURRENT COPIES
  general.writeUInt32BE(COPY_LIMITS.maxSegmentBytes, 8); // MAXIMUM SEGMENT LENGTH
  general[12] = Math.log2(blockSize); // DATA SEGMENT GRANULARITY (log2 bytes): whole blocks
  general[13] = 0; // INLINE DATA GRANULARITY
  return Buffer.concat([
    tpcDescriptor(TpcDescriptor.SUPPORTED_COMMANDS, supportedCommands),
    tpcDescriptor(TpcDescriptor.PARAMETER_DATA, parameterData),
    tpcDescriptor(TpcDescriptor.SUPPORTED_DESCRIPTORS, supportedDescriptors),
    tpcDescriptor(TpcDescriptor.GENERAL_COPY_OPERATIONS, general),
  ]);
}

/** RECEIVE COPY RESULTS, OPERATING PARAMETERS (SPC-4 §6.18.4 / SPC-3 §6.18.4): 44 bytes + the descriptor codes. */
export function operatingParameters(blockSize: number): Buffer {
  const b = Buffer.alloc(44 + IMPLEMENTED_DESCRIPTORS.length);
  b.writeUInt32BE(b.length - 4, 0); // AVAILABLE DATA
  b[4] = 0; // SNLID 0: LIST ID USAGE 11b is accepted but a list identifier is always parsed
  b.writeUInt16BE(COPY_LIMITS.maxCscdDescriptors, 8);
  b.writeUInt16BE(COPY_LIMITS.maxSegmentDescriptors, 10);
  b.writeUInt32BE(COPY_LIMITS.maxDescriptorListLength, 12);
  b.writeUInt32BE(COPY_LIMITS.maxSegmentBytes, 16);
  b.writeUInt32BE(COPY_LIMITS.maxInlineDataLength, 20);
  b.writeUInt32BE(COPY_LIMITS.heldDataLimit, 24);
  b.writeUInt32BE(0, 28); // MAXIMUM STREAM DEVICE TRANSFER SIZE: no stream devices
  b.writeUInt16BE(COPY_LIMITS.maxConcurrentCopies, 34); // TOTAL CONCURRENT COPIES
  b[36] = COPY_LIMITS.maxConcurrentCopies; // MAXIMUM CONCURRENT COPIES
  b[37] = Math.log2(blockSize); // DATA SEGMENT GRANULARITY
  b[38] = 0; // INLINE DATA GRANULARITY
  b[39] = 0; // HELD DATA GRANULARITY
  b[43] = IMPLEMENTED_DESCRIPTORS.length;
  IMPLEMENTED_DESCRIPTORS.forEach((code, i) => (b[44 + i] = code));
  return b;
}
