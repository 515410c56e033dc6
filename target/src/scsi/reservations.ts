/**
 * Reservations of one logical unit: the SCSI-2 RESERVE/RELEASE holder (SPC-2 §5.5.1) and the SPC-4 §5.13
 * persistent reservation state (registrations per I_T nexus, the reservation, PRgeneration, APTPL), plus the
 * conflict table that decides, per command class, whether a command from a given I_T nexus is refused with
 * RESERVATION CONFLICT. The PR IN / PR OUT / RESERVE handlers (pr-in.ts, pr-out.ts, reserve6.ts) change this state;
 * device.ts asks conflictFor() before every handler runs.
 */
import type { COMMANDS } from './opcodes.ts';
import type { SenseReason } from './sense.ts';
import type { Nexus } from './types.ts';

/** SPC-4 §6.16.2 Table 171: persistent reservation TYPE codes. */
export const PrType = {
  WRITE_EXCLUSIVE: 0x1,
  EXCLUSIVE_ACCESS: 0x3,
  WRITE_EXCLUSIVE_REGISTRANTS_ONLY: 0x5,
  EXCLUSIVE_ACCESS_REGISTRANTS_ONLY: 0x6,
  WRITE_EXCLUSIVE_ALL_REGISTRANTS: 0x7,
  EXCLUSIVE_ACCESS_ALL_REGISTRANTS: 0x8,
} as const;
export type PrTypeCode = (typeof PrType)[keyof typeof PrType];

interface TypeRules {
  /** Non-holders (or non-registrants, for the *_RO / *_AR types) may not read. */
  exclusiveAccess: boolean;
  /** Every registered I_T nexus may access the medium as if it held the reservation. */
  registrantsAccess: boolean;
  /** Every registered I_T nexus is a reservation holder (SPC-4 §5.13.10.2). */
  allRegistrants: boolean;
}

/** SPC-4 §5.13.1 Table 56 / §6.16.2 Table 171: what each type means for the conflict table. */
export const PR_TYPE_RULES = {
  [PrType.WRITE_EXCLUSIVE]: { exclusiveAccess: false, registrantsAccess: false, allRegistrants: false },
  [PrType.EXCLUSIVE_ACCESS]: { exclusiveAccess: true, registrantsAccess: false, allRegistrants: false },
  [PrType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY]: { exclusiveAccess: false, registrantsAccess: true, allRegistrants: false },
  [PrType.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY]: { exclusiveAccess: true, registrantsAccess: true, allRegistrants: false },
  [PrType.WRITE_EXCLUSIVE_ALL_REGISTRANTS]: { exclusiveAccess: false, registrantsAccess: true, allRegistrants: true },
  [PrType.EXCLUSIVE_ACCESS_ALL_REGISTRANTS]: { exclusiveAccess: true, registrantsAccess: true, allRegistrants: true },
} as const satisfies Record<PrTypeCode, TypeRules>;

export function isPrType(t: number): t is PrTypeCode {
  return Object.hasOwn(PR_TYPE_RULES, t);
}

/** SPC-4 §6.16.2: the only SCOPE defined for a logical unit. */
export const LU_SCOPE = 0x0;

/**
 * How a command is treated while the LU is reserved, per SPC-4 §5.13.1 Table 66 (and SBC-4 §4.17 Table 13 for the
 * block commands):
 * - always: never conflicts (INQUIRY, REPORT LUNS, REQUEST SENSE, RSOC — also under a SCSI-2 reservation);
 * - status: allowed under every persistent reservation type, refused under another nexus' SCSI-2 reservation
 *   (TEST UNIT READY, READ CAPACITY);
 * - read: conflicts under the exclusive-access types for non-holders (non-registrants for *_RO/*_AR);
 * - write: conflicts under every type for non-holders (non-registrants for *_RO/*_AR);
 * - pr-in / pr-out / reserve / release: decided by their own handlers (SPC-4 §5.13, §5.13.3 CRH).
 */
export type ReservationAccess = 'always' | 'status' | 'read' | 'write' | 'pr-in' | 'pr-out' | 'reserve' | 'release';

