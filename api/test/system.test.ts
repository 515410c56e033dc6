// GET /api/system with the real systeminformation on this machine (shapes and plausible ranges, never fixed
// numbers), the rate sampler against real loopback traffic and against a fake sysfs tree (exact arithmetic), and
// SMART health through stand-in smartctl programs (passed, failed, garbage, hanging, absent).
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { SystemReport } from '../src/system/system-info.ts';
import { SystemInfo } from '../src/system/system-info.ts';
import { RateSampler } from '../src/system/sampler.ts';
import { parseSmartctlJson, smartReport } from '../src/system/smart.ts';
import { as, createReader, newApp, setupAdmin, type Fixture, type Session } from './support/fixture.ts';

describe('GET /api/system', () => {
  let f: Fixture;
  let admin: Session;
  let reader: Session;
  before(async () => {
    f = await newApp();
    admin = await setupAdmin(f.app);
    reader = await createReader(f.app, admin);
  });
  after(async () => f?.close());

  test('anonymous: 401; read-only users may read it; it is in the OpenAPI document', async () => {
    assert.equal((await f.app.inject({ method: 'GET', url: '/api/system' })).statusCode, 401);
    // the first answer probes the OS, CPU, interfaces and disks (cold caches); the sampler started with the app
    const t0 = performance.now();
    const r = await f.app.inject({ method: 'GET', url: '/api/system', headers: as(reader) });
    const cold = performance.now() - t0;
    assert.equal(r.statusCode, 200, r.body);
    assert.ok(cold < 1500, `first answer in ${Math.round(cold)} ms`);
    const doc = (await f.app.inject({ method: 'GET', url: '/api/docs', headers: as(reader) })).json() as { paths: Record<string, unknown> };
    assert.ok(doc.paths['/api/system'], 'documented');
  });

  test('this machine as the kernel sees it: host, CPU, load, memory, uptime within plausible ranges', async () => {
    const r = await f.app.inject({ method: 'GET', url: '/api/system', headers: as(reader) });
    assert.equal(r.statusCode, 200, r.body);
    const s = r.json() as SystemReport;
    assert.equal(s.hostname, os.hostname());
    assert.equal(s.os.platform, os.platform());
    assert.equal(s.os.arch, os.arch());
    assert.ok(s.os.kernel.length > 0 && s.os.distro.length > 0, JSON.stringify(s.os));
    assert.ok(s.cpu.model.length > 0);
    assert.equal(s.cpu.cores, os.cpus().length);
    assert.ok(s.cpu.physicalCores >= 1 && s.cpu.physicalCores <= s.cpu.cores);
    assert.ok(s.cpu.percent === null || (s.cpu.percent >= 0 && s.cpu.percent <= 100), `cpu ${s.cpu.percent}`);
    for (const [k, v] of Object.entries(s.load)) assert.ok(v >= 0 && v < 1000, `load ${k} ${v}`);
    assert.ok(Math.abs(s.load.fifteen - os.loadavg()[2]!) < 1, 'the 15-minute load barely moves between two reads');
    assert.ok(Math.abs(s.memory.totalBytes - os.totalmem()) <= os.totalmem() * 0.01, `memory total ${s.memory.totalBytes} vs ${os.totalmem()}`);
    assert.ok(s.memory.availableBytes > 0 && s.memory.availableBytes <= s.memory.totalBytes);
    assert.equal(s.memory.usedBytes, s.memory.totalBytes - s.memory.availableBytes);
    assert.ok(Math.abs(s.uptimeSeconds - os.uptime()) < 5, `uptime ${s.uptimeSeconds} vs ${os.uptime()}`);
    const t1 = performance.now();
    assert.equal((await f.app.inject({ method: 'GET', url: '/api/system', headers: as(reader) })).statusCode, 200);
    const warm = performance.now() - t1;
    assert.ok(warm < 300, `cached answer in ${Math.round(warm)} ms`);
  });

  test('network interfaces: every address the OS has, loopback included, with counters', async () => {
    const s = (await f.app.inject({ method: 'GET', url: '/api/system', headers: as(admin) })).json() as SystemReport;
    const osIfs = os.networkInterfaces();
    for (const [name, addrs] of Object.entries(osIfs)) {
      const i = s.interfaces.find((x) => x.name === name);
      assert.ok(i, `interface ${name} listed`);
      assert.deepEqual(i.addresses.map((a) => a.address).sort(), (addrs ?? []).map((a) => a.address).sort(), name);
      assert.ok(i.rxBytes >= 0 && i.txBytes >= 0 && i.rxBytesPerSec >= 0 && i.txBytesPerSec >= 0, name);
      assert.ok(i.speedMbps === null || i.speedMbps > 0);
    }
    const lo = s.interfaces.find((i) => i.addresses.some((a) => a.address === '127.0.0.1'));
    assert.ok(lo, 'the loopback interface');
    assert.equal(lo.internal, true);
    assert.ok(lo.rxBytes > 0, 'loopback has carried traffic (this test talks over it)');
  });

  test('disks: whole disks only, each with a SMART health verdict (unknown without smartctl)', async () => {
    const s = (await f.app.inject({ method: 'GET', url: '/api/system', headers: as(admin) })).json() as SystemReport;
    for (const d of s.disks) {
      assert.match(d.device, /^\/dev\//);
      assert.doesNotMatch(d.name, /^(loop|ram|zram)\d/, 'no RAM disks or loop files');
      assert.ok(d.sizeBytes >= 0);
      assert.ok(['passed', 'failed', 'unknown'].includes(d.health));
    }
  });
});

describe('RateSampler', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(os.tmpdir(), 'openlun-sampler-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  const setCounters = async (name: string, rx: number, tx: number): Promise<void> => {
    await mkdir(join(dir, name, 'statistics'), { recursive: true });
    await writeFile(join(dir, name, 'statistics', 'rx_bytes'), `${rx}\n`);
    await writeFile(join(dir, name, 'statistics', 'tx_bytes'), `${tx}\n`);
  };

  test('rates are the counter deltas over the measured interval; a counter that went backwards gives 0', async () => {
    const s = new RateSampler({ netClassDir: dir, intervalMs: 60_000 });
    await setCounters('eth0', 1000, 50_000);
    await setCounters('eth1', 9_000_000, 10);
    await s.sample();
    const one = s.rates();
    assert.equal(one.cpuPercent, null, 'no CPU figure from a single reading');
    assert.equal(one.sampledAt, null);
    assert.equal(one.interfaces.get('eth0')?.rxBytesPerSec, 0);
    await new Promise((r) => setTimeout(r, 120));
    await setCounters('eth0', 1000 + 600_000, 50_000 + 30_000);
    await setCounters('eth1', 5, 10); // re-created interface
    await s.sample();
    const two = s.rates();
    assert.ok(two.intervalMs !== null && two.intervalMs >= 100, `interval ${two.intervalMs}`);
    const sec = two.intervalMs! / 1000;
    const eth0 = two.interfaces.get('eth0')!;
    assert.ok(Math.abs(eth0.rxBytesPerSec * sec - 600_000) < 1e-6, `rx ${eth0.rxBytesPerSec}/s over ${sec} s`);
    assert.ok(Math.abs(eth0.txBytesPerSec * sec - 30_000) < 1e-6);
    assert.equal(eth0.rxBytes, 601_000);
    assert.equal(two.interfaces.get('eth1')!.rxBytesPerSec, 0);
    assert.ok(two.cpuPercent !== null && two.cpuPercent >= 0 && two.cpuPercent <= 100);
  });

  test('real loopback traffic shows up in the loopback rate', async (t) => {
    const lo = Object.entries(os.networkInterfaces()).find(([, a]) => a?.some((x) => x.address === '127.0.0.1'))?.[0];
    if (!lo) return t.skip('no IPv4 loopback');
    const s = new RateSampler({ intervalMs: 60_000 });
    await s.sample();
    const bytes = 4 * 1024 * 1024;
    await new Promise<void>((resolve, reject) => {
      const server = net.createServer((c) => {
        let got = 0;
        c.on('data', (b: Buffer) => {
          got += b.length;
          if (got >= bytes) c.end();
        });
      });
      server.listen(0, '127.0.0.1', () => {
        const port = (server.address() as net.AddressInfo).port;
        const c = net.connect(port, '127.0.0.1', () => c.end(Buffer.alloc(bytes)));
        c.on('error', reject);
        c.on('close', () => server.close(() => resolve()));
      });
    });
    await s.sample();
    const r = s.rates();
    const rate = r.interfaces.get(lo)!;
    assert.ok(rate.rxBytesPerSec * (r.intervalMs! / 1000) >= bytes, `${rate.rxBytesPerSec} B/s over ${r.intervalMs} ms carried the ${bytes} bytes sent`);
  });
});

