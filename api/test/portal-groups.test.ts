// Portal groups (RFC 7143 §4.4.1) with ALUA states (SPC-4 §5.16.2.4) and LUN presets through the API with
// app.inject(): CRUD, validation that names every bad field and changes nothing, refusals, roles, audit, the config
// round trip, the desired state targetd gets, and the migration of a version-2 database.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { ConfigDocument } from '../src/config/document.ts';
import { desiredState, readSnapshot } from '../src/desired-state.ts';
import { openDatabase } from '../src/store/db.ts';
import { MIGRATIONS } from '../src/store/migrations.ts';
import { Store } from '../src/store/store.ts';
import { portalGroupsOf, StateProblems, validateState } from '../../target/src/daemon/state.ts';
import { as, createReader, newApp, setupAdmin, type Fixture, type Session } from './support/fixture.ts';

let f: Fixture;
let app: FastifyInstance;
let admin: Session;
let reader: Session;
let target: { id: number; iqn: string };
let other: { id: number; iqn: string };

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
async function call(method: Method, url: string, payload?: unknown, s: Session | null = admin) {
  const res = await app.inject({ method, url, headers: s ? as(s) : {}, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: res.statusCode, body: res.body ? (res.json() as any) : undefined };
}

/** The desired state plus the audit length: a refused request leaves both as they were. */
async function snapshot(): Promise<string> {
  const config = (await call('GET', '/api/config')).body;
  const groups = (await call('GET', '/api/portal-groups')).body;
  const audit = (await call('GET', '/api/audit?limit=1000')).body.filter((a: { action: string }) => !a.action.startsWith('login'));
  return JSON.stringify({ config, groups, audit: audit.length });
}

const fieldsOf = (body: { fields?: Array<{ field: string }> }) => (body.fields ?? []).map((x) => x.field).sort();

before(async () => {
  f = await newApp();
  app = f.app;
  admin = await setupAdmin(app);
  reader = await createReader(app, admin);
  target = (await call('POST', '/api/targets', { iqn: 'iqn.2026-11.org.example:pg' })).body;
  other = (await call('POST', '/api/targets', { iqn: 'iqn.2026-11.org.example:pg-other' })).body;
});
after(async () => f.close());

describe('portal groups', () => {
  test('a new target has portal group 1, active/optimized', async () => {
    const r = await call('GET', `/api/portal-groups?targetId=${target.id}`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.map((g: any) => [g.targetId, g.tag, g.aluaState]), [[target.id, 1, 'active-optimized']]);
  });

  test('create, read, change state; portals join a group and report its tag', async () => {
    const g2 = await call('POST', '/api/portal-groups', { targetId: target.id, tag: 2, aluaState: 'active-non-optimized' });
    assert.equal(g2.status, 201, JSON.stringify(g2.body));
    assert.deepEqual({ ...g2.body, id: 0 }, { id: 0, targetId: target.id, tag: 2, aluaState: 'active-non-optimized' });
    assert.deepEqual((await call('GET', `/api/portal-groups/${g2.body.id}`)).body, g2.body);

    const p1 = await call('POST', '/api/portals', { targetId: target.id, address: '192.0.2.10', port: 3260 });
    assert.equal(p1.status, 201);
    assert.equal(p1.body.portalGroupTag, 1, 'default: the target\'s group 1');
    const p2 = await call('POST', '/api/portals', { targetId: target.id, address: '192.0.2.11', port: 3260, portalGroupId: g2.body.id });
    assert.equal(p2.status, 201);
    assert.deepEqual([p2.body.portalGroupId, p2.body.portalGroupTag], [g2.body.id, 2]);
    const listed = (await call('GET', `/api/portals?targetId=${target.id}`)).body;
    assert.deepEqual(listed.map((p: any) => [p.address, p.portalGroupTag]), [['192.0.2.10', 1], ['192.0.2.11', 2]]);

    const patched = await call('PATCH', `/api/portal-groups/${g2.body.id}`, { aluaState: 'standby' });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.aluaState, 'standby');
    const audit = (await call('GET', '/api/audit?limit=20')).body as Array<{ action: string; object: string; detail: any; actor: string }>;
    const entry = audit.find((a) => a.action === 'portal-group.update')!;
    assert.equal(entry.object, `portal group 2 of ${target.iqn}`);
    assert.deepEqual(entry.detail, { aluaState: { from: 'active-non-optimized', to: 'standby' } });
    assert.equal(entry.actor, 'admin');
    assert.ok(audit.some((a) => a.action === 'portal-group.create'), 'creation audited');
    assert.ok(audit.some((a) => a.action === 'portal.create' && a.detail.portalGroupTag === 2), 'the portal\'s group audited');
  });

  test('bad input: every bad field named, nothing changed', async () => {
    const before = await snapshot();
    const bad = await call('POST', '/api/portal-groups', { targetId: 0, tag: 0, aluaState: 'optimized', extra: 1 });
    assert.equal(bad.status, 400);
    for (const field of ['targetId', 'tag', 'aluaState']) assert.ok(JSON.stringify(bad.body).includes(field), `${field} named: ${JSON.stringify(bad.body)}`);
    assert.equal((await call('POST', '/api/portal-groups', { targetId: target.id, tag: 65536 })).status, 400, 'RFC 7143 §13.9: 16 bits');
    assert.equal((await call('POST', '/api/portal-groups', { targetId: target.id, tag: 1.5 })).status, 400);
    const dup = await call('POST', '/api/portal-groups', { targetId: target.id, tag: 2 });
    assert.equal(dup.status, 409);
    assert.deepEqual(fieldsOf(dup.body), ['tag']);
    assert.equal((await call('POST', '/api/portal-groups', { targetId: 99999, tag: 7 })).status, 404);
    const groups = (await call('GET', `/api/portal-groups?targetId=${target.id}`)).body;
    assert.equal((await call('PATCH', `/api/portal-groups/${groups[0].id}`, { aluaState: 'offline' })).status, 400, 'SPC-4: offline is not a configurable state');
    assert.equal((await call('PATCH', `/api/portal-groups/${groups[0].id}`, {})).status, 400);
    assert.equal((await call('PATCH', '/api/portal-groups/99999', { aluaState: 'standby' })).status, 404);
    // a portal in another target's group, or in a group that does not exist
    const otherGroup = (await call('GET', `/api/portal-groups?targetId=${other.id}`)).body[0];
    const foreign = await call('POST', '/api/portals', { targetId: target.id, address: '192.0.2.20', portalGroupId: otherGroup.id });
    assert.equal(foreign.status, 400);
    assert.deepEqual(fieldsOf(foreign.body), ['portalGroupId']);
    assert.equal((await call('POST', '/api/portals', { targetId: target.id, address: '192.0.2.20', portalGroupId: 99999 })).status, 404);
    assert.equal(await snapshot(), before, 'refused requests changed nothing');
  });

  test('a portal shared by two targets has the same tag on both', async () => {
    const before = await snapshot();
    // 192.0.2.11:3260 is in group 2 of the first target; the other target only has group 1
    const r = await call('POST', '/api/portals', { targetId: other.id, address: '192.0.2.11', port: 3260 });
    assert.equal(r.status, 409);
    assert.match(r.body.message, /portal group 2 of iqn\.2026-11\.org\.example:pg/);
    assert.equal(await snapshot(), before);
    // in a group with the same tag it is fine
    const g2 = (await call('POST', '/api/portal-groups', { targetId: other.id, tag: 2 })).body;
    const ok = await call('POST', '/api/portals', { targetId: other.id, address: '192.0.2.11', port: 3260, portalGroupId: g2.id });
    assert.equal(ok.status, 201);
    assert.equal((await call('DELETE', `/api/portals/${ok.body.id}`)).status, 204);
    assert.equal((await call('DELETE', `/api/portal-groups/${g2.id}`)).status, 204);
  });

  test('delete: refused while it has portals or when it is the last group', async () => {
    const groups = (await call('GET', `/api/portal-groups?targetId=${target.id}`)).body;
    const g2 = groups.find((g: any) => g.tag === 2);
    const before = await snapshot();
    const busy = await call('DELETE', `/api/portal-groups/${g2.id}`);
    assert.equal(busy.status, 409);
    assert.match(busy.body.message, /has portals \(192\.0\.2\.11:3260\)/);
    const only = (await call('GET', `/api/portal-groups?targetId=${other.id}`)).body;
    assert.equal(only.length, 1);
    const last = await call('DELETE', `/api/portal-groups/${only[0].id}`);
    assert.equal(last.status, 409);
    assert.match(last.body.message, /last portal group/);
    assert.equal(await snapshot(), before);

    const empty = (await call('POST', '/api/portal-groups', { targetId: target.id, tag: 9 })).body;
    assert.equal((await call('DELETE', `/api/portal-groups/${empty.id}`)).status, 204);
    assert.equal((await call('GET', `/api/portal-groups/${empty.id}`)).status, 404);
  });

  test('roles: read-only may list, not change; anonymous gets nothing', async () => {
    const g = (await call('GET', `/api/portal-groups?targetId=${target.id}`, undefined, reader)).body[0];
    assert.equal((await call('GET', `/api/portal-groups/${g.id}`, undefined, reader)).status, 200);
    const before = await snapshot();
    assert.equal((await call('POST', '/api/portal-groups', { targetId: target.id, tag: 5 }, reader)).status, 403);
    assert.equal((await call('PATCH', `/api/portal-groups/${g.id}`, { aluaState: 'unavailable' }, reader)).status, 403);
    assert.equal((await call('DELETE', `/api/portal-groups/${g.id}`, undefined, reader)).status, 403);
    assert.equal((await call('GET', '/api/portal-groups', undefined, null)).status, 401);
    assert.equal((await call('PATCH', `/api/portal-groups/${g.id}`, { aluaState: 'unavailable' }, null)).status, 401);
    assert.equal(await snapshot(), before);
  });

  test('deleting a target takes its portal groups along', async () => {
    const t = (await call('POST', '/api/targets', { iqn: 'iqn.2026-11.org.example:pg-gone' })).body;
    await call('POST', '/api/portal-groups', { targetId: t.id, tag: 3 });
    assert.equal((await call('GET', `/api/portal-groups?targetId=${t.id}`)).body.length, 2);
    assert.equal((await call('DELETE', `/api/targets/${t.id}`)).status, 204);
    assert.equal((await call('GET', `/api/portal-groups?targetId=${t.id}`)).body.length, 0);
  });
});

