import { FINAL_BIT, IMMEDIATE_BIT, bit, readImmediate, readLunField, writeLunField } from '../bhs.ts';
import { Opcode, type NopOutPdu } from '../types.ts';
import type { PduCodec } from './codec.ts';

/** RFC 7143 §11.18: byte 1 is |1|Reserved|; 8 LUN, 16 ITT, 20 TTT, 24 CmdSN, 28 ExpStatSN, 32–47 reserved. */
export const nopOutCodec: PduCodec<NopOutPdu> = {
  opcode: Opcode.NopOut,
  name: 'NOP-Out',
  encode(pdu, bhs) {
    bhs[0]! |= bit(pdu.immediate, IMMEDIATE_BIT);
    bhs[1] = FINAL_BIT;
    writeLunField(bhs, pdu.lun);
    bhs.writeUInt32BE(pdu.itt >>> 0, 16);
    bhs.writeUInt32BE(pdu.ttt >>> 0, 20);
    bhs.writeUInt32BE(pdu.cmdSN >>> 0, 24);
    bhs.writeUInt32BE(pdu.expStatSN >>> 0, 28);
  },
  decode(bhs, ahs, data) {
    return {
      opcode: Opcode.NopOut,
      immediate: readImmediate(bhs),
      lun: readLunField(bhs),
      itt: bhs.readUInt32BE(16),
      ttt: bhs.readUInt32BE(20),
      cmdSN: bhs.readUInt32BE(24),
      expStatSN: bhs.readUInt32BE(28),
      ahs,
      data,
    };
  },
};
