/**
 * PERSISTENT RESERVE IN (SPC-4 §6.16): READ KEYS, READ RESERVATION, REPORT CAPABILITIES, READ FULL STATUS.
 * Unknown service actions never reach here: the opcode table answers INVALID FIELD IN CDB for them.
 */
import { truncate } from './cdb.ts';
import type { CommandContext, CommandResult } from './command.ts';
import { PrType } from './reservations.ts';
import { ScsiError } from './sense.ts';
import { encodeTransportId } from './transport-id.ts';

export const PrInAction = { READ_KEYS: 0x00, READ_RESERVATION: 0x01, REPORT_CAPABILITIES: 0x02, READ_FULL_STATUS: 0x03 } as const;
type PrInActionCode = (typeof PrInAction)[keyof typeof PrInAction];

// SPC-4 §6.16.4 Table 174 byte 2 / byte 3 bits
const CRH = 0x10; // RESERVE/RELEASE handled per §5.13.3 while PRs exist
const SIP_C = 0x08; // SPEC_I_PT supported
const ATP_C = 0x04; // ALL_TG_PT supported
const PTPL_C = 0x01; // APTPL supported (only with a place to keep the state)
const TMV = 0x80; // the type mask is valid
const PTPL_A = 0x01; // APTPL currently active
/** Table 175: type mask bits, byte 4 then byte 5. All six types are implemented. */
const TYPE_MASK = [
  [PrType.WRITE_EXCLUSIVE_ALL_REGISTRANTS, 0x8000],
  [PrType.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY, 0x4000],
  [PrType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY, 0x2000],
  [PrType.EXCLUSIVE_ACCESS, 0x0800],
  [PrType.WRITE_EXCLUSIVE, 0x0200],
  [PrType.EXCLUSIVE_ACCESS_ALL_REGISTRANTS, 0x0001],
] as const;
// READ FULL STATUS descriptor byte 12 (Table 173)
const FS_ALL_TG_PT = 0x02;
const FS_R_HOLDER = 0x01;

export function persistentReserveIn(ctx: CommandContext, action: PrInActionCode): CommandResult {
  const lu = ctx.lu;
  if (!lu) throw new ScsiError('LOGICAL_UNIT_NOT_SUPPORTED');
  const pr = lu.reservations;
  const allocLength = ctx.cdb.readUInt16BE(7);
  let data: Buffer;
  switch (action) {
    case PrInAction.READ_KEYS: {
      // §6.16.2: one key per registered I_T nexus, in registration order.
      data = Buffer.alloc(8 + 8 * pr.registrations.length);
      data.writeUInt32BE(pr.generation, 0);
      data.writeUInt32BE(8 * pr.registrations.length, 4);
      pr.registrations.forEach((r, i) => data.writeBigUInt64BE(r.key, 8 + 8 * i));
      break;
    }
    case PrInAction.READ_RESERVATION: {
      const res = pr.reservation;
      data = Buffer.alloc(res ? 24 : 8);
      data.writeUInt32BE(pr.generation, 0);
      if (res) {
        data.writeUInt32BE(16, 4);
        data.writeBigUInt64BE(pr.reservationKey(), 8); // §6.16.3: zero for the all-registrants types
        data[21] = res.type; // SCOPE 0 (LU_SCOPE) in the high nibble
      }
      break;
    }
    case PrInAction.REPORT_CAPABILITIES: {
      data = Buffer.alloc(8);
      data.writeUInt16BE(8, 0);
      data[2] = CRH | SIP_C | ATP_C | (lu.prStore ? PTPL_C : 0);
      // ALLOW COMMANDS 000b: we make no claim beyond Table 66.
      data[3] = TMV | (pr.aptpl ? PTPL_A : 0);
      data.writeUInt16BE(TYPE_MASK.reduce((m, [, bit]) => m | bit, 0), 4);
      break;
    }
    case PrInAction.READ_FULL_STATUS: {
      const parts: Buffer[] = [];
      for (const r of pr.registrations) {
        const tid = encodeTransportId(r.initiatorName, r.isid);
        const d = Buffer.alloc(24 + tid.length);
        d.writeBigUInt64BE(r.key, 0);
        const holder = pr.reservation !== undefined && pr.isHolderRegistration(r);
        d[12] = (r.allTgPt ? FS_ALL_TG_PT : 0) | (holder ? FS_R_HOLDER : 0);
        if (holder) d[13] = pr.reservation!.type;
        d.writeUInt16BE(r.allTgPt ? 0 : r.relativeTargetPortId, 18);
        d.writeUInt32BE(tid.length, 20);
        tid.copy(d, 24);
        parts.push(d);
      }
      const body = Buffer.concat(parts);
      data = Buffer.alloc(8 + body.length);
      data.writeUInt32BE(pr.generation, 0);
      data.writeUInt32BE(body.length, 4);
      body.copy(data, 8);
      break;
    }
  }
  return { data: truncate(data, allocLength) };
}
