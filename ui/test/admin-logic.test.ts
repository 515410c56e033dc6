// The administration pages' data layer and logic without a browser: the audit query (filters, local-day bounds,
// one-extra-row paging), the typed calls (method, path, body, CSRF header), the new-user checks, and the words for
// the shell's close codes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiClient, type FetchLike } from '../src/api.ts';
import { AdminApi, auditQuery, dayBound } from '../src/api-admin.ts';
import { detailText, newUserProblems, shellCloseMessage, utcOffset } from '../src/admin-logic.ts';

function fake(bodies: unknown[]): { api: AdminApi; calls: Array<{ url: string; method: string; body: unknown; csrf: string | null }> } {
  const calls: Array<{ url: string; method: string; body: unknown; csrf: string | null }> = [];
  const fetch: FetchLike = async (url, init) => {
    const headers = new Headers(init?.headers);
    calls.push({ url, method: init?.method ?? 'GET', body: init?.body ? JSON.parse(String(init.body)) : undefined, csrf: headers.get('x-csrf-token') });
    const b = bodies.shift();
    return b === undefined ? new Response(null, { status: 204 }) : new Response(JSON.stringify(b), { status: 200, headers: { 'content-type': 'application/json' } });
  };
  return { api: new AdminApi(new ApiClient({ fetch, cookies: () => 'openlun_csrf=tok%2B1' })), calls };
}

test('auditQuery: blank fields left out, text trimmed, one extra row asked for, local days as epoch bounds', () => {
  const q = new URLSearchParams(auditQuery({ user: ' admin ', action: '', q: '100%', fromDate: '2026-11-01', toDate: '2026-11-02' }, 2, 50));
  assert.equal(q.get('limit'), '51');
  assert.equal(q.get('offset'), '100');
  assert.equal(q.get('user'), 'admin');
  assert.equal(q.has('action'), false);
  assert.equal(q.get('q'), '100%');
  assert.equal(Number(q.get('from')), new Date(2026, 10, 1).getTime());
  // "to" is the whole day: the start of the next one, exclusive
  assert.equal(Number(q.get('to')), new Date(2026, 10, 3).getTime());
  assert.equal(dayBound('yesterday', false), undefined);
  assert.equal(new URLSearchParams(auditQuery({ fromDate: 'garbage' }, 0, 10)).has('from'), false);
});

test('audit pages: the extra row says another page follows and is not shown', async () => {
  const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ id: i + 1, at: 0, actor: 'a', action: 'x', object: 'o', ip: '::1', detail: {} }));
  const { api, calls } = fake([rows(3), rows(2)]);
  const first = await api.audit({ action: 'shell' }, 0, 2);
  assert.equal(first.entries.length, 2);
  assert.equal(first.more, true);
  const last = await api.audit({ action: 'shell' }, 1, 2);
  assert.equal(last.more, false);
  assert.match(calls[1]!.url, /^\/api\/audit\?limit=3&offset=2&action=shell$/);
});

test('typed calls: methods, paths, bodies, and the CSRF header on every change', async () => {
  const { api, calls } = fake([{ token: { id: 1, name: 'p', userId: 2, createdAt: 0, lastUsed: null }, secret: 'olt_x' }, undefined, undefined, { id: 1 }, { id: 3, state: 'preparing' }]);
  assert.equal((await api.createToken('p', 2)).secret, 'olt_x');
  await api.deleteUser(7);
  await api.setPassword(7, 'long-enough-pw');
  await api.replaceTls('CERT', 'KEY');
  await api.startSelftest(['Inquiry']);
  assert.deepEqual(
    calls.map((c) => [c.method, c.url, c.body, c.csrf]),
    [
      ['POST', '/api/tokens', { name: 'p', userId: 2 }, 'tok+1'],
      ['DELETE', '/api/users/7', undefined, 'tok+1'],
      ['PUT', '/api/users/7/password', { password: 'long-enough-pw' }, 'tok+1'],
      ['PUT', '/api/settings/tls', { certificate: 'CERT', key: 'KEY' }, 'tok+1'],
      ['POST', '/api/selftest', { families: ['Inquiry'] }, 'tok+1'],
    ],
  );
});

test('new user: the API rules before the round trip, every problem at once', () => {
  assert.deepEqual(newUserProblems({ username: 'viewer', password: 'long-enough', role: 'read-only' }), {});
  const e = newUserProblems({ username: 'Viewer!', password: 'short', role: 'root' });
  assert.deepEqual(Object.keys(e).sort(), ['password', 'role', 'username']);
  assert.match(e['username']!, /lower-case/);
  assert.equal(newUserProblems({ username: '  ', password: 'long-enough', role: 'admin' })['username'], 'is required');
  assert.equal(newUserProblems({ username: '_svc', password: 'long-enough', role: 'admin' })['username'], undefined);
});

test('audit detail, UTC offsets and shell close messages in words', () => {
  assert.equal(detailText({ pid: 42, reason: 'shell exited with status 0', counts: { passed: 3 } }), 'pid=42 reason=shell exited with status 0 counts={"passed":3}');
  assert.equal(utcOffset(0), '+00:00');
  assert.equal(utcOffset(330), '+05:30');
  assert.equal(utcOffset(-210), '-03:30');
  assert.match(shellCloseMessage(4408, 'idle for 900 s'), /closed: idle for 900 s/);
  assert.match(shellCloseMessage(4403, ''), /security token/);
  assert.match(shellCloseMessage(1000, 'shell exited with status 0'), /ended \(shell exited with status 0\)/);
  assert.match(shellCloseMessage(1006, ''), /could not be opened/);
});
