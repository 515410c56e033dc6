/**
 * Serial number arithmetic for 32-bit sequence numbers (RFC 1982 with SERIAL_BITS = 32), which RFC 7143 §4.2.2.1
 * requires for CmdSN, StatSN and DataSN comparisons: the counters wrap, so a plain `<` is wrong near 2^32.
 */
const HALF = 0x80000000;

export function serialAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** a < b in serial arithmetic */
export function serialLt(a: number, b: number): boolean {
  return a !== b && ((a < b && b - a < HALF) || (a > b && a - b > HALF));
}

export function serialLe(a: number, b: number): boolean {
  return a === b || serialLt(a, b);
}

/** a <= x <= b, for a window that may wrap */
export function serialInWindow(x: number, lo: number, hi: number): boolean {
  return serialLe(lo, x) && serialLe(x, hi);
}
