#!/usr/bin/env node
// Builds the web UI: ui/src/main.ts (Lit elements) and ui/src/global.css → ui/dist/assets/<name>-<hash>.{js,css},
// plus ui/dist/index.html naming them. No CDN, no inline script or style (the server's CSP forbids both).
// Prints the gzipped size of what the first page load fetches (index.html + JS + CSS).
//   node scripts/build-ui.mjs [--dev] [--out DIR]   (--dev: no minification, with source maps; --out: instead of ui/dist)
import { build } from 'esbuild';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const uiDir = join(root, 'ui');
const outArg = process.argv.indexOf('--out');
const finalDist = outArg > 0 && process.argv[outArg + 1] ? resolve(process.argv[outArg + 1]) : join(uiDir, 'dist');
// built beside the old bundle and swapped in at the end, so a running server never reads half a build
const dist = `${finalDist}.tmp-${process.pid}`;
const assets = join(dist, 'assets');
const dev = process.argv.includes('--dev');

rmSync(dist, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });

const result = await build({
  absWorkingDir: root,
  entryPoints: { app: 'ui/src/main.ts', style: 'ui/src/global.css', icon: 'ui/src/icon.svg' },
  loader: { '.svg': 'copy' },
  bundle: true,
  format: 'esm',
  target: ['chrome110', 'firefox115', 'safari16'],
  minify: !dev,
  sourcemap: dev,
  legalComments: 'none',
  outdir: assets,
  entryNames: '[name]-[hash]',
  // code that only some pages need (the dashboard's charts: uPlot) is imported with import() and lands in its own
  // chunk, fetched when first shown; shared code esbuild splits out becomes chunk-<hash>.js
  splitting: true,
  chunkNames: 'chunk-[hash]',
  metafile: true,
  logLevel: 'warning',
});

const outputs = Object.entries(result.metafile.outputs);
const find = (entry) => {
  const hit = outputs.find(([, o]) => o.entryPoint === entry);
  if (!hit) throw new Error(`build-ui: no output for ${entry}`);
  return '/assets/' + basename(hit[0]);
};
const js = find('ui/src/main.ts');
const css = find('ui/src/global.css');
const icon = find('ui/src/icon.svg');

const template = readFileSync(join(uiDir, 'index.html'), 'utf8');
const html = template.replaceAll('%APP_JS%', js).replaceAll('%APP_CSS%', css).replaceAll('%ICON%', icon);
if (/%[A-Z_]+%/.test(html)) throw new Error('build-ui: unreplaced placeholder in ui/index.html');
writeFileSync(join(dist, 'index.html'), html);

rmSync(finalDist, { recursive: true, force: true });
renameSync(dist, finalDist);

const gz = (p) => gzipSync(readFileSync(p), { level: 9 }).length;
// the entry's static imports (chunks shared with lazy parts) load with it; dynamic import() chunks do not
const staticChunks = (entry) => {
  const out = [];
  const visit = (file) => {
    for (const imp of result.metafile.outputs[file]?.imports ?? []) {
      if (imp.kind !== 'import-statement' || out.includes(imp.path)) continue;
      out.push(imp.path);
      visit(imp.path);
    }
  };
  visit(entry);
  return out.map((p) => join(root, p).replace(dist, finalDist));
};
const jsOutput = outputs.find(([, o]) => o.entryPoint === 'ui/src/main.ts')[0];
const first = [join(finalDist, 'index.html'), join(finalDist, js), ...staticChunks(jsOutput), join(finalDist, css)];
const sizes = first.map((p) => ({ file: relative(root, p), raw: readFileSync(p).length, gzip: gz(p) }));
for (const s of sizes) console.log(`build-ui: ${s.file}  ${(s.raw / 1024).toFixed(1)} KiB  (gzip ${(s.gzip / 1024).toFixed(1)} KiB)`);
const total = sizes.reduce((n, s) => n + s.gzip, 0);
console.log(`build-ui: first load ${(total / 1024).toFixed(1)} KiB gzipped (${sizes.length} files)`);
