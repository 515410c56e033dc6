import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes, nameSegments, parseSize, targetIqn } from '../src/format.ts';
import { chapFormBody, lunFormBody, nextFreeLun, parseInitiators, passwordProblems } from '../src/forms.ts';
import { parseRoute, routeHref } from '../src/router.ts';

test('setup password: minimum length and matching repeat', () => {
  assert.deepEqual(passwordProblems('short', 'short'), { password: 'must be at least 10 characters' });
  assert.deepEqual(passwordProblems('long-enough-1', 'long-enough-2'), { confirm: 'does not match the password' });
  assert.deepEqual(passwordProblems('long-enough-1', 'long-enough-1'), {});
});

test('LUN form: preset decides the block size; size in binary units; bad names and sizes named per field', () => {
  assert.deepEqual(lunFormBody({ name: 'vmfs01', size: '10', unit: 'GiB', preset: 'esxi' }).body, {
    name: 'vmfs01', backing: 'file', sizeBytes: 10 * 2 ** 30, blockSize: 512, writeCache: 'write-back',
  });
  assert.equal(lunFormBody({ name: 'data', size: '1.5', unit: 'TiB', preset: 'linux' }).body?.blockSize, 4096);
  assert.equal(lunFormBody({ name: 'data', size: '1.5', unit: 'TiB', preset: 'linux' }).body?.sizeBytes, 1.5 * 2 ** 40);
  const bad = lunFormBody({ name: '../etc', size: '-1', unit: 'GiB', preset: 'esxi' });
  assert.equal(bad.body, undefined);
  assert.deepEqual(Object.keys(bad.errors).sort(), ['name', 'sizeBytes']);
  assert.equal(lunFormBody({ name: 'a', size: '512', unit: 'MiB' }).errors['sizeBytes'], undefined);
  assert.equal(lunFormBody({ name: '', size: '1' }).errors['name'], 'is required');
});

test('CHAP form: RFC 7143 §12.1.3 lengths, mutual secret must differ', () => {
  assert.deepEqual(chapFormBody('none', {}), { errors: {} });
  assert.deepEqual(chapFormBody('one-way', { username: 'u', secret: 'twelve-chars' }).body, { username: 'u', secret: 'twelve-chars' });
  assert.deepEqual(Object.keys(chapFormBody('one-way', { username: '', secret: 'short' }).errors).sort(), ['secret', 'username']);
  const same = chapFormBody('mutual', { username: 'u', secret: 'twelve-chars', mutualUsername: 't', mutualSecret: 'twelve-chars' });
  assert.match(same.errors['mutualSecret'] ?? '', /differ/);
  assert.deepEqual(chapFormBody('mutual', { username: 'u', secret: 'twelve-chars', mutualUsername: 't', mutualSecret: 'other-secret!' }).body, {
    username: 'u', secret: 'twelve-chars', mutualUsername: 't', mutualSecret: 'other-secret!',
  });
});

test('initiator lists, next free LUN, IQN from a short name, sizes', () => {
  assert.deepEqual(parseInitiators(' iqn.a:1\n\niqn.b:2, iqn.a:1 '), ['iqn.a:1', 'iqn.b:2']);
  assert.equal(nextFreeLun([]), 0);
  assert.equal(nextFreeLun([{ id: 1, targetId: 1, lun: 0, lunId: 1 }, { id: 2, targetId: 1, lun: 2, lunId: 2 }]), 1);
  assert.equal(targetIqn('iqn.2026-11.org.openlun', 'ESXi Cluster!'), 'iqn.2026-11.org.openlun:esxi-cluster');
  assert.equal(formatBytes(10 * 2 ** 30), '10 GiB');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.deepEqual(parseSize('abc', 'GiB'), { error: 'must be a positive number' });
});

test('hash routes round-trip; unknown routes fall back to storage', () => {
  for (const h of ['#/dashboard', '#/storage', '#/pools', '#/wizard', '#/sessions', '#/shell', '#/admin/audit', '#/admin/network', '#/targets', '#/targets/7', '#/targets/7/connect']) assert.equal(routeHref(parseRoute(h)), h);
  assert.deepEqual(parseRoute(''), { page: 'dashboard' });
  assert.deepEqual(parseRoute('#/nope'), { page: 'dashboard' });
  assert.deepEqual(parseRoute('#/admin/nope'), { page: 'admin', tab: 'users' });
  assert.deepEqual(parseRoute('#/targets/abc'), { page: 'targets' });
});

test('long names wrap only after ":" and "." (the parts put together give the name back)', () => {
  assert.deepEqual(nameSegments('iqn.2008-11.org.libiscsi:iscsi-inq'), ['iqn.', '2008-11.', 'org.', 'libiscsi:', 'iscsi-inq']);
  assert.deepEqual(nameSegments('10.0.0.0/24'), ['10.', '0.', '0.', '0/24']);
  assert.deepEqual(nameSegments('esx01'), ['esx01']);
  assert.deepEqual(nameSegments(''), ['']);
  for (const n of ['iqn.1998-01.com.vmware:esx01-4c4c4544', 'a::b..c:', 'eui.0123456789ABCDEF']) assert.equal(nameSegments(n).join(''), n);
});
