import { FINAL_BIT, readLunField, writeLunField } from '../bhs.ts';
import { Opcode, type DataOutPdu } from '../types.ts';
import type { PduCodec } from './codec.ts';

/**
 * RFC 7143 §11.7 (SCSI Data-Out): byte 0 has no I bit; byte 1 |F|Reserved|; 8 LUN, 16 ITT, 20 TTT,
 * 24 reserved, 28 ExpStatSN, 32 reserved, 36 DataSN, 40 Buffer Offset, 44 reserved.
 */
export const dataOutCodec: PduCodec<DataOutPdu> = {
  opcode: Opcode.DataOut,
  name: 'SCSI Data-Out',
  encode(pdu, bhs) {
    bhs[1] = pdu.final ? FINAL_BIT : 0;
    writeLunField(bhs, pdu.lun);
    bhs.writeUInt32BE(pdu.itt >>> 0, 16);
    bhs.writeUInt32BE(pdu.ttt >>> 0, 20);
    bhs.writeUInt32BE(pdu.expStatSN >>> 0, 28);
    bhs.writeUInt32BE(pdu.dataSN >>> 0, 36);
    bhs.writeUInt32BE(pdu.bufferOffset >>> 0, 40);
  },
  decode(bhs, ahs, data) {
    return {
      opcode: Opcode.DataOut,
      final: (bhs[1]! & FINAL_BIT) !== 0,
      lun: readLunField(bhs),
      itt: bhs.readUInt32BE(16),
      ttt: bhs.readUInt32BE(20),
      expStatSN: bhs.readUInt32BE(28),
      dataSN: bhs.readUInt32BE(36),
      bufferOffset: bhs.readUInt32BE(40),
      ahs,
      data,
    };
  },
};
