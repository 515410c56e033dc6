import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiClient } from '../src/api.ts';
import { StorageApi, type Disk, type StorageOverview, type ThinPool, type VolumeGroup } from '../src/api-storage.ts';
import {
  defaultSnapshotName,
  diskOffer,
  extendProblem,
  extendSuggestion,
  filePoolUsage,
  freePvDevices,
  locationOptions,
  scheduleFormBody,
  scheduleLabel,
  snapshotNameProblem,
  usageLevel,
  vgNameProblem,
} from '../src/storage-model.ts';

const GiB = 2 ** 30;

// canned LVM data in the API's shapes (api/src/routes/storage.ts)
const vg0: VolumeGroup = { name: 'vg0', uuid: 'u', size: 100 * GiB, free: 40 * GiB, extentSize: 4 * 2 ** 20, pvCount: 2, lvCount: 3, snapCount: 0, missingPvCount: 0, partial: false, luns: ['db'] };
const thin0: ThinPool = {
  vg: 'vg0', name: 'thin0', sizeBytes: 50 * GiB, metadataBytes: 128 * 2 ** 20, dataPercent: 84.5, metadataPercent: 12, usedBytes: 42.25 * GiB,
  thinVolumes: ['a', 'b'], virtualBytes: 80 * GiB, overcommit: 1.6, thresholds: { data: 80, metadata: 80 },
};
const filePool = { path: '/var/lib/openlun/pool', sizeBytes: 100 * GiB, freeBytes: 75 * GiB, usedBytes: 25 * GiB };
const lvmOverview: StorageOverview = { mode: 'lvm', filePool, vgs: [vg0], softThresholdPercent: 80 };

function disk(over: Partial<Disk>): Disk {
  return {
    name: 'sdb', path: '/dev/sdb', size: 500 * GiB, model: 'QEMU HARDDISK', serial: 'QM0001', vendor: null, transport: 'sata', rotational: true,
    removable: false, readOnly: false, partitionTable: null, partitions: [], signatures: [], mounted: [], isPv: false, holders: [],
    system: false, inUse: [], available: true, smart: null, ...over,
  };
}

test('where a LUN may live: the file pool in file mode; thin pools then VGs in LVM mode', () => {
  assert.deepEqual(locationOptions({ ...lvmOverview, mode: 'file', vgs: [] }, [], []), [{ key: 'file', label: 'File pool /var/lib/openlun/pool (75 GiB free)' }]);
  assert.deepEqual(locationOptions(undefined, [], []).map((o) => o.key), ['file']);
  const lvm = locationOptions(lvmOverview, [vg0], [thin0]);
  assert.deepEqual(lvm.map((o) => o.key), ['pool:vg0/thin0', 'vg:vg0']);
  assert.match(lvm[0]!.label, /Thin pool vg0\/thin0 \(thin; 7\.8 GiB of 50 GiB free\)/);
  assert.match(lvm[1]!.label, /40 GiB free/);
});

test('extend: only grows; sizes in binary units', () => {
  assert.deepEqual(extendProblem(2 * GiB, '3', 'GiB'), { bytes: 3 * GiB });
  assert.deepEqual(extendProblem(2 * GiB, '2', 'GiB'), { error: 'must be larger than the current 2 GiB (a LUN only grows)' });
  assert.deepEqual(extendProblem(2 * GiB, '1024', 'MiB'), { error: 'must be larger than the current 2 GiB (a LUN only grows)' });
  assert.deepEqual(extendProblem(2 * GiB, 'abc', 'GiB'), { error: 'must be a positive number' });
});

test('snapshot names: LVM-safe, no traversal, auto- reserved for schedules; default from the UTC clock', () => {
  assert.equal(snapshotNameProblem('before-upgrade'), undefined);
  assert.equal(snapshotNameProblem(''), 'is required');
  assert.match(snapshotNameProblem('../x') ?? '', /^must be/);
  assert.match(snapshotNameProblem('a b') ?? '', /^must be/);
  assert.match(snapshotNameProblem('auto-1-20260101T000000Z') ?? '', /reserved/);
  assert.equal(defaultSnapshotName(new Date(Date.UTC(2026, 10, 28, 4, 5))), 'snap-20261128-0405');
});

test('schedules: presets or N >= 5 minutes, keep 1-100; labels as people say them', () => {
  assert.deepEqual(scheduleFormBody({ every: 'daily', keep: '7' }), { body: { every: 'daily', keep: 7 }, errors: {} });
  assert.deepEqual(scheduleFormBody({ every: 'minutes', minutes: '15', keep: '4' }).body, { every: 15, keep: 4 });
  assert.deepEqual(scheduleFormBody({ every: 'minutes', minutes: '4', keep: '0' }).errors, {
    everyMinutes: 'must be a whole number of minutes, at least 5',
    keep: 'must be 1-100 snapshots',
  });
  assert.equal(scheduleFormBody({ every: 'yearly', keep: '1' }).errors['every'], 'choose how often');
  assert.deepEqual([60, 1440, 10080, 15, 120, 2880].map((m) => scheduleLabel({ everyMinutes: m })), ['hourly', 'daily', 'weekly', 'every 15 minutes', 'every 2 hours', 'every 2 days']);
});

