/**
 * Sense reasons and the sense-data builder. Handlers throw a ScsiError naming a reason (LIO's
 * sense_reason_t pattern); SENSE_REASONS maps each to key/ASC/ASCQ (SPC-4 Annex D); buildSense writes
 * fixed (70h) or descriptor (72h) format per the control mode page's D_SENSE (SPC-4 §4.5).
 */

export const SenseKey = {
  NO_SENSE: 0x0,
  RECOVERED_ERROR: 0x1,
  NOT_READY: 0x2,
  MEDIUM_ERROR: 0x3,
  HARDWARE_ERROR: 0x4,
  ILLEGAL_REQUEST: 0x5,
  UNIT_ATTENTION: 0x6,
  DATA_PROTECT: 0x7,
  COPY_ABORTED: 0xa,
  ABORTED_COMMAND: 0xb,
  MISCOMPARE: 0xe,
} as const;

export interface SenseCode {
  key: number;
  asc: number;
  ascq: number;
}

// SPC-4 Annex D (Table D.1) for ASC/ASCQ, §4.5.6 for keys.
export const SENSE_REASONS = {
  NO_SENSE: { key: SenseKey.NO_SENSE, asc: 0x00, ascq: 0x00 },
  INVALID_COMMAND_OPERATION_CODE: { key: SenseKey.ILLEGAL_REQUEST, asc: 0x20, ascq: 0x00 },
  INVALID_FIELD_IN_CDB: { key: SenseKey.ILLEGAL_REQUEST, asc: 0x24, ascq: 0x00 },
  INVALID_FIELD_IN_PARAMETER_LIST: { key: SenseKey.ILLEGAL_REQUEST, asc: 0x26, ascq: 0x00 },
  PARAMETER_LIST_LENGTH_ERROR: { key: SenseKey.ILLEGAL_REQUEST, asc: 0x1a, ascq: 0x00 },
  // Data-out shorter than the CDB calls for: FCP-4 §9.4.2 option b), what libiscsi's residual tests accept.
  INVALID_FIELD_IN_COMMAND_INFORMATION_UNIT: { key: SenseKey.ILLEGAL_REQUEST, asc: 0x0e, ascq: 0x03 },
  LBA_OUT_OF_RANGE: { key: SenseKey.ILLEGAL_REQUEST, asc: 0x21, ascq: 0x00 },
  LOGICAL_UNIT_NOT_SUPPORTED: { key: SenseKey.ILLEGAL_REQUEST, asc: 0x25, ascq: 0x00 },
  SAVING_PARAMETERS_NOT_SUPPORTED: { key: SenseKey.ILLEGAL_REQUEST, asc: 0x39, ascq: 0x00 },
  MEDIUM_REMOVAL_PREVENTED: { key: SenseKey.ILLEGAL_REQUEST, asc: 0x53, ascq: 0x02 },
  WRITE_PROTECTED: { key: SenseKey.DATA_PROTECT, asc: 0x27, ascq: 0x00 },
  SOFTWARE_WRITE_PROTECTED: { key: SenseKey.DATA_PROTECT, asc: 0x27, ascq: 0x02 },
  MISCOMPARE_DURING_VERIFY: { key: SenseKey.MISCOMPARE, asc: 0x1d, ascq: 0x00 },
  MEDIUM_NOT_PRESENT: { key: SenseKey.NOT_READY, asc: 0x3a, ascq: 0x00 },
  // SPC-4 §5.16.2.4.4 / §5.16.2.4.5: a command the target port group's ALUA state does not allow
  LOGICAL_UNIT_NOT_ACCESSIBLE_STANDBY: { key: SenseKey.NOT_READY, asc: 0x04, ascq: 0x0b },
  LOGICAL_UNIT_NOT_ACCESSIBLE_UNAVAILABLE: { key: SenseKey.NOT_READY, asc: 0x04, ascq: 0x0c },
  UNRECOVERED_READ_ERROR: { key: SenseKey.MEDIUM_ERROR, asc: 0x11, ascq: 0x00 },
  WRITE_ERROR: { key: SenseKey.MEDIUM_ERROR, asc: 0x0c, ascq: 0x00 },
  INTERNAL_TARGET_FAILURE: { key: SenseKey.HARDWARE_ERROR, asc: 0x44, ascq: 0x00 },
  // The transport lost or refused part of the data-out (iSCSI DataSN gap, digest error: RFC 7143 §7.8 option b)
  DATA_PHASE_ERROR: { key: SenseKey.ABORTED_COMMAND, asc: 0x4b, ascq: 0x00 },
  PROTOCOL_SERVICE_CRC_ERROR: { key: SenseKey.ABORTED_COMMAND, asc: 0x47, ascq: 0x05 },
  // Unit attentions (SAM-5 §5.14, SPC-4 Annex D)
  POWER_ON_RESET_OCCURRED: { key: SenseKey.UNIT_ATTENTION, asc: 0x29, ascq: 0x00 },
  POWER_ON_OCCURRED: { key: SenseKey.UNIT_ATTENTION, asc: 0x29, ascq: 0x01 },
  SCSI_BUS_RESET_OCCURRED: { key: SenseKey.UNIT_ATTENTION, asc: 0x29, ascq: 0x02 },
  BUS_DEVICE_RESET_FUNCTION_OCCURRED: { key: SenseKey.UNIT_ATTENTION, asc: 0x29, ascq: 0x03 },
  I_T_NEXUS_LOSS_OCCURRED: { key: SenseKey.UNIT_ATTENTION, asc: 0x29, ascq: 0x07 },
  MODE_PARAMETERS_CHANGED: { key: SenseKey.UNIT_ATTENTION, asc: 0x2a, ascq: 0x01 },
  CAPACITY_DATA_HAS_CHANGED: { key: SenseKey.UNIT_ATTENTION, asc: 0x2a, ascq: 0x09 },
  // SPC-4 §5.16.2.5: a target port group's asymmetric access state changed (implicit transition)
  ASYMMETRIC_ACCESS_STATE_CHANGED: { key: SenseKey.UNIT_ATTENTION, asc: 0x2a, ascq: 0x06 },
  REPORTED_LUNS_DATA_HAS_CHANGED: { key: SenseKey.UNIT_ATTENTION, asc: 0x3f, ascq: 0x0e },
  // SBC-4 §4.7.3.8: free space for a thin-provisioned LU fell below the configured soft threshold
  THIN_PROVISIONING_SOFT_THRESHOLD_REACHED: { key: SenseKey.UNIT_ATTENTION, asc: 0x38, ascq: 0x07 },
  // SPC-4 §5.13.11 / §5.13.12: persistent reservation changes seen by other I_T nexuses
  RESERVATIONS_PREEMPTED: { key: SenseKey.UNIT_ATTENTION, asc: 0x2a, ascq: 0x03 },
  RESERVATIONS_RELEASED: { key: SenseKey.UNIT_ATTENTION, asc: 0x2a, ascq: 0x04 },
  REGISTRATIONS_PREEMPTED: { key: SenseKey.UNIT_ATTENTION, asc: 0x2a, ascq: 0x05 },
  // SPC-4 §5.13.11.2: RELEASE by the holder with the wrong TYPE or SCOPE
  INVALID_RELEASE_OF_PERSISTENT_RESERVATION: { key: SenseKey.ILLEGAL_REQUEST, asc: 0x26, ascq: 0x04 },
  // SPC-4 §5.13.7: no room for another registration
  INSUFFICIENT_REGISTRATION_RESOURCES: { key: SenseKey.ILLEGAL_REQUEST, asc: 0x55, ascq: 0x04 },
  // SPC-4 §6.4 EXTENDED COPY parameter list errors, and the COPY ABORTED conditions of §6.4.3 (xcopy.ts)
  OPERATION_IN_PROGRESS: { key: SenseKey.ILLEGAL_REQUEST, asc: 0x00, ascq: 0x16 },
  TOO_MANY_TARGET_DESCRIPTORS: { key: SenseKey.ILLEGAL_REQUEST, asc: 0x26, ascq: 0x06 },
  UNSUPPORTED_TARGET_DESCRIPTOR_TYPE_CODE: { key: SenseKey.ILLEGAL_REQUEST, asc: 0x26, ascq: 0x07 },
  TOO_MANY_SEGMENT_DESCRIPTORS: { key: SenseKey.ILLEGAL_REQUEST, asc: 0x26, ascq: 0x08 },
  UNSUPPORTED_SEGMENT_DESCRIPTOR_TYPE_CODE: { key: SenseKey.ILLEGAL_REQUEST, asc: 0x26, ascq: 0x09 },
  COPY_ABORTED: { key: SenseKey.COPY_ABORTED, asc: 0x00, ascq: 0x00 },
  UNREACHABLE_COPY_TARGET: { key: SenseKey.COPY_ABORTED, asc: 0x08, ascq: 0x04 },
  COPY_TARGET_DEVICE_NOT_REACHABLE: { key: SenseKey.COPY_ABORTED, asc: 0x0d, ascq: 0x02 },
} as const satisfies Record<string, SenseCode>;

