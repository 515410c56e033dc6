// Real lvm2 on the host, on loop devices (the host kernel has no device-mapper, so no LVs here; PVs and VGs
// work): StorageManager creates PVs and a VG, reads them back through the parsers, refuses to wipe without
// confirmation, and removes everything. Skipped with a message where losetup or lvm2 isn't usable (not root).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RefusedError } from '../src/errors.ts';
import { StorageManager } from '../src/index.ts';

const SBIN_PATH = `${process.env.PATH ?? ''}:/usr/sbin:/sbin`;

function tryLoop(): { skip: string | false; reason?: string } {
  try {
    execFileSync('losetup', ['--version'], { stdio: 'ignore', env: { ...process.env, PATH: SBIN_PATH } });
    execFileSync('pvs', ['--version'], { stdio: 'ignore', env: { ...process.env, PATH: SBIN_PATH, LVM_SUPPRESS_FD_WARNINGS: '1' } });
  } catch { return { skip: 'losetup or lvm2 not installed' }; }
  if (process.getuid?.() !== 0) return { skip: 'needs root for losetup and lvm2' };
  return { skip: false };
}

const { skip } = tryLoop();
const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', env: { ...process.env, PATH: SBIN_PATH, LVM_SUPPRESS_FD_WARNINGS: '1', LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });

describe('real lvm2 on host loop devices', { skip, timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'openlun-loop-'));
  const vg = `openlun_t${process.pid}`;
  const loops: string[] = [];
  let setupError: string | undefined;
  const mgr = new StorageManager({ commandTimeoutMs: 20_000 });

  before(() => {
    for (const i of [0, 1]) {
      const file = join(dir, `d${i}.img`);
      writeFileSync(file, '');
      truncateSync(file, 64 * 2 ** 20);
      try {
        loops.push(run('losetup', ['-f', '--show', file]).trim());
      } catch (e) {
        setupError = `losetup not permitted here: ${(e as Error).message.split('\n')[0]}`;
        return;
      }
    }
    // An old filesystem-like signature on the second device: an ext4 superblock magic at 0x438.
    const sb = Buffer.alloc(2048);
    sb.writeUInt16LE(0xef53, 0x438);
    writeFileSync(loops[1]!, sb, { flag: 'r+' });
  });

  after(() => {
    // Always: VG, PVs, loops, files — whatever exists.
    try { run('vgremove', ['-f', vg]); } catch { /* not there */ }
    for (const l of loops) { try { run('pvremove', ['-ff', '-y', l]); } catch { /* not a PV */ } }
    for (const l of loops) { try { run('losetup', ['-d', l]); } catch { /* gone */ } }
    rmSync(dir, { recursive: true, force: true });
  });

  it('pvcreate → vgcreate → report → vgremove → pvremove', async (t) => {
    if (setupError) return t.skip(setupError);
    const [a, b] = loops as [string, string];
    const disks = await mgr.listDisks({ includeLoop: true, probe: true });
    const da = disks.find((d) => d.path === a);
    assert.ok(da, `${a} not in the inventory`);
    assert.deepEqual([da.size, da.available, da.signatures], [64 * 2 ** 20, true, []]);
    assert.match(String(disks.find((d) => d.path === b)?.signatures), /^ext[234]$/); // blkid calls a bare superblock ext2

    const pv = await mgr.createPv(a);
    assert.deepEqual([pv.name, pv.vg, pv.format, pv.devSize], [a, null, 'lvm2', 64 * 2 ** 20]);

    // A device with a signature: refused without confirmation, nothing changed.
    await assert.rejects(mgr.createPv(b), (e: unknown) => e instanceof RefusedError && /existing signatures \(ext[234]\)/.test(e.message));
    assert.ok(!(await mgr.listPvs()).some((p) => p.name === b));
    assert.match(run('wipefs', ['--no-act', b]), /ext[234]/);
    await mgr.createPv(b, { confirmWipe: true });

    const created = await mgr.createVg(vg, [a, b]);
    assert.equal(created.name, vg);
    assert.equal(created.pvCount, 2);
    assert.equal(created.extentSize, 4 * 2 ** 20);
    assert.equal(created.size, created.extentCount * created.extentSize);
    assert.ok(created.size >= 2 * 56 * 2 ** 20 && created.size < 2 * 64 * 2 ** 20, `size ${created.size}`);
    assert.equal(created.free, created.size);
    const pvs = (await mgr.listPvs()).filter((p) => p.vg === vg).map((p) => p.name).sort();
    assert.deepEqual(pvs, [a, b].sort());
    await assert.rejects(mgr.removePv(a), /belongs to volume group/);

    const reduced = await mgr.reduceVg(vg, [b]);
    assert.equal(reduced.pvCount, 1);
    await mgr.removeVg(vg);
    assert.ok(!(await mgr.listVgs()).some((v) => v.name === vg));
    await mgr.removePv(a);
    await mgr.removePv(b);
    assert.ok(!(await mgr.listPvs()).some((p) => p.name === a || p.name === b));
  });
});
