import { FINAL_BIT, readLunField, readStatusSequence, writeLunField, writeStatusSequence } from '../bhs.ts';
import { Opcode, RESERVED_TAG, type AsyncMessagePdu } from '../types.ts';
import type { PduCodec } from './codec.ts';

/**
 * RFC 7143 §11.9: byte 1 |1|Reserved|; 8 LUN, 16 0xffffffff, 20 reserved, 24 StatSN, 28 ExpCmdSN, 32 MaxCmdSN,
 * 36 AsyncEvent, 37 AsyncVCode, 38 Parameter1, 40 Parameter2, 42 Parameter3 (2 bytes each), 44 reserved.
 */
export const asyncMessageCodec: PduCodec<AsyncMessagePdu> = {
  opcode: Opcode.AsyncMessage,
  name: 'Asynchronous Message',
  encode(pdu, bhs) {
    bhs[1] = FINAL_BIT;
    writeLunField(bhs, pdu.lun);
    // RFC 7143 §11.9: the ITT field of an Asynchronous Message is always the reserved tag
    bhs.writeUInt32BE(RESERVED_TAG, 16);
    writeStatusSequence(bhs, pdu);
    bhs[36] = pdu.asyncEvent & 0xff;
    bhs[37] = pdu.asyncVCode & 0xff;
    bhs.writeUInt16BE(pdu.parameter1 & 0xffff, 38);
    bhs.writeUInt16BE(pdu.parameter2 & 0xffff, 40);
    bhs.writeUInt16BE(pdu.parameter3 & 0xffff, 42);
  },
  decode(bhs, ahs, data) {
    return {
      opcode: Opcode.AsyncMessage,
      lun: readLunField(bhs),
      ...readStatusSequence(bhs),
      asyncEvent: bhs[36]!,
      asyncVCode: bhs[37]!,
      parameter1: bhs.readUInt16BE(38),
      parameter2: bhs.readUInt16BE(40),
      parameter3: bhs.readUInt16BE(42),
      ahs,
      data,
    };
  },
};
