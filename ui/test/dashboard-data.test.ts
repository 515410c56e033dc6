import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiClient, ApiError, type FetchLike } from '../src/api.ts';
import { endSession, fetchStorage, fetchSystem, poolUsages, type LiveSession, type StorageSummary, type SystemInfo, type ThinPool } from '../src/api-live.ts';
import { CHARTS, toColumns, translucent, yRange } from '../src/charts/series.ts';
import { CRITICAL_FRACTION, ENDED_VISIBLE_MS, deriveAlerts, type AlertInput } from '../src/dashboard-alerts.ts';
import { formatCompact, formatCompactBytes, formatDuration, formatIops, formatLatency, formatRate, formatSince, paramRows } from '../src/live-format.ts';

function fakeFetch(routes: Record<string, { status: number; body?: unknown }>): { fetch: FetchLike; calls: string[] } {
  const calls: string[] = [];
  const fetch: FetchLike = async (url, init) => {
    calls.push(`${init?.method ?? 'GET'} ${url}`);
    const r = routes[`${init?.method ?? 'GET'} ${url}`];
    if (!r) return new Response(JSON.stringify({ error: 'not-found', message: 'Route not found' }), { status: 404 });
    return new Response(r.body === undefined ? null : JSON.stringify(r.body), { status: r.status, headers: { 'content-type': 'application/json' } });
  };
  return { fetch, calls };
}

const summary = (o: Partial<StorageSummary> = {}): StorageSummary => ({
  mode: 'file',
  filePool: { path: '/var/lib/openlun/luns', sizeBytes: 100 * 2 ** 30, freeBytes: 15 * 2 ** 30, usedBytes: 85 * 2 ** 30 },
  vgs: [],
  softThresholdPercent: 80,
  ...o,
});

const pool = (o: Partial<ThinPool> = {}): ThinPool => ({
  vg: 'vg0',
  name: 'tp0',
  sizeBytes: 2 ** 40,
  metadataBytes: 2 ** 30,
  dataPercent: 50,
  metadataPercent: 10,
  usedBytes: 2 ** 39,
  thinVolumes: ['lun1', 'lun2'],
  virtualBytes: 2 ** 41,
  overcommit: 2,
  thresholds: { data: 80, metadata: 75 },
  ...o,
});

test('fetchSystem: the report, or undefined where the appliance has no such route; other errors are errors', async () => {
  const report = { hostname: 'nas01' } as SystemInfo;
  assert.deepEqual(await fetchSystem(new ApiClient({ fetch: fakeFetch({ 'GET /api/system': { status: 200, body: report } }).fetch })), report);
  assert.equal(await fetchSystem(new ApiClient({ fetch: fakeFetch({}).fetch })), undefined);
  await assert.rejects(fetchSystem(new ApiClient({ fetch: fakeFetch({ 'GET /api/system': { status: 500, body: { error: 'internal', message: 'boom' } } }).fetch })), (e: unknown) => e instanceof ApiError && e.status === 500);
});

test('fetchStorage asks for thin pools only in LVM mode', async () => {
  const file = fakeFetch({ 'GET /api/storage': { status: 200, body: summary() } });
  assert.deepEqual(await fetchStorage(new ApiClient({ fetch: file.fetch })), { summary: summary(), thinPools: [] });
  assert.deepEqual(file.calls, ['GET /api/storage']);
  const lvm = fakeFetch({ 'GET /api/storage': { status: 200, body: summary({ mode: 'lvm' }) }, 'GET /api/storage/pools': { status: 200, body: [pool()] } });
  assert.deepEqual((await fetchStorage(new ApiClient({ fetch: lvm.fetch })))?.thinPools, [pool()]);
  assert.equal(await fetchStorage(new ApiClient({ fetch: fakeFetch({}).fetch })), undefined);
});

test('endSession sends DELETE /api/sessions/:tsih with the CSRF token; a refusal carries the API\'s message', async () => {
  const calls: Array<{ url: string; init: RequestInit | undefined }> = [];
  const fetch: FetchLike = async (url, init) => {
    calls.push({ url, init });
    return url.endsWith('/7') ? new Response(null, { status: 204 }) : new Response(JSON.stringify({ error: 'forbidden', message: 'administrators only' }), { status: 403 });
  };
  const api = new ApiClient({ fetch, cookies: () => 'openlun_csrf=tok123' });
  await endSession(api, 7);
  assert.equal(calls[0]!.url, '/api/sessions/7');
  assert.equal(calls[0]!.init?.method, 'DELETE');
  assert.equal((calls[0]!.init?.headers as Record<string, string>)['x-csrf-token'], 'tok123');
  await assert.rejects(endSession(api, 8), (e: unknown) => e instanceof ApiError && e.status === 403 && e.message === 'administrators only');
});

