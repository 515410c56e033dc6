/**
 * The dashboard and the sessions page in a real browser (Debian's chromium, headless, playwright-core) against the
 * appliance as `openlun serve` runs it: the API + UI (startServe, plain HTTP on 127.0.0.1) driving a real targetd
 * it spawns. A LUN, a target with a portal and an ACL are made over the API; libiscsi's iscsi-perf logs in as the
 * allowed initiator and reads; the session appears on the Sessions page (with its negotiated parameters), the IOPS
 * number and chart move on the dashboard, a read-only user is offered no End button, the admin ends the session
 * from the page (confirmation naming the initiator) and it goes (libiscsi logs in again: a new session); the
 * initiator killed outright then shows as a dropped session in the dashboard's alerts, the ended one does not. Screenshots (light and dark) go to $OPENLUN_UI_SHOTS or a temp dir.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { ServeHandle } from '../api/src/serve.ts';
import { freePort } from './helpers/ports.ts';
import { trackChild } from './helpers/run.ts';
import { CHROMIUM, failOnPageErrors, launchChromium, openDesktopPage, screenshot, startAppliance, stopAppliance, type Appliance } from './helpers/ui-appliance.ts';

const PASSWORD = 'dashboard-admin-pw';
const TARGET_IQN = 'iqn.2026-11.org.openlun:dash';
const INITIATOR = 'iqn.2026-11.org.openlun:dash-host';

const skip = !existsSync(CHROMIUM) ? `${CHROMIUM} missing (apt-get install chromium)` : !existsSync('/usr/bin/iscsi-perf') ? 'iscsi-perf missing (apt-get install libiscsi-bin)' : false;

let appliance: Appliance | undefined;
let shots: string;
let serve: ServeHandle | undefined;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let iscsiPort: number;
let csrf = '';
const initiators: ChildProcess[] = [];
const perfLog: string[] = [];

const shot = (name: string): Promise<void> => screenshot(page, shots, name);

/** The API with the browser context's own cookies (page.request shares them) and the CSRF header. */
async function api<T = any>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, data?: unknown, ctx: BrowserContext = context): Promise<T> {
  const res = await ctx.request.fetch(serve!.url + path, { method, headers: { 'x-csrf-token': csrf }, ...(data === undefined ? {} : { data }) });
  const text = await res.text();
  assert.ok(res.ok(), `${method} ${path}: ${res.status()} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** iscsi-perf: reads LUN 0 until killed; no reconnects, so an ended session stays ended. */
function startPerf(initiator: string): ChildProcess {
  const child = spawn('iscsi-perf', ['-i', initiator, '-x', '0', '-m', '4', `iscsi://127.0.0.1:${iscsiPort}/${TARGET_IQN}/0`], { stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-2000)));
  child.stderr!.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-2000)));
  child.once('exit', (code, signal) => perfLog.push(`${initiator}: exit ${code ?? signal}\n${out}`));
  initiators.push(child);
  return child;
}

const exited = (c: ChildProcess): Promise<number | null> => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve(c.exitCode) : new Promise((r) => c.once('exit', (code) => r(code))));

before(async () => {
  if (skip) return;
  iscsiPort = await freePort();
  appliance = await startAppliance('openlun-dash-');
  ({ shots, serve } = appliance);
  browser = await launchChromium();
  ({ context, page } = await openDesktopPage(browser, 15_000));
  failOnPageErrors(page, /401|Unauthorized|404|Not Found/);
});

after(async () => {
  if (perfLog.length) console.log(perfLog.join('\n'));
  for (const c of initiators) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await browser?.close();
  await stopAppliance(appliance);
});

