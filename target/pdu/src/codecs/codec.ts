import type { Pdu, PduInit } from '../types.ts';

/**
 * One codec per PDU kind (RFC 7143 §11.3–§11.19). The generic encoder/decoder (encode.ts, decode.ts) owns the
 * bytes every BHS shares: the opcode, TotalAHSLength and DataSegmentLength (RFC 7143 §11.2.1); a codec owns the
 * rest of the 48 bytes.
 */
export interface PduCodec<P extends Pdu> {
  readonly opcode: P['opcode'];
  /** The RFC's name of the PDU, for messages. */
  readonly name: string;
  /**
   * AHS built from typed fields (only SCSI Command has any: Extended CDB and Bidirectional Read EDTL, RFC 7143
   * §11.3.5). When present it replaces `pdu.ahs`.
   */
  encodeAhs?(pdu: PduInit<P>): Buffer;
  /** Fill a zeroed 48-byte BHS: the I bit of byte 0, bytes 1–3 and 8–47. Bytes 0 (opcode) and 4–7 are set by the caller. */
  encode(pdu: PduInit<P>, bhs: Buffer): void;
  /** Typed PDU from a verified 48-byte BHS, its AHS bytes and data segment (no padding). Throws PduDecodeError. */
  decode(bhs: Buffer, ahs: Buffer, data: Buffer): P;
}