export type SenseReason = keyof typeof SENSE_REASONS;

/** SPC-4 §4.5.2.4.2 field pointer: which CDB (cd) or parameter-list byte/bit was wrong. */
export interface FieldPointer {
  /** true: the error is in the CDB (C/D = 1); false: in the parameter list. */
  cd: boolean;
  byte: number;
  /** 0..7; omitted when the whole byte is at fault (BPV = 0). */
  bit?: number;
}

export interface SenseDetail {
  fieldPointer?: FieldPointer;
  /** INFORMATION field (e.g. the miscompare offset, SBC-4 §5.30). */
  information?: bigint;
}

/** What a handler throws to end a command with CHECK CONDITION. */
export class ScsiError extends Error {
  override readonly name = 'ScsiError';
  constructor(
    readonly reason: SenseReason,
    readonly detail: SenseDetail = {},
  ) {
    super(reason);
  }
}

/** Shorthand for the common INVALID FIELD IN CDB with its pointer. */
export function invalidCdbField(byte: number, bit?: number): ScsiError {
  return new ScsiError('INVALID_FIELD_IN_CDB', { fieldPointer: bit === undefined ? { cd: true, byte } : { cd: true, byte, bit } });
}

export function invalidParameterField(byte: number, bit?: number): ScsiError {
  return new ScsiError('INVALID_FIELD_IN_PARAMETER_LIST', {
    fieldPointer: bit === undefined ? { cd: false, byte } : { cd: false, byte, bit },
  });
}

