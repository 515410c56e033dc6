/**
 * The opcode table (tgt's ops[256], LIO's sbc_parse_cdb as data): every supported command with its
 * CDB length, usage mask (which doubles as the reserved-bit check and RSOC's CDB usage data),
 * timeouts, data direction and handler. An opcode absent from the table answers INVALID COMMAND
 * OPERATION CODE (SPC-4 §4.2.5.1). SANITIZE (48h) is deliberately absent: it is optional (SBC-4 §5.30), erasing a
 * whole LU from one CDB is not something a shared appliance should offer, and "invalid command operation code" is
 * the answer that tells an initiator plainly it is not supported. ORWRITE(32) (variable-length 7Fh) and WRITE
 * ATOMIC(32) are absent too.
 */
import type { CommandSpec, OpcodeSlot } from './command.ts';
import { inquiry } from './inquiry.ts';
import { modeSelect, modeSense } from './mode-pages.ts';
import { reportSupportedOperationCodes } from './rsoc.ts';
import type { OpcodeTable } from './rsoc.ts';
import {
  preFetch,
  preventAllowMediumRemoval,
  read,
  readCapacity10,
  readCapacity16,
  readDefectData,
  startStopUnit,
  synchronizeCache,
  verify,
  write,
  writeAndVerify,
} from './sbc.ts';
import { reportLuns, requestSense, testUnitReady } from './spc.ts';
import { writeSame } from './write-same.ts';
import { unmap } from './unmap.ts';
import { getLbaStatus } from './lba-status.ts';
import { compareAndWrite, orWrite } from './compare-and-write.ts';
import { release, reserve } from './reserve6.ts';
import { PrInAction, persistentReserveIn } from './pr-in.ts';
import { PrOutAction, persistentReserveOut } from './pr-out.ts';
import { extendedCopy } from './xcopy.ts';
import { receiveCopyResults } from './copy-results.ts';
import { EXTENDED_COPY_OPCODE, ExtendedCopyAction, RECEIVE_COPY_RESULTS_OPCODE, ReceiveCopyAction } from './copy-limits.ts';
import { reportTargetPortGroups } from './alua.ts';
import { writeAtomic16 } from './write-atomic.ts';

const QUICK = { nominal: 1, recommended: 10 } as const;
const IO = { nominal: 1, recommended: 30 } as const;
const FLUSH = { nominal: 5, recommended: 60 } as const;
// WRITE SAME / UNMAP may cover MAXIMUM WRITE SAME LENGTH / MAXIMUM UNMAP LBA COUNT (1 GiB) in one command.
const BULK = { nominal: 5, recommended: 120 } as const;

const F = 0xff;
const PERSISTENT_RESERVE_IN = 0x5e; // SPC-4 §6.16 (service action in byte 1)
const PERSISTENT_RESERVE_OUT = 0x5f; // SPC-4 §6.17
const C = 0x00; // CONTROL byte: NACA/LINK unsupported, vendor bits not evaluated (SAM-5 §5.2)
const LBA8 = [F, F, F, F, F, F, F, F] as const;
const LEN4 = [F, F, F, F] as const;

// SBC-4 byte 1 of READ(10/12/16): RDPROTECT DPO FUA RARC FUA_NV(obsolete, accepted) — 1111 1110
const READ_B1 = 0xfe;
// WRITE(10/12/16): WRPROTECT DPO FUA reserved FUA_NV — 1111 1010
const WRITE_B1 = 0xfa;
// VERIFY / WRITE AND VERIFY: xPROTECT DPO reserved BYTCHK(2 bits) — 1111 0110
const VERIFY_B1 = 0xf6;
// GROUP NUMBER (SBC-4: 6 bits)
const GRP = 0x3f;
// WRITE SAME(10): WRPROTECT ANCHOR UNMAP — 1111 1000; WRITE SAME(16) adds NDOB (bit 0) — 1111 1001 (SBC-4 §5.49/5.50)
const WS10_B1 = 0xf8;
const WS16_B1 = 0xf9;
// UNMAP: ANCHOR (SBC-4 §5.32)
const UNMAP_B1 = 0x01;

