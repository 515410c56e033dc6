// StorageManager with fake tools: refusals happen before anything runs (the fakes log every call), the queue
// serializes changes, operations are time-bounded and cancellable, and pool thresholds raise events.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import { RefusedError, StorageError } from '../src/errors.ts';
import { StorageManager } from '../src/index.ts';
import type { ThresholdEvent } from '../src/index.ts';
import { FakeBin, fixture } from './helpers/fake-bin.ts';

const refusedWith = (code: string, re: RegExp) => (e: unknown) => {
  assert.ok(e instanceof RefusedError, `not refused: ${String(e)}`);
  assert.equal(e.code, code, e.message);
  assert.match(e.message, re);
  return true;
};

/** lsblk answering like the guest: `--nodeps NAME,KNAME,…` for one device, the full recorded tree otherwise. */
function fakeLsblk(fake: FakeBin): void {
  const full = join(fake.dir, 'lsblk-full.json');
  writeFileSync(full, fixture('lsblk.json').stdout);
  fake.add('lsblk', { body: `
for a in "$@"; do dev="$a"; done
case "$*" in
  *--nodeps*) k=$(/usr/bin/basename "$dev"); case "$dev" in /dev/disk/by-id/virtio-openlun-disk3) k=vde;; esac
    echo "{\\"blockdevices\\":[{\\"name\\":\\"$k\\",\\"kname\\":\\"$k\\",\\"path\\":\\"/dev/$k\\",\\"type\\":\\"disk\\"}]}";;
  *) /bin/cat '${full}';;
esac
` });
}

