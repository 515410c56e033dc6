import { FINAL_BIT } from '../bhs.ts';
import { Opcode, type TaskManagementResponsePdu } from '../types.ts';
import type { PduCodec } from './codec.ts';

/**
 * RFC 7143 §11.6: byte 1 |1|Reserved|, byte 2 Response; 8–15 reserved, 16 ITT, 20 reserved, 24 StatSN,
 * 28 ExpCmdSN, 32 MaxCmdSN, 36–47 reserved.
 */
export const taskManagementResponseCodec: PduCodec<TaskManagementResponsePdu> = {
  opcode: Opcode.TaskManagementResponse,
  name: 'SCSI Task Management Function Response',
  encode(pdu, bhs) {
    bhs[1] = FINAL_BIT;
    bhs[2] = pdu.response & 0xff;
    bhs.writeUInt32BE(pdu.itt >>> 0, 16);
    bhs.writeUInt32BE(pdu.statSN >>> 0, 24);
    bhs.writeUInt32BE(pdu.expCmdSN >>> 0, 28);
    bhs.writeUInt32BE(pdu.maxCmdSN >>> 0, 32);
  },
  decode(bhs, ahs, data) {
    return {
      opcode: Opcode.TaskManagementResponse,
      response: bhs[2]!,
      itt: bhs.readUInt32BE(16),
      statSN: bhs.readUInt32BE(24),
      expCmdSN: bhs.readUInt32BE(28),
      maxCmdSN: bhs.readUInt32BE(32),
      ahs,
      data,
    };
  },
};