describe('LUN presets', () => {
  test('POST and PATCH set it, null clears it, a bad one is refused', async () => {
    const lun = await call('POST', '/api/luns', { name: 'hv-disk', backing: 'file', sizeBytes: 1 << 20, blockSize: 4096, preset: 'hyperv' });
    assert.equal(lun.status, 201, JSON.stringify(lun.body));
    assert.equal(lun.body.preset, 'hyperv');
    const plain = await call('POST', '/api/luns', { name: 'plain-disk', backing: 'file', sizeBytes: 1 << 20, blockSize: 512 });
    assert.equal(plain.body.preset, null);
    assert.equal((await call('PATCH', `/api/luns/${lun.body.id}`, { preset: 'xenserver' })).body.preset, 'xenserver');
    assert.equal((await call('GET', `/api/luns/${lun.body.id}`)).body.preset, 'xenserver');
    assert.equal((await call('PATCH', `/api/luns/${lun.body.id}`, { preset: null })).body.preset, null);
    const before = await snapshot();
    const bad = await call('POST', '/api/luns', { name: 'bad-disk', backing: 'file', sizeBytes: 1 << 20, blockSize: 512, preset: 'vmware' });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /preset/);
    assert.equal((await call('PATCH', `/api/luns/${lun.body.id}`, { preset: 'windows' })).status, 400);
    assert.equal((await call('PATCH', `/api/luns/${lun.body.id}`, { preset: 'esxi' }, reader)).status, 403);
    assert.equal(await snapshot(), before);
    await call('PATCH', `/api/luns/${lun.body.id}`, { preset: 'esxi' });
  });
});

