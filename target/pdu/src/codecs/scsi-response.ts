import { FINAL_BIT, bit, readStatusSequence, writeStatusSequence } from '../bhs.ts';
import { Opcode, type ScsiResponsePdu } from '../types.ts';
import type { PduCodec } from './codec.ts';

// RFC 7143 §11.4 byte 1: |1|.|.|o|u|O|U|.|
const BIDI_OVERFLOW = 0x10;
const BIDI_UNDERFLOW = 0x08;
const OVERFLOW = 0x04;
const UNDERFLOW = 0x02;

/**
 * RFC 7143 §11.4: byte 2 Response, byte 3 Status; 8–15 reserved, 16 ITT, 20 SNACK Tag, 24 StatSN, 28 ExpCmdSN,
 * 32 MaxCmdSN, 36 ExpDataSN, 40 Bidirectional Read Residual Count, 44 Residual Count.
 */
export const scsiResponseCodec: PduCodec<ScsiResponsePdu> = {
  opcode: Opcode.ScsiResponse,
  name: 'SCSI Response',
  encode(pdu, bhs) {
    bhs[1] =
      FINAL_BIT |
      bit(pdu.bidiReadResidualOverflow, BIDI_OVERFLOW) |
      bit(pdu.bidiReadResidualUnderflow, BIDI_UNDERFLOW) |
      bit(pdu.residualOverflow, OVERFLOW) |
      bit(pdu.residualUnderflow, UNDERFLOW);
    bhs[2] = pdu.response & 0xff;
    bhs[3] = pdu.status & 0xff;
    bhs.writeUInt32BE(pdu.itt >>> 0, 16);
    bhs.writeUInt32BE(pdu.snackTag >>> 0, 20);
    writeStatusSequence(bhs, pdu);
    bhs.writeUInt32BE(pdu.expDataSN >>> 0, 36);
    bhs.writeUInt32BE(pdu.bidiReadResidualCount >>> 0, 40);
    bhs.writeUInt32BE(pdu.residualCount >>> 0, 44);
  },
  decode(bhs, ahs, data) {
    const flags = bhs[1]!;
    return {
      opcode: Opcode.ScsiResponse,
      bidiReadResidualOverflow: (flags & BIDI_OVERFLOW) !== 0,
      bidiReadResidualUnderflow: (flags & BIDI_UNDERFLOW) !== 0,
      residualOverflow: (flags & OVERFLOW) !== 0,
      residualUnderflow: (flags & UNDERFLOW) !== 0,
      response: bhs[2]!,
      status: bhs[3]!,
      itt: bhs.readUInt32BE(16),
      snackTag: bhs.readUInt32BE(20),
      ...readStatusSequence(bhs),
      expDataSN: bhs.readUInt32BE(36),
      bidiReadResidualCount: bhs.readUInt32BE(40),
      residualCount: bhs.readUInt32BE(44),
      ahs,
      data,
    };
  },
};
