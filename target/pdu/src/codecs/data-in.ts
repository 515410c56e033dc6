import { FINAL_BIT, bit, readLunField, writeLunField } from '../bhs.ts';
import { Opcode, type DataInPdu } from '../types.ts';
import type { PduCodec } from './codec.ts';

// RFC 7143 §11.7 (SCSI Data-In) byte 1: |F|A|0|0|0|O|U|S|
const ACKNOWLEDGE = 0x40;
const OVERFLOW = 0x04;
const UNDERFLOW = 0x02;
const STATUS = 0x01;

/**
 * RFC 7143 §11.7: byte 3 Status (reserved unless S); 8 LUN, 16 ITT, 20 TTT, 24 StatSN (reserved unless S),
 * 28 ExpCmdSN, 32 MaxCmdSN, 36 DataSN, 40 Buffer Offset, 44 Residual Count.
 * Status and StatSN are written (and read) as 0 without the S bit: reserved fields are 0 on send and ignored
 * on receipt (RFC 7143 §11).
 */
export const dataInCodec: PduCodec<DataInPdu> = {
  opcode: Opcode.DataIn,
  name: 'SCSI Data-In',
  encode(pdu, bhs) {
    bhs[1] =
      bit(pdu.final, FINAL_BIT) |
      bit(pdu.acknowledge, ACKNOWLEDGE) |
      bit(pdu.residualOverflow, OVERFLOW) |
      bit(pdu.residualUnderflow, UNDERFLOW) |
      bit(pdu.hasStatus, STATUS);
    if (pdu.hasStatus) {
      bhs[3] = pdu.status & 0xff;
      bhs.writeUInt32BE(pdu.statSN >>> 0, 24);
    }
    writeLunField(bhs, pdu.lun);
    bhs.writeUInt32BE(pdu.itt >>> 0, 16);
    bhs.writeUInt32BE(pdu.ttt >>> 0, 20);
    bhs.writeUInt32BE(pdu.expCmdSN >>> 0, 28);
    bhs.writeUInt32BE(pdu.maxCmdSN >>> 0, 32);
    bhs.writeUInt32BE(pdu.dataSN >>> 0, 36);
    bhs.writeUInt32BE(pdu.bufferOffset >>> 0, 40);
    bhs.writeUInt32BE(pdu.residualCount >>> 0, 44);
  },
  decode(bhs, ahs, data) {
    const flags = bhs[1]!;
    const hasStatus = (flags & STATUS) !== 0;
    return {
      opcode: Opcode.DataIn,
      final: (flags & FINAL_BIT) !== 0,
      acknowledge: (flags & ACKNOWLEDGE) !== 0,
      residualOverflow: (flags & OVERFLOW) !== 0,
      residualUnderflow: (flags & UNDERFLOW) !== 0,
      hasStatus,
      status: hasStatus ? bhs[3]! : 0,
      lun: readLunField(bhs),
      itt: bhs.readUInt32BE(16),
      ttt: bhs.readUInt32BE(20),
      statSN: hasStatus ? bhs.readUInt32BE(24) : 0,
      expCmdSN: bhs.readUInt32BE(28),
      maxCmdSN: bhs.readUInt32BE(32),
      dataSN: bhs.readUInt32BE(36),
      bufferOffset: bhs.readUInt32BE(40),
      residualCount: bhs.readUInt32BE(44),
      ahs,
      data,
    };
  },
};
