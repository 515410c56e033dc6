/**
 * iSCSI TransportIDs (SPC-4 §7.6.4.6): FORMAT CODE 00b carries the iSCSI name alone, 01b the initiator port name
 * `<iSCSI name>,i,0x<ISID in 12 hex digits>`. Both are NUL-terminated and padded to a multiple of four bytes.
 */
import { invalidParameterField } from './sense.ts';

export const PROTOCOL_ISCSI = 0x5; // SPC-4 §7.6.1 Table 449
export const TransportIdFormat = { NAME_ONLY: 0x0, INITIATOR_PORT: 0x1 } as const;
const MIN_ADDITIONAL_LENGTH = 20; // SPC-4 §7.6.4.6: at least 20, a multiple of 4

export interface IscsiTransportId {
  initiatorName: string; // lowercased
  /** 12 hex digits; undefined for FORMAT CODE 00b (every initiator port of that name). */
  isid: string | undefined;
}

export function encodeTransportId(initiatorName: string, isidHex: string | undefined): Buffer {
  const text = isidHex === undefined ? initiatorName : `${initiatorName},i,0x${isidHex}`;
  const body = Buffer.from(text, 'utf8');
  const additional = Math.max(MIN_ADDITIONAL_LENGTH, Math.ceil((body.length + 1) / 4) * 4);
  const b = Buffer.alloc(4 + additional);
  b[0] = ((isidHex === undefined ? TransportIdFormat.NAME_ONLY : TransportIdFormat.INITIATOR_PORT) << 6) | PROTOCOL_ISCSI;
  b.writeUInt16BE(additional, 2);
  body.copy(b, 4);
  return b;
}

/**
 * Decode the TransportID starting at `at` in a parameter list; returns it and its length. Errors point at the
 * offending parameter-list byte (INVALID FIELD IN PARAMETER LIST, SPC-4 §5.13.7).
 */
export function decodeTransportId(list: Buffer, at: number, end: number): { id: IscsiTransportId; length: number } {
  if (at + 4 > end) throw invalidParameterField(at);
  const format = list[at]! >> 6;
  if ((list[at]! & 0x0f) !== PROTOCOL_ISCSI) throw invalidParameterField(at, 3);
  if (format !== TransportIdFormat.NAME_ONLY && format !== TransportIdFormat.INITIATOR_PORT) throw invalidParameterField(at, 7);
  const additional = list.readUInt16BE(at + 2);
  if (additional < MIN_ADDITIONAL_LENGTH || additional % 4 !== 0 || at + 4 + additional > end) throw invalidParameterField(at + 2);
  const body = list.subarray(at + 4, at + 4 + additional);
  const nul = body.indexOf(0);
  if (nul <= 0) throw invalidParameterField(at + 4);
  const text = body.subarray(0, nul).toString('utf8');
  if (format === TransportIdFormat.NAME_ONLY) {
    if (text.includes(',')) throw invalidParameterField(at + 4);
    return { id: { initiatorName: text.toLowerCase(), isid: undefined }, length: 4 + additional };
  }
  const m = /^(.+),i,0x([0-9a-fA-F]{12})$/.exec(text);
  if (!m) throw invalidParameterField(at + 4);
  return { id: { initiatorName: m[1]!.toLowerCase(), isid: m[2]!.toLowerCase() }, length: 4 + additional };
}
