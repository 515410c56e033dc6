/**
 * registerUi (api/src/ui-static.ts) inside the real API app (buildApp's extend hook, as serve.ts wires it), over
 * inject(): public despite the auth hook, content types, caching, CSP, gzip, no traversal, and the API still guarded.
 */
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { buildApp } from '../api/src/app.ts';
import { UI_CSP, acceptsGzip, registerUi } from '../api/src/ui-static.ts';
import { buildUi } from '../ui/test/ui-server.ts';

const SECRET = 'root:x:0:0:do-not-serve';
const JS = `console.log(${JSON.stringify('x'.repeat(4000))});`;
let work: string;
let app: FastifyInstance;

/** The real API app with the UI registered the way serve.ts does it (buildApp's extend hook). */
async function apiWithUi(distDir: string, dataDir: string): Promise<FastifyInstance> {
  return buildApp({ dataDir, secureCookies: false, extend: (a) => registerUi(a, { distDir }) });
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'openlun-ui-static-'));
  const dist = join(work, 'www', 'dist');
  mkdirSync(join(dist, 'assets'), { recursive: true });
  writeFileSync(join(work, 'www', 'secret.txt'), SECRET);
  writeFileSync(join(dist, 'index.html'), '<!doctype html><script type="module" src="/assets/app-ABC123.js"></script>');
  writeFileSync(join(dist, 'assets', 'app-ABC123.js'), JS);
  writeFileSync(join(dist, 'assets', 'style-DEF456.css'), 'body{color:red}');
  writeFileSync(join(dist, 'assets', 'notes.unknownext'), SECRET);
  symlinkSync(join(work, 'www', 'secret.txt'), join(dist, 'assets', 'link.txt'));
  app = await apiWithUi(dist, join(work, 'data'));
});

after(async () => {
  await app?.close();
  rmSync(work, { recursive: true, force: true });
});

test('index.html: public, HTML, strict CSP without inline script, revalidated', async () => {
  for (const url of ['/', '/index.html']) {
    const r = await app.inject({ method: 'GET', url });
    assert.equal(r.statusCode, 200, url);
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(r.headers['content-security-policy'], UI_CSP);
    assert.doesNotMatch(UI_CSP, /unsafe-inline|unsafe-eval|\*/);
    assert.match(UI_CSP, /script-src 'self'/);
    assert.match(UI_CSP, /frame-ancestors 'none'/);
    assert.equal(r.headers['cache-control'], 'no-cache');
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
  }
  assert.equal((await app.inject({ method: 'HEAD', url: '/' })).statusCode, 200);
  // the API itself stays behind sign-in, with its own JSON CSP
  const api = await app.inject({ method: 'GET', url: '/api/luns' });
  assert.equal(api.statusCode, 401);
  assert.equal(api.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'");
});

test('hashed assets: right type, immutable, gzip when asked', async () => {
  const plain = await app.inject({ method: 'GET', url: '/assets/app-ABC123.js' });
  assert.equal(plain.statusCode, 200);
  assert.equal(plain.headers['content-type'], 'text/javascript; charset=utf-8');
  assert.equal(plain.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.equal(plain.body, JS);
  const gz = await app.inject({ method: 'GET', url: '/assets/app-ABC123.js', headers: { 'accept-encoding': 'br, gzip;q=0.8' } });
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.equal(gz.headers['vary'], 'accept-encoding');
  assert.equal(gunzipSync(gz.rawPayload).toString(), JS);
  assert.ok(gz.rawPayload.length < JS.length / 4);
  const css = await app.inject({ method: 'GET', url: '/assets/style-DEF456.css' });
  assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
});

test('nothing outside the bundle, nothing of unknown type, no traversal', async () => {
  const urls = [
    '/assets/..%2Fsecret.txt',
    '/assets/..%2F..%2Fsecret.txt',
    '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
    '/assets/../../secret.txt',
    '/../secret.txt',
    '/secret.txt',
    '/assets/link.txt',
    '/assets/notes.unknownext',
    '/assets/',
    '/assets/.',
    '/assets/..',
    '/assets/%2e%2e',
    '/assets/nope-123.js',
    '/assets/app-ABC123.js%00.html',
  ];
  for (const url of urls) {
    const r = await app.inject({ method: 'GET', url });
    assert.ok(!r.body.includes(SECRET), url);
    // a URL whose dot segments resolve to "/" (RFC 3986 §5.2.4) may get index.html; nothing else is a 200
    if (r.statusCode === 200) assert.match(r.body, /^<!doctype html>/, url);
    // unknown paths fall to the API's not-found route, which the auth hook guards first (401 without a session)
    else assert.ok(r.statusCode === 404 || r.statusCode === 401, `${url}: ${r.statusCode}`);
  }
});

test('gzip negotiation follows q values (RFC 9110 §12.5.3)', () => {
  assert.equal(acceptsGzip('gzip, deflate, br'), true);
  assert.equal(acceptsGzip('br;q=1.0, gzip;q=0.5'), true);
  assert.equal(acceptsGzip('gzip;q=0'), false);
  assert.equal(acceptsGzip('identity'), false);
  assert.equal(acceptsGzip(undefined), false);
});

test('the real bundle: index.html loads only served, hashed files and has no inline script or style', async () => {
  const out = join(work, 'real');
  const log = buildUi(out);
  assert.match(log, /first load [\d.]+ KiB gzipped/);
  const html = readFileSync(join(out, 'index.html'), 'utf8');
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'inline script');
  assert.doesNotMatch(html, /<style|\sstyle=/, 'inline style');
  const refs = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
  assert.equal(refs.length, 3, 'index.html: the entry script, its stylesheet and the icon');
  // code splitting: the charts (uPlot) and the terminal (xterm) are chunks loaded on demand, never from index.html
  const assets = readdirSync(join(out, 'assets'));
  for (const ref of refs) assert.ok(assets.includes(ref.slice('/assets/'.length)), ref);
  assert.ok(assets.length > refs.length, `lazy chunks next to the entry: ${assets.join(', ')}`);
  const real = await apiWithUi(out, join(work, 'data2'));
  try {
    for (const ref of [...refs, ...assets.filter((a) => a.endsWith('.js')).map((a) => `/assets/${a}`)]) {
      assert.match(ref, /-[A-Z0-9]{8}\.(js|css|svg)$/);
      const r = await real.inject({ method: 'GET', url: ref });
      assert.equal(r.statusCode, 200, ref);
      assert.equal(r.headers['cache-control'], 'public, max-age=31536000, immutable');
    }
  } finally {
    await real.close();
  }
});