export const COMMANDS = {
  TEST_UNIT_READY: { name: 'TEST UNIT READY', cdbLength: 6, usage: [0x00, 0, 0, 0, 0, C], timeout: QUICK, dataDirection: 'none', handler: testUnitReady },
  REQUEST_SENSE: {
    name: 'REQUEST SENSE', cdbLength: 6, usage: [0x03, 0x01, 0, 0, F, C], timeout: QUICK, dataDirection: 'in',
    handler: requestSense, lunOptional: true, unitAttentionExempt: true,
  },
  READ_6: { name: 'READ(6)', cdbLength: 6, usage: [0x08, 0x1f, F, F, F, C], timeout: IO, dataDirection: 'in', handler: (c) => read(c, 6) },
  WRITE_6: { name: 'WRITE(6)', cdbLength: 6, usage: [0x0a, 0x1f, F, F, F, C], timeout: IO, dataDirection: 'out', handler: (c) => write(c, 6) },
  INQUIRY: {
    name: 'INQUIRY', cdbLength: 6, usage: [0x12, 0x01, F, F, F, C], timeout: QUICK, dataDirection: 'in',
    handler: inquiry, lunOptional: true, unitAttentionExempt: true,
  },
  MODE_SELECT_6: { name: 'MODE SELECT(6)', cdbLength: 6, usage: [0x15, 0x11, 0, 0, F, C], timeout: QUICK, dataDirection: 'out', handler: (c) => modeSelect(c, false) },
  MODE_SENSE_6: { name: 'MODE SENSE(6)', cdbLength: 6, usage: [0x1a, 0x08, F, F, F, C], timeout: QUICK, dataDirection: 'in', handler: (c) => modeSense(c, false) },
  START_STOP_UNIT: { name: 'START STOP UNIT', cdbLength: 6, usage: [0x1b, 0x01, 0, 0x0f, 0xf7, C], timeout: FLUSH, dataDirection: 'none', handler: startStopUnit },
  PREVENT_ALLOW_MEDIUM_REMOVAL: { name: 'PREVENT ALLOW MEDIUM REMOVAL', cdbLength: 6, usage: [0x1e, 0, 0, 0, 0x03, C], timeout: QUICK, dataDirection: 'none', handler: preventAllowMediumRemoval },
  READ_CAPACITY_10: { name: 'READ CAPACITY(10)', cdbLength: 10, usage: [0x25, 0, F, F, F, F, 0, 0, 0x01, C], timeout: QUICK, dataDirection: 'in', handler: readCapacity10 },
  READ_10: { name: 'READ(10)', cdbLength: 10, usage: [0x28, READ_B1, F, F, F, F, GRP, F, F, C], timeout: IO, dataDirection: 'in', handler: (c) => read(c, 10) },
  WRITE_SAME_10: { name: 'WRITE SAME(10)', cdbLength: 10, usage: [0x41, WS10_B1, F, F, F, F, GRP, F, F, C], timeout: BULK, dataDirection: 'out', handler: (c) => writeSame(c, 10) },
  UNMAP: { name: 'UNMAP', cdbLength: 10, usage: [0x42, UNMAP_B1, 0, 0, 0, 0, GRP, F, F, C], timeout: BULK, dataDirection: 'out', handler: unmap },
  WRITE_10: { name: 'WRITE(10)', cdbLength: 10, usage: [0x2a, WRITE_B1, F, F, F, F, GRP, F, F, C], timeout: IO, dataDirection: 'out', handler: (c) => write(c, 10) },
  WRITE_AND_VERIFY_10: { name: 'WRITE AND VERIFY(10)', cdbLength: 10, usage: [0x2e, VERIFY_B1, F, F, F, F, GRP, F, F, C], timeout: IO, dataDirection: 'out', handler: (c) => writeAndVerify(c, 10) },
  VERIFY_10: { name: 'VERIFY(10)', cdbLength: 10, usage: [0x2f, VERIFY_B1, F, F, F, F, GRP, F, F, C], timeout: IO, dataDirection: 'out', handler: (c) => verify(c, 10) },
  PRE_FETCH_10: { name: 'PRE-FETCH(10)', cdbLength: 10, usage: [0x34, 0x02, F, F, F, F, GRP, F, F, C], timeout: IO, dataDirection: 'none', handler: (c) => preFetch(c, 10) },
  SYNCHRONIZE_CACHE_10: { name: 'SYNCHRONIZE CACHE(10)', cdbLength: 10, usage: [0x35, 0x06, F, F, F, F, GRP, F, F, C], timeout: FLUSH, dataDirection: 'none', handler: (c) => synchronizeCache(c, 10) },
  READ_DEFECT_DATA_10: { name: 'READ DEFECT DATA(10)', cdbLength: 10, usage: [0x37, 0, 0x1f, 0, 0, 0, 0, F, F, C], timeout: QUICK, dataDirection: 'in', handler: (c) => readDefectData(c, 10) },
  MODE_SELECT_10: { name: 'MODE SELECT(10)', cdbLength: 10, usage: [0x55, 0x11, 0, 0, 0, 0, 0, F, F, C], timeout: QUICK, dataDirection: 'out', handler: (c) => modeSelect(c, true) },
  MODE_SENSE_10: { name: 'MODE SENSE(10)', cdbLength: 10, usage: [0x5a, 0x18, F, F, 0, 0, 0, F, F, C], timeout: QUICK, dataDirection: 'in', handler: (c) => modeSense(c, true) },
  ORWRITE_16: { name: 'ORWRITE(16)', cdbLength: 16, usage: [0x8b, WRITE_B1, ...LBA8, ...LEN4, GRP, C], timeout: IO, dataDirection: 'out', handler: orWrite },
  // SBC-4 §5.3 COMPARE AND WRITE: byte 1 as WRITE (WRPROTECT DPO FUA FUA_NV), NUMBER OF LOGICAL BLOCKS in byte 13
  COMPARE_AND_WRITE: { name: 'COMPARE AND WRITE', cdbLength: 16, usage: [0x89, WRITE_B1, ...LBA8, 0, 0, 0, F, GRP, C], timeout: IO, dataDirection: 'out', handler: compareAndWrite },
  READ_16: { name: 'READ(16)', cdbLength: 16, usage: [0x88, READ_B1, ...LBA8, ...LEN4, GRP, C], timeout: IO, dataDirection: 'in', handler: (c) => read(c, 16) },
  WRITE_16: { name: 'WRITE(16)', cdbLength: 16, usage: [0x8a, WRITE_B1, ...LBA8, ...LEN4, GRP, C], timeout: IO, dataDirection: 'out', handler: (c) => write(c, 16) },
  WRITE_AND_VERIFY_16: { name: 'WRITE AND VERIFY(16)', cdbLength: 16, usage: [0x8e, VERIFY_B1, ...LBA8, ...LEN4, GRP, C], timeout: IO, dataDirection: 'out', handler: (c) => writeAndVerify(c, 16) },
  VERIFY_16: { name: 'VERIFY(16)', cdbLength: 16, usage: [0x8f, VERIFY_B1, ...LBA8, ...LEN4, GRP, C], timeout: IO, dataDirection: 'out', handler: (c) => verify(c, 16) },
  PRE_FETCH_16: { name: 'PRE-FETCH(16)', cdbLength: 16, usage: [0x90, 0x02, ...LBA8, ...LEN4, GRP, C], timeout: IO, dataDirection: 'none', handler: (c) => preFetch(c, 16) },
  SYNCHRONIZE_CACHE_16: { name: 'SYNCHRONIZE CACHE(16)', cdbLength: 16, usage: [0x91, 0x06, ...LBA8, ...LEN4, GRP, C], timeout: FLUSH, dataDirection: 'none', handler: (c) => synchronizeCache(c, 16) },
  WRITE_SAME_16: { name: 'WRITE SAME(16)', cdbLength: 16, usage: [0x93, WS16_B1, ...LBA8, ...LEN4, GRP, C], timeout: BULK, dataDirection: 'out', handler: (c) => writeSame(c, 16) },
  // SBC-4 §5.48 WRITE ATOMIC(16): byte 1 WRPROTECT DPO FUA; LBA; ATOMIC BOUNDARY (10..11); TRANSFER LENGTH (12..13)
  WRITE_ATOMIC_16: { name: 'WRITE ATOMIC(16)', cdbLength: 16, usage: [0x9c, 0xf8, ...LBA8, F, F, F, F, GRP, C], timeout: IO, dataDirection: 'out', handler: writeAtomic16 },
  READ_CAPACITY_16: { name: 'READ CAPACITY(16)', cdbLength: 16, usage: [0x9e, 0x10, ...LBA8, ...LEN4, 0x01, C], timeout: QUICK, dataDirection: 'in', handler: readCapacity16 },
  // SBC-4 §5.22 GET LBA STATUS: SERVICE ACTION IN(16) service action 12h
  GET_LBA_STATUS: { name: 'GET LBA STATUS', cdbLength: 16, usage: [0x9e, 0x12, ...LBA8, ...LEN4, 0, C], timeout: QUICK, dataDirection: 'in', handler: getLbaStatus },
  REPORT_LUNS: {
    name: 'REPORT LUNS', cdbLength: 12, usage: [0xa0, 0, F, 0, 0, 0, F, F, F, F, 0, C], timeout: QUICK, dataDirection: 'in',
    handler: reportLuns, lunOptional: true, unitAttentionExempt: true,
  },
  REPORT_SUPPORTED_OPERATION_CODES: {
    name: 'REPORT SUPPORTED OPERATION CODES', cdbLength: 12, usage: [0xa3, 0x0c, 0x87, F, F, F, F, F, F, F, 0, C], timeout: QUICK, dataDirection: 'in',
    handler: (c) => reportSupportedOperationCodes(OPCODES, c),
  },
  // SPC-4 §6.36: MAINTENANCE IN service action 0Ah; byte 1 bits 7..5 PARAMETER DATA FORMAT (checked by the handler)
  REPORT_TARGET_PORT_GROUPS: {
    name: 'REPORT TARGET PORT GROUPS', cdbLength: 12, usage: [0xa3, 0xea, 0, 0, 0, 0, F, F, F, F, 0, C], timeout: QUICK, dataDirection: 'in',
    handler: reportTargetPortGroups,
  },
  READ_12: { name: 'READ(12)', cdbLength: 12, usage: [0xa8, READ_B1, F, F, F, F, ...LEN4, GRP, C], timeout: IO, dataDirection: 'in', handler: (c) => read(c, 12) },
  WRITE_12: { name: 'WRITE(12)', cdbLength: 12, usage: [0xaa, WRITE_B1, F, F, F, F, ...LEN4, GRP, C], timeout: IO, dataDirection: 'out', handler: (c) => write(c, 12) },
  WRITE_AND_VERIFY_12: { name: 'WRITE AND VERIFY(12)', cdbLength: 12, usage: [0xae, VERIFY_B1, F, F, F, F, ...LEN4, GRP, C], timeout: IO, dataDirection: 'out', handler: (c) => writeAndVerify(c, 12) },
  VERIFY_12: { name: 'VERIFY(12)', cdbLength: 12, usage: [0xaf, VERIFY_B1, F, F, F, F, ...LEN4, GRP, C], timeout: IO, dataDirection: 'out', handler: (c) => verify(c, 12) },
  READ_DEFECT_DATA_12: { name: 'READ DEFECT DATA(12)', cdbLength: 12, usage: [0xb7, 0x1f, F, F, F, F, ...LEN4, 0, C], timeout: QUICK, dataDirection: 'in', handler: (c) => readDefectData(c, 12) },
  // SPC-4 §6.4 EXTENDED COPY (LID1, service action 00h): PARAMETER LIST LENGTH in bytes 10..13 (xcopy.ts)
  EXTENDED_COPY: {
    name: 'EXTENDED COPY(LID1)', cdbLength: 16, usage: [EXTENDED_COPY_OPCODE, ExtendedCopyAction.LID1, 0, 0, 0, 0, 0, 0, 0, 0, ...LEN4, 0, C],
    timeout: BULK, dataDirection: 'out', handler: extendedCopy,
  },
  // SPC-4 §6.18 RECEIVE COPY RESULTS (LID1): LIST IDENTIFIER in byte 2, ALLOCATION LENGTH in bytes 10..13
  ...copyResults('RECEIVE_COPY_RESULTS_COPY_STATUS', 'COPY STATUS', ReceiveCopyAction.COPY_STATUS),
  ...copyResults('RECEIVE_COPY_RESULTS_OPERATING_PARAMETERS', 'OPERATING PARAMETERS', ReceiveCopyAction.OPERATING_PARAMETERS),
  ...copyResults('RECEIVE_COPY_RESULTS_FAILED_SEGMENT_DETAILS', 'FAILED SEGMENT DETAILS', ReceiveCopyAction.FAILED_SEGMENT_DETAILS),
  // SPC-2 §7.21–7.24 (SCSI-2 reservations); third-party / extent bits are reserved here.
  RESERVE_6: { name: 'RESERVE(6)', cdbLength: 6, usage: [0x16, 0, 0, 0, 0, C], timeout: QUICK, dataDirection: 'none', handler: reserve },
  RELEASE_6: { name: 'RELEASE(6)', cdbLength: 6, usage: [0x17, 0, 0, 0, 0, C], timeout: QUICK, dataDirection: 'none', handler: release },
  RESERVE_10: { name: 'RESERVE(10)', cdbLength: 10, usage: [0x56, 0, 0, 0, 0, 0, 0, F, F, C], timeout: QUICK, dataDirection: 'none', handler: reserve },
  RELEASE_10: { name: 'RELEASE(10)', cdbLength: 10, usage: [0x57, 0, 0, 0, 0, 0, 0, F, F, C], timeout: QUICK, dataDirection: 'none', handler: release },
  // SPC-4 §6.16 PERSISTENT RESERVE IN: ALLOCATION LENGTH in bytes 7..8
  ...prIn('PR_IN_READ_KEYS', 'READ KEYS', PrInAction.READ_KEYS),
  ...prIn('PR_IN_READ_RESERVATION', 'READ RESERVATION', PrInAction.READ_RESERVATION),
  ...prIn('PR_IN_REPORT_CAPABILITIES', 'REPORT CAPABILITIES', PrInAction.REPORT_CAPABILITIES),
  ...prIn('PR_IN_READ_FULL_STATUS', 'READ FULL STATUS', PrInAction.READ_FULL_STATUS),
  // SPC-4 §6.17 PERSISTENT RESERVE OUT: SCOPE/TYPE in byte 2, PARAMETER LIST LENGTH in bytes 5..8
  ...prOut('PR_OUT_REGISTER', 'REGISTER', PrOutAction.REGISTER),
  ...prOut('PR_OUT_RESERVE', 'RESERVE', PrOutAction.RESERVE),
  ...prOut('PR_OUT_RELEASE', 'RELEASE', PrOutAction.RELEASE),
  ...prOut('PR_OUT_CLEAR', 'CLEAR', PrOutAction.CLEAR),
  ...prOut('PR_OUT_PREEMPT', 'PREEMPT', PrOutAction.PREEMPT),
  ...prOut('PR_OUT_PREEMPT_AND_ABORT', 'PREEMPT AND ABORT', PrOutAction.PREEMPT_AND_ABORT),
  ...prOut('PR_OUT_REGISTER_AND_IGNORE_EXISTING_KEY', 'REGISTER AND IGNORE EXISTING KEY', PrOutAction.REGISTER_AND_IGNORE_EXISTING_KEY),
  ...prOut('PR_OUT_REGISTER_AND_MOVE', 'REGISTER AND MOVE', PrOutAction.REGISTER_AND_MOVE),
} as const satisfies Record<string, CommandSpec>;

