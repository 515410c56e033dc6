// Temporary directories and files for whole-system tests: sparse LUN images, random payloads, hashes.
import { createHash, randomFillSync } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

export interface TempDir {
  readonly path: string;
  /** A path inside the directory. */
  file(name: string): string;
  remove(): Promise<void>;
}

export async function makeTempDir(prefix = 'openlun-e2e-'): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return {
    path,
    file: (name) => join(path, name),
    remove: () => rm(path, { recursive: true, force: true }),
  };
}

/** A file of `bytes` bytes that takes no disk space until written (a LUN backing file). */
export async function createSparseFile(path: string, bytes: number): Promise<string> {
  await writeFile(path, '');
  await truncate(path, bytes);
  return path;
}

/** A file filled with random bytes, written in 4 MiB chunks. */
export async function createRandomFile(path: string, bytes: number): Promise<string> {
  const fh = await open(path, 'w');
  try {
    const chunk = Buffer.allocUnsafe(4 * MiB);
    for (let done = 0; done < bytes; ) {
      const n = Math.min(chunk.length, bytes - done);
      randomFillSync(chunk, 0, n);
      await fh.write(chunk, 0, n);
      done += n;
    }
  } finally {
    await fh.close();
  }
  return path;
}

/** sha256 of a file's bytes in [start, start + length) (the whole rest of the file by default). */
export function sha256File(path: string, range: { start?: number; length?: number } = {}): Promise<string> {
  const start = range.start ?? 0;
  const end = range.length === undefined ? undefined : start + range.length - 1;
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    const stream = createReadStream(path, end === undefined ? { start } : { start, end });
    stream.on('data', (b) => hash.update(b));
    stream.once('error', reject);
    stream.once('end', () => resolve(hash.digest('hex')));
  });
}

/** True when every byte of the file from `start` on is zero. */
export function isAllZero(path: string, start = 0): Promise<boolean> {
  return new Promise((resolve, reject) => {
    let zero = true;
    const stream = createReadStream(path, { start });
    stream.on('data', (b) => {
      const buf = b as Buffer;
      for (let i = 0; i < buf.length; i++) {
        if (buf[i] !== 0) {
          zero = false;
          stream.destroy();
          resolve(false);
          return;
        }
      }
    });
    stream.once('error', reject);
    stream.once('close', () => {
      if (zero) resolve(true);
    });
  });
}
