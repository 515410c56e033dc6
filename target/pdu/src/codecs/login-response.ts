import { readIsid, readStatusSequence, writeIsid, writeStatusSequence } from '../bhs.ts';
import { Opcode, type LoginResponsePdu } from '../types.ts';
import type { PduCodec } from './codec.ts';
import { decodeLoginStage, encodeLoginStage } from './login-stage.ts';

/**
 * RFC 7143 §11.13: byte 1 |T|C|.|.|CSG|NSG|, byte 2 Version-max, byte 3 Version-active; 8 ISID, 14 TSIH,
 * 16 ITT, 20 reserved, 24 StatSN, 28 ExpCmdSN, 32 MaxCmdSN, 36 Status-Class, 37 Status-Detail, 38–47 reserved.
 */
export const loginResponseCodec: PduCodec<LoginResponsePdu> = {
  opcode: Opcode.LoginResponse,
  name: 'Login Response',
  encode(pdu, bhs) {
    bhs[1] = encodeLoginStage(pdu);
    bhs[2] = pdu.versionMax & 0xff;
    bhs[3] = pdu.versionActive & 0xff;
    writeIsid(bhs, pdu.isid);
    bhs.writeUInt16BE(pdu.tsih & 0xffff, 14);
    bhs.writeUInt32BE(pdu.itt >>> 0, 16);
    writeStatusSequence(bhs, pdu);
    bhs[36] = pdu.statusClass & 0xff;
    bhs[37] = pdu.statusDetail & 0xff;
  },
  decode(bhs, ahs, data) {
    return {
      opcode: Opcode.LoginResponse,
      ...decodeLoginStage(bhs[1]!),
      versionMax: bhs[2]!,
      versionActive: bhs[3]!,
      isid: readIsid(bhs),
      tsih: bhs.readUInt16BE(14),
      itt: bhs.readUInt32BE(16),
      ...readStatusSequence(bhs),
      statusClass: bhs[36]!,
      statusDetail: bhs[37]!,
      ahs,
      data,
    };
  },
};
