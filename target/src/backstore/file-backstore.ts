/**
 * One Backstore for both regular files (sparse, any size) and block devices (an LVM LV on the
 * appliance). Every read/write is a positional call on one file descriptor, off the event loop (libuv's
 * thread pool or io_uring), and a request is served by a single pread/pwrite into/from the caller's Buffer.
 */
import fs, { constants, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { Backstore, OpenBackstoreOptions } from './types.ts';
import { BackstoreError } from './types.ts';
import { probeSize, sysfsBlockDeviceSize } from './device-size.ts';

export class FileBackstore implements Backstore {
  #size: number;
  #closed = false;

  private constructor(
    readonly path: string,
    readonly readOnly: boolean,
    private readonly fh: FileHandle,
    private readonly isBlockDevice: boolean,
    size: number,
    readonly writeThrough: boolean,
  ) {
    this.#size = size;
  }

  static async open(path: string, opts: OpenBackstoreOptions): Promise<FileBackstore> {
    let st;
    try {
      st = await fsp.stat(path, { bigint: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new BackstoreError(
        code === 'ENOENT' ? `backstore ${path} does not exist` : `cannot stat backstore ${path}: ${String(err)}`,
        path,
        code,
      );
    }
    const isBlockDevice = st.isBlockDevice();
    if (!isBlockDevice && !st.isFile()) {
      throw new BackstoreError(`backstore ${path} is neither a regular file nor a block device`, path, 'EINVAL');
    }
    const writeThrough = !!opts.writeThrough && !opts.readOnly;
    let flags = opts.readOnly ? constants.O_RDONLY : constants.O_RDWR;
    if (writeThrough) flags |= constants.O_DSYNC;
    let fh: FileHandle;
    try {
      fh = await fsp.open(path, flags);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new BackstoreError(`cannot open backstore ${path}: ${(err as Error).message}`, path, code);
    }
    const bs = new FileBackstore(path, opts.readOnly, fh, isBlockDevice, 0, writeThrough);
    try {
      await bs.refreshSize();
    } catch (err) {
      await fh.close();
      throw err;
    }
    return bs;
  }

  size(): number {
    return this.#size;
  }

  async refreshSize(): Promise<number> {
    this.#assertOpen();
    if (this.isBlockDevice) {
      const st = await this.fh.stat({ bigint: true });
      this.#size = (await sysfsBlockDeviceSize(st.rdev)) ?? (await probeSize(this.fh));
    } else {
      const st = await this.fh.stat();
      this.#size = st.size;
    }
    return this.#size;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    this.#assertOpen();
    checkRange(offset, length, this.path);
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const bytesRead = await preadAt(this.fh.fd, buf, done, length - done, offset + done);
      if (bytesRead === 0) {
        // Past EOF of a short sparse file (inside the LU size): the medium reads as zeros.
        buf.fill(0, done);
        break;
      }
      done += bytesRead;
    }
    return buf;
  }

  async write(offset: number, data: Buffer): Promise<void> {
    this.#assertOpen();
    if (this.readOnly) throw new BackstoreError(`backstore ${this.path} is read-only`, this.path, 'EROFS');
    checkRange(offset, data.length, this.path);
    let done = 0;
    while (done < data.length) {
      const bytesWritten = await pwriteAt(this.fh.fd, data, done, data.length - done, offset + done);
      if (bytesWritten === 0) throw new BackstoreError(`short write on ${this.path}`, this.path, 'EIO');
      done += bytesWritten;
    }
  }

  async flush(): Promise<void> {
    this.#assertOpen();
    if (this.readOnly) return;
    await this.fh.datasync();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.fh.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new BackstoreError(`backstore ${this.path} is closed`, this.path, 'EBADF');
  }
}

/*
 * fs.read/fs.write with callbacks on the raw fd: the FileHandle promise API costs a wrapper object and extra
 * promise hops per call; measured here at 4 KiB QD32 from the page cache: ~63k IOPS through FileHandle.read vs
 * ~97k through fs.read (io_uring on), ~79k vs ~122k (thread pool) — the target's hottest call.
 */
function preadAt(fd: number, buf: Buffer, off: number, len: number, pos: number): Promise<number> {
  return new Promise((resolve, reject) => fs.read(fd, buf, off, len, pos, (err, n) => (err ? reject(err) : resolve(n))));
}

function pwriteAt(fd: number, buf: Buffer, off: number, len: number, pos: number): Promise<number> {
  return new Promise((resolve, reject) => fs.write(fd, buf, off, len, pos, (err, n) => (err ? reject(err) : resolve(n))));
}

function checkRange(offset: number, length: number, path: string): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new BackstoreError(`bad I/O range ${offset}+${length} on ${path}`, path, 'EINVAL');
  }
}