test('poolUsages: the file pool against the soft threshold, VGs allocated, thin pools data and metadata against theirs', () => {
  const file = poolUsages(summary(), []);
  assert.equal(file.length, 1);
  assert.equal(file[0]!.name, '/var/lib/openlun/luns');
  assert.equal(file[0]!.usedFraction, 0.85);
  assert.equal(file[0]!.warnAt, 0.8);
  // an empty file system reports 0 bytes: no bar rather than a division by zero
  assert.deepEqual(poolUsages(summary({ filePool: { path: '/x', sizeBytes: 0, freeBytes: 0, usedBytes: 0 } }), []), []);
  const lvm = poolUsages(summary({ mode: 'lvm', softThresholdPercent: 90, vgs: [{ name: 'vg0', size: 1000, free: 250, lvCount: 2, missingPvCount: 0, partial: false, luns: [] }] }), [pool()]);
  assert.deepEqual(
    lvm.map((p) => [p.kind, p.name, p.measure, p.usedFraction, p.warnAt, p.overcommit]),
    [
      ['vg', 'vg0', 'allocated', 0.75, 0.9, undefined],
      ['thin', 'vg0/tp0', 'data', 0.5, 0.8, 2],
      ['thin', 'vg0/tp0', 'metadata', 0.1, 0.75, undefined],
    ],
  );
});

const baseInput = (o: Partial<AlertInput> = {}): AlertInput => ({ pools: [], system: undefined, target: undefined, ended: [], serverAlerts: [], now: 10_000_000, ...o });

const sess = (tsih: number): LiveSession => ({
  tsih,
  kind: 'Normal',
  initiatorName: `iqn.1991-05.com.microsoft:hv${tsih}`,
  isid: '400001370000',
  target: 'iqn.2026-11.org.openlun:hv',
  remote: `10.0.0.9:5${tsih}`,
  portal: '10.0.0.1:3260',
  since: '2026-11-28T03:00:00.000Z',
  params: {},
  tasks: 0,
});

test('alerts: nothing wrong, nothing said', () => {
  assert.deepEqual(deriveAlerts(baseInput({ pools: poolUsages(summary({ filePool: { path: '/p', sizeBytes: 100, freeBytes: 50, usedBytes: 50 } }), []), target: { available: true } })), []);
});

test('alerts: a pool at its threshold warns, near full is critical, most severe first', () => {
  const pools = poolUsages(summary({ mode: 'lvm' }), [pool({ dataPercent: 80 }), pool({ name: 'tp1', metadataPercent: 96 })]);
  const alerts = deriveAlerts(baseInput({ pools }));
  assert.deepEqual(
    alerts.map((a) => [a.level, a.id]),
    [
      ['critical', 'pool:thin:vg0/tp1:metadata'],
      ['warning', 'pool:thin:vg0/tp0:data'],
    ],
  );
  assert.match(alerts[1]!.text, /vg0\/tp0 data is 80 % used \(threshold 80 %\)/);
  assert.ok(CRITICAL_FRACTION > 0.8);
});

test('alerts: a failing disk, the target daemon away, memory nearly gone', () => {
  const system = {
    memory: { totalBytes: 1000, usedBytes: 980, availableBytes: 20 },
    disks: [
      { name: 'sda', model: 'WDC WD40EFRX', health: 'failed' },
      { name: 'sdb', model: 'QEMU HARDDISK', health: 'unknown' },
      { name: 'sdc', model: 'Samsung 870', health: 'passed' },
    ],
  } as unknown as SystemInfo;
  const alerts = deriveAlerts(baseInput({ system, target: { available: false, message: 'connect ENOENT /run/openlun/target.sock' } }));
  assert.deepEqual(alerts.map((a) => a.id), ['target', 'disk:sda', 'memory']);
  assert.match(alerts[0]!.text, /not answering: connect ENOENT/);
  assert.match(alerts[1]!.text, /sda \(WDC WD40EFRX\) is failing its SMART health check/);
});

