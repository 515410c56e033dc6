// Two API widenings the command line needs: read-only users manage their OWN API tokens (a token acts with its
// user's role, so theirs stays read-only), and DELETE /api/storage/lvs/:vg/:name removes an LV no LUN uses
// (against the in-memory lvm2), refusing — with no command run — an LV that backs a LUN or is a LUN's snapshot.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { FakeLvm } from './support/fake-lvm.ts';
import { as, createReader, setupAdmin, type Fixture, type Session } from './support/fixture.ts';
import { newLvmApp } from './support/lvm-app.ts';

const MiB = 2 ** 20;
let f: Fixture;
let app: FastifyInstance;
let admin: Session;
let reader: Session;
let lvm: FakeLvm;

before(async () => {
  lvm = new FakeLvm();
  f = await newLvmApp(lvm);
  app = f.app;
  admin = await setupAdmin(app);
  reader = await createReader(app, admin);
});
after(async () => f.close());

type Who = Session | { bearer: string } | null;
async function call(method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object, who: Who = admin) {
  const headers = who === null ? {} : 'bearer' in who ? { authorization: `Bearer ${who.bearer}` } : as(who);
  const res = await app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) });
  return { status: res.statusCode, body: res.body ? (res.json() as any) : undefined };
}
const audit = async () => (await call('GET', '/api/audit?limit=1000')).body as Array<{ action: string; actor: string; object: string }>;

describe('read-only users and their own API tokens', () => {
  test('a read-only user creates, lists and revokes their own token; it is read-only; others are out of reach', async () => {
    const me = (await call('GET', '/api/me', undefined, reader)).body.user as { id: number; role: string };
    const adminId = (await call('GET', '/api/me')).body.user.id as number;
    const adminToken = (await call('POST', '/api/tokens', { name: 'admin-ci' })).body;
    assert.equal(adminToken.token.userId, adminId);

    const created = await call('POST', '/api/tokens', { name: 'monitoring' }, reader);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.token.userId, me.id);
    assert.match(created.body.secret, /^olt_/);
    // explicitly naming oneself is the same thing
    const again = await call('POST', '/api/tokens', { name: 'monitoring-2', userId: me.id }, reader);
    assert.equal(again.status, 201);

    // the token carries the read-only role: reads work, changes are 403
    const tok = { bearer: created.body.secret as string };
    assert.equal((await call('GET', '/api/luns', undefined, tok)).status, 200);
    assert.equal((await call('GET', '/api/me', undefined, tok)).body.user.role, 'read-only');
    assert.equal((await call('POST', '/api/luns', { name: 'nope', sizeBytes: MiB }, tok)).status, 403);
    assert.equal((await call('GET', '/api/users', undefined, tok)).status, 403);

    // list: only their own (no sign of the admin's token); the admin sees all
    const mine = (await call('GET', '/api/tokens', undefined, reader)).body as Array<{ id: number; userId: number }>;
    assert.deepEqual(mine.map((t) => t.userId), [me.id, me.id]);
    assert.ok(((await call('GET', '/api/tokens')).body as Array<{ id: number }>).some((t) => t.id === adminToken.token.id));

    // not for someone else, and not someone else's: refused, nothing changes
    const before = (await call('GET', '/api/tokens')).body.length as number;
    const forAdmin = await call('POST', '/api/tokens', { name: 'sneaky', userId: adminId }, reader);
    assert.equal(forAdmin.status, 403);
    assert.match(forAdmin.body.message, /only for themselves/);
    const revokeAdmins = await call('DELETE', `/api/tokens/${adminToken.token.id}`, undefined, tok);
    assert.equal(revokeAdmins.status, 404);
    assert.equal((await call('GET', '/api/tokens')).body.length, before);
    assert.equal((await call('GET', '/api/me', undefined, { bearer: adminToken.secret })).status, 200);

    // a session still needs its CSRF token for these
    const noCsrf = await app.inject({ method: 'POST', url: '/api/tokens', headers: { cookie: reader.cookie }, payload: { name: 'x' } });
    assert.equal(noCsrf.statusCode, 403);

    // revoke one's own (with the token itself): it stops working at once; audited as the reader
    assert.equal((await call('DELETE', `/api/tokens/${again.body.token.id}`, undefined, tok)).status, 204);
    assert.equal((await call('DELETE', `/api/tokens/${created.body.token.id}`, undefined, tok)).status, 204);
    assert.equal((await call('GET', '/api/luns', undefined, tok)).status, 401);
    const log = await audit();
    assert.ok(log.some((a) => a.action === 'token.create' && a.object === 'token monitoring' && a.actor === 'reader'), JSON.stringify(log.slice(-5)));
    assert.ok(log.some((a) => a.action === 'token.delete' && a.object === 'token monitoring' && a.actor === 'reader (token)'));
    // anonymous: still 401
    assert.equal((await call('POST', '/api/tokens', { name: 'x' }, null)).status, 401);
    assert.equal((await call('GET', '/api/tokens', undefined, null)).status, 401);
  });

  test('an admin still creates tokens for others', async () => {
    const readerId = (await call('GET', '/api/me', undefined, reader)).body.user.id as number;
    const r = await call('POST', '/api/tokens', { name: 'for-reader', userId: readerId });
    assert.equal(r.status, 201);
    assert.equal(r.body.token.userId, readerId);
    assert.ok(((await call('GET', '/api/tokens', undefined, reader)).body as Array<{ name: string }>).some((t) => t.name === 'for-reader'));
  });
});

