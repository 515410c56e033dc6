// Conformance from outside: libiscsi's iscsi-test-cu (the suite LIO, tgt and SCST are tested with), the WHOLE suite
// (`-t ALL`: every SCSI and iSCSI family `iscsi-test-cu --list` shows) in one process against a 256 MiB sparse-file
// LUN served on two portals (TPGT 1 and 2) — the MultipathIO family takes the second URL — and the ReadOnly family
// against a --read-only LUN. One node:test subtest per iscsi-test-cu test, so a failure names its test.
//
// A test passes when iscsi-test-cu says "passed" and logs no skip, or a skip that only says the test does not apply
// to this kind of LUN (not removable, fully provisioned, ...: helpers/iscsi-test-cu.ts NOT_APPLICABLE_SKIPS).
// A skip because the target lacks a command fails it — except SANITIZE, which openlun refuses by design (opcodes.ts):
// the run passes --allow-sanitize so the Sanitize family really sends it, and those tests must see it refused.
//
// OPENLUN_TEST_TARGET=tgt runs the suite against Debian's tgt on one portal (to validate this harness; tgt 1.0.85
// lacks several commands, so many tests are expected to fail there).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createSparseFile, makeTempDir, MiB, type TempDir } from './helpers/files.ts';
import {
  caseVerdict,
  parseIscsiTestCu,
  formatVerdictCounts,
  runIscsiTestCu,
  startMultiPortalOpenlun,
  verdictCounts,
  type SuiteRun,
} from './helpers/iscsi-test-cu.ts';
import { describeRun } from './helpers/run.ts';
import { selectedTargetKind, startTarget, type RunningTarget } from './helpers/targets.ts';

const INITIATOR = 'iqn.2026-11.org.openlun:conformance-1';
const INITIATOR_2 = 'iqn.2026-11.org.openlun:conformance-2';
const IQN = 'iqn.2026-11.org.openlun:conformance';
const LUN_BYTES = 256 * MiB;
const KIND = selectedTargetKind();

/** Tests of the ALL run that are covered elsewhere here: ReadOnly needs a write-protected LUN (the second run). */
const COVERED_BY_READ_ONLY_RUN = /^Logical unit is not write-protected/;

