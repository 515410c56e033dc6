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
  /**
   * Deallocate a byte range (UNMAP, WRITE SAME with UNMAP: SBC-4 §4.7.3.4): afterwards it reads as zeros. Files get a
   * hole punched; where that is impossible the range is overwritten with zeros (still reads zero, frees nothing).
   * Optional: a backstore without it is unmapped by the SCSI layer writing zeros itself.
   */
  discard?(offset: number, length: number): Promise<void>;
  /** Zeros over a range that stays allocated (WRITE SAME of a zero block, UNMAP bit clear). */
  writeZeroes?(offset: number, length: number): Promise<void>;
  /**
   * The allocation extent that contains `offset` (GET LBA STATUS, SBC-4 §5.22): whether it holds data and the
   * byte offset where that changes (≤ size()). Without it every byte counts as mapped.
   */
  allocation?(offset: number): Promise<{ mapped: boolean; end: number }>;
  /** How discard() releases space: 'punch-hole' (really freed) or 'zero-fill' (no native fallocate). */
  readonly discardMethod?: 'punch-hole' | 'zero-fill';
  /**
   * Bytes an unprivileged writer may still allocate on the file system holding a regular file (statfs f_bavail):
   * what a sparse file can still grow into (SBC-4 §4.7.3.8 soft threshold). Undefined for a block device, whose
   * pool (thin LV) is measured by its owner instead.
   */
  freeSpace?(): Promise<number | undefined>;
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