describe('SMART health through smartctl', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(os.tmpdir(), 'openlun-smart-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  /** A stand-in smartctl that records its argv and prints `json` (exit status `code`: smartctl's bit mask). */
  const fake = async (name: string, json: string, code = 0, sleep = 0): Promise<string> => {
    const path = join(dir, name);
    const args = join(dir, `${name}.args`);
    await writeFile(path, `#!/bin/sh\nprintf '%s\\n' "$@" > '${args}'\n${sleep ? `exec sleep ${sleep}\n` : ''}cat <<'JSON'\n${json}\nJSON\nexit ${code}\n`);
    await chmod(path, 0o755);
    return path;
  };

  test('passed, failed (with smartctl\'s "disk failing" exit bit), temperature; the argv it gets', async () => {
    const ok = await fake('ok', JSON.stringify({ smart_status: { passed: true }, temperature: { current: 34 } }));
    assert.deepEqual(await smartReport(ok, '/dev/sda'), { health: 'passed', temperatureC: 34 });
    assert.deepEqual((await readFile(`${ok}.args`, 'utf8')).trim().split('\n'), ['--json', '-H', '-A', '-n', 'standby', '/dev/sda']);
    const bad = await fake('bad', JSON.stringify({ smart_status: { passed: false } }), 8);
    assert.deepEqual(await smartReport(bad, '/dev/nvme0n1'), { health: 'failed', temperatureC: null });
  });

  test('anything short of a verdict is unknown, never an error', async () => {
    const junk = await fake('junk', 'smartctl: not json');
    assert.equal((await smartReport(junk, '/dev/sda')).health, 'unknown');
    const noSmart = await fake('nosmart', JSON.stringify({ smartctl: { exit_status: 4 } }), 4);
    assert.equal((await smartReport(noSmart, '/dev/vda')).health, 'unknown');
    const hangs = await fake('hangs', '{}', 0, 5);
    const t0 = Date.now();
    assert.equal((await smartReport(hangs, '/dev/sda', 300)).health, 'unknown');
    assert.ok(Date.now() - t0 < 3000, 'the timeout ends it');
    assert.equal((await smartReport(join(dir, 'not-installed'), '/dev/sda')).health, 'unknown');
    assert.equal((await smartReport(undefined, '/dev/sda')).health, 'unknown');
    // a device name that smartctl would read as an option never reaches it
    const spy = await fake('spy', JSON.stringify({ smart_status: { passed: true } }));
    assert.equal((await smartReport(spy, '--scan')).health, 'unknown');
    assert.equal((await smartReport(spy, '/dev/../etc/passwd')).health, 'unknown');
    await assert.rejects(readFile(`${spy}.args`), 'never run');
    assert.deepEqual(parseSmartctlJson('{"smart_status":{"passed":"yes"},"temperature":{"current":"hot"}}'), { health: 'unknown', temperatureC: null });
  });

  test('SystemInfo reports each disk with the verdict smartctl gives', async () => {
    const ok = await fake('ok2', JSON.stringify({ smart_status: { passed: true }, temperature: { current: 41 } }));
    const info = new SystemInfo({ smartctl: ok });
    await info.start();
    try {
      const r = await info.report();
      for (const d of r.disks) assert.deepEqual({ health: d.health, t: d.temperatureC }, { health: 'passed', t: 41 }, d.device);
      const none = new SystemInfo({ smartctl: null });
      for (const d of (await none.report()).disks) assert.equal(d.health, 'unknown');
      none.stop();
    } finally {
      info.stop();
    }
  });
});
