import { FINAL_BIT, bit, readLunField, readStatusSequence, writeLunField, writeStatusSequence } from '../bhs.ts';
import { Opcode, type TextResponsePdu } from '../types.ts';
import type { PduCodec } from './codec.ts';

/** RFC 7143 §11.11.2 byte 1: |F|C|Reserved| */
const CONTINUE = 0x40;

/** RFC 7143 §11.11: 8 LUN, 16 ITT, 20 TTT, 24 StatSN, 28 ExpCmdSN, 32 MaxCmdSN, 36–47 reserved. */
export const textResponseCodec: PduCodec<TextResponsePdu> = {
  opcode: Opcode.TextResponse,
  name: 'Text Response',
  encode(pdu, bhs) {
    bhs[1] = bit(pdu.final, FINAL_BIT) | bit(pdu.continue, CONTINUE);
    writeLunField(bhs, pdu.lun);
    bhs.writeUInt32BE(pdu.itt >>> 0, 16);
    bhs.writeUInt32BE(pdu.ttt >>> 0, 20);
    writeStatusSequence(bhs, pdu);
  },
  decode(bhs, ahs, data) {
    const flags = bhs[1]!;
    return {
      opcode: Opcode.TextResponse,
      final: (flags & FINAL_BIT) !== 0,
      continue: (flags & CONTINUE) !== 0,
      lun: readLunField(bhs),
      itt: bhs.readUInt32BE(16),
      ttt: bhs.readUInt32BE(20),
      ...readStatusSequence(bhs),
      ahs,
      data,
    };
  },
};
