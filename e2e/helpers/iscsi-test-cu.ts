// Runs libiscsi's conformance suite (iscsi-test-cu, Debian's libiscsi-bin) and reads its results.
//
// How iscsi-test-cu reports (libiscsi 1.19, test-tool/): it is a CUnit program. Each test prints
// "  Test: <name> ..." and ends with "passed" or "FAILED" followed by numbered failed assertions.
// A test that cannot run passes an assertion and logs "[SKIPPED] <why>" instead; CUnit still counts it
// as passed, so the summary table hides skips — they are only visible in this text. When the target
// answers a command with ILLEGAL REQUEST / INVALID COMMAND OPERATION CODE (SPC-4 §4.5.6, ASC/ASCQ
// 20h/00h), the suite logs "[SKIPPED] <OPCODE> is not implemented." and carries on: that is what a
// target that lacks a command looks like. Some skips are silent (CU_PASS with no log line) and
// cannot be seen from outside. The XML mode (-x) records no skips at all, so the text is parsed.

import { freePort } from './ports.ts';
import { run, type RunResult } from './run.ts';
import { startTargetProcess } from './target-process.ts';
import { OPENLUN_BIN, REPO_ROOT } from './targets.ts';
import { isNotApplicableSkip, parseIscsiTestCu, type CaseResult, type Counts } from '../../api/src/selftest/iscsi-test-cu-report.ts';

export * from '../../api/src/selftest/iscsi-test-cu-report.ts';
export interface FamilyRun {
  readonly family: string;
  readonly cases: readonly CaseResult[];
  readonly counts: Counts;
  readonly complete: boolean;
  readonly result: RunResult;
}

/** Why a family run does not count as a pass; empty when it does. */
export function familyProblems(f: FamilyRun): string[] {
  const problems: string[] = [];
  if (f.result.timedOut) problems.push(`timed out after ${Math.round(f.result.durationMs)} ms`);
  if (!f.complete) problems.push(`no run summary (exit code ${f.result.code}, signal ${f.result.signal})`);
  if (f.cases.length === 0) problems.push('no test ran: is the family name right?');
  for (const c of f.cases) {
    if (c.status === 'failed') {
      const tail = c.log.split('\n').filter((l) => l.trim() !== '').slice(-8).join('\n      ');
      problems.push(`${c.suite}.${c.name} FAILED: ${c.failures.join('; ')}\n      ${tail}`);
    } else if (c.status === 'skipped-unsupported') {
      problems.push(`${c.suite}.${c.name} skipped: ${c.skipReasons.filter((r) => !isNotApplicableSkip(r)).join('; ')}`);
    }
  }
  return problems;
}

// ---- the whole suite in one process (e2e/conformance.test.ts) ----

export interface SuiteRun {
  readonly cases: readonly CaseResult[];
  readonly complete: boolean;
  readonly result: RunResult;
}

export interface SuiteOptions {
  /** FAMILY[.SUITE[.TEST]] as -t takes it, e.g. "ALL". */
  readonly tests: string;
  /** One URL per path; the MultipathIO family uses the second (libiscsi: `iscsi-test-cu ... URL1 URL2`). */
  readonly urls: readonly string[];
  readonly initiator: string;
  readonly initiator2: string;
  readonly cwd: string;
  /** --allow-sanitize: let the Sanitize family send SANITIZE (openlun refuses it; without the flag it is not sent). */
  readonly allowSanitize?: boolean;
  readonly timeoutMs?: number;
}

/** `iscsi-test-cu --list` (names only), or a destructive (-d) verbose (-V) run of the tests named. */
export async function runIscsiTestCu(o: { list: true }): Promise<string[]>;
export async function runIscsiTestCu(o: SuiteOptions): Promise<SuiteRun>;
export async function runIscsiTestCu(o: SuiteOptions | { list: true }): Promise<SuiteRun | string[]> {
  if ('list' in o) {
    const r = await run(['iscsi-test-cu', '--list'], { timeoutMs: 15_000 });
    return r.stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('ALL.'));
  }
  const argv = ['iscsi-test-cu', '-d', '-V', ...(o.allowSanitize ? ['-S'] : []), '-i', o.initiator, '-I', o.initiator2, '-t', o.tests, ...o.urls];
  const result = await run(argv, { cwd: o.cwd, timeoutMs: o.timeoutMs ?? 600_000 });
  const { cases, complete } = parseIscsiTestCu(result.stdout + (result.stderr ? `\n${result.stderr}` : ''));
  return { cases, complete: complete && !result.timedOut, result };
}

