/**
 * The storage pages and the iSCSI wizard in a real browser (Debian's chromium, headless, playwright-core) against
 * the API + UI on 127.0.0.1:
 *  - file mode (the embedded default): the wizard makes a file-backed LUN with the ESXi preset, a target, an ACL
 *    and CHAP and lands on the Connect tab; a failure half-way (the browser's request for the initiator group is
 *    answered 409) lists what exists and removes it; then extend, snapshot, roll back (data verified on disk,
 *    the "sessions logged in" refusal and its force path), clone, schedule, delete; Disks & pools in file mode.
 *  - LVM mode on an in-memory lvm2 (api/test/support/fake-lvm.ts behind the real StorageManager and routes: this
 *    host has no device-mapper): disk inventory with the system disk never offered, initialize a disk that has
 *    signatures only after typing its name, a volume group, a thin pool with usage bars, a LUN in the thin pool.
 * Screenshots light and dark go to $OPENLUN_UI_SHOTS or a temp dir (printed as a diagnostic).
 */
import assert from 'node:assert/strict';
import { existsSync, openSync, readSync, writeSync, closeSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildApp } from '../api/src/app.ts';
import { StorageBackend, lunInUse } from '../api/src/storage/backend.ts';
import type { Lun } from '../api/src/store/types.ts';
import { registerUi } from '../api/src/ui-static.ts';
import { FakeLvm } from '../api/test/support/fake-lvm.ts';
import { StorageManager } from '../lvm/src/index.ts';
import type { UiServer } from '../ui/test/ui-server.ts';
import { CHROMIUM, csrfOf, failOnPageErrors, launchChromium, openDesktopPage, screenshot, setUpOverApi, startUiApp, stopUiApp } from './helpers/ui-appliance.ts';

const PASSWORD = 'correct-horse-battery';
const BASE_IQN = 'iqn.2026-11.com.example';
const TARGET_IQN = `${BASE_IQN}:esxi-cluster`;
const ESX_INITIATOR = 'iqn.1998-01.com.vmware:esx01-4c4c4544';
const MiB = 2 ** 20;

