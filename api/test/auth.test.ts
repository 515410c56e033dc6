import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { afterEach, describe, test } from 'node:test';
import { AUTH_POLICY } from '../src/auth/policy.ts';
import { ADMIN_PASSWORD, as, createReader, documentedRoutes, login, newApp, setupAdmin, type Fixture } from './support/fixture.ts';

const PUBLIC = new Set(['GET /api/health', 'GET /api/setup', 'POST /api/setup', 'POST /api/login']);
let f: Fixture;
afterEach(async () => f?.close());

describe('first-run setup', () => {
  test('no default password: nothing signs in before setup; setup works exactly once', async () => {
    f = await newApp();
    const { app } = f;
    assert.deepEqual((await app.inject({ method: 'GET', url: '/api/setup' })).json(), { setupRequired: true });
    for (const password of ['admin', 'password', 'openlun', '']) {
      const r = await app.inject({ method: 'POST', url: '/api/login', payload: { username: 'admin', password } });
      assert.ok([400, 401].includes(r.statusCode), `${password}: ${r.statusCode}`);
    }
    const weak = await app.inject({ method: 'POST', url: '/api/setup', payload: { password: 'short' } });
    assert.equal(weak.statusCode, 400);
    assert.match(weak.json().message, /password/);
    const admin = await setupAdmin(app);
    assert.ok(admin.csrf.length > 20);
    assert.deepEqual((await app.inject({ method: 'GET', url: '/api/setup' })).json(), { setupRequired: false });
    const again = await app.inject({ method: 'POST', url: '/api/setup', payload: { password: 'another-password' } });
    assert.equal(again.statusCode, 409);
    assert.equal((await app.inject({ method: 'GET', url: '/api/users', headers: as(admin) })).json().length, 1);
  });

  test('session cookies: HttpOnly, SameSite=Strict, Secure unless turned off', async () => {
    f = await newApp({ secureCookies: true });
    const res = await f.app.inject({ method: 'POST', url: '/api/setup', payload: { password: ADMIN_PASSWORD } });
    const session = res.cookies.find((c) => c.name === AUTH_POLICY.sessionCookie)!;
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    assert.equal(session.secure, true);
    const csrf = res.cookies.find((c) => c.name === AUTH_POLICY.csrfCookie)!;
    assert.equal(csrf.httpOnly, undefined, 'the UI must be able to read the CSRF cookie');
    assert.equal(csrf.sameSite, 'Strict');
  });
});

describe('authorization on every route', () => {
  test('anonymous: 401 everywhere except setup, login, health', async () => {
    f = await newApp();
    const admin = await setupAdmin(f.app);
    const routes = await documentedRoutes(f.app, admin);
    assert.ok(routes.length >= 30, `only ${routes.length} routes documented`);
    for (const r of routes) {
      const key = `${r.method} ${r.url}`;
      if (PUBLIC.has(key)) continue;
      const res = await f.app.inject({ method: r.method as 'GET', url: r.url, payload: r.method === 'GET' || r.method === 'DELETE' ? undefined : {} });
      assert.equal(res.statusCode, 401, `${key} answered ${res.statusCode} to an anonymous caller`);
    }
  });

  test('read-only: reads allowed, every change 403', async () => {
    f = await newApp();
    const admin = await setupAdmin(f.app);
    const reader = await createReader(f.app, admin);
    for (const r of await documentedRoutes(f.app, admin)) {
      const key = `${r.method} ${r.url}`;
      if (PUBLIC.has(key) || key === 'POST /api/logout') continue;
      const res = await f.app.inject({ method: r.method as 'GET', url: r.url, headers: as(reader), payload: r.method === 'GET' || r.method === 'DELETE' ? undefined : {} });
      // their own API tokens are the one thing read-only users manage (api/test/cli2-tokens-lvs.test.ts): {} is
      // no valid token request (400) and the placeholder id no token of theirs (404)
      if (key === 'POST /api/tokens') assert.equal(res.statusCode, 400, key);
      else if (/^DELETE \/api\/tokens\/[^/]+$/.test(key)) assert.equal(res.statusCode, 404, key);
      else if (r.method === 'GET') {
        if (key === 'GET /api/users') assert.equal(res.statusCode, 403, key);
        else assert.ok([200, 404].includes(res.statusCode), `${key}: ${res.statusCode} ${res.body}`);
      } else {
        assert.equal(res.statusCode, 403, `${key} answered ${res.statusCode} to a read-only user`);
      }
    }
    assert.equal((await f.app.inject({ method: 'GET', url: '/api/me', headers: as(reader) })).json().user.role, 'read-only');
  });

  test('logout ends the session', async () => {
    f = await newApp();
    const admin = await setupAdmin(f.app);
    assert.equal((await f.app.inject({ method: 'POST', url: '/api/logout', headers: as(admin) })).statusCode, 204);
    assert.equal((await f.app.inject({ method: 'GET', url: '/api/targets', headers: as(admin) })).statusCode, 401);
  });
});

