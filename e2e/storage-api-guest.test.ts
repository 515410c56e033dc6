// The storage API on real lvm2 and device-mapper (the Debian test guest, e2e/guest): the API process's LVM backend
// driven through app.inject() inside the guest — PVs on two virtual disks, a VG across them, a thin pool, a thin
// LV LUN with snapshot, rollback (merge) and clone, online grow, a linear LV LUN with a copy-on-write snapshot and
// its merge rollback, refusals, removal — with the data checked on the LV devices (sha256 before and after).
// The scenario (e2e/storage-api-guest-scenario.ts, bundled by esbuild on the host) runs in the guest; this file
// asserts on its JSON lines.
// OPENLUN_SKIP_GUEST=1 skips it:   node --import tsx --test e2e/storage-api-guest.test.ts
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { build } from 'esbuild';
import { Guest } from './guest/guest.ts';

const skip = process.env['OPENLUN_SKIP_GUEST'] === '1' ? 'OPENLUN_SKIP_GUEST=1' : false;
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MiB = 2 ** 20;
type Step = Record<string, any> & { step: string; ok: boolean; error?: string };

describe('storage API on real lvm2 (Debian guest)', { skip, timeout: 15 * 60_000 }, () => {
  let vm: Guest | undefined;
  const steps = new Map<string, Step>();
  let stderr = '';
  let timing = '';

  before(async () => {
    // one plain .mjs (npm packages left to node_modules, found from the share's .cache/): tsx compiling the API in
    // the TCG guest cost ~3 minutes of the run
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    await build({
      entryPoints: [join(repo, 'e2e', 'storage-api-guest-scenario.ts')], outfile: join(repo, '.cache', 'guest-scenarios', 'storage-api.mjs'),
      bundle: true, platform: 'node', target: 'node20', format: 'esm', logLevel: 'warning', external: Object.keys(pkg.dependencies ?? {}),
    });
    vm = await Guest.boot({ disks: [{ sizeMiB: 512 }, { sizeMiB: 512 }], shareDir: repo, timeoutMs: 240_000 });
    const [d0, d1] = vm.disks.map((d) => d.guestPath) as [string, string];
    const r = await vm.run(['node', '.cache/guest-scenarios/storage-api.mjs', d0, d1], {
      cwd: '/mnt/share', timeoutMs: 10 * 60_000,
      env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', TSX_DISABLE_CACHE: '0' },
      onOutput: (fd, chunk) => { if (process.env.OPENLUN_GUEST_VERBOSE) process.stderr.write(`[guest ${fd}] ${chunk}`); },
    });
    stderr = r.stderr;
    for (const line of r.stdout.split('\n')) if (line.startsWith('{')) { const s = JSON.parse(line) as Step; steps.set(s.step, s); }
    timing = `boot ${(vm.bootMs / 1000).toFixed(1)} s, scenario ${(r.ms / 1000).toFixed(1)} s`;
  });
  after(async () => {
    await vm?.shutdown();
    console.log(`# storage-api-guest: ${timing} (${[...steps.values()].map((s) => `${s.step} ${((s.ms ?? 0) / 1000).toFixed(1)}s`).join(', ')})`);
  });
  const get = (name: string): Step => {
    const s = steps.get(name);
    assert.ok(s, `step ${name} did not report (scenario stderr: ${stderr.slice(-2000)})`);
    assert.equal(s.ok, true, `step ${name} failed: ${s.error}`);
    return s;
  };

  it('LVM mode; the system disk is flagged and refused', () => {
    const inv = get('inventory');
    assert.equal(inv.mode, 'lvm');
    const vda = inv.disks.find((d: any) => d.path === '/dev/vda');
    assert.deepEqual([vda.system, vda.available], [true, false]);
    const vg = get('vg');
    assert.equal(vg.system.status, 409);
    assert.match(vg.system.message, /holds the system/);
    assert.equal(vg.pvCount, 2);
  });

  it('thin LUN in a thin pool with overcommit', () => {
    const s = get('thin-lun');
    assert.equal(s.path, '/dev/vgapi/tlun');
    assert.equal(s.sizeBytes, 1024 * MiB);
    assert.equal(s.overcommit, 4);
    assert.deepEqual(s.thinVolumes, ['tlun']);
  });

  it('thin snapshot rollback restores the data (merge consumes the snapshot), identity kept', () => {
    const s = get('thin-snapshot-rollback');
    assert.equal(s.kind, 'thin');
    assert.notEqual(s.changed, s.before);
    assert.equal(s.after, s.before);
    assert.equal(s.consumed, true);
    assert.equal(s.naaKept, true);
    assert.equal(s.snapshotsAfter, 0);
  });

  it('clone of a thin snapshot is a new LUN with the snapshot\'s data', () => {
    const s = get('thin-clone');
    assert.equal(s.clone, s.expected);
    assert.equal(s.newIdentity, true);
    assert.equal(s.path, '/dev/vgapi/tclone');
  });

  it('online grow through PATCH; shrink refused', () => {
    const s = get('resize');
    assert.equal(s.sizeBytes, 1536 * MiB);
    assert.equal(s.shrink, 400);
    assert.equal(s.lastByteReadable, 1536 * MiB);
  });

  it('thick (COW) snapshot of a linear LV: needs a size; merge rollback restores the data', () => {
    const s = get('thick-snapshot-rollback');
    assert.equal(s.noSize, 409);
    assert.equal(s.kind, 'thick');
    assert.equal(s.cowBytes, 16 * MiB);
    assert.notEqual(s.changed, s.before);
    assert.equal(s.after, s.before);
  });

  it('refusals and removal', () => {
    const r = get('refusals');
    assert.equal(r.vgDelete, 409);
    assert.equal(r.lunWithSnaps[0], 409);
    assert.match(r.lunWithSnaps[1], /has snapshots/);
    assert.equal(r.badName, 400);
    const c = get('cleanup');
    assert.deepEqual(c.lvs, ['pool0'], 'only the pool is left');
    for (const a of ['storage.pv.create', 'storage.vg.create', 'storage.pool.create', 'storage.lv.create', 'snapshot.rollback', 'snapshot.clone', 'storage.lv.extend', 'storage.lv.remove']) assert.ok(c.audit.includes(a), a);
  });
});
