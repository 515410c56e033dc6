/**
 * The web UI in a real browser: Debian's chromium (headless) driven by playwright-core against the API + UI on a
 * free 127.0.0.1 port. One admin's first session, in order: first-run setup (with a client-side and an API
 * validation error), create a LUN with the ESXi preset (and a duplicate, refused next to the field), create a target
 * that maps it and allows an ESXi host, one-way CHAP, the Connect page's iscsiadm command with the real IQN, the dark
 * theme, session expiry back to sign-in, delete with confirmation, sign out.
 * Screenshots go to $OPENLUN_UI_SHOTS or a fresh temp dir (printed as a diagnostic).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { UiServer } from '../ui/test/ui-server.ts';
import { CHROMIUM, csrfOf, failOnPageErrors, launchChromium, openDesktopPage, screenshot, startUiApp, stopUiApp } from './helpers/ui-appliance.ts';

const PASSWORD = 'correct-horse-battery';
const BASE_IQN = 'iqn.2026-11.com.example';
const TARGET_IQN = `${BASE_IQN}:esxi-cluster`;
const ESX_INITIATOR = 'iqn.1998-01.com.vmware:esx01-4c4c4544';

const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} missing (apt-get install chromium)`;

let work: string;
let shots: string;
let server: UiServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;

const shot = (name: string): Promise<void> => screenshot(page, shots, name);

before(async () => {
  if (skip) return;
  ({ work, shots, server } = await startUiApp('openlun-ui-'));
  browser = await launchChromium();
  ({ context, page } = await openDesktopPage(browser));
  // this harness runs the API without a target daemon, so the live routes `openlun serve` adds (sessions, the
  // event stream) are absent here; e2e/ui-dashboard.test.ts runs the pages that use them against the real thing
  failOnPageErrors(page, /401|Unauthorized|409|Conflict|400|Bad Request/, /\/api\/(events|sessions)$/);
});

after(() => stopUiApp(browser, server, work));

test('web UI: setup, LUN, target, CHAP, connect, theme, expiry, delete, read-only', { skip, timeout: 60_000 }, async (t) => {
  t.diagnostic(`screenshots: ${shots}`);

  await t.test('first-run setup asks for the admin password and checks it before and after the round trip', async () => {
    const res = await page.goto(server.url + '/');
    assert.equal(res?.status(), 200);
    assert.match(res?.headers()['content-security-policy'] ?? '', /script-src 'self'/);
    await page.getByRole('heading', { name: 'Welcome to openlun' }).waitFor();
    await page.getByLabel('Admin password').fill('short');
    await page.getByLabel('Repeat the password').fill('shorter');
    await page.getByRole('button', { name: 'Set password' }).click();
    assert.equal(await page.locator('#f-password-error').textContent(), 'must be at least 10 characters');
    assert.equal(await page.locator('#f-confirm-error').textContent(), 'does not match the password');
    assert.equal(await page.getByLabel('Admin password').getAttribute('aria-invalid'), 'true');
    await shot('01-setup-errors');
    await page.getByLabel('Admin password').fill(PASSWORD);
    await page.getByLabel('Repeat the password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByLabel('Base IQN').waitFor();
    // the API's own rule (RFC 7143 §4.2.7), shown next to its field
    await page.getByLabel('Hostname').fill('nas01');
    await page.getByLabel('Base IQN').fill('not an iqn');
    await page.getByRole('button', { name: 'Save and continue' }).click();
    await page.locator('#f-baseIqn-error').waitFor();
    assert.match((await page.locator('#f-baseIqn-error').textContent()) ?? '', /\S/);
    await shot('02-setup-identity-error');
    await page.getByLabel('Base IQN').fill(BASE_IQN);
    await page.getByRole('button', { name: 'Save and continue' }).click();
    // setup lands on the dashboard; LUNs live under Storage
    await page.getByRole('link', { name: 'Storage', exact: true }).click();
    await page.getByRole('heading', { name: 'Storage' }).waitFor();
    const settings = (await server.api.inject({ method: 'GET', url: '/api/health' })).statusCode;
    assert.equal(settings, 200);
  });

  await t.test('create a file-backed LUN with the ESXi preset; a duplicate name is refused next to the field', async () => {
    await page.getByRole('button', { name: 'Create LUN' }).click();
    assert.equal(await page.locator('#lun-name-error').textContent(), 'is required');
    await page.getByLabel('Name').fill('vmfs01');
    await page.getByLabel('Size').fill('2');
    await page.getByLabel('Unit').selectOption('GiB');
    await page.getByLabel('Used by').selectOption('esxi');
    await page.getByRole('button', { name: 'Create LUN' }).click();
    const row = page.locator('tr[data-lun="vmfs01"]');
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /2 GiB\s*512/);
    await page.getByText('LUN vmfs01 created').waitFor();
    await page.getByLabel('Name').fill('vmfs01');
    await page.getByLabel('Size').fill('1');
    await page.getByRole('button', { name: 'Create LUN' }).click();
    await page.locator('#lun-name-error').waitFor();
    assert.equal(await page.locator('#lun-name-error').textContent(), 'already exists');
    await shot('03-storage-luns');
  });

  await t.test('create a target mapping the LUN and allowing an ESXi host; it is listed', async () => {
    await page.getByRole('link', { name: 'iSCSI targets' }).click();
    await page.getByRole('heading', { name: 'iSCSI targets' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('esxi-cluster');
    await page.locator('#tgt-iqn-preview', { hasText: TARGET_IQN }).waitFor();
    await page.getByLabel('Map a LUN as LUN 0').selectOption({ label: 'vmfs01' });
    await page.getByLabel('Initiators allowed to connect').fill(ESX_INITIATOR);
    await page.getByRole('button', { name: 'Create target' }).click();
    // the 5 s refresh may show the target before its mapping exists: wait for the final state
    const row = page.locator(`tr[data-target="${TARGET_IQN}"]`, { hasText: /1\s*none/ });
    await row.waitFor();
    await shot('04-targets');
  });

  await t.test('target page: mapping and ACL shown, CHAP validated then saved', async () => {
    await page.getByRole('link', { name: TARGET_IQN, exact: true }).click();
    await page.getByRole('heading', { name: TARGET_IQN }).waitFor();
    await page.getByText(ESX_INITIATOR).waitFor();
    await page.getByLabel('One-way').check();
    await page.getByLabel('Initiator user').fill('esxuser');
    await page.getByLabel('Initiator secret').fill('short');
    await page.getByRole('button', { name: 'Save CHAP' }).click();
    assert.match((await page.locator('#chap-secret-error').textContent()) ?? '', /at least 12 characters/);
    await page.getByLabel('Initiator secret').fill('a-long-chap-secret');
    await page.getByRole('button', { name: 'Save CHAP' }).click();
    await page.locator('#chap-state', { hasText: 'one-way CHAP' }).waitFor();
    // nothing left to map: said before any round trip
    await page.getByRole('button', { name: 'Map', exact: true }).click();
    assert.equal(await page.locator('#map-lun ~ .error').textContent(), 'choose a LUN');
    // the API's format rule, shown next to its field
    await page.getByLabel('Address').fill('999.1.1.1');
    await page.getByRole('button', { name: 'Add portal' }).click();
    await page.locator('#portal-address-error').waitFor();
    assert.match((await page.locator('#portal-address-error').textContent()) ?? '', /IPv4 or IPv6/);
    await shot('05-target-config');
  });

  await t.test('the Connect page shows the iscsiadm command with the real IQN, portal and CHAP user', async () => {
    await page.getByRole('link', { name: 'Connect', exact: true }).click();
    await page.locator('pre', { hasText: 'statictarget add' }).waitFor();
    const esxi = (await page.locator('pre').textContent()) ?? '';
    assert.match(esxi, new RegExp(`statictarget add --adapter=\\$ADAPTER --address=127\\.0\\.0\\.1:3260 --name=${TARGET_IQN.replace(/\./g, '\\.')}`));
    await shot('06-connect-esxi');
    // keyboard: arrow keys walk the tabs (WAI-ARIA tabs pattern)
    await page.getByRole('tab', { name: 'VMware ESXi' }).focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await page.locator('[role=tab][aria-selected=true]', { hasText: 'Linux (open-iscsi)' }).waitFor();
    await page.locator('pre', { hasText: 'iscsiadm' }).waitFor();
    const linux = (await page.locator('pre').textContent()) ?? '';
    assert.ok(linux.includes(`iscsiadm -m node -T ${TARGET_IQN} -p 127.0.0.1:3260 --login`), linux);
    assert.ok(linux.includes(`-n node.session.auth.username -v 'esxuser'`), linux);
    assert.ok(!linux.includes('a-long-chap-secret'), 'the secret never reaches the page');
    await shot('07-connect-linux');
    await page.getByRole('tab', { name: 'Windows (PowerShell)' }).click();
    await page.locator('pre', { hasText: 'Connect-IscsiTarget' }).waitFor();
    assert.match((await page.locator('pre').textContent()) ?? '', /Connect-IscsiTarget -NodeAddress iqn\.2026-11\.com\.example:esxi-cluster .*-AuthenticationType ONEWAYCHAP -ChapUsername 'esxuser'/);
    await page.getByRole('tab', { name: 'XenServer / XCP-ng' }).click();
    await page.locator('pre', { hasText: 'sr-create' }).waitFor();
    assert.match((await page.locator('pre').textContent()) ?? '', /xe sr-create .*type=lvmoiscsi .*device-config:targetIQN=iqn\.2026-11\.com\.example:esxi-cluster .*device-config:SCSIid=3[0-9a-f]{16,32}/);
  });

  await t.test('the theme toggle switches to dark and is remembered', async () => {
    const bg = () => page.evaluate<string>('getComputedStyle(document.body).backgroundColor');
    const light = await bg();
    await page.getByRole('button', { name: /theme/ }).click();
    assert.equal(await page.evaluate<string | undefined>('document.documentElement.dataset.theme'), 'dark');
    assert.notEqual(await bg(), light);
    await page.locator('theme-toggle button[aria-pressed=true]').waitFor();
    await shot('08-connect-dark');
    await page.getByRole('link', { name: 'Storage' }).click();
    await page.locator('tr[data-lun="vmfs01"]').waitFor();
    await shot('09-storage-dark');
    await page.reload();
    await page.locator('tr[data-lun="vmfs01"]').waitFor();
    assert.equal(await page.evaluate<string | undefined>('document.documentElement.dataset.theme'), 'dark');
    await page.getByRole('button', { name: /theme/ }).click();
  });

  await t.test('an expired session lands on sign-in with a message; signing in resumes', async () => {
    await context.clearCookies();
    await page.getByRole('link', { name: 'iSCSI targets' }).click();
    await page.locator('#login-message').waitFor();
    assert.match((await page.locator('#login-message').textContent()) ?? '', /session has ended/);
    await shot('10-login-expired');
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    assert.equal(await page.locator('#login-error').textContent(), 'wrong username or password');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'iSCSI targets' }).waitFor();
  });

  await t.test('delete asks for confirmation that names what is lost; a mapped LUN is refused with the reason', async () => {
    await page.getByRole('link', { name: 'Storage' }).click();
    await page.getByRole('button', { name: 'Delete LUN vmfs01' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    const text = (await dialog.textContent()) ?? '';
    assert.match(text, /everything stored on it/);
    assert.match(text, new RegExp(`mapped to ${TARGET_IQN.replace(/\./g, '\\.')} as LUN 0`));
    const confirm = dialog.getByRole('button', { name: 'Delete LUN' });
    assert.equal(await confirm.isDisabled(), true, 'needs the typed name');
    await shot('11-delete-confirm');
    await dialog.getByLabel(/Type vmfs01 to confirm/).fill('vmfs01');
    await confirm.click();
    await page.locator('#luns-action-error', { hasText: /lun vmfs01 is mapped/ }).waitFor();
    // unmap on the target, then the delete goes through
    await page.getByRole('link', { name: 'iSCSI targets' }).click();
    await page.getByRole('link', { name: TARGET_IQN, exact: true }).click();
    await page.getByRole('button', { name: 'Unmap LUN 0' }).click();
    await page.getByText('No LUN mapped').waitFor();
    await page.getByRole('link', { name: 'Storage' }).click();
    await page.getByRole('button', { name: 'Delete LUN vmfs01' }).click();
    await page.getByRole('dialog').getByLabel(/Type vmfs01 to confirm/).fill('vmfs01');
    await page.getByRole('dialog').getByRole('button', { name: 'Delete LUN' }).click();
    await page.getByText('No LUNs yet').waitFor();
    const luns = await server.api.inject({ method: 'GET', url: '/api/health' });
    assert.equal(luns.statusCode, 200);
  });

  await t.test('sign out; a read-only user sees everything and is offered no change', async () => {
    // the admin creates a read-only user over the API with the page's own session (cookie + CSRF header)
    const csrf = await csrfOf(context);
    const created = await context.request.post(`${server.url}/api/users`, {
      data: { username: 'viewer', password: 'viewer-password', role: 'read-only' },
      headers: { 'x-csrf-token': csrf },
    });
    assert.equal(created.status(), 201);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You have signed out.').waitFor();
    await shot('12-signed-out');
    await page.getByLabel('Username').fill('viewer');
    await page.getByLabel('Password').fill('viewer-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'iSCSI targets' }).click();
    await page.locator(`tr[data-target="${TARGET_IQN}"]`).waitFor();
    await page.getByText('You have read-only access.').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Create target' }).count(), 0);
    await page.getByRole('link', { name: TARGET_IQN, exact: true }).click();
    await page.getByRole('heading', { name: 'Who may connect' }).waitFor();
    assert.equal(await page.getByRole('button', { name: /Delete target|Save CHAP|Add portal|Allow|Remove/ }).count(), 0);
    await shot('13-read-only-target');
  });
});
