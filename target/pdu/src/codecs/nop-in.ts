import { FINAL_BIT, readLunField, readStatusSequence, writeLunField, writeStatusSequence } from '../bhs.ts';
import { Opcode, type NopInPdu } from '../types.ts';
import type { PduCodec } from './codec.ts';

/** RFC 7143 §11.19: byte 1 |1|Reserved|; 8 LUN, 16 ITT, 20 TTT, 24 StatSN, 28 ExpCmdSN, 32 MaxCmdSN, 36–47 reserved. */
export const nopInCodec: PduCodec<NopInPdu> = {
  opcode: Opcode.NopIn,
  name: 'NOP-In',
  encode(pdu, bhs) {
    bhs[1] = FINAL_BIT;
    writeLunField(bhs, pdu.lun);
    bhs.writeUInt32BE(pdu.itt >>> 0, 16);
    bhs.writeUInt32BE(pdu.ttt >>> 0, 20);
    writeStatusSequence(bhs, pdu);
  },
  decode(bhs, ahs, data) {
    return {
      opcode: Opcode.NopIn,
      lun: readLunField(bhs),
      itt: bhs.readUInt32BE(16),
      ttt: bhs.readUInt32BE(20),
      ...readStatusSequence(bhs),
      ahs,
      data,
    };
  },
};
