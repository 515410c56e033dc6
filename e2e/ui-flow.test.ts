/**
 * Issue 6, "What must be shown" 1 and 2, as ONE browser session against the appliance as `openlun serve` runs it
 * (API + UI on plain HTTP loopback, a real targetd it spawns), driven by playwright-core in Debian's chromium:
 *
 *   first-run setup in the browser → the default iSCSI port set on the settings page → the wizard makes a
 *   file-backed LUN with the VMware ESXi preset, a target, an ACL for a libiscsi initiator name and one-way CHAP →
 *   it lands on Connect, whose "Linux (libiscsi / QEMU)" tab this test READS from the DOM: the CHAP secret
 *   placeholder is replaced by the secret typed into the wizard and exactly those commands run (argv split here,
 *   never a shell): iscsi-ls and iscsi-inq log in → iscsi-perf (same initiator name and CHAP) loads the LUN while
 *   the Sessions page lists the session and the dashboard's IOPS figure and chart move → the LUN is extended on the
 *   Storage page and the initiator sees the new size (the page's iscsi-readcapacity16 command) → a snapshot → a LUN
 *   made with the CLI (`openlun lun create` over an API token) appears in the open Storage page without a reload
 *   and is deleted there with a typed confirmation → the shell runs a command → a read-only user signs in, every
 *   page offers no change control, and the API refuses a change.
 *
 * Screenshots of every page in light and dark at 1280 px and the dashboard at 1920 px go to $OPENLUN_UI_SHOTS (or
 * a temp dir, printed as a diagnostic). Any script error, any console error not listed in ALLOWED_CONSOLE and any
 * Content Security Policy violation fails the run.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { repoRoot } from '../ui/test/ui-server.ts';
import { freePort } from './helpers/ports.ts';
import { run, trackChild } from './helpers/run.ts';
import { CHROMIUM, csrfOf, guardContext, launchChromium, screenshot, startAppliance, stopAppliance, type Appliance } from './helpers/ui-appliance.ts';

const PASSWORD = 'flow-admin-password';
const VIEWER_PASSWORD = 'flow-viewer-password';
const BASE_IQN = 'iqn.2026-11.org.openlun.flow';
const TARGET_IQN = `${BASE_IQN}:esxi-cluster`;
// libiscsi's own default name for iscsi-inq: the ACL admits it, and the Connect page passes it with -i
const INITIATOR = 'iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-inq';
const CHAP_USER = 'linuxhost';
const CHAP_SECRET = 'Flow-Chap-4711x';
const PLACEHOLDER = '<CHAP secret>';
const MiB = 2 ** 20;
/**
 * Console errors that are expected, each for a stated reason; anything else fails the run:
 *  - 401: the app asks /api/me before anyone is signed in (first load, the read-only user's login page).
 */
const ALLOWED_CONSOLE = /401 \(Unauthorized\)/;

const skip = !existsSync(CHROMIUM)
  ? `${CHROMIUM} missing (apt-get install chromium)`
  : !existsSync('/usr/bin/iscsi-perf') || !existsSync('/usr/bin/iscsi-inq')
    ? 'libiscsi tools missing (apt-get install libiscsi-bin)'
    : !existsSync('/usr/bin/qemu-img')
      ? 'qemu-img missing (apt-get install qemu-utils qemu-block-extra)'
      : false;

let appliance: Appliance | undefined;
let url = '';
let shots = '';
let browser: Browser;
let context: BrowserContext;
let page: Page;
let iscsiPort = 0;
const problems: string[] = [];
const initiators: ChildProcess[] = [];
const perfLog: string[] = [];

const shot = (p: Page, name: string) => screenshot(p, shots, name);

