/**
 * Target side of CHAP for iSCSI login (RFC 7143 §12.1.3 over RFC 1994): choose the algorithm,
 * challenge the initiator, verify its response in constant time, and answer the initiator's
 * challenge for mutual CHAP. Secrets never appear in errors or answers.
 */
import { createHash, randomBytes as nodeRandomBytes, timingSafeEqual } from 'node:crypto';
import { LoginFailure } from './login-status.ts';
import type { TextPair } from './text-keys.ts';

export interface ChapAlgorithmSpec {
  name: string;
  /** node:crypto hash name */
  hash: string;
  digestBytes: number;
  /** Higher is stronger; used to pick among the initiator's offers. */
  strength: number;
  enabled: boolean;
}

// IANA "PPP Authentication Algorithms" numbers used in CHAP_A (RFC 1994 §4.1 defines 5; the
// Linux initiator and target also offer 6, 7 and 8). SHA-1 stays off: it adds nothing over 7.
export const CHAP_ALGORITHMS = {
  5: { name: 'MD5', hash: 'md5', digestBytes: 16, strength: 1, enabled: true },
  6: { name: 'SHA-1', hash: 'sha1', digestBytes: 20, strength: 2, enabled: false },
  7: { name: 'SHA-256', hash: 'sha256', digestBytes: 32, strength: 3, enabled: true },
  8: { name: 'SHA3-256', hash: 'sha3-256', digestBytes: 32, strength: 4, enabled: false },
} as const satisfies Record<number, ChapAlgorithmSpec>;

export type ChapAlgorithmId = keyof typeof CHAP_ALGORITHMS;

// RFC 7143 §12.1.3: the binary length of C and R must not exceed 1024 bytes.
const MAX_CHAP_BINARY = 1024;
// RFC 1994 §2.3 wants a challenge that is unpredictable and not reused; at least 16 bytes.
const MIN_CHALLENGE_BYTES = 16;

export interface ChapCredentials {
  /** The name the initiator must present in CHAP_N. */
  user: string;
  secret: string;
  /** Mutual CHAP: the name and secret the target answers with. */
  mutual?: { user: string; secret: string };
}

/** RFC 1994 §4.1: Response = H(Identifier || secret || Challenge). */
export function chapResponse(algorithm: ChapAlgorithmId, id: number, secret: string | Buffer, challenge: Buffer): Buffer {
  const h = createHash(CHAP_ALGORITHMS[algorithm].hash);
  h.update(Buffer.of(id & 0xff));
  h.update(typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret);
  h.update(challenge);
  return h.digest();
}

/**
 * RFC 7143 §6.1 binary-value: hex `0x…`/`0X…` or base64 `0b…`/`0B…`. Returns undefined on bad
 * syntax. An odd number of hex digits is read with an implied leading zero.
 */
export function decodeChapBinary(value: string): Buffer | undefined {
  if (value.length < 3 || value[0] !== '0') return undefined;
  const prefix = value[1];
  const body = value.slice(2);
  if (prefix === 'x' || prefix === 'X') {
    if (!/^[0-9a-fA-F]+$/.test(body)) return undefined;
    return Buffer.from(body.length % 2 ? `0${body}` : body, 'hex');
  }
  if (prefix === 'b' || prefix === 'B') {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body) || body.length % 4 !== 0) return undefined;
    return Buffer.from(body, 'base64');
  }
  return undefined;
}

export function encodeChapBinary(buf: Buffer): string {
  return `0x${buf.toString('hex')}`;
}

/** CHAP_A / CHAP_I numbers: decimal (RFC 7143 §12.1.3 "numbers"), hex accepted too. */
function parseChapNumber(value: string): number | undefined {
  if (/^[0-9]{1,10}$/.test(value)) return Number(value);
  if (/^0[xX][0-9a-fA-F]{1,8}$/.test(value)) return Number.parseInt(value.slice(2), 16);
  return undefined;
}

/** Compare two byte strings without leaking where they differ; unequal lengths compare false. */
function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  // Hashing first makes the comparison length-independent as well.
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

export type ChapState = 'await-algorithm' | 'await-response' | 'done';

export interface ChapOptions {
  /** Source of CHAP_I and CHAP_C; tests inject a fixed one. */
  randomBytes?: (n: number) => Buffer;
}

export const CHAP_KEYS = ['CHAP_A', 'CHAP_I', 'CHAP_C', 'CHAP_N', 'CHAP_R'] as const;

/** Runs the target's half of one CHAP exchange (one per connection login). */
export class ChapResponder {
  #creds: ChapCredentials;
  #random: (n: number) => Buffer;
  #state: ChapState = 'await-algorithm';
  #algorithm: ChapAlgorithmId | undefined;
  #id = 0;
  #challenge: Buffer = Buffer.alloc(0);
  #mutualDone = false;

  constructor(creds: ChapCredentials, options: ChapOptions = {}) {
    this.#creds = creds;
    this.#random = options.randomBytes ?? nodeRandomBytes;
  }

