import { FINAL_BIT, readStatusSequence, writeStatusSequence } from '../bhs.ts';
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
    writeStatusSequence(bhs, pdu);
  },
  decode(bhs, ahs, data) {
    return {
      opcode: Opcode.TaskManagementResponse,
      response: bhs[2]!,
      itt: bhs.readUInt32BE(16),
      ...readStatusSequence(bhs),
      ahs,
      data,
    };
  },
};
