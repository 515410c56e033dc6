// Boots the Debian test guest and creates LVM volumes on a virtual disk: proves the harness (boot, agent,
// extra disks, timeouts) and that the guest kernel has what the host lacks (device-mapper, thin pools).
// Slow (~30-60 s warm, a few minutes on a cold image cache): part of npm test (OPENLUN_SKIP_GUEST=1 skips it).
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Guest } from './guest.ts';

// part of `npm test`; OPENLUN_SKIP_GUEST=1 leaves the guest out (quick local runs)
const skip = process.env['OPENLUN_SKIP_GUEST'] === '1' ? 'OPENLUN_SKIP_GUEST=1' : false;

describe('Debian test guest', { skip, timeout: 15 * 60_000 }, () => {
  let vm: Guest;
  let share: string;
  before(async () => {
    share = await mkdtemp(join(tmpdir(), 'openlun-guest-share-'));
    await writeFile(join(share, 'hello.txt'), 'from the host\n');
    vm = await Guest.boot({ disks: [{ sizeMiB: 512 }], shareDir: share, timeoutMs: 240_000 });
  });
  after(async () => {
    await vm?.shutdown();
    if (share) await rm(share, { recursive: true, force: true });
  });

  it('mounts the shared directory read-only at /mnt/share', async () => {
    assert.equal(await vm.sh(['cat', '/mnt/share/hello.txt']), 'from the host\n');
    const w = await vm.run(['touch', '/mnt/share/nope']);
    assert.notEqual(w.code, 0);
  });

  it('copies a directory tree in, honouring excludes', async () => {
    const src = await mkdtemp(join(tmpdir(), 'openlun-guest-copy-'));
    try {
      await mkdir(join(src, 'a/b'), { recursive: true });
      await mkdir(join(src, 'node_modules/x'), { recursive: true });
      await writeFile(join(src, 'a/b/c.txt'), 'deep\n');
      await writeFile(join(src, 'node_modules/x/y.js'), 'skip me');
      await vm.copyIn(src, '/root/tree', { exclude: ['./node_modules'] });
      assert.equal(await vm.sh(['cat', '/root/tree/a/b/c.txt']), 'deep\n');
      assert.equal((await vm.run(['test', '-e', '/root/tree/node_modules'])).code, 1);
    } finally {
      await rm(src, { recursive: true, force: true });
    }
  });

  it('runs argv and scripts, and reports exit codes and stderr', async () => {
    const ok = await vm.run(['uname', '-r']);
    assert.equal(ok.code, 0);
    assert.match(ok.stdout, /^6\.\d+\..*amd64\n$/);
    const bad = await vm.run('echo out; echo err >&2; exit 3');
    assert.deepEqual([bad.code, bad.stdout, bad.stderr], [3, 'out\n', 'err\n']);
    const missing = await vm.run(['/nonexistent']);
    assert.notEqual(missing.code, 0);
  });

  it('kills a command that exceeds its timeout, and the agent keeps working', async () => {
    const r = await vm.run(['sleep', '30'], { timeoutMs: 500 });
    assert.equal(r.timedOut, true);
    assert.ok(r.ms < 10_000, `timeout took ${r.ms} ms`);
    assert.equal((await vm.run(['true'])).code, 0);
  });

  it('copies files in, byte for byte', async () => {
    const data = Buffer.alloc(3 * 2 ** 20 + 17);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) & 0xff;
    const r = await vm.run('cat > /root/blob && sha256sum /root/blob', { stdin: data });
    const { createHash } = await import('node:crypto');
    assert.equal(r.stdout.split(' ')[0], createHash('sha256').update(data).digest('hex'));
  });

  it('creates linear and thin LVs with device-mapper on a virtual disk', async () => {
    const disk = vm.disks[0]!.guestPath;
    await vm.sh(['pvcreate', '-q', disk]);
    await vm.sh(['vgcreate', '-q', 'smoke', disk]);
    await vm.sh(['lvcreate', '-q', '-y', '-L', '64m', '-n', 'lin', 'smoke']);
    await vm.sh(['lvcreate', '-q', '-y', '--type', 'thin-pool', '-L', '128m', '-n', 'pool', 'smoke']);
    await vm.sh(['lvcreate', '-q', '-y', '-V', '1g', '--thinpool', 'pool', '-n', 'thin', 'smoke']);
    const lvs = await vm.sh(['lvs', '--noheadings', '-o', 'lv_name,segtype', '--separator', ',', 'smoke']);
    const rows = lvs.trim().split('\n').map((l) => l.trim()).sort();
    assert.deepEqual(rows, ['lin,linear', 'pool,thin-pool', 'thin,thin']);
    const table = await vm.sh(['dmsetup', 'table', 'smoke-thin']);
    assert.match(table, /^0 2097152 thin /);
    await vm.sh('mkfs.ext4 -q /dev/smoke/thin && mount /dev/smoke/thin /mnt && echo hi > /mnt/f && umount /mnt');
  });
});
