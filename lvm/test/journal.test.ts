// A change interrupted by a killed process is reported at the next start, and what it left half done is put
// right (an interrupted rollback's origin is activated again).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { StorageManager } from '../src/index.ts';
import { OperationJournal } from '../src/journal.ts';
import { FakeBin, fixture } from './helpers/fake-bin.ts';

describe('operation journal', () => {
  let fake: FakeBin;
  before(() => {
    fake = new FakeBin();
    fake.lvmVersion().add('vgs', { stdout: fixture('vgs.json').stdout }).add('lvchange');
  });
  after(() => fake.cleanup());

  it('reports a change whose process was killed halfway, then clears it', async () => {
    const journalPath = join(fake.dir, 'journal.json');
    const pidFile = join(fake.dir, 'lvcreate.pid');
    fake.add('lvcreate', { before: `echo $$ > '${pidFile}'; exec /bin/sleep 30` });
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./helpers/journal-child.ts', import.meta.url)), journalPath, fake.path],
      { stdio: 'ignore' });
    const deadline = Date.now() + 15_000;
    while (!existsSync(pidFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(existsSync(pidFile), 'the child never reached lvcreate');
    assert.equal(JSON.parse(readFileSync(journalPath, 'utf8')).op, 'createLinear');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    try { process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL'); } catch { /* gone */ }

    const mgr = new StorageManager({ journalPath, path: fake.path });
    const report = await mgr.recover();
    assert.ok(report);
    assert.equal(report.interrupted.op, 'createLinear');
    assert.deepEqual(report.interrupted.args, ['vg0', 'lun9', 2 ** 26]);
    assert.notEqual(report.interrupted.pid, process.pid);
    assert.match(report.actions[0]!, /^createLinear\("vg0", "lun9", 67108864\) started .* did not finish$/);
    assert.match(report.actions[1]!, /volume groups now: vg0 \(5 LVs\)/);
    assert.equal(existsSync(journalPath), false);
    assert.equal(await mgr.recover(), null);
  });

  it('activates the origin an interrupted rollback left inactive', async () => {
    const journalPath = join(fake.dir, 'journal2.json');
    // The recorded mid-merge report, with the origin inactive (as a rollback killed between -an and -ay leaves it).
    const merging = fixture('lvs-merging.json').stdout.replace(/("lv_name":"lin",.*?"lv_active":)1/, '$10');
    assert.notEqual(merging, fixture('lvs-merging.json').stdout);
    fake.add('lvs', { stdout: merging });
    await writeFile(journalPath, JSON.stringify({ id: 'x', op: 'rollback', args: ['vg0', 'lin_snap'], notes: { origin: 'lin' }, startedAt: '2026-11-28T01:00:00Z', pid: 1 }));
    const report = await new StorageManager({ journalPath, path: fake.path }).recover();
    assert.deepEqual(report?.actions.slice(1), [
      'snapshot vg0/lin_snap still exists (merge pending)',
      'activated vg0/lin (the merge resumes); bring its LUN back online',
    ]);
    assert.ok(fake.calls().includes('lvchange -ay -K vg0/lin'));
  });

  it('writes atomically and survives a torn file', async () => {
    const j = new OperationJournal(join(fake.dir, 'j3.json'));
    await j.begin('createVg', ['vg1', ['/dev/vdb'], () => 1]);
    await j.note({ step: 2 });
    const e = await j.unfinished();
    assert.deepEqual([e?.op, e?.args, e?.notes], ['createVg', ['vg1', ['/dev/vdb'], null], { step: 2 }]);
    await writeFile(j.path, '{"op":"crea');
    assert.equal((await j.unfinished())?.op, 'unknown');
    await j.end();
    assert.equal(await j.unfinished(), null);
  });
});
