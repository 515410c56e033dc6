#!/usr/bin/env node
// Bundles the `openlun` program into dist/ with esbuild, npm dependencies left external. Code splitting keeps what a
// command does not use out of its start: `openlun targetd` never loads fastify or better-sqlite3 (measured in the
// test guest: 14-16 s to start with them, ~2 s without). Why a bundle rather than tsx at run time: tsx compiles with
// esbuild's keepNames, which wraps every function and closure creation in a defineProperty call — measurable on the
// target's per-command path — and loads slower.
// Chunks are content-hashed and written before the entry file is renamed into place, so a running process (which
// may still import one of its chunks lazily) and a concurrent start never see half a build.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const external = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {})];
const dist = join(root, 'dist');
const tmp = join(root, `dist.tmp-${process.pid}`);

try {
  await build({
    entryPoints: { openlun: join(root, 'cli/openlun.ts') },
    outdir: tmp,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    sourcemap: 'inline',
    external,
    logLevel: 'warning',
  });
  mkdirSync(join(dist, 'chunks'), { recursive: true });
  for (const f of readdirSync(join(tmp, 'chunks'))) renameSync(join(tmp, 'chunks', f), join(dist, 'chunks', f));
  renameSync(join(tmp, 'openlun.mjs'), join(dist, 'openlun.mjs'));
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
