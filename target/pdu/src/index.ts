/**
 * node-iscsi-pdu — iSCSI (RFC 7143) PDU codecs and framing. Buffers in, typed PDUs out; no sockets.
 */
export * from './types.ts';
export { encodePdu, encodePduToBuffer, type EncodeOptions } from './encode.ts';
export { decodePdu } from './decode.ts';
export { PduDecodeError } from './errors.ts';
export { PduFramer, type FramerOptions, type FrameEvent, type FrameErrorReason } from './framer.ts';
export { decodeLun, encodeLun } from './lun.ts';
export { crc32cDigest, crc32cUpdate } from './crc32c.ts';
export {
  BHS_LENGTH,
  DIGEST_LENGTH,
  MAX_AHS_LENGTH,
  MAX_DATA_SEGMENT_LENGTH,
  padLength,
  readDataSegmentLength,
  readItt,
  readOpcode,
  readTotalAhsBytes,
} from './bhs.ts';
export { AhsType, parseAhs, type AhsSegment } from './ahs.ts';
export { PDU_CODECS, codecForOpcode, isKnownOpcode } from './codec-table.ts';
export type { PduCodec } from './codecs/codec.ts';
