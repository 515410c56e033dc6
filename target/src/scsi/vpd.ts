/**
 * Vital product data pages (SPC-4 §7.8, SBC-4 §6.6). Each page is built by one function from the
 * logical unit and the I_T nexus (VPD 0x83 names the target port the command came through).
 */
import { createHash } from 'node:crypto';
import type { Nexus } from './types.ts';
import type { LogicalUnit } from './logical-unit.ts';
import { asciiField } from './cdb.ts';
import { thirdPartyCopyVpdBody } from './copy-limits.ts';
import { thresholdExponent } from './provisioning-mode-page.ts';

/** Peripheral device type 00h: direct access block device (SPC-4 §6.6.2 Table 141). */
export const DEVICE_TYPE_DISK = 0x00;

/**
 * IEEE company id in the NAA IEEE Registered Extended designator (SPC-4 §7.8.6.6.5). openlun has no
 * OUI of its own yet: this is an IEEE CID-style value with the locally-administered ("X") bit set, so it
 * cannot collide with a real vendor's OUI. Changing it changes every LU's identity — never do that.
 */
export const OPENLUN_IEEE_COMPANY_ID = 0x0a7e57;

/** Maximum transfer length we advertise and enforce (SBC-4 §6.6.4), in bytes. */
export const MAX_TRANSFER_BYTES = 8 * 1024 * 1024;

/**
 * Logical block provisioning and the commands behind it, advertised in VPD B0h/B2h and enforced by the handlers
 * (write-same.ts, unmap.ts, compare-and-write.ts). Bytes, converted per block size by provisioningLimits().
 */
export const PROVISIONING = {
  /** SBC-4 §6.6.4 MAXIMUM COMPARE AND WRITE LENGTH: the field is one byte; the range lock makes any length atomic. */
  maxCompareAndWriteBlocks: 255,
  /**
   * MAXIMUM WRITE SAME LENGTH: also caps "NUMBER OF LOGICAL BLOCKS 0 = to the end" (WSNZ 0). 16 MiB keeps one command
   * short even when it must write data, and below 65536 blocks at 512 B: libiscsi's WriteSame16.Unmap then checks
   * the refusal instead of a 32 MiB WRITE(16) that MAXIMUM TRANSFER LENGTH forbids.
   */
  maxWriteSameBytes: 16 * 1024 * 1024,
  /** MAXIMUM UNMAP LBA COUNT (per command, all descriptors together): at 512 B exactly 2^20 blocks, the most
   *  libiscsi's Inquiry.BlockLimits accepts short of "unlimited" (FFFFFFFFh). */
  maxUnmapBytes: 512 * 1024 * 1024,
  /** MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT. */
  maxUnmapDescriptors: 1024,
  /** OPTIMAL UNMAP GRANULARITY: the file system block a punched hole frees (ext4/xfs: 4 KiB). */
  unmapGranularityBytes: 4096,
} as const satisfies Record<string, number>;

/**
 * WRITE ATOMIC(16) limits (SBC-4 §4.29, VPD B0h bytes 44..63). MAXIMUM ATOMIC TRANSFER LENGTH 1 MiB: the range lock
 * makes any length atomic against other commands, and 1 MiB keeps the held range (and a waiting ATS) short. No
 * ATOMIC ALIGNMENT / GRANULARITY restriction (0 = none) and no atomic boundary support (write-atomic.ts).
 */
export const ATOMIC = { maxTransferBytes: 1024 * 1024 } as const;

export interface AtomicLimits {
  maxTransferBlocks: number;
  alignment: number;
  granularity: number;
  maxTransferWithBoundaryBlocks: number;
  maxBoundarySize: number;
}

export function atomicLimits(blockSize: number): AtomicLimits {
  return {
    maxTransferBlocks: Math.floor(Math.min(ATOMIC.maxTransferBytes, MAX_TRANSFER_BYTES) / blockSize),
    alignment: 0,
    granularity: 0,
    maxTransferWithBoundaryBlocks: 0,
    maxBoundarySize: 0,
  };
}