function prIn<K extends string>(key: K, name: string, sa: (typeof PrInAction)[keyof typeof PrInAction]): Record<K, CommandSpec> {
  const spec: CommandSpec = {
    name: `PERSISTENT RESERVE IN (${name})`, cdbLength: 10, usage: [PERSISTENT_RESERVE_IN, sa, 0, 0, 0, 0, 0, F, F, C], timeout: QUICK,
    dataDirection: 'in', handler: (c) => persistentReserveIn(c, sa),
  };
  return { [key]: spec } as Record<K, CommandSpec>;
}

function prOut<K extends string>(key: K, name: string, sa: (typeof PrOutAction)[keyof typeof PrOutAction]): Record<K, CommandSpec> {
  const spec: CommandSpec = {
    name: `PERSISTENT RESERVE OUT (${name})`, cdbLength: 10, usage: [PERSISTENT_RESERVE_OUT, sa, F, 0, 0, F, F, F, F, C], timeout: QUICK,
    dataDirection: 'out', handler: (c) => persistentReserveOut(c, sa),
  };
  return { [key]: spec } as Record<K, CommandSpec>;
}

function copyResults<K extends string>(key: K, name: string, sa: number): Record<K, CommandSpec> {
  const spec: CommandSpec = {
    name: `RECEIVE COPY RESULTS (${name})`, cdbLength: 16, usage: [RECEIVE_COPY_RESULTS_OPCODE, sa, F, 0, 0, 0, 0, 0, 0, 0, ...LEN4, 0, C],
    timeout: QUICK, dataDirection: 'in', handler: (c) => receiveCopyResults(c, sa),
  };
  return { [key]: spec } as Record<K, CommandSpec>;
}

