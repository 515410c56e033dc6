// The management plane's access controls with real initiators, through `bin/openlun serve` (API → reconcile →
// targetd): an initiator group that restricts networks admits libiscsi from 127.0.0.1 with 127.0.0.0/8 and refuses
// it (authorization failure, RFC 7143 §11.13.5 0202h) with 10.0.0.0/8; DELETE /api/sessions/:tsih ends a running
// iscsi-perf session with a logout request (RFC 7143 §11.9.1) that libiscsi obeys; PUT /api/chap/discovery with
// mutual credentials reaches targetd and iscsi-ls discovers with them (and rejects a target that answers wrongly).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeTempDir, MiB, type TempDir } from './helpers/files.ts';
import { freePort } from './helpers/ports.ts';
import { describeRun, run, trackChild } from './helpers/run.ts';
import { endTargetd, startServeProcess, stopServeProcess, targetdPid, type ServeProcess } from './helpers/serve-process.ts';

const ROOT = join(import.meta.dirname, '..');
const TARGET_IQN = 'iqn.2026-11.org.openlun:cidr';
const INITIATOR = 'iqn.2026-11.org.openlun:cidr-host';
const ADMIN_PASSWORD = 'cidr-admin-password-1';
const DISCOVERY = { user: 'disc-initiator', secret: 'discovery-secret-1' } as const;
const DISCOVERY_TARGET = { user: 'disc-target', secret: 'discovery-target-2' } as const;

let dir: TempDir;
let dataDir: string;
let apiPort: number;
let iscsiPort: number;
let serve: ServeProcess | undefined;
let cookie = '';
let csrf = '';

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(`http://127.0.0.1:${apiPort}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(cookie ? { cookie, 'x-csrf-token': csrf } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (res.headers.getSetCookie().length > 0 && !cookie) cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  return { status: res.status, json: text ? JSON.parse(text) : undefined, headers: res.headers };
}

async function ok(method: string, path: string, body?: unknown): Promise<any> {
  const r = await api(method, path, body);
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`);
  assert.equal(r.headers.get('x-openlun-target'), null, `${method} ${path}: the target applied the change`);
  return r.json;
}

const url = (): string => `iscsi://127.0.0.1:${iscsiPort}/${TARGET_IQN}/0`;
const inquiry = () => run(['iscsi-inq', '-i', INITIATOR, url()], { timeoutMs: 20_000 });

/** libiscsi takes CHAP credentials from its environment (never argv): one-way and, for mutual, the target's. */
function discovery(login: { chap?: { user: string; secret: string }; target?: { user: string; secret: string } }) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['LIBISCSI_CHAP_USERNAME', 'LIBISCSI_CHAP_PASSWORD', 'LIBISCSI_CHAP_TARGET_USERNAME', 'LIBISCSI_CHAP_TARGET_PASSWORD']) delete env[k];
  if (login.chap) {
    env['LIBISCSI_CHAP_USERNAME'] = login.chap.user;
    env['LIBISCSI_CHAP_PASSWORD'] = login.chap.secret;
  }
  if (login.target) {
    env['LIBISCSI_CHAP_TARGET_USERNAME'] = login.target.user;
    env['LIBISCSI_CHAP_TARGET_PASSWORD'] = login.target.secret;
  }
  return run(['iscsi-ls', '-i', INITIATOR, `iscsi://127.0.0.1:${iscsiPort}`], { env, timeoutMs: 20_000 });
}

