import { FINAL_BIT, IMMEDIATE_BIT, bit, readImmediate, readLunField, writeLunField } from '../bhs.ts';
import { Opcode, type TaskManagementRequestPdu } from '../types.ts';
import type { PduCodec } from './codec.ts';

/** RFC 7143 §11.5 byte 1: |1| Function (7 bits) | */
const FUNCTION_MASK = 0x7f;

/**
 * RFC 7143 §11.5: 8 LUN, 16 ITT, 20 Referenced Task Tag, 24 CmdSN, 28 ExpStatSN, 32 RefCmdSN, 36 ExpDataSN,
 * 40–47 reserved. Function values are not checked here: an unsupported function gets a TMF Response
 * "function not supported" (RFC 7143 §11.6.1), not a Reject — that is the session's call.
 */
export const taskManagementRequestCodec: PduCodec<TaskManagementRequestPdu> = {
  opcode: Opcode.TaskManagementRequest,
  name: 'SCSI Task Management Function Request',
  encode(pdu, bhs) {
    bhs[0]! |= bit(pdu.immediate, IMMEDIATE_BIT);
    bhs[1] = FINAL_BIT | (pdu.function & FUNCTION_MASK);
    writeLunField(bhs, pdu.lun);
    bhs.writeUInt32BE(pdu.itt >>> 0, 16);
    bhs.writeUInt32BE(pdu.referencedTaskTag >>> 0, 20);
    bhs.writeUInt32BE(pdu.cmdSN >>> 0, 24);
    bhs.writeUInt32BE(pdu.expStatSN >>> 0, 28);
    bhs.writeUInt32BE(pdu.refCmdSN >>> 0, 32);
    bhs.writeUInt32BE(pdu.expDataSN >>> 0, 36);
  },
  decode(bhs, ahs, data) {
    return {
      opcode: Opcode.TaskManagementRequest,
      immediate: readImmediate(bhs),
      function: bhs[1]! & FUNCTION_MASK,
      lun: readLunField(bhs),
      itt: bhs.readUInt32BE(16),
      referencedTaskTag: bhs.readUInt32BE(20),
      cmdSN: bhs.readUInt32BE(24),
      expStatSN: bhs.readUInt32BE(28),
      refCmdSN: bhs.readUInt32BE(32),
      expDataSN: bhs.readUInt32BE(36),
      ahs,
      data,
    };
  },
};
