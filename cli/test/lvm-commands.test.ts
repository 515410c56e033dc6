// The LVM commands (disk, pv, vg, pool, lun --vg --thin-pool) as a script runs them: the built openlun program
// as a child process against the real API (buildApp, plain HTTP on loopback) whose lvm2 is the in-memory fake —
// so every request the CLI builds is checked by the API's own schemas, and what reached lvm2 is asserted from
// the fake's command log. Usage errors exit 2 and send nothing; a refusal exits 1 with the API's message; a wipe
// and a VG removal without a terminal need --yes. (The bundle is built first, as the e2e CLI tests do.)
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FakeLvm } from '../../api/test/support/fake-lvm.ts';
import { as, setupAdmin, type Fixture } from '../../api/test/support/fixture.ts';
import { newLvmApp } from '../../api/test/support/lvm-app.ts';
import { describeRun, run, runOk } from '../../e2e/helpers/run.ts';
import type { RunResult } from '../../e2e/helpers/run.ts';

const BUNDLE = join(import.meta.dirname, '../../dist/openlun.mjs');
const GiB = 2 ** 30;
let f: Fixture;
let lvm: FakeLvm;
let url: string;
let token: string;
let configHome: string;

before(async () => {
  await runOk(['node', join(import.meta.dirname, '../../scripts/build.mjs')], { timeoutMs: 120_000 });
  lvm = new FakeLvm();
  f = await newLvmApp(lvm);
  const admin = await setupAdmin(f.app);
  token = (await f.app.inject({ method: 'POST', url: '/api/tokens', headers: as(admin), payload: { name: 'cli' } })).json().secret as string;
  await f.app.listen({ host: '127.0.0.1', port: 0 });
  const addr = f.app.server.address();
  url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  configHome = mkdtempSync(join(tmpdir(), 'openlun-cli-lvm-'));
});
after(async () => {
  await f.close();
  rmSync(configHome, { recursive: true, force: true });
});

/** No terminal (setsid), no stored login: the URL and token from the environment, as a script has them. */
function cli(args: string[]): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: configHome, OPENLUN_URL: url, OPENLUN_TOKEN: token };
  delete env['OPENLUN_FINGERPRINT'];
  delete env['OPENLUN_CA'];
  return run(['setsid', '--wait', 'node', BUNDLE, ...args], { env, timeoutMs: 30_000 });
}
async function ok(args: string[]): Promise<string> {
  const r = await cli(args);
  assert.equal(r.code, 0, describeRun(r));
  return r.stdout;
}
async function json<T = any>(args: string[]): Promise<T> {
  return JSON.parse(await ok([...args, '--json'])) as T;
}
/** Fails with `code` and `re` on stderr, and no lvm2 command changed anything. */
async function fails(args: string[], code: number, re: RegExp): Promise<void> {
  const n = lvm.changes().length;
  const r = await cli(args);
  assert.equal(r.code, code, describeRun(r));
  assert.match(r.stderr, re, describeRun(r));
  assert.deepEqual(lvm.changes().slice(n), [], `${args.join(' ')} changed something`);
}