/** The admin's API with the browser's own cookies and CSRF token (for checks and the few set-ups not under test). */
async function api<T = any>(method: 'GET' | 'POST' | 'DELETE', path: string, data?: unknown, ctx: BrowserContext = context): Promise<T> {
  const res = await ctx.request.fetch(url + path, { method, headers: { 'x-csrf-token': await csrfOf(ctx) }, ...(data === undefined ? {} : { data }) });
  const text = await res.text();
  assert.ok(res.ok(), `${method} ${path}: ${res.status()} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/**
 * A command line as the Connect page shows it, split into argv the way a POSIX shell would for the only forms the
 * page uses (words, '...' quoting, the '\'' escape). Anything needing a shell (expansions, redirections, pipes,
 * sequencing) is refused: the test runs argv, never a shell.
 */
function splitCommand(line: string): string[] {
  const argv: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      assert.ok(end > i, `unterminated quote in: ${line}`);
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (ch === '\\' && line[i + 1] === "'") {
      word = (word ?? '') + "'";
      i++;
    } else if (ch === ' ') {
      if (word !== undefined) argv.push(word);
      word = undefined;
    } else {
      assert.ok(!/[$`|;&<>()*?"\\]/.test(ch), `the command needs a shell (${ch}): ${line}`);
      word = (word ?? '') + ch;
    }
  }
  if (word !== undefined) argv.push(word);
  return argv;
}

/** Lines of the Connect page's libiscsi tab that start with `tool`, the CHAP secret filled in. */
async function commandsFromPage(p: Page, tool: string, withChap = true): Promise<string[][]> {
  const text = (await p.locator('connect-panel [role="tabpanel"][data-os="libiscsi"] pre').textContent()) ?? '';
  const lines = text.split('\n').filter((l) => l.startsWith(`${tool} `));
  assert.ok(lines.length > 0, `no ${tool} line on the Connect page:\n${text}`);
  return lines.map((l) => {
    assert.equal(l.includes(PLACEHOLDER), withChap, `the CHAP placeholder (never a secret) ${withChap ? 'in' : 'not in'}: ${l}`);
    return splitCommand(l.split(PLACEHOLDER).join(CHAP_SECRET));
  });
}