const FIXED_FORMAT_CURRENT = 0x70; // SPC-4 §4.5.3
const DESCRIPTOR_FORMAT_CURRENT = 0x72; // SPC-4 §4.5.2
const FIXED_LENGTH = 18;
const DESC_TYPE_INFORMATION = 0x00; // SPC-4 §4.5.2.2
const DESC_TYPE_SENSE_KEY_SPECIFIC = 0x02; // SPC-4 §4.5.2.4

/** SPC-4 §4.5.2.4.2: the 3 sense-key-specific bytes of a field pointer. */
function fieldPointerBytes(fp: FieldPointer): Buffer {
  const b = Buffer.alloc(3);
  b[0] = 0x80 | (fp.cd ? 0x40 : 0) | (fp.bit !== undefined ? 0x08 | (fp.bit & 0x07) : 0);
  b.writeUInt16BE(fp.byte & 0xffff, 1);
  return b;
}

export function buildSense(reason: SenseReason, detail: SenseDetail = {}, descriptorFormat = false): Buffer {
  const code: SenseCode = SENSE_REASONS[reason];
  return descriptorFormat ? buildDescriptorSense(code, detail) : buildFixedSense(code, detail);
}

export function buildFixedSense(code: SenseCode, detail: SenseDetail = {}): Buffer {
  const b = Buffer.alloc(FIXED_LENGTH);
  b[0] = FIXED_FORMAT_CURRENT;
  b[2] = code.key & 0x0f;
  if (detail.information !== undefined) {
    // The fixed format holds only 4 bytes of INFORMATION; VALID only when it fits (SPC-4 §4.5.3).
    if (detail.information <= 0xffffffffn) {
      b[0] |= 0x80;
      b.writeUInt32BE(Number(detail.information), 3);
    }
  }
  b[7] = FIXED_LENGTH - 8; // additional sense length
  b[12] = code.asc;
  b[13] = code.ascq;
  if (detail.fieldPointer) fieldPointerBytes(detail.fieldPointer).copy(b, 15);
  return b;
}

