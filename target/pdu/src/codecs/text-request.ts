import { FINAL_BIT, IMMEDIATE_BIT, bit, readImmediate, readLunField, writeLunField } from '../bhs.ts';
import { Opcode, type TextRequestPdu } from '../types.ts';
import type { PduCodec } from './codec.ts';

/** RFC 7143 §11.10.2 byte 1: |F|C|Reserved| */
const CONTINUE = 0x40;

/** RFC 7143 §11.10: 8 LUN, 16 ITT, 20 TTT, 24 CmdSN, 28 ExpStatSN, 32–47 reserved. */
export const textRequestCodec: PduCodec<TextRequestPdu> = {
  opcode: Opcode.TextRequest,
  name: 'Text Request',
  encode(pdu, bhs) {
    bhs[0]! |= bit(pdu.immediate, IMMEDIATE_BIT);
    bhs[1] = bit(pdu.final, FINAL_BIT) | bit(pdu.continue, CONTINUE);
    writeLunField(bhs, pdu.lun);
    bhs.writeUInt32BE(pdu.itt >>> 0, 16);
    bhs.writeUInt32BE(pdu.ttt >>> 0, 20);
    bhs.writeUInt32BE(pdu.cmdSN >>> 0, 24);
    bhs.writeUInt32BE(pdu.expStatSN >>> 0, 28);
  },
  decode(bhs, ahs, data) {
    const flags = bhs[1]!;
    return {
      opcode: Opcode.TextRequest,
      immediate: readImmediate(bhs),
      final: (flags & FINAL_BIT) !== 0,
      continue: (flags & CONTINUE) !== 0,
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