describe('CSRF', () => {
  test('session-authenticated changes need the session CSRF token and a same-origin Origin', async () => {
    f = await newApp();
    const admin = await setupAdmin(f.app);
    const payload = { iqn: 'iqn.2026-11.org.example:t1' };
    const noToken = await f.app.inject({ method: 'POST', url: '/api/targets', headers: { cookie: admin.cookie }, payload });
    assert.equal(noToken.statusCode, 403);
    assert.equal(noToken.json().error, 'csrf');
    const wrong = await f.app.inject({ method: 'POST', url: '/api/targets', headers: { cookie: admin.cookie, 'x-csrf-token': 'x'.repeat(43) }, payload });
    assert.equal(wrong.statusCode, 403);
    // another session's token does not fit this session
    const other = await login(f.app, 'admin', ADMIN_PASSWORD);
    const crossed = await f.app.inject({ method: 'POST', url: '/api/targets', headers: { cookie: admin.cookie, 'x-csrf-token': other.csrf }, payload });
    assert.equal(crossed.statusCode, 403);
    const crossOrigin = await f.app.inject({ method: 'POST', url: '/api/targets', headers: { ...as(admin), origin: 'https://evil.example', host: 'openlun.local' }, payload });
    assert.equal(crossOrigin.statusCode, 403);
    assert.equal((await f.app.inject({ method: 'GET', url: '/api/targets', headers: as(admin) })).json().length, 0, 'nothing was created');
    const sameOrigin = await f.app.inject({ method: 'POST', url: '/api/targets', headers: { ...as(admin), origin: 'https://openlun.local', host: 'openlun.local' }, payload });
    assert.equal(sameOrigin.statusCode, 201);
    // reads need no token
    assert.equal((await f.app.inject({ method: 'GET', url: '/api/targets', headers: { cookie: admin.cookie } })).statusCode, 200);
  });
});

describe('login rate limiting and lockout', () => {
  test('an account locks after repeated failures, even for the right password, until the lock expires', async () => {
    let now = 1_800_000_000_000;
    f = await newApp({ now: () => now });
    await setupAdmin(f.app);
    const attempt = (password: string, ip = '192.0.2.1') => f.app.inject({ method: 'POST', url: '/api/login', remoteAddress: ip, payload: { username: 'admin', password } });
    for (let i = 0; i < AUTH_POLICY.lockAfterFailures; i++) assert.equal((await attempt(`wrong-${i}-password`, `192.0.2.${10 + i}`)).statusCode, 401);
    const locked = await attempt(ADMIN_PASSWORD);
    assert.equal(locked.statusCode, 429);
    assert.equal(locked.json().error, 'locked');
    assert.ok(Number(locked.headers['retry-after']) > 0);
    now += AUTH_POLICY.lockMs + 1;
    assert.equal((await attempt(ADMIN_PASSWORD)).statusCode, 200);
  });

  test('one address is rate limited across usernames', async () => {
    let now = 1_800_000_000_000;
    f = await newApp({ now: () => now });
    await setupAdmin(f.app);
    const attempt = (username: string, ip: string) => f.app.inject({ method: 'POST', url: '/api/login', remoteAddress: ip, payload: { username, password: 'not-the-password' } });
    for (let i = 0; i < AUTH_POLICY.loginMaxAttemptsPerIp; i++) assert.equal((await attempt(`user${i}`, '198.51.100.9')).statusCode, 401);
    const limited = await attempt('someone', '198.51.100.9');
    assert.equal(limited.statusCode, 429);
    assert.equal(limited.json().error, 'rate-limited');
    // another address is unaffected; the window slides
    assert.equal((await attempt('someone', '198.51.100.10')).statusCode, 401);
    now += AUTH_POLICY.loginWindowMs + 1;
    assert.equal((await attempt('someone', '198.51.100.9')).statusCode, 401);
    const audit = (await f.app.inject({ method: 'GET', url: '/api/audit?limit=50', headers: as(await login(f.app, 'admin', ADMIN_PASSWORD)) })).json() as Array<{ action: string; ip: string }>;
    assert.ok(audit.some((a) => a.action === 'login.rate-limited' && a.ip === '198.51.100.9'));
  });
});

