/**
 * Copies of LUN files that cost no more space than the data they hold: a reflink (FICLONE: the copy shares the
 * source's extents until either is written) where the file system can (btrfs, XFS with reflink), otherwise a copy
 * in chunks that writes only the chunks holding data, so holes (and runs of zeros) stay holes in the copy.
 */
import { constants } from 'node:fs';
import { copyFile, open, rm } from 'node:fs/promises';

/** Unit the copy reads in; all-zero sub-blocks of BLOCK bytes are skipped (left as holes). */
const CHUNK = 1024 * 1024;
const BLOCK = 64 * 1024;
const ZERO = Buffer.alloc(BLOCK);

export interface CopyResult {
  method: 'reflink' | 'sparse';
  /** bytes actually written (the sparse copy); the whole size for a reflink */
  bytesWritten: number;
}

export interface SparseCopyOptions {
  /** fail if `to` exists (never overwrite a snapshot); otherwise `to` is replaced */
  exclusive?: boolean;
  /** the copy's length; default the source's (a longer copy ends in a hole) */
  length?: number;
  signal?: AbortSignal;
}

export async function sparseCopy(from: string, to: string, o: SparseCopyOptions = {}): Promise<CopyResult> {
  try {
    // FICLONE_FORCE fails instead of silently falling back to a full, hole-filling copy
    await copyFile(from, to, constants.COPYFILE_FICLONE_FORCE | (o.exclusive ? constants.COPYFILE_EXCL : 0));
    const fh = await open(to, 'r+');
    try {
      const size = (await fh.stat()).size;
      if (o.length !== undefined && o.length !== size) await fh.truncate(o.length);
      await fh.sync();
      return { method: 'reflink', bytesWritten: size };
    } finally {
      await fh.close();
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOENT') throw e;
  }
  return chunkedCopy(from, to, o);
}

async function chunkedCopy(from: string, to: string, o: SparseCopyOptions): Promise<CopyResult> {
  const src = await open(from, 'r');
  let created = false;
  try {
    const size = (await src.stat()).size;
    const length = o.length ?? size;
    const dst = await open(to, o.exclusive ? 'wx' : 'w', 0o600);
    created = true;
    let written = 0;
    try {
      await dst.truncate(length);
      const buf = Buffer.alloc(CHUNK);
      for (let off = 0; off < Math.min(size, length);) {
        if (o.signal?.aborted) throw new Error(`copy of ${from} cancelled at ${off} of ${length} bytes`);
        const want = Math.min(CHUNK, Math.min(size, length) - off);
        const { bytesRead } = await src.read(buf, 0, want, off);
        if (bytesRead === 0) break;
        for (let b = 0; b < bytesRead; b += BLOCK) {
          const n = Math.min(BLOCK, bytesRead - b);
          const part = buf.subarray(b, b + n);
          if (part.equals(ZERO.subarray(0, n))) continue;
          await dst.write(part, 0, n, off + b);
          written += n;
        }
        off += bytesRead;
      }
      await dst.sync();
    } finally {
      await dst.close();
    }
    return { method: 'sparse', bytesWritten: written };
  } catch (e) {
    if (created && o.exclusive) await rm(to, { force: true });
    throw e;
  } finally {
    await src.close();
  }
}
