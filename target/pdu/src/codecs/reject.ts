import { FINAL_BIT, readStatusSequence, writeStatusSequence } from '../bhs.ts';
import { Opcode, RESERVED_TAG, type RejectPdu } from '../types.ts';
import type { PduCodec } from './codec.ts';

/**
 * RFC 7143 §11.17: byte 1 |1|Reserved|, byte 2 Reason; 16 0xffffffff, 20 reserved, 24 StatSN, 28 ExpCmdSN,
 * 32 MaxCmdSN, 36 DataSN/R2TSN, 40–47 reserved; the data segment is the complete header of the rejected PDU.
 */
export const rejectCodec: PduCodec<RejectPdu> = {
  opcode: Opcode.Reject,
  name: 'Reject',
  encode(pdu, bhs) {
    bhs[1] = FINAL_BIT;
    bhs[2] = pdu.reason & 0xff;
    bhs.writeUInt32BE(RESERVED_TAG, 16);
    writeStatusSequence(bhs, pdu);
    bhs.writeUInt32BE(pdu.dataSN >>> 0, 36);
  },
  decode(bhs, ahs, data) {
    return {
      opcode: Opcode.Reject,
      reason: bhs[2]!,
      ...readStatusSequence(bhs),
      dataSN: bhs.readUInt32BE(36),
      ahs,
      data,
    };
  },
};
