import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { as, newApp, setupAdmin, type Fixture, type Session } from './support/fixture.ts';

let f: Fixture;
let app: FastifyInstance;
let admin: Session;
before(async () => {
  f = await newApp();
  app = f.app;
  admin = await setupAdmin(app);
});
after(async () => f.close());

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
async function call(method: Method, url: string, payload?: unknown) {
  const res = await app.inject({ method, url, headers: as(admin), ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: res.statusCode, body: res.body ? (res.json() as any) : undefined };
}

/** The whole desired state plus the audit length: a refused request must leave both unchanged. */
async function snapshot(): Promise<string> {
  const config = (await call('GET', '/api/config')).body;
  const audit = (await call('GET', '/api/audit?limit=1000')).body.filter((a: { action: string }) => !a.action.startsWith('login'));
  return JSON.stringify({ config, audit: audit.length, pool: readdirSync(join(f.dir, 'pool')).sort() });
}

describe('resources CRUD', () => {
  test('targets', async () => {
    const t = await call('POST', '/api/targets', { iqn: 'iqn.2026-11.org.example:crud', alias: 'crud target' });
    assert.equal(t.status, 201);
    assert.deepEqual((await call('GET', `/api/targets/${t.body.id}`)).body, t.body);
    assert.equal((await call('PATCH', `/api/targets/${t.body.id}`, { alias: 'renamed' })).body.alias, 'renamed');
    assert.equal((await call('PATCH', `/api/targets/${t.body.id}`, { alias: null })).body.alias, null);
    assert.equal((await call('DELETE', `/api/targets/${t.body.id}`)).status, 204);
    assert.equal((await call('GET', `/api/targets/${t.body.id}`)).status, 404);
    assert.equal((await call('DELETE', `/api/targets/${t.body.id}`)).status, 404);
  });

  test('portals (IPv4 and IPv6)', async () => {
    const t = (await call('POST', '/api/targets', { iqn: 'iqn.2026-11.org.example:portals' })).body;
    const v4 = await call('POST', '/api/portals', { targetId: t.id, address: '0.0.0.0' });
    assert.equal(v4.status, 201);
    assert.equal(v4.body.port, 3260);
    assert.equal((await call('POST', '/api/portals', { targetId: t.id, address: '2001:db8::1', port: 3261 })).status, 201);
    assert.equal((await call('POST', '/api/portals', { targetId: t.id, address: '0.0.0.0' })).status, 409);
    assert.equal((await call('GET', `/api/portals?targetId=${t.id}`)).body.length, 2);
    assert.equal((await call('DELETE', `/api/portals/${v4.body.id}`)).status, 204);
    assert.equal((await call('POST', '/api/portals', { targetId: 99999, address: '::' })).status, 404);
  });

  test('file-backed LUNs: sparse file, grow, read-only, delete keeps data unless asked', async () => {
    const lun = await call('POST', '/api/luns', { name: 'vm-store', backing: 'file', sizeBytes: 1 << 30, blockSize: 512, writeCache: 'write-back' });
    assert.equal(lun.status, 201, JSON.stringify(lun.body));
    assert.equal(lun.body.path, join(f.dir, 'pool', 'vm-store.img'));
    const st = statSync(lun.body.path);
    assert.equal(st.size, 1 << 30);
    assert.ok(st.blocks < 64, 'sparse');
    const patched = await call('PATCH', `/api/luns/${lun.body.id}`, { sizeBytes: 2 * 2 ** 30, readOnly: true });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.naaId, lun.body.naaId);
    assert.equal(patched.body.readOnly, true);
    const lv = await call('POST', '/api/luns', { name: 'lv-lun', backing: 'lv', lvPath: '/dev/vg0/lun1', sizeBytes: 4096, blockSize: 4096 });
    assert.equal(lv.status, 201);
    assert.equal(lv.body.path, '/dev/vg0/lun1');
    assert.equal((await call('DELETE', `/api/luns/${lun.body.id}`)).status, 204);
    assert.ok(existsSync(lun.body.path), 'data kept by default');
    const again = await call('POST', '/api/luns', { name: 'vm-store', backing: 'file', sizeBytes: 4096, blockSize: 512 });
    assert.equal(again.status, 409, 'an orphaned pool file is never silently reused');
    assert.equal((await call('DELETE', `/api/luns/${lv.body.id}?deleteData=true`)).status, 204);
  });

  test('mappings: unique LUN numbers, in-use LUN needs force, REPORT-able order', async () => {
    const t = (await call('POST', '/api/targets', { iqn: 'iqn.2026-11.org.example:maps' })).body;
    const a = (await call('POST', '/api/luns', { name: 'map-a', backing: 'file', sizeBytes: 4096, blockSize: 512 })).body;
    const b = (await call('POST', '/api/luns', { name: 'map-b', backing: 'file', sizeBytes: 4096, blockSize: 512 })).body;
    assert.equal((await call('POST', '/api/mappings', { targetId: t.id, lun: 1, lunId: b.id })).status, 201);
    assert.equal((await call('POST', '/api/mappings', { targetId: t.id, lun: 0, lunId: a.id })).status, 201);
    const dup = await call('POST', '/api/mappings', { targetId: t.id, lun: 0, lunId: b.id });
    assert.equal(dup.status, 409);
    assert.match(dup.body.message, /LUN 0/);
    assert.deepEqual((await call('GET', `/api/mappings?targetId=${t.id}`)).body.map((m: { lun: number }) => m.lun), [0, 1]);
    const inUse = await call('DELETE', `/api/luns/${a.id}`);
    assert.equal(inUse.status, 409);
    assert.equal(inUse.body.error, 'in-use');
    assert.equal((await call('DELETE', `/api/luns/${a.id}?force=true&deleteData=true`)).status, 204);
    assert.deepEqual((await call('GET', `/api/mappings?targetId=${t.id}`)).body.map((m: { lun: number }) => m.lun), [1]);
  });

  test('initiator groups and ACLs', async () => {
    const t = (await call('POST', '/api/targets', { iqn: 'iqn.2026-11.org.example:acl' })).body;
    const g = await call('POST', '/api/initiator-groups', { name: 'esx cluster', initiators: ['iqn.1998-01.com.vmware:esx1-1234'], networks: ['10.0.0.0/24'] });
    assert.equal(g.status, 201);
    const upd = await call('PATCH', `/api/initiator-groups/${g.body.id}`, { initiators: ['iqn.1998-01.com.vmware:esx1-1234', 'iqn.1998-01.com.vmware:esx2-5678'] });
    assert.equal(upd.body.initiators.length, 2);
    const acl = await call('POST', '/api/acls', { targetId: t.id, groupId: g.body.id });
    assert.equal(acl.status, 201);
    assert.equal((await call('POST', '/api/acls', { targetId: t.id, groupId: g.body.id })).status, 409);
    assert.equal((await call('DELETE', `/api/initiator-groups/${g.body.id}`)).status, 409);
    assert.equal((await call('DELETE', `/api/acls/${acl.body.id}`)).status, 204);
    assert.equal((await call('DELETE', `/api/initiator-groups/${g.body.id}`)).status, 204);
  });

  test('CHAP per target and for discovery; never returns a secret', async () => {
    const t = (await call('POST', '/api/targets', { iqn: 'iqn.2026-11.org.example:chap' })).body;
    const set = await call('PUT', `/api/chap/targets/${t.id}`, { username: 'esx', secret: 'Secret-Number-1' });
    assert.equal(set.status, 200);
    assert.deepEqual(Object.keys(set.body).sort(), ['id', 'mutualUsername', 'targetId', 'username']);
    assert.equal((await call('PUT', '/api/chap/discovery', { username: 'disc', secret: 'Secret-Number-2', mutualUsername: 'tgt', mutualSecret: 'Secret-Number-3' })).status, 200);
    const list = await call('GET', '/api/chap');
    assert.equal(list.body.length, 2);
    assert.ok(!JSON.stringify(list.body).includes('Secret-Number'));
    assert.equal((await call('DELETE', `/api/chap/targets/${t.id}`)).status, 204);
    assert.equal((await call('DELETE', `/api/chap/targets/${t.id}`)).status, 404);
    assert.equal((await call('DELETE', '/api/chap/discovery')).status, 204);
  });

  test('settings and audit', async () => {
    assert.equal((await call('PATCH', '/api/settings', { baseIqn: 'iqn.2026-11.com.example' })).body.baseIqn, 'iqn.2026-11.com.example');
    const audit = (await call('GET', '/api/audit?limit=5')).body;
    assert.equal(audit[0].action, 'settings.update');
    assert.equal(audit[0].actor, 'admin');
    assert.equal(audit[0].ip, '127.0.0.1');
  });
});

