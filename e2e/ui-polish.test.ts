/**
 * The reviewer's UI findings, each checked in a real browser (Debian's chromium, headless, playwright-core) against
 * the API + UI on 127.0.0.1:
 *  - with no theme picked, the theme switch follows the OS turning dark and back (label and aria-pressed);
 *  - outcome messages sit bottom-right, clear of the header, in a live region;
 *  - the New target IQN preview shows where the name goes before one is typed;
 *  - discovery CHAP offers no "Remove" while there is nothing to remove;
 *  - the only portal group of a target offers no "Remove group" (the API refuses it), a second one does;
 *  - IQNs in the access list wrap after ':' / '.' only, never inside "iscsi-inq";
 *  - the Extend form suggests a larger size in a fitting unit (96 MiB → 128 MiB);
 *  - a read-only user gets no "New LUN wizard" button.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { APIRequestContext, Browser, BrowserContext, Page } from 'playwright-core';
import type { Lun, Target } from '../api/src/store/types.ts';
import type { UiServer } from '../ui/test/ui-server.ts';
import { CHROMIUM, launchChromium, openDesktopPage, startUiApp, stopUiApp } from './helpers/ui-appliance.ts';

const PASSWORD = 'correct-horse-battery';
const BASE_IQN = 'iqn.2026-11.org.openlun.polish';
const LIBISCSI = 'iqn.2008-11.org.libiscsi:iscsi-inq';
const MiB = 2 ** 20;

const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} missing (apt-get install chromium)`;

let work: string | undefined;
let server: UiServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let target: Target;
let lun: Lun;

async function call<T>(req: APIRequestContext, method: string, path: string, data?: unknown): Promise<T> {
  const csrf = (await context.cookies()).find((c) => c.name === 'openlun_csrf')?.value ?? '';
  const r = await req.fetch(server.url + path, { method, ...(data === undefined ? {} : { data }), headers: { 'x-csrf-token': csrf } });
  assert.ok(r.ok(), `${method} ${path}: ${r.status()} ${await r.text()}`);
  return (r.status() === 204 ? undefined : await r.json()) as T;
}

before(async () => {
  if (skip) return;
  const app = await startUiApp('openlun-ui-polish-');
  work = app.work;
  server = app.server;
  browser = await launchChromium();
  ({ context, page } = await openDesktopPage(browser));
  page.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
  assert.equal((await context.request.post(`${server.url}/api/setup`, { data: { password: PASSWORD } })).status(), 201);
  const r = context.request;
  await call(r, 'PATCH', '/api/settings', { baseIqn: BASE_IQN });
  lun = await call<Lun>(r, 'POST', '/api/luns', { name: 'small', backing: 'file', sizeBytes: 96 * MiB, blockSize: 512 });
  target = await call<Target>(r, 'POST', '/api/targets', { iqn: `${BASE_IQN}:lab` });
  const group = await call<{ id: number }>(r, 'POST', '/api/initiator-groups', { name: 'libiscsi', initiators: [LIBISCSI], networks: [] });
  await call(r, 'POST', '/api/acls', { targetId: target.id, groupId: group.id });
  await call(r, 'POST', '/api/users', { username: 'viewer', password: 'viewer-password', role: 'read-only' });
});

after(async () => {
  await stopUiApp(browser, server, work);
});

test('UI polish: theme follows the OS, toasts clear of the header, previews, hidden impossible actions, IQN wrapping', { skip, timeout: 60_000 }, async (t) => {
  await t.test('with no theme picked, the switch follows the OS while the page is open', async () => {
    await page.goto(`${server.url}/#/dashboard`);
    const toggle = page.locator('theme-toggle button');
    await toggle.waitFor();
    assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
    assert.match((await toggle.textContent()) ?? '', /Light/);
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.locator('theme-toggle button[aria-pressed="true"]', { hasText: 'Dark' }).waitFor();
    await page.emulateMedia({ colorScheme: 'light' });
    await page.locator('theme-toggle button[aria-pressed="false"]', { hasText: 'Light' }).waitFor();
    // once picked, the choice wins over the OS
    await toggle.click();
    await page.emulateMedia({ colorScheme: 'light' });
    assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
    await toggle.click();
    assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
  });

  await t.test('the New target form previews where the name goes; a toast sits bottom-right, clear of the header', async () => {
    await page.goto(`${server.url}/#/targets`);
    const preview = page.locator('#tgt-iqn-preview');
    await preview.waitFor();
    assert.equal(await preview.textContent(), `${BASE_IQN}:name`);
    assert.equal(await preview.locator('.placeholder').textContent(), 'name');
    await page.getByLabel('Name', { exact: true }).fill('Esxi Cluster');
    await page.locator('#tgt-iqn-preview', { hasText: `${BASE_IQN}:esxi-cluster` }).waitFor();
    assert.equal(await preview.locator('.placeholder').count(), 0);
    await page.getByRole('button', { name: 'Create target' }).click();
    const toast = page.locator('toast-region .toast');
    await toast.waitFor();
    assert.match((await toast.textContent()) ?? '', /Target iqn\.2026-11\.org\.openlun\.polish:esxi-cluster created/);
    assert.equal(await page.locator('toast-region [role="status"][aria-live="polite"]').count(), 1);
    const box = (await toast.boundingBox())!;
    const header = (await page.locator('app-root header').boundingBox())!;
    assert.ok(box.y > header.y + header.height, `toast top ${box.y} is below the header (ends at ${header.y + header.height})`);
    assert.ok(box.x + box.width > 1280 - 40 && box.y + box.height > 800 - 40, `bottom-right: ${JSON.stringify(box)}`);
    await toast.getByRole('button', { name: 'Dismiss' }).click();
  });

  await t.test('discovery CHAP offers "Remove" only when there is one to remove', async () => {
    await page.locator('#dchap-state', { hasText: 'Now: no discovery CHAP' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Remove discovery CHAP' }).count(), 0);
    await page.getByLabel('One-way', { exact: true }).check();
    await page.getByRole('button', { name: 'Save discovery CHAP' }).waitFor();
    await page.getByLabel('None', { exact: true }).check();
    assert.equal(await page.getByRole('button', { name: /discovery CHAP/ }).count(), 0);
  });

  await t.test('the only portal group offers no "Remove group"; with a second one, both do', async () => {
    await page.goto(`${server.url}/#/targets/${target.id}`);
    await page.getByRole('heading', { name: 'Portal group 1' }).waitFor();
    assert.equal(await page.getByRole('button', { name: /^Remove portal group/ }).count(), 0);
    await call(context.request, 'POST', '/api/portal-groups', { targetId: target.id, tag: 2 });
    await page.reload();
    await page.getByRole('heading', { name: 'Portal group 2' }).waitFor();
    assert.equal(await page.getByRole('button', { name: /^Remove portal group/ }).count(), 2);
  });

  await t.test('IQNs in the access list wrap after ":" or "." only', async () => {
    await page.goto(`${server.url}/#/targets/${target.id}/overview`);
    const item = page.locator('ul.initiators li', { hasText: LIBISCSI });
    await item.waitFor();
    assert.equal(await item.textContent(), LIBISCSI);
    const layout = await item.evaluate((li) => {
      // a column narrower than the name (a phone, or a long list of networks beside it)
      (li as unknown as { style: { width: string } }).style.width = '14ch';
      // (this file compiles without the DOM library)
      const css = (globalThis as unknown as { getComputedStyle(e: unknown): { lineHeight: string } }).getComputedStyle(li);
      const line = parseFloat(css.lineHeight) || 20;
      return { lines: li.getBoundingClientRect().height / line, parts: [...li.querySelectorAll('.seg')].map((s) => [s.textContent, s.getBoundingClientRect().height / line]) };
    });
    assert.ok(layout.lines > 1.5, `the IQN wraps in a narrow column (${layout.lines} lines)`);
    for (const [text, lines] of layout.parts) assert.ok((lines as number) < 1.5, `"${text}" stays on one line (${lines})`);
    assert.deepEqual(layout.parts.map(([text]) => text), ['iqn.', '2008-11.', 'org.', 'libiscsi:', 'iscsi-inq']);
  });

  await t.test('Extend suggests a larger size in a fitting unit', async () => {
    await page.goto(`${server.url}/#/storage`);
    await page.getByRole('button', { name: `Manage LUN ${lun.name}` }).click();
    const panel = page.locator('lun-manage-panel');
    const size = panel.getByLabel('New size');
    await size.waitFor();
    assert.equal(await size.getAttribute('placeholder'), '128');
    assert.equal(await panel.getByLabel('Unit').inputValue(), 'MiB');
  });

  await t.test('a read-only user gets no "New LUN wizard" button', async () => {
    assert.equal(await page.getByRole('link', { name: 'New LUN wizard' }).count(), 1);
    const ro = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const p = await ro.newPage();
    try {
      await p.goto(`${server.url}/#/dashboard`);
      await p.getByLabel('Username').fill('viewer');
      await p.getByLabel('Password').fill('viewer-password');
      await p.getByRole('button', { name: 'Sign in' }).click();
      await p.getByText('(read-only)').waitFor();
      assert.equal(await p.getByRole('link', { name: 'New LUN wizard' }).count(), 0);
    } finally {
      await ro.close();
    }
  });
});
