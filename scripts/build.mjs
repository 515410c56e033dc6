#!/usr/bin/env node
// Bundles the runtime entry points into dist/ with esbuild: one file per program, npm dependencies left external.
// Why not run the sources through tsx: tsx compiles with esbuild's keepNames, which wraps every function and
// closure creation in a defineProperty call — measurable on the target's per-command path — and loads slower.
// Written to a temp file and renamed, so concurrent starts never see half a bundle.
import { build } from 'esbuild';
import { readFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const external = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {})];

const entries = { openlun: 'cli/openlun.ts' };
for (const [name, entry] of Object.entries(entries)) {
  const out = join(root, 'dist', `${name}.mjs`);
  const tmp = `${out}.${process.pid}.tmp`;
  await build({
    entryPoints: [join(root, entry)],
    outfile: tmp,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    sourcemap: 'inline',
    external,
    logLevel: 'warning',
  });
  renameSync(tmp, out);
}
