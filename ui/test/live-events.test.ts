import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LiveSession } from '../src/api-live.ts';
import { HISTORY_POINTS, LiveEvents, endedSessions, sessionIdentity, totalsOf, type EventSourceLike, type LunRates, type StatsEvent } from '../src/live-events.ts';

/** A scripted EventSource: the test plays the server. */
class FakeSource implements EventSourceLike {
  readyState = 0;
  onopen: ((ev: Event) => unknown) | null = null;
  onerror: ((ev: Event) => unknown) | null = null;
  closed = false;
  private readonly listeners = new Map<string, Array<(ev: MessageEvent) => void>>();
  constructor(readonly url: string) {}
  addEventListener(type: string, listener: (ev: MessageEvent) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  close(): void {
    this.closed = true;
    this.readyState = 2;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.(new Event('open'));
  }
  send(type: string, data: unknown): void {
    const ev = new MessageEvent(type, { data: typeof data === 'string' ? data : JSON.stringify(data) });
    for (const l of this.listeners.get(type) ?? []) l(ev);
  }
  fail(closed: boolean): void {
    this.readyState = closed ? 2 : 0;
    this.onerror?.(new Event('error'));
  }
}

function harness(opts: { idleCloseMs?: number } = {}) {
  const sources: FakeSource[] = [];
  let now = 1_000_000;
  const live = new LiveEvents(
    (url) => {
      const s = new FakeSource(url);
      sources.push(s);
      return s;
    },
    '/api/events',
    () => now,
    opts.idleCloseMs ?? 0,
  );
  const seen: string[] = [];
  for (const t of ['stats', 'sessions', 'target', 'alert', 'change', 'state']) live.addEventListener(t, (e) => seen.push(`${t}:${t === 'state' || t === 'change' ? String((e as CustomEvent).detail) : ''}`));
  return { live, sources, seen, advance: (ms: number) => (now += ms) };
}

const lun = (o: Partial<LunRates>): LunRates => ({
  target: 'iqn.2026-11.org.openlun:a',
  lun: 0,
  backstore: null,
  readIops: 0,
  writeIops: 0,
  readBytesPerSec: 0,
  writeBytesPerSec: 0,
  errorsPerSec: 0,
  avgLatencyUs: null,
  inFlight: 0,
  ...o,
});

const session = (tsih: number, remote = `10.0.0.5:${40000 + tsih}`, since = '2026-11-28T03:00:00.000Z'): LiveSession => ({
  tsih,
  kind: 'Normal',
  initiatorName: `iqn.1998-01.com.vmware:esx${tsih}`,
  isid: '80123456789a',
  target: 'iqn.2026-11.org.openlun:a',
  remote,
  portal: '10.0.0.1:3260',
  since,
  params: { maxBurstLength: 262144 },
  tasks: 0,
});

test('totals add the LUNs up; latency is weighted by each LUN\'s IOPS and null when nothing completed', () => {
  const ev: StatsEvent = {
    at: 5000,
    intervalMs: 2000,
    luns: [
      lun({ readIops: 300, writeIops: 100, readBytesPerSec: 1000, writeBytesPerSec: 10, avgLatencyUs: 100 }),
      lun({ lun: 1, readIops: 100, writeIops: 0, readBytesPerSec: 500, avgLatencyUs: 500 }),
      lun({ lun: 2, avgLatencyUs: null }),
    ],
  };
  // (100 µs × 400 + 500 µs × 100) / 500 = 180 µs
  assert.deepEqual(totalsOf(ev), { at: 5000, readIops: 400, writeIops: 100, readBytesPerSec: 1500, writeBytesPerSec: 10, latencyUs: 180 });
  assert.equal(totalsOf({ at: 1, intervalMs: 2000, luns: [lun({})] }).latencyUs, null);
  // commands completed but the rates rounded to 0 IOPS: the plain mean, not a division by zero
  assert.equal(totalsOf({ at: 1, intervalMs: 2000, luns: [lun({ avgLatencyUs: 40 }), lun({ lun: 1, avgLatencyUs: 60 })] }).latencyUs, 50);
});

test('ended sessions are found by identity: a TSIH handed to a new login is a different session', () => {
  const a = session(1);
  const b = session(2);
  assert.deepEqual(endedSessions([a, b], [b]), [a]);
  assert.deepEqual(endedSessions([a], [a, b]), []);
  const again = session(1, '10.0.0.5:50000', '2026-11-28T03:05:00.000Z');
  assert.notEqual(sessionIdentity(a), sessionIdentity(again));
  assert.deepEqual(endedSessions([a], [again]), [a]);
});

test('the stream opens on the first subscriber and closes after the last one (after a grace period)', async () => {
  const { live, sources } = harness({ idleCloseMs: 20 });
  assert.equal(live.state, 'idle');
  assert.equal(sources.length, 0, 'nothing opened before a page asks');
  const stopA = live.subscribe();
  const stopB = live.subscribe();
  assert.equal(sources.length, 1, 'one stream however many pages');
  assert.equal(sources[0]!.url, '/api/events');
  assert.equal(live.state, 'connecting');
  sources[0]!.open();
  assert.equal(live.state, 'open');
  stopA();
  stopA(); // twice is once
  assert.equal(sources[0]!.closed, false);
  stopB();
  // a page change unsubscribes one page just before the next subscribes: the stream survives that
  const stopC = live.subscribe();
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(sources[0]!.closed, false);
  assert.equal(sources.length, 1);
  stopC();
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(sources[0]!.closed, true);
  assert.equal(live.state, 'idle');
});

test('stats build the chart history; the first (zero-interval) sample and garbage are skipped; history is bounded', () => {
  const { live, sources, seen } = harness();
  live.subscribe();
  const src = sources[0]!;
  src.open();
  src.send('stats', { at: 1000, intervalMs: 0, luns: [lun({})] });
  assert.equal(live.history.length, 0);
  assert.ok(live.lastStats);
  src.send('stats', 'not json');
  src.send('stats', { at: 3000 });
  assert.equal(live.lastStats!.at, 1000, 'malformed events change nothing');
  for (let i = 1; i <= HISTORY_POINTS + 10; i++) src.send('stats', { at: 1000 + i * 2000, intervalMs: 2000, luns: [lun({ readIops: i })] });
  assert.equal(live.history.length, HISTORY_POINTS);
  assert.equal(live.history.at(-1)!.readIops, HISTORY_POINTS + 10);
  assert.equal(live.history[0]!.readIops, 11);
  // the server restarted its clock (or the stream): an older sample starts the history over
  src.send('stats', { at: 500, intervalMs: 2000, luns: [lun({ readIops: 7 })] });
  assert.deepEqual(live.history.map((p) => p.readIops), [7]);
  assert.ok(!seen.includes('change:stats'), 'stats alone are not a change pages reload for');
});

test('sessions: the first list is a baseline; later lists report what ended, dropped or ended by the admin', () => {
  const { live, sources, seen, advance } = harness();
  live.subscribe();
  const src = sources[0]!;
  src.open();
  const a = session(1);
  const b = session(2);
  src.send('sessions', [a, b]);
  assert.deepEqual(live.sessions, [a, b]);
  assert.equal(live.ended.length, 0);
  assert.ok(!seen.includes('change:sessions'), 'the first list only repeats what pages loaded');
  live.noteEnding(a);
  advance(1000);
  src.send('sessions', [b]);
  assert.deepEqual(live.ended, [{ session: a, at: 1_001_000, byAdmin: true }]);
  assert.ok(seen.includes('change:sessions'));
  advance(1000);
  // b's initiator is killed; a logs in again and happens to get TSIH 1 back: not the session the admin ended
  const a2 = session(1, '10.0.0.5:50001', '2026-11-28T04:00:00.000Z');
  src.send('sessions', [a2]);
  assert.deepEqual(live.ended[0], { session: b, at: 1_002_000, byAdmin: false });
  src.send('sessions', []);
  assert.deepEqual(live.ended[0], { session: a2, at: 1_002_000, byAdmin: false });
});

test('target availability, server alerts and the end of the stream', () => {
  const { live, sources, seen } = harness();
  live.subscribe();
  const src = sources[0]!;
  src.open();
  src.send('target', { available: false, message: 'connect ENOENT' });
  assert.deepEqual(live.target, { available: false, message: 'connect ENOENT' });
  assert.ok(seen.includes('change:target'));
  // the shape api/src/storage emits: {at, level, source, message, detail}
  src.send('alert', { at: 42, level: 'error', source: 'snapshot-schedule', message: 'snapshot schedule 3 (lun 1) failed: no space', detail: {} });
  src.send('alert', { message: '' });
  src.send('alert', { level: 'weird', message: 'pool vg0/tp0 data above 80 %' });
  assert.deepEqual(live.alerts, [
    { level: 'warning', message: 'pool vg0/tp0 data above 80 %', at: 1_000_000 },
    { level: 'critical', message: 'snapshot schedule 3 (lun 1) failed: no space', at: 42, source: 'snapshot-schedule' },
  ]);
  // signed out: the server says so and the stream is not reopened with a dead session
  src.send('end', { reason: 'signed out' });
  assert.equal(src.closed, true);
  assert.equal(live.state, 'closed');
  assert.equal(sources.length, 1);
  src.send('stats', { at: 9, intervalMs: 2000, luns: [] });
  assert.equal(live.lastStats, undefined, 'a closed stream delivers nothing');
});

test('the browser reconnects by itself on a network error; an HTTP refusal is retried by us; a reconnect is a change', async () => {
  const { live, sources, seen } = harness();
  live.subscribe();
  sources[0]!.open();
  sources[0]!.fail(false);
  assert.equal(live.state, 'retrying');
  assert.equal(sources.length, 1, 'EventSource retries on its own (the server sent retry:)');
  sources[0]!.open();
  assert.equal(live.state, 'open');
  assert.deepEqual(seen.filter((s) => s.startsWith('change')), ['change:reconnected'], 'the pages reload what they show after a gap');
  // a 429 or 401: EventSource gives up (readyState CLOSED); we try again later
  sources[0]!.fail(true);
  assert.equal(sources[0]!.closed, true);
  assert.equal(live.state, 'retrying');
  await new Promise((r) => setTimeout(r, 2100));
  assert.equal(sources.length, 2);
  assert.equal(live.state, 'connecting');
});

test('onChange keeps the stream open and calls back on changes only until stopped', () => {
  const { live, sources } = harness();
  let calls = 0;
  const stop = live.onChange(() => calls++);
  assert.equal(sources.length, 1);
  const src = sources[0]!;
  src.open();
  src.send('sessions', []);
  src.send('sessions', [session(3)]);
  src.send('stats', { at: 1, intervalMs: 2000, luns: [] });
  assert.equal(calls, 1);
  stop();
  src.send('target', { available: true });
  assert.equal(calls, 1);
});