describe('API tokens', () => {
  test('Bearer tokens work without CSRF, carry their user role, are shown once and stored hashed', async () => {
    f = await newApp();
    const admin = await setupAdmin(f.app);
    const created = await f.app.inject({ method: 'POST', url: '/api/tokens', headers: as(admin), payload: { name: 'ci' } });
    assert.equal(created.statusCode, 201);
    const { secret, token } = created.json() as { secret: string; token: { id: number } };
    assert.match(secret, /^olt_/);
    const bearer = { authorization: `Bearer ${secret}` };
    assert.equal((await f.app.inject({ method: 'POST', url: '/api/targets', headers: bearer, payload: { iqn: 'iqn.2026-11.org.example:ci' } })).statusCode, 201);
    const list = await f.app.inject({ method: 'GET', url: '/api/tokens', headers: bearer });
    assert.ok(!list.body.includes(secret), 'token text is never listed');
    const raw = f.app.openlun.store.db.prepare('SELECT secret_hash FROM api_tokens').all();
    assert.ok(!JSON.stringify(raw).includes(secret));
    // a token for a read-only user can read but not change
    const reader = await createReader(f.app, admin);
    void reader;
    const readerId = (await f.app.inject({ method: 'GET', url: '/api/users', headers: bearer })).json().find((u: { username: string }) => u.username === 'reader').id;
    const ro = (await f.app.inject({ method: 'POST', url: '/api/tokens', headers: bearer, payload: { name: 'monitoring', userId: readerId } })).json().secret as string;
    assert.equal((await f.app.inject({ method: 'GET', url: '/api/targets', headers: { authorization: `Bearer ${ro}` } })).statusCode, 200);
    assert.equal((await f.app.inject({ method: 'DELETE', url: '/api/targets/1', headers: { authorization: `Bearer ${ro}` } })).statusCode, 403);
    assert.equal((await f.app.inject({ method: 'DELETE', url: `/api/tokens/${token.id}`, headers: as(admin) })).statusCode, 204);
    assert.equal((await f.app.inject({ method: 'GET', url: '/api/targets', headers: bearer })).statusCode, 401);
    assert.equal((await f.app.inject({ method: 'GET', url: '/api/targets', headers: { authorization: 'Basic abc' } })).statusCode, 401);
  });
});

describe('secrets never in responses or logs', () => {
  test('passwords, CHAP secrets, session ids and tokens stay out of the log and of every response', async () => {
    let log = '';
    const stream = new Writable({
      write(chunk, _enc, cb) {
        log += chunk.toString();
        cb();
      },
    });
    f = await newApp({ logger: { level: 'trace', stream } });
    const admin = await setupAdmin(f.app);
    const t = (await f.app.inject({ method: 'POST', url: '/api/targets', headers: as(admin), payload: { iqn: 'iqn.2026-11.org.example:s' } })).json();
    const chapSecret = 'Chap-Secret-4711';
    const mutualSecret = 'Mutual-Secret-0815';
    const bodies: string[] = [];
    const chap = await f.app.inject({ method: 'PUT', url: `/api/chap/targets/${t.id}`, headers: as(admin), payload: { username: 'esx', secret: chapSecret, mutualUsername: 'tgt', mutualSecret } });
    assert.equal(chap.statusCode, 200, chap.body);
    bodies.push(chap.body);
    // a refused request must not echo the secret in its error either
    const bad = await f.app.inject({ method: 'PUT', url: `/api/chap/targets/${t.id}`, headers: as(admin), payload: { username: 'esx', secret: 'has space in it!', mutualSecret: chapSecret } });
    assert.equal(bad.statusCode, 400);
    bodies.push(bad.body);
    const token = (await f.app.inject({ method: 'POST', url: '/api/tokens', headers: as(admin), payload: { name: 'x' } })).json().secret as string;
    for (const url of ['/api/chap', '/api/config', '/api/audit?limit=1000', '/api/targets', '/api/users']) {
      bodies.push((await f.app.inject({ method: 'GET', url, headers: as(admin) })).body);
    }
    await f.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'admin', password: 'wrong-password-999' } });
    const sessionId = admin.cookie.split(';')[0]!.split('=')[1]!;
    for (const secret of [ADMIN_PASSWORD, chapSecret, mutualSecret, 'wrong-password-999', sessionId, admin.csrf]) {
      assert.ok(!log.includes(secret), `log contains ${secret}`);
    }
    for (const secret of [chapSecret, mutualSecret, token, ADMIN_PASSWORD]) {
      for (const b of bodies) assert.ok(!b.includes(secret), `a response contains ${secret}: ${b.slice(0, 200)}`);
    }
    assert.ok(log.includes('/api/chap/targets'), 'requests were logged at all');
  });
});

