import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { ConfigDocument } from '../src/config/document.ts';
import { ADMIN_PASSWORD, as, createReader, newApp, setupAdmin, type Fixture, type Session } from './support/fixture.ts';

let f: Fixture;
let app: FastifyInstance;
let admin: Session;
const CHAP_SECRET = 'Target-Secret-01';

async function call(method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown, s: Session = admin) {
  const res = await app.inject({ method, url, headers: as(s), ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: res.statusCode, body: res.json() as any, raw: res.body };
}

before(async () => {
  f = await newApp();
  app = f.app;
  admin = await setupAdmin(app);
  const t = (await call('POST', '/api/targets', { iqn: 'iqn.2026-11.org.example:vm', alias: 'vms' })).body;
  const lun = (await call('POST', '/api/luns', { name: 'disk0', backing: 'file', sizeBytes: 1 << 20, blockSize: 512 })).body;
  await call('POST', '/api/mappings', { targetId: t.id, lun: 0, lunId: lun.id });
  await call('POST', '/api/portals', { targetId: t.id, address: '0.0.0.0', port: 3260 });
  const g = (await call('POST', '/api/initiator-groups', { name: 'esx', initiators: ['iqn.1998-01.com.vmware:esx1'] })).body;
  await call('POST', '/api/acls', { targetId: t.id, groupId: g.id });
  assert.equal((await call('PUT', `/api/chap/targets/${t.id}`, { username: 'esx', secret: CHAP_SECRET })).status, 200);
});
after(async () => f.close());

describe('config export', () => {
  test('GET /api/config: the whole desired state, no secrets', async () => {
    const r = await call('GET', '/api/config');
    assert.equal(r.status, 200);
    const doc = r.body as ConfigDocument;
    assert.equal(doc.version, 1);
    assert.equal(doc.targets[0]!.iqn, 'iqn.2026-11.org.example:vm');
    assert.deepEqual(doc.targets[0]!.luns, [{ lun: 0, name: 'disk0' }]);
    assert.deepEqual(doc.targets[0]!.acls, ['esx']);
    assert.deepEqual(doc.targets[0]!.chap, { username: 'esx' });
    assert.match(doc.luns[0]!.naaId!, /^3[0-9a-f]{15}$/);
    assert.ok(!r.raw.includes(CHAP_SECRET));
  });

  test('secrets only after the admin re-enters the password; attempts audited', async () => {
    const wrong = await call('POST', '/api/config/export', { password: 'not-the-password' });
    assert.equal(wrong.status, 403);
    assert.ok(!wrong.raw.includes(CHAP_SECRET));
    const ok = await call('POST', '/api/config/export', { password: ADMIN_PASSWORD });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.targets[0].chap.secret, CHAP_SECRET);
    const reader = await createReader(app, admin);
    assert.equal((await call('POST', '/api/config/export', { password: 'reader-password-1' }, reader)).status, 403);
    const actions = (await call('GET', '/api/audit?limit=20')).body.map((a: { action: string }) => a.action);
    assert.ok(actions.includes('config.export-secrets'));
    assert.ok(actions.includes('config.export-secrets.refused'));
  });
});