/** SPC-4 §4.2.5.2: opcodes whose service action (byte 1 bits 4..0) selects the command. */
const SERVICE_ACTION_IN_16 = 0x9e; // SBC-4 §5.20: READ CAPACITY(16) is service action 10h
const MAINTENANCE_IN = 0xa3; // SPC-4 §6.35/§6.36: REPORT SUPPORTED OPERATION CODES 0Ch, REPORT TARGET PORT GROUPS 0Ah
// MAINTENANCE OUT (A4h) is absent: its SET TARGET PORT GROUPS belongs to explicit ALUA (SPC-4 §5.16.2.1), and INQUIRY
// claims implicit ALUA only (TPGS 01b), so INVALID COMMAND OPERATION CODE is the honest answer.
const SERVICE_ACTION_OPCODES: ReadonlySet<number> = new Set([SERVICE_ACTION_IN_16, MAINTENANCE_IN, PERSISTENT_RESERVE_IN, PERSISTENT_RESERVE_OUT,
  EXTENDED_COPY_OPCODE, RECEIVE_COPY_RESULTS_OPCODE]);

function serviceActionsOf(opcode: number): Record<number, CommandSpec> {
  const out: Record<number, CommandSpec> = {};
  for (const spec of Object.values(COMMANDS) as CommandSpec[]) if (spec.usage[0] === opcode) out[spec.usage[1]!] = spec;
  return out;
}

