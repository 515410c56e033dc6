/**
 * The three Linux calls Node's fs lacks, reached through koffi (a prebuilt FFI, an optional dependency) into libc:
 * fallocate(2) to punch holes / zero ranges and lseek(2) SEEK_DATA/SEEK_HOLE to find them again. Every call runs
 * on koffi's worker threads (`.async`), never on the event loop. When koffi or libc can't be loaded (another
 * platform, the optional dependency missing) `loadNativeFs()` resolves to undefined and callers fall back to
 * writing zeros / reporting everything mapped.
 *
 * Errno from an async koffi call is not reliable (it is thread-local to the worker), so a failure is reported as a
 * plain -1 and callers treat any failure the same way (fall back), which is what they would do for each errno.
 */

/** fallocate(2) mode bits (linux/falloc.h). */
export const FallocMode = {
  KEEP_SIZE: 0x01,
  PUNCH_HOLE: 0x02,
  ZERO_RANGE: 0x10,
} as const;

/** lseek(2) whence values for sparse files (Linux 3.1+, unistd.h). */
const SEEK_DATA = 3;
const SEEK_HOLE = 4;

export interface NativeFs {
  /** fallocate(fd, mode, offset, len): 0 on success, -1 on any failure. */
  fallocate(fd: number, mode: number, offset: number, length: number): Promise<number>;
  /** lseek(fd, offset, SEEK_DATA): the next data offset ≥ offset, or -1 (ENXIO: only hole up to EOF). */
  seekData(fd: number, offset: number): Promise<number>;
  /** lseek(fd, offset, SEEK_HOLE): the next hole offset ≥ offset (EOF counts as a hole), or -1. */
  seekHole(fd: number, offset: number): Promise<number>;
}

type AsyncFn = { async: (...args: unknown[]) => void };

function call(fn: AsyncFn, ...args: unknown[]): Promise<number> {
  return new Promise((resolve, reject) =>
    fn.async(...args, (err: unknown, result: number | bigint) => (err ? reject(err as Error) : resolve(Number(result)))),
  );
}

let loading: Promise<NativeFs | undefined> | undefined;

export function loadNativeFs(): Promise<NativeFs | undefined> {
  loading ??= load();
  return loading;
}

async function load(): Promise<NativeFs | undefined> {
  if (process.platform !== 'linux' || process.env['OPENLUN_NO_NATIVE_FS'] === '1') return undefined;
  try {
    const mod = (await import('koffi')) as unknown as { default?: typeof import('koffi') } & typeof import('koffi');
    const koffi = mod.default ?? mod;
    const libc = koffi.load('libc.so.6');
    const fallocate = libc.func('int fallocate(int fd, int mode, int64_t offset, int64_t len)') as unknown as AsyncFn;
    const lseek = libc.func('int64_t lseek(int fd, int64_t offset, int whence)') as unknown as AsyncFn;
    return {
      fallocate: (fd, mode, offset, length) => call(fallocate, fd, mode, offset, length),
      seekData: (fd, offset) => call(lseek, fd, offset, SEEK_DATA),
      seekHole: (fd, offset) => call(lseek, fd, offset, SEEK_HOLE),
    };
  } catch {
    return undefined;
  }
}