describe('config plan', () => {
  test('an unchanged export plans nothing', async () => {
    const doc = (await call('GET', '/api/config')).body;
    const plan = await call('POST', '/api/config/plan', doc);
    assert.equal(plan.status, 200, plan.raw);
    assert.deepEqual(plan.body.changes, []);
    assert.deepEqual(plan.body.refused, []);
  });

  test('the diff names each change, hides secret values, refuses identity changes, and changes nothing', async () => {
    const before = (await call('GET', '/api/config')).raw;
    const doc = (await call('GET', '/api/config')).body as ConfigDocument;
    const t = doc.targets[0]!;
    doc.luns[0]!.sizeBytes = 2 << 20;
    doc.luns[0]!.naaId = '3000000000000001';
    doc.luns.push({ name: 'disk1', backing: 'file', sizeBytes: 1 << 20, blockSize: 4096, readOnly: false, writeCache: 'write-through' });
    t.luns.push({ lun: 1, name: 'disk1' });
    t.acls = [];
    t.chap = { username: 'esx', secret: 'Another-Secret-99' };
    doc.targets.push({ iqn: 'iqn.2026-11.org.example:new', alias: null, portals: [], luns: [], acls: ['esx'] });
    const plan = await call('POST', '/api/config/plan', doc);
    assert.equal(plan.status, 200, plan.raw);
    const keys = plan.body.changes.map((c: { op: string; kind: string; key: string }) => `${c.op} ${c.kind} ${c.key}`);
    assert.deepEqual(keys.sort(), [
      'create acl iqn.2026-11.org.example:new esx',
      'create lun disk1',
      'create mapping iqn.2026-11.org.example:vm LUN 1',
      'create target iqn.2026-11.org.example:new',
      'delete acl iqn.2026-11.org.example:vm esx',
      'update chap chap of iqn.2026-11.org.example:vm',
      'update lun disk0',
    ]);
    assert.ok(!plan.raw.includes('Another-Secret-99') && !plan.raw.includes(CHAP_SECRET));
    assert.deepEqual(plan.body.refused.map((r: { message: string }) => r.message.split(' ')[0]), ['naaId']);
    assert.deepEqual(plan.body.summary, { create: 4, update: 2, delete: 1 });
    assert.equal((await call('GET', '/api/config')).raw, before);
  });

  test('a bad document names every problem at once', async () => {
    const doc = (await call('GET', '/api/config')).body as ConfigDocument;
    doc.targets[0]!.luns.push({ lun: 0, name: 'nope' });
    doc.targets.push({ iqn: 'iqn.2026-11.org.example:vm', alias: null, portals: [], luns: [], acls: ['ghosts'] });
    doc.luns.push({ name: '../x', backing: 'file', sizeBytes: 4096, blockSize: 512, readOnly: false, writeCache: 'write-back' });
    const schemaBad = await call('POST', '/api/config/plan', doc);
    assert.equal(schemaBad.status, 400);
    assert.ok(schemaBad.body.fields.some((x: { field: string }) => x.field === 'body/luns/1/name'));
    doc.luns.pop();
    const bad = await call('POST', '/api/config/plan', doc);
    assert.equal(bad.status, 400);
    const fields = bad.body.fields.map((x: { field: string }) => x.field).sort();
    assert.deepEqual(fields, ['targets/0/luns/1/lun', 'targets/0/luns/1/name', 'targets/1/acls/0', 'targets/1/iqn']);
  });

  test('read-only users cannot plan', async () => {
    const reader = await (async () => {
      const res = await app.inject({ method: 'POST', url: '/api/login', payload: { username: 'reader', password: 'reader-password-1' } });
      return { cookie: res.cookies.map((c) => `${c.name}=${c.value}`).join('; '), csrf: res.json().csrfToken as string };
    })();
    const doc = (await call('GET', '/api/config', undefined, reader)).body;
    assert.equal((await call('POST', '/api/config/plan', doc, reader)).status, 403);
  });
});

