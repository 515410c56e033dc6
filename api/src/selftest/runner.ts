/**
 * The self-test: libiscsi's conformance suite (iscsi-test-cu, the one LIO, tgt and SCST are held to) run against a
 * scratch LUN served by this appliance's own target daemon, through the same store → reconcile path real LUNs take.
 * One run at a time; progress is read from the suite's output as it arrives; the scratch objects are removed when
 * the run ends, whatever the outcome (and before the next run, should this process have died mid-run).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { countCases, parseIscsiTestCu, type CaseResult, type Counts } from './iscsi-test-cu-report.ts';
import type { Store } from '../store/store.ts';
import type { ChangeContext } from '../store/types.ts';
import { SELFTEST_INITIATORS, createScratch, freeLoopbackPort, removeScratch } from './scratch.ts';

/**
 * Families a run may include, as `iscsi-test-cu --list` names them (ALL.<family>). QUICK_FAMILIES is the default:
 * every one finished in under a second here (2 cores, loopback); together ~4 s. Reserve6 (~12 s: it waits out
 * reservation timeouts) and iSCSIcmdsn (~5 s) are slower and opt-in.
 */
export const QUICK_FAMILIES = [
  'Inquiry', 'Mandatory', 'TestUnitReady', 'ReadCapacity10', 'ReadCapacity16', 'ModeSense6', 'ReportSupportedOpcodes',
  'Read10', 'Read16', 'Write10', 'Write16', 'Verify10', 'CompareAndWrite', 'WriteSame16', 'Unmap', 'GetLBAStatus',
  'PrinReadKeys', 'ProutRegister', 'ProutReserve', 'ExtendedCopy', 'iSCSITMF',
] as const;
export const SLOW_FAMILIES = ['Reserve6', 'iSCSIcmdsn'] as const;
export const SELFTEST_FAMILIES: readonly string[] = [...QUICK_FAMILIES, ...SLOW_FAMILIES];

export type RunState = 'preparing' | 'running' | 'cleaning' | 'done' | 'error';

export interface SelfTestCase {
  suite: string;
  name: string;
  status: CaseResult['status'];
  failures: string[];
  skipReasons: string[];
}

export interface SelfTestRun {
  id: number;
  state: RunState;
  /** passed: no failure and no skip for a missing feature; failed otherwise; undefined until done */
  verdict?: 'passed' | 'failed';
  families: string[];
  startedAt: number;
  finishedAt?: number;
  startedBy: string;
  target?: string;
  progress: { done: number; total: number; current?: string };
  counts?: Counts;
  cases: SelfTestCase[];
  /** why the run could not complete (setup, the suite crashed or timed out) */
  message?: string;
  /** the last lines the suite printed */
  logTail: string[];
  /** what cleanup removed */
  cleanup: string[];
}

export interface RunnerOptions {
  store: Store;
  /** pushes the store's desired state to the target daemon and waits for it to apply */
  sync: () => Promise<unknown>;
  /** the suite's executable; default found on PATH; false: behave as if it were not installed */
  executable?: string | false;
  timeoutMs?: number;
}

const MAX_LOG = 2 * 1024 * 1024;
const TAIL_LINES = 40;
const KEEP_RUNS = 10;
const DEFAULT_TIMEOUT_MS = 120_000;
const TEST_LINE = /^\s*Test: (\S+) \.\.\./;

