// The exec point's error paths, with fake binaries on PATH: a missing tool, lvm2's failures (its own message
// kept), a lock that can't be taken, a VG that vanished, old lvm2, a hung tool killed by the time bound and
// by cancellation — and names refused before any process runs.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createContext } from '../src/context.ts';
import { StorageError, ToolError } from '../src/errors.ts';
import { classify, execTool, toolMessageOf } from '../src/exec.ts';
import { listVgs } from '../src/vg.ts';
import { FakeBin, fixture } from './helpers/fake-bin.ts';

const isTool = (code: string, re?: RegExp) => (e: unknown) => {
  assert.ok(e instanceof ToolError, `not a ToolError: ${String(e)}`);
  assert.equal(e.code, code, `${e.code}: ${e.message}`);
  if (re) assert.match(e.message, re);
  return true;
};

/** Running (a zombie waiting for a reaper counts as dead). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch { return false; }
}

describe('exec point', () => {
  let fake: FakeBin;
  before(() => { fake = new FakeBin(); });
  after(() => fake.cleanup());

  it('reports a missing tool as tool-missing (ENOENT), naming its package', async () => {
    await assert.rejects(execTool(['blkdiscard', '/dev/x'], { path: fake.path }), isTool('tool-missing', /not installed \(package util-linux\)/));
  });

  it('refuses programs outside the table and NUL bytes, running nothing', async () => {
    await assert.rejects(execTool(['sh', '-c', 'id'], { path: fake.path }), (e: unknown) => e instanceof StorageError && e.code === 'refused');
    await assert.rejects(execTool(['/sbin/lvs'], { path: fake.path }), /not a storage tool/);
    await assert.rejects(execTool(['lvs', 'a\0b'], { path: fake.path }), /NUL/);
    assert.deepEqual(fake.calls(), []);
  });

  it('passes argv verbatim (no shell) with LC_ALL=C and a fixed environment', async () => {
    fake.add('dmsetup', { body: 'printf "%s|" "$@"; echo; echo "LC_ALL=$LC_ALL LANG=$LANG FD=$LVM_SUPPRESS_FD_WARNINGS HOME=${HOME-unset}"\n' });
    const r = await execTool(['dmsetup', 'a b', '$(id)', ';x', '*'], { path: fake.path });
    assert.equal(r.stdout, 'a b|$(id)|;x|*|\nLC_ALL=C LANG=C FD=1 HOME=unset\n');
  });

  it("keeps lvm2's own message and classifies it", async () => {
    const rec = fixture('err-lvcreate-nospace.json');
    fake.add('lvcreate', { stderr: rec.stderr, code: rec.code });
    await assert.rejects(execTool(['lvcreate', '-L', '10g', '-n', 'big', 'vg0'], { path: fake.path }), (e: unknown) => {
      isTool('no-space')(e);
      const t = e as ToolError;
      assert.equal(t.toolMessage, 'Volume group "vg0" has insufficient free space (196 extents): 2560 required.');
      assert.equal(t.exitCode, 5);
      assert.match(t.message, /^lvcreate -L 10g: Volume group "vg0" has insufficient free space/);
      return true;
    });
  });

  it('classifies the recorded lvm2 failures', () => {
    const cases: [string, string][] = [
      ['err-lvcreate-exists.json', 'exists'], ['err-lvremove-open.json', 'in-use'], ['err-vgcreate-exists.json', 'exists'],
      ['err-pvcreate-mounted.json', 'in-use'], ['err-lvcreate-nospace.json', 'no-space'],
    ];
    for (const [f, code] of cases) assert.equal(classify(toolMessageOf(fixture(f).stderr)), code, f);
    assert.equal(classify('  Volume group "vg0" not found'), 'not-found');
    assert.equal(classify('random failure'), 'tool-failed');
  });

  it('reports a lock that cannot be taken as lock-timeout', async () => {
    fake.add('vgextend', { stderr: '  Giving up waiting for lock.\n  Can\'t get lock for vg0.\n  Cannot process volume group vg0\n', code: 5 });
    await assert.rejects(execTool(['vgextend', 'vg0', '/dev/vdc'], { path: fake.path }), isTool('lock-timeout', /Can't get lock for vg0/));
  });

  it('reports a VG that vanished as not-found, with the message lvm2 put in the JSON log', async () => {
    const rec = fixture('err-vgs-novg.json');
    fake.lvmVersion().add('vgs', { stdout: rec.stdout, stderr: rec.stderr, code: rec.code });
    const ctx = createContext({ path: fake.path });
    await assert.rejects(ctx.report('vg', ['nosuchvg']), isTool('not-found', /Volume group "nosuchvg" not found/));
  });

  it('uses --reportformat json on old lvm2 and classifies a json_std refusal as unsupported', async () => {
    const old = new FakeBin();
    try {
      old.lvmVersion('2.03.16(2) (2022-05-18)').add('vgs', { stdout: '{"report":[{"vg":[]}]}' });
      assert.deepEqual(await listVgs(createContext({ path: old.path })), []);
      assert.match(old.calls().find((c) => c.startsWith('vgs'))!, /^vgs --reportformat json --binary --units b --nosuffix -o vg_name,/);
      old.add('pvs', { stderr: '  Invalid argument for --reportformat: json_std\n  Error during parsing of command line.\n', code: 3 });
      await assert.rejects(execTool(['pvs', '--reportformat', 'json_std'], { path: old.path }), isTool('unsupported', /Invalid argument for --reportformat/));
    } finally { old.cleanup(); }
  });

  it('kills a tool that outlives its time bound, with its children', async () => {
    const pidFile = join(fake.dir, 'hung.pid');
    fake.add('lvconvert', { before: `/bin/sleep 30 & echo $! > '${pidFile}'; wait` });
    const t0 = Date.now();
    await assert.rejects(execTool(['lvconvert', '--merge', 'vg0/s'], { path: fake.path, timeoutMs: 300 }), isTool('timeout', /no answer within 300 ms/));
    assert.ok(Date.now() - t0 < 5_000, `took ${Date.now() - t0} ms`);
    const child = Number(readFileSync(pidFile, 'utf8'));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(alive(child), false, 'the sleep child survived');
  });

  it('escalates to SIGKILL when the tool ignores SIGTERM', async () => {
    fake.add('lvchange', { before: "trap '' TERM; /bin/sleep 20 & wait; /bin/sleep 20" });
    const t0 = Date.now();
    await assert.rejects(execTool(['lvchange', '-an', 'vg0/x'], { path: fake.path, timeoutMs: 200 }), isTool('timeout'));
    const ms = Date.now() - t0;
    assert.ok(ms >= 2_000 && ms < 6_000, `took ${ms} ms`);
  });

  it('kills the tool on cancellation (AbortSignal)', async () => {
    fake.add('lvextend', { before: '/bin/sleep 30' });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    await assert.rejects(execTool(['lvextend', '-L', '1b', 'vg0/x'], { path: fake.path, signal: ac.signal }), isTool('aborted', /cancelled/));
    await assert.rejects(execTool(['lvextend'], { path: fake.path, signal: ac.signal }), /cancelled before it started/);
  });

  it('returns non-failure exit codes the caller declares', async () => {
    fake.add('smartctl', { stdout: '{"smart_status":{"passed":true}}', code: 4 });
    assert.equal((await execTool(['smartctl', '-H', '-j', '/dev/x'], { path: fake.path, okCodes: [4] })).code, 4);
    await assert.rejects(execTool(['smartctl', '-H', '-j', '/dev/x'], { path: fake.path }), isTool('tool-failed'));
  });

  it('leaves no stray files behind in the fake dir besides the log', () => {
    assert.ok(existsSync(fake.log));
  });
});