function slot(spec: CommandSpec): [number, OpcodeSlot] {
  return [spec.usage[0]!, spec];
}

export const OPCODES: OpcodeTable = new Map<number, OpcodeSlot>([
  ...Object.values(COMMANDS)
    .filter((s) => !SERVICE_ACTION_OPCODES.has(s.usage[0]!))
    .map(slot),
  [SERVICE_ACTION_IN_16, { name: 'SERVICE ACTION IN(16)', serviceActions: { 0x10: COMMANDS.READ_CAPACITY_16, 0x12: COMMANDS.GET_LBA_STATUS } }],
  [MAINTENANCE_IN, { name: 'MAINTENANCE IN', serviceActions: { 0x0a: COMMANDS.REPORT_TARGET_PORT_GROUPS, 0x0c: COMMANDS.REPORT_SUPPORTED_OPERATION_CODES } }],
  [PERSISTENT_RESERVE_IN, { name: 'PERSISTENT RESERVE IN', serviceActions: serviceActionsOf(PERSISTENT_RESERVE_IN) }],
  [PERSISTENT_RESERVE_OUT, { name: 'PERSISTENT RESERVE OUT', serviceActions: serviceActionsOf(PERSISTENT_RESERVE_OUT) }],
  [EXTENDED_COPY_OPCODE, { name: 'EXTENDED COPY', serviceActions: serviceActionsOf(EXTENDED_COPY_OPCODE) }],
  [RECEIVE_COPY_RESULTS_OPCODE, { name: 'RECEIVE COPY RESULTS', serviceActions: serviceActionsOf(RECEIVE_COPY_RESULTS_OPCODE) }],
]);
