import { AhsType, BHS_CDB_LENGTH, ahsWithout, bidiReadLengthAhs, decodeScsiCommandAhs, extendedCdbAhs } from '../ahs.ts';
import { FINAL_BIT, IMMEDIATE_BIT, bit, readImmediate, readLunField, writeLunField } from '../bhs.ts';
import { Opcode, type PduInit, type ScsiCommandPdu } from '../types.ts';
import type { PduCodec } from './codec.ts';

// RFC 7143 §11.3 byte 1: F | R | W | . | . | ATTR (3 bits)
const READ_BIT = 0x40;
const WRITE_BIT = 0x20;
const ATTR_MASK = 0x07;
/** RFC 7143 §11.3.5: a CDB needs the Extended CDB AHS beyond this length. */
const MAX_CDB_LENGTH = BHS_CDB_LENGTH + 0xffff - 1;

export const scsiCommandCodec: PduCodec<ScsiCommandPdu> = {
  opcode: Opcode.ScsiCommand,
  name: 'SCSI Command',
  encodeAhs(pdu: PduInit<ScsiCommandPdu>): Buffer {
    if (pdu.cdb.length > MAX_CDB_LENGTH) throw new RangeError(`CDB of ${pdu.cdb.length} bytes is too long`);
    const parts: Buffer[] = [];
    // RFC 7143 §11.3.5 — order the Extended CDB AHS first, as initiators do
    if (pdu.cdb.length > BHS_CDB_LENGTH) parts.push(extendedCdbAhs(pdu.cdb));
    if (pdu.bidiReadExpectedDataTransferLength !== undefined) {
      parts.push(bidiReadLengthAhs(pdu.bidiReadExpectedDataTransferLength));
    }
    const others = ahsWithout(pdu.ahs ?? Buffer.alloc(0), [
      AhsType.ExtendedCdb,
      AhsType.BidirectionalReadExpectedDataTransferLength,
    ]);
    if (others.length > 0) parts.push(others);
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  },
  encode(pdu, bhs) {
    bhs[0]! |= bit(pdu.immediate, IMMEDIATE_BIT);
    bhs[1] = bit(pdu.final, FINAL_BIT) | bit(pdu.read, READ_BIT) | bit(pdu.write, WRITE_BIT) | (pdu.attr & ATTR_MASK);
    writeLunField(bhs, pdu.lun);
    bhs.writeUInt32BE(pdu.itt >>> 0, 16);
    bhs.writeUInt32BE(pdu.expectedDataTransferLength >>> 0, 20);
    bhs.writeUInt32BE(pdu.cmdSN >>> 0, 24);
    bhs.writeUInt32BE(pdu.expStatSN >>> 0, 28);
    // RFC 7143 §11.3.5: the first 16 CDB bytes; a shorter CDB is followed by zeros
    pdu.cdb.copy(bhs, 32, 0, Math.min(pdu.cdb.length, BHS_CDB_LENGTH));
  },
  decode(bhs, ahs, data) {
    const flags = bhs[1]!;
    const fromAhs = decodeScsiCommandAhs(ahs);
    const bhsCdb = bhs.subarray(32, 48);
    const pdu: ScsiCommandPdu = {
      opcode: Opcode.ScsiCommand,
      immediate: readImmediate(bhs),
      final: (flags & FINAL_BIT) !== 0,
      read: (flags & READ_BIT) !== 0,
      write: (flags & WRITE_BIT) !== 0,
      attr: flags & ATTR_MASK,
      lun: readLunField(bhs),
      itt: bhs.readUInt32BE(16),
      expectedDataTransferLength: bhs.readUInt32BE(20),
      cmdSN: bhs.readUInt32BE(24),
      expStatSN: bhs.readUInt32BE(28),
      cdb: fromAhs.extendedCdb ? Buffer.concat([bhsCdb, fromAhs.extendedCdb]) : bhsCdb,
      ahs,
      data,
    };
    if (fromAhs.bidiReadExpectedDataTransferLength !== undefined) {
      pdu.bidiReadExpectedDataTransferLength = fromAhs.bidiReadExpectedDataTransferLength;
    }
    return pdu;
  },
};