describe('config and desired state carry portal groups and presets', () => {
  test('export → apply on a fresh appliance → the same groups, tags, states and presets', async () => {
    const doc = (await call('GET', '/api/config')).body as ConfigDocument;
    const t = doc.targets.find((x) => x.iqn === target.iqn)!;
    assert.deepEqual(t.portalGroups, [{ tag: 1, aluaState: 'active-optimized' }, { tag: 2, aluaState: 'standby' }]);
    assert.deepEqual(t.portals, [{ address: '192.0.2.10', port: 3260 }, { address: '192.0.2.11', port: 3260, tag: 2 }]);
    assert.equal(doc.targets.find((x) => x.iqn === other.iqn)!.portalGroups, undefined, 'the default (group 1 only) is left out');
    assert.equal(doc.luns.find((l) => l.name === 'hv-disk')!.preset, 'esxi');

    const fresh = await newApp();
    try {
      const a2 = await setupAdmin(fresh.app);
      const post = (url: string, payload: unknown) => fresh.app.inject({ method: 'POST', url, headers: as(a2), payload: payload as object });
      const plan = (await post('/api/config/plan', doc)).json() as { changes: Array<{ op: string; kind: string; key: string }> };
      assert.ok(plan.changes.some((c) => c.op === 'create' && c.kind === 'portal-group' && c.key === `${target.iqn} portal group 2`), JSON.stringify(plan.changes));
      const applied = await post('/api/config/apply', doc);
      assert.equal(applied.statusCode, 200, applied.body);
      const again = (await fresh.app.inject({ method: 'GET', url: '/api/config', headers: as(a2) })).json() as ConfigDocument;
      const strip = (d: ConfigDocument) => ({ ...d, luns: d.luns.map(({ serial: _s, naaId: _n, ...l }) => l) });
      assert.deepEqual(strip(again), strip(doc));
      // applying the same document again changes nothing
      const noop = (await post('/api/config/plan', again)).json() as { changes: unknown[] };
      assert.deepEqual(noop.changes, []);
    } finally {
      await fresh.close();
    }
  });

  test('apply moves a portal between groups, changes a state and drops a group; a bad tag is refused', async () => {
    const doc = (await call('GET', '/api/config')).body as ConfigDocument;
    const t = doc.targets.find((x) => x.iqn === target.iqn)!;
    const before = await snapshot();
    const bad = structuredClone(doc);
    bad.targets.find((x) => x.iqn === target.iqn)!.portals[0]!.tag = 7;
    bad.targets.find((x) => x.iqn === target.iqn)!.portalGroups!.push({ tag: 2, aluaState: 'unavailable' });
    const refused = await call('POST', '/api/config/apply', bad);
    assert.equal(refused.status, 400);
    const named = fieldsOf(refused.body);
    assert.ok(named.some((x) => /portals\/0\/tag/.test(x)) && named.some((x) => /portalGroups\/2\/tag/.test(x)), JSON.stringify(refused.body));
    assert.equal(await snapshot(), before);

    t.portalGroups = [{ tag: 1, aluaState: 'active-non-optimized' }, { tag: 4, aluaState: 'active-optimized' }];
    t.portals = [{ address: '192.0.2.10', port: 3260 }, { address: '192.0.2.11', port: 3260, tag: 4 }];
    const r = await call('POST', '/api/config/apply', doc);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const groups = (await call('GET', `/api/portal-groups?targetId=${target.id}`)).body;
    assert.deepEqual(groups.map((g: any) => [g.tag, g.aluaState]), [[1, 'active-non-optimized'], [4, 'active-optimized']]);
    const portals = (await call('GET', `/api/portals?targetId=${target.id}`)).body;
    assert.deepEqual(portals.map((p: any) => [p.address, p.portalGroupTag]).sort(), [['192.0.2.10', 1], ['192.0.2.11', 4]]);
  });

  test('the desired state lists each target\'s portal groups; targetd validates it', async () => {
    const store = app.openlun.store;
    const groups = store.listPortalGroups(target.id);
    store.updatePortalGroup({ actor: 'test', ip: '127.0.0.1' }, groups.find((g) => g.tag === 4)!.id, { aluaState: 'standby' });
    const state = desiredState(readSnapshot(store));
    const t = state.targets.find((x) => x.name === target.iqn)!;
    assert.deepEqual(t.portalGroups, [
      { tag: 1, aluaState: 'active-non-optimized', portals: [{ host: '192.0.2.10', port: 3260 }] },
      { tag: 4, aluaState: 'standby', portals: [{ host: '192.0.2.11', port: 3260 }] },
    ]);
    assert.equal(t.portalGroupTag, undefined);
    // a target without portals listens everywhere, in its first group
    const o = state.targets.find((x) => x.name === other.iqn)!;
    assert.deepEqual(o.portalGroups!.map((g) => [g.tag, g.portals.length]), [[1, 2]]);
    assert.deepEqual(portalGroupsOf(validateState(JSON.parse(JSON.stringify(state))).targets.find((x) => x.name === target.iqn)!), t.portalGroups);

    // the one-group form of older state files still loads, as one active/optimized group
    const legacy = { ...JSON.parse(JSON.stringify(state)), targets: [{ name: target.iqn, portalGroupTag: 3, portals: [{ host: '127.0.0.1', port: 3260 }], luns: [], acl: [] }] };
    assert.deepEqual(portalGroupsOf(validateState(legacy).targets[0]!), [{ tag: 3, aluaState: 'active-optimized', portals: [{ host: '127.0.0.1', port: 3260 }] }]);

    // duplicate tags, a portal in two groups, an unknown state, no group at all: every one named
    const broken = JSON.parse(JSON.stringify(state));
    const bt = broken.targets.find((x: any) => x.name === target.iqn);
    bt.portalGroups = [
      { tag: 1, aluaState: 'active-optimized', portals: [{ host: '192.0.2.10', port: 3260 }] },
      { tag: 1, aluaState: 'asleep', portals: [{ host: '192.0.2.10', port: 3260 }] },
    ];
    broken.targets.find((x: any) => x.name === other.iqn).portalGroups = [];
    assert.throws(() => validateState(broken), (e: unknown) => {
      assert.ok(e instanceof StateProblems);
      const paths = e.problems.map((p) => p.split(':')[0]);
      const i = broken.targets.indexOf(bt);
      const j = 1 - i;
      for (const want of [`targets[${i}].portalGroups[1].tag`, `targets[${i}].portalGroups[1].aluaState`, `targets[${i}].portalGroups[1].portals[0]`, `targets[${j}].portalGroups`]) {
        assert.ok(paths.includes(want), `${want} in ${paths.join(', ')}`);
      }
      return true;
    });
  });
});