describe('config apply', () => {
  test('an export with secrets rebuilds the same appliance elsewhere: same LUN identities, secrets, files', async () => {
    const exported = (await call('POST', '/api/config/export', { password: ADMIN_PASSWORD })).body as ConfigDocument;
    const other = await newApp();
    try {
      const otherAdmin = await setupAdmin(other.app);
      const applied = await other.app.inject({ method: 'POST', url: '/api/config/apply', headers: as(otherAdmin), payload: exported });
      assert.equal(applied.statusCode, 200, applied.body);
      assert.ok(applied.json().summary.create >= 5);
      const again = await other.app.inject({ method: 'POST', url: '/api/config/export', headers: as(otherAdmin), payload: { password: ADMIN_PASSWORD } });
      assert.deepEqual(again.json(), exported);
      assert.ok(existsSync(join(other.dir, 'pool', 'disk0.img')));
      // applying the same document twice changes nothing
      const second = await other.app.inject({ method: 'POST', url: '/api/config/apply', headers: as(otherAdmin), payload: exported });
      assert.deepEqual(second.json().changes, []);
    } finally {
      await other.close();
    }
  });

  test('apply makes the store equal to the document', async () => {
    const doc = (await call('GET', '/api/config')).body as ConfigDocument;
    const t = doc.targets[0]!;
    doc.luns.push({ name: 'disk9', backing: 'file', sizeBytes: 1 << 20, blockSize: 4096, readOnly: false, writeCache: 'write-back' });
    t.luns = [{ lun: 0, name: 'disk9' }, { lun: 3, name: 'disk0' }];
    t.portals = [{ address: '::', port: 3260 }];
    t.alias = 'renamed';
    doc.initiatorGroups[0]!.initiators.push('iqn.1998-01.com.vmware:esx2');
    const r = await call('POST', '/api/config/apply', doc);
    assert.equal(r.status, 200, r.raw);
    const now = (await call('GET', '/api/config')).body as ConfigDocument;
    const { serial: _s, naaId: _n, ...disk9 } = now.luns.find((l) => l.name === 'disk9')!;
    assert.deepEqual(disk9, doc.luns.at(-1));
    assert.deepEqual(now.targets[0]!.luns, t.luns);
    assert.deepEqual(now.targets[0]!.portals, t.portals);
    assert.equal(now.targets[0]!.alias, 'renamed');
    assert.deepEqual(now.targets[0]!.chap, { username: 'esx' }, 'a chap entry without secret keeps the current secret');
    assert.deepEqual(now.initiatorGroups[0]!.initiators.sort(), ['iqn.1998-01.com.vmware:esx1', 'iqn.1998-01.com.vmware:esx2']);
    const withSecrets = (await call('POST', '/api/config/export', { password: ADMIN_PASSWORD })).body as ConfigDocument;
    assert.equal(withSecrets.targets[0]!.chap!.secret, CHAP_SECRET);
  });

  test('a failing apply changes nothing, pool files included; refused changes abort', async () => {
    const before = (await call('GET', '/api/config')).raw;
    const doc = JSON.parse(before) as ConfigDocument;
    doc.luns.push({ name: 'orphan', backing: 'file', sizeBytes: 1 << 20, blockSize: 512, readOnly: false, writeCache: 'write-back' });
    doc.targets.push({ iqn: 'iqn.2026-11.org.example:late', alias: null, portals: [], luns: [{ lun: 0, name: 'orphan' }], acls: [], chap: { username: 'nosecret' } });
    const r = await call('POST', '/api/config/apply', doc);
    assert.equal(r.status, 400, r.raw);
    assert.match(r.body.message, /secret is required/);
    assert.equal((await call('GET', '/api/config')).raw, before);
    assert.ok(!existsSync(join(f.dir, 'pool', 'orphan.img')), 'the pool file created mid-apply was removed');

    const refused = JSON.parse(before) as ConfigDocument;
    refused.luns[0]!.blockSize = refused.luns[0]!.blockSize === 512 ? 4096 : 512;
    const r2 = await call('POST', '/api/config/apply', refused);
    assert.equal(r2.status, 409);
    assert.match(r2.body.message, /blockSize/);
    assert.equal((await call('GET', '/api/config')).raw, before);
  });
});

