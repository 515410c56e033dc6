// Conformance from outside: libiscsi's iscsi-test-cu (the suite LIO, tgt and SCST are tested with)
// against the target on a 256 MiB sparse LUN, one node:test subtest per family. A family fails when
// any of its tests fails or is skipped because the target lacks a command or feature; skips that
// only say "this LUN is not removable / not thin" are counted apart and do not fail it.
//
// OPENLUN_TEST_TARGET=tgt runs the same families against Debian's tgt (to validate this harness:
// tgt 1.0.85 lacks REPORT SUPPORTED OPERATION CODES one-command mode, READ DEFECT DATA, and fails
// iSCSIdatasn and parts of ReadOnly, so some families are expected to fail there).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createSparseFile, makeTempDir, MiB, type TempDir } from './helpers/files.ts';
import {
  addCounts,
  familyProblems,
  formatCounts,
  runFamily,
  type Counts,
} from './helpers/iscsi-test-cu.ts';
import { startTarget, type RunningTarget } from './helpers/targets.ts';

const INITIATOR = 'iqn.2026-11.org.openlun:conformance-1';
const INITIATOR_2 = 'iqn.2026-11.org.openlun:conformance-2';

/** Families run against the writable LUN, as iscsi-test-cu --list names them (ALL.<family>). */
const READ_WRITE_FAMILIES = [
  'Inquiry', 'Mandatory', 'ModeSense6', 'NoMedia', 'Prefetch10', 'Prefetch16', 'PreventAllow',
  'Read6', 'Read10', 'Read12', 'Read16', 'ReadCapacity10', 'ReadCapacity16', 'ReadDefectData10',
  'ReadDefectData12', 'ReportSupportedOpcodes', 'StartStopUnit', 'TestUnitReady',
  'Verify10', 'Verify12', 'Verify16', 'Write10', 'Write12', 'Write16',
  'WriteVerify10', 'WriteVerify12', 'WriteVerify16',
  'iSCSIcmdsn', 'iSCSIdatasn', 'iSCSIResiduals', 'iSCSITMF',
  // VMware VAAI and thin provisioning (issue 3)
  'CompareAndWrite', 'WriteSame10', 'WriteSame16', 'Unmap', 'GetLBAStatus', 'OrWrite',
  // SCSI-2 and persistent reservations (issue 3)
  'PrinReadKeys', 'PrinServiceactionRange', 'PrinReportCapabilities', 'ProutRegister', 'ProutReserve', 'ProutClear', 'ProutPreempt', 'Reserve6',
  'ExtendedCopy', 'ReceiveCopyResults', // XCOPY (issue 3)
] as const;

/** Families run against a LUN served with --read-only. */
const READ_ONLY_FAMILIES = ['ReadOnly'] as const;

const LUN_BYTES = 256 * MiB;

describe('iscsi-test-cu conformance', { concurrency: false, timeout: 20 * 60_000 }, () => {
  let dir: TempDir;
  let rw: RunningTarget;
  let ro: RunningTarget;
  let total: Counts = { passed: 0, failed: 0, skippedNotApplicable: 0, skippedUnsupported: 0 };
  const timings: string[] = [];

  before(async () => {
    dir = await makeTempDir('openlun-conformance-');
    rw = await startTarget({ luns: [await createSparseFile(dir.file('rw.img'), LUN_BYTES)] });
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
    if (timings.length > 0) {
      console.log(`iscsi-test-cu against ${rw?.kind}: ${formatCounts(total)}`);
      console.log(`per family: ${timings.join(', ')}`);
    }
  });

  const families = [
    ...READ_WRITE_FAMILIES.map((f) => ({ family: f, target: () => rw })),
    ...READ_ONLY_FAMILIES.map((f) => ({ family: f, target: () => ro })),
  ];

  for (const { family, target } of families) {
    test(family, async (t) => {
      const f = await runFamily(`ALL.${family}`, {
        url: target().url(0),
        initiator: INITIATOR,
        initiator2: INITIATOR_2,
        cwd: dir.path,
      });
      total = addCounts(total, f.counts);
      timings.push(`${family} ${(f.result.durationMs / 1000).toFixed(2)} s`);
      t.diagnostic(`${family}: ${formatCounts(f.counts)} in ${(f.result.durationMs / 1000).toFixed(2)} s`);
      const problems = familyProblems(f);
      assert.equal(problems.length, 0, `${family} against ${target().kind}:\n  ${problems.join('\n  ')}`);
    });
  }
});
