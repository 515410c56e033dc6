// An intent journal for changes: written (atomically: temp file, fsync, rename) before a change starts and
// removed when it ends, so a change interrupted by a killed process is known at the next start. lvm2 keeps
// its own metadata consistent (it commits VG metadata atomically); what the journal adds is the *meaning*:
// "a rollback of vg0/lun0 was running", so recovery can bring the origin back and the admin is told.
import { randomUUID } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface JournalEntry {
  id: string;
  op: string;
  args: unknown[];
  /** Facts learned while running (e.g. a rollback's origin), for recovery. */
  notes: Record<string, unknown>;
  startedAt: string;
  pid: number;
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w', 0o600);
  try { await fh.writeFile(text); await fh.sync(); } finally { await fh.close(); }
  await rename(tmp, path);
  // The rename itself must survive a crash: fsync the directory.
  const dir = await open(dirname(path), 'r');
  try { await dir.sync(); } finally { await dir.close(); }
}

/** Changes are serialized, so the journal holds at most one entry. */
export class OperationJournal {
  private current: JournalEntry | undefined;
  constructor(readonly path: string) {}

  async begin(op: string, args: unknown[]): Promise<void> {
    // Only JSON-safe arguments (hooks and signals are dropped by JSON.stringify).
    this.current = { id: randomUUID(), op, args: JSON.parse(JSON.stringify(args)) as unknown[], notes: {}, startedAt: new Date().toISOString(), pid: process.pid };
    await writeAtomic(this.path, JSON.stringify(this.current));
  }

  async note(facts: Record<string, unknown>): Promise<void> {
    if (!this.current) return;
    Object.assign(this.current.notes, facts);
    await writeAtomic(this.path, JSON.stringify(this.current));
  }

  async end(): Promise<void> {
    this.current = undefined;
    await rm(this.path, { force: true });
  }

  /** The entry an earlier process left behind, if it died mid-change. */
  async unfinished(): Promise<JournalEntry | null> {
    try {
      return JSON.parse(await readFile(this.path, 'utf8')) as JournalEntry;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      // A torn or foreign file: report it as unreadable rather than guessing.
      return { id: 'unreadable', op: 'unknown', args: [], notes: { error: (e as Error).message }, startedAt: '', pid: 0 };
    }
  }
}
