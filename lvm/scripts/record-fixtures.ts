// Records lvm2 / lsblk / wipefs JSON output from the Debian test guest into lvm/fixtures/, with the exact argv
// the parsers are written against. Run: node --import tsx lvm/scripts/record-fixtures.ts  (~1-2 min)
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Guest } from '../../e2e/guest/guest.ts';
import { LSBLK_ARGS, LV_FIELDS, PV_FIELDS, VG_FIELDS } from '../src/fields.ts';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(here, '../fixtures');
const repo = resolve(here, '../..');
const rep = (cmd: string, fields: readonly string[], ...rest: string[]) =>
  [cmd, '--reportformat', 'json_std', '--units', 'b', '--nosuffix', '-o', fields.join(','), ...rest];

// An MBR with one Linux partition from sector 2048 to the end of a 256 MiB disk.
function mbr(): Buffer {
  const b = Buffer.alloc(512);
  const e = 0x1be;
  b[e + 4] = 0x83;
  b.writeUInt32LE(2048, e + 8);
  b.writeUInt32LE(256 * 2048 - 2048, e + 12);
  b[510] = 0x55; b[511] = 0xaa;
  return b;
}

const t0 = Date.now();
const vm = await Guest.boot({
  disks: [{ sizeMiB: 512 }, { sizeMiB: 512 }, { sizeMiB: 256 }, { sizeMiB: 128 }],
  shareDir: repo, timeoutMs: 240_000, log: (l) => console.log(l),
});
try {
  await mkdir(out, { recursive: true });
  const save = async (name: string, argv: string[]) => {
    const r = await vm.run(argv, { env: { LC_ALL: 'C', LVM_SUPPRESS_FD_WARNINGS: '1' } });
    const file = join(out, name);
    await writeFile(file, JSON.stringify({ argv, code: r.code, stdout: r.stdout, stderr: r.stderr }, null, 2) + '\n');
    console.log(`${name}: exit ${r.code} ${r.stderr.trim().slice(0, 200)}`);
    return r;
  };
  const [d0, d1, d2, d3] = vm.disks.map((d) => d.guestPath) as [string, string, string, string];
  console.log(await vm.sh(['lvm', 'version']));
  console.log(await vm.sh('lsblk --version; wipefs --version; which sfdisk smartctl blkdiscard || true'));
  const probe = await vm.run('cd /mnt/share && time node --import tsx lvm/scripts/guest-probe.ts', { timeoutMs: 120_000 });
  console.log('tsx probe:', probe.code, probe.stdout, probe.stderr);

  await save('pvs-empty.json', rep('pvs', PV_FIELDS));
  await vm.run(['dd', `of=${d2}`, 'bs=512', 'count=1', 'conv=notrunc', 'status=none'], { stdin: mbr(), check: true });
  await vm.sh(`blockdev --rereadpt ${d2}; udevadm settle; mkfs.ext4 -q -L data ${d2}-part1 && mkdir -p /mnt/data && mount ${d2}-part1 /mnt/data`);
  await vm.sh(`mkfs.xfs -q ${d3} 2>/dev/null || mkfs.ext4 -q ${d3}`);
  await vm.sh(['pvcreate', '-q', d0, d1]);
  await vm.sh(['vgcreate', '-q', 'vg0', d0, d1]);
  await vm.sh(['lvcreate', '-q', '-y', '-L', '64m', '-n', 'lin', 'vg0']);
  await vm.sh(['lvcreate', '-q', '-y', '--type', 'thin-pool', '-L', '128m', '-n', 'pool', 'vg0']);
  await vm.sh(['lvcreate', '-q', '-y', '-V', '1g', '--thinpool', 'pool', '-n', 'thin1', 'vg0']);
  await vm.sh(['dd', 'if=/dev/urandom', 'of=/dev/vg0/thin1', 'bs=1M', 'count=20', 'oflag=direct', 'status=none']);
  await vm.sh(['lvcreate', '-q', '-y', '-s', '-n', 'thin1_snap', 'vg0/thin1']);
  await vm.sh(['lvcreate', '-q', '-y', '-s', '-L', '32m', '-n', 'lin_snap', 'vg0/lin']);
  await vm.sh(['dd', 'if=/dev/urandom', 'of=/dev/vg0/lin', 'bs=1M', 'count=4', 'oflag=direct', 'status=none']);
  await vm.sh('mkfs.ext4 -q /dev/vg0/lin && mkdir -p /mnt/lin && mount /dev/vg0/lin /mnt/lin');

  await save('pvs.json', rep('pvs', PV_FIELDS));
  await save('vgs.json', rep('vgs', VG_FIELDS));
  await save('lvs.json', rep('lvs', LV_FIELDS));
  await save('lvs-vg0-pool.json', rep('lvs', LV_FIELDS, 'vg0/pool'));
  await save('lsblk.json', ['lsblk', ...LSBLK_ARGS]);
  await save('wipefs-part.json', ['wipefs', '--no-act', '--json', `${d2}-part1`]);
  await save('wipefs-disk-mbr.json', ['wipefs', '--no-act', '--json', d2]);
  await save('wipefs-pv.json', ['wipefs', '--no-act', '--json', d0]);
  await save('wipefs-disk-ext4.json', ['wipefs', '--no-act', '--json', '/dev/vde']);
  await save('findmnt.json', ['findmnt', '-J', '-o', 'SOURCE,TARGET,FSTYPE']);
  // Errors, for the fake binaries' messages.
  await save('err-lvs-novg.json', rep('lvs', LV_FIELDS, 'nosuchvg'));
  await save('err-vgs-novg.json', rep('vgs', VG_FIELDS, 'nosuchvg'));
  await save('err-lvcreate-nospace.json', ['lvcreate', '-y', '-L', '10g', '-n', 'big', 'vg0']);
  await save('err-lvcreate-exists.json', ['lvcreate', '-y', '-L', '8m', '-n', 'lin', 'vg0']);
  await save('err-lvremove-open.json', ['lvremove', '-y', 'vg0/lin']);
  await save('err-vgcreate-exists.json', ['vgcreate', 'vg0', d3]);
  await save('err-pvcreate-mounted.json', ['pvcreate', '-y', `${d2}-part1`]);
  await save('err-pvcreate-signature.json', ['pvcreate', d3]);
  await save('lvreduce-thin-nofs.json', ['lvreduce', '-L', '32m', 'vg0/thin1']);
  await save('err-vgremove-lvs.json', ['vgremove', 'vg0']);
  await save('lvconvert-merge-open.json', ['lvconvert', '--merge', 'vg0/lin_snap']);
  await save('lvs-merging.json', rep('lvs', LV_FIELDS, '-a', 'vg0'));
  await save('lvm-version.json', ['lvm', 'version']);
  console.log(await vm.sh('lvs -o help 2>&1 | grep -E "lv_merging|lv_when_full|lv_health|lv_device_open|lv_dm_path" || true'));
} finally {
  await vm.shutdown();
  console.log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