describe('hardening', () => {
  test('two racing setups create exactly one admin', async () => {
    f = await newApp();
    const [a, b] = await Promise.all([
      f.app.inject({ method: 'POST', url: '/api/setup', payload: { username: 'first', password: 'first-password-1' } }),
      f.app.inject({ method: 'POST', url: '/api/setup', payload: { username: 'second', password: 'second-password-2' } }),
    ]);
    assert.deepEqual([a.statusCode, b.statusCode].sort(), [201, 409]);
    assert.equal(f.app.openlun.store.userCount(), 1);
  });

  test('security headers on every answer, errors included', async () => {
    f = await newApp();
    for (const url of ['/api/health', '/api/targets', '/api/nope']) {
      const res = await f.app.inject({ method: 'GET', url });
      assert.equal(res.headers['x-content-type-options'], 'nosniff', url);
      assert.equal(res.headers['x-frame-options'], 'DENY', url);
      assert.match(String(res.headers['content-security-policy']), /frame-ancestors 'none'/);
      assert.equal(res.headers['cache-control'], 'no-store', url);
    }
  });

  test('the OpenAPI document lists every route with its schemas', async () => {
    f = await newApp();
    const admin = await setupAdmin(f.app);
    const doc = (await f.app.inject({ method: 'GET', url: '/api/docs', headers: as(admin) })).json() as {
      openapi: string;
      paths: Record<string, Record<string, { responses?: object; requestBody?: { content: Record<string, { schema: { properties: object } }> } }>>;
    };
    assert.match(doc.openapi, /^3\./);
    const luns = doc.paths['/api/luns']!;
    assert.ok(luns.post?.requestBody?.content['application/json']?.schema.properties, 'POST /api/luns documents its body');
    for (const [path, ops] of Object.entries(doc.paths)) for (const [m, op] of Object.entries(ops)) assert.ok(op.responses, `${m} ${path} has responses`);
  });
});

describe('user management', () => {
  test('bad user input names every field at once; the last admin cannot be deleted; a password change ends sessions', async () => {
    f = await newApp();
    const admin = await setupAdmin(f.app);
    const bad = await f.app.inject({ method: 'POST', url: '/api/users', headers: as(admin), payload: { username: 'Bad Name;', password: 'short', role: 'root' } });
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(bad.json().fields.map((x: { field: string }) => x.field).sort(), ['body/password', 'body/role', 'body/username']);
    const me = (await f.app.inject({ method: 'GET', url: '/api/me', headers: as(admin) })).json().user;
    assert.equal((await f.app.inject({ method: 'DELETE', url: `/api/users/${me.id}`, headers: as(admin) })).statusCode, 409);
    const other = await login(f.app, 'admin', ADMIN_PASSWORD);
    assert.equal((await f.app.inject({ method: 'PUT', url: `/api/users/${me.id}/password`, headers: as(admin), payload: { password: 'a-new-password-2' } })).statusCode, 204);
    assert.equal((await f.app.inject({ method: 'GET', url: '/api/targets', headers: as(other) })).statusCode, 401);
    await login(f.app, 'admin', 'a-new-password-2');
  });
});