describe('bad input is refused with a clear error and changes nothing', () => {
  const long = 'a'.repeat(300);
  const cases: Array<{ what: string; method: Method; url: string | (() => Promise<string>); payload: unknown; status: number; fields: string[] }> = [
    { what: 'oversized target name', method: 'POST', url: '/api/targets', payload: { iqn: `iqn.2026-11.org.example:${long}` }, status: 400, fields: ['body/iqn'] },
    { what: 'IQN with a bad month', method: 'POST', url: '/api/targets', payload: { iqn: 'iqn.2026-13.org.example:x' }, status: 400, fields: ['body/iqn'] },
    { what: 'IQN without date', method: 'POST', url: '/api/targets', payload: { iqn: 'iqn.org.example' }, status: 400, fields: ['body/iqn'] },
    { what: 'IQN with a space', method: 'POST', url: '/api/targets', payload: { iqn: 'iqn.2026-11.org.example:a b' }, status: 400, fields: ['body/iqn'] },
    { what: 'not iqn/eui/naa', method: 'POST', url: '/api/targets', payload: { iqn: 'target1' }, status: 400, fields: ['body/iqn'] },
    { what: 'short eui', method: 'POST', url: '/api/targets', payload: { iqn: 'eui.1234' }, status: 400, fields: ['body/iqn'] },
    { what: 'oversized alias and unknown field at once', method: 'POST', url: '/api/targets', payload: { iqn: 'bad', alias: long, owner: 'x' }, status: 400, fields: ['body/iqn', 'body/alias', 'body/owner'] },
    { what: 'path traversal in pool name', method: 'POST', url: '/api/luns', payload: { name: '../../etc/shadow', backing: 'file', sizeBytes: 4096, blockSize: 512 }, status: 400, fields: ['body/name'] },
    { what: 'absolute pool name', method: 'POST', url: '/api/luns', payload: { name: '/etc/passwd', backing: 'file', sizeBytes: 4096, blockSize: 512 }, status: 400, fields: ['body/name'] },
    { what: 'dot-dot pool name', method: 'POST', url: '/api/luns', payload: { name: '..', backing: 'file', sizeBytes: 4096, blockSize: 512 }, status: 400, fields: ['body/name'] },
    { what: 'shell metacharacters in pool name', method: 'POST', url: '/api/luns', payload: { name: 'x;rm -rf /', backing: 'file', sizeBytes: 4096, blockSize: 512 }, status: 400, fields: ['body/name'] },
    { what: 'command substitution in pool name', method: 'POST', url: '/api/luns', payload: { name: '$(reboot)', backing: 'file', sizeBytes: 4096, blockSize: 512 }, status: 400, fields: ['body/name'] },
    { what: 'backtick in LV path', method: 'POST', url: '/api/luns', payload: { name: 'lvx', backing: 'lv', lvPath: '/dev/vg0/`id`', sizeBytes: 4096, blockSize: 512 }, status: 400, fields: ['body/lvPath'] },
    { what: 'traversal in LV path', method: 'POST', url: '/api/luns', payload: { name: 'lvy', backing: 'lv', lvPath: '/dev/vg0/../../etc/passwd', sizeBytes: 4096, blockSize: 512 }, status: 400, fields: ['body/lvPath'] },
    { what: 'every LUN field wrong at once', method: 'POST', url: '/api/luns', payload: { name: 'a|b', backing: 'nfs', sizeBytes: -1, blockSize: 1000, writeCache: 'maybe' }, status: 400, fields: ['body/name', 'body/backing', 'body/sizeBytes', 'body/blockSize', 'body/writeCache'] },
    { what: 'size not a multiple of the block size', method: 'POST', url: '/api/luns', payload: { name: 'odd', backing: 'file', sizeBytes: 5000, blockSize: 4096 }, status: 400, fields: ['sizeBytes'] },
    { what: 'lv LUN without a path', method: 'POST', url: '/api/luns', payload: { name: 'nolv', backing: 'lv', sizeBytes: 4096, blockSize: 512 }, status: 400, fields: ['lvPath'] },
    { what: 'LUN number out of range', method: 'POST', url: '/api/mappings', payload: { targetId: 1, lun: 1024, lunId: 1 }, status: 400, fields: ['body/lun'] },
    { what: 'duplicate LUN number', method: 'POST', url: '/api/mappings', payload: 'DUP', status: 409, fields: ['lun'] },
    { what: 'bad IQN and CIDR in an initiator group', method: 'POST', url: '/api/initiator-groups', payload: { name: 'g;1', initiators: ['iqn.2026-11.ok.example', 'iqn.bad'], networks: ['300.1.1.0/24'] }, status: 400, fields: ['body/name', 'body/initiators/1', 'body/networks/0'] },
    { what: 'bad portal address and port', method: 'POST', url: '/api/portals', payload: { targetId: 1, address: 'localhost; id', port: 70000 }, status: 400, fields: ['body/address', 'body/port'] },
    { what: 'short CHAP secret and half a mutual pair', method: 'PUT', url: '/api/chap/targets/1', payload: { username: 'u', secret: 'short', mutualUsername: 'm' }, status: 400, fields: ['body/secret'] },
    { what: 'mutual CHAP secret equal to the initiator secret', method: 'PUT', url: '/api/chap/targets/1', payload: { username: 'u', secret: 'Same-Secret-12', mutualUsername: 'm', mutualSecret: 'Same-Secret-12' }, status: 400, fields: ['mutualSecret'] },
    { what: 'non-numeric id', method: 'DELETE', url: '/api/targets/abc', payload: undefined, status: 400, fields: ['params/id'] },
    { what: 'duplicate target', method: 'POST', url: '/api/targets', payload: { iqn: 'iqn.2026-11.org.example:base' }, status: 409, fields: ['iqn'] },
  ];

  let targetId = 0;
  let lunId = 0;
  before(async () => {
    targetId = (await call('POST', '/api/targets', { iqn: 'iqn.2026-11.org.example:base' })).body.id;
    lunId = (await call('POST', '/api/luns', { name: 'base', backing: 'file', sizeBytes: 4096, blockSize: 512 })).body.id;
    const other = (await call('POST', '/api/luns', { name: 'base2', backing: 'file', sizeBytes: 4096, blockSize: 512 })).body.id;
    assert.equal((await call('POST', '/api/mappings', { targetId, lun: 0, lunId })).status, 201);
    void other;
  });

  for (const c of cases) {
    test(c.what, async () => {
      const before = await snapshot();
      let url = typeof c.url === 'string' ? c.url : await c.url();
      url = url.replace('/targets/1', `/targets/${targetId}`);
      let payload = c.payload as Record<string, unknown> | undefined;
      if (payload === ('DUP' as unknown)) payload = { targetId, lun: 0, lunId: lunId + 1 };
      else if (payload && 'targetId' in payload) payload = { ...payload, targetId };
      const res = await call(c.method, url, payload);
      assert.equal(res.status, c.status, JSON.stringify(res.body));
      assert.equal(typeof res.body.message, 'string');
      const named = (res.body.fields ?? []).map((x: { field: string }) => x.field);
      for (const field of c.fields) assert.ok(named.includes(field), `${field} not named: ${JSON.stringify(res.body)}`);
      assert.equal(await snapshot(), before, 'state changed');
    });
  }
});
