/**
 * Administration → Network in a real browser (Debian's chromium, headless, playwright-core) against the API + UI on
 * 127.0.0.1, with PUT /api/network running the real helper (systemd/libexec/openlun-netconfig --dir SCRATCH
 * --no-apply) and fixed interfaces. An admin sets a static address: a gateway outside the network is refused next to
 * its field before any request, an interface that vanished meanwhile is refused by the API next to its field, then
 * the confirmation names the new URL and the helper's file holds the address; back to DHCP removes the file. A
 * read-only user sees the state and no form controls. Screenshots light and dark go to $OPENLUN_UI_SHOTS or a temp
 * dir. Script errors, unexpected console errors and CSP violations fail the run.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { NetworkInterfaceInfo } from '../api/src/routes/network.ts';
import { repoRoot, startUiServer, type UiServer } from '../ui/test/ui-server.ts';
import { CHROMIUM, csrfOf, failOnPageErrors, guardContext, launchChromium, openDesktopPage, prepareUiWorkDir, screenshot, setUpOverApi, stopUiApp } from './helpers/ui-appliance.ts';

const PASSWORD = 'network-ui-password-1';
const VIEWER_PASSWORD = 'viewer-password-1';
const HELPER = join(repoRoot, 'systemd/libexec/openlun-netconfig');
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} missing (apt-get install chromium)`;

const ENS3: NetworkInterfaceInfo = { name: 'ens3', mac: '52:54:00:12:34:56', addresses: ['10.0.2.15/24', 'fe80::5054:ff:fe12:3456/64'] };
const ENS4: NetworkInterfaceInfo = { name: 'ens4', mac: '52:54:00:ab:cd:ef', addresses: [] };
/** what the API sees as the host's interfaces; a test removes ens4 while the page still lists it */
let interfaces: NetworkInterfaceInfo[] = [ENS3, ENS4];

let work: string;
let shots: string;
let netDir: string;
let staticFile: string;
let server: UiServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const problems: string[] = [];

const shot = (p: Page, name: string): Promise<void> => screenshot(p, shots, name);
const net = (p: Page) => p.locator('admin-network');

before(async () => {
  if (skip) return;
  let dist: string;
  ({ work, shots, dist } = prepareUiWorkDir('openlun-ui-network-'));
  netDir = join(work, 'systemd-network');
  mkdirSync(netDir);
  staticFile = join(netDir, '10-openlun-static.network');
  server = await startUiServer({
    distDir: dist,
    dataDir: join(work, 'data'),
    network: { helper: [HELPER, '--dir', netDir, '--no-apply'], interfaces: () => interfaces },
  });
  browser = await launchChromium();
  ({ context, page } = await openDesktopPage(browser));
  // the API's refusal of the vanished interface is a 400 the page shows; /api/events is served by `openlun serve` only
  await guardContext(context, problems, /400|Bad Request|\/api\/events|404|Not Found/);
  failOnPageErrors(page, /400|Bad Request|404|Not Found/, /\/api\/events/);
  await setUpOverApi(context, server.url, PASSWORD);
});

after(async () => {
  await stopUiApp(browser, server, work);
});

