/**
 * Typed iSCSI PDUs (RFC 7143 §11). One interface per PDU kind, discriminated on `opcode`;
 * no field is shared between kinds except the few every Basic Header Segment carries.
 *
 * Conventions:
 * - 32-bit counters and tags (ITT, TTT, CmdSN, StatSN, DataSN, ...) are plain numbers (unsigned, 0..2^32-1).
 * - The 8-byte LUN field is kept raw as a bigint (SAM-5 §4.7 encodes it; `lun.ts` converts).
 * - ISID is 6 bytes, kept as a Buffer; `data` is the data segment without padding or digest.
 * - `ahs` holds the raw Additional Header Segments (RFC 7143 §11.2.2) — empty for almost every PDU.
 */

// RFC 7143 §11.2.1.2 — opcodes
export const Opcode = {
  // initiator → target
  NopOut: 0x00,
  ScsiCommand: 0x01,
  TaskManagementRequest: 0x02,
  LoginRequest: 0x03,
  TextRequest: 0x04,
  DataOut: 0x05,
  LogoutRequest: 0x06,
  SnackRequest: 0x10,
  // target → initiator
  NopIn: 0x20,
  ScsiResponse: 0x21,
  TaskManagementResponse: 0x22,
  LoginResponse: 0x23,
  TextResponse: 0x24,
  DataIn: 0x25,
  LogoutResponse: 0x26,
  R2T: 0x31,
  AsyncMessage: 0x32,
  Reject: 0x3f,
} as const;
export type OpcodeValue = (typeof Opcode)[keyof typeof Opcode];

/** The reserved value 0xffffffff for ITT/TTT (RFC 7143 §11.18.2, §11.19.3). */
export const RESERVED_TAG = 0xffffffff;

interface PduCommon {
  /** Raw AHS bytes (a multiple of 4); empty Buffer when TotalAHSLength is 0. */
  ahs: Buffer;
  /** Data segment, without padding or digest. */
  data: Buffer;
}

/** RFC 7143 §11.18 */
export interface NopOutPdu extends PduCommon {
  opcode: typeof Opcode.NopOut;
  immediate: boolean;
  lun: bigint;
  itt: number;
  ttt: number;
  cmdSN: number;
  expStatSN: number;
}

/** RFC 7143 §11.3.1 ATTR field */
export const TaskAttribute = { Untagged: 0, Simple: 1, Ordered: 2, HeadOfQueue: 3, ACA: 4 } as const;

/** RFC 7143 §11.3 */
export interface ScsiCommandPdu extends PduCommon {
  opcode: typeof Opcode.ScsiCommand;
  immediate: boolean;
  final: boolean;
  read: boolean;
  write: boolean;
  attr: number;
  lun: bigint;
  itt: number;
  expectedDataTransferLength: number;
  cmdSN: number;
  expStatSN: number;
  /** The whole CDB: 16 bytes from the BHS plus any Extended CDB AHS (§11.3.5); trailing padding kept. */
  cdb: Buffer;
  /** Bidirectional Read Expected Data-Transfer Length AHS (§11.3.5), when present. */
  bidiReadExpectedDataTransferLength?: number;
}

/** RFC 7143 §11.5.1 function codes */
export const TmfFunction = {
  AbortTask: 1,
  AbortTaskSet: 2,
  ClearACA: 3,
  ClearTaskSet: 4,
  LogicalUnitReset: 5,
  TargetWarmReset: 6,
  TargetColdReset: 7,
  TaskReassign: 8,
} as const;

/** RFC 7143 §11.5 */
export interface TaskManagementRequestPdu extends PduCommon {
  opcode: typeof Opcode.TaskManagementRequest;
  immediate: boolean;
  function: number;
  lun: bigint;
  itt: number;
  referencedTaskTag: number;
  cmdSN: number;
  expStatSN: number;
  refCmdSN: number;
  expDataSN: number;
}

