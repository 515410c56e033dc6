/**
 * The target pages in a real browser (Debian's chromium, headless, playwright-core) against the API + UI on
 * 127.0.0.1 (no target daemon: live-state routes answer 404/503 and pages fall back to polling):
 *  - the wizard with the Hyper-V preset (and the Storage page's form with Linux) store the preset with the LUN;
 *    the LUN list shows its badge;
 *  - a target's portal groups: add group 2, add a portal into it (the API reports its tag), removing the group
 *    while it has the portal is refused with the API's reason and changes nothing, setting it standby asks first
 *    (cancel changes nothing; confirm reaches the API);
 *  - "Advanced (iSCSI negotiation)" lists the fourteen RFC 7143 §13 keys with the target's values and defaults;
 *  - discovery CHAP (mutual) validated, set, then removed, on the targets page;
 *  - a read-only user sees states and parameters and is offered no control.
 * Screenshots light and dark go to $OPENLUN_UI_SHOTS or a temp dir (printed as a diagnostic).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { ChapInfo, Lun, Portal, PortalGroup, Target } from '../api/src/store/types.ts';
import { negotiationInfo } from '../api/src/routes/negotiation.ts';
import type { UiServer } from '../ui/test/ui-server.ts';
import { CHROMIUM, csrfOf, failOnPageErrors, launchChromium, openDesktopPage, screenshot, setUpOverApi, startUiApp, stopUiApp } from './helpers/ui-appliance.ts';

const PASSWORD = 'correct-horse-battery';
const BASE_IQN = 'iqn.2026-11.com.example';
const TARGET_IQN = `${BASE_IQN}:hv-cluster`;
const HV_INITIATOR = 'iqn.1991-05.com.microsoft:hv01.example.com';

const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} missing (apt-get install chromium)`;

let work: string;
let shots: string;
let server: UiServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;

const shot = (name: string): Promise<void> => screenshot(page, shots, name);

function guard(p: Page): void {
  // no target daemon here: the live routes (/api/events, sessions, stats) answer 404/503
  failOnPageErrors(p, /401|Unauthorized|404|Not Found|503|Service Unavailable|409|Conflict|400|Bad Request/, /\/api\/events/);
}

async function apiGet<T>(path: string): Promise<T> {
  const r = await context.request.get(server.url + path);
  assert.equal(r.status(), 200, `${path}: ${await r.text()}`);
  return (await r.json()) as T;
}

before(async () => {
  if (skip) return;
  ({ work, shots, server } = await startUiApp('openlun-ui-targets-'));
  browser = await launchChromium();
  ({ context, page } = await openDesktopPage(browser));
  guard(page);
  await setUpOverApi(context, server.url, PASSWORD, BASE_IQN);
});

after(() => stopUiApp(browser, server, work));

test('target UI: preset badge, portal groups and ALUA, negotiation parameters, discovery CHAP', { skip, timeout: 60_000 }, async (t) => {
  t.diagnostic(`screenshots: ${shots}`);
  let target: Target;

  await t.test('the wizard stores the Hyper-V preset with the LUN; the LUN list shows it', async () => {
    await page.goto(`${server.url}/#/wizard`);
    await page.getByRole('heading', { name: 'Step 1 of 5: LUN' }).waitFor();
    await page.getByLabel('Hyper-V / Windows cluster').check();
    await page.getByLabel('LUN name').fill('csv01');
    await page.getByLabel('Size', { exact: true }).fill('16');
    await page.locator('#wz-unit').selectOption('MiB');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel('Target name').fill('hv-cluster');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel('Initiator IQNs').fill(HV_INITIATOR);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel('Initiator user').fill('hvuser');
    await page.getByLabel('Initiator secret').fill('a-long-chap-secret');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Create everything' }).click();
    await page.waitForURL(/#\/targets\/\d+\/connect$/);
    const luns = await apiGet<Lun[]>('/api/luns');
    assert.deepEqual(luns.map((l) => [l.name, l.preset]), [['csv01', 'hyperv']]);
    await page.goto(`${server.url}/#/storage`);
    const badge = page.locator('tr[data-lun="csv01"] .badge[data-preset="hyperv"]');
    await badge.waitFor();
    assert.equal(await badge.textContent(), 'Hyper-V / Windows cluster');
    // the Storage page's own form stores its "Used by" choice too
    await page.getByLabel('Name', { exact: true }).fill('logs01');
    await page.getByLabel('Size', { exact: true }).fill('8');
    await page.getByLabel('Unit').selectOption('MiB');
    await page.getByLabel('Used by').selectOption('linux');
    await page.getByRole('button', { name: 'Create LUN' }).click();
    await page.locator('tr[data-lun="logs01"] .badge[data-preset="linux"]', { hasText: 'Linux' }).waitFor();
    assert.equal((await apiGet<Lun[]>('/api/luns')).find((l) => l.name === 'logs01')?.preset, 'linux');
    await shot('t01-luns-preset-badge');
    [target] = await apiGet<Target[]>('/api/targets');
    assert.equal(target!.iqn, TARGET_IQN);
  });

  await t.test('portal groups: add group 2, a portal into it, removal refused while it has the portal', async () => {
    await page.goto(`${server.url}/#/targets/${target.id}`);
    await page.getByRole('heading', { name: 'Portals and portal groups' }).waitFor();
    await page.getByRole('group', { name: 'Portal group 1' }).waitFor();
    // a tag the target already has: said before the round trip
    await page.getByLabel('Tag', { exact: true }).fill('1');
    await page.getByRole('button', { name: 'Create portal group' }).click();
    assert.equal(await page.locator('#pg-tag-error').textContent(), 'portal group 1 already exists on this target');
    await page.getByLabel('Tag', { exact: true }).fill('2');
    await page.getByLabel('ALUA state', { exact: true }).selectOption('active-non-optimized');
    await page.getByRole('button', { name: 'Create portal group' }).click();
    const g2 = page.getByRole('group', { name: 'Portal group 2' });
    await g2.waitFor();
    assert.equal(await page.getByLabel('ALUA state of portal group 2').inputValue(), 'active-non-optimized');
    const groups = await apiGet<PortalGroup[]>(`/api/portal-groups?targetId=${target.id}`);
    assert.deepEqual(groups.map((g) => [g.tag, g.aluaState]).sort(), [[1, 'active-optimized'], [2, 'active-non-optimized']]);
    const group2 = groups.find((g) => g.tag === 2)!;

    await page.getByLabel('Address').fill('192.0.2.20');
    await page.getByLabel('Into portal group').selectOption({ label: '2 (non-optimized)' });
    await page.getByRole('button', { name: 'Add portal' }).click();
    await g2.locator('tr[data-portal="192.0.2.20:3260"]').waitFor();
    const portals = await apiGet<Portal[]>(`/api/portals?targetId=${target.id}`);
    assert.deepEqual(portals.map((p) => [p.address, p.portalGroupId, p.portalGroupTag]), [['192.0.2.20', group2.id, 2]]);

    await page.getByRole('button', { name: 'Remove portal group 2' }).click();
    const refusal = page.locator('#group-refusal');
    await refusal.waitFor();
    assert.equal(await refusal.textContent(), `portal group 2 of ${TARGET_IQN} has portals (192.0.2.20:3260); delete them first`);
    assert.equal((await apiGet<PortalGroup[]>(`/api/portal-groups?targetId=${target.id}`)).length, 2, 'the refusal changed nothing');
    await shot('t02-target-portal-groups');
  });

  await t.test('ALUA: standby asks first; cancel changes nothing, confirm reaches the API', async () => {
    const select = page.getByLabel('ALUA state of portal group 2');
    await select.selectOption('standby');
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    const said = (await dialog.textContent()) ?? '';
    assert.match(said, /Set portal group 2 to standby\?/);
    assert.match(said, /Initiators connected on 192\.0\.2\.20:3260 stop getting I\/O there/);
    assert.match(said, /Multipath moves I\/O to the other paths \(portal group 1\)/);
    await shot('t03-alua-confirm');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await select.inputValue(), 'active-non-optimized');
    const tag2 = async () => (await apiGet<PortalGroup[]>(`/api/portal-groups?targetId=${target.id}`)).find((g) => g.tag === 2)!.aluaState;
    assert.equal(await tag2(), 'active-non-optimized');

    await select.selectOption('standby');
    await dialog.getByRole('button', { name: 'Set standby' }).click();
    await page.getByRole('group', { name: 'Portal group 2' }).locator('.meaning', { hasText: 'no reads or writes here' }).waitFor();
    assert.equal(await tag2(), 'standby');
    // back to a serving state: no question asked
    await select.selectOption('active-optimized');
    await page.getByRole('group', { name: 'Portal group 2' }).locator('.meaning', { hasText: 'preferred path' }).waitFor();
    assert.equal(await tag2(), 'active-optimized');
    await select.selectOption('standby');
    await dialog.getByRole('button', { name: 'Set standby' }).click();
    await page.getByRole('group', { name: 'Portal group 2' }).locator('.meaning', { hasText: 'no reads or writes here' }).waitFor();
  });

  await t.test('Advanced (iSCSI negotiation): the target key table, fixed in this version', async () => {
    assert.equal(await page.locator('#negotiation-table').isVisible(), false, 'closed until asked');
    await page.getByText('Advanced (iSCSI negotiation)').click();
    await page.locator('#negotiation-table').waitFor();
    const expected = negotiationInfo();
    const rows = page.locator('#negotiation-table tbody tr');
    assert.equal(await rows.count(), 14);
    assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-key'))), expected.keys.map((k) => k.key));
    const burst = (await page.locator('#negotiation-table tr[data-key="MaxBurstLength"]').textContent()) ?? '';
    const mb = expected.keys.find((k) => k.key === 'MaxBurstLength')!;
    assert.ok(burst.includes(mb.target) && burst.includes(`${mb.default} (256 KiB)`) && burst.includes('the lower of both offers'), burst);
    assert.match((await page.locator('#negotiation-table tr[data-key="InitialR2T"]').textContent()) ?? '', /InitialR2TRFC 7143 §13\.10\s*No\s*Yes\s*Yes if either side says Yes/);
    assert.match((await page.locator('#negotiation-fixed').textContent()) ?? '', /Fixed in this version/);
    assert.equal(await page.locator('target-negotiation input').count(), 0, 'nothing offered that would do nothing');
    await shot('t04-target-light');
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot('t05-target-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  await t.test('discovery CHAP: mutual validated, saved, shown; then removed', async () => {
    await page.goto(`${server.url}/#/targets`);
    await page.getByRole('heading', { name: 'Discovery authentication' }).waitFor();
    await page.locator('#dchap-state', { hasText: 'Now: no discovery CHAP' }).waitFor();
    await page.getByLabel('Mutual', { exact: true }).check();
    await page.getByLabel('Initiator user').fill('discover');
    await page.getByLabel('Initiator secret').fill('discovery-secret-1');
    await page.getByLabel('Target user (mutual)').fill('appliance');
    await page.getByLabel('Target secret (mutual)').fill('discovery-secret-1');
    await page.getByRole('button', { name: 'Save discovery CHAP' }).click();
    assert.match((await page.locator('#dchap-mutualSecret-error').textContent()) ?? '', /must differ from the initiator secret/);
    assert.equal((await apiGet<ChapInfo[]>('/api/chap')).filter((c) => c.targetId === null).length, 0, 'nothing sent');
    await page.getByLabel('Target secret (mutual)').fill('appliance-secret-2');
    await page.getByRole('button', { name: 'Save discovery CHAP' }).click();
    await page.locator('#dchap-state', { hasText: 'mutual discovery CHAP, user discover, target user appliance' }).waitFor();
    const set = (await apiGet<ChapInfo[]>('/api/chap')).find((c) => c.targetId === null);
    assert.deepEqual([set?.username, set?.mutualUsername], ['discover', 'appliance']);
    assert.equal(await page.getByLabel('Initiator secret').inputValue(), '', 'the secret left the page');
    assert.equal((await page.content()).includes('appliance-secret-2'), false);
    await shot('t06-targets-discovery-light');
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot('t07-targets-discovery-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    // the target's own CHAP is untouched by the discovery one
    assert.equal((await apiGet<ChapInfo[]>('/api/chap')).find((c) => c.targetId === target.id)?.username, 'hvuser');
    await page.getByLabel('None', { exact: true }).check();
    await page.getByRole('button', { name: 'Remove discovery CHAP' }).click();
    await page.locator('#dchap-state', { hasText: 'Now: no discovery CHAP (discovery sessions need no password)' }).waitFor();
    assert.equal((await apiGet<ChapInfo[]>('/api/chap')).filter((c) => c.targetId === null).length, 0);
  });

  await t.test('a read-only user sees the states and the parameters, and is offered no change', async () => {
    const csrf = await csrfOf(context);
    const made = await context.request.post(`${server.url}/api/users`, { data: { username: 'viewer', password: 'viewer-password', role: 'read-only' }, headers: { 'x-csrf-token': csrf } });
    assert.equal(made.status(), 201);
    const viewer = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      assert.equal((await viewer.request.post(`${server.url}/api/login`, { data: { username: 'viewer', password: 'viewer-password' } })).status(), 200);
      const p = await viewer.newPage();
      p.setDefaultTimeout(10_000);
      guard(p);
      await p.goto(`${server.url}/#/targets/${target.id}`);
      const g2 = p.getByRole('group', { name: 'Portal group 2' });
      await g2.locator('.state', { hasText: 'Standby' }).waitFor();
      assert.equal(await p.locator('target-portal-groups select, target-portal-groups button, chap-form button').count(), 0);
      await p.getByText('Advanced (iSCSI negotiation)').click();
      // the table is filled after the section opens (its own request): wait for it before counting
      await p.locator('#negotiation-table tbody tr').first().waitFor();
      assert.equal(await p.locator('#negotiation-table tbody tr').count(), 14);
      await p.goto(`${server.url}/#/targets`);
      await p.locator('#dchap-state', { hasText: 'Now: no discovery CHAP' }).waitFor();
      assert.equal(await p.getByRole('button', { name: /discovery CHAP/ }).count(), 0);
    } finally {
      await viewer.close();
    }
  });
});
