/**
 * CRC32C (Castagnoli) as iSCSI uses it for header and data digests (RFC 7143 §13.1, RFC 3720 Appendix B.4).
 *
 * Wire order: the 32-bit CRC value is sent least-significant byte first. RFC 3720 B.4 gives 32 zero bytes →
 * "aa 36 91 8a" on the wire for the value 0x8a9136aa; libiscsi writes/reads crc & 0xff at the lowest address,
 * and Linux's crc32c shash emits the value little-endian. Tests check both vectors from RFC 3720 B.4.
 *
 * Every digest, header or payload, is computed by @node-rs/crc32 (native, SSE4.2 where the CPU has it): the issue
 * asks for a kept package rather than a hand-written table loop. A JS slicing-by-8 loop measured ~60 ns against
 * ~200-300 ns for the native call on a 48-byte header (platform-notes.md); at tens of microseconds per I/O that is
 * not worth a CRC implementation of our own.
 */
import { crc32c as nativeCrc32c } from '@node-rs/crc32';

/** Extend a running CRC32C over `buf[start, end)`. Start with 0. */
export function crc32cUpdate(previous: number, buf: Buffer, start = 0, end = buf.length): number {
  if (end - start <= 0) return previous >>> 0;
  const view = start === 0 && end === buf.length ? buf : buf.subarray(start, end);
  return nativeCrc32c(view, previous) >>> 0;
}

/** CRC32C over the concatenation of `bufs`, as an unsigned 32-bit number. */
export function crc32cDigest(...bufs: Buffer[]): number {
  let crc = 0;
  for (const b of bufs) crc = crc32cUpdate(crc, b);
  return crc;
}

/** Write a digest value in iSCSI wire order (least-significant byte first — see the module comment). */
export function writeDigest(buf: Buffer, offset: number, value: number): void {
  buf.writeUInt32LE(value >>> 0, offset);
}

export function readDigest(buf: Buffer, offset: number): number {
  return buf.readUInt32LE(offset);
}
