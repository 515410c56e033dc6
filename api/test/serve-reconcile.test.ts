// `openlun serve` in-process against an in-process targetd: every committed change reaches the target before the
// API answers; a refused apply (LUN in use) is reported, not hidden; live routes read the control socket; an
// unreachable targetd does not break the API.
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startServe } from '../src/serve.ts';
import type { ServeHandle } from '../src/serve.ts';
import type { TargetRuntime } from '../../target/src/daemon/runtime.ts';
import { RawInitiator } from '../../target/test/support/raw-initiator.ts';
import { freePort } from '../../e2e/helpers/ports.ts';
import { withInProcessServe, type SessionClient as Client } from './support/serve-in-process.ts';

const IQN = 'iqn.2026-11.org.openlun:serve-test';
const INITIATOR = 'iqn.2026-11.org.openlun:serve-host';
const SECRET = 'serve-test-chap-secret';

async function withServe(fn: (h: ServeHandle, api: Client, rt: TargetRuntime, port: number) => Promise<void>, o: { targetd?: boolean } = {}): Promise<void> {
  await withInProcessServe(
    'openlun-serve-',
    async ({ serve, rt, log }, api) => {
      await fn(serve, api, rt, await freePort());
      assert.ok(!log.lines.join('\n').includes(SECRET), 'no secret in the target log');
    },
    o,
  );
}

test('changes reach targetd before the API answers; LUN removal under a live session needs force', async () => {
  await withServe(async (_h, api, rt, iscsiPort) => {
    assert.equal((await api.call('POST', '/api/setup', { password: 'serve-admin-pw-1' })).status, 201);
    assert.equal(rt.state?.targets.length, 0, 'the initial apply ran');
    const lun = (await api.call('POST', '/api/luns', { name: 'd0', backing: 'file', sizeBytes: 1024 * 1024, blockSize: 512 })).json;
    const target = (await api.call('POST', '/api/targets', { iqn: IQN })).json;
    await api.call('POST', '/api/portals', { targetId: target.id, address: '127.0.0.1', port: iscsiPort });
    const mapping = await api.call('POST', '/api/mappings', { targetId: target.id, lun: 0, lunId: lun.id });
    assert.equal(mapping.status, 201);
    assert.equal(mapping.headers.get('x-openlun-target'), null);
    assert.deepEqual(rt.state!.targets.map((t) => [t.name, t.luns]), [[IQN, [{ lun: 0, backstore: 'd0' }]]]);
    assert.deepEqual(rt.portals(), [{ host: '127.0.0.1', port: iscsiPort }]);
    const group = (await api.call('POST', '/api/initiator-groups', { name: 'hosts', initiators: [INITIATOR] })).json;
    await api.call('POST', '/api/acls', { targetId: target.id, groupId: group.id });
    assert.equal((await api.call('PUT', `/api/chap/targets/${target.id}`, { username: 'u1', secret: SECRET })).status, 200);
    assert.equal(rt.state!.targets[0]!.chap?.secret, SECRET, 'CHAP reached the target');

    const ini = await RawInitiator.connect(iscsiPort);
    try {
      assert.equal((await ini.login({ initiatorName: INITIATOR, targetName: IQN, chap: { user: 'u1', secret: SECRET } })).statusClass, 0);
      const sessions = await api.call('GET', '/api/sessions');
      assert.equal(sessions.status, 200);
      assert.equal(sessions.json[0].initiatorName, INITIATOR);
      assert.ok(!JSON.stringify(sessions.json).includes(SECRET));
      const stats = await api.call('GET', '/api/stats');
      assert.equal(stats.json[0].target, IQN);

      // a LUN under a logged-in initiator: refused before anything is committed
      for (const url of [`/api/mappings/${mapping.json.id}`, `/api/luns/${lun.id}?force=false`, `/api/targets/${target.id}`]) {
        const del = await api.call('DELETE', url);
        assert.equal(del.status, 409, url);
        assert.equal(del.json.error, 'in-use');
        assert.match(del.json.message, /serve-test LUN 0 \(1 session/);
      }
      assert.equal((await api.call('GET', '/api/mappings')).json.length, 1, 'nothing deleted');
      assert.equal(rt.state!.targets[0]!.luns.length, 1, 'the LUN is still served');
      // force (as DELETE /api/luns?force=true carries it) goes through
      const forced = await api.call('DELETE', `/api/luns/${lun.id}?force=true`);
      assert.equal(forced.status, 204, JSON.stringify(forced.json));
      assert.equal(forced.headers.get('x-openlun-target'), null);
      assert.deepEqual(rt.state!.targets[0]!.luns, []);
    } finally {
      ini.close();
    }
  });
});

test('if the store and the target disagree, the target still refuses and the API says so', async () => {
  await withServe(async (h, api, rt, iscsiPort) => {
    assert.equal((await api.call('POST', '/api/setup', { password: 'serve-admin-pw-1' })).status, 201);
    const lun = (await api.call('POST', '/api/luns', { name: 'd0', backing: 'file', sizeBytes: 1024 * 1024, blockSize: 512 })).json;
    const target = (await api.call('POST', '/api/targets', { iqn: IQN })).json;
    await api.call('POST', '/api/portals', { targetId: target.id, address: '127.0.0.1', port: iscsiPort });
    await api.call('POST', '/api/mappings', { targetId: target.id, lun: 0, lunId: lun.id });
    const group = (await api.call('POST', '/api/initiator-groups', { name: 'hosts', initiators: [] })).json;
    await api.call('POST', '/api/acls', { targetId: target.id, groupId: group.id });
    const ini = await RawInitiator.connect(iscsiPort);
    try {
      assert.equal((await ini.login({ initiatorName: INITIATOR, targetName: IQN })).statusClass, 0, 'an empty group admits everyone');
      // a change made behind the API's back (config apply, another process): the store loses the mapping
      h.app.openlun.store.deleteMapping({ actor: 'test', ip: '127.0.0.1' }, h.app.openlun.store.listMappings()[0]!.id);
      const r = await api.call('PATCH', `/api/targets/${target.id}`, { alias: 'x' });
      assert.equal(r.status, 200);
      assert.match(r.headers.get('x-openlun-target') ?? '', /apply-failed; in-use/);
      assert.equal(rt.state!.targets[0]!.luns.length, 1, 'the LUN is still served');
    } finally {
      ini.close();
    }
  });
});

test('without a target daemon the API still works; live routes answer 503', async () => {
  await withServe(
    async (_h, api) => {
      assert.equal((await api.call('POST', '/api/setup', { password: 'serve-admin-pw-1' })).status, 201);
      const t = await api.call('POST', '/api/targets', { iqn: IQN });
      assert.equal(t.status, 201);
      assert.match(t.headers.get('x-openlun-target') ?? '', /apply-failed; unavailable/);
      const s = await api.call('GET', '/api/sessions');
      assert.equal(s.status, 503);
      assert.equal(s.json.error, 'target-unavailable');
    },
    { targetd: false },
  );
});

test('plain HTTP only on loopback', async () => {
  await assert.rejects(
    startServe({ dataDir: join(tmpdir(), 'openlun-serve-never-created'), host: '0.0.0.0', port: 0, spawnTarget: false, controlPath: '/tmp/x.sock', stateFile: '/tmp/x.json', tls: false, logLevel: 'error', selfArgv: [] }),
    /loopback/,
  );
});