export function buildDescriptorSense(code: SenseCode, detail: SenseDetail = {}): Buffer {
  const parts: Buffer[] = [];
  const header = Buffer.alloc(8);
  header[0] = DESCRIPTOR_FORMAT_CURRENT;
  header[1] = code.key & 0x0f;
  header[2] = code.asc;
  header[3] = code.ascq;
  parts.push(header);
  if (detail.information !== undefined) {
    const d = Buffer.alloc(12);
    d[0] = DESC_TYPE_INFORMATION;
    d[1] = 0x0a;
    d[2] = 0x80; // VALID
    d.writeBigUInt64BE(BigInt.asUintN(64, detail.information), 4);
    parts.push(d);
  }
  if (detail.fieldPointer) {
    const d = Buffer.alloc(8);
    d[0] = DESC_TYPE_SENSE_KEY_SPECIFIC;
    d[1] = 0x06;
    fieldPointerBytes(detail.fieldPointer).copy(d, 4);
    parts.push(d);
  }
  const out = Buffer.concat(parts);
  out[7] = out.length - 8; // additional sense length
  return out;
}

/** Parsed view of a sense buffer (either format) — used by REQUEST SENSE conversions and tests. */
export interface ParsedSense {
  descriptor: boolean;
  key: number;
  asc: number;
  ascq: number;
  information?: bigint;
  fieldPointer?: FieldPointer;
}

export function parseSense(b: Buffer): ParsedSense {
  const code = b[0]! & 0x7f;
  if (code === 0x72 || code === 0x73) {
    const out: ParsedSense = { descriptor: true, key: b[1]! & 0x0f, asc: b[2]!, ascq: b[3]! };
    let i = 8;
    const end = Math.min(b.length, 8 + b[7]!);
    while (i + 2 <= end) {
      const type = b[i]!;
      const len = b[i + 1]!;
      if (type === DESC_TYPE_INFORMATION && b[i + 2]! & 0x80) out.information = b.readBigUInt64BE(i + 4);
      if (type === DESC_TYPE_SENSE_KEY_SPECIFIC && b[i + 4]! & 0x80) out.fieldPointer = decodeFieldPointer(b, i + 4);
      i += 2 + len;
    }
    return out;
  }
  const out: ParsedSense = { descriptor: false, key: b[2]! & 0x0f, asc: b[12] ?? 0, ascq: b[13] ?? 0 };
  if (b[0]! & 0x80) out.information = BigInt(b.readUInt32BE(3));
  if (b.length >= 18 && b[15]! & 0x80) out.fieldPointer = decodeFieldPointer(b, 15);
  return out;
}

function decodeFieldPointer(b: Buffer, at: number): FieldPointer {
  const fp: FieldPointer = { cd: (b[at]! & 0x40) !== 0, byte: b.readUInt16BE(at + 1) };
  if (b[at]! & 0x08) fp.bit = b[at]! & 0x07;
  return fp;
}
