import { FINAL_BIT, readStatusSequence, writeStatusSequence } from '../bhs.ts';
import { Opcode, type LogoutResponsePdu } from '../types.ts';
import type { PduCodec } from './codec.ts';

/**
 * RFC 7143 §11.15: byte 1 |1|Reserved|, byte 2 Response; 16 ITT, 20 reserved, 24 StatSN, 28 ExpCmdSN,
 * 32 MaxCmdSN, 36 reserved, 40 Time2Wait (2 bytes), 42 Time2Retain (2 bytes), 44 reserved.
 */
export const logoutResponseCodec: PduCodec<LogoutResponsePdu> = {
  opcode: Opcode.LogoutResponse,
  name: 'Logout Response',
  encode(pdu, bhs) {
    bhs[1] = FINAL_BIT;
    bhs[2] = pdu.response & 0xff;
    bhs.writeUInt32BE(pdu.itt >>> 0, 16);
    writeStatusSequence(bhs, pdu);
    bhs.writeUInt16BE(pdu.time2Wait & 0xffff, 40);
    bhs.writeUInt16BE(pdu.time2Retain & 0xffff, 42);
  },
  decode(bhs, ahs, data) {
    return {
      opcode: Opcode.LogoutResponse,
      response: bhs[2]!,
      itt: bhs.readUInt32BE(16),
      ...readStatusSequence(bhs),
      time2Wait: bhs.readUInt16BE(40),
      time2Retain: bhs.readUInt16BE(42),
      ahs,
      data,
    };
  },
};