describe('desired state warnings', () => {
  const settings = { hostname: 'box', baseIqn: 'iqn.2026-11.org.openlun', iscsiPort: 3260 };
  const base = { luns: [], mappings: [], groups: [], acls: [], chap: [] };
  test('no active group with portals; one wildcard portal in two different tags', () => {
    const d = desiredState({
      ...base,
      settings,
      targets: [
        { id: 1, iqn: 'iqn.2026-11.org.example:asleep', alias: null },
        { id: 2, iqn: 'iqn.2026-11.org.example:tag1', alias: null },
        { id: 3, iqn: 'iqn.2026-11.org.example:tag5', alias: null },
      ],
      portals: [{ id: 1, targetId: 1, address: '192.0.2.1', port: 3260, portalGroupId: 1, portalGroupTag: 1 }],
      portalGroups: [
        { id: 1, targetId: 1, tag: 1, aluaState: 'standby' },
        { id: 2, targetId: 1, tag: 2, aluaState: 'active-optimized' },
        { id: 3, targetId: 2, tag: 1, aluaState: 'active-optimized' },
        { id: 4, targetId: 3, tag: 5, aluaState: 'active-optimized' },
      ],
    });
    assert.ok(d.warnings.some((w) => w.startsWith('iqn.2026-11.org.example:asleep has no active portal group with portals')), d.warnings.join('\n'));
    assert.ok(d.warnings.some((w) => /example:tag5 has 0\.0\.0\.0:3260 in portal group 5, .*example:tag1 in portal group 1/.test(w)), d.warnings.join('\n'));
    assert.ok(!d.warnings.some((w) => w.startsWith('iqn.2026-11.org.example:tag1 has no active')), 'an active group is enough');
  });
});