export interface ProvisioningLimits {
  maxCompareAndWriteBlocks: number;
  maxWriteSameBlocks: number;
  maxUnmapBlocks: number;
  maxUnmapDescriptors: number;
  unmapGranularityBlocks: number;
}

export function provisioningLimits(blockSize: number): ProvisioningLimits {
  return {
    maxCompareAndWriteBlocks: PROVISIONING.maxCompareAndWriteBlocks,
    maxWriteSameBlocks: Math.floor(PROVISIONING.maxWriteSameBytes / blockSize),
    maxUnmapBlocks: Math.floor(PROVISIONING.maxUnmapBytes / blockSize),
    maxUnmapDescriptors: PROVISIONING.maxUnmapDescriptors,
    unmapGranularityBlocks: Math.max(1, Math.floor(PROVISIONING.unmapGranularityBytes / blockSize)),
  };
}

const PROTOCOL_ISCSI = 0x5; // SPC-4 §7.6.1 Table 362 protocol identifier

const CodeSet = { BINARY: 1, ASCII: 2, UTF8: 3 } as const;
const Association = { LOGICAL_UNIT: 0, TARGET_PORT: 1, TARGET_DEVICE: 2 } as const;
const DesignatorType = {
  T10_VENDOR_ID: 1,
  NAA: 3,
  RELATIVE_TARGET_PORT: 4,
  TARGET_PORT_GROUP: 5,
  SCSI_NAME_STRING: 8,
} as const;

function vpdPage(lu: LogicalUnit | undefined, pageCode: number, body: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h[0] = lu ? DEVICE_TYPE_DISK : 0x7f;
  h[1] = pageCode;
  h.writeUInt16BE(body.length, 2);
  return Buffer.concat([h, body]);
}

function designator(
  codeSet: number,
  association: number,
  type: number,
  value: Buffer,
  protocolSpecific: boolean,
): Buffer {
  const d = Buffer.alloc(4 + value.length);
  d[0] = ((protocolSpecific ? PROTOCOL_ISCSI : 0) << 4) | codeSet;
  d[1] = (protocolSpecific ? 0x80 : 0) | (association << 4) | type; // PIV bit 7
  d[3] = value.length;
  value.copy(d, 4);
  return d;
}

/** SPC-4 §7.8.6.1: a SCSI name string is null-terminated and padded to a multiple of 4 bytes. */
function scsiNameString(name: string): Buffer {
  const raw = Buffer.from(name, 'utf8');
  const len = Math.ceil((raw.length + 1) / 4) * 4;
  const b = Buffer.alloc(len);
  raw.copy(b);
  return b;
}

/**
 * 25 hex digits (36-bit vendor specific id + 64-bit extension) from the LU's stable id, always through a hash:
 * taking a prefix of a long hex id made ids that differ only further on (test fixtures did) share one designator,
 * which multipath and XCOPY would read as one LU (interop.md: genestack#451).
 */
function idDigits(id: string): string {
  return createHash('sha256').update(id.toLowerCase(), 'utf8').digest('hex').slice(0, 25);
}

/** NAA 6 IEEE Registered Extended (SPC-4 §7.8.6.6.5): 16 bytes. */
export function naaRegisteredExtended(id: string): Buffer {
  const digits = '6' + OPENLUN_IEEE_COMPANY_ID.toString(16).padStart(6, '0') + idDigits(id);
  return Buffer.from(digits, 'hex');
}

/** `<targetName>,t,0x<tpgt>`: the iSCSI target port name (RFC 7143, "SCSI Port Names"), as SPC-4 §7.8.6.11 wants it. */
export function targetPortName(nexus: Nexus): string {
  return `${nexus.targetName},t,0x${nexus.targetPortalGroupTag.toString(16).padStart(4, '0')}`;
}