describe('config as code: storage settings and snapshot schedules', () => {
  test('export, plan, apply elsewhere and re-plan nothing; a changed schedule is replaced; bad fields named', async () => {
    const lunId = ((await call('GET', '/api/luns')).body as Array<{ id: number; name: string }>).find((l) => l.name === 'disk0')!.id;
    const base = (await call('GET', '/api/config')).body as ConfigDocument;
    assert.equal(base.storage, undefined, 'the default threshold is left out');
    assert.equal((await app.inject({ method: 'PATCH', url: '/api/storage', headers: as(admin), payload: { softThresholdPercent: 70 } })).statusCode, 200);
    assert.equal((await call('POST', '/api/snapshot-schedules', { lunId, preset: 'hourly', keep: 24 })).status, 201);
    assert.equal((await call('POST', '/api/snapshot-schedules', { lunId, everyMinutes: 15, keep: 4 })).status, 201);
    const doc = (await call('POST', '/api/config/export', { password: ADMIN_PASSWORD })).body as ConfigDocument;
    assert.deepEqual(doc.storage, { softThresholdPercent: 70 });
    assert.deepEqual(doc.snapshotSchedules, [
      { lun: 'disk0', everyMinutes: 60, keep: 24 },
      { lun: 'disk0', everyMinutes: 15, keep: 4 },
    ]);

    const other = await newApp();
    try {
      const otherAdmin = await setupAdmin(other.app);
      const plan = await other.app.inject({ method: 'POST', url: '/api/config/plan', headers: as(otherAdmin), payload: doc });
      const kinds = (plan.json().changes as Array<{ kind: string; key: string }>).filter((c) => c.kind === 'snapshot-schedule' || c.kind === 'storage');
      assert.deepEqual(kinds.map((c) => c.key).sort(), ['disk0 every 15 min keep 4', 'disk0 every 60 min keep 24', 'storage']);
      const applied = await other.app.inject({ method: 'POST', url: '/api/config/apply', headers: as(otherAdmin), payload: doc });
      assert.equal(applied.statusCode, 200, applied.body);
      const again = await other.app.inject({ method: 'POST', url: '/api/config/export', headers: as(otherAdmin), payload: { password: ADMIN_PASSWORD } });
      assert.deepEqual(again.json().snapshotSchedules, doc.snapshotSchedules);
      assert.deepEqual(again.json().storage, doc.storage);
      const replan = await other.app.inject({ method: 'POST', url: '/api/config/plan', headers: as(otherAdmin), payload: doc });
      assert.deepEqual(replan.json().changes, []);

      // a changed retention replaces that one schedule; dropping storage returns to the default threshold
      const changed = structuredClone(doc);
      changed.snapshotSchedules![1]!.keep = 8;
      delete changed.storage;
      const r = await other.app.inject({ method: 'POST', url: '/api/config/apply', headers: as(otherAdmin), payload: changed });
      assert.equal(r.statusCode, 200, r.body);
      const ops = (r.json().changes as Array<{ op: string; kind: string; key: string }>).filter((c) => c.kind !== 'chap');
      assert.deepEqual(ops, [
        { op: 'update', kind: 'storage', key: 'storage', fields: [{ field: 'softThresholdPercent', from: 70, to: 80 }] },
        { op: 'delete', kind: 'snapshot-schedule', key: 'disk0 every 15 min keep 4' },
        { op: 'create', kind: 'snapshot-schedule', key: 'disk0 every 15 min keep 8' },
      ] as unknown as typeof ops);
      const schedules = (await other.app.inject({ method: 'GET', url: '/api/snapshot-schedules', headers: as(otherAdmin) })).json() as Array<{ keep: number }>;
      assert.deepEqual(schedules.map((s) => s.keep).sort((a, b) => a - b), [8, 24]);

      const bad = structuredClone(doc);
      bad.snapshotSchedules!.push({ lun: 'nope', everyMinutes: 2, keep: 0 });
      const refused = await other.app.inject({ method: 'POST', url: '/api/config/plan', headers: as(otherAdmin), payload: bad });
      assert.equal(refused.statusCode, 400);
      const fields = (refused.json().fields as Array<{ field: string }>).map((x) => x.field);
      assert.ok(fields.some((x) => x.includes('snapshotSchedules/2/everyMinutes')), JSON.stringify(fields));
      assert.ok(fields.some((x) => x.includes('snapshotSchedules/2/keep')), JSON.stringify(fields));
    } finally {
      await other.close();
    }
  });
});
