import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiClient, ApiError, formField, type FetchLike } from '../src/api.ts';

interface Call {
  url: string;
  init: RequestInit | undefined;
}

function fakeFetch(responses: Array<{ status: number; body?: unknown }>): { fetch: FetchLike; calls: Call[] } {
  const calls: Call[] = [];
  const fetch: FetchLike = async (url, init) => {
    calls.push({ url, init });
    const r = responses.shift();
    if (!r) throw new Error('no more responses');
    return new Response(r.body === undefined ? null : JSON.stringify(r.body), { status: r.status, headers: { 'content-type': 'application/json' } });
  };
  return { fetch, calls };
}

test('formField strips the schema location and array index', () => {
  assert.equal(formField('body/iqn'), 'iqn');
  assert.equal(formField('body/initiators/1'), 'initiators');
  assert.equal(formField('querystring/force'), 'force');
  assert.equal(formField('baseIqn'), 'baseIqn');
});

test('errors keep per-field messages, without the repeated field prefix, merged per form field', async () => {
  const { fetch } = fakeFetch([
    {
      status: 400,
      body: {
        error: 'validation',
        message: 'body/name must be one name; body/initiators/0 bad; body/initiators/2 worse',
        fields: [
          { field: 'body/name', message: 'body/name must be one name' },
          { field: 'body/initiators/0', message: 'body/initiators/0 bad' },
          { field: 'body/initiators/2', message: 'body/initiators/2 worse' },
        ],
      },
    },
  ]);
  const api = new ApiClient({ fetch, cookies: () => '' });
  const err = await api.createLun({ name: 'x y', backing: 'file', sizeBytes: 1, blockSize: 512 }).catch((e: unknown) => e);
  assert.ok(err instanceof ApiError);
  assert.equal(err.status, 400);
  assert.equal(err.code, 'validation');
  assert.deepEqual(err.byField(), { name: 'must be one name', initiators: 'bad; worse' });
});

test('state-changing calls send the CSRF token from login, GETs do not; credentials stay same-origin', async () => {
  const { fetch, calls } = fakeFetch([
    { status: 200, body: { user: { id: 1, username: 'admin', role: 'admin', createdAt: 0 }, csrfToken: 'tok-1' } },
    { status: 200, body: [] },
    { status: 201, body: { id: 1, iqn: 'iqn.2026-11.org.x:a', alias: null } },
  ]);
  const api = new ApiClient({ fetch, cookies: () => '' });
  await api.login('admin', 'pw');
  await api.targets();
  await api.createTarget('iqn.2026-11.org.x:a', null);
  const h = (i: number) => calls[i]!.init!.headers as Record<string, string>;
  assert.equal(h(1)['x-csrf-token'], undefined);
  assert.equal(h(2)['x-csrf-token'], 'tok-1');
  assert.equal(calls[2]!.init!.credentials, 'same-origin');
  assert.deepEqual(JSON.parse(calls[2]!.init!.body as string), { iqn: 'iqn.2026-11.org.x:a' });
});

test('after a reload the CSRF token comes from the readable cookie', async () => {
  const { fetch, calls } = fakeFetch([{ status: 204 }]);
  const api = new ApiClient({ fetch, cookies: () => 'theme=x; openlun_csrf=abc%3D%3D; other=1' });
  await api.deleteLun(3, true);
  assert.equal((calls[0]!.init!.headers as Record<string, string>)['x-csrf-token'], 'abc==');
  assert.equal(calls[0]!.url, '/api/luns/3?deleteData=true');
});

test('a 401 on a data call announces the session ended; a failed login does not', async () => {
  const { fetch } = fakeFetch([
    { status: 401, body: { error: 'unauthenticated', message: 'wrong username or password' } },
    { status: 401, body: { error: 'unauthenticated', message: 'sign in or present an API token' } },
  ]);
  const api = new ApiClient({ fetch, cookies: () => '' });
  let ended = 0;
  api.addEventListener('unauthenticated', () => ended++);
  await assert.rejects(api.login('admin', 'nope'), (e: unknown) => e instanceof ApiError && e.message === 'wrong username or password');
  assert.equal(ended, 0);
  await assert.rejects(api.luns(), (e: unknown) => e instanceof ApiError && e.status === 401);
  assert.equal(ended, 1);
});

test('a network failure becomes an ApiError with status 0', async () => {
  const api = new ApiClient({ fetch: async () => { throw new TypeError('fetch failed'); }, cookies: () => '' });
  await assert.rejects(api.luns(), (e: unknown) => e instanceof ApiError && e.status === 0 && /cannot reach/.test(e.message));
});