describe('migration 3', () => {
  test('a version-2 database: every target gets group 1, its portals move into it, LUNs get preset null', () => {
    const dir = mkdtempSync(join(tmpdir(), 'openlun-mig4-'));
    try {
      const db = openDatabase(join(dir, 'openlun.db'), MIGRATIONS.filter((m) => m.version <= 2));
      db.prepare("INSERT INTO targets (id, iqn, alias) VALUES (5, 'iqn.2026-11.org.example:old', NULL)").run();
      db.prepare("INSERT INTO portals (id, target_id, address, port) VALUES (8, 5, '198.51.100.1', 3260)").run();
      db.prepare(
        "INSERT INTO luns (name, backing, path, size_bytes, block_size, write_cache, serial, naa_id, created_at) VALUES ('old', 'file', '/x/old.img', 4096, 512, 'write-through', 'aaaaaaaaaaaaaaaa', '3aaaaaaaaaaaaaaa', 0)",
      ).run();
      db.close();
      const store = new Store({ dataDir: dir });
      try {
        assert.deepEqual(store.listPortalGroups(5).map((g) => [g.tag, g.aluaState]), [[1, 'active-optimized']]);
        assert.deepEqual(store.listPortals(5).map((p) => [p.id, p.address, p.portalGroupTag]), [[8, '198.51.100.1', 1]]);
        assert.equal(store.listLuns()[0]!.preset, null);
        // the trigger keeps a portal inside its own target's groups even for a direct insert
        const t2 = store.createTarget({ actor: 't', ip: '::1' }, 'iqn.2026-11.org.example:new');
        const foreignGroup = store.listPortalGroups(t2.id)[0]!.id;
        assert.throws(() => store.db.prepare("INSERT INTO portals (target_id, portal_group_id, address, port) VALUES (5, ?, '198.51.100.2', 3260)").run(foreignGroup), /own target/);
      } finally {
        store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