describe('network ACLs, ending sessions and discovery mutual CHAP through openlun serve', { timeout: 5 * 60_000 }, () => {
  let groupId = 0;

  before(async () => {
    dir = await makeTempDir('openlun-acl-cidr-');
    dataDir = dir.file('data');
    apiPort = await freePort();
    iscsiPort = await freePort();
    serve = await startServeProcess([join(ROOT, 'bin/openlun')], { dataDir, listen: `127.0.0.1:${apiPort}`, extraArgs: ['--no-tls'], logLevel: 'info', startTimeoutMs: 90_000 });
    const setup = await api('POST', '/api/setup', { password: ADMIN_PASSWORD });
    assert.equal(setup.status, 201, JSON.stringify(setup.json));
    csrf = setup.json.csrfToken;
    const lun = await ok('POST', '/api/luns', { name: 'cidr0', backing: 'file', sizeBytes: 16 * MiB, blockSize: 512 });
    const target = await ok('POST', '/api/targets', { iqn: TARGET_IQN });
    await ok('POST', '/api/portals', { targetId: target.id, address: '127.0.0.1', port: iscsiPort });
    await ok('POST', '/api/mappings', { targetId: target.id, lun: 0, lunId: lun.id });
    const group = await ok('POST', '/api/initiator-groups', { name: 'loopback-net', initiators: [], networks: ['127.0.0.0/8'] });
    groupId = group.id;
    await ok('POST', '/api/acls', { targetId: target.id, groupId });
  });

  after(async () => {
    await stopServeProcess(serve, 'SIGKILL');
    // serve leaves targetd running by design (the data path outlives the API); this test started it, so it ends it
    await endTargetd(await targetdPid(dataDir));
    await dir?.remove();
  });

  test('127.0.0.1 logs in with 127.0.0.0/8 and is refused with 10.0.0.0/8; targetd warns of nothing', async () => {
    const admitted = await inquiry();
    assert.equal(admitted.code, 0, describeRun(admitted));
    assert.match(admitted.stdout, /DIRECT_ACCESS/);

    await ok('PATCH', `/api/initiator-groups/${groupId}`, { networks: ['10.0.0.0/8'] });
    const refused = await inquiry();
    assert.notEqual(refused.code, 0, `logged in from outside the ACL's network:\n${describeRun(refused)}`);
    assert.match(refused.stderr + refused.stdout, /Authorization failure/i, describeRun(refused));
    // discovery shows an initiator only the targets it may log in to (RFC 7143 Appendix C)
    const hidden = await discovery({});
    assert.doesNotMatch(hidden.stdout, new RegExp(TARGET_IQN), describeRun(hidden));

    await ok('PATCH', `/api/initiator-groups/${groupId}`, { networks: ['127.0.0.0/8'] });
    const again = await inquiry();
    assert.equal(again.code, 0, describeRun(again));
    const log = await readFile(join(dataDir, 'targetd.log'), 'utf8');
    assert.doesNotMatch(log, /cannot check/, 'no "networks cannot be checked" warning any more');
    assert.match(log, /authorization failure/);
  });

  test('DELETE /api/sessions/:tsih ends a running iscsi-perf session: libiscsi logs out when asked', async () => {
    const perf = spawn('iscsi-perf', ['-i', INITIATOR, '-t', '60', url()], { stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(perf);
    try {
      let tsih: number | undefined;
      for (let i = 0; i < 100 && tsih === undefined; i++) {
        const list = (await ok('GET', '/api/sessions')) as Array<{ tsih: number; initiatorName: string; kind: string }>;
        tsih = list.find((s) => s.initiatorName === INITIATOR && s.kind === 'Normal')?.tsih;
        if (tsih === undefined) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(tsih !== undefined, 'iscsi-perf logged in');
      const started = Date.now();
      const r = await api('DELETE', `/api/sessions/${tsih}`);
      assert.equal(r.status, 204, JSON.stringify(r.json));
      assert.ok(Date.now() - started < 2000, 'the initiator logged out before the 2 s deadline');
      const after = (await ok('GET', '/api/sessions')) as Array<{ tsih: number }>;
      assert.equal(after.some((s) => s.tsih === tsih), false, `session ${tsih} is gone`);
      const log = await readFile(join(dataDir, 'targetd.log'), 'utf8');
      assert.match(log, new RegExp(`asking TSIH ${tsih} to log out`));
      assert.match(log, new RegExp(`logout of ${INITIATOR}`));
      const audit = (await ok('GET', '/api/audit')) as Array<{ action: string; object: string; detail: Record<string, unknown> }>;
      const entry = audit.find((a) => a.action === 'session.end' && a.object === `session ${tsih}`);
      assert.ok(entry, 'audited');
      assert.equal(entry.detail['ended'], 'logged-out');
      assert.equal(entry.detail['initiator'], INITIATOR);
      const missing = await api('DELETE', `/api/sessions/${tsih}`);
      assert.equal(missing.status, 404, 'the same session cannot be ended twice');
    } finally {
      perf.kill('SIGKILL');
    }
  });

  test('PUT /api/chap/discovery with mutual credentials: iscsi-ls discovers with both secrets, nothing less', async () => {
    await ok('PUT', '/api/chap/discovery', {
      username: DISCOVERY.user,
      secret: DISCOVERY.secret,
      mutualUsername: DISCOVERY_TARGET.user,
      mutualSecret: DISCOVERY_TARGET.secret,
    });
    const mutual = await discovery({ chap: DISCOVERY, target: DISCOVERY_TARGET });
    assert.equal(mutual.code, 0, describeRun(mutual));
    assert.match(mutual.stdout, new RegExp(`Target:${TARGET_IQN} Portal:127\\.0\\.0\\.1:${iscsiPort}`), describeRun(mutual));
    const log = await readFile(join(dataDir, 'targetd.log'), 'utf8');
    assert.match(log, /discovery session \(TSIH \d+, ISID [0-9a-f]+, auth CHAP mutual/, 'the target proved itself to the initiator');
    assert.doesNotMatch(log, /mutual CHAP for discovery sessions is not supported/);
    for (const secret of [DISCOVERY.secret, DISCOVERY_TARGET.secret]) assert.ok(!log.includes(secret), 'no secret in the targetd log');

    const wrongTarget = await discovery({ chap: DISCOVERY, target: { user: DISCOVERY_TARGET.user, secret: 'not-the-target-3' } });
    assert.notEqual(wrongTarget.code, 0, `the initiator accepted a target that does not know the mutual secret:\n${describeRun(wrongTarget)}`);
    const noCreds = await discovery({});
    assert.notEqual(noCreds.code, 0, `discovered without CHAP:\n${describeRun(noCreds)}`);
    const wrongInitiator = await discovery({ chap: { user: DISCOVERY.user, secret: 'wrong-secret-456' }, target: DISCOVERY_TARGET });
    assert.notEqual(wrongInitiator.code, 0, `discovered with a wrong secret:\n${describeRun(wrongInitiator)}`);

    // taken away again: discovery is open
    const del = await api('DELETE', '/api/chap/discovery');
    assert.equal(del.status, 204);
    const open = await discovery({});
    assert.equal(open.code, 0, describeRun(open));
  });
});