/** RFC 7143 §11.12 */
export interface LoginRequestPdu extends PduCommon {
  opcode: typeof Opcode.LoginRequest;
  /** Always true on the wire (the I bit is 1 for login requests). */
  immediate: boolean;
  transit: boolean;
  continue: boolean;
  csg: number;
  nsg: number;
  versionMax: number;
  versionMin: number;
  isid: Buffer;
  tsih: number;
  itt: number;
  cid: number;
  cmdSN: number;
  expStatSN: number;
}

/** RFC 7143 §11.10 */
export interface TextRequestPdu extends PduCommon {
  opcode: typeof Opcode.TextRequest;
  immediate: boolean;
  final: boolean;
  continue: boolean;
  lun: bigint;
  itt: number;
  ttt: number;
  cmdSN: number;
  expStatSN: number;
}

/** RFC 7143 §11.7 */
export interface DataOutPdu extends PduCommon {
  opcode: typeof Opcode.DataOut;
  final: boolean;
  lun: bigint;
  itt: number;
  ttt: number;
  expStatSN: number;
  dataSN: number;
  bufferOffset: number;
}

/** RFC 7143 §11.14 */
export interface LogoutRequestPdu extends PduCommon {
  opcode: typeof Opcode.LogoutRequest;
  immediate: boolean;
  /** 0 close session, 1 close connection, 2 remove connection for recovery */
  reasonCode: number;
  itt: number;
  cid: number;
  cmdSN: number;
  expStatSN: number;
}

/** RFC 7143 §11.16 */
export interface SnackRequestPdu extends PduCommon {
  opcode: typeof Opcode.SnackRequest;
  /** 0 Data/R2T, 1 Status, 2 DataACK, 3 R-Data */
  type: number;
  lun: bigint;
  itt: number;
  ttt: number;
  expStatSN: number;
  begRun: number;
  runLength: number;
}

/** RFC 7143 §11.19 */
export interface NopInPdu extends PduCommon {
  opcode: typeof Opcode.NopIn;
  lun: bigint;
  itt: number;
  ttt: number;
  statSN: number;
  expCmdSN: number;
  maxCmdSN: number;
}

/** RFC 7143 §11.4 */
export interface ScsiResponsePdu extends PduCommon {
  opcode: typeof Opcode.ScsiResponse;
  bidiReadResidualOverflow: boolean;
  bidiReadResidualUnderflow: boolean;
  residualOverflow: boolean;
  residualUnderflow: boolean;
  /** 0 command completed at target, 1 target failure */
  response: number;
  status: number;
  itt: number;
  snackTag: number;
  statSN: number;
  expCmdSN: number;
  maxCmdSN: number;
  expDataSN: number;
  bidiReadResidualCount: number;
  residualCount: number;
  // data: sense data as sent on the wire (2-byte SenseLength followed by sense bytes), or empty
}

/** RFC 7143 §11.6 */
export interface TaskManagementResponsePdu extends PduCommon {
  opcode: typeof Opcode.TaskManagementResponse;
  /** §11.6.1: 0 complete, 1 task does not exist, 2 LUN does not exist, 3 task still allegiant,
   *  4 reassignment not supported, 5 function not supported, 6 authorization failed, 255 rejected */
  response: number;
  itt: number;
  statSN: number;
  expCmdSN: number;
  maxCmdSN: number;
}

/** RFC 7143 §11.13 */
export interface LoginResponsePdu extends PduCommon {
  opcode: typeof Opcode.LoginResponse;
  transit: boolean;
  continue: boolean;
  csg: number;
  nsg: number;
  versionMax: number;
  versionActive: number;
  isid: Buffer;
  tsih: number;
  itt: number;
  statSN: number;
  expCmdSN: number;
  maxCmdSN: number;
  statusClass: number;
  statusDetail: number;
}

/** RFC 7143 §11.11 */
export interface TextResponsePdu extends PduCommon {
  opcode: typeof Opcode.TextResponse;
  final: boolean;
  continue: boolean;
  lun: bigint;
  itt: number;
  ttt: number;
  statSN: number;
  expCmdSN: number;
  maxCmdSN: number;
}

