import type { Backstore, OpenBackstoreOptions } from './types.ts';
import { FileBackstore } from './file-backstore.ts';

export type { Backstore, OpenBackstoreOptions } from './types.ts';
export { BackstoreError } from './types.ts';

/** Open a regular file or a block device as a backstore; a missing path rejects with a BackstoreError. */
export async function openBackstore(path: string, opts: OpenBackstoreOptions): Promise<Backstore> {
  return FileBackstore.open(path, opts);
}
