// The self-test end to end: `openlun serve` (in-process, plain HTTP on loopback) with an in-process targetd, and the
// real iscsi-test-cu logging in to the scratch target the self-test creates through the store. Checks the totals
// come from the suite, one run at a time, the scratch objects (target, LUN, file, group) are gone afterwards even
// when the target daemon refuses, the audit log has the run, and the access rules (anonymous, read-only, CSRF, bad
// family, suite missing).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ServeHandle } from '../src/serve.ts';
import { findExecutable } from '../src/selftest/runner.ts';
import { selftestRoutes } from '../src/routes/selftest.ts';
import type { TargetRuntime } from '../../target/src/daemon/runtime.ts';
import { as, createReader, newApp, setupAdmin } from './support/fixture.ts';
import { withInProcessServe, type SessionClient as Client } from './support/serve-in-process.ts';

const skip = findExecutable('iscsi-test-cu') ? false : 'iscsi-test-cu missing (apt-get install libiscsi-bin)';

async function withServe(fn: (h: ServeHandle, api: Client, rt: TargetRuntime) => Promise<void>): Promise<void> {
  await withInProcessServe('openlun-selftest-', ({ serve, rt }, api) => fn(serve, api, rt));
}

async function waitDone(api: Client, id: number): Promise<any> {
  for (let i = 0; i < 600; i++) {
    const r = await api.call('GET', `/api/selftest/${id}`);
    assert.equal(r.status, 200);
    if (r.json.state === 'done' || r.json.state === 'error') return r.json;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error('self-test did not finish in 60 s');
}

test('iscsi-test-cu runs against a scratch LUN served by targetd; totals, one at a time, cleanup, audit', { skip, timeout: 90_000 }, async () => {
  await withServe(async (h, api, rt) => {
    assert.equal((await api.call('POST', '/api/setup', { password: 'selftest-admin-pw' })).status, 201);
    const overview = await api.call('GET', '/api/selftest');
    assert.equal(overview.json.available, true);
    assert.ok(overview.json.defaultFamilies.includes('Inquiry'));

    // a family the suite does not have is refused by the schema, and nothing is created
    const bad = await api.call('POST', '/api/selftest', { families: ['Inquiry', 'NoSuchFamily'] });
    assert.equal(bad.status, 400);
    assert.match(bad.json.message, /body\/families\/1 must be one of/);
    assert.equal((await api.call('GET', '/api/luns')).json.length, 0);

    const started = await api.call('POST', '/api/selftest', { families: ['Inquiry', 'ReadCapacity16', 'Write10', 'CompareAndWrite'] });
    assert.equal(started.status, 202, JSON.stringify(started.json));
    const again = await api.call('POST', '/api/selftest', {});
    assert.equal(again.status, 409);
    assert.match(again.json.message, /still running/);

    // while it runs the scratch target is real: targetd serves it on a loopback portal
    let sawTarget = false;
    for (let i = 0; i < 100 && !sawTarget; i++) {
      sawTarget = rt.state?.targets.some((t) => t.name.endsWith(':openlun-selftest')) ?? false;
      if (!sawTarget) await new Promise((r) => setTimeout(r, 20));
    }
    const run = await waitDone(api, started.json.id);
    assert.equal(run.state, 'done', JSON.stringify(run));
    assert.equal(run.verdict, 'passed', JSON.stringify(run.cases.filter((c: any) => c.status !== 'passed')));
    // Inquiry 7 + ReadCapacity16 4 + Write10 6 + CompareAndWrite 5 as libiscsi 1.19 lists them
    assert.equal(run.progress.total, run.cases.length);
    assert.ok(run.cases.length >= 15, `${run.cases.length} cases`);
    assert.equal(run.counts.passed + run.counts.skippedNotApplicable, run.cases.length);
    assert.equal(run.counts.failed, 0);
    assert.equal(run.progress.done, run.cases.length);
    assert.ok(run.cases.some((c: any) => c.suite === 'CompareAndWrite' && c.name === 'Simple' && c.status === 'passed'));
    assert.ok(sawTarget || run.cleanup.length > 0, 'the scratch target existed');
    assert.deepEqual(run.cleanup.sort(), ['LUN openlun-selftest', 'initiator group openlun-selftest', `target ${run.target}`].sort());

    // nothing left: store, target daemon, pool file
    assert.equal((await api.call('GET', '/api/targets')).json.length, 0);
    assert.equal((await api.call('GET', '/api/luns')).json.length, 0);
    assert.equal((await api.call('GET', '/api/initiator-groups')).json.length, 0);
    assert.equal(rt.state?.targets.length, 0);
    assert.equal(existsSync(join(h.app.openlun.store.pool.pathFor('openlun-selftest'))), false);
    const audit = (await api.call('GET', '/api/audit?limit=100')).json as Array<{ action: string; actor: string; detail: any }>;
    const finish = audit.find((e) => e.action === 'selftest.finish')!;
    assert.equal(finish.detail.verdict, 'passed');
    assert.equal(finish.detail.counts.passed, run.counts.passed);
    assert.ok(audit.some((e) => e.action === 'lun.create' && e.actor === 'admin (self-test)'));
  });
});

test('the scratch objects are removed when the target daemon refuses, and a leftover from a crash is cleared first', { skip, timeout: 30_000 }, async () => {
  let syncs = 0;
  const f = await newApp({
    extend: async (a) => {
      // targetd refusing the first apply (the one that would serve the scratch target)
      await a.register(selftestRoutes({ store: a.openlun.store, sync: async () => {
        syncs++;
        if (syncs === 1) throw new Error('targetd refused the apply');
      } }));
    },
  });
  try {
    const admin = await setupAdmin(f.app);
    const store = f.app.openlun.store;
    // a leftover of an interrupted run
    store.createLun({ actor: 'crash', ip: '127.0.0.1' }, { name: 'openlun-selftest', backing: 'file', sizeBytes: 1024 * 1024, blockSize: 512 });
    const started = await f.app.inject({ method: 'POST', url: '/api/selftest', headers: as(admin), payload: {} });
    assert.equal(started.statusCode, 202, started.body);
    let run: any;
    for (let i = 0; i < 200; i++) {
      run = (await f.app.inject({ method: 'GET', url: `/api/selftest/${started.json().id}`, headers: as(admin) })).json();
      if (run.state === 'done' || run.state === 'error') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(run.state, 'error');
    assert.equal(run.verdict, 'failed');
    assert.match(run.message, /could not run: targetd refused the apply/);
    assert.equal(syncs, 2, 'the cleanup was applied too');
    assert.equal(store.listLuns().length, 0);
    assert.equal(store.listTargets().length, 0);
    assert.equal(store.listInitiatorGroups().length, 0);
    assert.equal(existsSync(store.pool.pathFor('openlun-selftest')), false);
  } finally {
    await f.close();
  }
});

test('access: anonymous 401, read-only 403, CSRF 403; suite not installed 503', async () => {
  const f = await newApp({
    extend: async (a) => {
      await a.register(selftestRoutes({ store: a.openlun.store, sync: async () => undefined, executable: false }));
    },
  });
  try {
    const admin = await setupAdmin(f.app);
    const reader = await createReader(f.app, admin);
    assert.equal((await f.app.inject({ method: 'GET', url: '/api/selftest' })).statusCode, 401);
    assert.equal((await f.app.inject({ method: 'POST', url: '/api/selftest', payload: {} })).statusCode, 401);
    assert.equal((await f.app.inject({ method: 'GET', url: '/api/selftest', headers: as(reader) })).statusCode, 403);
    assert.equal((await f.app.inject({ method: 'POST', url: '/api/selftest', headers: as(reader), payload: {} })).statusCode, 403);
    assert.equal((await f.app.inject({ method: 'POST', url: '/api/selftest', headers: { cookie: admin.cookie }, payload: {} })).statusCode, 403);
    const overview = (await f.app.inject({ method: 'GET', url: '/api/selftest', headers: as(admin) })).json();
    assert.equal(overview.available, false);
    assert.match(overview.unavailableReason, /libiscsi-bin/);
    const r = await f.app.inject({ method: 'POST', url: '/api/selftest', headers: as(admin), payload: {} });
    assert.equal(r.statusCode, 503);
    assert.match(r.json().message, /not installed.*libiscsi-bin/);
    assert.equal(f.app.openlun.store.listLuns().length, 0);
  } finally {
    await f.close();
  }
});
