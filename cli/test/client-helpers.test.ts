// The command line's pure helpers: sizes, fingerprints, portals, default group names, URLs, tables, and the
// stored login's file rules (mode 0600, refused when others may read it).
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CliError, UsageError, parseCommand } from '../client/args.ts';
import { defaultGroupName } from '../client/commands/acls.ts';
import { parsePortalArg } from '../client/commands/targets.ts';
import { loadLogin, saveLogin } from '../client/credentials.ts';
import type { StoredLogin } from '../client/credentials.ts';
import { formatBytes, parseSize, table } from '../client/output.ts';
import { normalizeFingerprint, parseApplianceUrl } from '../client/transport.ts';

test('sizes: K/M/G/T are powers of 1024; fractions that land on whole bytes; nonsense refused', () => {
  assert.equal(parseSize('10G'), 10 * 2 ** 30);
  assert.equal(parseSize('10GiB'), 10 * 2 ** 30);
  assert.equal(parseSize('512m'), 512 * 2 ** 20);
  assert.equal(parseSize('1.5T'), 1.5 * 2 ** 40);
  assert.equal(parseSize('4096'), 4096);
  for (const bad of ['', '10Q', '-1G', '0', '1.3', 'G', '1e9', '99999999P']) assert.equal(parseSize(bad), undefined, bad);
  assert.equal(formatBytes(16 * 2 ** 20), '16 MiB');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(100), '100 B');
});

test('fingerprints: openssl, node and bare hex forms are one pin; anything else is not a SHA-256', () => {
  const hex = 'ab'.repeat(32);
  const node = 'AB:'.repeat(31) + 'AB';
  assert.equal(normalizeFingerprint(hex), node);
  assert.equal(normalizeFingerprint(`SHA256:${hex}`), node);
  assert.equal(normalizeFingerprint(`sha256 Fingerprint=${node}`), node, 'as openssl x509 -fingerprint -sha256 prints it');
  assert.equal(normalizeFingerprint(node.toLowerCase()), node);
  assert.equal(normalizeFingerprint('ab'.repeat(20)), undefined, 'a SHA-1 is not accepted');
  assert.equal(normalizeFingerprint('zz'.repeat(32)), undefined);
});

test('portals: IPv4 with and without port, bracketed IPv6, bare IPv6; the default port is 3260 (RFC 7143 §13.8)', () => {
  assert.deepEqual(parsePortalArg('192.0.2.1', 'u'), { address: '192.0.2.1', port: 3260 });
  assert.deepEqual(parsePortalArg('192.0.2.1:3261', 'u'), { address: '192.0.2.1', port: 3261 });
  assert.deepEqual(parsePortalArg('[2001:db8::1]:3262', 'u'), { address: '2001:db8::1', port: 3262 });
  assert.deepEqual(parsePortalArg('[::1]', 'u'), { address: '::1', port: 3260 });
  assert.deepEqual(parsePortalArg('fe80::1', 'u'), { address: 'fe80::1', port: 3260 });
  assert.throws(() => parsePortalArg('192.0.2.1:70000', 'u'), UsageError);
  assert.throws(() => parsePortalArg('[::1', 'u'), UsageError);
});

test('default ACL group names are labels (at most 64 characters) from the target name', () => {
  assert.equal(defaultGroupName('iqn.2026-11.org.example:store'), 'store-hosts');
  assert.equal(defaultGroupName('eui.0123456789abcdef'), 'eui.0123456789abcdef-hosts');
  const long = defaultGroupName(`iqn.2026-11.org.example:${'x'.repeat(200)}`);
  assert.ok(long.length <= 64 && /^[A-Za-z0-9][A-Za-z0-9 _.:@-]*$/.test(long), long);
  assert.match(defaultGroupName('iqn.2026-11.org.example:-weird/name'), /^weird-name-hosts$/);
});

test('appliance URLs: https anywhere, http only to loopback, nothing but the origin', () => {
  assert.equal(parseApplianceUrl('https://192.0.2.1:8443/').origin, 'https://192.0.2.1:8443');
  assert.equal(parseApplianceUrl('http://127.0.0.1:8080').origin, 'http://127.0.0.1:8080');
  assert.equal(parseApplianceUrl('http://[::1]:8080').origin, 'http://[::1]:8080');
  assert.throws(() => parseApplianceUrl('http://192.0.2.1:8080'), /loopback address only/);
  assert.throws(() => parseApplianceUrl('https://admin:pw@192.0.2.1'), /no credentials/);
  assert.throws(() => parseApplianceUrl('https://192.0.2.1/api'), /address only/);
  assert.throws(() => parseApplianceUrl('ftp://192.0.2.1'), CliError);
  assert.throws(() => parseApplianceUrl('not a url'), /not a URL/);
});

test('argument parsing: strict options, positional counts, --help', () => {
  const p = parseCommand('usage', ['disk0', '--size', '1G', '--json'], { size: { type: 'string' } }, [1, 1]);
  assert.deepEqual([p.positionals, p.values.size, p.values.json], [['disk0'], '1G', true]);
  assert.throws(() => parseCommand('usage', ['--bogus'], {}), UsageError);
  assert.throws(() => parseCommand('usage', [], {}, [1, 1]), /missing argument/);
  assert.throws(() => parseCommand('usage', ['a', 'b'], {}, [1, 1]), /unexpected argument "b"/);
  assert.throws(() => parseCommand('usage', ['--help'], {}), { name: 'Error', message: 'help' });
});

test('tables pad every column but the last', () => {
  assert.equal(table(['A', 'LONGER'], [['xyz', '1'], ['q', '22']]), 'A    LONGER\nxyz  1\nq    22\n');
  assert.equal(table(['A'], []), '');
});

test('the stored login: written 0600 in a 0700 directory, refused when others may read it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'openlun-cli-cred-'));
  try {
    const path = join(dir, 'openlun', 'cli.json');
    const login: StoredLogin = { url: 'https://192.0.2.1:8443', username: 'admin', token: 't'.repeat(40), tokenId: 3, trust: { kind: 'pin', fingerprint256: 'AB:'.repeat(31) + 'AB' }, savedAt: 'now' };
    saveLogin(login, path);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'openlun')).mode & 0o777, 0o700);
    assert.deepEqual(loadLogin(path), login);
    chmodSync(path, 0o640);
    assert.throws(() => loadLogin(path), /others may read it/);
    assert.equal(loadLogin(join(dir, 'absent.json')), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
