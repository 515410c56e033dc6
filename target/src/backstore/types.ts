/** Storage behind a logical unit: positional byte I/O on a regular file or a block device. */
export interface Backstore {
  readonly path: string;
  readonly readOnly: boolean;
  /** Opened with O_DSYNC: every completed write is already durable, so a flush after it adds nothing. */
  readonly writeThrough?: boolean;
  /** Bytes, as read at open or at the last refreshSize(). */
  size(): number;
  refreshSize(): Promise<number>;
  /** Positional read off the event loop; bytes past the end of a (sparse, short) file read as zeros. */
  read(offset: number, length: number): Promise<Buffer>;
  write(offset: number, data: Buffer): Promise<void>;
  /** Make every completed write durable (fdatasync). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenBackstoreOptions {
  readOnly: boolean;
  /** Open with O_DSYNC so each write is durable before it completes (write-through cache). */
  writeThrough?: boolean;
}

export class BackstoreError extends Error {
  override readonly name = 'BackstoreError';
  constructor(
    message: string,
    readonly path: string,
    readonly code?: string,
  ) {
    super(message);
  }
}
