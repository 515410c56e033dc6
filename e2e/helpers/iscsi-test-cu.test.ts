import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countCases, isNotApplicableSkip, parseIscsiTestCu } from './iscsi-test-cu.ts';

// Shapes of iscsi-test-cu 1.19 output, as printed against tgt (normal mode and -V).
const NORMAL = `
     CUnit - A unit testing framework for C - Version 2.1-3

Suite: ReportSupportedOpcodes
  Test: Simple ...passed
  Test: OneCommand ...    [SKIPPED] REPORT_SUPPORTED_OPCODES is not implemented.
    [SKIPPED] REPORT_SUPPORTED_OPCODES is not implemented.
passed
  Test: RCTD ...    [SKIPPED] Logical unit is not removable. Skipping test.
passed
  Test: SERVACTV ...FAILED
    1. test_iscsi_datasn_invalid.c:98  - CU_ASSERT_NOT_EQUAL(ret,0)
    2. test_iscsi_datasn_invalid.c:116  - CU_ASSERT_NOT_EQUAL(ret,0)

Run Summary:    Type  Total    Ran Passed Failed Inactive
               tests      4      4      3      1        0
`;

const VERBOSE = `
Suite: ReadOnly
  Test: ReadOnlySBC ...
    Test WRITE10 fails with WRITE_PROTECTED
    [OK] WRITE10 returned DATA_PROTECTION
    [FAILED] WRITESAME10 failed with wrong sense. Should have failed with DATA PROTECTION(0x07)
FAILED
    1. test_readonly_sbc.c:63  - CU_ASSERT_EQUAL(_r,0)
  Test: Next ...
    Send READ10
passed    Send PRIN/READ_KEYS
    [SKIPPED] PERSISTENT RESERVE IN is not implemented.
`;

test('normal output: passes, skips by kind, failures with their assertions', () => {
  const { cases, complete } = parseIscsiTestCu(NORMAL);
  assert.equal(complete, true);
  assert.deepEqual(cases.map((c) => [c.suite, c.name, c.status]), [
    ['ReportSupportedOpcodes', 'Simple', 'passed'],
    ['ReportSupportedOpcodes', 'OneCommand', 'skipped-unsupported'],
    ['ReportSupportedOpcodes', 'RCTD', 'skipped-not-applicable'],
    ['ReportSupportedOpcodes', 'SERVACTV', 'failed'],
  ]);
  assert.deepEqual(cases[1]?.skipReasons, ['REPORT_SUPPORTED_OPCODES is not implemented.']);
  assert.equal(cases[3]?.failures.length, 2);
  assert.match(cases[3]?.failures[0] ?? '', /test_iscsi_datasn_invalid\.c:98/);
  assert.deepEqual(countCases(cases), { passed: 1, failed: 1, skippedNotApplicable: 1, skippedUnsupported: 1 });
});

test('verbose output: verdict on its own line, chatter after the verdict belongs to no test', () => {
  const { cases, complete } = parseIscsiTestCu(VERBOSE);
  assert.equal(complete, false, 'no Run Summary: the program died');
  assert.equal(cases.length, 2);
  assert.equal(cases[0]?.status, 'failed');
  assert.deepEqual(cases[0]?.failures, [
    'test_readonly_sbc.c:63  - CU_ASSERT_EQUAL(_r,0)',
    'WRITESAME10 failed with wrong sense. Should have failed with DATA PROTECTION(0x07)',
  ]);
  assert.equal(cases[1]?.status, 'passed');
});

test('a test cut off before its verdict is a failure', () => {
  const { cases } = parseIscsiTestCu('Suite: Read10\n  Test: Simple ...\n    Send READ10\n');
  assert.equal(cases[0]?.status, 'failed');
  assert.match(cases[0]?.failures.join() ?? '', /never finished/);
});

test('skip reasons: configuration facts are n/a, anything else counts against the target', () => {
  assert.equal(isNotApplicableSkip('Logical unit is fully provisioned. Skipping test'), true);
  assert.equal(isNotApplicableSkip('Media is not removable.'), true);
  assert.equal(isNotApplicableSkip('READDEFECTDATA10 is not implemented.'), false);
  assert.equal(isNotApplicableSkip('Logical unit is not write-protected. Skipping test.'), false);
  assert.equal(isNotApplicableSkip('--dataloss flag is not set. Skipping test.'), false);
});
