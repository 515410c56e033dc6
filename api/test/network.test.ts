// GET/PUT /api/network through app.inject(), with the real helper (systemd/libexec/openlun-netconfig) writing into
// a scratch directory instead of /etc/systemd/network (--dir DIR --no-apply: no networkd to reload here).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { as, createReader, newApp, setupAdmin, type Fixture, type Session } from './support/fixture.ts';

const HELPER = join(dirname(fileURLToPath(import.meta.url)), '../../systemd/libexec/openlun-netconfig');
const netDir = mkdtempSync(join(tmpdir(), 'openlun-net-'));
const STATIC_FILE = join(netDir, '10-openlun-static.network');
const IFACES = [{ name: 'ens3', mac: '52:54:00:12:34:56', addresses: ['10.0.2.15/24'] }, { name: 'ens4', mac: null, addresses: [] }];

let f: Fixture;
let app: FastifyInstance;
let admin: Session;
let reader: Session;
before(async () => {
  f = await newApp({ network: { helper: [HELPER, '--dir', netDir, '--no-apply'], interfaces: () => IFACES } });
  app = f.app;
  admin = await setupAdmin(app);
  reader = await createReader(app, admin);
});
after(async () => {
  await f.close();
  rmSync(netDir, { recursive: true, force: true });
});

async function call(method: 'GET' | 'PUT', s: Session, payload?: object) {
  const res = await app.inject({ method, url: '/api/network', headers: as(s), ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: res.json() as any };
}
const auditCount = async () => ((await app.inject({ method: 'GET', url: '/api/audit?limit=1000', headers: as(admin) })).json() as { action: string }[])
  .filter((a) => a.action === 'network.update').length;

describe('/api/network', () => {
  test('DHCP by default, with the interfaces and their addresses', async () => {
    const r = await call('GET', admin);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.mode, 'dhcp');
    assert.deepEqual(r.body.interfaces, IFACES);
  });

  test('a static address becomes a networkd file; GET reads it back; audited', async () => {
    const r = await call('PUT', admin, { mode: 'static', interface: 'ens3', address: '10.0.2.15', prefixLength: 24, gateway: '10.0.2.2', dns: ['10.0.2.3', '192.0.2.53'] });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual({ ...r.body, interfaces: undefined }, { mode: 'static', interface: 'ens3', address: '10.0.2.15', prefixLength: 24, gateway: '10.0.2.2', dns: ['10.0.2.3', '192.0.2.53'], interfaces: undefined });
    const file = readFileSync(STATIC_FILE, 'utf8');
    assert.match(file, /^\[Match\]\nName=ens3$/m);
    assert.match(file, /^Address=10\.0\.2\.15\/24$/m);
    assert.match(file, /^Gateway=10\.0\.2\.2$/m);
    assert.deepEqual(file.match(/^DNS=.*$/gm), ['DNS=10.0.2.3', 'DNS=192.0.2.53']);
    assert.match(file, /^DHCP=no$/m);
    assert.equal((await call('GET', admin)).body.address, '10.0.2.15');
    assert.equal(await auditCount(), 1);
  });

  test('bad input: every problem named by field, and nothing changes', async () => {
    const before = readFileSync(STATIC_FILE, 'utf8');
    const audits = await auditCount();
    const cases: [object, string][] = [
      [{ mode: 'static', interface: 'ens3', address: '10.0.2.16', prefixLength: 24, gateway: '10.0.3.1' }, 'gateway'],
      [{ mode: 'static', interface: 'ens9', address: '10.0.2.16', prefixLength: 24 }, 'interface'],
      [{ mode: 'static', interface: 'ens3', address: '10.0.2.256', prefixLength: 24 }, 'address'],
      [{ mode: 'static', interface: 'ens3', address: '10.0.2.0', prefixLength: 24 }, 'address'],
      [{ mode: 'static', interface: 'ens3', address: '10.0.2.255', prefixLength: 24 }, 'address'],
      [{ mode: 'static', interface: 'ens3', address: '10.0.2.16' }, 'prefixLength'],
      [{ mode: 'static', interface: 'ens3;reboot', address: '10.0.2.16', prefixLength: 24 }, 'interface'],
      [{ mode: 'static', interface: 'ens3', address: '10.0.2.16', prefixLength: 24, dns: ['8.8.8'] }, 'dns[0]'],
    ];
    for (const [payload, field] of cases) {
      const r = await call('PUT', admin, payload);
      assert.equal(r.status, 400, `${JSON.stringify(payload)} → ${r.status} ${JSON.stringify(r.body)}`);
      assert.ok(r.body.fields?.some((p: { field: string }) => p.field === field), `${JSON.stringify(payload)}: no ${field} in ${JSON.stringify(r.body)}`);
    }
    // schema-level refusals (unknown mode, extra property, prefix out of range) are 400 too
    for (const payload of [{ mode: 'pppoe' }, { mode: 'dhcp', shell: 'x' }, { mode: 'static', interface: 'ens3', address: '10.0.2.16', prefixLength: 33 }]) {
      assert.equal((await call('PUT', admin, payload)).status, 400, JSON.stringify(payload));
    }
    assert.equal(readFileSync(STATIC_FILE, 'utf8'), before);
    assert.equal(await auditCount(), audits);
    assert.deepEqual(readdirSync(netDir), ['10-openlun-static.network'], 'no temporary file left behind');
  });

  test('read-only users may read it but not change it', async () => {
    assert.equal((await call('GET', reader)).body.mode, 'static');
    assert.equal((await call('PUT', reader, { mode: 'dhcp' })).status, 403);
    assert.ok(existsSync(STATIC_FILE));
  });

  test('back to DHCP removes the static file', async () => {
    const r = await call('PUT', admin, { mode: 'dhcp' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.mode, 'dhcp');
    assert.equal(existsSync(STATIC_FILE), false);
  });
});

test('/api/network off the appliance (no helper installed): a clear 404, not a crash', async (t) => {
  if (existsSync('/usr/libexec/openlun/openlun-netconfig')) return t.skip('the helper is installed on this machine');
  const g = await newApp();
  try {
    const s = await setupAdmin(g.app);
    const res = await g.app.inject({ method: 'GET', url: '/api/network', headers: as(s) });
    assert.equal(res.statusCode, 404);
    assert.match(res.json().message, /appliance only/);
  } finally { await g.close(); }
});