  get state(): ChapState {
    return this.#state;
  }
  get algorithm(): ChapAlgorithmId | undefined {
    return this.#algorithm;
  }
  /** True when the initiator asked the target to authenticate itself and it did. */
  get mutual(): boolean {
    return this.#mutualDone;
  }

  /**
   * Feed the CHAP_* keys of one login request; returns the CHAP answers. Throws
   * LoginFailure('AuthenticationFailure') for every failure (RFC 7143 §12.1.3).
   */
  step(keys: ReadonlyMap<string, string>): TextPair[] {
    const fail = (why: string): never => {
      throw new LoginFailure('AuthenticationFailure', `CHAP: ${why}`);
    };
    switch (this.#state) {
      case 'await-algorithm': {
        const offered = keys.get('CHAP_A');
        if (offered === undefined) {
          if (keys.size === 0) return [];
          return fail('expected CHAP_A first');
        }
        if (keys.size !== 1) return fail('CHAP_A must come alone');
        const algorithm = this.#pickAlgorithm(offered);
        if (algorithm === undefined) return fail('no offered CHAP_A algorithm is supported');
        const spec = CHAP_ALGORITHMS[algorithm];
        this.#algorithm = algorithm;
        this.#id = this.#random(1)[0]!;
        this.#challenge = this.#random(Math.max(MIN_CHALLENGE_BYTES, spec.digestBytes));
        this.#state = 'await-response';
        return [
          ['CHAP_A', String(algorithm)],
          ['CHAP_I', String(this.#id)],
          ['CHAP_C', encodeChapBinary(this.#challenge)],
        ];
      }
      case 'await-response': {
        if (keys.size === 0) return [];
        const algorithm = this.#algorithm!;
        const name = keys.get('CHAP_N');
        const responseText = keys.get('CHAP_R');
        if (keys.has('CHAP_A')) return fail('CHAP_A sent twice');
        if (name === undefined || responseText === undefined) return fail('CHAP_N and CHAP_R are required');
        const response = decodeChapBinary(responseText);
        if (response === undefined || response.length > MAX_CHAP_BINARY) return fail('CHAP_R is not a valid binary value');
        const expected = chapResponse(algorithm, this.#id, this.#creds.secret, this.#challenge);
        // Evaluate both comparisons before branching so a wrong name and a wrong response take equal time.
        const nameOk = constantTimeEqual(Buffer.from(name, 'utf8'), Buffer.from(this.#creds.user, 'utf8'));
        const responseOk = constantTimeEqual(response, expected);
        if (!(nameOk && responseOk)) return fail('initiator response does not verify');

        const answers: TextPair[] = [];
        const initiatorId = keys.get('CHAP_I');
        const initiatorChallenge = keys.get('CHAP_C');
        if (initiatorId !== undefined || initiatorChallenge !== undefined) {
          // Mutual CHAP: the initiator authenticates the target (RFC 7143 §12.1.3 third step).
          if (initiatorId === undefined || initiatorChallenge === undefined) return fail('mutual CHAP needs both CHAP_I and CHAP_C');
          const mutual = this.#creds.mutual;
          if (!mutual) return fail('initiator requested mutual CHAP but no target credentials are configured');
          // RFC 7143 §9.2.1: a secret used to authenticate initiators must not authenticate the target.
          if (constantTimeEqual(Buffer.from(mutual.secret, 'utf8'), Buffer.from(this.#creds.secret, 'utf8'))) {
            return fail('mutual secret equals the initiator secret; refusing');
          }
          const id = parseChapNumber(initiatorId);
          if (id === undefined || id > 255) return fail('CHAP_I is not a number 0..255');
          const challenge = decodeChapBinary(initiatorChallenge);
          if (challenge === undefined || challenge.length === 0 || challenge.length > MAX_CHAP_BINARY) {
            return fail('CHAP_C is not a valid binary value');
          }
          // RFC 7143 §9.2.1: refuse a challenge reflected back at us.
          if (challenge.equals(this.#challenge)) return fail('initiator reflected the target challenge');
          answers.push(['CHAP_N', mutual.user]);
          answers.push(['CHAP_R', encodeChapBinary(chapResponse(algorithm, id, mutual.secret, challenge))]);
          this.#mutualDone = true;
        }
        this.#state = 'done';
        return answers;
      }
      case 'done':
        if (keys.size === 0) return [];
        return fail('CHAP keys after authentication completed');
    }
  }

  /** RFC 7143 §12.1.3 lets the target pick any offered algorithm: take the strongest enabled one. */
  #pickAlgorithm(offered: string): ChapAlgorithmId | undefined {
    let best: ChapAlgorithmId | undefined;
    for (const item of offered.split(',')) {
      const n = parseChapNumber(item);
      if (n === undefined || !Object.hasOwn(CHAP_ALGORITHMS, n)) continue;
      const id = n as ChapAlgorithmId;
      const spec: ChapAlgorithmSpec = CHAP_ALGORITHMS[id];
      if (!spec.enabled) continue;
      if (best === undefined || spec.strength > CHAP_ALGORITHMS[best].strength) best = id;
    }
    return best;
  }
}