test('alerts: a dropped session for a while; one ended by the admin never; server alerts by their level', () => {
  const now = 10_000_000;
  const ended = [
    { session: sess(1), at: now - 1000, byAdmin: false },
    { session: sess(2), at: now - 2000, byAdmin: true },
    { session: sess(3), at: now - ENDED_VISIBLE_MS - 1, byAdmin: false },
  ];
  const serverAlerts = [
    { level: 'critical' as const, message: 'snapshot failed', at: now - 5, source: 'snapshot-schedule' },
    // the pool bars show a pool's state; its threshold events are not repeated
    { level: 'warning' as const, message: 'file pool /p is 81 % full', at: now - 4, source: 'pool' },
  ];
  const alerts = deriveAlerts(baseInput({ ended, serverAlerts, now }));
  assert.deepEqual(alerts.map((a) => a.level), ['critical', 'warning']);
  assert.equal(alerts[0]!.text, 'snapshot failed');
  assert.match(alerts[1]!.text, /^Session dropped at \d\d:\d\d:\d\d: iqn\.1991-05\.com\.microsoft:hv1 \(10\.0\.0\.9:51\) from iqn\.2026-11\.org\.openlun:hv\.$/);
});

test('chart series: columns in seconds, gaps kept as null, a y range that never collapses', () => {
  const points = [
    { at: 2000, readIops: 10, writeIops: 1, readBytesPerSec: 4096, writeBytesPerSec: 0, latencyUs: 250 },
    { at: 4000, readIops: 20, writeIops: 2, readBytesPerSec: 8192, writeBytesPerSec: 512, latencyUs: null },
  ];
  assert.deepEqual(toColumns('iops', points), [[2, 4], [10, 20], [1, 2]]);
  assert.deepEqual(toColumns('throughput', points), [[2, 4], [4096, 8192], [0, 512]]);
  assert.deepEqual(toColumns('latency', points), [[2, 4], [250, null]]);
  assert.deepEqual(toColumns('iops', []), [[], [], []]);
  assert.deepEqual(yRange('iops', 0), [0, CHARTS.iops.minTop]);
  assert.deepEqual(yRange('iops', null), [0, CHARTS.iops.minTop]);
  assert.deepEqual(yRange('iops', 1000), [0, 1150]);
  assert.equal(translucent('#1d4ed8', 0.5), 'rgba(29, 78, 216, 0.5)');
  assert.equal(translucent('rgb(1 2 3)', 0.5), undefined);
});

test('live numbers read well', () => {
  assert.equal(formatIops(0), '0 IOPS');
  assert.equal(formatIops(2.5), '2.5 IOPS');
  assert.equal(formatIops(12345.6), '12,346 IOPS');
  assert.equal(formatRate(1536 * 1024), '1.5 MiB/s');
  assert.equal(formatRate(null), '—');
  assert.equal(formatLatency(250), '250 µs');
  assert.equal(formatLatency(1500), '1.50 ms');
  assert.equal(formatLatency(25_000), '25 ms');
  assert.equal(formatLatency(null), '—');
  assert.equal(formatDuration(3 * 86400 + 4 * 3600 + 5), '3 d 4 h');
  assert.equal(formatDuration(7260), '2 h 1 min');
  assert.equal(formatDuration(59), '59 s');
  assert.equal(formatSince('2026-11-28T03:00:00.000Z', Date.parse('2026-11-28T03:05:30.000Z')), '5 min ago');
  assert.equal(formatSince('garbage', 0), 'garbage');
  assert.equal(formatCompact(1500), '1.5k');
  assert.equal(formatCompactBytes(3 * 2 ** 20), '3M');
});

test('negotiated parameters as RFC 7143 spells them, sizes readable, sorted', () => {
  assert.deepEqual(paramRows({ maxBurstLength: 262144, initialR2T: false, headerDigest: true, dataDigest: false, maxOutstandingR2T: 1 }), [
    { key: 'DataDigest', value: 'None' },
    { key: 'HeaderDigest', value: 'CRC32C' },
    { key: 'InitialR2T', value: 'No' },
    { key: 'MaxBurstLength', value: '262144 (256 KiB)' },
    { key: 'MaxOutstandingR2T', value: '1' },
  ]);
});