export const VPD_PAGES: readonly { code: number; build: (lu: LogicalUnit, nexus: Nexus) => Buffer }[] = [
  { code: 0x00, build: (lu) => supportedPages(lu) },
  { code: 0x80, build: (lu) => unitSerialNumber(lu) },
  { code: 0x83, build: (lu, nexus) => deviceIdentification(lu, nexus) },
  // SPC-4 §7.8.17 Third-party Copy: the LID1 copy manager's commands and limits (copy-limits.ts)
  { code: 0x8f, build: (lu) => vpdPage(lu, 0x8f, thirdPartyCopyVpdBody(lu.blockSize)) },
  { code: 0xb0, build: (lu) => blockLimits(lu) },
  { code: 0xb1, build: (lu) => blockDeviceCharacteristics(lu) },
  { code: 0xb2, build: (lu) => logicalBlockProvisioning(lu) },
];

/** SPC-4 §7.8.16: the supported page list, ascending. */
function supportedPages(lu: LogicalUnit): Buffer {
  return vpdPage(lu, 0x00, Buffer.from(VPD_PAGES.map((p) => p.code)));
}

/** SPC-4 §7.8.17 */
function unitSerialNumber(lu: LogicalUnit): Buffer {
  return vpdPage(lu, 0x80, Buffer.from(lu.config.serial.replace(/[^\x20-\x7e]/g, '?'), 'ascii'));
}

/** SPC-4 §7.8.6: LU designators (NAA, T10 vendor id), then target port and target device designators. */
function deviceIdentification(lu: LogicalUnit, nexus: Nexus): Buffer {
  const rel = Buffer.alloc(4);
  rel.writeUInt16BE(nexus.relativeTargetPortId & 0xffff, 2);
  const tpg = Buffer.alloc(4);
  tpg.writeUInt16BE(nexus.targetPortalGroupTag & 0xffff, 2);
  const t10 = Buffer.concat([asciiField(lu.vendor, 8), Buffer.from(lu.config.id, 'ascii')]);
  const designators = [
    designator(CodeSet.BINARY, Association.LOGICAL_UNIT, DesignatorType.NAA, naaRegisteredExtended(lu.config.id), false),
    designator(CodeSet.ASCII, Association.LOGICAL_UNIT, DesignatorType.T10_VENDOR_ID, t10, false),
    designator(CodeSet.BINARY, Association.TARGET_PORT, DesignatorType.RELATIVE_TARGET_PORT, rel, true),
    designator(CodeSet.BINARY, Association.TARGET_PORT, DesignatorType.TARGET_PORT_GROUP, tpg, true),
    designator(CodeSet.UTF8, Association.TARGET_PORT, DesignatorType.SCSI_NAME_STRING, scsiNameString(targetPortName(nexus)), true),
    designator(CodeSet.UTF8, Association.TARGET_DEVICE, DesignatorType.SCSI_NAME_STRING, scsiNameString(nexus.targetName), true),
  ];
  return vpdPage(lu, 0x83, Buffer.concat(designators));
}

