/**
 * The size of a block device without native addons: fstat reports 0 for block devices, so read
 * /sys/dev/block/MAJ:MIN/size (always in 512-byte sectors, whatever the logical block size), and if
 * sysfs is not there, find the end by probing with 1-byte positional reads (a read at or past the end
 * returns 0 bytes).
 */
import { readFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

const SYSFS_SECTOR_BYTES = 512; // Linux block layer: /sys/.../size counts 512-byte sectors

/** Linux dev_t → major/minor (glibc's gnu_dev_major/gnu_dev_minor encoding). */
export function splitDevT(rdev: bigint): { major: bigint; minor: bigint } {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return { major, minor };
}

export async function sysfsBlockDeviceSize(rdev: bigint): Promise<number | undefined> {
  const { major, minor } = splitDevT(rdev);
  try {
    const text = await readFile(`/sys/dev/block/${major}:${minor}/size`, 'utf8');
    const sectors = Number.parseInt(text.trim(), 10);
    return Number.isSafeInteger(sectors) ? sectors * SYSFS_SECTOR_BYTES : undefined;
  } catch {
    return undefined;
  }
}

async function hasByteAt(fh: FileHandle, offset: number, probe: Buffer): Promise<boolean> {
  const { bytesRead } = await fh.read(probe, 0, 1, offset);
  return bytesRead === 1;
}

/** Exponential then binary search for the first offset that reads nothing. */
export async function probeSize(fh: FileHandle): Promise<number> {
  const probe = Buffer.alloc(1);
  if (!(await hasByteAt(fh, 0, probe))) return 0;
  let low = 0; // known readable
  let high = 512;
  while (await hasByteAt(fh, high, probe)) {
    low = high;
    high *= 2;
    if (high > Number.MAX_SAFE_INTEGER / 2) throw new Error('device size probe overflow');
  }
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (await hasByteAt(fh, mid, probe)) low = mid;
    else high = mid;
  }
  return high;
}
