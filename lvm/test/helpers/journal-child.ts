// Child process for journal.test.ts: starts a change that hangs (the fake lvcreate sleeps) so the parent can
// SIGKILL this process mid-operation.   node --import tsx journal-child.ts <journalPath> <fakeBinDir>
import { StorageManager } from '../../src/index.ts';

const [journalPath, path] = process.argv.slice(2) as [string, string];
const mgr = new StorageManager({ journalPath, path });
await mgr.createLinear('vg0', 'lun9', 2 ** 26);