/** SBC-4 §6.6.4: page length 3Ch (SBC-3 and later). */
function blockLimits(lu: LogicalUnit): Buffer {
  const b = Buffer.alloc(0x3c);
  const maxBlocks = Math.floor(MAX_TRANSFER_BYTES / lu.blockSize);
  const limits = provisioningLimits(lu.blockSize);
  // body offsets are page offsets - 4
  b[4 - 4] = 0; // WSNZ 0: WRITE SAME with NUMBER OF LOGICAL BLOCKS 0 writes to the last LBA (within the maximum)
  b[5 - 4] = limits.maxCompareAndWriteBlocks; // MAXIMUM COMPARE AND WRITE LENGTH
  b.writeUInt16BE(1, 6 - 4); // OPTIMAL TRANSFER LENGTH GRANULARITY: any block
  b.writeUInt32BE(maxBlocks, 8 - 4); // MAXIMUM TRANSFER LENGTH
  b.writeUInt32BE(Math.floor((128 * 1024) / lu.blockSize), 12 - 4); // OPTIMAL TRANSFER LENGTH
  b.writeUInt32BE(maxBlocks, 16 - 4); // MAXIMUM PREFETCH LENGTH
  b.writeUInt32BE(limits.maxUnmapBlocks, 20 - 4); // MAXIMUM UNMAP LBA COUNT
  b.writeUInt32BE(limits.maxUnmapDescriptors, 24 - 4); // MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT
  b.writeUInt32BE(limits.unmapGranularityBlocks, 28 - 4); // OPTIMAL UNMAP GRANULARITY
  b.writeUInt32BE(0x80000000, 32 - 4); // UGAVALID 1, UNMAP GRANULARITY ALIGNMENT 0 (holes align to file offset 0)
  b.writeBigUInt64BE(BigInt(limits.maxWriteSameBlocks), 36 - 4); // MAXIMUM WRITE SAME LENGTH
  const atomic = atomicLimits(lu.blockSize);
  b.writeUInt32BE(atomic.maxTransferBlocks, 44 - 4); // MAXIMUM ATOMIC TRANSFER LENGTH
  b.writeUInt32BE(atomic.alignment, 48 - 4); // ATOMIC ALIGNMENT (0: none)
  b.writeUInt32BE(atomic.granularity, 52 - 4); // ATOMIC TRANSFER LENGTH GRANULARITY (0: none)
  b.writeUInt32BE(atomic.maxTransferWithBoundaryBlocks, 56 - 4); // MAXIMUM ATOMIC TRANSFER LENGTH WITH ATOMIC BOUNDARY
  b.writeUInt32BE(atomic.maxBoundarySize, 60 - 4); // MAXIMUM ATOMIC BOUNDARY SIZE (0: ATOMIC BOUNDARY must be 0)
  return vpdPage(lu, 0xb0, b);
}

/** SBC-4 §6.6.2: MEDIUM ROTATION RATE 1 = non-rotating medium. */
function blockDeviceCharacteristics(lu: LogicalUnit): Buffer {
  const b = Buffer.alloc(0x3c);
  b.writeUInt16BE(0x0001, 0);
  return vpdPage(lu, 0xb1, b);
}

/** SBC-4 §6.6.6 Table 221 bits of byte 5 and the provisioning types of byte 6. */
const Lbp = { LBPU: 0x80, LBPWS: 0x40, LBPWS10: 0x20, LBPRZ_ZEROS: 0x01 << 2 } as const;
const ProvisioningType = { RESOURCE: 0x1, THIN: 0x2 } as const;

/**
 * SBC-4 §6.6.6 Logical Block Provisioning VPD page: UNMAP (LBPU), WRITE SAME(16)/(10) with UNMAP (LBPWS/LBPWS10)
 * are implemented; LBPRZ 001b because a deallocated block reads zeros (punched hole, or the zero-fill fallback);
 * ANC_SUP 0 (no anchored state); DP 0 (no provisioning group descriptor). Thin provisioned when deallocation
 * really frees space (punch-hole), resource provisioned when it can only write zeros. THRESHOLD EXPONENT: threshold
 * sets of 1 MiB, the unit of the soft threshold descriptor in the Logical Block Provisioning mode page.
 */
function logicalBlockProvisioning(lu: LogicalUnit): Buffer {
  const b = Buffer.alloc(4);
  b[0] = thresholdExponent(lu.blockSize); // THRESHOLD EXPONENT: the soft threshold's unit (mode page 1Ch/02h)
  b[1] = Lbp.LBPU | Lbp.LBPWS | Lbp.LBPWS10 | Lbp.LBPRZ_ZEROS;
  b[2] = lu.backstore.discardMethod === 'punch-hole' ? ProvisioningType.THIN : ProvisioningType.RESOURCE;
  return vpdPage(lu, 0xb2, b);
}