describe('openlun disk/pv/vg/pool/lun over the API with a fake lvm2', () => {
  test('disks, PVs (a wipe needs --yes without a terminal), a VG, a thin pool, a thin LUN, removal', async () => {
    const table = await ok(['disk', 'list']);
    assert.match(table, /^DEVICE\s+SIZE\s+MODEL/m);
    assert.match(table, /\/dev\/sda\s.*system/);
    assert.match(table, /\/dev\/sdb\s.*available \(has ext4: pv create --wipe\)/);
    const disks = await json<Array<{ path: string; available: boolean }>>(['disk', 'list']);
    assert.deepEqual(disks.map((d) => d.path), ['/dev/sda', '/dev/sdb', '/dev/sdc', '/dev/sdd']);

    await fails(['pv', 'create'], 2, /missing argument/);
    await fails(['pv', 'create', 'sdc'], 2, /must be a \/dev path/);
    await fails(['pv', 'create', '/dev/sdb'], 1, /signature|wipe/i);
    await fails(['pv', 'create', '/dev/sdb', '--wipe'], 1, /erases every file system.*add --yes/s);
    assert.match(await ok(['pv', 'create', '/dev/sdb', '--wipe', '--yes']), /\/dev\/sdb is a physical volume/);
    assert.ok(lvm.changes().some((c) => c.startsWith('wipefs') && c.includes('/dev/sdb')), lvm.changes().join('\n'));
    await ok(['pv', 'create', '/dev/sdc']);
    await ok(['pv', 'create', '/dev/sdd']);
    assert.deepEqual((await json<Array<{ name: string }>>(['pv', 'list'])).map((p) => p.name).sort(), ['/dev/sdb', '/dev/sdc', '/dev/sdd']);

    await fails(['vg', 'create', 'data'], 2, /missing argument/);
    await fails(['vg', 'create', 'a;b', '/dev/sdb'], 1, /invalid VG name/);
    const vg = await json<{ name: string; size: number; pvCount: number }>(['vg', 'create', 'data', '/dev/sdb', '/dev/sdc']);
    assert.equal(vg.name, 'data');
    assert.equal(vg.pvCount, 2);
    assert.equal((await json<{ pvCount: number }>(['vg', 'extend', 'data', '/dev/sdd'])).pvCount, 3);
    assert.equal((await json<{ pvCount: number }>(['vg', 'reduce', 'data', '/dev/sdd'])).pvCount, 2);
    assert.match(await ok(['vg', 'list']), /^data\s+\d.*\s2\s+0\s+ok/m);

    await fails(['pool', 'create', 'data', 'thin'], 2, /--size is required/);
    await fails(['pool', 'create', 'data', 'thin', '--size', 'lots'], 2, /--size wants a size/);
    await fails(['pool', 'extend', 'data', 'thin'], 2, /nothing to grow/);
    const pool = await json<{ vg: string; name: string; sizeBytes: number }>(['pool', 'create', 'data', 'thin', '--size', '512M']);
    assert.deepEqual([pool.vg, pool.name, pool.sizeBytes], ['data', 'thin', 512 * 2 ** 20]);
    assert.equal((await json<{ sizeBytes: number }>(['pool', 'extend', 'data', 'thin', '--size', '768M'])).sizeBytes, 768 * 2 ** 20);

    await fails(['lun', 'create', 'vm1', '--size', '2G', '--thin-pool', 'thin'], 2, /--thin-pool needs --vg/);
    const lun = await json<{ name: string; backing: string; path: string; sizeBytes: number }>(['lun', 'create', 'vm1', '--size', '2G', '--vg', 'data', '--thin-pool', 'thin']);
    assert.deepEqual([lun.backing, lun.path, lun.sizeBytes], ['lv', '/dev/data/vm1', 2 * GiB]);
    const pools = await ok(['pool', 'list']);
    // 2 GiB of thin volume in a 768 MiB pool: overcommitted 2.67 times
    assert.match(pools, /^data\s+thin\s+768 MiB\s.*\s1\s+2 GiB\s+2\.67$/m);
    assert.match(await ok(['pool', 'show']), /mode: lvm/);

    // the VG holds a LUN: rename and remove are refused by the API (after the --yes gate)
    await fails(['vg', 'rename', 'data', 'other'], 1, /holds LUNs \(vm1\)/);
    await fails(['vg', 'remove', 'data'], 1, /no terminal to confirm on: add --yes/);
    await fails(['vg', 'remove', 'data', '--yes'], 1, /holds LUNs \(vm1\)/);
    await fails(['lun', 'delete', 'vm1', '--delete-data'], 1, /destroys the data of LUN vm1.*add --yes/s);
    await ok(['lun', 'delete', 'vm1', '--delete-data', '--yes']);
    assert.ok(lvm.changes().includes('lvremove --yes data/vm1'), lvm.changes().join('\n'));
    assert.match(await ok(['vg', 'rename', 'data', 'store']), /volume group data is now store/);
    assert.equal((await cli(['vg', 'remove', 'store', '--yes'])).code, 1, 'lvm/ refuses a VG that still holds the pool');
    assert.equal((await cli(['pv', 'remove', '/dev/sdd'])).code, 0);
    assert.equal((await json<unknown[]>(['pv', 'list'])).length, 2);
  });

  test('help and usage errors', async () => {
    for (const cmd of ['disk', 'pv', 'vg', 'pool', 'snapshot', 'schedule', 'user', 'token']) {
      const r = await cli(['help', cmd]);
      assert.equal(r.code, 0, describeRun(r));
      assert.match(r.stdout, new RegExp(`^usage: openlun ${cmd} `));
      const bad = await cli([cmd, 'frobnicate']);
      assert.equal(bad.code, 2, describeRun(bad));
      assert.match(bad.stderr, new RegExp(`unknown ${cmd} command "frobnicate"`));
    }
    const top = await cli(['--help']);
    for (const cmd of ['disk', 'pv', 'vg', 'snapshot', 'schedule', 'user', 'token']) assert.match(top.stdout, new RegExp(`^  ${cmd} `, 'm'));
  });
});
