/**
 * The shell, administration and self-test pages in a real browser: Debian's chromium (headless) driven by
 * playwright-core against `openlun serve` (in-process, plain HTTP on loopback, an in-process targetd), so the
 * WebSocket goes through serve's own server and the self-test's scratch LUN is served by a real target daemon.
 *
 * An admin opens the shell and runs a command; creates an API token (shown once, then usable, then never shown
 * again); filters the audit log down to the shell session; runs the self-test and reads its totals; creates a
 * read-only user; stores a TLS certificate (a mismatched key refused next to its field). The read-only user sees no
 * change controls and is refused by the API and the shell socket. Screenshots light and dark go to $OPENLUN_UI_SHOTS
 * or a temp dir. The page runs under its strict CSP: a violation or script error fails the run.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { ServeHandle } from '../api/src/serve.ts';
import { findExecutable } from '../api/src/selftest/runner.ts';
import { startInProcessServe, type InProcessServe } from '../api/test/support/serve-in-process.ts';
import { CHROMIUM, launchChromium, openDesktopPage, prepareUiWorkDir, removeUiWorkDir, screenshot, setUpOverApi } from './helpers/ui-appliance.ts';

const PASSWORD = 'admin-ui-password-1';
const VIEWER_PASSWORD = 'viewer-password-1';
const skip = !existsSync(CHROMIUM) ? `${CHROMIUM} missing (apt-get install chromium)` : !findExecutable('iscsi-test-cu') ? 'iscsi-test-cu missing (apt-get install libiscsi-bin)' : false;

let work: string;
let shots: string;
let live: InProcessServe | undefined;
let serve: ServeHandle;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const problems: string[] = [];

function watch(p: Page, allow: RegExp): void {
  p.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  p.on('console', (m) => {
    if (m.type() === 'error' && !allow.test(m.text())) problems.push(`console error: ${m.text()} at ${m.location().url}:${m.location().lineNumber}`);
  });
}

const shot = (p: Page, name: string): Promise<void> => screenshot(p, shots, name);

before(async () => {
  if (skip) return;
  let dist: string;
  ({ work, shots, dist } = prepareUiWorkDir('openlun-ui-admin-'));
  process.env['OPENLUN_UI_DIR'] = dist;
  live = await startInProcessServe(work);
  serve = live.serve;
  browser = await launchChromium();
  ({ context, page } = await openDesktopPage(browser));
  watch(page, /401|Unauthorized|409|Conflict|400|Bad Request/);
  // first-run setup through the API with the browser's own cookie jar (the setup page has its own test)
  await setUpOverApi(context, serve.url, PASSWORD);
});

after(async () => {
  await browser?.close();
  await live?.close();
  delete process.env['OPENLUN_UI_DIR'];
  removeUiWorkDir(work);
});

test('web UI: shell, tokens, audit, self-test, users, settings, read-only', { skip, timeout: 120_000 }, async (t) => {
  t.diagnostic(`screenshots: ${shots}`);
  let secret = '';

  await t.test('the shell opens (xterm.js loaded lazily, styled under the CSP) and runs a command', async () => {
    await page.goto(`${serve.url}/#/shell`);
    await page.getByText('Connected', { exact: true }).waitFor({ timeout: 20_000 });
    await page.keyboard.type('echo "answer=$((6 * 7))"');
    await page.keyboard.press('Enter');
    const rows = page.locator('shell-page .xterm-rows');
    await rows.filter({ hasText: 'answer=42' }).waitFor();
    // xterm.css reached the shadow root (the helper textarea is hidden by it), and the mirrored cell-size sheet
    // gives rows a height: neither would hold had the stylesheets been blocked
    assert.equal(await page.locator('shell-page .xterm-helper-textarea').evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el).opacity), '0');
    assert.ok((await rows.locator('div').first().evaluate((el) => el.getBoundingClientRect().height)) > 8);
    await shot(page, 'admin-01-shell');
    await page.keyboard.type('exit');
    await page.keyboard.press('Enter');
    await page.getByText('Disconnected').waitFor();
    await page.getByRole('button', { name: 'Reconnect' }).waitFor();
  });

  await t.test('an API token is shown once, works, and is never shown again', async () => {
    await page.goto(`${serve.url}/#/admin/tokens`);
    await page.getByLabel('Token name').fill('prometheus');
    await page.getByRole('button', { name: 'Create token' }).click();
    const code = page.getByLabel('The new token');
    await code.waitFor();
    secret = (await code.textContent())!.trim();
    assert.match(secret, /^olt_[A-Za-z0-9_-]{40,}$/);
    await page.locator('tr[data-token="prometheus"]').waitFor();
    await shot(page, 'admin-02-token-created');
    const me = await fetch(`${serve.url}/api/me`, { headers: { authorization: `Bearer ${secret}` } });
    assert.equal(me.status, 200);
    await page.getByRole('button', { name: 'Done' }).click();
    await page.reload();
    await page.locator('tr[data-token="prometheus"]').waitFor();
    assert.ok(!(await page.locator('admin-tokens').evaluate((el) => el.shadowRoot!.textContent ?? '')).includes(secret), 'the secret is gone');
    // its use is shown
    assert.doesNotMatch((await page.locator('tr[data-token="prometheus"]').textContent()) ?? '', /never/);
  });

  await t.test('the audit log shows the shell session; filters narrow it', async () => {
    await page.goto(`${serve.url}/#/admin/audit`);
    await page.locator('tr[data-action="token.create"]').waitFor();
    await page.getByLabel('Action').fill('shell');
    await page.getByRole('button', { name: 'Filter' }).click();
    // the unfiltered list already holds the shell rows: wait for the filtered answer (no token row left) before reading
    await page.locator('tr[data-action="token.create"]').waitFor({ state: 'detached' });
    await page.locator('tr[data-action="shell.end"]').waitFor();
    const actions = await page.locator('admin-audit tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')));
    assert.deepEqual(actions, ['shell.end', 'shell.start']);
    assert.match((await page.locator('tr[data-action="shell.end"]').textContent()) ?? '', /bytesOut=\d+.*exited with status 0/);
    await shot(page, 'admin-03-audit-shell');
    await page.getByLabel('User').fill('nobody');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByText('No entries match.').waitFor();
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.locator('tr[data-action="token.create"]').waitFor();
  });

  await t.test('the self-test runs iscsi-test-cu against a scratch LUN and shows the totals', async () => {
    await page.goto(`${serve.url}/#/admin/selftest`);
    await page.getByRole('button', { name: 'Run self-test' }).click();
    await page.locator('#selftest-state').filter({ hasText: /Passed|Failed/ }).waitFor({ timeout: 60_000 });
    await shot(page, 'admin-04-selftest');
    const state = (await page.locator('#selftest-state').textContent()) ?? '';
    const passed = Number(await page.locator('[data-count="passed"]').textContent());
    const failed = Number(await page.locator('[data-count="failed"]').textContent());
    assert.match(state, /Passed/, `self-test: ${state}`);
    assert.ok(passed >= 60, `passed ${passed}`);
    assert.equal(failed, 0);
    await page.getByText(/Cleanup: .*LUN openlun-selftest.* removed/).waitFor();
    assert.equal(live!.rt.state?.targets.length, 0, 'the scratch target is gone from targetd');
  });

  await t.test('users: create a read-only user; you cannot delete yourself', async () => {
    await page.goto(`${serve.url}/#/admin/users`);
    await page.getByLabel('User name').fill('Viewer!');
    await page.getByLabel('Password', { exact: true }).fill('short');
    await page.getByRole('button', { name: 'Create user' }).click();
    assert.match((await page.locator('#user-username-error').textContent()) ?? '', /lower-case/);
    assert.match((await page.locator('#user-password-error').textContent()) ?? '', /at least 10/);
    await page.getByLabel('User name').fill('viewer');
    await page.getByLabel('Password', { exact: true }).fill(VIEWER_PASSWORD);
    await page.getByLabel('Role').selectOption('read-only');
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.locator('tr[data-user="viewer"]').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Delete user admin' }).isDisabled(), true);
    await shot(page, 'admin-05-users');
  });

  await t.test('settings: the certificate, ports and time are shown; a key of another certificate is refused', async () => {
    const certs = join(work, 'certs');
    mkdirSync(certs, { recursive: true });
    for (const name of ['a', 'b']) {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(certs, `${name}.key`), '-out', join(certs, `${name}.crt`), '-days', '30', '-subj', `/CN=${name}.example`], { stdio: 'ignore' });
    }
    await page.goto(`${serve.url}/#/admin/settings`);
    await page.locator('#server-time').waitFor();
    await page.getByLabel('Certificate (PEM)', { exact: true }).fill(readFileSync(join(certs, 'a.crt'), 'utf8'));
    await page.getByLabel('Private key (PEM)', { exact: true }).fill(readFileSync(join(certs, 'b.key'), 'utf8'));
    await page.getByRole('button', { name: 'Store certificate' }).click();
    await page.locator('#tls-key-error').waitFor();
    assert.match((await page.locator('#tls-key-error').textContent()) ?? '', /does not belong to the certificate/);
    await page.getByLabel('Private key (PEM)', { exact: true }).fill(readFileSync(join(certs, 'a.key'), 'utf8'));
    await page.getByRole('button', { name: 'Store certificate' }).click();
    await page.getByText('CN=a.example').first().waitFor();
    await shot(page, 'admin-06-settings');
  });

  await t.test('dark theme', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    for (const [hash, name, ready] of [
      ['#/shell', 'shell', 'Connected'],
      ['#/admin/tokens', 'tokens', 'prometheus'],
      ['#/admin/audit', 'audit', 'shell.end'],
      ['#/admin/selftest', 'selftest', 'Passed'],
      ['#/admin/users', 'users', 'viewer'],
      ['#/admin/settings', 'settings', 'CN=a.example'],
    ] as const) {
      await page.goto(`${serve.url}/${hash}`);
      await page.getByText(ready, { exact: ready === 'Connected' }).first().waitFor({ timeout: 20_000 });
      // the shell's prompt, not just the connection
      if (name === 'shell') await page.locator('shell-page .xterm-rows').filter({ hasText: /[#$]/ }).waitFor();
      await shot(page, `admin-dark-${name}`);
    }
    await page.emulateMedia({ colorScheme: 'light' });
  });

  await t.test('a read-only user sees no change controls and is refused by the API and the shell', async () => {
    const ro = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
    const p = await ro.newPage();
    p.setDefaultTimeout(10_000);
    // Chromium logs the refused WebSocket handshake (403) as a console error; that refusal is the point here
    watch(p, /401|403|Forbidden|WebSocket/);
    assert.equal((await ro.request.post(`${serve.url}/api/login`, { data: { username: 'viewer', password: VIEWER_PASSWORD } })).status(), 200);
    await p.goto(`${serve.url}/#/admin/users`);
    await p.getByText('Only administrators can see and manage users').waitFor();
    assert.equal(await p.getByRole('link', { name: 'Shell' }).count(), 0, 'no Shell link');
    // tokens: only their own (the admin's "prometheus" is not theirs to see); acting as themselves
    await p.goto(`${serve.url}/#/admin/tokens`);
    await p.getByText('Your tokens act as you').waitFor();
    await p.getByText('No tokens.').waitFor();
    assert.equal(await p.locator('tr[data-token="prometheus"]').count(), 0);
    await p.goto(`${serve.url}/#/admin/audit`);
    await p.locator('tr[data-action="user.create"]').first().waitFor();
    await p.goto(`${serve.url}/#/admin/settings`);
    await p.locator('#server-time').waitFor();
    assert.equal(await p.getByLabel('Hostname').isDisabled(), true);
    assert.equal(await p.getByRole('button', { name: 'Save' }).count(), 0);
    assert.equal(await p.getByRole('button', { name: 'Store certificate' }).count(), 0);
    await shot(p, 'admin-07-read-only-settings');
    await p.goto(`${serve.url}/#/admin/selftest`);
    await p.getByText('Only administrators can run the self-test').waitFor();
    await p.goto(`${serve.url}/#/shell`);
    await p.getByText('Only administrators can open a shell').waitFor();
    await shot(p, 'admin-08-read-only-shell');
    // the page's own session cannot open the socket, nor change anything
    const ws = await p.evaluate((url) => new Promise<{ code: number; ready: boolean }>((resolve) => {
      const s = new WebSocket(url);
      let ready = false;
      s.onmessage = () => (ready = true);
      s.onclose = (e) => resolve({ code: e.code, ready });
    }), `${serve.url.replace('http:', 'ws:')}/api/shell`);
    assert.deepEqual(ws, { code: 1006, ready: false });
    const csrf = (await ro.cookies()).find((c) => c.name === 'openlun_csrf')!.value;
    const userTry = await ro.request.post(`${serve.url}/api/users`, { data: { username: 'x', password: 'x-password-1', role: 'admin' }, headers: { 'x-csrf-token': csrf } });
    assert.equal(userTry.status(), 403, await userTry.text());
    assert.equal((await ro.request.patch(`${serve.url}/api/settings`, { data: { hostname: 'taken' }, headers: { 'x-csrf-token': csrf } })).status(), 403);
    assert.equal((await ro.request.post(`${serve.url}/api/selftest`, { data: {}, headers: { 'x-csrf-token': csrf } })).status(), 403);
    await ro.close();
  });

  assert.deepEqual(problems, []);
});
