import { FINAL_BIT, readLunField, readStatusSequence, writeLunField, writeStatusSequence } from '../bhs.ts';
import { Opcode, type R2TPdu } from '../types.ts';
import type { PduCodec } from './codec.ts';

/**
 * RFC 7143 §11.8 (Ready To Transfer): byte 1 |1|Reserved|; 8 LUN, 16 ITT, 20 TTT, 24 StatSN, 28 ExpCmdSN,
 * 32 MaxCmdSN, 36 R2TSN, 40 Buffer Offset, 44 Desired Data Transfer Length.
 */
export const r2tCodec: PduCodec<R2TPdu> = {
  opcode: Opcode.R2T,
  name: 'Ready To Transfer (R2T)',
  encode(pdu, bhs) {
    bhs[1] = FINAL_BIT;
    writeLunField(bhs, pdu.lun);
    bhs.writeUInt32BE(pdu.itt >>> 0, 16);
    bhs.writeUInt32BE(pdu.ttt >>> 0, 20);
    writeStatusSequence(bhs, pdu);
    bhs.writeUInt32BE(pdu.r2tSN >>> 0, 36);
    bhs.writeUInt32BE(pdu.bufferOffset >>> 0, 40);
    bhs.writeUInt32BE(pdu.desiredDataTransferLength >>> 0, 44);
  },
  decode(bhs, ahs, data) {
    return {
      opcode: Opcode.R2T,
      lun: readLunField(bhs),
      itt: bhs.readUInt32BE(16),
      ttt: bhs.readUInt32BE(20),
      ...readStatusSequence(bhs),
      r2tSN: bhs.readUInt32BE(36),
      bufferOffset: bhs.readUInt32BE(40),
      desiredDataTransferLength: bhs.readUInt32BE(44),
      ahs,
      data,
    };
  },
};