test('dashboard and sessions: a real initiator appears, its I/O moves the charts, the admin ends it', { skip, timeout: 90_000 }, async (t) => {
  t.diagnostic(`screenshots: ${shots}`);

  await t.test('setup, LUN, target, portal, ACL over the API', async () => {
    const setup = await context.request.post(serve!.url + '/api/setup', { data: { password: PASSWORD } });
    assert.equal(setup.status(), 201, await setup.text());
    csrf = (await setup.json()).csrfToken;
    const lun = await api('POST', '/api/luns', { name: 'dash0', backing: 'file', sizeBytes: 64 * 2 ** 20, blockSize: 512 });
    const target = await api('POST', '/api/targets', { iqn: TARGET_IQN });
    await api('POST', '/api/portals', { targetId: target.id, address: '127.0.0.1', port: iscsiPort });
    await api('POST', '/api/mappings', { targetId: target.id, lun: 0, lunId: lun.id });
    const group = await api('POST', '/api/initiator-groups', { name: 'dash-hosts', initiators: [INITIATOR] });
    await api('POST', '/api/acls', { targetId: target.id, groupId: group.id });
    await api('POST', '/api/users', { username: 'viewer', password: 'viewer-password', role: 'read-only' });
  });

  await t.test('the dashboard shows the system, the pool, the target, and no alerts', async () => {
    const res = await page.goto(serve!.url + '/#/dashboard');
    assert.equal(res?.status(), 200);
    await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
    await page.getByRole('heading', { name: 'System' }).waitFor();
    // /api/system: the hostname of this machine, a memory bar with its value for screen readers
    await page.locator('[data-meter="mem"] [role="meter"]').waitFor();
    const memNow = Number(await page.locator('[data-meter="mem"] [role="meter"]').getAttribute('aria-valuenow'));
    assert.ok(memNow > 0 && memNow <= 100, `memory meter ${memNow}`);
    // the file pool with its soft threshold marked
    await page.locator('[data-meter="pool-0"] .mark').waitFor();
    await page.locator(`tr[data-target="${TARGET_IQN}"]`).waitFor();
    assert.match((await page.locator('#alerts').textContent()) ?? '', /No alerts/);
    // the charts come with their own chunk, after the page
    await page.locator('live-chart[kind="iops"] canvas').waitFor();
    await page.locator('.stream[data-state="open"]').waitFor();
  });

  let tsih = 0;
  await t.test('an initiator logs in: its session is listed with negotiated parameters; read-only users get no End button', async () => {
    startPerf(INITIATOR);
    await page.getByRole('link', { name: 'Sessions', exact: true }).click();
    await page.getByRole('heading', { name: 'Sessions', level: 1 }).waitFor();
    const row = page.locator(`tr[data-session="${INITIATOR}"]`);
    await row.waitFor();
    tsih = Number(await row.getAttribute('data-tsih'));
    assert.ok(tsih > 0);
    const text = (await row.textContent()) ?? '';
    assert.match(text, /127\.0\.0\.1/);
    assert.ok(text.includes(TARGET_IQN), text);
    await page.getByText(`Negotiated parameters of ${INITIATOR}`).click();
    await page.locator('dl.params dt', { hasText: 'MaxBurstLength' }).first().waitFor();
    await page.locator('dl.params dt', { hasText: 'HeaderDigest' }).first().waitFor();
    await shot('dash-01-sessions-light');

    const viewer = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const login = await viewer.request.post(serve!.url + '/api/login', { data: { username: 'viewer', password: 'viewer-password' } });
      assert.equal(login.status(), 200, await login.text());
      const vp = await viewer.newPage();
      await vp.goto(serve!.url + '/#/sessions');
      await vp.locator(`tr[data-session="${INITIATOR}"]`).waitFor();
      await vp.getByText('You have read-only access').waitFor();
      assert.equal(await vp.getByRole('button', { name: /End/ }).count(), 0);
      // and the API agrees
      const del = await viewer.request.delete(`${serve!.url}/api/sessions/${tsih}`, { headers: { 'x-csrf-token': (await login.json()).csrfToken } });
      assert.equal(del.status(), 403);
    } finally {
      await viewer.close();
    }
  });

  await t.test('the dashboard counts the session and its IOPS move in text and chart', async () => {
    await page.getByRole('link', { name: 'Dashboard', exact: true }).click();
    await page.locator('#session-count', { hasText: '1' }).waitFor();
    const iops = async () => Number(((await page.locator('#iops-read').textContent()) ?? '').replace(/[^\d.]/g, '')) || 0;
    const deadline = Date.now() + 15_000;
    while ((await iops()) <= 0 && Date.now() < deadline) await page.waitForTimeout(250);
    assert.ok((await iops()) > 0, `read IOPS shown: ${await page.locator('#iops-read').textContent()}`);
    // the chart has drawn points (history from the stream) and the per-LUN table names the LUN
    const chart = page.locator('live-chart[kind="iops"]');
    const chartDeadline = Date.now() + 15_000;
    while (Number(await chart.getAttribute('data-points')) < 2 && Date.now() < chartDeadline) await page.waitForTimeout(250);
    assert.ok(Number(await chart.getAttribute('data-points')) >= 2, 'the IOPS chart has drawn at least two samples');
    await page.locator(`tr[data-lun-rates="${TARGET_IQN}/0"]`).waitFor();
    const targetRow = (await page.locator(`tr[data-target="${TARGET_IQN}"]`).textContent()) ?? '';
    assert.ok(targetRow.includes(INITIATOR), targetRow);
    await shot('dash-02-dashboard-light');
    // a wide monitor: the same cards, wider, nothing stretched out of shape
    await page.setViewportSize({ width: 1920, height: 1080 });
    await page.waitForTimeout(300);
    await shot('dash-02b-dashboard-wide');
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForTimeout(300);
    await shot('dash-03-dashboard-dark');
    await page.getByRole('link', { name: 'Sessions', exact: true }).click();
    await page.locator(`tr[data-session="${INITIATOR}"]`).waitFor();
    await shot('dash-04-sessions-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  let oldRemote = '';
  let newRemote = '';
  await t.test('End session asks, naming the initiator, and the session goes', async () => {
    oldRemote = (await page.locator(`tr[data-tsih="${tsih}"]`).getAttribute('data-remote')) ?? '';
    assert.match(oldRemote, /^127\.0\.0\.1:\d+$/);
    const button = page.getByRole('button', { name: `End the session of ${INITIATOR}` });
    // cancel first: nothing happens
    await button.click();
    await page.getByRole('heading', { name: `End the session of ${INITIATOR}?` }).waitFor();
    await shot('dash-05-end-confirm');
    await page.getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await page.locator(`tr[data-tsih="${tsih}"]`).count(), 1);
    await button.click();
    await page.getByRole('dialog').getByRole('button', { name: 'End session' }).click();
    await page.getByText(`Session of ${INITIATOR} ended.`).waitFor();
    await page.locator(`tr[data-tsih="${tsih}"]`).waitFor({ state: 'detached' });
    const sessions = await api<Array<{ tsih: number }>>('GET', '/api/sessions');
    assert.ok(!sessions.some((s) => s.tsih === tsih), 'the ended session is gone from the target');
    const audit = await api<Array<{ action: string }>>('GET', '/api/audit?limit=20');
    assert.ok(audit.some((a) => a.action === 'session.end'), JSON.stringify(audit.slice(0, 3)));
    // libiscsi answers the target's logout request by logging in again (a new session, new TSIH): the ACL still
    // admits it, as the dialog says. Without a reconnect within a few seconds, start the initiator afresh.
    const again = page.locator(`tr[data-session="${INITIATOR}"]`);
    try {
      await again.waitFor({ timeout: 5000 });
    } catch {
      startPerf(INITIATOR);
      await again.waitFor();
    }
    assert.notEqual(Number(await again.getAttribute('data-tsih')), tsih);
    newRemote = (await again.getAttribute('data-remote')) ?? '';
    assert.notEqual(newRemote, oldRemote);
  });

  await t.test('an initiator that vanishes shows as a dropped session in the alerts; the ended one does not', async () => {
    await page.getByRole('link', { name: 'Dashboard', exact: true }).click();
    // the dashboard knows the new session from the event stream (polled every 2 s by the server): a session
    // that comes and goes between two polls is never seen, so wait until this one has been
    await page.locator(`tr[data-target="${TARGET_IQN}"] [data-remote="${newRemote}"]`).waitFor();
    await page.locator('#session-count', { hasText: '1' }).waitFor();
    for (const c of initiators) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.all(initiators.map(exited));
    const alert = page.locator('#alerts li[data-level="warning"]', { hasText: 'Session dropped' });
    await alert.waitFor();
    const text = (await alert.textContent()) ?? '';
    assert.ok(text.includes(INITIATOR) && text.includes(newRemote), text);
    assert.equal(await alert.count(), 1, 'one dropped session');
    assert.equal(await page.locator('#alerts li', { hasText: oldRemote }).count(), 0, 'the session ended by the admin is not reported as dropped');
    await page.locator('#session-count', { hasText: '0' }).waitFor();
    await shot('dash-06-dashboard-alert');
  });
});
