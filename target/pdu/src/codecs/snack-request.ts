import { FINAL_BIT, readLunField, writeLunField } from '../bhs.ts';
import { Opcode, type SnackRequestPdu } from '../types.ts';
import type { PduCodec } from './codec.ts';

/** RFC 7143 §11.16 byte 1: |1|.|.|.| Type (4 bits) | */
const TYPE_MASK = 0x0f;

/**
 * RFC 7143 §11.16 (SNACK Request, no I bit): 8 LUN, 16 ITT, 20 TTT / SNACK Tag, 24 reserved, 28 ExpStatSN,
 * 32–39 reserved, 40 BegRun, 44 RunLength.
 */
export const snackRequestCodec: PduCodec<SnackRequestPdu> = {
  opcode: Opcode.SnackRequest,
  name: 'SNACK Request',
  encode(pdu, bhs) {
    bhs[1] = FINAL_BIT | (pdu.type & TYPE_MASK);
    writeLunField(bhs, pdu.lun);
    bhs.writeUInt32BE(pdu.itt >>> 0, 16);
    bhs.writeUInt32BE(pdu.ttt >>> 0, 20);
    bhs.writeUInt32BE(pdu.expStatSN >>> 0, 28);
    bhs.writeUInt32BE(pdu.begRun >>> 0, 40);
    bhs.writeUInt32BE(pdu.runLength >>> 0, 44);
  },
  decode(bhs, ahs, data) {
    return {
      opcode: Opcode.SnackRequest,
      type: bhs[1]! & TYPE_MASK,
      lun: readLunField(bhs),
      itt: bhs.readUInt32BE(16),
      ttt: bhs.readUInt32BE(20),
      expStatSN: bhs.readUInt32BE(28),
      begRun: bhs.readUInt32BE(40),
      runLength: bhs.readUInt32BE(44),
      ahs,
      data,
    };
  },
};