test('usage: warn from the threshold, full from 95 %; file pool use from size and free', () => {
  assert.equal(usageLevel(79.9, 80), 'ok');
  assert.equal(usageLevel(80, 80), 'warn');
  assert.equal(usageLevel(95, 80), 'full');
  assert.deepEqual(filePoolUsage(filePool), { usedBytes: 25 * GiB, percent: 25 });
  assert.deepEqual(filePoolUsage({ ...filePool, sizeBytes: 0, freeBytes: 0 }), { usedBytes: 0, percent: 0 });
});

test('disks: the system disk and PVs are never offered; a disk with signatures needs the wipe confirmation', () => {
  assert.deepEqual(diskOffer(disk({})), { selectable: true, reason: '', needsWipe: false });
  assert.deepEqual(diskOffer(disk({ signatures: ['gpt', 'ext4'] })), { selectable: true, reason: '', needsWipe: true });
  assert.deepEqual(diskOffer(disk({ system: true, available: false, inUse: ['mounted at /'] })), { selectable: false, reason: 'holds the running system', needsWipe: false });
  assert.equal(diskOffer(disk({ isPv: true, available: false })).selectable, false);
  assert.deepEqual(diskOffer(disk({ available: false, inUse: ['mounted at /srv'] })), { selectable: false, reason: 'mounted at /srv', needsWipe: false });
  assert.deepEqual(freePvDevices([{ name: '/dev/sdb', vg: 'vg0' }, { name: '/dev/sdc', vg: null }]), ['/dev/sdc']);
});

test('VG names: lvm(8) rules, reserved names', () => {
  assert.equal(vgNameProblem('vg0'), undefined);
  assert.equal(vgNameProblem(''), 'is required');
  assert.match(vgNameProblem('-vg') ?? '', /not start with "-"/);
  assert.match(vgNameProblem('vg;rm') ?? '', /^must be/);
  assert.equal(vgNameProblem('snapshot'), 'is reserved by LVM');
});

test('data layer: storage calls use the contract paths, URL-encode names, send CSRF and exact bodies', async () => {
  const seen: Array<{ method: string; url: string; body: unknown; csrf: string | undefined }> = [];
  const fetchStub = async (url: string, init?: RequestInit) => {
    const h = init?.headers as Record<string, string>;
    seen.push({ method: init?.method ?? 'GET', url, body: init?.body ? JSON.parse(String(init.body)) : undefined, csrf: h['x-csrf-token'] });
    return new Response(init?.method === 'DELETE' ? null : '{}', { status: init?.method === 'DELETE' ? 204 : 200, headers: { 'content-type': 'application/json' } });
  };
  const s = new StorageApi(new ApiClient({ fetch: fetchStub, cookies: () => 'openlun_csrf=tok' }));
  await s.createPv('/dev/sdb', true);
  await s.createPv('/dev/sdc', false);
  await s.removePv('/dev/sdb');
  await s.updateVg('vg0', { addDevices: ['/dev/sdc'] });
  await s.extendPool('vg0', 'thin0', { sizeBytes: GiB });
  await s.extendLun(3, 4 * GiB);
  await s.takeSnapshot(3, 'before');
  await s.rollback(3, 'before', true);
  await s.clone(3, 'a b', 'copy');
  await s.createSchedule(3, 'daily', 7);
  await s.createSchedule(3, 15, 4);
  await s.lvs('vg0');
  assert.deepEqual(seen.map((x) => `${x.method} ${x.url}`), [
    'POST /api/storage/pvs',
    'POST /api/storage/pvs',
    'DELETE /api/storage/pvs/%2Fdev%2Fsdb',
    'PATCH /api/storage/vgs/vg0',
    'PATCH /api/storage/pools/vg0/thin0',
    'PATCH /api/luns/3',
    'POST /api/luns/3/snapshots',
    'POST /api/luns/3/snapshots/before/rollback?force=true',
    'POST /api/luns/3/snapshots/a%20b/clone',
    'POST /api/snapshot-schedules',
    'POST /api/snapshot-schedules',
    'GET /api/storage/lvs?vg=vg0',
  ]);
  assert.deepEqual(seen.map((x) => x.body), [
    { device: '/dev/sdb', wipe: true },
    { device: '/dev/sdc' },
    undefined,
    { addDevices: ['/dev/sdc'] },
    { sizeBytes: GiB },
    { sizeBytes: 4 * GiB },
    { name: 'before' },
    undefined,
    { name: 'copy' },
    { lunId: 3, preset: 'daily', keep: 7 },
    { lunId: 3, everyMinutes: 15, keep: 4 },
    undefined,
  ]);
  assert.ok(seen.filter((x) => x.method !== 'GET').every((x) => x.csrf === 'tok'));
});

test('the extend form suggests a larger size in a fitting unit, one the form accepts', () => {
  const MiB = 2 ** 20;
  assert.deepEqual(extendSuggestion(96 * MiB), { amount: 128, unit: 'MiB' });
  assert.deepEqual(extendSuggestion(64 * MiB), { amount: 128, unit: 'MiB' });
  assert.deepEqual(extendSuggestion(10 * GiB), { amount: 16, unit: 'GiB' });
  assert.deepEqual(extendSuggestion(1536 * MiB), { amount: 2, unit: 'GiB' });
  assert.deepEqual(extendSuggestion(3 * 2 ** 40), { amount: 4, unit: 'TiB' });
  for (const size of [MiB, 96 * MiB, 1023 * MiB, GiB, 7.5 * GiB, 2 ** 40]) {
    const s = extendSuggestion(size);
    assert.ok('bytes' in extendProblem(size, String(s.amount), s.unit), `${size}: ${s.amount} ${s.unit}`);
  }
});
