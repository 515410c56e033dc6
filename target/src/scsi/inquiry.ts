/** INQUIRY (SPC-4 §6.6): standard data and the VPD pages of vpd.ts. */
import type { CommandContext, CommandResult } from './command.ts';
import type { LogicalUnit } from './logical-unit.ts';
import { DEFAULT_PRODUCT, DEFAULT_REVISION, DEFAULT_VENDOR } from './logical-unit.ts';
import { asciiField, truncate } from './cdb.ts';
import { invalidCdbField } from './sense.ts';
import { DEVICE_TYPE_DISK, VPD_PAGES } from './vpd.ts';

/** SPC-4 §6.6.2 Table 142: VERSION 06h claims SPC-4 (libiscsi accepts 04h..06h). */
const VERSION_SPC4 = 0x06;
/** SPC-4 §6.6.2 Table 144 version descriptors, in the order SAM, transport, SPC, command set. */
const VERSION_DESCRIPTORS = [
  0x00a0, // SAM-5 (no version claimed)
  0x0960, // iSCSI (no version claimed)
  0x0460, // SPC-4 (no version claimed)
  0x04c0, // SBC-3 (no version claimed) — libiscsi keys its SBC-3 checks on this one
] as const;
const STANDARD_LENGTH = 74; // through the eight version descriptors (bytes 58..73)

/**
 * SPC-4 §6.6.2 Table 140 TPGS 01b (byte 5 bits 5..4): implicit ALUA only — REPORT TARGET PORT GROUPS is supported,
 * SET TARGET PORT GROUPS is not (alua.ts). ESXi picks VMW_SATP_ALUA on it.
 */
const TPGS_IMPLICIT_ALUA = 0x10;

const THIRD_PARTY_COPY = 0x08; // SPC-4 §6.6.2 byte 5 bit 3 (3PC)

/** SPC-4 §6.6.2: peripheral qualifier 011b + type 1Fh = no logical unit at this LUN (SPC-4 §4.6.4). */
const NO_LOGICAL_UNIT = 0x7f;

export function standardInquiryData(lu: LogicalUnit | undefined): Buffer {
  const b = Buffer.alloc(STANDARD_LENGTH);
  b[0] = lu ? DEVICE_TYPE_DISK : NO_LOGICAL_UNIT;
  b[1] = 0x00; // RMB 0: the medium is not removable
  b[2] = VERSION_SPC4;
  b[3] = 0x10 | 0x02; // HISUP, RESPONSE DATA FORMAT 2
  b[4] = STANDARD_LENGTH - 5; // ADDITIONAL LENGTH
  // 3PC (bit 3): EXTENDED COPY / RECEIVE COPY RESULTS are supported (SPC-4 §6.6.2; xcopy.ts)
  b[5] = TPGS_IMPLICIT_ALUA | THIRD_PARTY_COPY; // no SCCS/ACC/PROTECT
  b[6] = 0x00;
  b[7] = 0x02; // CMDQUE: full task management model
  asciiField(lu?.vendor ?? DEFAULT_VENDOR, 8).copy(b, 8);
  asciiField(lu?.product ?? DEFAULT_PRODUCT, 16).copy(b, 16);
  asciiField(lu?.revision ?? DEFAULT_REVISION, 4).copy(b, 32);
  VERSION_DESCRIPTORS.forEach((v, i) => b.writeUInt16BE(v, 58 + 2 * i));
  return b;
}

export function inquiry(ctx: CommandContext): CommandResult {
  const { cdb, lu } = ctx;
  const evpd = (cdb[1]! & 0x01) !== 0;
  const pageCode = cdb[2]!;
  const allocLength = cdb.readUInt16BE(3); // SPC-4: 16-bit since SPC-3
  if (!evpd) {
    // SPC-4 §6.6.1: PAGE CODE must be zero when EVPD is zero.
    if (pageCode !== 0) throw invalidCdbField(2);
    return { data: truncate(standardInquiryData(lu), allocLength) };
  }
  // VPD pages describe a logical unit; without one, only the qualifier header is meaningful.
  if (!lu) throw invalidCdbField(2);
  const page = VPD_PAGES.find((p) => p.code === pageCode);
  if (!page) throw invalidCdbField(2);
  return { data: truncate(page.build(lu, ctx.nexus), allocLength) };
}
