// The target pages' logic without a browser: ALUA changes that need a confirmation and what it says, portal group
// tags, portals per group, negotiation rules; the typed calls' URLs and bodies (a fake fetch); the wizard sends
// the preset with the LUN.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiClient, ApiError, type FetchLike, type Portal } from '../src/api.ts';
import { TargetsApi, type PortalGroup } from '../src/api-targets.ts';
import { aluaChangeNeedsConfirm, aluaConfirmText, formatKeyValue, nextFreeTag, parseTag, portalsByGroup, resultRule } from '../src/target-logic.ts';
import { buildPlan, initialValues, runPlan, type WizardApi } from '../src/wizard-steps.ts';

const g = (id: number, tag: number, aluaState: PortalGroup['aluaState'] = 'active-optimized'): PortalGroup => ({ id, targetId: 1, tag, aluaState });
const portal = (id: number, address: string, group: PortalGroup, port = 3260): Portal => ({ id, targetId: 1, address, port, portalGroupId: group.id, portalGroupTag: group.tag });

test('only a change that takes I/O away from a serving group asks first', () => {
  assert.equal(aluaChangeNeedsConfirm('active-optimized', 'standby'), true);
  assert.equal(aluaChangeNeedsConfirm('active-non-optimized', 'unavailable'), true);
  assert.equal(aluaChangeNeedsConfirm('active-optimized', 'active-non-optimized'), false);
  assert.equal(aluaChangeNeedsConfirm('standby', 'unavailable'), false, 'no I/O there already');
  assert.equal(aluaChangeNeedsConfirm('standby', 'active-optimized'), false);
  assert.equal(aluaChangeNeedsConfirm('standby', 'standby'), false);
});

test('the confirmation names the portals that stop getting I/O and where multipath goes', () => {
  const g1 = g(1, 1);
  const g2 = g(2, 2);
  const portals = [portal(1, '192.0.2.10', g1), portal(2, '198.51.100.7', g2), portal(3, '198.51.100.8', g2, 3261)];
  const t = aluaConfirmText(g2, portals, 'standby', [g1, g2]);
  assert.equal(t.title, 'Set portal group 2 to standby?');
  assert.match(t.body, /^Initiators connected on 198\.51\.100\.7:3260, 198\.51\.100\.8:3261 stop getting I\/O there/);
  assert.match(t.body, /Multipath moves I\/O to the other paths \(portal group 1\)\./);
  assert.doesNotMatch(t.body, /192\.0\.2\.10/);
  // the only serving group: the admin is told the LUNs become unreachable
  const alone = aluaConfirmText(g1, portals, 'unavailable', [g1, g(2, 2, 'standby')]);
  assert.match(alone.body, /No other portal group of this target serves I\/O/);
  assert.match(aluaConfirmText(g(3, 7), portals, 'standby', [g1, g(3, 7)]).body, /it has none yet/);
});

test('tags: the next free one, and typed ones checked like the API (1-65535, unique per target)', () => {
  assert.equal(nextFreeTag([]), 1);
  assert.equal(nextFreeTag([g(1, 1), g(2, 2), g(3, 4)]), 3);
  assert.deepEqual(parseTag(' 5 ', [g(1, 1)]), { tag: 5 });
  assert.deepEqual(parseTag('1', [g(1, 1)]), { error: 'portal group 1 already exists on this target' });
  for (const bad of ['0', '65536', '-1', '2.5', '', 'x']) assert.ok('error' in parseTag(bad, []), bad);
});

test('portals grouped by tag order, addresses sorted, empty groups kept', () => {
  const g1 = g(10, 2);
  const g2 = g(11, 1);
  const g3 = g(12, 9);
  const out = portalsByGroup([g1, g2, g3], [portal(1, '10.0.0.2', g1), portal(2, '10.0.0.1', g1), portal(3, '10.0.1.1', g2)]);
  assert.deepEqual(out.map((x) => [x.group.tag, x.portals.map((p) => p.address)]), [[1, ['10.0.1.1']], [2, ['10.0.0.1', '10.0.0.2']], [9, []]]);
});

