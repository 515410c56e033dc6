#!/usr/bin/env node
// Finds every *.test.ts under the test roots and runs them all in one node:test run, so the
// closing summary ("# pass N" / "# fail N") covers the whole suite and the exit code is non-zero
// when anything fails.
//   node scripts/run-tests.mjs            everything (target/, lvm/, api/, ui/, e2e/)
//   node scripts/run-tests.mjs --unit     without e2e/ (no real initiators, targets or VMs)
//   node scripts/run-tests.mjs PATH...    only test files under these paths
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const ALL_ROOTS = ['target', 'lvm', 'api', 'ui', 'cli', 'e2e'];
const SKIP_DIRS = new Set(['node_modules', 'dist', '.git', '.cache']);

const args = process.argv.slice(2);
const unit = args.includes('--unit');
const paths = args.filter((a) => !a.startsWith('--'));
const roots = paths.length > 0 ? paths : ALL_ROOTS.filter((r) => !(unit && r === 'e2e'));

function findTests(path, found) {
  if (!existsSync(path)) return found;
  const st = statSync(path);
  if (st.isFile()) {
    if (path.endsWith('.test.ts')) found.push(path);
    return found;
  }
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) findTests(join(path, entry.name), found);
    } else if (entry.isFile() && entry.name.endsWith('.test.ts')) {
      found.push(join(path, entry.name));
    }
  }
  return found;
}

const files = roots
  .flatMap((r) => findTests(resolve(root, r), []))
  .map((f) => relative(root, f))
  .sort();

if (files.length === 0) {
  console.error(`run-tests: no *.test.ts under ${roots.join(', ')}`);
  process.exit(1);
}
console.log(`run-tests: ${files.length} test files`);

// spec for people, TAP to a file whose closing summary ("# pass N", "# fail N") is echoed last
// for whatever reads the log.
const tapDir = mkdtempSync(join(tmpdir(), 'openlun-tests-'));
const tapFile = join(tapDir, 'results.tap');
const r = spawnSync(
  process.execPath,
  [
    // a hung test fails after 30 min instead of eating CI's 90 (--test-force-exit would be the cure for a file that
    // keeps a handle open, but it cuts the TAP file's closing summary short: tests must close what they open)
    '--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=1800000',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tapFile}`,
    ...files,
  ],
  { cwd: root, stdio: 'inherit' },
);
if (r.error) {
  console.error(`run-tests: ${r.error.message}`);
  process.exit(1);
}
try {
  const summary = readFileSync(tapFile, 'utf8')
    .split('\n')
    .filter((l) => /^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) /.test(l));
  console.log(summary.join('\n'));
} catch (e) {
  console.error(`run-tests: no TAP summary: ${e.message}`);
}
rmSync(tapDir, { recursive: true, force: true });
process.exit(r.status ?? 1);