/** Every command of the opcode table, classified. A command added to COMMANDS must be classified here. */
export const RESERVATION_ACCESS = {
  TEST_UNIT_READY: 'status',
  REQUEST_SENSE: 'always',
  READ_6: 'read',
  WRITE_6: 'write',
  INQUIRY: 'always',
  MODE_SELECT_6: 'write',
  MODE_SENSE_6: 'read',
  // SBC-4 Table 13 allows START=1 and PREVENT=0 only; treating both as writes is the safe side of that rule.
  START_STOP_UNIT: 'write',
  PREVENT_ALLOW_MEDIUM_REMOVAL: 'write',
  READ_CAPACITY_10: 'status',
  READ_10: 'read',
  WRITE_SAME_10: 'write',
  UNMAP: 'write',
  WRITE_10: 'write',
  WRITE_AND_VERIFY_10: 'write',
  VERIFY_10: 'read',
  PRE_FETCH_10: 'read',
  SYNCHRONIZE_CACHE_10: 'write',
  READ_DEFECT_DATA_10: 'read',
  MODE_SELECT_10: 'write',
  MODE_SENSE_10: 'read',
  ORWRITE_16: 'write',
  WRITE_ATOMIC_16: 'write',
  COMPARE_AND_WRITE: 'write',
  READ_16: 'read',
  WRITE_16: 'write',
  WRITE_AND_VERIFY_16: 'write',
  VERIFY_16: 'read',
  PRE_FETCH_16: 'read',
  SYNCHRONIZE_CACHE_16: 'write',
  WRITE_SAME_16: 'write',
  READ_CAPACITY_16: 'status',
  GET_LBA_STATUS: 'read',
  REPORT_LUNS: 'always',
  REPORT_SUPPORTED_OPERATION_CODES: 'always',
  // SPC-4 §5.13.1 Table 66: EXTENDED COPY conflicts as a write; RECEIVE COPY RESULTS as a read (xcopy.ts also
  // checks the source and destination LUs' own reservations for the nexus).
  EXTENDED_COPY: 'write',
  RECEIVE_COPY_RESULTS_COPY_STATUS: 'read',
  RECEIVE_COPY_RESULTS_OPERATING_PARAMETERS: 'read',
  RECEIVE_COPY_RESULTS_FAILED_SEGMENT_DETAILS: 'read',
  REPORT_TARGET_PORT_GROUPS: 'always', // SPC-4 §5.13.1 Table 66: allowed under every reservation type
  READ_12: 'read',
  WRITE_12: 'write',
  WRITE_AND_VERIFY_12: 'write',
  VERIFY_12: 'read',
  READ_DEFECT_DATA_12: 'read',
  RESERVE_6: 'reserve',
  RELEASE_6: 'release',
  RESERVE_10: 'reserve',
  RELEASE_10: 'release',
  PR_IN_READ_KEYS: 'pr-in',
  PR_IN_READ_RESERVATION: 'pr-in',
  PR_IN_REPORT_CAPABILITIES: 'pr-in',
  PR_IN_READ_FULL_STATUS: 'pr-in',
  PR_OUT_REGISTER: 'pr-out',
  PR_OUT_RESERVE: 'pr-out',
  PR_OUT_RELEASE: 'pr-out',
  PR_OUT_CLEAR: 'pr-out',
  PR_OUT_PREEMPT: 'pr-out',
  PR_OUT_PREEMPT_AND_ABORT: 'pr-out',
  PR_OUT_REGISTER_AND_IGNORE_EXISTING_KEY: 'pr-out',
  PR_OUT_REGISTER_AND_MOVE: 'pr-out',
} as const satisfies Record<keyof typeof COMMANDS, ReservationAccess>;

/** One registered I_T nexus (SPC-4 §5.13.7). With ALL_TG_PT it covers the initiator port on every target port. */
export interface Registration {
  key: bigint;
  /** iSCSI initiator name, lowercased (RFC 7143 §4.2.7.1: names compare case-insensitively). */
  initiatorName: string;
  isid: string; // 12 hex digits
  targetName: string;
  tpgt: number;
  relativeTargetPortId: number;
  allTgPt: boolean;
}

export interface Reservation {
  type: PrTypeCode;
  /** The registration that reserved; for the all-registrants types every registration holds it. */
  holder: Registration;
}

/** The nexus fields a registration is matched on. */
export type NexusPort = Pick<Nexus, 'initiatorName' | 'isid' | 'targetName' | 'targetPortalGroupTag'>;

/** Same format as the transport's Nexus.id (server.ts), so unit attentions reach the same nexus. */
export function registrationNexusId(r: Registration): string {
  return `${r.initiatorName},i,0x${r.isid},${r.targetName},t,0x${r.tpgt.toString(16)}`;
}

export function registrationFor(nexus: Nexus, key: bigint, allTgPt: boolean): Registration {
  return {
    key,
    initiatorName: nexus.initiatorName.toLowerCase(),
    isid: nexus.isid.toString('hex'),
    targetName: nexus.targetName,
    tpgt: nexus.targetPortalGroupTag,
    relativeTargetPortId: nexus.relativeTargetPortId,
    allTgPt,
  };
}