describe('DELETE /api/storage/lvs/:vg/:name', () => {
  test('removes an orphan LV; refuses the LV of a LUN and a LUN\'s snapshot, naming the LUN; read-only 403', async () => {
    for (const device of ['/dev/sdc', '/dev/sdd']) assert.equal((await call('POST', '/api/storage/pvs', { device })).status, 201);
    const vg = await call('POST', '/api/storage/vgs', { name: 'vg0', devices: ['/dev/sdc', '/dev/sdd'] });
    assert.equal(vg.status, 201, JSON.stringify(vg.body));
    const lun = await call('POST', '/api/luns', { name: 'db', sizeBytes: 64 * MiB, backing: 'lv', vg: 'vg0', blockSize: 512 });
    assert.equal(lun.status, 201, JSON.stringify(lun.body));
    const lvName = (lun.body.path as string).split('/').pop()!;
    assert.equal((await call('POST', `/api/luns/${lun.body.id}/snapshots`, { name: 'before', sizeBytes: 16 * MiB })).status, 201);
    // an LV left behind (e.g. a LUN deleted while its lvremove failed)
    lvm.failNext.set('lvremove', 'Logical volume vg0/gone in use.');
    const gone = await call('POST', '/api/luns', { name: 'gone', sizeBytes: 32 * MiB, backing: 'lv', vg: 'vg0', blockSize: 512 });
    assert.equal(gone.status, 201);
    const del = await call('DELETE', `/api/luns/${gone.body.id}?deleteData=true`);
    const lvs = async () => ((await call('GET', '/api/storage/lvs?vg=vg0')).body as Array<{ name: string; lunId: number | null }>);
    const orphan = (await lvs()).find((l) => l.name === (gone.body.path as string).split('/').pop());
    assert.ok(orphan, `the failed lvremove should leave the LV (delete answered ${del.status} ${JSON.stringify(del.body)})`);
    // the LUN row goes either way (the failure is reported); its LV stays behind
    assert.equal(((await call('GET', '/api/luns')).body as Array<{ name: string }>).some((l) => l.name === 'gone'), false, JSON.stringify(del.body));
    assert.equal(orphan.lunId, null);

    const refused = async (url: string, status: number, re: RegExp, who: Who = admin) => {
      const n = lvm.changes().length;
      const r = await call('DELETE', url, undefined, who);
      assert.equal(r.status, status, `${url}: ${JSON.stringify(r.body)}`);
      assert.match(r.body.message, re);
      assert.deepEqual(lvm.changes().slice(n), []);
    };
    await refused(`/api/storage/lvs/vg0/${orphan.name}`, 403, /read-only/, reader);
    await refused(`/api/storage/lvs/vg0/${lvName}`, 409, /backs LUN db/);
    await refused(`/api/storage/lvs/vg0/${lvName}.before`, 409, /snapshot before of LUN db/);
    await refused('/api/storage/lvs/vg0/nosuch', 404, /nosuch/);
    await refused('/api/storage/lvs/vg0/bad%20name', 400, /name/);

    const removals = async () => (await audit()).filter((a) => a.action === 'storage.lv.remove' && a.object === `lv vg0/${orphan.name}`).length;
    const n = await removals();
    assert.equal((await call('DELETE', `/api/storage/lvs/vg0/${orphan.name}`)).status, 204);
    assert.deepEqual(lvm.changes().slice(-1), [`lvremove --yes vg0/${orphan.name}`]);
    assert.equal((await lvs()).some((l) => l.name === orphan.name), false);
    assert.equal(await removals(), n + 1);
    // the LUN and its snapshot are untouched
    assert.equal((await call('GET', `/api/luns/${lun.body.id}/snapshots`)).body.length, 1);
  });
});