/** The absolute path of an executable on PATH (plus the sbin directories a service's PATH may lack), or undefined. */
export function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/local/bin', '/usr/bin', '/usr/sbin', '/bin'];
  for (const d of dirs) {
    if (!d.startsWith('/')) continue;
    try {
      accessSync(join(d, name), constants.X_OK);
      return join(d, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

export const NOT_INSTALLED = 'iscsi-test-cu is not installed: it comes with Debian\'s libiscsi-bin package (apt-get install libiscsi-bin)';

export class SelfTestRunner {
  readonly #o: RunnerOptions;
  readonly #runs: SelfTestRun[] = [];
  #nextId = 1;
  #active: Promise<void> | undefined;
  #child: ChildProcess | undefined;

  constructor(o: RunnerOptions) {
    this.#o = o;
  }

  executable(): string | undefined {
    if (this.#o.executable === false) return undefined;
    return this.#o.executable ?? findExecutable('iscsi-test-cu');
  }

  get(id: number): SelfTestRun | undefined {
    return this.#runs.find((r) => r.id === id);
  }

  list(): SelfTestRun[] {
    return [...this.#runs].reverse();
  }

  running(): SelfTestRun | undefined {
    return this.#runs.find((r) => r.state !== 'done' && r.state !== 'error');
  }

  /** Stops the suite if it runs (the API is shutting down); the run still cleans up after itself. */
  abort(): void {
    this.#child?.kill('SIGKILL');
  }

  /** Resolves when the current run (if any) has finished and cleaned up. */
  async idle(): Promise<void> {
    await this.#active;
  }

  /** Starts a run; the caller checks executable() and running() first (the route turns those into 4xx answers). */
  start(ctx: ChangeContext, families: string[]): SelfTestRun {
    if (this.running()) throw new Error('a self-test is already running');
    const exe = this.executable();
    if (!exe) throw new Error(NOT_INSTALLED);
    const run: SelfTestRun = {
      id: this.#nextId++,
      state: 'preparing',
      families,
      startedAt: this.#o.store.now(),
      startedBy: ctx.actor,
      progress: { done: 0, total: 0 },
      cases: [],
      logTail: [],
      cleanup: [],
    };
    this.#runs.push(run);
    if (this.#runs.length > KEEP_RUNS) this.#runs.shift();
    this.#active = this.#execute(run, exe, { ...ctx, actor: `${ctx.actor} (self-test)` });
    return run;
  }

  async #execute(run: SelfTestRun, exe: string, ctx: ChangeContext): Promise<void> {
    const { store } = this.#o;
    store.audit(ctx, 'selftest.start', 'self-test', { id: run.id, families: run.families });
    try {
      run.progress.total = await this.#countTests(exe, run.families);
      removeScratch(store, ctx);
      const scratch = createScratch(store, ctx, await freeLoopbackPort());
      run.target = scratch.targetIqn;
      await this.#o.sync();
      run.state = 'running';
      const output = await this.#runSuite(run, exe, scratch.url);
      const { cases, complete } = parseIscsiTestCu(output.text);
      run.cases = cases.map((c) => ({ suite: c.suite, name: c.name, status: c.status, failures: [...c.failures].slice(0, 5), skipReasons: [...c.skipReasons] }));
      run.counts = countCases(cases);
      if (output.timedOut) run.message = `iscsi-test-cu did not finish within ${Math.round((this.#o.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000)} s and was stopped`;
      else if (!complete || cases.length === 0) run.message = `iscsi-test-cu ended without its run summary (exit code ${output.code}); see the log`;
      run.verdict = run.message === undefined && run.counts.failed === 0 && run.counts.skippedUnsupported === 0 ? 'passed' : 'failed';
      run.state = 'cleaning';
    } catch (e) {
      run.message = `self-test could not run: ${(e as Error).message}`;
      run.verdict = 'failed';
      run.state = 'cleaning';
    } finally {
      try {
        run.cleanup = removeScratch(store, ctx);
        await this.#o.sync();
      } catch (e) {
        run.message = `${run.message ? `${run.message}; ` : ''}cleanup failed: ${(e as Error).message}`;
      }
      run.finishedAt = store.now();
      run.state = run.counts ? 'done' : 'error';
      store.audit(ctx, 'selftest.finish', 'self-test', {
        id: run.id,
        verdict: run.verdict,
        ...(run.counts ? { counts: run.counts } : {}),
        ...(run.message ? { message: run.message } : {}),
        durationMs: run.finishedAt - run.startedAt,
      });
    }
  }

  /** How many tests the families hold (`--list` prints ALL.<family>.<test> per test). */
  async #countTests(exe: string, families: string[]): Promise<number> {
    const out = await this.#capture(exe, ['--list'], 15_000);
    const wanted = new Set(families);
    return out.text.split('\n').filter((l) => {
      const parts = l.trim().split('.');
      return parts.length === 3 && parts[0] === 'ALL' && wanted.has(parts[1]!);
    }).length;
  }

  #runSuite(run: SelfTestRun, exe: string, url: string): Promise<{ text: string; code: number | null; timedOut: boolean }> {
    const argv = ['-d', '-i', SELFTEST_INITIATORS[0], '-I', SELFTEST_INITIATORS[1], '-t', run.families.map((f) => `ALL.${f}`).join(','), url];
    return this.#capture(exe, argv, this.#o.timeoutMs ?? DEFAULT_TIMEOUT_MS, (line) => {
      run.logTail.push(line);
      if (run.logTail.length > TAIL_LINES) run.logTail.shift();
      const m = TEST_LINE.exec(line);
      // CUnit ends "  Test: <name> ...passed" (or FAILED) when the test has run: a whole line is a finished test
      if (m) {
        run.progress.done++;
        run.progress.current = m[1]!;
      }
    });
  }

  /** Runs exe with argv (never a shell), collects its output (bounded), kills it at the deadline. */
  #capture(exe: string, argv: string[], timeoutMs: number, onLine?: (line: string) => void): Promise<{ text: string; code: number | null; timedOut: boolean }> {
    return new Promise((resolve, reject) => {
      const child = spawn(exe, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LANG: 'C' } });
      this.#child = child;
      let text = '';
      let partial = '';
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      const take = (chunk: Buffer): void => {
        const s = chunk.toString('utf8');
        if (text.length < MAX_LOG) text += s;
        if (!onLine) return;
        partial += s;
        const lines = partial.split('\n');
        partial = lines.pop()!;
        for (const l of lines) onLine(l);
      };
      child.stdout.on('data', take);
      child.stderr.on('data', take);
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        this.#child = undefined;
        if (partial && onLine) onLine(partial);
        resolve({ text, code, timedOut });
      });
    });
  }
}
