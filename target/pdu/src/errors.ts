import { RejectReason } from './types.ts';

/**
 * A PDU whose bytes cannot be turned into a typed PDU. `rejectReason` is the RFC 7143 §11.17.1 reason the
 * target puts in its Reject PDU (the header of the offending PDU goes in the Reject's data segment).
 */
export class PduDecodeError extends Error {
  override readonly name = 'PduDecodeError';
  readonly rejectReason: number;

  constructor(message: string, rejectReason: number = RejectReason.ProtocolError) {
    super(message);
    this.rejectReason = rejectReason;
  }
}
