/** Primary commands that are not INQUIRY / MODE / RSOC: REPORT LUNS, TEST UNIT READY, REQUEST SENSE. */
import type { CommandContext, CommandResult } from './command.ts';
import { truncate } from './cdb.ts';
import { buildSense, invalidCdbField } from './sense.ts';

/** SAM-5 §4.7: single-level LUN — peripheral addressing below 256, flat space addressing above. */
export function encodeLun(lun: number): Buffer {
  const b = Buffer.alloc(8);
  if (lun < 256) {
    b[1] = lun;
  } else {
    b[0] = 0x40 | ((lun >> 8) & 0x3f);
    b[1] = lun & 0xff;
  }
  return b;
}

/** SPC-4 §6.33 Table 286: SELECT REPORT codes we answer. */
const SelectReport = { ALL_LOGICAL_UNITS: 0x00, WELL_KNOWN_ONLY: 0x01, ALL_INCLUDING_WELL_KNOWN: 0x02 } as const;

export function reportLuns(ctx: CommandContext): CommandResult {
  const { cdb, target, nexus } = ctx;
  const select = cdb[2]!;
  const allocLength = cdb.readUInt32BE(6);
  // SPC-4 §6.33 (SPC-3 rule kept by libiscsi): an allocation length below 16 is an invalid field.
  if (allocLength < 16) throw invalidCdbField(6);
  let luns: number[];
  if (select === SelectReport.ALL_LOGICAL_UNITS || select === SelectReport.ALL_INCLUDING_WELL_KNOWN) {
    luns = target.lunNumbers();
  } else if (select === SelectReport.WELL_KNOWN_ONLY) {
    luns = []; // no well-known logical units
  } else {
    throw invalidCdbField(2);
  }
  const data = Buffer.alloc(8 + 8 * luns.length);
  data.writeUInt32BE(8 * luns.length, 0);
  luns.forEach((lun, i) => encodeLun(lun).copy(data, 8 + 8 * i));
  // SPC-4 §6.33: REPORT LUNS clears REPORTED LUNS DATA HAS CHANGED for this I_T nexus.
  for (const lun of target.lunNumbers()) target.logicalUnit(lun)?.unitAttentions.clear(nexus.id, 'REPORTED_LUNS_DATA_HAS_CHANGED');
  return { data: truncate(data, allocLength) };
}

export function testUnitReady(): CommandResult {
  return {};
}

/**
 * SPC-4 §6.39 REQUEST SENSE: reports (and clears) a pending unit attention, else NO SENSE; GOOD status.
 * For a LUN with no logical unit, the sense data says LOGICAL UNIT NOT SUPPORTED (SPC-4 §4.6.4).
 */
export function requestSense(ctx: CommandContext): CommandResult {
  const { cdb, lu, nexus } = ctx;
  const desc = (cdb[1]! & 0x01) !== 0;
  const allocLength = cdb[4]!;
  let sense: Buffer;
  if (!lu) {
    sense = buildSense('LOGICAL_UNIT_NOT_SUPPORTED', {}, desc);
  } else {
    const ua = lu.unitAttentions.take(nexus.id);
    sense = buildSense(ua ?? 'NO_SENSE', {}, desc);
  }
  return { data: truncate(sense, allocLength) };
}

