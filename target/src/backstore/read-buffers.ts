/**
 * Reusable buffers for large reads. A 128 KiB read allocated fresh each time is an external V8 allocation that
 * the garbage collector has to chase: profiled at ~12-15% of the target's time at 128K QD32 sequential reads, and
 * the pages of a new buffer fault in again on every read. The transport hands a read buffer back with
 * `releaseReadBuffer` once the socket has taken its bytes (a write callback), never earlier.
 *
 * Only power-of-two sizes from 64 KiB to 1 MiB are pooled (what initiators ask for in bulk); everything else is a
 * plain allocation, and releasing a buffer that did not come from here is a no-op — so a missed release only costs
 * an allocation, never correctness.
 */
const MIN_POOLED = 64 * 1024;
const MAX_POOLED = 1024 * 1024;
/** Per size class: enough for a queue depth of 32 plus the writes still in the socket. */
const KEEP_PER_CLASS = 64;

const free = new Map<number, Buffer[]>();
const ours = new WeakSet<Buffer>();

function pooledSize(length: number): boolean {
  return length >= MIN_POOLED && length <= MAX_POOLED && (length & (length - 1)) === 0;
}

export function acquireReadBuffer(length: number): Buffer {
  if (!pooledSize(length)) return Buffer.allocUnsafe(length);
  const buf = free.get(length)?.pop() ?? Buffer.allocUnsafeSlow(length);
  ours.add(buf);
  return buf;
}

/** Gives a buffer from acquireReadBuffer back. The caller must hold no other reference it will still use. */
export function releaseReadBuffer(buf: Buffer): void {
  if (!ours.has(buf)) return;
  ours.delete(buf);
  let list = free.get(buf.length);
  if (!list) free.set(buf.length, (list = []));
  if (list.length < KEEP_PER_CLASS) list.push(buf);
}
