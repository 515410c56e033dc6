// Host-side preparation of the JavaScript a guest test runs from the read-only 9p share or copies in.
// - ensureOpenlunBundle: dist/openlun.mjs rebuilt by scripts/build.mjs when a source is newer — bin/openlun's own
//   rule, applied on the host because the guest sees the repository read-only (bin/openlun would try to rebuild
//   there and fail with EROFS) — so the guest can run `node /mnt/share/dist/openlun.mjs` directly.
// - bundleLunTool: e2e/guest/lun-tool.ts as one self-contained .mjs (lvm/ and the control client have no npm
//   dependencies), so each call in the guest costs a node start, not a tsx compile.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';
import { runCommand } from './run-command.ts';

/** The directories and files bin/openlun compares against the bundle. */
const BUNDLE_SOURCES = ['cli', 'target', 'api', 'lvm', 'package.json'] as const;

async function newestSourceMs(path: string): Promise<number> {
  const st = await stat(path).catch(() => undefined);
  if (!st) return 0;
  if (st.isFile()) return path.endsWith('.ts') || path.endsWith('package.json') ? st.mtimeMs : 0;
  if (!st.isDirectory()) return 0;
  let newest = 0;
  for (const e of await readdir(path, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'dist' || e.name.startsWith('.')) continue;
    newest = Math.max(newest, await newestSourceMs(join(path, e.name)));
  }
  return newest;
}

/** Returns the bundle's path and whether it had to be rebuilt. */
export async function ensureOpenlunBundle(repo: string): Promise<{ path: string; rebuilt: boolean }> {
  const bundle = join(repo, 'dist', 'openlun.mjs');
  const bundleMs = (await stat(bundle).catch(() => undefined))?.mtimeMs ?? -1;
  let newest = 0;
  for (const s of BUNDLE_SOURCES) newest = Math.max(newest, await newestSourceMs(join(repo, s)));
  if (bundleMs >= newest) return { path: bundle, rebuilt: false };
  await runCommand([process.execPath, join(repo, 'scripts', 'build.mjs')], { timeoutMs: 120_000 });
  return { path: bundle, rebuilt: true };
}

export async function bundleLunTool(repo: string, outFile: string): Promise<void> {
  await build({
    entryPoints: [join(repo, 'e2e', 'guest', 'lun-tool.ts')],
    outfile: outFile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    logLevel: 'warning',
  });
}
