// Settings beyond hostname/IQN (TLS certificate replacement, ports, time) and the audit log's filters, over
// app.inject(). Certificates are made by openssl (argv) in a temp dir.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { applianceSettingsRoutes } from '../src/routes/appliance-settings.ts';
import { as, createReader, newApp, setupAdmin, type Fixture } from './support/fixture.ts';

let certs: string;
let f: Fixture | undefined;

function makePair(name: string, extra: string[] = []): { cert: string; key: string } {
  const key = join(certs, `${name}.key`);
  const cert = join(certs, `${name}.crt`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '30', '-subj', `/CN=${name}.example`, ...extra], { stdio: 'ignore' });
  return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
}

before(() => {
  certs = mkdtempSync(join(tmpdir(), 'openlun-certs-'));
});
after(() => rmSync(certs, { recursive: true, force: true }));
afterEach(async () => {
  await f?.close();
  f = undefined;
});

test('TLS certificate: shown, replaced by a matching PEM pair (0600, audited, pending a restart); bad uploads change nothing', async () => {
  const active = makePair('active');
  const next = makePair('nas01', ['-addext', 'subjectAltName=DNS:nas01.example']);
  const other = makePair('other');
  const data = join(certs, 'data');
  f = await newApp({
    dataDir: data,
    extend: async (a) => {
      await a.register(applianceSettingsRoutes({ dataDir: data, web: { host: '0.0.0.0', port: 8443, tls: true }, activeCertificate: Buffer.from(active.cert) }));
    },
  });
  const admin = await setupAdmin(f.app);
  const reader = await createReader(f.app, admin);
  const get = async () => (await f!.app.inject({ method: 'GET', url: '/api/settings/appliance', headers: as(reader) })).json();
  const before = await get();
  assert.equal(before.tls.certificate, null, 'no certificate file yet');
  assert.deepEqual(before.ports.web, { host: '0.0.0.0', port: 8443, tls: true });
  assert.equal(before.ports.iscsiDefault, 3260);
  assert.ok(Math.abs(Date.parse(before.time.now) - Date.now()) < 60_000);
  assert.ok(before.time.timezone.length > 0);

  const put = (body: unknown, who = admin) => f!.app.inject({ method: 'PUT', url: '/api/settings/tls', headers: as(who), payload: body as object });
  // key of another certificate
  const mismatch = await put({ certificate: next.cert, key: other.key });
  assert.equal(mismatch.statusCode, 400);
  assert.deepEqual(mismatch.json().fields.map((x: { field: string }) => x.field), ['key']);
  assert.match(mismatch.json().message, /does not belong to the certificate/);
  // not a certificate, not a key: both fields at once
  const garbage = await put({ certificate: 'hello', key: 'world' });
  assert.equal(garbage.statusCode, 400);
  assert.deepEqual(garbage.json().fields.map((x: { field: string }) => x.field).sort(), ['certificate', 'key']);
  const encrypted = await put({ certificate: next.cert, key: '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n' });
  assert.match(encrypted.json().message, /encrypted/);
  assert.equal((await put({ certificate: next.cert, key: next.key }, reader)).statusCode, 403);
  assert.equal((await f.app.inject({ method: 'PUT', url: '/api/settings/tls', headers: { cookie: admin.cookie }, payload: { certificate: next.cert, key: next.key } })).statusCode, 403);
  assert.equal((await get()).tls.certificate, null, 'nothing written by a refused upload');

  const ok = await put({ certificate: next.cert, key: next.key });
  assert.equal(ok.statusCode, 200, ok.body);
  assert.match(ok.json().subject, /CN=nas01\.example/);
  assert.match(ok.json().subjectAltName, /nas01\.example/);
  const after = await get();
  assert.equal(after.tls.certificate.fingerprint256, ok.json().fingerprint256);
  assert.equal(after.tls.restartPending, true);
  const dir = join(data, 'tls');
  for (const file of ['cert.pem', 'key.pem']) assert.equal(statSync(join(dir, file)).mode & 0o777, 0o600, file);
  assert.equal(readFileSync(join(dir, 'key.pem'), 'utf8').trim(), next.key.trim());
  const audit = (await f.app.inject({ method: 'GET', url: '/api/audit?action=tls', headers: as(admin) })).json();
  assert.equal(audit.length, 1);
  assert.equal(audit[0].action, 'tls.replace');
  assert.ok(!JSON.stringify(audit).includes('PRIVATE KEY'), 'the key never reaches the audit log');
});