const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} missing (apt-get install chromium)`;

let work: string;
let shots: string;
let server: UiServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;

const shot = (p: Page, name: string): Promise<void> => screenshot(p, shots, name);

function guard(p: Page): void {
  // the live event stream (/api/events) is served by `openlun serve`, not by this bare app: pages fall back to polling
  failOnPageErrors(p, /401|Unauthorized|409|Conflict|400|Bad Request/, /\/api\/events/);
}

/** First-run setup and the base IQN over the API with the browser context's own cookie jar (the UI flow has its own test). */
const setUp = (ctx: BrowserContext, url: string): Promise<void> => setUpOverApi(ctx, url, PASSWORD, BASE_IQN);

async function apiGet<T>(path: string): Promise<T> {
  const r = await context.request.get(server.url + path);
  assert.equal(r.status(), 200, `${path}: ${await r.text()}`);
  return (await r.json()) as T;
}

function fill(path: string, offset: number, byte: number, length: number): void {
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.alloc(length, byte), 0, length, offset);
  closeSync(fd);
}
function read(path: string, offset: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  const b = Buffer.alloc(length);
  readSync(fd, b, 0, length, offset);
  closeSync(fd);
  return b;
}

before(async () => {
  if (skip) return;
  ({ work, shots, server } = await startUiApp('openlun-ui-storage-'));
  browser = await launchChromium();
  ({ context, page } = await openDesktopPage(browser));
  guard(page);
  await setUp(context, server.url);
});

after(() => stopUiApp(browser, server, work));

test('storage UI in file mode: wizard, extend, snapshot, rollback, clone, schedule, delete, pools', { skip, timeout: 90_000 }, async (t) => {
  t.diagnostic(`screenshots: ${shots}`);
  let lun: Lun;

  await t.test('wizard: each step checks before Next, Back keeps values, the ESXi preset says what it sets', async () => {
    await page.goto(`${server.url}/#/wizard`);
    await page.getByRole('heading', { name: 'Step 1 of 5: LUN' }).waitFor();
    const sets = (await page.locator('#wz-preset-settings').textContent()) ?? '';
    assert.match(sets, /Block size\s*512 bytes/);
    assert.match(sets, /ATS \(VAAI\)\s*onalways/);
    await page.getByRole('button', { name: 'Next' }).click();
    assert.equal(await page.locator('#wz-lunName-error').textContent(), 'is required');
    assert.equal(await page.getByLabel('LUN name').getAttribute('aria-invalid'), 'true');
    await shot(page, 'w01-wizard-lun-errors');
    // Linux then back to ESXi: the preset owns the block size
    await page.getByLabel('Linux').check();
    await page.locator('#wz-preset-title', { hasText: 'Linux' }).waitFor();
    assert.equal(await page.locator('#wz-blockSize').inputValue(), '4096');
    await page.getByLabel('VMware ESXi').check();
    assert.equal(await page.locator('#wz-blockSize').inputValue(), '512');
    await page.getByLabel('LUN name').fill('vmfs01');
    await page.getByLabel('Size', { exact: true }).fill('64');
    await page.locator('#wz-unit').selectOption('MiB');
    // keyboard: Enter submits the step
    await page.getByLabel('Size', { exact: true }).press('Enter');
    await page.getByRole('heading', { name: 'Step 2 of 5: Target' }).waitFor();
    await page.getByLabel('Target name').fill('esxi-cluster');
    await page.locator('#wz-iqn-preview', { hasText: TARGET_IQN }).waitFor();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { name: 'Step 3 of 5: Who may connect' }).waitFor();
    await page.getByRole('button', { name: 'Next' }).click();
    assert.match((await page.locator('#wz-initiators-error').textContent()) ?? '', /at least one initiator or network/);
    await page.getByLabel('Initiator IQNs').fill('not-an-iqn');
    await page.getByRole('button', { name: 'Next' }).click();
    assert.match((await page.locator('#wz-initiators-error').textContent()) ?? '', /not-an-iqn must start with iqn\./);
    await page.getByLabel('Initiator IQNs').fill(ESX_INITIATOR);
    // Back keeps every value
    await page.getByRole('button', { name: 'Back' }).click();
    assert.equal(await page.getByLabel('Target name').inputValue(), 'esxi-cluster');
    await page.getByRole('button', { name: 'Back' }).click();
    assert.equal(await page.getByLabel('LUN name').inputValue(), 'vmfs01');
    assert.equal(await page.locator('#wz-unit').inputValue(), 'MiB');
    // the step list jumps forward only through steps that validate
    await page.getByRole('button', { name: /Authentication/ }).click();
    await page.getByRole('heading', { name: 'Step 4 of 5: Authentication' }).waitFor();
    assert.equal(await page.getByLabel('Initiator IQNs').count(), 0);
    await page.getByLabel('Initiator user').fill('esxuser');
    await page.getByLabel('Initiator secret').fill('short');
    await page.getByRole('button', { name: 'Next' }).click();
    assert.match((await page.locator('#wz-chapSecret-error').textContent()) ?? '', /12-255 characters/);
    await page.getByLabel('Initiator secret').fill('a-long-chap-secret');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { name: 'Step 5 of 5: Summary' }).waitFor();
    const summary = (await page.locator('#wz-summary').textContent()) ?? '';
    assert.match(summary, /vmfs01, 64 MiB, 512-byte blocks, write-back/);
    assert.ok(summary.includes(TARGET_IQN) && summary.includes(ESX_INITIATOR) && summary.includes('one-way CHAP, user esxuser'), summary);
    await shot(page, 'w02-wizard-summary');
  });

  await t.test('wizard: a failure half-way says what exists and removes it on request', async () => {
    // the browser's request for the initiator group is refused once, as the API would refuse a conflict
    await page.route('**/api/initiator-groups', (route) =>
      route.request().method() === 'POST'
        ? route.fulfill({ status: 409, contentType: 'application/json', body: JSON.stringify({ error: 'conflict', message: 'initiator group esxi-cluster-hosts already exists' }) })
        : route.continue(),
    );
    await page.getByRole('button', { name: 'Create everything' }).click();
    const failure = page.locator('#wizard-failure');
    await failure.waitFor();
    const text = (await failure.textContent()) ?? '';
    assert.match(text, /Creating the initiator group failed: initiator group esxi-cluster-hosts already exists/);
    assert.deepEqual(await page.locator('#wizard-created li').allTextContents(), ['LUN vmfs01', `target ${TARGET_IQN}`, 'mapping of LUN vmfs01 as LUN 0']);
    assert.equal((await apiGet<Lun[]>('/api/luns')).length, 1, 'the LUN really exists');
    await shot(page, 'w03-wizard-partial-failure');
    await page.unroute('**/api/initiator-groups');
    await page.getByRole('button', { name: 'Remove what was created' }).click();
    await page.locator('#wizard-undone', { hasText: 'Nothing the wizard made is left' }).waitFor();
    assert.equal((await apiGet<Lun[]>('/api/luns')).length, 0);
    assert.equal((await apiGet<unknown[]>('/api/targets')).length, 0);
    assert.equal((await apiGet<unknown[]>('/api/mappings')).length, 0);
  });

  await t.test('wizard: a field the API refuses at the last call is shown on its step; the retry continues, no duplicates', async () => {
    await page.route('**/api/chap/targets/*', (route) =>
      route.request().method() === 'PUT'
        ? route.fulfill({ status: 400, contentType: 'application/json', body: JSON.stringify({ error: 'invalid', message: 'secret is on the weak-secret list', fields: [{ field: 'secret', message: 'secret is on the weak-secret list' }] }) })
        : route.continue(),
    );
    await page.getByRole('button', { name: 'Create everything' }).click();
    await page.locator('#wizard-failure', { hasText: 'Setting CHAP on the target failed' }).waitFor();
    assert.equal(await page.locator('#wizard-created li').count(), 5);
    await page.unroute('**/api/chap/targets/*');
    await page.getByRole('button', { name: 'Fix and retry' }).click();
    await page.getByRole('heading', { name: 'Step 4 of 5: Authentication' }).waitFor();
    assert.equal(await page.locator('#wz-chapSecret-error').textContent(), 'is on the weak-secret list');
    await page.getByLabel('Initiator secret').fill('a-long-chap-secret');
    await page.getByRole('button', { name: 'Next' }).click();
    assert.match((await page.locator('#wz-already').textContent()) ?? '', /Made by the last attempt and kept: LUN vmfs01, target/);
  });

  await t.test('wizard: Create makes LUN, target, mapping, ACL and CHAP and lands on Connect', async () => {
    await page.getByRole('button', { name: 'Continue creating' }).click();
    await page.waitForURL(/#\/targets\/\d+\/connect$/);
    await page.locator('pre', { hasText: 'statictarget add' }).waitFor();
    const esxi = (await page.locator('pre').textContent()) ?? '';
    assert.ok(esxi.includes(`--name=${TARGET_IQN}`), esxi);
    assert.ok(esxi.includes('esxuser') && !esxi.includes('a-long-chap-secret'), 'the CHAP user, never the secret');
    await shot(page, 'w04-wizard-connect');
    const luns = await apiGet<Lun[]>('/api/luns');
    assert.equal(luns.length, 1);
    lun = luns[0]!;
    assert.deepEqual([lun.name, lun.backing, lun.sizeBytes, lun.blockSize, lun.writeCache], ['vmfs01', 'file', 64 * MiB, 512, 'write-back']);
    const targets = await apiGet<Array<{ id: number; iqn: string }>>('/api/targets');
    assert.deepEqual(targets.map((x) => x.iqn), [TARGET_IQN]);
    assert.deepEqual((await apiGet<Array<{ lun: number; lunId: number }>>('/api/mappings')).map((m) => [m.lun, m.lunId]), [[0, lun.id]]);
    const groups = await apiGet<Array<{ id: number; name: string; initiators: string[] }>>('/api/initiator-groups');
    assert.deepEqual(groups.map((g) => [g.name, g.initiators]), [['esxi-cluster-hosts', [ESX_INITIATOR]]]);
    assert.deepEqual((await apiGet<Array<{ targetId: number; groupId: number }>>('/api/acls')).map((a) => [a.targetId, a.groupId]), [[targets[0]!.id, groups[0]!.id]]);
    assert.deepEqual((await apiGet<Array<{ targetId: number; username: string }>>('/api/chap')).map((c) => [c.targetId, c.username]), [[targets[0]!.id, 'esxuser']]);
  });

  await t.test('extend online: only grows, the new size is on the LUN and its file', async () => {
    await page.getByRole('link', { name: 'Storage', exact: true }).click();
    await page.getByRole('button', { name: 'Manage LUN vmfs01' }).click();
    const panel = page.locator('lun-manage-panel');
    await panel.getByRole('heading', { name: 'Snapshots of vmfs01' }).waitFor();
    await panel.getByText(/connected initiators see the new size without reconnecting/).waitFor();
    await panel.getByLabel('New size').fill('32');
    await panel.getByLabel('Unit').selectOption('MiB');
    await panel.getByRole('button', { name: 'Extend', exact: true }).click();
    assert.match((await panel.locator(`#lm-${lun.id}-newSize-error`).textContent()) ?? '', /must be larger than the current 64 MiB/);
    await panel.getByLabel('New size').fill('96');
    await panel.getByRole('button', { name: 'Extend', exact: true }).click();
    await page.locator('tr[data-lun="vmfs01"]', { hasText: '96 MiB' }).waitFor();
    assert.equal((await apiGet<Lun>(`/api/luns/${lun.id}`)).sizeBytes, 96 * MiB);
  });

  await t.test('snapshot, then roll back with confirmation (sessions refusal → force): the data is back', async () => {
    const panel = page.locator('lun-manage-panel');
    fill(lun.path, 0, 0xaa, 4096);
    fill(lun.path, 80 * MiB, 0xbb, 4096);
    await panel.getByLabel('Snapshot name').fill('../evil');
    await panel.getByRole('button', { name: 'Take snapshot' }).click();
    assert.match((await panel.locator(`#lm-${lun.id}-snapName-error`).textContent()) ?? '', /^must be/);
    await panel.getByLabel('Snapshot name').fill('before-upgrade');
    await panel.getByRole('button', { name: 'Take snapshot' }).click();
    await panel.locator('tr[data-snapshot="before-upgrade"]').waitFor();
    // written after the snapshot: the rollback must undo it
    fill(lun.path, 0, 0x11, 4096);
    fill(lun.path, 80 * MiB, 0x22, 4096);
    // pretend an initiator is logged in: the API refuses, the UI names it and offers to force
    const storage = server.api.openlun.storage;
    const realTarget = storage.target;
    storage.target = { reconcile: async () => {}, sessionsOn: async () => [`${ESX_INITIATOR} from 192.0.2.10`] };
    try {
      await panel.getByRole('button', { name: 'Roll vmfs01 back to before-upgrade' }).click();
      const dialog = panel.getByRole('dialog');
      await dialog.waitFor();
      const text = (await dialog.textContent()) ?? '';
      assert.match(text, /Everything written to vmfs01 since then is lost/);
      assert.match(text, /goes offline briefly/);
      const confirm = dialog.getByRole('button', { name: 'Roll back' });
      assert.equal(await confirm.isDisabled(), true, 'needs the typed LUN name');
      await shot(page, 'w05-rollback-confirm');
      await dialog.getByLabel(/Type vmfs01 to confirm/).fill('vmfs01');
      await confirm.click();
      await panel.getByRole('dialog').getByRole('heading', { name: 'Initiators are using LUN vmfs01' }).waitFor();
      assert.match((await panel.getByRole('dialog').textContent()) ?? '', /in use by 1 session\(s\) \(iqn\.1998-01\.com\.vmware:esx01-4c4c4544 from 192\.0\.2\.10\)/);
      assert.equal(read(lun.path, 0, 1)[0], 0x11, 'nothing rolled back yet');
      await shot(page, 'w06-rollback-sessions');
      await panel.getByRole('dialog').getByRole('button', { name: 'Roll back anyway' }).click();
      await page.getByText('LUN vmfs01 rolled back to before-upgrade').waitFor();
    } finally {
      storage.target = realTarget;
    }
    assert.ok(read(lun.path, 0, 4096).equals(Buffer.alloc(4096, 0xaa)), 'block 0 is back');
    assert.ok(read(lun.path, 80 * MiB, 4096).equals(Buffer.alloc(4096, 0xbb)), 'the extended part is back too');
    const after = await apiGet<Lun>(`/api/luns/${lun.id}`);
    assert.deepEqual([after.serial, after.naaId], [lun.serial, lun.naaId], 'same identity after the rollback');
  });

  await t.test('clone a snapshot into a new LUN; schedule; delete the snapshot with confirmation', async () => {
    const panel = page.locator('lun-manage-panel');
    await panel.getByRole('button', { name: 'Clone before-upgrade into a new LUN' }).click();
    await panel.getByLabel('Name of the new LUN').fill('vmfs01-copy');
    await panel.getByRole('button', { name: 'Create clone' }).click();
    await page.locator('tr[data-lun="vmfs01-copy"]').waitFor();
    const copy = (await apiGet<Lun[]>('/api/luns')).find((l) => l.name === 'vmfs01-copy')!;
    assert.notEqual(copy.serial, lun.serial);
    assert.ok(read(copy.path, 0, 4096).equals(Buffer.alloc(4096, 0xaa)), 'the clone holds the snapshot data');
    // schedules: a bad interval is refused next to its field; then daily, keep 7
    await panel.getByLabel('Every').selectOption('minutes');
    await panel.getByLabel('Minutes').fill('2');
    await panel.getByRole('button', { name: 'Add schedule' }).click();
    assert.match((await panel.locator(`#lm-${lun.id}-minutes-error`).textContent()) ?? '', /at least 5/);
    await panel.getByLabel('Every').selectOption('daily');
    await panel.getByLabel('Keep').fill('7');
    await panel.getByRole('button', { name: 'Add schedule' }).click();
    await panel.locator('#lm-schedules', { hasText: 'daily, keeps the newest 7' }).waitFor();
    const schedules = await apiGet<Array<{ lunId: number; everyMinutes: number; keep: number }>>('/api/snapshot-schedules');
    assert.deepEqual(schedules.map((s) => [s.lunId, s.everyMinutes, s.keep]), [[lun.id, 1440, 7]]);
    await shot(page, 'w07-lun-manage');
    await panel.getByRole('button', { name: 'Delete snapshot before-upgrade' }).click();
    const dialog = panel.getByRole('dialog');
    assert.match((await dialog.textContent()) ?? '', /can no longer roll back to it or clone it/);
    await dialog.getByRole('button', { name: 'Delete snapshot' }).click();
    await panel.getByText('No snapshots yet.').waitFor();
    assert.equal((await apiGet<unknown[]>(`/api/luns/${lun.id}/snapshots`)).length, 0);
  });

  await t.test('delete the clone with confirmation; dark theme', async () => {
    await page.getByRole('button', { name: 'Delete LUN vmfs01-copy' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    assert.match((await dialog.textContent()) ?? '', /everything stored on it/);
    await dialog.getByLabel(/Type vmfs01-copy to confirm/).fill('vmfs01-copy');
    await dialog.getByRole('button', { name: 'Delete LUN' }).click();
    await page.locator('tr[data-lun="vmfs01-copy"]').waitFor({ state: 'detached' });
    assert.deepEqual((await apiGet<Lun[]>('/api/luns')).map((l) => l.name), ['vmfs01']);
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.getByRole('button', { name: 'Manage LUN vmfs01' }).waitFor();
    await shot(page, 'w08-lun-manage-dark');
    await page.goto(`${server.url}/#/wizard`);
    await page.getByRole('heading', { name: 'Step 1 of 5: LUN' }).waitFor();
    await shot(page, 'w09-wizard-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  await t.test('Disks & pools in file mode: the file pool with its usage bar, and how LVM appears', async () => {
    await page.getByRole('link', { name: 'Disks & pools' }).click();
    await page.getByRole('heading', { name: 'File pool' }).waitFor();
    const fp = await apiGet<{ mode: string; filePool: { path: string } }>('/api/storage');
    assert.equal(fp.mode, 'file');
    assert.equal(await page.locator('#fp-path').textContent(), fp.filePool.path);
    assert.match((await page.locator('#storage-mode-note').textContent()) ?? '', /appears here when disks are initialized/);
    const meter = page.locator('#fp-usage');
    assert.equal(await meter.getAttribute('role'), 'meter');
    assert.match((await meter.getAttribute('aria-valuetext')) ?? '', /% used, warning at 80 %/);
    // disks are managed in LVM mode: the page says how to get there
    assert.match((await page.locator('#disks-unavailable').textContent()) ?? '', /openlun serve --storage lvm/);
    assert.equal(await page.getByRole('button', { name: /Initialize/ }).count(), 0);
    await shot(page, 'w10-pools-file');
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot(page, 'w11-pools-file-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  await t.test('a read-only user sees LUNs, snapshots and pools and is offered no change', async () => {
    const csrf = await csrfOf(context);
    const created = await context.request.post(`${server.url}/api/users`, { data: { username: 'viewer', password: 'viewer-password', role: 'read-only' }, headers: { 'x-csrf-token': csrf } });
    assert.equal(created.status(), 201);
    const ro = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const p = await ro.newPage();
    guard(p);
    try {
      await p.goto(`${server.url}/#/storage`);
      await p.getByLabel('Username').fill('viewer');
      await p.getByLabel('Password').fill('viewer-password');
      await p.getByRole('button', { name: 'Sign in' }).click();
      await p.getByRole('button', { name: 'Snapshots of LUN vmfs01' }).click();
      const panel = p.locator('lun-manage-panel');
      await panel.locator('#lm-schedules', { hasText: 'daily, keeps the newest 7' }).waitFor();
      assert.equal(await p.getByRole('button', { name: /Extend|Take snapshot|Roll|Clone|Delete|Add schedule|Remove|Create/ }).count(), 0);
      // no header button to a page a read-only user cannot use; typed by hand, the wizard says why
      assert.equal(await p.getByRole('link', { name: 'New LUN wizard' }).count(), 0);
      await p.goto(`${server.url}/#/wizard`);
      await p.getByText(/read-only access: the wizard/).waitFor();
      assert.equal(await p.getByRole('button', { name: /Next|Create/ }).count(), 0);
      await p.getByRole('link', { name: 'Disks & pools' }).click();
      await p.locator('#fp-path').waitFor();
      await shot(p, 'w12-read-only-storage');
    } finally {
      await ro.close();
    }
  });
});

test('storage UI in LVM mode (in-memory lvm2): disks, PV with typed wipe confirmation, VG, thin pool, LUN in the pool', { skip, timeout: 60_000 }, async (t) => {
  const fake = new FakeLvm();
  const dataDir = join(work, 'data-lvm');
  const api = await buildApp({
    dataDir,
    secureCookies: false,
    storage: (store) => new StorageBackend(store, 'lvm', new StorageManager({ runner: fake.runner, inUse: lunInUse(store) })),
    extend: (app) => registerUi(app, { distDir: join(work, 'dist') }),
  });
  await api.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
  const { context: ctx, page: p } = await openDesktopPage(browser);
  guard(p);
  try {
    await setUp(ctx, url);
    await p.goto(`${url}/#/pools`);
    await p.getByRole('heading', { name: 'Disks', exact: true }).waitFor();
    await p.locator('tr[data-disk="/dev/sdb"]').waitFor();

    await t.test('the system disk is shown but never offered; a disk with signatures needs its name typed', async () => {
      assert.match((await p.locator('tr[data-disk="/dev/sda"]').textContent()) ?? '', /system disk/);
      assert.equal(await p.getByRole('button', { name: 'Initialize /dev/sda as PV' }).count(), 0);
      await p.getByRole('button', { name: 'Initialize /dev/sdb as PV' }).click();
      const dialog = p.getByRole('dialog');
      assert.match((await dialog.textContent()) ?? '', /has ext4.*erases those signatures and everything on the disk/s);
      const confirm = dialog.getByRole('button', { name: 'Erase and initialize' });
      assert.equal(await confirm.isDisabled(), true);
      await shot(p, 'l01-pv-wipe-confirm');
      await dialog.getByLabel(/Type \/dev\/sdb to confirm/).fill('/dev/sdb');
      await confirm.click();
      await p.locator('tr[data-disk="/dev/sdb"]', { hasText: 'physical volume' }).waitFor();
      assert.ok(fake.changes().some((c) => c.startsWith('pvcreate') && c.includes('/dev/sdb')), fake.changes().join('\n'));
      // a clean disk: a plain confirmation
      await p.getByRole('button', { name: 'Initialize /dev/sdc as PV' }).click();
      assert.equal(await p.getByRole('dialog').getByLabel(/to confirm/).count(), 0);
      await p.getByRole('dialog').getByRole('button', { name: 'Initialize', exact: true }).click();
      await p.locator('tr[data-disk="/dev/sdc"]', { hasText: 'physical volume' }).waitFor();
    });

    await t.test('volume group from free PVs, thin pool with usage bars, a LUN in the thin pool', async () => {
      await p.getByLabel('Volume group name').fill('vg0');
      await p.getByRole('button', { name: 'Create volume group' }).click();
      assert.equal(await p.locator('#err-devices').textContent(), 'choose at least one free physical volume');
      await p.getByLabel('/dev/sdb').first().check();
      await p.getByLabel('/dev/sdc').first().check();
      await p.getByRole('button', { name: 'Create volume group' }).click();
      await p.locator('tr[data-vg="vg0"]').waitFor();
      await p.getByLabel('Pool name').fill('thin0');
      await p.getByLabel('Data size').fill('1024');
      await p.locator('#pool-unit').selectOption('MiB');
      await p.getByRole('button', { name: 'Create thin pool' }).click();
      await p.locator('[data-pool="vg0/thin0"]').waitFor();
      assert.equal(await p.locator('[role=meter]').count(), 3, 'file pool + data + metadata');
      await shot(p, 'l02-pools-lvm');
      // the LUN form offers the thin pool; the LUN becomes a thin LV
      await p.getByRole('link', { name: 'Storage', exact: true }).click();
      await p.getByLabel('Stored in').selectOption('pool:vg0/thin0');
      await p.getByLabel('Name', { exact: true }).fill('db01');
      await p.getByLabel('Size', { exact: true }).fill('2');
      await p.getByRole('button', { name: 'Create LUN' }).click();
      await p.locator('tr[data-lun="db01"]').waitFor();
      assert.ok(fake.changes().some((c) => c.startsWith('lvcreate') && c.includes('thin') && c.includes('db01')), fake.changes().join('\n'));
      await p.getByRole('link', { name: 'Disks & pools' }).click();
      await p.locator('[data-pool="vg0/thin0"]', { hasText: /1 thin LUN\(s\) promise 2 GiB: 200 % of the pool — overcommitted/ }).waitFor();
      assert.equal(await p.getByRole('button', { name: 'Remove volume group vg0' }).isDisabled(), true, 'a VG holding LUNs cannot be removed');
      // extend the VG with another disk, and the thin pool
      await p.getByRole('button', { name: 'Initialize /dev/sdd as PV' }).click();
      await p.getByRole('dialog').getByRole('button', { name: 'Initialize', exact: true }).click();
      await p.locator('tr[data-disk="/dev/sdd"]', { hasText: 'physical volume' }).waitFor();
      await p.getByRole('button', { name: 'Extend volume group vg0' }).click();
      await p.getByRole('form', { name: 'Extend vg0' }).getByLabel('/dev/sdd').check();
      await p.getByRole('button', { name: 'Add to vg0' }).click();
      await p.locator('tr[data-vg="vg0"]', { hasText: /3\s*db01/ }).waitFor();
      await p.getByRole('button', { name: 'Extend thin pool vg0/thin0' }).click();
      await p.getByLabel('New data size').fill('1');
      await p.getByRole('form', { name: 'Extend thin pool vg0/thin0' }).getByRole('button', { name: 'Extend', exact: true }).click();
      assert.match((await p.getByRole('form', { name: 'Extend thin pool vg0/thin0' }).locator('.error').first().textContent()) ?? '', /must be larger than the current 1 GiB/);
      await p.getByLabel('New data size').fill('1.5');
      await p.getByRole('form', { name: 'Extend thin pool vg0/thin0' }).getByRole('button', { name: 'Extend', exact: true }).click();
      await p.locator('[data-pool="vg0/thin0"] h3', { hasText: '1.5 GiB' }).waitFor();
      await shot(p, 'l03-pools-lvm-overcommitted');
      await p.emulateMedia({ colorScheme: 'dark' });
      await shot(p, 'l04-pools-lvm-dark');
      await p.emulateMedia({ colorScheme: 'light' });
    });

    await t.test('a thick LUN in the VG: its snapshot asks for copy-on-write space', async () => {
      await p.getByRole('link', { name: 'Storage', exact: true }).click();
      await p.getByLabel('Stored in').selectOption('vg:vg0');
      await p.getByLabel('Name', { exact: true }).fill('db02');
      await p.getByLabel('Size', { exact: true }).fill('256');
      await p.getByLabel('Unit', { exact: true }).selectOption('MiB');
      await p.getByRole('button', { name: 'Create LUN' }).click();
      await p.locator('tr[data-lun="db02"]').waitFor();
      await p.getByRole('button', { name: 'Manage LUN db02' }).click();
      const panel = p.locator('lun-manage-panel');
      await panel.getByLabel('Space for changes').waitFor();
      assert.equal(await panel.getByLabel('Space for changes').inputValue(), '52', '20 % of 256 MiB, rounded up');
      await panel.getByLabel('Snapshot name').fill('nightly');
      await panel.getByLabel('Space for changes').fill('64');
      await panel.getByRole('button', { name: 'Take snapshot' }).click();
      await panel.locator('tr[data-snapshot="nightly"]').waitFor();
      const snap = fake.changes().find((c) => c.startsWith('lvcreate') && c.includes('--snapshot'));
      assert.ok(snap?.includes(`--snapshot -L ${64 * MiB}b`), snap);
      await shot(p, 'l05-thick-lun-snapshot');
    });
  } finally {
    await ctx.close();
    await api.close();
  }
});
