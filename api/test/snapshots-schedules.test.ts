// Snapshot schedules: the pure "which are due" function on a fake clock, retention that prunes only the
// schedule's own snapshots, the routes' validation, and a failing run reported as an alert and audited.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { SnapshotScheduler, dueSchedules, nextRunAt, prunable } from '../src/storage/schedules.ts';
import type { Alert } from '../src/storage/schedules.ts';
import { as, createReader, newApp, setupAdmin, type Fixture, type Session } from './support/fixture.ts';

const MIN = 60_000;
const T0 = Date.parse('2026-11-28T04:00:00Z');

describe('dueSchedules (fake clock)', () => {
  const s = (everyMinutes: number, lastRunAt: number | null) => ({ everyMinutes, createdAt: T0, lastRunAt });
  test('due once the interval has passed since the last run (or creation); a missed run is one run', () => {
    const every5 = s(5, null);
    assert.deepEqual(dueSchedules([every5], T0 + 4 * MIN + 59_999), []);
    assert.deepEqual(dueSchedules([every5], T0 + 5 * MIN), [every5]);
    const ran = s(5, T0 + 5 * MIN);
    assert.deepEqual(dueSchedules([ran], T0 + 9 * MIN), []);
    assert.deepEqual(dueSchedules([ran], T0 + 10 * MIN), [ran]);
    const hourly = s(60, T0);
    assert.equal(nextRunAt(hourly), T0 + 60 * MIN);
    // down for a day: due now, once; after this run the next is an hour from now
    assert.deepEqual(dueSchedules([hourly, ran], T0 + 24 * 60 * MIN).length, 2);
    assert.equal(nextRunAt({ ...hourly, lastRunAt: T0 + 24 * 60 * MIN }), T0 + 25 * 60 * MIN);
  });
  test('prunable: only this schedule\'s snapshots, oldest first, beyond keep', () => {
    const names = ['auto-1-20261128T040000Z', 'manual', 'auto-1-20261128T050000Z', 'auto-12-20261128T030000Z', 'auto-1-20261128T030000Z'];
    assert.deepEqual(prunable(names, 1, 2), ['auto-1-20261128T030000Z']);
    assert.deepEqual(prunable(names, 1, 3), []);
    assert.deepEqual(prunable(names, 12, 1), []);
    assert.deepEqual(prunable(names, 1, 1), ['auto-1-20261128T030000Z', 'auto-1-20261128T040000Z']);
  });
});