/**
 * SANITIZE is left out on purpose (opcodes.ts): iscsi-test-cu then logs that it "is not implemented" (INVALID COMMAND
 * OPERATION CODE, or absent from REPORT SUPPORTED OPERATION CODES). That answer is the one wanted — only there.
 */
const SANITIZE_REFUSED = /^SANITIZE\b.* is not implemented\b/;

export type Verdict =
  | { kind: 'passed'; why: string }
  | { kind: 'not-applicable'; why: string }
  | { kind: 'unsupported-by-design'; why: string }
  | { kind: 'problem'; why: string };

/** What one test's outcome means for openlun; `extraNotApplicable` adds skips the caller covers another way. */
export function caseVerdict(c: CaseResult, extraNotApplicable?: RegExp): Verdict {
  if (c.status === 'failed') return { kind: 'problem', why: `FAILED: ${c.failures.join('; ') || 'no assertion listed'}` };
  if (c.skipReasons.length === 0) return { kind: 'passed', why: 'passed' };
  const notApplicable = (r: string) => isNotApplicableSkip(r) || (extraNotApplicable?.test(r) ?? false);
  if (c.suite === 'Sanitize' && c.skipReasons.every((r) => SANITIZE_REFUSED.test(r))) {
    return { kind: 'unsupported-by-design', why: `SANITIZE refused as not supported: ${c.skipReasons.join('; ')}` };
  }
  const real = c.skipReasons.filter((r) => !notApplicable(r));
  if (real.length > 0) return { kind: 'problem', why: `skipped: ${real.join('; ')}` };
  return { kind: 'not-applicable', why: `does not apply: ${c.skipReasons.join('; ')}` };
}

export interface VerdictCounts {
  passed: number;
  failed: number;
  notApplicable: number;
  sanitizeRefused: number;
}

export function verdictCounts(cases: readonly CaseResult[], extraNotApplicable?: RegExp): VerdictCounts {
  const n: VerdictCounts = { passed: 0, failed: 0, notApplicable: 0, sanitizeRefused: 0 };
  for (const c of cases) {
    const v = caseVerdict(c, extraNotApplicable);
    if (v.kind === 'passed') n.passed++;
    else if (v.kind === 'not-applicable') n.notApplicable++;
    else if (v.kind === 'unsupported-by-design') n.sanitizeRefused++;
    else n.failed++;
  }
  return n;
}

export function formatVerdictCounts(c: VerdictCounts): string {
  return `passed ${c.passed}, failed ${c.failed}, skipped (n/a to this LUN) ${c.notApplicable}, ` +
    `skipped (SANITIZE, refused by design) ${c.sanitizeRefused}`;
}

/**
 * bin/openlun target serving one LUN through one portal per portal group (TPGT), on free 127.0.0.1 ports; resolves
 * once every portal listens.
 */
export async function startMultiPortalOpenlun(o: { iqn: string; lun: string; portalGroups: readonly number[]; extraArgs?: readonly string[] }): Promise<{
  urls: string[];
  output(): string;
  stop(): Promise<void>;
}> {
  const ports: number[] = [];
  for (const _ of o.portalGroups) ports.push(await freePort());
  const portals = o.portalGroups.flatMap((tpgt, i) => ['--portal', `127.0.0.1:${ports[i]},${tpgt}`]);
  const target = await startTargetProcess([OPENLUN_BIN, 'target', ...portals, '--iqn', o.iqn, '--lun', o.lun, '--log-level', 'warn', ...(o.extraArgs ?? [])], {
    listeners: ports.length,
    cwd: REPO_ROOT,
  });
  return { urls: ports.map((p) => `iscsi://127.0.0.1:${p}/${o.iqn}/0`), output: target.output, stop: target.stop };
}
