// GET /metrics: the exposition text parses back to what targetd reported (label escaping included), counters only
// grow between scrapes, histogram buckets are cumulative and end in +Inf = _count; a read-only token may scrape,
// nobody else; without targetd the scrape is a 503, not a crash.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { renderMetrics, METRICS_CONTENT_TYPE, type MetricsInput } from '../src/routes/metrics.ts';
import { startServe, type ServeHandle } from '../src/serve.ts';
import { startControlServer } from '../../target/src/daemon/control.ts';
import { TargetRuntime } from '../../target/src/daemon/runtime.ts';
import { RawInitiator } from '../../target/test/support/raw-initiator.ts';
import { capturingLogger } from '../../target/test/support/target-fixture.ts';
import { freePort } from '../../e2e/helpers/ports.ts';

const IQN = 'iqn.2026-11.org.openlun:metrics-test';
const INITIATOR = 'iqn.2026-11.org.openlun:metrics-host';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict parser for the subset of the 0.0.4 text format we emit (it throws on anything else). */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  assert.ok(text.endsWith('\n'), 'the last line ends in a line feed');
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.slice(0, -1).split('\n')) {
    const t = /^# TYPE (\S+) (counter|gauge|histogram)$/.exec(line);
    if (t) {
      types.set(t[1]!, t[2]!);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    assert.ok(m, `not a sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      const body = m[2].slice(1, -1);
      let i = 0;
      while (i < body.length) {
        const lm = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(body.slice(i));
        assert.ok(lm, `bad label at ${body.slice(i)}`);
        i += lm[0].length;
        let value = '';
        for (;;) {
          const c = body[i++];
          assert.ok(c !== undefined, 'unterminated label value');
          if (c === '"') break;
          if (c === '\\') {
            const e = body[i++];
            assert.ok(e === '\\' || e === '"' || e === 'n', `bad escape \\${e}`);
            value += e === 'n' ? '\n' : e;
          } else {
            assert.notEqual(c, '\n');
            value += c;
          }
        }
        labels[lm[1]!] = value;
        if (body[i] === ',') i++;
      }
    }
    const v = m[3]!;
    samples.push({ name: m[1]!, labels, value: v === '+Inf' ? Infinity : Number(v) });
  }
  return { samples, types };
}

const key = (s: Sample): string => `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`;

function checkHistograms(samples: Sample[]): void {
  const series = new Map<string, Sample[]>();
  for (const s of samples.filter((x) => x.name.endsWith('_bucket'))) {
    const { le: _le, ...rest } = s.labels;
    const k = `${s.name}${JSON.stringify(rest)}`;
    series.set(k, [...(series.get(k) ?? []), s]);
  }
  for (const [k, buckets] of series) {
    const les = buckets.map((b) => Number(b.labels['le'] === '+Inf' ? Infinity : b.labels['le']));
    assert.deepEqual(les, [...les].sort((a, b) => a - b), `${k}: le ascending`);
    assert.equal(les.at(-1), Infinity, `${k}: ends in +Inf`);
    for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]!.value >= buckets[i - 1]!.value, `${k}: cumulative`);
    const base = buckets[0]!.name.replace(/_bucket$/, '');
    const { le: _le, ...rest } = buckets[0]!.labels;
    const count = samples.find((s) => s.name === `${base}_count` && JSON.stringify(s.labels) === JSON.stringify(rest));
    assert.equal(count?.value, buckets.at(-1)!.value, `${k}: +Inf bucket equals _count`);
    assert.ok(samples.some((s) => s.name === `${base}_sum` && JSON.stringify(s.labels) === JSON.stringify(rest)), `${k}: has _sum`);
  }
}

const lun = (n: number, extra: Partial<MetricsInput['stats'][0]['luns'][0]> = {}): MetricsInput['stats'][0]['luns'][0] => ({
  lun: n,
  readOps: 3,
  writeOps: 2,
  otherOps: 1,
  readBytes: 4096,
  writeBytes: 1024,
  errors: 1,
  inFlight: 0,
  latency: { bucketsUs: [50, 100, 1000], counts: [1, 0, 4, 1], sumUs: 2_500 },
  ...extra,
});

test('rendered metrics parse back: escaped labels, cumulative buckets in seconds, sessions per target, pool', () => {
  const odd = 'iqn.x:"quoted"\\back\nline';
  const text = renderMetrics({
    stats: [
      { target: IQN, luns: [lun(0), lun(7, { inFlight: 2 })] },
      { target: odd, luns: [lun(1)] },
    ],
    sessions: [
      { kind: 'Normal', target: IQN.toUpperCase() },
      { kind: 'Normal', target: IQN },
      { kind: 'Discovery' },
    ],
    pool: { sizeBytes: 1000, usedBytes: 400, freeBytes: 500 },
    thinPools: [{ vg: 'vg0', pool: 'thin0', sizeBytes: 4096, usedBytes: 1024, dataPercent: 25, metadataPercent: 12.5, virtualBytes: 16384 }],
  });
  const { samples, types } = parseExposition(text);
  assert.equal(types.get('openlun_lun_read_ops_total'), 'counter');
  assert.equal(types.get('openlun_lun_latency_seconds'), 'histogram');
  assert.equal(types.get('openlun_lun_in_flight'), 'gauge');
  const find = (name: string, labels: Record<string, string>) =>
    samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  assert.equal(find('openlun_lun_read_ops_total', { target: odd, lun: '1' }), 3, 'the odd name round-trips through escaping');
  assert.ok(text.includes('target="iqn.x:\\"quoted\\"\\\\back\\nline"'));
  assert.equal(find('openlun_lun_write_bytes_total', { target: IQN, lun: '0' }), 1024);
  assert.equal(find('openlun_lun_in_flight', { target: IQN, lun: '7' }), 2);
  assert.deepEqual(
    samples.filter((s) => s.name === 'openlun_lun_latency_seconds_bucket' && s.labels['lun'] === '0' && s.labels['target'] === IQN).map((s) => [s.labels['le'], s.value]),
    [['0.00005', 1], ['0.0001', 1], ['0.001', 5], ['+Inf', 6]],
  );
  assert.equal(find('openlun_lun_latency_seconds_sum', { target: IQN, lun: '0' }), 0.0025);
  assert.equal(find('openlun_target_sessions', { target: IQN }), 2, 'iSCSI names compare case-insensitively');
  assert.equal(find('openlun_target_sessions', { target: odd }), 0);
  assert.equal(find('openlun_discovery_sessions', {}), 1);
  assert.equal(find('openlun_pool_free_bytes', {}), 500);
  assert.equal(find('openlun_thin_pool_data_ratio', { vg: 'vg0', pool: 'thin0' }), 0.25);
  assert.equal(find('openlun_thin_pool_metadata_ratio', { vg: 'vg0', pool: 'thin0' }), 0.125);
  assert.equal(find('openlun_thin_pool_virtual_bytes', { vg: 'vg0', pool: 'thin0' }), 16384);
  assert.equal(types.get('openlun_thin_pool_used_bytes'), 'gauge');
  checkHistograms(samples);
  // without a pool the pool families are left out, not reported as 0
  assert.ok(!renderMetrics({ stats: [], sessions: [] }).includes('openlun_pool'));
  assert.ok(!renderMetrics({ stats: [], sessions: [] }).includes('openlun_thin_pool'));
});

async function withServe(fn: (h: ServeHandle, port: number) => Promise<void>, o: { targetd?: boolean } = {}): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'openlun-metrics-'));
  const log = capturingLogger();
  const rt = new TargetRuntime({ log, nopIntervalMs: 0 });
  const sock = join(dir, 'target.sock');
  const control = o.targetd === false ? undefined : await startControlServer(sock, rt, log);
  let h: ServeHandle | undefined;
  try {
    h = await startServe({ dataDir: join(dir, 'data'), host: '127.0.0.1', port: 0, spawnTarget: false, controlPath: sock, stateFile: join(dir, 'state.json'), tls: false, logLevel: 'error', selfArgv: [] });
    await fn(h, await freePort());
  } finally {
    await h?.close();
    await control?.close();
    await rt.close(100);
    await rm(dir, { recursive: true, force: true });
  }
}

/** Admin session, a read-only user and a Bearer token for it. */
async function signIn(app: FastifyInstance): Promise<{ admin: Record<string, string>; reader: Record<string, string> }> {
  const setup = await app.inject({ method: 'POST', url: '/api/setup', payload: { password: 'metrics-admin-pw-1' } });
  assert.equal(setup.statusCode, 201);
  const admin = { cookie: setup.cookies.map((c) => `${c.name}=${c.value}`).join('; '), 'x-csrf-token': setup.json().csrfToken };
  const user = await app.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { username: 'prometheus', password: 'metrics-reader-pw-1', role: 'read-only' } });
  assert.equal(user.statusCode, 201, user.body);
  const token = await app.inject({ method: 'POST', url: '/api/tokens', headers: admin, payload: { name: 'scraper', userId: user.json().id } });
  assert.equal(token.statusCode, 201, token.body);
  return { admin, reader: { authorization: `Bearer ${token.json().secret}` } };
}

function read10(lba: number, blocks: number): Buffer {
  const cdb = Buffer.alloc(10);
  cdb[0] = 0x28; // SBC-4 §5.16 READ (10)
  cdb.writeUInt32BE(lba, 2);
  cdb.writeUInt16BE(blocks, 7);
  return cdb;
}

test('a read-only token scrapes live counters; they only grow; sessions and pool are reported', async () => {
  await withServe(async (h, iscsiPort) => {
    const app = h.app;
    const { admin, reader } = await signIn(app);
    const post = async (url: string, payload: unknown) => {
      const r = await app.inject({ method: 'POST', url, headers: admin, payload: payload as object });
      assert.equal(r.statusCode, 201, `${url}: ${r.body}`);
      return r.json();
    };
    const l = await post('/api/luns', { name: 'm0', backing: 'file', sizeBytes: 1024 * 1024, blockSize: 512 });
    const t = await post('/api/targets', { iqn: IQN });
    await post('/api/portals', { targetId: t.id, address: '127.0.0.1', port: iscsiPort });
    await post('/api/mappings', { targetId: t.id, lun: 0, lunId: l.id });
    const g = await post('/api/initiator-groups', { name: 'hosts', initiators: [INITIATOR] });
    await post('/api/acls', { targetId: t.id, groupId: g.id });

    assert.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 401, 'anonymous');
    assert.equal((await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer olt_nope' } })).statusCode, 401, 'bad token');
    const first = await app.inject({ method: 'GET', url: '/metrics', headers: reader });
    assert.equal(first.statusCode, 200, first.body);
    assert.equal(first.headers['content-type'], METRICS_CONTENT_TYPE);
    const before = parseExposition(first.body).samples;
    const val = (samples: Sample[], name: string) => samples.find((s) => s.name === name && s.labels['target'] === IQN)?.value;
    assert.equal(val(before, 'openlun_target_sessions'), 0);
    assert.ok((before.find((s) => s.name === 'openlun_pool_size_bytes')?.value ?? 0) > 0, 'statfs of the pool');

    const ini = await RawInitiator.connect(iscsiPort);
    try {
      assert.equal((await ini.login({ initiatorName: INITIATOR, targetName: IQN })).statusClass, 0);
      // SAM-5 §5.14: the first command after login reports the power-on unit attention; TEST UNIT READY takes it
      await ini.result(ini.command(Buffer.alloc(6)));
      for (let i = 0; i < 3; i++) assert.equal((await ini.result(ini.command(read10(i, 2), { read: true, edtl: 1024 }))).status, 0);
      const second = await app.inject({ method: 'GET', url: '/metrics', headers: admin });
      assert.equal(second.statusCode, 200, 'a session works as well');
      const after = parseExposition(second.body).samples;
      checkHistograms(after);
      assert.equal(val(after, 'openlun_target_sessions'), 1);
      assert.equal(val(after, 'openlun_lun_read_ops_total'), 3);
      assert.equal(val(after, 'openlun_lun_read_bytes_total'), 3 * 1024);
      assert.equal(val(after, 'openlun_lun_in_flight'), 0);
      assert.equal(val(after, 'openlun_lun_other_ops_total'), 1);
      assert.equal(val(after, 'openlun_lun_latency_seconds_count'), 4);
      assert.equal(val(after, 'openlun_lun_errors_total'), 1, 'the unit attention');
      // counters and cumulative buckets never go down between scrapes
      for (let i = 0; i < 2; i++) assert.equal((await ini.result(ini.command(read10(i, 1), { read: true, edtl: 512 }))).status, 0);
      const third = parseExposition((await app.inject({ method: 'GET', url: '/metrics', headers: reader })).body).samples;
      assert.equal(val(third, 'openlun_lun_read_ops_total'), 5);
      const earlier = new Map(after.map((s) => [key(s), s.value]));
      let compared = 0;
      for (const s of third.filter((x) => x.name.endsWith('_total') || x.name.endsWith('_bucket') || x.name.endsWith('_count') || x.name.endsWith('_sum'))) {
        const e = earlier.get(key(s));
        assert.ok(e !== undefined, `${key(s)} was in the earlier scrape`);
        compared++;
        assert.ok(s.value >= e, `${key(s)} went from ${e} to ${s.value}`);
      }
      assert.ok(compared > 20, `compared ${compared} series`);
    } finally {
      ini.close();
    }
  });
});

test('without targetd /metrics answers 503 with a reason', async () => {
  await withServe(
    async (h) => {
      const { reader } = await signIn(h.app);
      const r = await h.app.inject({ method: 'GET', url: '/metrics', headers: reader });
      assert.equal(r.statusCode, 503);
      assert.equal(r.json().error, 'target-unavailable');
      assert.match(r.json().message, /not reachable/);
      assert.equal((await h.app.inject({ method: 'GET', url: '/api/health' })).statusCode, 200, 'the API lives on');
    },
    { targetd: false },
  );
});
