/**
 * The appliance as `openlun serve` runs it, for browser tests: the UI bundle built into a temp dir, the API + UI
 * (startServe, plain HTTP on 127.0.0.1) spawning a real targetd from the sources, and Debian's chromium driven by
 * playwright-core. Shared by the dashboard test and the issue-6 end-to-end flow.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startServe, type ServeHandle } from '../../api/src/serve.ts';
import { TargetClient } from '../../api/src/target-client.ts';
import { buildUi, repoRoot } from '../../ui/test/ui-server.ts';

export const CHROMIUM = '/usr/bin/chromium';

export interface Appliance {
  /** the temp dir holding the bundle, the data dir and (without $OPENLUN_UI_SHOTS) the screenshots */
  work: string;
  shots: string;
  dataDir: string;
  serve: ServeHandle;
}

export async function startAppliance(prefix: string, logLevel: 'debug' | 'info' | 'warn' | 'error' = 'warn'): Promise<Appliance> {
  const work = mkdtempSync(join(tmpdir(), prefix));
  const shots = process.env['OPENLUN_UI_SHOTS'] ?? join(work, 'screenshots');
  mkdirSync(shots, { recursive: true });
  buildUi(join(work, 'dist'));
  process.env['OPENLUN_UI_DIR'] = join(work, 'dist');
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
  if (!process.env['OPENLUN_UI_SHOTS'] && !process.env['OPENLUN_UI_KEEP']) rmSync(a.work, { recursive: true, force: true });
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
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