describe('StorageManager (fake tools)', () => {
  let fake: FakeBin;
  let mgr: StorageManager;
  let mapped: Record<string, string> = {};
  beforeEach(() => {
    fake?.cleanup();
    fake = new FakeBin();
    fake.lvmVersion();
    fake.add('lvs', { stdout: fixture('lvs.json').stdout });
    fake.add('vgs', { stdout: fixture('vgs.json').stdout });
    fake.add('pvs', { stdout: fixture('pvs.json').stdout });
    for (const t of ['lvcreate', 'lvremove', 'lvreduce', 'lvextend', 'lvrename', 'vgcreate', 'vgremove', 'pvcreate', 'pvremove', 'lvconvert', 'lvchange']) fake.add(t);
    fakeLsblk(fake);
    mapped = {};
    mgr = new StorageManager({ path: fake.path, inUse: (vg, lv) => mapped[`${vg}/${lv}`] ?? null });
  });
  after(() => fake.cleanup());

  const changed = () => fake.calls().filter((c) => !/^(lvs|vgs|pvs|lvm|lsblk|wipefs) /.test(c));

  it('refuses bad names before any process runs', async () => {
    const attempts: [() => Promise<unknown>, RegExp][] = [
      [() => mgr.createVg('a;b', ['/dev/vdb']), /invalid VG name "a;b"/],
      [() => mgr.createVg('vg1', ['/dev/../etc/shadow']), /invalid device path/],
      [() => mgr.createLinear('vg0', '../x', 2 ** 20), /invalid LV name "..\/x"/],
      [() => mgr.createLinear('$(x)', 'lv', 2 ** 20), /invalid VG name "\$\(x\)"/],
      [() => mgr.createThin('vg0', 'pool', ' ', 2 ** 30), /invalid LV name " "/],
      [() => mgr.createSnapshot('vg0', 'lin', '`reboot`'), /invalid LV name/],
      [() => mgr.removeLv('vg0', '-y'), /hyphen/],
      [() => mgr.renameVg('vg0', '..'), /reserved/],
      [() => mgr.createPv('/dev/sda;reboot'), /invalid device path/],
      [() => mgr.createLinear('vg0', 'lun', -5), /positive whole number/],
    ];
    for (const [fn, re] of attempts) await assert.rejects(fn(), (e: unknown) => e instanceof RefusedError && re.test(e.message));
    assert.deepEqual(fake.calls(), [], 'a process ran');
  });

  it('never uses the system disk', async () => {
    fake.add('wipefs', { stdout: fixture('wipefs-disk-ext4.json').stdout });
    await assert.rejects(mgr.createPv('/dev/vda', { confirmWipe: true }), refusedWith('refused', /holds the system .*mounted at \/.*never used/));
    assert.deepEqual(changed(), []);
    assert.ok(!fake.calls().some((c) => c.startsWith('wipefs --all')));
  });

  it('refuses to wipe a disk with signatures without confirmation, and wipes it with one', async () => {
    fake.add('wipefs', { body: `case "$*" in *--no-act*) /bin/cat '${join(fake.dir, 'w.json')}';; esac\n` });
    writeFileSync(join(fake.dir, 'w.json'), fixture('wipefs-disk-ext4.json').stdout);
    await assert.rejects(mgr.createPv('/dev/disk/by-id/virtio-openlun-disk3'), refusedWith('refused', /existing signatures \(ext4\); confirm the wipe/));
    assert.deepEqual(changed(), []);
    assert.ok(!fake.calls().some((c) => c.startsWith('wipefs --all')));
    await mgr.createPv('/dev/disk/by-id/virtio-openlun-disk3', { confirmWipe: true }).catch(() => {});
    const calls = fake.calls();
    const wipe = calls.indexOf('wipefs --all /dev/disk/by-id/virtio-openlun-disk3');
    assert.ok(wipe >= 0 && calls.indexOf('pvcreate /dev/disk/by-id/virtio-openlun-disk3') > wipe, calls.join('\n'));
  });

  it('refuses a disk in use (mounted partition, existing PV)', async () => {
    fake.add('wipefs', { stdout: fixture('wipefs-disk-mbr.json').stdout });
    await assert.rejects(mgr.createPv('/dev/vdd', { confirmWipe: true }), refusedWith('in-use', /mounted at \/mnt\/data/));
    await assert.rejects(mgr.createPv('/dev/vdb', { confirmWipe: true }), refusedWith('in-use', /LVM physical volume/));
    assert.deepEqual(changed(), []);
  });

  it('refuses to delete a mapped LV, an open LV, an origin with snapshots; removes a free one', async () => {
    mapped['vg0/thin1_snap'] = 'mapped as LUN 3 of iqn.2026-11.org.openlun:t1';
    await assert.rejects(mgr.removeLv('vg0', 'thin1_snap'), refusedWith('in-use', /refusing to remove vg0\/thin1_snap: mapped as LUN 3 of iqn/));
    await assert.rejects(mgr.removeLv('vg0', 'lin'), refusedWith('in-use', /device is open; it has snapshots \(lin_snap\)/));
    await assert.rejects(mgr.removeLv('vg0', 'pool'), refusedWith('in-use', /pool holds thin volumes \(thin1, thin1_snap\)/));
    await assert.rejects(mgr.renameLv('vg0', 'thin1_snap', 'x'), refusedWith('in-use', /mapped as LUN 3/));
    assert.deepEqual(changed(), []);
    delete mapped['vg0/thin1_snap'];
    await mgr.removeLv('vg0', 'thin1_snap');
    assert.deepEqual(changed(), ['lvremove --yes vg0/thin1_snap']);
  });

  it('refuses to remove a VG that holds LVs; refuses a shrink without force or below the floor', async () => {
    await assert.rejects(mgr.removeVg('vg0'), refusedWith('in-use', /still holds 5 logical volume/));
    await assert.rejects(mgr.shrinkLv('vg0', 'thin1', 2 ** 20, { force: false }), refusedWith('refused', /pass force/));
    await assert.rejects(mgr.shrinkLv('vg0', 'thin1', 2 ** 20, { force: true, minBytes: 2 ** 25 }), refusedWith('refused', /holds data up to/));
    await assert.rejects(mgr.extendLv('vg0', 'thin1', 2 ** 20), refusedWith('refused', /needs a larger size/));
    await assert.rejects(mgr.getLv('vg0', 'nope'), (e: unknown) => e instanceof StorageError && e.code === 'not-found');
    assert.deepEqual(changed(), []);
    await mgr.shrinkLv('vg0', 'thin1', 2 ** 29, { force: true, minBytes: 2 ** 28 });
    assert.deepEqual(changed(), [`lvreduce --yes -L ${2 ** 29}b vg0/thin1`]);
  });

  it('runs changes one at a time, in order', async () => {
    const q = join(fake.dir, 'q.log');
    fake.add('lvcreate', { before: `echo "start $*" >> '${q}'; /bin/sleep 0.3; echo end >> '${q}'` });
    await Promise.all([mgr.createLinear('vg0', 'lin', 2 ** 26), mgr.createThin('vg0', 'pool', 'thin1', 2 ** 30), mgr.createLinear('vg0', 'lin', 2 ** 26)]);
    const lines = readFileSync(q, 'utf8').trim().split('\n').map((l) => l.split(' ')[0]);
    assert.deepEqual(lines, ['start', 'end', 'start', 'end', 'start', 'end']);
    assert.match(readFileSync(q, 'utf8').split('\n')[2]!, /--type thin -V 1073741824b --thinpool vg0\/pool -n thin1/);
  });

  it('cancels a queued operation at once, without running it; bounds an operation in time', async () => {
    fake.add('lvcreate', { before: '/bin/sleep 1' });
    const first = mgr.createLinear('vg0', 'lin', 2 ** 26);
    const ac = new AbortController();
    const second = mgr.createLinear('vg0', 'lin', 2 ** 26, { signal: ac.signal });
    const t0 = Date.now();
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(second, (e: unknown) => e instanceof StorageError && e.code === 'aborted');
    assert.ok(Date.now() - t0 < 800, 'cancel waited for the queue');
    await first;
    assert.equal(fake.calls().filter((c) => c.startsWith('lvcreate')).length, 1);

    fake.add('lvextend', { before: '/bin/sleep 30' });
    const t1 = Date.now();
    await assert.rejects(mgr.extendLv('vg0', 'thin1', 2 ** 31, { timeoutMs: 300 }),
      (e: unknown) => e instanceof StorageError && e.code === 'timeout' && /did not finish within 300 ms/.test(e.message));
    assert.ok(Date.now() - t1 < 5_000);
    assert.equal(mgr.pending, 0);
  });

  it('emits pool threshold crossings once each way', async () => {
    const m = new StorageManager({ path: fake.path, thresholds: { data: 15, metadata: 11 } });
    const events: ThresholdEvent[] = [];
    m.on('pool-threshold', (e) => events.push(e));
    const { usage } = await m.checkPools();
    assert.deepEqual(usage.map((u) => [u.pool, u.dataPercent, u.metadataPercent, u.overcommit]), [['pool', 15.62, 11.13, 16]]);
    assert.deepEqual(events.map((e) => [e.metric, e.state, e.percent]), [['data', 'crossed', 15.62], ['metadata', 'crossed', 11.13]]);
    await m.checkPools();
    assert.equal(events.length, 2);
    fake.add('lvs', { stdout: fixture('lvs.json').stdout.replace('"data_percent":15.62', '"data_percent":3.00') });
    await m.checkPools();
    assert.deepEqual(events.slice(2).map((e) => [e.metric, e.state]), [['data', 'cleared']]);
  });

  it('runs a snapshot schedule: names by UTC time, prunes beyond the retention count, never a mapped one', async () => {
    const doc = JSON.parse(fixture('lvs.json').stdout) as { report: { lv: Record<string, unknown>[] }[] };
    const rows = doc.report[0]!.lv;
    const snapRow = rows.find((r) => r.lv_name === 'thin1_snap')!;
    for (const day of ['26T000000Z', '27T000000Z', '28T010000Z']) rows.push({ ...snapRow, lv_name: `thin1_auto_202611${day}` });
    fake.add('lvs', { stdout: JSON.stringify(doc) });
    mapped['vg0/thin1_auto_20261126T000000Z'] = 'mapped as LUN 7';
    const now = new Date('2026-11-28T01:00:00.123Z');
    const r = await mgr.scheduledSnapshot('vg0', 'thin1', { retain: 1, now });
    assert.equal(r.created.name, 'thin1_auto_20261128T010000Z');
    assert.deepEqual(r.pruned, ['thin1_auto_20261127T000000Z']);
    assert.deepEqual(r.keptInUse, [{ name: 'thin1_auto_20261126T000000Z', reason: 'mapped as LUN 7' }]);
    assert.deepEqual(changed(), ['lvcreate --yes --snapshot -n thin1_auto_20261128T010000Z vg0/thin1', 'lvremove --yes vg0/thin1_auto_20261127T000000Z']);
    await assert.rejects(mgr.scheduledSnapshot('vg0', 'thin1', { retain: 0 }), /at least 1/);
  });
});