function startPerf(lunUrl: string): ChildProcess {
  // reconnects allowed and errors ignored: the LUN grows under it (a capacity-changed UNIT ATTENTION)
  const child = spawn('iscsi-perf', ['-i', INITIATOR, '-m', '4', '-x', '20', '-n', lunUrl], { stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  let out = '';
  const keep = (b: Buffer) => (out = (out + b.toString()).slice(-2000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.once('exit', (code, signal) => perfLog.push(`iscsi-perf: exit ${code ?? signal}\n${out.replaceAll(CHAP_SECRET, '<secret>').slice(-400)}`));
  initiators.push(child);
  return child;
}

async function waitForNumber(read: () => Promise<number>, ok: (n: number) => boolean, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  let n = await read();
  while (!ok(n) && Date.now() < deadline) {
    await page.waitForTimeout(250);
    n = await read();
  }
  return n;
}

before(async () => {
  if (skip) return;
  iscsiPort = await freePort();
  appliance = await startAppliance('openlun-ui-flow-');
  url = appliance.serve.url;
  shots = appliance.shots;
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  await guardContext(context, problems, ALLOWED_CONSOLE);
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
});

after(async () => {
  if (perfLog.length) console.log(perfLog.join('\n'));
  for (const c of initiators) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await browser?.close();
  await stopAppliance(appliance);
});

/** Every page with what shows it is loaded (after the flow: the LUN, the target and the session exist). */
function pages(targetId: number): Array<{ name: string; hash: string; ready: (p: Page) => Promise<unknown> }> {
  return [
    { name: 'dashboard', hash: '#/dashboard', ready: (p) => p.locator(`tr[data-target="${TARGET_IQN}"]`).waitFor() },
    { name: 'storage', hash: '#/storage', ready: (p) => p.locator('tr[data-lun="vmfs01"]').waitFor() },
    { name: 'pools', hash: '#/pools', ready: (p) => p.getByRole('heading', { name: 'File pool' }).waitFor() },
    { name: 'wizard', hash: '#/wizard', ready: (p) => p.getByRole('heading', { name: 'New LUN wizard', level: 1 }).waitFor() },
    { name: 'targets', hash: '#/targets', ready: (p) => p.getByText(TARGET_IQN).first().waitFor() },
    { name: 'target', hash: `#/targets/${targetId}`, ready: (p) => p.getByRole('heading', { name: TARGET_IQN, level: 1 }).waitFor() },
    { name: 'target-connect', hash: `#/targets/${targetId}/connect`, ready: (p) => p.locator('connect-panel pre').waitFor() },
    { name: 'sessions', hash: '#/sessions', ready: (p) => p.getByRole('heading', { name: 'Sessions', level: 1 }).waitFor() },
    { name: 'shell', hash: '#/shell', ready: (p) => p.getByRole('heading', { name: 'Shell', level: 1 }).waitFor() },
    { name: 'admin-users', hash: '#/admin/users', ready: (p) => p.getByRole('heading', { name: 'Administration', level: 1 }).waitFor() },
    { name: 'admin-tokens', hash: '#/admin/tokens', ready: (p) => p.locator('admin-tokens').waitFor() },
    { name: 'admin-audit', hash: '#/admin/audit', ready: (p) => p.locator('admin-audit tbody tr').first().waitFor() },
    { name: 'admin-settings', hash: '#/admin/settings', ready: (p) => p.locator('#server-time').waitFor() },
    { name: 'admin-selftest', hash: '#/admin/selftest', ready: (p) => p.locator('admin-selftest').waitFor() },
  ];
}

/** One step of the flow: skipped once an earlier one failed (they build on each other); a failure is photographed. */
function stepper(t: { test(name: string, fn: () => Promise<void>): Promise<void> }) {
  let failed = '';
  let n = 0;
  return (name: string, fn: () => Promise<void>) => {
    const i = ++n;
    return t.test(name, async () => {
      if (failed) return void assert.fail(`skipped: "${failed}" failed`);
      try {
        await fn();
      } catch (e) {
        failed = name;
        await page.screenshot({ path: join(shots, `FAILED-step-${i}.png`), fullPage: true }).catch(() => {});
        throw e;
      }
    });
  };
}

test('issue 6 end to end: setup → wizard → libiscsi from the Connect page → load, sessions, IOPS → extend, snapshot, CLI, delete → shell → read-only', { skip, timeout: 150_000 }, async (t) => {
  t.diagnostic(`screenshots: ${shots}`);
  let targetId = 0;
  let lunUrl = '';
  const step = stepper(t);

  await step('first-run setup in the browser, then the default iSCSI port on the settings page', async () => {
    await page.goto(`${url}/`);
    await page.getByRole('heading', { name: 'Welcome to openlun' }).waitFor();
    assert.match((await page.evaluate('document.documentElement.outerHTML')) as string, /<app-root/);
    // the CSP guard works: a probe the policy must block is reported (and then forgotten)
    await page.evaluate(`document.body.append(Object.assign(document.createElement('img'), { id: 'csp-probe', alt: '', src: 'http://192.0.2.1/csp-probe.png' }))`);
    const deadline = Date.now() + 5000;
    while (!problems.some((p) => p.startsWith('CSP violation') && p.includes('csp-probe')) && Date.now() < deadline) await page.waitForTimeout(50);
    assert.ok(problems.some((p) => p.startsWith('CSP violation') && p.includes('csp-probe')), `the CSP probe was not reported: ${JSON.stringify(problems)}`);
    problems.splice(0, problems.length, ...problems.filter((p) => !p.includes('csp-probe')));
    await page.evaluate(`document.getElementById('csp-probe').remove()`);
    await shot(page, 'flow-01-setup');
    await page.getByLabel('Admin password').fill(PASSWORD);
    await page.getByLabel('Repeat the password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByLabel('Base IQN').waitFor();
    await page.getByLabel('Hostname').fill('nas01');
    await page.getByLabel('Base IQN').fill(BASE_IQN);
    await shot(page, 'flow-02-setup-identity');
    await page.getByRole('button', { name: 'Save and continue' }).click();
    await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
    // targets without portals of their own listen on this port on every address (a free one: tests run in parallel)
    await page.getByRole('link', { name: 'Administration' }).click();
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByLabel('Default iSCSI port').fill(String(iscsiPort));
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Settings saved').waitFor();
    const settings = await api<{ hostname: string; baseIqn: string; iscsiPort: number }>('GET', '/api/settings');
    assert.deepEqual(settings, { hostname: 'nas01', baseIqn: BASE_IQN, iscsiPort });
  });

  await step('the wizard: file-backed LUN with the ESXi preset, target, ACL for a libiscsi initiator, one-way CHAP; lands on Connect', async () => {
    await page.getByRole('link', { name: 'New LUN wizard' }).click();
    await page.getByRole('heading', { name: 'Step 1 of 5: LUN' }).waitFor();
    await page.getByRole('radio', { name: 'Linux' }).check();
    await page.getByRole('radio', { name: 'VMware ESXi' }).check();
    assert.equal(await page.getByRole('radio', { name: 'VMware ESXi' }).isChecked(), true);
    await page.getByLabel('LUN name').fill('vmfs01');
    await page.getByLabel('Size', { exact: true }).fill('64');
    await page.getByLabel('Unit').selectOption('MiB');
    await shot(page, 'flow-03-wizard-lun');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { name: 'Step 2 of 5: Target' }).waitFor();
    await page.getByLabel('Target name').fill('esxi-cluster');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { name: 'Step 3 of 5: Who may connect' }).waitFor();
    await page.getByLabel('Initiator IQNs').fill(INITIATOR);
    await shot(page, 'flow-04-wizard-access');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { name: 'Step 4 of 5: Authentication' }).waitFor();
    await page.getByLabel('One-way').check();
    await page.getByLabel('Initiator user').fill(CHAP_USER);
    await page.getByLabel('Initiator secret').fill(CHAP_SECRET);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { name: 'Step 5 of 5: Summary' }).waitFor();
    await shot(page, 'flow-05-wizard-summary');
    await page.getByRole('button', { name: 'Create everything' }).click();
    await page.waitForURL(/#\/targets\/\d+\/connect$/);
    targetId = Number(/#\/targets\/(\d+)\/connect$/.exec(page.url())![1]);
    const luns = await api<Array<{ name: string; backing: string; sizeBytes: number; blockSize: number; writeCache: string }>>('GET', '/api/luns');
    assert.deepEqual(luns.map((l) => [l.name, l.backing, l.sizeBytes, l.blockSize, l.writeCache]), [['vmfs01', 'file', 64 * MiB, 512, 'write-back']]);
    const chap = await api<Array<{ targetId: number; username: string }>>('GET', '/api/chap');
    assert.deepEqual(chap.map((c) => [c.targetId, c.username]), [[targetId, CHAP_USER]]);
  });

  await step('Connect: the libiscsi tab\'s own commands, secret filled in, log in with iscsi-ls and iscsi-inq', async () => {
    await page.getByRole('tab', { name: 'Linux (libiscsi / QEMU)' }).click();
    const pre = page.locator('connect-panel [role="tabpanel"][data-os="libiscsi"] pre');
    await pre.waitFor();
    const text = (await pre.textContent()) ?? '';
    assert.ok(!text.includes(CHAP_SECRET), 'the page never shows the secret');
    await shot(page, 'flow-06-connect-libiscsi');

    const [ls] = await commandsFromPage(page, 'iscsi-ls', false);
    assert.deepEqual(ls, ['iscsi-ls', '-i', INITIATOR, `iscsi://127.0.0.1:${iscsiPort}`]);
    const listed = await run(ls!, { timeoutMs: 20_000 });
    assert.equal(listed.code, 0, `iscsi-ls: ${listed.stderr}`);
    assert.match(listed.stdout, new RegExp(`Target:${TARGET_IQN.replaceAll('.', '\\.')} Portal:`), listed.stdout);

    const inqs = await commandsFromPage(page, 'iscsi-inq');
    assert.equal(inqs.length, 1, 'one portal: one path');
    lunUrl = inqs[0]!.at(-1)!;
    assert.equal(lunUrl, `iscsi://${CHAP_USER}%${CHAP_SECRET}@127.0.0.1:${iscsiPort}/${TARGET_IQN}/0`);
    const inq = await run(inqs[0]!, { timeoutMs: 20_000 });
    assert.equal(inq.code, 0, `iscsi-inq: ${inq.stderr}`);
    assert.match(inq.stdout, /Peripheral Device Type/i);
    assert.match(inq.stdout, /OPENLUN/i);
    // and the same URL with a wrong secret is refused: the login above really used CHAP
    const wrong = await run([...inqs[0]!.slice(0, -1), lunUrl.replace(CHAP_SECRET, 'Not-The-Secret1')], { timeoutMs: 20_000 });
    assert.notEqual(wrong.code, 0, 'a wrong CHAP secret must not log in');
  });

  await step('under load from the same initiator: the Sessions page lists it, the dashboard\'s IOPS figure and chart move', async () => {
    startPerf(lunUrl);
    await page.getByRole('link', { name: 'Sessions', exact: true }).click();
    const row = page.locator(`tr[data-session="${INITIATOR}"]`);
    await row.waitFor();
    const rowText = (await row.textContent()) ?? '';
    assert.ok(rowText.includes(TARGET_IQN) && rowText.includes('127.0.0.1'), rowText);
    await shot(page, 'flow-07-sessions');

    await page.getByRole('link', { name: 'Dashboard', exact: true }).click();
    await page.locator('#session-count', { hasText: '1' }).waitFor();
    const iops = async () => Number(((await page.locator('#iops-read').textContent()) ?? '').replace(/[^\d.]/g, '')) || 0;
    const seen = await waitForNumber(iops, (n) => n > 0, 15_000);
    assert.ok(seen > 0, `read IOPS shown: ${await page.locator('#iops-read').textContent()}`);
    const chart = page.locator('live-chart[kind="iops"]');
    const points = await waitForNumber(async () => Number(await chart.getAttribute('data-points')), (n) => n >= 2, 15_000);
    assert.ok(points >= 2, 'the IOPS chart has drawn at least two samples');
    t.diagnostic(`dashboard read IOPS under iscsi-perf: ${seen}`);
    await shot(page, 'flow-08-dashboard-load');
    await page.setViewportSize({ width: 1920, height: 1080 });
    await page.waitForTimeout(300);
    await shot(page, 'flow-08b-dashboard-1920-light');
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForTimeout(300);
    await shot(page, 'flow-08c-dashboard-1920-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  await step('extend on the Storage page: the logged-in initiator (libiscsi, then QEMU) sees the new size', async () => {
    await page.getByRole('link', { name: 'Storage', exact: true }).click();
    await page.getByRole('button', { name: 'Manage LUN vmfs01' }).click();
    const panel = page.locator('lun-manage-panel');
    await panel.getByRole('heading', { name: 'Snapshots of vmfs01' }).waitFor();
    await panel.getByLabel('New size').fill('96');
    await panel.getByLabel('Unit').selectOption('MiB');
    await panel.getByRole('button', { name: 'Extend', exact: true }).click();
    await page.locator('tr[data-lun="vmfs01"]', { hasText: '96 MiB' }).waitFor();
    // the page's READ CAPACITY(16) command (SBC-4 §5.20): last LBA + 1 times the block length
    await page.goto(`${url}/#/targets/${targetId}/connect`);
    await page.getByRole('tab', { name: 'Linux (libiscsi / QEMU)' }).click();
    const [cap] = await commandsFromPage(page, 'iscsi-readcapacity16');
    const r = await run(cap!, { timeoutMs: 20_000 });
    assert.equal(r.code, 0, `iscsi-readcapacity16: ${r.stderr}`);
    assert.equal(Number(r.stdout.trim()), 96 * MiB, r.stdout);
    // QEMU's form: the page's qemu-img line reads the secret from chap.secret (the page's own line writes it with
    // shell built-ins; here the test writes the same file, 0600), so the secret is never in qemu-img's argv
    const [qemu] = await commandsFromPage(page, 'qemu-img', false);
    assert.ok(!qemu!.some((a) => a.includes(CHAP_SECRET)));
    const secretDir = mkdtempSync(join(appliance!.work, 'qemu-'));
    writeFileSync(join(secretDir, 'chap.secret'), CHAP_SECRET, { mode: 0o600 });
    const info = await run([...qemu!.slice(0, 2), '--output=json', ...qemu!.slice(2)], { timeoutMs: 30_000, cwd: secretDir });
    assert.equal(info.code, 0, `qemu-img info: ${info.stderr}`);
    assert.equal((JSON.parse(info.stdout) as { 'virtual-size': number })['virtual-size'], 96 * MiB);
    assert.equal(initiators[0]!.exitCode, null, 'iscsi-perf kept running through the resize');
  });

  await step('take a snapshot', async () => {
    await page.getByRole('link', { name: 'Storage', exact: true }).click();
    await page.getByRole('button', { name: 'Manage LUN vmfs01' }).click();
    const panel = page.locator('lun-manage-panel');
    await panel.getByLabel('Snapshot name').fill('before-upgrade');
    await panel.getByRole('button', { name: 'Take snapshot' }).click();
    await panel.locator('tr[data-snapshot="before-upgrade"]').waitFor();
    const lun = (await api<Array<{ id: number; name: string }>>('GET', '/api/luns')).find((l) => l.name === 'vmfs01')!;
    assert.deepEqual((await api<Array<{ name: string }>>('GET', `/api/luns/${lun.id}/snapshots`)).map((s) => s.name), ['before-upgrade']);
    await shot(page, 'flow-09-storage-manage');
  });

  await step('a LUN made with the CLI appears in the open Storage page without a reload; deleted there with confirmation', async () => {
    const token = await api<{ secret: string }>('POST', '/api/tokens', { name: 'flow-cli' });
    // a marker that a reload would wipe
    await page.evaluate('window.__flowNoReload = 42');
    const started = Date.now();
    const cli = await run([process.execPath, '--import', 'tsx', join(repoRoot, 'cli/openlun.ts'), 'lun', 'create', 'cli01', '--size', '32M'], {
      timeoutMs: 30_000,
      env: { ...process.env, OPENLUN_URL: url, OPENLUN_TOKEN: token.secret, XDG_CONFIG_HOME: join(appliance!.work, 'cli-config') },
    });
    assert.equal(cli.code, 0, `openlun lun create: ${cli.stderr}`);
    assert.match(cli.stdout, /created LUN cli01/);
    const row = page.locator('tr[data-lun="cli01"]');
    await row.waitFor({ timeout: 8000 });
    t.diagnostic(`the CLI's LUN was on the page ${Date.now() - started} ms after the CLI started`);
    assert.equal(await page.evaluate('window.__flowNoReload'), 42, 'the page was not reloaded');

    await page.getByRole('button', { name: 'Delete LUN cli01' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    assert.match((await dialog.textContent()) ?? '', /everything stored on it/);
    const confirm = dialog.getByRole('button', { name: 'Delete LUN' });
    assert.equal(await confirm.isDisabled(), true, 'needs the typed name');
    await shot(page, 'flow-10-delete-confirm');
    await dialog.getByLabel(/Type cli01 to confirm/).fill('cli01');
    await confirm.click();
    await row.waitFor({ state: 'detached' });
    assert.deepEqual((await api<Array<{ name: string }>>('GET', '/api/luns')).map((l) => l.name), ['vmfs01']);
  });

  await step('the shell opens and runs a command', async () => {
    await page.getByRole('link', { name: 'Shell', exact: true }).click();
    await page.getByText('Connected', { exact: true }).waitFor({ timeout: 20_000 });
    await page.keyboard.type('echo "answer=$((6 * 7))"');
    await page.keyboard.press('Enter');
    await page.locator('shell-page .xterm-rows').filter({ hasText: 'answer=42' }).waitFor();
    await shot(page, 'flow-11-shell');
    await page.keyboard.type('exit');
    await page.keyboard.press('Enter');
    await page.getByText('Disconnected').waitFor();
  });

  await step('screenshots of every page, light and dark, at 1280 px', async () => {
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const p of pages(targetId)) {
        await page.goto(`${url}/${p.hash}`);
        await p.ready(page);
        if (p.name === 'shell') await page.locator('shell-page .xterm-rows').filter({ hasText: /[#$]/ }).waitFor();
        await page.waitForTimeout(150);
        await shot(page, `flow-page-${p.name}-${scheme}`);
      }
    }
    await page.emulateMedia({ colorScheme: 'light' });
  });

  await step('a read-only user: no change control on any page, and the API refuses a change', async () => {
    for (const c of initiators) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await api('POST', '/api/users', { username: 'viewer', password: VIEWER_PASSWORD, role: 'read-only' });
    const ro = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
    try {
      await guardContext(ro, problems, ALLOWED_CONSOLE);
      const p = await ro.newPage();
      p.setDefaultTimeout(15_000);
      await p.goto(`${url}/`);
      await p.getByRole('heading', { name: 'Sign in to openlun' }).waitFor();
      await p.getByLabel('Username').fill('viewer');
      await p.getByLabel('Password').fill(VIEWER_PASSWORD);
      await shot(p, 'flow-12-login');
      await p.getByRole('button', { name: 'Sign in' }).click();
      await p.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
      assert.equal(await p.getByRole('link', { name: 'Shell', exact: true }).count(), 0, 'no Shell link');

      // a button whose name says it changes something; what is left (theme, sign out, copy, filters, tabs) only reads
      const CHANGES = /\b(create|delete|remove|extend|add|save|new|end|run|initiali[sz]e|take|roll|clone|next|back|set|store|edit|map|unmap|allow|deny|generate|import|apply|upload|change|rename|revoke|enable|disable|reconnect|start|stop|continue|fix)\b/i;
      const seen: Record<string, string[]> = {};
      for (const pg of pages(targetId)) {
        await p.goto(`${url}/${pg.hash}`);
        if (pg.name === 'shell') await p.getByText('Only administrators can open a shell').waitFor();
        else if (pg.name === 'wizard') await p.getByText(/read-only access: the wizard/).waitFor();
        else await pg.ready(p);
        await p.waitForTimeout(300);
        const names: string[] = [];
        for (const b of await p.getByRole('button').all()) {
          if (!(await b.isVisible()) || (await b.isDisabled())) continue;
          names.push(((await b.getAttribute('aria-label')) ?? (await b.textContent()) ?? '').trim().replace(/\s+/g, ' '));
        }
        seen[pg.name] = names;
        // their own API tokens are theirs to make (they act with the read-only role; the API allows it: access 'read')
        const changing = names.filter((n) => CHANGES.test(n) && !(pg.name === 'admin-tokens' && n === 'Create token'));
        assert.deepEqual(changing, [], `read-only ${pg.name} page offers ${JSON.stringify(changing)}`);
        await shot(p, `flow-ro-${pg.name}`);
      }
      t.diagnostic(`enabled buttons a read-only user sees: ${JSON.stringify(seen)}`);
      // the walk looked at real pages: the theme toggle and sign-out are on every one
      assert.ok(Object.values(seen).every((names) => names.length >= 1), JSON.stringify(seen));

      const before = await api<unknown[]>('GET', '/api/luns');
      const lunId = (before as Array<{ id: number }>)[0]!.id;
      const headers = { 'x-csrf-token': await csrfOf(ro) };
      const create = await ro.request.post(`${url}/api/luns`, { data: { name: 'ro-lun', backing: 'file', sizeBytes: 8 * MiB }, headers });
      assert.equal(create.status(), 403, await create.text());
      const del = await ro.request.delete(`${url}/api/luns/${lunId}`, { headers });
      assert.equal(del.status(), 403, await del.text());
      assert.deepEqual(await api<unknown[]>('GET', '/api/luns'), before, 'nothing changed');
    } finally {
      await ro.close();
    }
  });

  assert.deepEqual(problems, [], 'no script error, unexpected console error or CSP violation');
});
