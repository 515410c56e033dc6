/**
 * The appliance as `openlun serve` runs it, for browser tests: the UI bundle built into a temp dir, the API + UI
 * (startServe, plain HTTP on 127.0.0.1) spawning a real targetd from the sources, and Debian's chromium driven by
 * playwright-core. Shared by the dashboard test and the issue-6 end-to-end flow. The lighter harness (the API + UI
 * without a target daemon), the page guard and the setup over the API serve the page tests (ui-browser, ui-storage,
 * ui-targets, ui-admin).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startServe, type ServeHandle } from '../../api/src/serve.ts';
import { TargetClient } from '../../api/src/target-client.ts';
import { buildUi, repoRoot, startUiServer, type UiServer } from '../../ui/test/ui-server.ts';

export const CHROMIUM = '/usr/bin/chromium';

export interface Appliance {
  /** the temp dir holding the bundle, the data dir and (without $OPENLUN_UI_SHOTS) the screenshots */
  work: string;
  shots: string;
  dataDir: string;
  serve: ServeHandle;
}

export interface UiWorkDir {
  work: string;
  /** $OPENLUN_UI_SHOTS, or a screenshots folder in the work dir */
  shots: string;
  /** the UI bundle, built from the current sources */
  dist: string;
}

/** A fresh temp dir with the UI bundle built into dist/ and a screenshot folder. */
export function prepareUiWorkDir(prefix: string): UiWorkDir {
  const work = mkdtempSync(join(tmpdir(), prefix));
  const shots = process.env['OPENLUN_UI_SHOTS'] ?? join(work, 'screenshots');
  mkdirSync(shots, { recursive: true });
  const dist = join(work, 'dist');
  buildUi(dist);
  return { work, shots, dist };
}

/** Removes the work dir unless the screenshots are wanted ($OPENLUN_UI_SHOTS) or it is to be kept ($OPENLUN_UI_KEEP). */
export function removeUiWorkDir(work: string | undefined): void {
  if (work && !process.env['OPENLUN_UI_SHOTS'] && !process.env['OPENLUN_UI_KEEP']) rmSync(work, { recursive: true, force: true });
}

export interface UiApp extends UiWorkDir {
  server: UiServer;
}

/**
 * The API + UI without a target daemon (ui/test/ui-server.ts: live-state routes answer 404/503 and pages fall back
 * to polling) on a free 127.0.0.1 port, in a fresh work dir.
 */
export async function startUiApp(prefix: string): Promise<UiApp> {
  const dir = prepareUiWorkDir(prefix);
  const server = await startUiServer({ distDir: dir.dist, dataDir: join(dir.work, 'data') });
  return { ...dir, server };
}

/** Closes the browser and the server a startUiApp test opened, then removes its work dir (see removeUiWorkDir). */
export async function stopUiApp(browser: Browser | undefined, server: UiServer | undefined, work: string | undefined): Promise<void> {
  await browser?.close();
  await server?.close();
  removeUiWorkDir(work);
}

export async function startAppliance(prefix: string, logLevel: 'debug' | 'info' | 'warn' | 'error' = 'warn'): Promise<Appliance> {
  const { work, shots, dist } = prepareUiWorkDir(prefix);
  process.env['OPENLUN_UI_DIR'] = dist;
  const dataDir = join(work, 'data');
  const serve = await startServe({
    dataDir,
    host: '127.0.0.1',
    port: 0,
    spawnTarget: true,
    controlPath: join(dataDir, 'target.sock'),
    stateFile: join(dataDir, 'target-state.json'),
    tls: false,
    logLevel,
    // targetd from the sources, as `openlun targetd` (the bundle in dist/ may be older than them)
    selfArgv: [process.execPath, '--import', 'tsx', join(repoRoot, 'cli/openlun.ts')],
  });
  return { work, shots, dataDir, serve };
}

export async function stopAppliance(a: Appliance | undefined): Promise<void> {
  if (!a) return;
  const pid = (await new TargetClient(a.serve.target.path, 2000).ping().catch(() => undefined))?.pid;
  await a.serve.close();
  // targetd is detached (it outlives serve by design): end the one this test started
  if (pid) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  delete process.env['OPENLUN_UI_DIR'];
  removeUiWorkDir(a.work);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
}

/** A desktop-sized light-theme context and its first page, with the default wait the page tests use. */
export async function openDesktopPage(browser: Browser, timeoutMs = 10_000): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  const page = await context.newPage();
  page.setDefaultTimeout(timeoutMs);
  return { context, page };
}

/**
 * Fails the run at once on a script error or on a console error not matched by `allow` (a CSP violation is a console
 * error, so the page must work under its own strict policy); console messages from a URL matching `ignoreFrom` are
 * passed over (e.g. the live routes a server without a target daemon does not have).
 */
export function failOnPageErrors(p: Page, allow: RegExp, ignoreFrom?: RegExp): void {
  p.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
  p.on('console', (m) => {
    if (ignoreFrom?.test(m.location().url)) return;
    if (m.type() === 'error' && !allow.test(m.text())) assert.fail(`console error: ${m.text()} (${m.location().url})`);
  });
}

/** First-run setup and (when given) the base IQN over the API with the browser context's own cookie jar. */
export async function setUpOverApi(ctx: BrowserContext, url: string, password: string, baseIqn?: string): Promise<void> {
  assert.equal((await ctx.request.post(`${url}/api/setup`, { data: { password } })).status(), 201);
  if (baseIqn === undefined) return;
  const headers = { 'x-csrf-token': await csrfOf(ctx) };
  assert.equal((await ctx.request.patch(`${url}/api/settings`, { data: { baseIqn }, headers })).status(), 200);
}

/**
 * Collects what must fail the run: script errors, console errors not matched by `allow`, and every Content Security
 * Policy violation (reported by the page's own securitypolicyviolation event, whatever the console says).
 */
export async function guardContext(ctx: BrowserContext, problems: string[], allow: RegExp): Promise<void> {
  await ctx.exposeBinding('__openlunCspViolation', (_source, text: string) => problems.push(`CSP violation: ${text}`));
  // runs in the page before its own scripts (a string: this file is compiled without the DOM library)
  await ctx.addInitScript(`document.addEventListener('securitypolicyviolation', (e) =>
    window.__openlunCspViolation(e.violatedDirective + ' blocked ' + e.blockedURI + ' in ' + e.sourceFile + ':' + e.lineNumber));`);
  const watch = (p: Page) => {
    p.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    p.on('console', (m) => {
      if (m.type() !== 'error') return;
      if (/Content Security Policy/i.test(m.text())) problems.push(`CSP (console): ${m.text()}`);
      else if (!allow.test(m.text())) problems.push(`console error: ${m.text()} at ${m.location().url}:${m.location().lineNumber}`);
    });
  };
  ctx.pages().forEach(watch);
  ctx.on('page', watch);
}

/** A full-page screenshot from the top (a full-page capture of a scrolled page draws the sticky header mid-page). */
export async function screenshot(p: Page, dir: string, name: string): Promise<void> {
  await p.evaluate('window.scrollTo(0, 0)');
  await p.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

/** The CSRF token of a browser context's session (double-submit cookie). */
export async function csrfOf(ctx: BrowserContext): Promise<string> {
  return (await ctx.cookies()).find((c) => c.name === 'openlun_csrf')?.value ?? '';
}
