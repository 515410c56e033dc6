import { IMMEDIATE_BIT, readImmediate, readIsid, writeIsid } from '../bhs.ts';
import { Opcode, type LoginRequestPdu } from '../types.ts';
import type { PduCodec } from './codec.ts';
import { decodeLoginStage, encodeLoginStage } from './login-stage.ts';

/**
 * RFC 7143 §11.12: byte 1 |T|C|.|.|CSG|NSG|, byte 2 Version-max, byte 3 Version-min; 8 ISID (6 bytes),
 * 14 TSIH, 16 ITT, 20 CID (2 bytes) + reserved, 24 CmdSN, 28 ExpStatSN, 32–47 reserved.
 * Stage values (reserved CSG 2, T with C) are not checked here: RFC 7143 §11.13.5 answers them with a
 * Login Response status, not a Reject, so the login code decides.
 */
export const loginRequestCodec: PduCodec<LoginRequestPdu> = {
  opcode: Opcode.LoginRequest,
  name: 'Login Request',
  encode(pdu, bhs) {
    // RFC 7143 §11.12: the I bit is always 1 on a Login Request
    bhs[0]! |= IMMEDIATE_BIT;
    bhs[1] = encodeLoginStage(pdu);
    bhs[2] = pdu.versionMax & 0xff;
    bhs[3] = pdu.versionMin & 0xff;
    writeIsid(bhs, pdu.isid);
    bhs.writeUInt16BE(pdu.tsih & 0xffff, 14);
    bhs.writeUInt32BE(pdu.itt >>> 0, 16);
    bhs.writeUInt16BE(pdu.cid & 0xffff, 20);
    bhs.writeUInt32BE(pdu.cmdSN >>> 0, 24);
    bhs.writeUInt32BE(pdu.expStatSN >>> 0, 28);
  },
  decode(bhs, ahs, data) {
    return {
      opcode: Opcode.LoginRequest,
      immediate: readImmediate(bhs),
      ...decodeLoginStage(bhs[1]!),
      versionMax: bhs[2]!,
      versionMin: bhs[3]!,
      isid: readIsid(bhs),
      tsih: bhs.readUInt16BE(14),
      itt: bhs.readUInt32BE(16),
      cid: bhs.readUInt16BE(20),
      cmdSN: bhs.readUInt32BE(24),
      expStatSN: bhs.readUInt32BE(28),
      ahs,
      data,
    };
  },
};
