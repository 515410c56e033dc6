/** Test helpers: hex literals with per-field comments, a seeded PRNG. */

/** Concatenate hex fragments ("01 c0 00 00"); whitespace is ignored. Throws on odd digits. */
export function hex(...parts: string[]): Buffer {
  const s = parts.join('').replace(/\s+/g, '');
  if (s.length % 2 !== 0 || /[^0-9a-f]/i.test(s)) throw new Error(`bad hex: ${s}`);
  return Buffer.from(s, 'hex');
}

/** mulberry32: small, fast, deterministic. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }
  u32(): number {
    return (this.int(0x10000) * 0x10000 + this.int(0x10000)) >>> 0;
  }
  u16(): number {
    return this.int(0x10000);
  }
  u8(): number {
    return this.int(0x100);
  }
  bool(): boolean {
    return this.next() < 0.5;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }
}
