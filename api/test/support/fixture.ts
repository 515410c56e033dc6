/** A fresh app on a temp data dir, plus helpers to sign in as each role. Everything over app.inject(). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp, type AppOptions } from '../../src/app.ts';

export const ADMIN_PASSWORD = 'admin-password-1';
export const READER_PASSWORD = 'reader-password-1';

export interface Session {
  cookie: string;
  csrf: string;
}

export interface Fixture {
  app: FastifyInstance;
  dir: string;
  close(): Promise<void>;
}

export async function newApp(opts: Partial<AppOptions> = {}): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'openlun-api-'));
  const app = await buildApp({ dataDir: dir, secureCookies: false, ...opts });
  return {
    app,
    dir,
    async close() {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function sessionOf(res: LightMyRequestResponse): Session {
  const cookie = res.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
  const body = res.json() as { csrfToken: string };
  return { cookie, csrf: body.csrfToken };
}

export async function setupAdmin(app: FastifyInstance): Promise<Session> {
  const res = await app.inject({ method: 'POST', url: '/api/setup', payload: { password: ADMIN_PASSWORD } });
  if (res.statusCode !== 201) throw new Error(`setup failed: ${res.statusCode} ${res.body}`);
  return sessionOf(res);
}

export async function login(app: FastifyInstance, username: string, password: string): Promise<Session> {
  const res = await app.inject({ method: 'POST', url: '/api/login', payload: { username, password } });
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  return sessionOf(res);
}

/** Headers for a session-authenticated call (with the CSRF token, as the UI sends it). */
export function as(s: Session): Record<string, string> {
  return { cookie: s.cookie, 'x-csrf-token': s.csrf };
}

export async function createReader(app: FastifyInstance, admin: Session): Promise<Session> {
  const res = await app.inject({ method: 'POST', url: '/api/users', headers: as(admin), payload: { username: 'reader', password: READER_PASSWORD, role: 'read-only' } });
  if (res.statusCode !== 201) throw new Error(`create reader failed: ${res.body}`);
  return login(app, 'reader', READER_PASSWORD);
}

/** Every documented route (method, url with :params), from the OpenAPI document. */
export async function documentedRoutes(app: FastifyInstance, admin: Session): Promise<Array<{ method: string; url: string }>> {
  const doc = (await app.inject({ method: 'GET', url: '/api/docs', headers: as(admin) })).json() as { paths: Record<string, Record<string, unknown>> };
  const out: Array<{ method: string; url: string }> = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const method of Object.keys(ops)) {
      if (method === 'head') continue;
      out.push({ method: method.toUpperCase(), url: path.replace(/\{(\w+)\}/g, '1') });
    }
  }
  return out;
}