test('audit log filters: user (with token/self-test variants), action prefix, literal text, date range; total for paging', async () => {
  f = await newApp();
  const admin = await setupAdmin(f.app);
  const store = f.app.openlun.store;
  store.audit({ actor: 'admin (token)', ip: '10.0.0.9' }, 'lun.create', 'lun vm_01', { sizeBytes: 1 });
  store.audit({ actor: 'operator', ip: '10.0.0.7' }, 'shell.start', 'shell', { pid: 4242 });
  store.audit({ actor: 'operator', ip: '10.0.0.7' }, 'shell.end', 'shell', { bytesOut: 100 });
  store.audit({ actor: 'administrator', ip: '10.0.0.8' }, 'shellfish.eat', 'lunch 100%', {});
  const q = async (query: string) => {
    const r = await f!.app.inject({ method: 'GET', url: `/api/audit?${query}`, headers: as(admin) });
    assert.equal(r.statusCode, 200, r.body);
    return { rows: r.json() as Array<{ actor: string; action: string; object: string }>, total: Number(r.headers['x-total-count']) };
  };
  const all = await q('');
  assert.equal(all.total, all.rows.length);
  // "admin" matches admin and "admin (token)", never "administrator"
  const byAdmin = await q('user=admin');
  assert.ok(byAdmin.rows.length >= 2);
  assert.ok(byAdmin.rows.every((r) => r.actor === 'admin' || r.actor === 'admin (token)'), JSON.stringify(byAdmin.rows));
  // "shell" is a prefix of shell.start and shell.end, not of shellfish.eat
  assert.deepEqual((await q('action=shell')).rows.map((r) => r.action), ['shell.end', 'shell.start']);
  // text: in the detail, and "%" / "_" taken literally
  assert.deepEqual((await q('q=4242')).rows.map((r) => r.action), ['shell.start']);
  assert.deepEqual((await q('q=100%25')).rows.map((r) => r.object), ['lunch 100%']);
  assert.deepEqual((await q('q=vm_0')).rows.map((r) => r.object), ['lun vm_01']);
  assert.equal((await q('q=vm%250')).rows.length, 0);
  // combined with paging
  const page = await q('user=operator&limit=1&offset=1');
  assert.equal(page.total, 2);
  assert.deepEqual(page.rows.map((r) => r.action), ['shell.start']);
  // date range: nothing before the epoch+1s, everything up to a minute from now
  assert.equal((await q(`to=1000`)).total, 0);
  assert.equal((await q(`from=0&to=${Date.now() + 60_000}`)).total, all.total);
  const bad = await f.app.inject({ method: 'GET', url: '/api/audit?from=yesterday&colour=red', headers: as(admin) });
  assert.equal(bad.statusCode, 400);
  assert.deepEqual(bad.json().fields.map((x: { field: string }) => x.field).sort(), ['querystring/colour', 'querystring/from']);
});

test('users: an admin cannot delete their own account (409, nothing changes); another admin can', async () => {
  f = await newApp();
  const admin = await setupAdmin(f.app);
  const me = (await f.app.inject({ method: 'GET', url: '/api/me', headers: as(admin) })).json();
  const self = await f.app.inject({ method: 'DELETE', url: `/api/users/${me.user.id}`, headers: as(admin) });
  assert.equal(self.statusCode, 409);
  assert.match(self.json().message, /cannot delete your own account/);
  assert.equal((await f.app.inject({ method: 'GET', url: '/api/users', headers: as(admin) })).json().length, 1);
  const second = await f.app.inject({ method: 'POST', url: '/api/users', headers: as(admin), payload: { username: 'second', password: 'second-admin-pw', role: 'admin' } });
  assert.equal(second.statusCode, 201);
  const other = await f.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'second', password: 'second-admin-pw' } });
  const s2 = { cookie: other.cookies.map((c) => `${c.name}=${c.value}`).join('; '), csrf: (other.json() as { csrfToken: string }).csrfToken };
  assert.equal((await f.app.inject({ method: 'DELETE', url: `/api/users/${me.user.id}`, headers: as(s2) })).statusCode, 204);
  assert.deepEqual((await f.app.inject({ method: 'GET', url: '/api/users', headers: as(s2) })).json().map((u: { username: string }) => u.username), ['second']);
});
