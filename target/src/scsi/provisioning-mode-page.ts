/**
 * The soft threshold as the Logical Block Provisioning mode page (SBC-4 §6.5.8, page 1Ch subpage 02h) and VPD B2h
 * (THRESHOLD EXPONENT) describe it. The threshold itself is the appliance's --soft-threshold PERCENT of the LUN's
 * size in free backing space (provisioning-threshold.ts); here it is expressed the way SBC-4 counts resources: in
 * threshold sets of 2^THRESHOLD EXPONENT logical blocks (SBC-4 §4.7.3.8.2).
 */
import type { LogicalUnit } from './logical-unit.ts';

/** A threshold set of 1 MiB whatever the block size: a 32-bit THRESHOLD COUNT then reaches 4 PiB. */
const THRESHOLD_SET_BYTES = 1024 * 1024;

/** SBC-4 §6.6.6 THRESHOLD EXPONENT (VPD B2h byte 4): log2 of the threshold set size in logical blocks. */
export function thresholdExponent(blockSize: number): number {
  return Math.log2(THRESHOLD_SET_BYTES / blockSize);
}

/** SBC-4 §6.5.8 threshold descriptor fields. */
const ENABLED = 0x80;
const ThresholdType = { SOFT: 0b000 } as const;
/** THRESHOLD ARMING 000b: armed decreasing — reported when the resource falls below the count. */
const ThresholdArming = { DECREASING: 0b000 } as const;
/** THRESHOLD RESOURCE 01h: available LBA mapping resources (free space that can back the LU). */
const ThresholdResource = { AVAILABLE: 0x01 } as const;

/** The threshold count, in threshold sets, for a LU and a percent of its capacity (rounded up: never later). */
export function thresholdCount(lu: LogicalUnit, percent: number): number {
  const bytes = (percent / 100) * Number(lu.blockCount()) * lu.blockSize;
  return Math.min(0xffffffff, Math.ceil(bytes / THRESHOLD_SET_BYTES));
}

/** The 8-byte soft threshold descriptor; ENABLED only while --soft-threshold is set. */
export function lbpThresholdDescriptor(lu: LogicalUnit): Buffer {
  const d = Buffer.alloc(8);
  const percent = lu.config.softThresholdPercent;
  d[0] = (percent !== undefined ? ENABLED : 0) | (ThresholdType.SOFT << 3) | ThresholdArming.DECREASING;
  d[1] = ThresholdResource.AVAILABLE;
  d.writeUInt32BE(percent !== undefined ? thresholdCount(lu, percent) : 0, 4);
  return d;
}