function sameInitiatorPort(r: Registration, n: NexusPort): boolean {
  return r.initiatorName === n.initiatorName.toLowerCase() && r.isid === n.isid.toString('hex');
}

export function registrationCovers(r: Registration, n: NexusPort): boolean {
  return sameInitiatorPort(r, n) && (r.allTgPt || (r.targetName === n.targetName && r.tpgt === n.targetPortalGroupTag));
}

/** What a PR OUT handler tells the LU to deliver after a state change. */
export interface UnitAttentionSink {
  (nexusIds: Iterable<string>, reason: SenseReason): void;
}

export class Reservations {
  /** SCSI-2 RESERVE(6)/(10) holder's nexus id (SPC-2 §7.21). */
  scsi2Holder: string | undefined;
  generation = 0;
  registrations: Registration[] = [];
  reservation: Reservation | undefined;
  /** Activate persist through power loss (SPC-4 §5.13.5): the last valid REGISTER-class APTPL bit. */
  aptpl = false;
  /** Nexuses seen on this LU (kept by device.ts) — SPEC_I_PT may only name known I_T nexuses; UAs reach them. */
  readonly knownNexuses = new Map<string, Nexus>();

  registrationOf(nexus: NexusPort): Registration | undefined {
    return this.registrations.find((r) => registrationCovers(r, nexus));
  }

  isHolder(nexus: NexusPort): boolean {
    const res = this.reservation;
    if (!res) return false;
    const reg = this.registrationOf(nexus);
    if (!reg) return false;
    return PR_TYPE_RULES[res.type].allRegistrants || reg === res.holder;
  }

  isHolderRegistration(reg: Registration): boolean {
    const res = this.reservation;
    return res !== undefined && (PR_TYPE_RULES[res.type].allRegistrants || reg === res.holder);
  }

  /** Key reported by READ RESERVATION / READ FULL STATUS: zero for the all-registrants types (SPC-4 §6.15.3). */
  reservationKey(): bigint {
    const res = this.reservation;
    if (!res) return 0n;
    return PR_TYPE_RULES[res.type].allRegistrants ? 0n : res.holder.key;
  }

  /** Every nexus id a registration stands for: its own, plus the known nexuses it covers (ALL_TG_PT). */
  nexusIdsOf(regs: Iterable<Registration>): Set<string> {
    const out = new Set<string>();
    for (const r of regs) {
      out.add(registrationNexusId(r));
      for (const [id, n] of this.knownNexuses) if (registrationCovers(r, n)) out.add(id);
    }
    return out;
  }

  /**
   * Whether a command of this class from this nexus must end in RESERVATION CONFLICT before its handler runs
   * (SPC-2 §5.5.1 for RESERVE/RELEASE; SPC-4 §5.13.1 Table 66 for persistent reservations).
   */
  conflicts(nexus: Nexus, access: ReservationAccess): boolean {
    if (access === 'always') return false;
    if (this.scsi2Holder !== undefined && this.scsi2Holder !== nexus.id) {
      // SPC-2 §5.5.1: everything but the 'always' commands and RELEASE (a no-op) is refused; RESERVE too.
      return access !== 'release';
    }
    const res = this.reservation;
    if (!res) return false;
    if (access === 'status' || access === 'pr-in' || access === 'pr-out' || access === 'reserve' || access === 'release') {
      return false; // status commands are allowed by Table 66; the rest decide in their handlers
    }
    if (this.isHolder(nexus)) return false;
    const rules = PR_TYPE_RULES[res.type];
    if (rules.registrantsAccess && this.registrationOf(nexus)) return false;
    return access === 'write' || rules.exclusiveAccess;
  }

  /** LOGICAL UNIT RESET / target reset (SPC-2 §5.5.1: a reset releases a RESERVE); PRs survive resets (SPC-4 §5.13.1). */
  releaseScsi2(): void {
    this.scsi2Holder = undefined;
  }

  /** I_T nexus loss releases that nexus' SCSI-2 reservation (SAM-5 §6.3.4); registrations stay. */
  nexusLost(nexusId: string): void {
    if (this.scsi2Holder === nexusId) this.scsi2Holder = undefined;
    this.knownNexuses.delete(nexusId);
  }
}

/** Thrown by the reservation handlers; device.ts turns it into status RESERVATION CONFLICT (SAM-5 §5.3.1). */
export class ReservationConflict extends Error {
  override readonly name = 'ReservationConflict';
  constructor(why: string) {
    super(why);
  }
}
