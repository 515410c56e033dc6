/**
 * The file pool: LUN backing files in one directory of the data dir, created sparse (ftruncate allocates nothing) so
 * a 1 TiB LUN costs no space until written. Names were validated already; the resolved path is checked again here
 * so no name can ever address a file outside the pool.
 */
import { closeSync, ftruncateSync, mkdirSync, openSync, unlinkSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { poolNameProblem } from './names.ts';

export const POOL_FILE_SUFFIX = '.img';

/** Files created while a journal is open; removed again if the enclosing transaction fails. */
export interface PoolJournal {
  created: string[];
}

export class FilePool {
  readonly dir: string;
  #journal: PoolJournal | undefined;
  constructor(dir: string) {
    this.dir = resolve(dir);
    mkdirSync(this.dir, { recursive: true, mode: 0o750 });
  }

  pathFor(name: string): string {
    const problem = poolNameProblem(name);
    if (problem) throw new Error(`file pool name ${problem}`);
    const path = resolve(join(this.dir, name + POOL_FILE_SUFFIX));
    if (!path.startsWith(this.dir + sep)) throw new Error('file pool name escapes the pool directory');
    return path;
  }

  /** Creates the file exclusively ('wx': an existing file is never truncated or reused). */
  createSparse(name: string, sizeBytes: number): string {
    const path = this.pathFor(name);
    const fd = openSync(path, 'wx', 0o600);
    try {
      ftruncateSync(fd, sizeBytes);
    } catch (e) {
      closeSync(fd);
      unlinkSync(path);
      throw e;
    }
    closeSync(fd);
    this.#journal?.created.push(name);
    return path;
  }

  beginJournal(): PoolJournal {
    if (this.#journal) return { created: [] }; // nested: the outer journal records
    this.#journal = { created: [] };
    return this.#journal;
  }

  rollbackJournal(j: PoolJournal): void {
    for (const name of j.created) this.remove(name);
    j.created.length = 0;
  }

  endJournal(j: PoolJournal): void {
    if (this.#journal === j) this.#journal = undefined;
  }

  grow(name: string, sizeBytes: number): void {
    const fd = openSync(this.pathFor(name), 'r+');
    try {
      ftruncateSync(fd, sizeBytes);
    } finally {
      closeSync(fd);
    }
  }

  remove(name: string): void {
    try {
      unlinkSync(this.pathFor(name));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
}
