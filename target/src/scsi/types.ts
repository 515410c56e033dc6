/**
 * The transport-independent SCSI interface: the iSCSI session hands one command at a time to a
 * ScsiTargetDevice and gets one response back. Nothing here knows about iSCSI PDUs.
 */
import type { Backstore } from '../backstore/types.ts';

/** An I_T nexus (SAM-5 §4.6.2). */
export interface Nexus {
  id: string; // unique key, e.g. `${initiatorName},i,0x${isidHex},${targetName},t,0x${tpgt}`
  initiatorName: string;
  isid: Buffer;
  targetName: string;
  targetPortalGroupTag: number;
  relativeTargetPortId: number;
}

export interface ScsiRequest {
  nexus: Nexus;
  lun: number | undefined; // decoded LUN number; undefined = unsupported addressing → LU not supported
  cdb: Buffer;
  taskAttribute: number; // 0 untagged 1 simple 2 ordered 3 head of queue 4 ACA
  expectedDataTransferLength: number; // from the transport (iSCSI EDTL)
  /** Fetch the command's data-out. `length` is what the CDB asks for; the transport returns min(length, what the
   *  initiator declared); it solicits it (R2T) as needed. Rejects if the task is aborted. */
  readDataOut(length: number): Promise<Buffer>;
  signal: AbortSignal; // aborted by TMF / connection loss
  /** Cheap check of `signal.aborted` for the hot path (the transport may create the signal lazily). */
  isAborted(): boolean;
}

export interface ScsiResponse {
  status: number; // SAM status (GOOD 0, CHECK CONDITION 2, ...)
  sense?: Buffer; // formatted sense data (fixed or descriptor per the LU's D_SENSE)
  data?: Buffer; // data-in as the command produced it (already ≤ allocation length);
  // the transport truncates to EDTL and computes residuals itself
  dataOutLength?: number; // bytes of data-out the CDB called for (for write residuals)
}

export interface LogicalUnitConfig {
  /** Stable unique id (hex); the NAA designator in VPD 0x83 is derived from it and must never change. */
  id: string;
  serial: string;
  readOnly: boolean;
  blockSize: 512 | 4096;
  writeCache: 'back' | 'through';
  vendor?: 'OPENLUN ';
  product?: string;
  revision?: string;
  /** Where APTPL persistent reservation state is kept (SPC-4 §5.13.5); without it PTPL_C is 0 and APTPL=1 is refused. */
  prStatePath?: string;
  /**
   * Thin-provisioning soft threshold in percent (SBC-4 §4.7.3.8, provisioning-threshold.ts): UNIT ATTENTION 38h/07h
   * when the backing file system's free space drops below this share of the LUN's size (or, for a thin LV fed through
   * ScsiTargetDevice.setPoolUsage, the pool's free share drops below it). Absent: no threshold.
   */
  softThresholdPercent?: number;
}

export type LunEntry = LogicalUnitConfig & { backstore: Backstore };

/** SAM-5 §5.3.1 status codes. */
export const ScsiStatus = {
  GOOD: 0x00,
  CHECK_CONDITION: 0x02,
  CONDITION_MET: 0x04,
  BUSY: 0x08,
  RESERVATION_CONFLICT: 0x18,
  TASK_SET_FULL: 0x28,
  ACA_ACTIVE: 0x30,
  TASK_ABORTED: 0x40,
} as const;
