/**
 * The key=value text of Login and Text PDUs (RFC 7143 §6.1): parse a logical text data
 * segment, encode pairs back, and join segments split across PDUs with the C bit.
 */

// RFC 7143 §6.1: a key name (standard-label) must not exceed 63 characters.
export const MAX_KEY_BYTES = 63;
// RFC 7143 §6.1 caps an individual value at 255 bytes, but binary values (CHAP_C/CHAP_R,
// up to 1024 bytes binary, §12.1.3) are longer once hex/base64-encoded; key-specific limits
// live with the key (negotiation-keys.ts). This is only the parser's absolute bound.
export const MAX_VALUE_BYTES = 8192;
// RFC 7143 §6.1: implementations must accept at least 8192 bytes of key=value text in one
// negotiation sequence; we bound a logical text data segment at 64 KiB to cap memory.
export const MAX_TEXT_BYTES = 65536;

export type TextErrorCode =
  | 'unterminated'
  | 'missing-equals'
  | 'empty-key'
  | 'bad-key'
  | 'key-too-long'
  | 'value-too-long'
  | 'duplicate-key'
  | 'bad-utf8'
  | 'too-long';

export class TextFormatError extends Error {
  readonly code: TextErrorCode;
  constructor(code: TextErrorCode, message: string) {
    super(message);
    this.name = 'TextFormatError';
    this.code = code;
  }
}

export type TextPair = readonly [key: string, value: string];

const utf8 = new TextDecoder('utf-8', { fatal: true });

// RFC 7143 §6.1 standard-label characters, plus '#' for IANA-registered "X#" keys (§13.5.2).
const KEY_CHARS = /^[A-Za-z0-9.\-+@_#]+$/;

/**
 * Parse one logical text data segment (already joined across C-bit PDUs).
 * Every pair must end with a NUL (RFC 7143 §6.1); empty entries between NULs are tolerated
 * because some initiators pad with extra zero bytes. Duplicate keys are a protocol error
 * (RFC 7143 §6.2: a key may not be negotiated twice in one exchange) — except in SendTargets
 * answers, which repeat TargetName/TargetAddress (RFC 7143 Appendix C): pass allowDuplicates.
 */
export function parseTextData(data: Buffer, options: { allowDuplicates?: boolean } = {}): TextPair[] {
  if (data.length > MAX_TEXT_BYTES) throw new TextFormatError('too-long', `text data of ${data.length} bytes exceeds ${MAX_TEXT_BYTES}`);
  const pairs: TextPair[] = [];
  const seen = new Set<string>();
  let start = 0;
  while (start < data.length) {
    const end = data.indexOf(0, start);
    if (end < 0) throw new TextFormatError('unterminated', 'text data does not end with a NUL delimiter');
    if (end === start) {
      start = end + 1;
      continue;
    }
    const eq = data.indexOf(0x3d, start); // '='
    if (eq < 0 || eq > end) throw new TextFormatError('missing-equals', 'key=value pair without "="');
    const keyBytes = eq - start;
    if (keyBytes === 0) throw new TextFormatError('empty-key', 'empty key name');
    if (keyBytes > MAX_KEY_BYTES) throw new TextFormatError('key-too-long', `key name of ${keyBytes} bytes exceeds ${MAX_KEY_BYTES}`);
    const valueBytes = end - eq - 1;
    let key: string;
    let value: string;
    try {
      key = utf8.decode(data.subarray(start, eq));
      value = utf8.decode(data.subarray(eq + 1, end));
    } catch {
      throw new TextFormatError('bad-utf8', 'key=value pair is not valid UTF-8');
    }
    if (!KEY_CHARS.test(key)) throw new TextFormatError('bad-key', `key name ${JSON.stringify(key.slice(0, 63))} has characters outside RFC 7143 §6.1`);
    if (valueBytes > MAX_VALUE_BYTES) throw new TextFormatError('value-too-long', `value of ${key} is ${valueBytes} bytes`);
    if (seen.has(key) && !options.allowDuplicates) throw new TextFormatError('duplicate-key', `key ${key} appears twice`);
    seen.add(key);
    pairs.push([key, value]);
    start = end + 1;
  }
  return pairs;
}

/** Encode pairs as `key=value\0...` (RFC 7143 §6.1). */
export function encodeTextPairs(pairs: Iterable<TextPair>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of pairs) parts.push(Buffer.from(`${key}=${value}\0`, 'utf8'));
  return Buffer.concat(parts);
}

/**
 * Joins the data segments of a request sequence whose C bit is set (RFC 7143 §6.1: PDUs
 * with C=1 followed by one with C=0 form one logical text data segment).
 */
export class TextAccumulator {
  #parts: Buffer[] = [];
  #length = 0;

  /** Add a segment; returns the whole logical segment when `continueBit` is false. */
  push(data: Buffer, continueBit: boolean): Buffer | undefined {
    this.#length += data.length;
    if (this.#length > MAX_TEXT_BYTES) {
      this.reset();
      throw new TextFormatError('too-long', `continued text data exceeds ${MAX_TEXT_BYTES} bytes`);
    }
    this.#parts.push(data);
    if (continueBit) return undefined;
    const whole = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts);
    this.reset();
    return whole;
  }

  /** True while a C-bit sequence is open. */
  get pending(): boolean {
    return this.#parts.length > 0;
  }

  reset(): void {
    this.#parts = [];
    this.#length = 0;
  }
}

/** One PDU's share of a long text answer; `partial` = it ends inside a key=value pair. */
export interface TextChunk {
  data: Buffer;
  partial: boolean;
}

/**
 * Split an encoded text segment into chunks of at most `max` bytes. Chunks end at pair
 * boundaries whenever a pair fits, so initiators that parse each PDU on its own still work;
 * only a pair longer than `max` is cut inside (RFC 7143 §6.1: such text sets the C bit).
 */
export function splitText(data: Buffer, max: number): TextChunk[] {
  if (max <= 0) throw new RangeError('chunk size must be positive');
  if (data.length <= max) return [{ data, partial: false }];
  const chunks: TextChunk[] = [];
  let start = 0;
  while (start < data.length) {
    if (data.length - start <= max) {
      chunks.push({ data: data.subarray(start), partial: false });
      break;
    }
    // the last NUL inside the window ends the last whole pair that fits
    const lastNul = data.lastIndexOf(0, start + max - 1);
    if (lastNul >= start) {
      chunks.push({ data: data.subarray(start, lastNul + 1), partial: false });
      start = lastNul + 1;
    } else {
      chunks.push({ data: data.subarray(start, start + max), partial: true });
      start += max;
    }
  }
  return chunks;
}