describe('snapshot schedules through the API and the scheduler', () => {
  let f: Fixture;
  let app: FastifyInstance;
  let admin: Session;
  let reader: Session;
  let now = T0;
  before(async () => {
    f = await newApp({ now: () => now });
    app = f.app;
    admin = await setupAdmin(app);
    reader = await createReader(app, admin);
  });
  after(async () => f.close());
  type Method = 'GET' | 'POST' | 'DELETE';
  const call = async (method: Method, url: string, payload?: unknown, who: Session | null = admin) => {
    const res = await app.inject({ method, url, headers: who ? as(who) : {}, ...(payload === undefined ? {} : { payload: payload as object }) });
    return { status: res.statusCode, body: res.body ? (res.json() as any) : undefined };
  };

  test('validation, auth, presets', async () => {
    const lun = (await call('POST', '/api/luns', { name: 'db', backing: 'file', sizeBytes: 1 << 20, blockSize: 512 })).body;
    assert.equal((await call('GET', '/api/snapshot-schedules', undefined, null)).status, 401);
    assert.equal((await call('POST', '/api/snapshot-schedules', { lunId: lun.id, everyMinutes: 5, keep: 2 }, reader)).status, 403);
    const bad = await call('POST', '/api/snapshot-schedules', { lunId: lun.id, everyMinutes: 4, keep: 0 });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.fields.map((x: { field: string }) => x.field).sort(), ['body/everyMinutes', 'body/keep']);
    assert.equal((await call('POST', '/api/snapshot-schedules', { lunId: lun.id, everyMinutes: 'monthly', keep: 2 })).status, 400);
    assert.equal((await call('POST', '/api/snapshot-schedules', { lunId: lun.id, keep: 2 })).status, 400);
    assert.equal((await call('POST', '/api/snapshot-schedules', { lunId: lun.id, keep: 101, everyMinutes: 10 })).status, 400);
    assert.equal((await call('POST', '/api/snapshot-schedules', { lunId: 999, everyMinutes: 5, keep: 2 })).status, 404);
    assert.deepEqual((await call('GET', '/api/snapshot-schedules')).body, []);
    const daily = await call('POST', '/api/snapshot-schedules', { lunId: lun.id, everyMinutes: 'daily', keep: 7 });
    assert.equal(daily.status, 201, JSON.stringify(daily.body));
    assert.equal(daily.body.everyMinutes, 1440);
    assert.equal(daily.body.preset, 'daily');
    assert.equal(daily.body.nextRunAt, T0 + 1440 * MIN);
    const weekly = await call('POST', '/api/snapshot-schedules', { lunId: lun.id, preset: 'weekly', keep: 1 });
    assert.equal(weekly.body.everyMinutes, 7 * 1440);
    assert.equal((await call('DELETE', `/api/snapshot-schedules/${weekly.body.id}`, undefined, reader)).status, 403);
    assert.equal((await call('DELETE', `/api/snapshot-schedules/${weekly.body.id}`)).status, 204);
    assert.equal((await call('DELETE', `/api/snapshot-schedules/${daily.body.id}`)).status, 204);
    assert.equal((await call('DELETE', `/api/snapshot-schedules/${daily.body.id}`)).status, 404);
  });

  test('runs when due, keeps the newest `keep` of its own, never prunes manual snapshots; failures alert', async () => {
    const lun = (await call('GET', '/api/luns')).body.find((l: { name: string }) => l.name === 'db');
    assert.equal((await call('POST', `/api/luns/${lun.id}/snapshots`, { name: 'manual' })).status, 201);
    const s = (await call('POST', '/api/snapshot-schedules', { lunId: lun.id, everyMinutes: 5, keep: 2 })).body;
    const other = (await call('POST', '/api/snapshot-schedules', { lunId: lun.id, everyMinutes: 60, keep: 1 })).body;
    const scheduler = new SnapshotScheduler(app.openlun.storage, { now: () => now });
    const alerts: Alert[] = [];
    scheduler.on('alert', (a) => alerts.push(a));
    assert.deepEqual(await scheduler.tick(), [], 'nothing due at creation');
    for (let i = 1; i <= 4; i++) {
      now = T0 + i * 5 * MIN;
      const out = await scheduler.tick();
      assert.equal(out.length, 1, `tick ${i}`);
      assert.equal(out[0]!.error, null);
    }
    const names = (await call('GET', `/api/luns/${lun.id}/snapshots`)).body.map((x: { name: string }) => x.name).sort();
    assert.deepEqual(names, [`auto-${s.id}-20261128T041500Z`, `auto-${s.id}-20261128T042000Z`, 'manual']);
    const snaps = (await call('GET', `/api/luns/${lun.id}/snapshots`)).body;
    assert.equal(snaps.find((x: { name: string }) => x.name.startsWith('auto-')).scheduleId, s.id);
    now = T0 + 60 * MIN; // both due now
    const both = await scheduler.tick();
    assert.deepEqual(both.map((o) => o.scheduleId).sort(), [s.id, other.id].sort());
    const after = (await call('GET', `/api/luns/${lun.id}/snapshots`)).body.map((x: { name: string }) => x.name).sort();
    assert.deepEqual(after, [`auto-${other.id}-20261128T050000Z`, `auto-${s.id}-20261128T042000Z`, `auto-${s.id}-20261128T050000Z`, 'manual'].sort());
    const listed = (await call('GET', '/api/snapshot-schedules')).body.find((x: { id: number }) => x.id === s.id);
    assert.equal(listed.lastRunAt, T0 + 60 * MIN);
    assert.equal(listed.lastError, null);
    assert.equal(alerts.length, 0);

    // a run that fails (the same stamp again: the snapshot exists) is recorded, audited and alerted
    const fail = await scheduler.runOne({ ...listed, lastRunAt: null });
    assert.match(fail.error!, /already has a snapshot named auto-/);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]!.source, 'snapshot-schedule');
    assert.match(alerts[0]!.message, new RegExp(`snapshot schedule ${s.id} .*failed`));
    assert.match((await call('GET', '/api/snapshot-schedules')).body.find((x: { id: number }) => x.id === s.id).lastError, /already has a snapshot/);
    const audit = (await call('GET', '/api/audit?limit=200')).body.filter((a: { action: string }) => a.action === 'snapshot-schedule.run');
    assert.equal(audit.length, 7);
    assert.equal(audit[0].actor, 'scheduler');
    assert.match(audit[0].detail.error, /already has a snapshot/);
    // deleting the LUN deletes its schedules
    assert.equal((await call('DELETE', `/api/luns/${lun.id}?deleteData=true`)).status, 204);
    assert.deepEqual((await call('GET', '/api/snapshot-schedules')).body, []);
    await scheduler.stop();
  });
});
