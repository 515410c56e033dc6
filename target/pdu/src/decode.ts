import { BHS_LENGTH, readDataSegmentLength, readOpcode, readTotalAhsBytes } from './bhs.ts';
import { codecForOpcode } from './codec-table.ts';
import { PduDecodeError } from './errors.ts';
import { RejectReason, type Pdu } from './types.ts';

/**
 * Decode one PDU from its 48-byte BHS, its AHS bytes and its data segment (without padding or digests — the
 * framer strips them). The returned PDU's `ahs`, `data` and some Buffer fields are views into the inputs.
 * Throws PduDecodeError, whose `rejectReason` is what a target puts in its Reject (RFC 7143 §11.17.1).
 */
export function decodePdu(bhs: Buffer, ahs: Buffer, data: Buffer): Pdu {
  if (bhs.length < BHS_LENGTH) throw new PduDecodeError(`BHS of ${bhs.length} bytes`, RejectReason.ProtocolError);
  const header = bhs.length === BHS_LENGTH ? bhs : bhs.subarray(0, BHS_LENGTH);
  const opcode = readOpcode(header);
  const codec = codecForOpcode(opcode);
  // RFC 7143 §11.17.1 reason 0x05 "Command not supported"
  if (!codec) throw new PduDecodeError(`unknown opcode 0x${opcode.toString(16)}`, RejectReason.CommandNotSupported);
  if (ahs.length !== readTotalAhsBytes(header)) {
    throw new PduDecodeError(
      `TotalAHSLength says ${readTotalAhsBytes(header)} bytes, got ${ahs.length}`,
      RejectReason.ProtocolError,
    );
  }
  if (data.length !== readDataSegmentLength(header)) {
    throw new PduDecodeError(
      `DataSegmentLength says ${readDataSegmentLength(header)} bytes, got ${data.length}`,
      RejectReason.ProtocolError,
    );
  }
  return codec.decode(header, ahs, data);
}