test('web UI: network settings (static address, DHCP, read-only)', { skip, timeout: 90_000 }, async (t) => {
  t.diagnostic(`screenshots: ${shots}`);

  await t.test('the tab shows DHCP and the interfaces with their addresses', async () => {
    await page.goto(`${server.url}/#/admin/network`);
    await page.getByRole('link', { name: 'Network' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Network' }).getAttribute('aria-current'), 'page');
    await net(page).locator('tr[data-interface="ens3"]').waitFor();
    assert.equal((await net(page).locator('#net-mode').textContent())?.trim(), 'DHCP');
    assert.match((await net(page).locator('tr[data-interface="ens3"]').textContent()) ?? '', /52:54:00:12:34:56.*10\.0\.2\.15\/24/s);
    assert.match((await net(page).locator('tr[data-interface="ens4"]').textContent()) ?? '', /none/);
    await shot(page, 'network-01-dhcp');
  });

  await t.test('a gateway outside the network is refused next to its field; nothing is sent', async () => {
    await page.getByLabel('Static address').check();
    assert.deepEqual(await page.getByLabel('Interface').locator('option').evaluateAll((os) => os.map((o) => o.getAttribute('value'))), ['ens3', 'ens4']);
    await page.getByLabel('IPv4 address').fill('10.0.2.50');
    await page.getByLabel('Prefix length').fill('24');
    await page.getByLabel('Gateway (optional)').fill('10.0.3.1');
    await page.getByLabel('DNS server 1 (optional)').fill('10.0.2.3');
    await page.getByRole('button', { name: 'Apply' }).click();
    await net(page).locator('#net-gateway-error').waitFor();
    assert.equal((await net(page).locator('#net-gateway-error').textContent())?.trim(), 'is not in 10.0.2.50/24');
    assert.equal(await page.getByLabel('Gateway (optional)').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByRole('dialog').count(), 0, 'no confirmation for a bad form');
    assert.ok(!existsSync(staticFile), 'nothing written');
    await shot(page, 'network-02-bad-gateway');
  });

  await t.test("the API's refusal (an interface gone meanwhile) is shown next to the field; nothing changes", async () => {
    interfaces = [ENS3];
    await page.getByLabel('Gateway (optional)').fill('10.0.2.1');
    await page.getByLabel('Interface').selectOption('ens4');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByRole('button', { name: 'Apply static address' }).click();
    await net(page).locator('#net-interface-error').waitFor();
    assert.match((await net(page).locator('#net-interface-error').textContent()) ?? '', /does not exist here \(interfaces: ens3\)/);
    assert.ok(!existsSync(staticFile), 'nothing written');
    interfaces = [ENS3, ENS4];
  });

  await t.test('confirmed, the static address is written by the helper', async () => {
    await page.getByLabel('Interface').selectOption('ens3');
    await page.getByRole('button', { name: 'Apply' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    const port = new URL(server.url).port;
    const text = (await dialog.textContent()) ?? '';
    assert.match(text, /may become unreachable at 127\.0\.0\.1/);
    assert.ok(text.includes(`http://10.0.2.50:${port}/`), `the new URL in: ${text}`);
    assert.equal(await dialog.getByRole('link', { name: `http://10.0.2.50:${port}/` }).getAttribute('href'), `http://10.0.2.50:${port}/`);
    await shot(page, 'network-03-confirm');
    await page.getByRole('button', { name: 'Apply static address' }).click();
    await net(page).locator('#net-mode', { hasText: 'Static' }).waitFor();
    assert.match((await net(page).locator('#net-state').textContent()) ?? '', /ens3.*10\.0\.2\.50\/24.*10\.0\.2\.1.*10\.0\.2\.3/s);
    const file = readFileSync(staticFile, 'utf8');
    assert.match(file, /^Name=ens3$/m);
    assert.match(file, /^Address=10\.0\.2\.50\/24$/m);
    assert.match(file, /^Gateway=10\.0\.2\.1$/m);
    assert.deepEqual(file.match(/^DNS=.*$/gm), ['DNS=10.0.2.3']);
    await shot(page, 'network-04-static');
    // the form is filled from the stored configuration after a reload
    await page.reload();
    await page.getByLabel('IPv4 address').waitFor();
    assert.equal(await page.getByLabel('IPv4 address').inputValue(), '10.0.2.50');
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot(page, 'network-05-static-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  await t.test('back to DHCP removes the static file', async () => {
    await page.getByLabel('DHCP', { exact: true }).check();
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByRole('dialog').getByText('may become unreachable').waitFor();
    await page.getByRole('button', { name: 'Switch to DHCP' }).click();
    await net(page).locator('#net-mode', { hasText: 'DHCP' }).waitFor();
    assert.ok(!existsSync(staticFile), 'the static file is gone');
    const audit = await context.request.get(`${server.url}/api/audit?action=network.update`);
    const actions = ((await audit.json()) as { action: string; details?: unknown }[]).filter((a) => a.action === 'network.update');
    assert.equal(actions.length, 2, 'one audit entry per applied change, none for the refused ones');
  });

  await t.test('a read-only user sees the state and no form controls', async () => {
    const headers = { 'x-csrf-token': await csrfOf(context) };
    assert.equal((await context.request.post(`${server.url}/api/users`, { data: { username: 'viewer', password: VIEWER_PASSWORD, role: 'read-only' }, headers })).status(), 201);
    const ro = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'dark' });
    await guardContext(ro, problems, /\/api\/events|404|Not Found/);
    const p = await ro.newPage();
    p.setDefaultTimeout(10_000);
    assert.equal((await ro.request.post(`${server.url}/api/login`, { data: { username: 'viewer', password: VIEWER_PASSWORD } })).status(), 200);
    await p.goto(`${server.url}/#/admin/network`);
    await net(p).locator('tr[data-interface="ens3"]').waitFor();
    await net(p).getByText('You have read-only access.').waitFor();
    assert.equal((await net(p).locator('#net-mode').textContent())?.trim(), 'DHCP');
    assert.equal(await net(p).locator('input, select, button, textarea').count(), 0, 'no form controls');
    await shot(p, 'network-06-read-only-dark');
    await ro.close();
  });

  assert.deepEqual(problems, []);
});
