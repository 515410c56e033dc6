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
//
// The parser lives with the product (the self-test page runs the suite too); e2e/helpers/iscsi-test-cu.ts runs it in tests.

export type TestStatus = 'passed' | 'failed' | 'skipped-not-applicable' | 'skipped-unsupported';

export interface CaseResult {
  readonly suite: string;
  readonly name: string;
  readonly status: TestStatus;
  readonly skipReasons: readonly string[];
  /** Failed assertions ("test_x.c:98  - CU_ASSERT…") and "[FAILED] …" log lines. */
  readonly failures: readonly string[];
  /** Everything the test printed, for diagnosis. */
  readonly log: string;
}

export interface Counts {
  passed: number;
  failed: number;
  skippedNotApplicable: number;
  skippedUnsupported: number;
}

export interface SkipRule {
  readonly pattern: RegExp;
  readonly why: string;
}

/**
 * Skips that say the test does not apply to this kind of LUN. Every other skip — a command "not
 * implemented", a feature the target "does not support", a missing --dataloss flag — means the
 * target (or the harness) fell short, and fails the family.
 */
export const NOT_APPLICABLE_SKIPS = [
  { pattern: /Logical unit is fully\s+provisioned/, why: 'thin-provisioning checks; the LUN is fully provisioned' },
  { pattern: /Logical unit does not\s+have LBP(U|WS|WS10)\b/, why: 'thin-provisioning checks; the LUN does not claim the bit' },
  { pattern: /Logical unit is not removable|LUN is not removable|Media is not removable/, why: 'removable-medium checks (SBC-4 §4.1); a disk LUN is not removable' },
  { pattern: /LUN is too big|LUN too small|device too small/, why: 'the LUN size is outside the range the check needs' },
  { pattern: /Multipath unavailable|Non-iSCSI multipath/, why: 'needs a second path URL' },
  { pattern: /No (alignment|granularity) restrictions on this LUN/, why: 'the LUN declares no restriction to test' },
  { pattern: /Target is SPC-4\+/, why: 'an SPC-3 bit obsolete in SPC-4' },
  { pattern: /LBPPB < 2/, why: 'needs several logical blocks per physical block' },
] as const satisfies readonly SkipRule[];

export function isNotApplicableSkip(reason: string): boolean {
  return NOT_APPLICABLE_SKIPS.some((r) => r.pattern.test(reason));
}

const TEST_HEADER = /^\s*Test: (\S+) \.\.\.(.*)$/;
const SUITE_HEADER = /^Suite: (\S+)/;
const SKIP = /\[SKIPPED\]\s*(.*?)\s*$/;
// With -V the last assertion line may run on into the next test's chatter after a wide gap.
const ASSERTION = /^\s+\d+\. (\S+:\d+\s+- .*?)(?:\s{3,}\S.*)?$/;
const LOGGED_FAILURE = /\[FAILED\]\s*(.*?)\s*$/;
const RUN_SUMMARY = /^Run Summary:/;

/** Parses iscsi-test-cu's text output (normal or -V verbose). */
export function parseIscsiTestCu(text: string): { cases: CaseResult[]; complete: boolean } {
  const cases: CaseResult[] = [];
  let suite = '';
  let current: { name: string; lines: string[]; end?: 'passed' | 'FAILED'; asserts: string[] } | undefined;
  let complete = false;

  const finish = () => {
    if (!current) return;
    const log = current.lines.join('\n');
    const skipReasons = [...new Set(current.lines.flatMap((l) => {
      const m = SKIP.exec(l);
      return m?.[1] ? [m[1]] : [];
    }))];
    const logged = current.lines.flatMap((l) => {
      const m = LOGGED_FAILURE.exec(l);
      return m?.[1] ? [m[1]] : [];
    });
    let status: TestStatus;
    if (current.end !== 'passed') status = 'failed';
    else if (skipReasons.some((r) => !isNotApplicableSkip(r))) status = 'skipped-unsupported';
    else if (skipReasons.length > 0) status = 'skipped-not-applicable';
    else status = 'passed';
    const failures = [...current.asserts, ...logged];
    if (status === 'failed' && current.end === undefined) failures.push('the test never finished (crash or timeout)');
    cases.push({ suite, name: current.name, status, skipReasons, failures, log });
    current = undefined;
  };

  for (const line of text.split(/\r?\n/)) {
    const suiteMatch = SUITE_HEADER.exec(line);
    if (suiteMatch?.[1]) {
      finish();
      suite = suiteMatch[1];
      continue;
    }
    const header = TEST_HEADER.exec(line);
    if (header?.[1]) {
      finish();
      current = { name: header[1], lines: [], asserts: [] };
      const rest = header[2] ?? '';
      if (/^\s*passed\b/.test(rest)) current.end = 'passed';
      else if (/^\s*FAILED\b/.test(rest)) current.end = 'FAILED';
      else if (rest.trim() !== '') current.lines.push(rest);
      continue;
    }
    if (RUN_SUMMARY.test(line)) {
      finish();
      complete = true;
      continue;
    }
    if (!current) continue;
    if (current.end === undefined && /^(passed|FAILED)\b/.test(line)) {
      current.end = line.startsWith('passed') ? 'passed' : 'FAILED';
      continue;
    }
    if (current.end === undefined) {
      current.lines.push(line);
      continue;
    }
    // After the verdict only the failed-assertion list belongs to this test; with -V the next
    // test's set-up chatter follows and must not be charged to it.
    const a = ASSERTION.exec(line);
    if (a?.[1] && current.end === 'FAILED') current.asserts.push(a[1]);
  }
  finish();
  return { cases, complete };
}

export function countCases(cases: readonly CaseResult[]): Counts {
  const c: Counts = { passed: 0, failed: 0, skippedNotApplicable: 0, skippedUnsupported: 0 };
  for (const t of cases) {
    if (t.status === 'passed') c.passed++;
    else if (t.status === 'failed') c.failed++;
    else if (t.status === 'skipped-not-applicable') c.skippedNotApplicable++;
    else c.skippedUnsupported++;
  }
  return c;
}

export function addCounts(a: Counts, b: Counts): Counts {
  return {
    passed: a.passed + b.passed,
    failed: a.failed + b.failed,
    skippedNotApplicable: a.skippedNotApplicable + b.skippedNotApplicable,
    skippedUnsupported: a.skippedUnsupported + b.skippedUnsupported,
  };
}

export function formatCounts(c: Counts): string {
  return `passed ${c.passed}, failed ${c.failed}, skipped (unsupported) ${c.skippedUnsupported}, ` +
    `skipped (n/a) ${c.skippedNotApplicable}`;
}
