// The storage routes in LVM mode against an in-memory lvm2 (support/fake-lvm.ts, driven through lvm/'s real
// StorageManager): auth per role, refusals that run no command and change nothing, LV-backed LUNs created,
// grown and removed with their LVs, thin pools with overcommit, LV snapshots, rollback and clone.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { FakeLvm } from './support/fake-lvm.ts';
import { as, createReader, newApp, setupAdmin, type Fixture, type Session } from './support/fixture.ts';
import { newLvmApp } from './support/lvm-app.ts';

const MiB = 2 ** 20;
let f: Fixture;
let app: FastifyInstance;
let admin: Session;
let reader: Session;
let lvm: FakeLvm;
const reconciles: Array<{ force?: boolean; offline: number[] }> = [];

before(async () => {
  lvm = new FakeLvm();
  f = await newLvmApp(lvm, (b) => ({ reconcile: async (o = {}) => void reconciles.push({ ...o, offline: [...b.offline] }), sessionsOn: async () => [] }));
  app = f.app;
  admin = await setupAdmin(app);
  reader = await createReader(app, admin);
});
after(async () => f.close());

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
async function call(method: Method, url: string, payload?: unknown, who: Session | null = admin) {
  const res = await app.inject({ method, url, headers: who ? as(who) : {}, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: res.statusCode, body: res.body ? (res.json() as any) : undefined };
}
const auditCount = async () => (await call('GET', '/api/audit?limit=1000')).body.length as number;

/** A refused request: the status, a message matching `re`, and not one changing lvm2 command run. */
async function refused(method: Method, url: string, payload: unknown, status: number, re: RegExp) {
  const before = lvm.changes().length;
  const luns = JSON.stringify((await call('GET', '/api/luns')).body);
  const r = await call(method, url, payload);
  assert.equal(r.status, status, `${method} ${url}: ${JSON.stringify(r.body)}`);
  assert.match(r.body.message, re);
  assert.deepEqual(lvm.changes().slice(before), [], `${method} ${url} ran a command`);
  assert.equal(JSON.stringify((await call('GET', '/api/luns')).body), luns);
  return r.body;
}

describe('storage API (LVM mode, fake lvm2)', () => {
  test('authorization: anonymous 401, read-only may read but not change, admin may', async () => {
    assert.equal((await call('GET', '/api/storage', undefined, null)).status, 401);
    assert.equal((await call('POST', '/api/storage/vgs', { name: 'vgx', devices: ['/dev/sdc'] }, null)).status, 401);
    assert.equal((await call('GET', '/api/storage/disks', undefined, reader)).status, 200);
    for (const [m, u, b] of [
      ['POST', '/api/storage/pvs', { device: '/dev/sdc' }], ['DELETE', '/api/storage/pvs/%2Fdev%2Fsdc', undefined],
      ['POST', '/api/storage/vgs', { name: 'vgx', devices: ['/dev/sdc'] }], ['PATCH', '/api/storage/vgs/vgx', { newName: 'y' }],
      ['DELETE', '/api/storage/vgs/vgx', undefined], ['POST', '/api/storage/pools', { vg: 'vgx', name: 'p', sizeBytes: MiB }],
      ['PATCH', '/api/storage/pools/vgx/p', { sizeBytes: MiB }], ['PATCH', '/api/storage', { softThresholdPercent: 50 }],
    ] as const) {
      const r = await call(m, u, b, reader);
      assert.equal(r.status, 403, `${m} ${u}`);
    }
    assert.deepEqual(lvm.changes(), []);
    const s = await call('GET', '/api/storage');
    assert.equal(s.status, 200);
    assert.equal(s.body.mode, 'lvm');
    assert.ok(s.body.filePool.sizeBytes > 0 && s.body.filePool.freeBytes > 0);
    assert.equal(s.body.softThresholdPercent, 80);
  });

  test('disks: the system disk is flagged and refused; a disk with signatures needs wipe: true', async () => {
    const disks = (await call('GET', '/api/storage/disks')).body as Array<{ path: string; system: boolean; available: boolean; signatures: string[] }>;
    const sda = disks.find((d) => d.path === '/dev/sda')!;
    assert.equal(sda.system, true);
    assert.equal(sda.available, false);
    assert.deepEqual(disks.find((d) => d.path === '/dev/sdb')!.signatures, ['ext4']);
    const audit = await auditCount();
    await refused('POST', '/api/storage/pvs', { device: '/dev/sda', wipe: true }, 409, /holds the system .* never used for storage/);
    await refused('POST', '/api/storage/pvs', { device: '/dev/sdb' }, 409, /existing signatures \(ext4\); confirm the wipe/);
    await refused('POST', '/api/storage/pvs', { device: '/dev/sdb;reboot', wipe: true }, 400, /device .*unexpected characters/);
    await refused('POST', '/api/storage/pvs', { device: '/dev/../etc/shadow' }, 400, /'\.' and '\.\.' segments/);
    assert.equal(await auditCount(), audit + 2, 'the two refusals lvm/ made are audited as failed attempts');
    const pv = await call('POST', '/api/storage/pvs', { device: '/dev/sdb', wipe: true });
    assert.equal(pv.status, 201, JSON.stringify(pv.body));
    assert.equal(pv.body.name, '/dev/sdb');
    assert.deepEqual(lvm.changes(), ['wipefs --all /dev/sdb', 'pvcreate /dev/sdb']);
    for (const d of ['/dev/sdc', '/dev/sdd']) assert.equal((await call('POST', '/api/storage/pvs', { device: d })).status, 201);
    assert.equal((await call('GET', '/api/storage/pvs')).body.length, 3);
    // URL-encoded device in the path
    assert.equal((await call('DELETE', '/api/storage/pvs/%2Fdev%2Fsdd')).status, 204);
    assert.equal((await call('DELETE', '/api/storage/pvs/%2Fdev%2Fsdd')).status, 404);
    assert.equal((await call('POST', '/api/storage/pvs', { device: '/dev/sdd' })).status, 201);
  });

  test('volume groups: validation names each bad field, create, extend, reduce, rename', async () => {
    const bad = await refused('POST', '/api/storage/vgs', { name: 'a;b', devices: ['/dev/sdc', '$(reboot)'] }, 400, /name is refused: invalid VG name "a;b"/);
    assert.deepEqual(bad.fields.map((x: { field: string }) => x.field), ['name', 'devices/1']);
    await refused('POST', '/api/storage/vgs', { name: '..', devices: ['/dev/sdc'] }, 400, /reserved/);
    await refused('POST', '/api/storage/vgs', { name: '-y', devices: ['/dev/sdc'] }, 400, /hyphen/);
    const vg = await call('POST', '/api/storage/vgs', { name: 'vg0', devices: ['/dev/sdc'] });
    assert.equal(vg.status, 201, JSON.stringify(vg.body));
    assert.equal(vg.body.pvCount, 1);
    assert.deepEqual(vg.body.luns, []);
    const dup = await call('POST', '/api/storage/vgs', { name: 'vg0', devices: ['/dev/sdd'] });
    assert.equal(dup.status, 409);
    const grown = await call('PATCH', '/api/storage/vgs/vg0', { addDevices: ['/dev/sdb', '/dev/sdd'] });
    assert.equal(grown.status, 200, JSON.stringify(grown.body));
    assert.equal(grown.body.pvCount, 3);
    assert.equal((await call('PATCH', '/api/storage/vgs/vg0', { removeDevices: ['/dev/sdb'] })).body.pvCount, 2);
    assert.equal((await call('PATCH', '/api/storage/vgs/vg0', { newName: 'vg1' })).body.name, 'vg1');
    assert.equal((await call('PATCH', '/api/storage/vgs/vg1', { newName: 'vg0' })).body.name, 'vg0');
    assert.equal((await call('PATCH', '/api/storage/vgs/vg0', {})).status, 400);
    assert.equal((await call('GET', '/api/storage/vgs')).body[0].name, 'vg0');
  });

  test('thin pool and thin LUN: overcommit shown, pool grows', async () => {
    const pool = await call('POST', '/api/storage/pools', { vg: 'vg0', name: 'pool0', sizeBytes: 256 * MiB });
    assert.equal(pool.status, 201, JSON.stringify(pool.body));
    assert.equal(pool.body.sizeBytes, 256 * MiB);
    const lun = await call('POST', '/api/luns', { name: 'thin1', backing: 'lv', vg: 'vg0', pool: 'pool0', sizeBytes: 1024 * MiB, blockSize: 512 });
    assert.equal(lun.status, 201, JSON.stringify(lun.body));
    assert.equal(lun.body.path, '/dev/vg0/thin1');
    const pools = (await call('GET', '/api/storage/pools?vg=vg0')).body;
    assert.equal(pools.length, 1);
    assert.deepEqual(pools[0].thinVolumes, ['thin1']);
    assert.equal(pools[0].overcommit, 4);
    assert.deepEqual(pools[0].thresholds, { data: 80, metadata: 80 });
    const g = await call('PATCH', '/api/storage/pools/vg0/pool0', { sizeBytes: 512 * MiB, metadataBytes: 8 * MiB });
    assert.equal(g.status, 200, JSON.stringify(g.body));
    assert.equal(g.body.overcommit, 2);
    assert.equal(g.body.metadataBytes, 8 * MiB);
    await refused('PATCH', '/api/storage/pools/vg0/pool0', { sizeBytes: 4 * MiB }, 409, /already 536870912 bytes/);
    const lvs = (await call('GET', '/api/storage/lvs?vg=vg0')).body;
    assert.equal(lvs.find((l: { name: string }) => l.name === 'thin1').lunId, lun.body.id);
    assert.deepEqual((await call('GET', '/api/storage/vgs')).body[0].luns, ['thin1']);
  });

  test('linear LV LUN: created with the LV, grown by lvextend (never shrunk), removed with its LV', async () => {
    await refused('POST', '/api/luns', { name: 'lin;rm', backing: 'lv', vg: 'vg0', sizeBytes: 8 * MiB, blockSize: 512 }, 400, /name/);
    await refused('POST', '/api/luns', { name: 'lin1', backing: 'lv', vg: '../etc', sizeBytes: 8 * MiB, blockSize: 512 }, 400, /vg is invalid/);
    await refused('POST', '/api/luns', { name: 'lin1', backing: 'file', vg: 'vg0', sizeBytes: 8 * MiB, blockSize: 512 }, 400, /vg is only for lv-backed/);
    await refused('POST', '/api/luns', { name: 'thin1', backing: 'lv', vg: 'vg0', sizeBytes: 8 * MiB, blockSize: 512 }, 409, /already exists/);
    const lun = await call('POST', '/api/luns', { name: 'lin1', backing: 'lv', vg: 'vg0', sizeBytes: 10 * MiB, blockSize: 4096 });
    assert.equal(lun.status, 201, JSON.stringify(lun.body));
    assert.equal(lun.body.sizeBytes, 12 * MiB, 'the LV rounded up to whole 4 MiB extents');
    const grown = await call('PATCH', `/api/luns/${lun.body.id}`, { sizeBytes: 20 * MiB });
    assert.equal(grown.status, 200, JSON.stringify(grown.body));
    assert.equal(grown.body.sizeBytes, 20 * MiB);
    assert.equal(grown.body.naaId, lun.body.naaId);
    assert.ok(lvm.changes().includes('lvextend -L 20971520b vg0/lin1'));
    await refused('PATCH', `/api/luns/${lun.body.id}`, { sizeBytes: 8 * MiB }, 400, /must not shrink/);
    const noSpace = await call('PATCH', `/api/luns/${lun.body.id}`, { sizeBytes: 64 * 1024 * MiB });
    assert.equal(noSpace.status, 409);
    assert.equal(noSpace.body.error, 'no-space');
    assert.match(noSpace.body.message, /lvextend .*insufficient free space/);
    assert.equal((await call('GET', `/api/luns/${lun.body.id}`)).body.sizeBytes, 20 * MiB);
    // deleteData removes the LV after the target let go of it
    reconciles.length = 0;
    assert.equal((await call('DELETE', `/api/luns/${lun.body.id}?deleteData=true`)).status, 204);
    assert.equal(reconciles.length, 1);
    assert.ok(lvm.changes().at(-1) === 'lvremove --yes vg0/lin1');
    assert.equal((await call('GET', '/api/storage/lvs')).body.some((l: { name: string }) => l.name === 'lin1'), false);
  });

  test('a LUN row that cannot be written takes its new LV away again', async () => {
    const adopted = await call('POST', '/api/luns', { name: 'adopted', backing: 'lv', lvPath: '/dev/vg0/taken', sizeBytes: 4096, blockSize: 512 });
    assert.equal(adopted.status, 201);
    await refused('POST', '/api/luns', { name: 'taken', backing: 'lv', vg: 'vg0', sizeBytes: 8 * MiB, blockSize: 512 }, 409, /\/dev\/vg0\/taken already backs a LUN/);
    assert.equal((await call('DELETE', `/api/luns/${adopted.body.id}`)).status, 204);
    // the row fails after lvcreate (fault injected into the store): the LV goes again
    const store = app.openlun.store;
    const createLun = store.createLun;
    store.createLun = () => { throw new Error('injected: database is full'); };
    const before = lvm.changes().length;
    try {
      const r = await call('POST', '/api/luns', { name: 'taken', backing: 'lv', vg: 'vg0', sizeBytes: 8 * MiB, blockSize: 512 });
      assert.equal(r.status, 500, JSON.stringify(r.body));
    } finally {
      store.createLun = createLun;
    }
    assert.deepEqual(lvm.changes().slice(before), ['lvcreate --yes --wipesignatures y -L 8388608b -n taken vg0', 'lvremove --yes vg0/taken']);
    assert.equal((await call('GET', '/api/luns')).body.some((l: { name: string }) => l.name === 'taken'), false);
    assert.equal((await call('GET', '/api/storage/lvs')).body.some((l: { name: string }) => l.name === 'taken'), false);
  });

  test('lvm2\'s own message in a 4xx when lvm2 says no', async () => {
    lvm.failNext.set('lvcreate', 'Volume group "vg0" has insufficient free space (3 extents): 999 required.');
    const r = await call('POST', '/api/luns', { name: 'big', backing: 'lv', vg: 'vg0', sizeBytes: 4000 * MiB, blockSize: 512 });
    assert.equal(r.status, 409);
    assert.equal(r.body.error, 'no-space');
    assert.match(r.body.message, /lvcreate .*insufficient free space \(3 extents\)/);
    lvm.failNext.set('lvcreate', 'Something odd happened.');
    const odd = await call('POST', '/api/luns', { name: 'big', backing: 'lv', vg: 'vg0', sizeBytes: 8 * MiB, blockSize: 512 });
    assert.equal(odd.status, 422);
    assert.match(odd.body.message, /Something odd happened/);
    assert.equal((await call('GET', '/api/luns')).body.some((l: { name: string }) => l.name === 'big'), false);
  });

  test('LV snapshots: thin and thick, rollback by merge with the LUN offline, clone, delete', async () => {
    const thin = (await call('GET', '/api/luns')).body.find((l: { name: string }) => l.name === 'thin1');
    await refused('POST', `/api/luns/${thin.id}/snapshots`, { name: '../../etc' }, 400, /invalid snapshot name "..\/..\/etc": may not begin/);
    await refused('POST', `/api/luns/${thin.id}/snapshots`, { name: '`reboot`' }, 400, /invalid snapshot name "`reboot`": only letters, digits and \+ _ \. - are allowed/);
    await refused('POST', `/api/luns/${thin.id}/snapshots`, { name: 'x_tdata' }, 400, /reserved by lvm2/);
    const s0 = await call('POST', `/api/luns/${thin.id}/snapshots`, { name: 'snapshot-1' });
    assert.equal(s0.status, 201, JSON.stringify(s0.body));
    assert.equal((await call('DELETE', `/api/luns/${thin.id}/snapshots/snapshot-1`)).status, 204);
    const s1 = await call('POST', `/api/luns/${thin.id}/snapshots`, { name: 'before-upgrade' });
    assert.equal(s1.status, 201, JSON.stringify(s1.body));
    assert.equal(s1.body.kind, 'thin');
    assert.equal(s1.body.name, 'before-upgrade');
    assert.ok(lvm.changes().includes('lvcreate --yes --snapshot -n thin1.before-upgrade vg0/thin1'));
    assert.equal((await call('POST', `/api/luns/${thin.id}/snapshots`, { name: 'before-upgrade' })).status, 409);

    const lin = (await call('POST', '/api/luns', { name: 'lin2', backing: 'lv', vg: 'vg0', sizeBytes: 16 * MiB, blockSize: 512 })).body;
    await refused('POST', `/api/luns/${lin.id}/snapshots`, { name: 's' }, 409, /not a thin volume: a snapshot of it needs a COW size/);
    const thick = await call('POST', `/api/luns/${lin.id}/snapshots`, { name: 's', sizeBytes: 8 * MiB });
    assert.equal(thick.status, 201, JSON.stringify(thick.body));
    assert.equal(thick.body.kind, 'thick');
    assert.equal(thick.body.cowBytes, 8 * MiB);
    assert.equal(thick.body.sizeBytes, 16 * MiB);
    assert.deepEqual((await call('GET', `/api/luns/${lin.id}/snapshots`)).body.map((s: { name: string }) => s.name), ['s']);
    await refused('DELETE', `/api/luns/${lin.id}?deleteData=true`, undefined, 409, /has snapshots \(lin2\.s\)/);

    reconciles.length = 0;
    const rb = await call('POST', `/api/luns/${thin.id}/snapshots/before-upgrade/rollback`);
    assert.equal(rb.status, 200, JSON.stringify(rb.body));
    assert.equal(rb.body.consumed, true);
    assert.equal(rb.body.lun.naaId, thin.naaId);
    assert.equal(rb.body.lun.serial, thin.serial);
    assert.deepEqual(reconciles, [{ offline: [thin.id] }, { offline: [] }], 'offline in targetd during the merge, back after');
    const merge = lvm.changes().slice(-3);
    assert.deepEqual(merge, ['lvchange -an vg0/thin1', 'lvconvert --merge vg0/thin1.before-upgrade', 'lvchange -ay -K vg0/thin1']);
    assert.deepEqual((await call('GET', `/api/luns/${thin.id}/snapshots`)).body, []);
    assert.equal((await call('POST', `/api/luns/${thin.id}/snapshots/nope/rollback`)).status, 404);

    await call('POST', `/api/luns/${thin.id}/snapshots`, { name: 'golden' });
    const clone = await call('POST', `/api/luns/${thin.id}/snapshots/golden/clone`, { name: 'thin-clone' });
    assert.equal(clone.status, 201, JSON.stringify(clone.body));
    assert.equal(clone.body.path, '/dev/vg0/thin-clone');
    assert.notEqual(clone.body.naaId, thin.naaId);
    assert.notEqual(clone.body.serial, thin.serial);
    assert.equal((await call('DELETE', `/api/luns/${thin.id}/snapshots/golden`)).status, 204);
    assert.equal((await call('DELETE', `/api/luns/${lin.id}/snapshots/s`)).status, 204);
    assert.equal((await call('DELETE', `/api/luns/${lin.id}?deleteData=true`)).status, 204);
  });

  test('pool monitor: thin LUNs get their pool\'s use (data or metadata, the higher); crossings alert once', async () => {
    const { PoolMonitor } = await import('../src/storage/pool-monitor.ts');
    const sent: unknown[] = [];
    const monitor = new PoolMonitor(app.openlun.storage, async (e) => void sent.push(e), {
      statfs: async (path) => ({ path, sizeBytes: 100 * MiB, freeBytes: 90 * MiB, usedBytes: 10 * MiB }),
    });
    const alerts: string[] = [];
    monitor.on('alert', (a) => alerts.push(a.message));
    const pool = lvm.lvs.find((l) => l.name === 'pool0')!;
    pool.dataPercent = 42.5;
    pool.metadataPercent = 12;
    const thinPaths = (await call('GET', '/api/luns')).body.filter((l: { path: string }) => l.path.startsWith('/dev/vg0/thin')).map((l: { path: string }) => l.path).sort((a: string, b: string) => a.localeCompare(b));
    await monitor.poll();
    const sorted = (x: unknown) => [...(x as Array<{ path: string }>)].sort((a, b) => a.path.localeCompare(b.path));
    assert.deepEqual(sorted(sent.at(-1)), thinPaths.map((path: string) => ({ path, usedFraction: 0.425 })));
    pool.metadataPercent = 91;
    await monitor.poll();
    assert.deepEqual(sorted(sent.at(-1)), thinPaths.map((path: string) => ({ path, usedFraction: 0.91 })));
    assert.deepEqual(alerts, ['thin pool vg0/pool0 metadata is 91 % full, at or above its 80 % threshold']);
    await monitor.poll();
    assert.equal(alerts.length, 1, 'once per crossing');
    pool.metadataPercent = 12;
    await monitor.poll();
    assert.match(alerts[1]!, /back below/);
    pool.dataPercent = 0;
  });

  test('volume group removal is refused while it holds LUNs, rename too', async () => {
    await refused('DELETE', '/api/storage/vgs/vg0', undefined, 409, /holds LUNs \(thin1, thin-clone\)/);
    await refused('PATCH', '/api/storage/vgs/vg0', { newName: 'vg9' }, 409, /cannot be renamed under them/);
    const audit = (await call('GET', '/api/audit?limit=200')).body.map((a: { action: string }) => a.action);
    for (const a of ['storage.pv.create', 'storage.vg.create', 'storage.vg.extend', 'storage.vg.reduce', 'storage.vg.rename', 'storage.pool.create', 'storage.lv.create', 'storage.lv.extend', 'storage.lv.remove', 'snapshot.create', 'snapshot.rollback', 'snapshot.clone', 'snapshot.delete']) {
      assert.ok(audit.includes(a), `audit has ${a}`);
    }
  });
});

describe('storage API (file mode)', () => {
  test('LVM lists are empty, LVM changes answer 409 with the reason, the file pool is described', async () => {
    const g = await newApp();
    try {
      const a = await setupAdmin(g.app);
      const get = async (url: string) => (await g.app.inject({ method: 'GET', url, headers: as(a) })).json();
      const s = await get('/api/storage');
      assert.equal(s.mode, 'file');
      assert.equal(s.filePool.path, `${g.dir}/pool`);
      assert.deepEqual(s.vgs, []);
      for (const u of ['/api/storage/disks', '/api/storage/vgs', '/api/storage/lvs', '/api/storage/pools', '/api/storage/pvs']) assert.deepEqual(await get(u), [], u);
      const r = await g.app.inject({ method: 'POST', url: '/api/storage/vgs', headers: as(a), payload: { name: 'vg0', devices: ['/dev/sdc'] } });
      assert.equal(r.statusCode, 409);
      assert.match(r.json().message, /file mode .*--storage lvm/);
      const lv = await g.app.inject({ method: 'POST', url: '/api/luns', headers: as(a), payload: { name: 'x', backing: 'lv', vg: 'vg0', sizeBytes: MiB, blockSize: 512 } });
      assert.equal(lv.statusCode, 409);
      const t = await g.app.inject({ method: 'PATCH', url: '/api/storage', headers: as(a), payload: { softThresholdPercent: 0 } });
      assert.equal(t.statusCode, 400);
      const ok = await g.app.inject({ method: 'PATCH', url: '/api/storage', headers: as(a), payload: { softThresholdPercent: 65 } });
      assert.equal(ok.json().softThresholdPercent, 65);
    } finally {
      await g.close();
    }
  });
});