/** RFC 7143 §11.7 */
export interface DataInPdu extends PduCommon {
  opcode: typeof Opcode.DataIn;
  final: boolean;
  acknowledge: boolean;
  residualOverflow: boolean;
  residualUnderflow: boolean;
  /** S bit: this PDU carries the command's status */
  hasStatus: boolean;
  /** Only meaningful when hasStatus */
  status: number;
  lun: bigint;
  itt: number;
  ttt: number;
  /** Only meaningful when hasStatus (reserved otherwise) */
  statSN: number;
  expCmdSN: number;
  maxCmdSN: number;
  dataSN: number;
  bufferOffset: number;
  residualCount: number;
}

/** RFC 7143 §11.15 */
export interface LogoutResponsePdu extends PduCommon {
  opcode: typeof Opcode.LogoutResponse;
  /** 0 closed successfully, 1 CID not found, 2 recovery not supported, 3 cleanup failed */
  response: number;
  itt: number;
  statSN: number;
  expCmdSN: number;
  maxCmdSN: number;
  time2Wait: number;
  time2Retain: number;
}

/** RFC 7143 §11.8 */
export interface R2TPdu extends PduCommon {
  opcode: typeof Opcode.R2T;
  lun: bigint;
  itt: number;
  ttt: number;
  statSN: number;
  expCmdSN: number;
  maxCmdSN: number;
  r2tSN: number;
  bufferOffset: number;
  desiredDataTransferLength: number;
}

/** RFC 7143 §11.9 */
export interface AsyncMessagePdu extends PduCommon {
  opcode: typeof Opcode.AsyncMessage;
  lun: bigint;
  statSN: number;
  expCmdSN: number;
  maxCmdSN: number;
  /** §11.9.1: 0 SCSI async event, 1 logout request, 2 connection drop, 3 session drop, 4 negotiation request, 5 task termination, 255 vendor */
  asyncEvent: number;
  asyncVCode: number;
  parameter1: number;
  parameter2: number;
  parameter3: number;
}

/** RFC 7143 §11.17.1 reason codes */
export const RejectReason = {
  DataDigestError: 0x02,
  SnackReject: 0x03,
  ProtocolError: 0x04,
  CommandNotSupported: 0x05,
  ImmediateCommandReject: 0x06,
  TaskInProgress: 0x07,
  InvalidDataAck: 0x08,
  InvalidPduField: 0x09,
  LongOperationReject: 0x0a,
  NegotiationReset: 0x0b,
  WaitingForLogout: 0x0c,
} as const;

/** RFC 7143 §11.17 — `data` carries the complete header of the rejected PDU */
export interface RejectPdu extends PduCommon {
  opcode: typeof Opcode.Reject;
  reason: number;
  statSN: number;
  expCmdSN: number;
  maxCmdSN: number;
  dataSN: number;
}

export type InitiatorPdu =
  | NopOutPdu
  | ScsiCommandPdu
  | TaskManagementRequestPdu
  | LoginRequestPdu
  | TextRequestPdu
  | DataOutPdu
  | LogoutRequestPdu
  | SnackRequestPdu;

export type TargetPdu =
  | NopInPdu
  | ScsiResponsePdu
  | TaskManagementResponsePdu
  | LoginResponsePdu
  | TextResponsePdu
  | DataInPdu
  | LogoutResponsePdu
  | R2TPdu
  | AsyncMessagePdu
  | RejectPdu;

export type Pdu = InitiatorPdu | TargetPdu;

/** Fields of a PDU that the encoder fills in itself (they are derived from `ahs`/`data`). */
// Distributive over the union: `Omit` on a union keeps only the keys common to every member, which would make
// `PduInit<Pdu>` accept `{ opcode }` alone and reject every real field as excess.
export type PduInit<P extends Pdu> = P extends Pdu ? Omit<P, 'ahs' | 'data'> & { ahs?: Buffer; data?: Buffer } : never;
