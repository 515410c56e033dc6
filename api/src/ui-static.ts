/**
 * Serves the web UI bundle (ui/dist, built by scripts/build-ui.mjs) from the management API's own origin, so the
 * UI's fetch() calls are same-origin and the session cookie (SameSite=Strict) and CSRF header just work.
 *
 * Files are read once at registration into a table keyed by URL path: a request can only ever name a file that
 * was in dist/ when the server started, so there is no path to traverse. Hashed assets never change under their
 * name (immutable caching); index.html names the current hashes, so it is revalidated on every load.
 *
 * Call before the instance is ready (fastify refuses routes after ready()): `await registerUi(app, { distDir })`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
// brings in the route config type (`config.access`) the auth hook reads
import type {} from './auth/principal.ts';

export interface UiOptions {
  /** the built bundle: index.html plus assets/ with content-hashed names */
  distDir: string;
}

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
} as const satisfies Record<string, string>;

// No inline script or style anywhere: everything comes from this origin's own files. Lit's styles are constructable
// stylesheets (adoptedStyleSheets), which CSP does not treat as inline. connect-src 'self' keeps the page from
// talking to anything but the API it came from.
export const UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE_HEADERS = {
  'content-security-policy': UI_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
} as const satisfies Record<string, string>;

// RFC 9111 §5.2.2.1 / RFC 8246: a hashed name is a promise the bytes never change; index.html must be revalidated
const CACHE_IMMUTABLE = 'public, max-age=31536000, immutable';
const CACHE_REVALIDATE = 'no-cache';

// a name esbuild produces: letters, digits, "-", "_", "." (no "/", no ".." component possible)
const SAFE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;

interface UiFile {
  body: Buffer;
  gzip: Buffer | undefined;
  type: string;
  cache: string;
}

function contentType(name: string): string | undefined {
  return (CONTENT_TYPES as Record<string, string>)[extname(name).toLowerCase()];
}

function load(path: string, cache: string): UiFile | undefined {
  const type = contentType(path);
  if (!type) return undefined;
  const body = readFileSync(path);
  const packed = body.length > 1024 && !type.startsWith('image/png') && !type.startsWith('font/') ? gzipSync(body, { level: 9 }) : undefined;
  return { body, gzip: packed && packed.length < body.length ? packed : undefined, type, cache };
}

/** URL path → file, for index.html and every file directly under assets/. */
export function loadUiFiles(distDir: string): Map<string, UiFile> {
  const files = new Map<string, UiFile>();
  const index = join(distDir, 'index.html');
  if (!existsSync(index)) throw new Error(`no UI bundle at ${distDir} (run: node scripts/build-ui.mjs)`);
  const page = load(index, CACHE_REVALIDATE)!;
  files.set('/', page);
  files.set('/index.html', page);
  const assets = join(distDir, 'assets');
  if (existsSync(assets)) {
    for (const name of readdirSync(assets)) {
      // regular files only: a symlink could point anywhere on the appliance
      if (!SAFE_NAME.test(name) || !lstatSync(join(assets, name)).isFile()) continue;
      const f = load(join(assets, name), CACHE_IMMUTABLE);
      if (f) files.set(`/assets/${name}`, f);
    }
  }
  return files;
}

/** RFC 9110 §12.5.3: "gzip" listed with a non-zero q value. */
export function acceptsGzip(header: string | undefined): boolean {
  if (typeof header !== 'string') return false;
  return header.split(',').some((entry) => {
    const [coding, ...params] = entry.split(';').map((s) => s.trim().toLowerCase());
    if (coding !== 'gzip') return false;
    const q = params.find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

function send(request: FastifyRequest, reply: FastifyReply, file: UiFile): FastifyReply {
  reply.headers(PAGE_HEADERS);
  reply.header('content-type', file.type);
  reply.header('cache-control', file.cache);
  if (file.gzip) {
    reply.header('vary', 'accept-encoding');
    if (acceptsGzip(request.headers['accept-encoding'])) {
      reply.header('content-encoding', 'gzip');
      return reply.send(file.gzip);
    }
  }
  return reply.send(file.body);
}

const notFound = { error: 'not-found', message: 'no such UI file' } as const;

export async function registerUi(app: FastifyInstance, opts: UiOptions): Promise<void> {
  const files = loadUiFiles(opts.distDir);
  // the auth hook runs on every route: the UI's files are public (the data behind them is not)
  const routeOptions = {
    config: { access: 'public' as const },
    // app.ts insists on a response schema per route; a Buffer body bypasses serialization, so this only documents
    schema: { hide: true, response: { 200: { type: 'string' }, 404: { type: 'object', additionalProperties: true } } },
  };
  for (const path of ['/', '/index.html']) {
    app.get(path, routeOptions, async (request, reply) => send(request, reply, files.get(path)!));
  }
  app.get<{ Params: { name: string } }>('/assets/:name', routeOptions, async (request, reply) => {
    const name = request.params.name;
    const file = SAFE_NAME.test(name) ? files.get(`/assets/${name}`) : undefined;
    if (!file) return reply.status(404).header('cache-control', 'no-store').send(notFound);
    return send(request, reply, file);
  });
}
