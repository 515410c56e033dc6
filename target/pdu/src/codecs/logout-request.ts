import { FINAL_BIT, IMMEDIATE_BIT, bit, readImmediate } from '../bhs.ts';
import { Opcode, type LogoutRequestPdu } from '../types.ts';
import type { PduCodec } from './codec.ts';

/** RFC 7143 §11.14 byte 1: |1| Reason Code (7 bits) | */
const REASON_MASK = 0x7f;

/**
 * RFC 7143 §11.14: 8–15 reserved, 16 ITT, 20 CID (2 bytes) + reserved, 24 CmdSN, 28 ExpStatSN, 32–47 reserved.
 */
export const logoutRequestCodec: PduCodec<LogoutRequestPdu> = {
  opcode: Opcode.LogoutRequest,
  name: 'Logout Request',
  encode(pdu, bhs) {
    bhs[0]! |= bit(pdu.immediate, IMMEDIATE_BIT);
    bhs[1] = FINAL_BIT | (pdu.reasonCode & REASON_MASK);
    bhs.writeUInt32BE(pdu.itt >>> 0, 16);
    bhs.writeUInt16BE(pdu.cid & 0xffff, 20);
    bhs.writeUInt32BE(pdu.cmdSN >>> 0, 24);
    bhs.writeUInt32BE(pdu.expStatSN >>> 0, 28);
  },
  decode(bhs, ahs, data) {
    return {
      opcode: Opcode.LogoutRequest,
      immediate: readImmediate(bhs),
      reasonCode: bhs[1]! & REASON_MASK,
      itt: bhs.readUInt32BE(16),
      cid: bhs.readUInt16BE(20),
      cmdSN: bhs.readUInt32BE(24),
      expStatSN: bhs.readUInt32BE(28),
      ahs,
      data,
    };
  },
};