test('negotiation rows: the result rule and values with units', () => {
  assert.equal(resultRule({ key: 'MaxBurstLength', result: 'Minimum' }), 'the lower of both offers');
  assert.equal(resultRule({ key: 'DefaultTime2Wait', result: 'Maximum' }), 'the higher of both offers');
  assert.equal(resultRule({ key: 'InitialR2T', result: 'OR' }), 'Yes if either side says Yes');
  assert.equal(formatKeyValue('MaxBurstLength', '262144'), '262144 (256 KiB)');
  assert.equal(formatKeyValue('FirstBurstLength', '1000'), '1000 bytes');
  assert.equal(formatKeyValue('DefaultTime2Retain', '20'), '20 s');
  assert.equal(formatKeyValue('HeaderDigest', 'CRC32C,None'), 'CRC32C, None');
  assert.equal(formatKeyValue('MaxConnections', '1'), '1');
});

function fakeFetch(status = 200, body: unknown = {}) {
  const calls: Array<{ method: string; url: string; body: unknown }> = [];
  const fetch: FetchLike = async (url, init) => {
    calls.push({ method: init?.method ?? 'GET', url, body: init?.body ? JSON.parse(String(init.body)) : undefined });
    return new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  };
  return { fetch, calls };
}

test('typed calls: portal groups, a portal into a group, discovery CHAP, negotiation', async () => {
  const { fetch, calls } = fakeFetch(200, []);
  const t = new TargetsApi(new ApiClient({ fetch, cookies: () => 'openlun_csrf=tok' }));
  await t.portalGroups(3);
  await t.createPortalGroup(3, 2, 'standby');
  await t.createPortalGroup(3, 4);
  await t.setAluaState(7, 'unavailable');
  await t.createPortal(3, '192.0.2.1', undefined, 7);
  await t.createPortal(3, '192.0.2.2', 3261, undefined);
  await t.setDiscoveryChap({ username: 'disc', secret: 'discovery-secret' });
  await t.negotiation();
  assert.deepEqual(calls, [
    { method: 'GET', url: '/api/portal-groups?targetId=3', body: undefined },
    { method: 'POST', url: '/api/portal-groups', body: { targetId: 3, tag: 2, aluaState: 'standby' } },
    { method: 'POST', url: '/api/portal-groups', body: { targetId: 3, tag: 4 } },
    { method: 'PATCH', url: '/api/portal-groups/7', body: { aluaState: 'unavailable' } },
    { method: 'POST', url: '/api/portals', body: { targetId: 3, address: '192.0.2.1', portalGroupId: 7 } },
    { method: 'POST', url: '/api/portals', body: { targetId: 3, address: '192.0.2.2', port: 3261 } },
    { method: 'PUT', url: '/api/chap/discovery', body: { username: 'disc', secret: 'discovery-secret' } },
    { method: 'GET', url: '/api/negotiation', body: undefined },
  ]);
});

test('discovery CHAP is the entry without a target; a refusal keeps the API message', async () => {
  const list = [{ id: 1, targetId: 4, username: 'a', mutualUsername: null }, { id: 2, targetId: null, username: 'disc', mutualUsername: 'tgt' }];
  const t = new TargetsApi(new ApiClient({ fetch: fakeFetch(200, list).fetch }));
  assert.equal((await t.discoveryChap())?.username, 'disc');
  const refused = new TargetsApi(new ApiClient({ fetch: fakeFetch(409, { error: 'in-use', message: 'portal group 2 still has 1 portal' }).fetch }));
  await assert.rejects(refused.deletePortalGroup(5), (e: unknown) => e instanceof ApiError && e.status === 409 && e.message === 'portal group 2 still has 1 portal');
});

test('the wizard sends the chosen preset with the LUN', async () => {
  const v = { ...initialValues('linux'), lunName: 'data01', size: '1', unit: 'GiB' as const, targetName: 'linux-hosts', initiators: 'iqn.2004-10.com.ubuntu:01:abc' };
  const plan = buildPlan(v, { baseIqn: 'iqn.2026-11.com.example' });
  const sent: unknown[] = [];
  const stop = new ApiError(409, 'conflict', 'stop here');
  const api = {
    createStorageLun: async (l: unknown) => (sent.push(l), { id: 1, name: 'data01' }),
    createTarget: async () => {
      throw stop;
    },
  } as unknown as WizardApi;
  const r = await runPlan(api, plan);
  assert.equal(r.failed?.kind, 'target');
  assert.deepEqual(sent, [{ name: 'data01', sizeBytes: 2 ** 30, blockSize: 4096, writeCache: 'write-back', backing: 'file', preset: 'linux' }]);
});