describe(`iscsi-test-cu, whole suite (${KIND})`, { concurrency: false, timeout: 15 * 60_000 }, () => {
  let dir: TempDir;
  let rw: { urls: string[]; stop(): Promise<void>; output(): string };
  let ro: RunningTarget;

  before(async () => {
    dir = await makeTempDir('openlun-conformance-');
    const lun = await createSparseFile(dir.file('rw.img'), LUN_BYTES);
    if (KIND === 'openlun') {
      rw = await startMultiPortalOpenlun({ iqn: IQN, lun, portalGroups: [1, 2] });
    } else {
      const t = await startTarget({ luns: [lun], iqn: IQN });
      rw = { urls: [t.url(0)], stop: () => t.stop(), output: () => t.output() };
    }
    ro = await startTarget({
      luns: [await createSparseFile(dir.file('ro.img'), LUN_BYTES)],
      readOnly: true,
      iqn: 'iqn.2026-11.org.openlun:e2e-ro',
    });
  });

  after(async () => {
    await rw?.stop();
    await ro?.stop();
    await dir?.remove();
  });

  /** One subtest per iscsi-test-cu test; the run itself must have completed. */
  async function report(t: test.TestContext, label: string, run: SuiteRun, extraNotApplicable?: RegExp): Promise<void> {
    const counts = verdictCounts(run.cases, extraNotApplicable);
    const line = `iscsi-test-cu against ${KIND} (${label}): ${formatVerdictCounts(counts)} in ${(run.result.durationMs / 1000).toFixed(1)} s`;
    console.log(line);
    t.diagnostic(line);
    assert.ok(run.complete, `iscsi-test-cu did not finish (exit ${run.result.code}, timed out: ${run.result.timedOut})\n${describeRun(run.result)}`);
    assert.ok(run.cases.length > 0, 'no test ran');
    for (const c of run.cases) {
      await t.test(`${c.suite}.${c.name}`, (st) => {
        const v = caseVerdict(c, extraNotApplicable);
        if (v.kind === 'not-applicable' || v.kind === 'unsupported-by-design') st.diagnostic(`${c.suite}.${c.name}: ${v.why}`);
        assert.ok(v.kind !== 'problem', `${c.suite}.${c.name}: ${v.why}\n      ${c.log.split('\n').filter((l) => l.trim() !== '').slice(-12).join('\n      ')}`);
      });
    }
  }

  test('ALL families, two portals, sparse-file LUN', async (t) => {
    const listed = await runIscsiTestCu({ list: true });
    const families = [...new Set(listed.filter((n) => n.split('.').length === 2))];
    const run = await runIscsiTestCu({
      tests: 'ALL',
      urls: rw.urls,
      initiator: INITIATOR,
      initiator2: INITIATOR_2,
      cwd: dir.path,
      allowSanitize: true,
      timeoutMs: 10 * 60_000,
    });
    // every family of the build ran (MultipathIO included: two URLs), not a hand-picked list
    const ran = new Set(run.cases.map((c) => `ALL.${c.suite}`));
    assert.deepEqual(families.filter((f) => !ran.has(f)), [], 'families listed by --list that did not run');
    if (KIND === 'openlun') assert.ok(ran.has('ALL.MultipathIO') && rw.urls.length === 2);
    await report(t, `whole suite, ${rw.urls.length} portal${rw.urls.length > 1 ? 's' : ''}`, run, COVERED_BY_READ_ONLY_RUN);
  });

  test('ReadOnly family against a --read-only LUN', async (t) => {
    const run = await runIscsiTestCu({
      tests: 'ALL.ReadOnly',
      urls: [ro.url(0)],
      initiator: INITIATOR,
      initiator2: INITIATOR_2,
      cwd: dir.path,
      timeoutMs: 120_000,
    });
    // here nothing may be skipped: the LUN is write protected, so every check applies
    assert.deepEqual(run.cases.filter((c) => c.status !== 'passed').map((c) => `${c.name}: ${c.skipReasons.join('; ')}`), []);
    await report(t, 'ReadOnly, --read-only LUN', run);
  });
});

// The verdict rules themselves, on canned iscsi-test-cu output (no target needed): a skip for a missing command
// fails, SANITIZE refused passes only in the Sanitize suite, n/a skips pass, failures fail.
test('iscsi-test-cu verdicts: what passes, what does not', () => {
  const text = [
    'Suite: WriteAtomic16',
    '  Test: Simple ...',
    '    [SKIPPED] WRITEATOMIC16 is not implemented.',
    'passed',
    'Suite: Sanitize',
    '  Test: BlockErase ...',
    '    [SKIPPED] SANITIZE BLOCK_ERASE is not implemented according to REPORT_SUPPORTED_OPCODES.',
    'passed',
    'Suite: Read10',
    '  Test: Simple ...',
    '    [SKIPPED] SANITIZE is not implemented.',
    'passed',
    'Suite: PreventAllow',
    '  Test: Eject ...',
    '    [SKIPPED] Logical unit is not removable. Skipping test.',
    'passed',
    'Suite: ReadOnly',
    '  Test: ReadOnlySBC ...',
    '    [SKIPPED] Logical unit is not write-protected. Skipping test.',
    'passed',
    'Suite: Write10',
    '  Test: Flags ...',
    'FAILED',
    '    1. test_write10_flags.c:98  - CU_ASSERT_EQUAL(ret,0)',
    'Run Summary:',
  ].join('\n');
  const { cases, complete } = parseIscsiTestCu(text);
  assert.ok(complete);
  const kinds = cases.map((c) => `${c.suite}.${c.name}:${caseVerdict(c, COVERED_BY_READ_ONLY_RUN).kind}`);
  assert.deepEqual(kinds, [
    'WriteAtomic16.Simple:problem',
    'Sanitize.BlockErase:unsupported-by-design',
    'Read10.Simple:problem',
    'PreventAllow.Eject:not-applicable',
    'ReadOnly.ReadOnlySBC:not-applicable',
    'Write10.Flags:problem',
  ]);
  // without the read-only run covering it, "not write-protected" is a problem
  assert.equal(caseVerdict(cases[4]!).kind, 'problem');
});
