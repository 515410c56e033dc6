// CIDR networks in initiator groups: the target checks the initiator's TCP peer address at login (RFC 7143 §6.2,
// status 0202h on refusal) and again on every ACL change. Unit tests of the matcher, the target's decision against
// the API's own reading of the same ACL, and TargetRuntime with a raw initiator over IPv4 and IPv6 loopback.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { initiatorAllowed as apiAllowed, type DesiredAclEntry, type DesiredState } from '../src/desired-state.ts';
import { accessRulesOf } from '../../target/src/daemon/acl.ts';
import { TargetRuntime } from '../../target/src/daemon/runtime.ts';
import { NetworkSet, normalizeAddress, parseNetwork } from '../../target/src/iscsi/networks.ts';
import { initiatorAllowed } from '../../target/src/iscsi/target-config.ts';
import { RawInitiator } from '../../target/test/support/raw-initiator.ts';
import { capturingLogger, startTarget as startRawTarget, TARGET_IQN } from '../../target/test/support/target-fixture.ts';
import { TARGET, backstore, stateWith } from '../../target/test/daemon-fixture.ts';
import { freePort } from '../../e2e/helpers/ports.ts';

const NAME = 'iqn.1994-05.com.example:host1';
const OTHER = 'iqn.1994-05.com.example:host2';

describe('address and network parsing', () => {
  test('normalizeAddress: IPv4-mapped IPv6 becomes IPv4, zones and brackets go, junk is refused', () => {
    assert.deepEqual(normalizeAddress('10.1.2.3'), { address: '10.1.2.3', family: 'ipv4' });
    assert.deepEqual(normalizeAddress('::ffff:10.1.2.3'), { address: '10.1.2.3', family: 'ipv4' });
    assert.deepEqual(normalizeAddress('::FFFF:192.0.2.7'), { address: '192.0.2.7', family: 'ipv4' });
    assert.deepEqual(normalizeAddress('fe80::1%eth0'), { address: 'fe80::1', family: 'ipv6' });
    assert.deepEqual(normalizeAddress('[2001:DB8::5]'), { address: '2001:db8::5', family: 'ipv6' });
    for (const bad of ['', 'host.example', '10.1.2', '10.1.2.3/8', '::ffff:999.1.1.1', '1.2.3.4:3260']) assert.equal(normalizeAddress(bad), undefined, bad);
  });

  test('parseNetwork: v4, v6, IPv4 written as mapped IPv6; bad prefixes and hosts refused', () => {
    assert.deepEqual(parseNetwork('10.0.0.0/8'), { address: '10.0.0.0', prefix: 8, family: 'ipv4' });
    assert.deepEqual(parseNetwork('2001:db8::/32'), { address: '2001:db8::', prefix: 32, family: 'ipv6' });
    assert.deepEqual(parseNetwork('::ffff:10.0.0.0/104'), { address: '10.0.0.0', prefix: 8, family: 'ipv4' });
    for (const bad of ['10.0.0.0', '10.0.0.0/33', '2001:db8::/129', 'x/8', '10.0.0.0/8/1', '10.0.0.0/-1', '10.0.0.0/ 8', '/8']) assert.equal(parseNetwork(bad), undefined, bad);
  });

  test('NetworkSet.contains: boundaries, both families, mapped peers, fail closed', () => {
    const s = new NetworkSet(['10.0.0.0/8', '192.0.2.128/25', '2001:db8:1::/48', '::1/128']);
    assert.equal(s.size, 4);
    const cases: Array<[string | undefined, boolean]> = [
      ['10.0.0.0', true],
      ['10.255.255.255', true],
      ['11.0.0.0', false],
      ['9.255.255.255', false],
      ['192.0.2.128', true],
      ['192.0.2.127', false],
      ['::ffff:10.20.30.40', true], // a dual-stack listener reports IPv4 peers so
      ['::ffff:11.0.0.1', false],
      ['2001:db8:1:ffff::9', true],
      ['2001:db8:2::9', false],
      ['::1', true],
      ['::2', false],
      ['fe80::1%lo', false],
      [undefined, false],
      ['not an address', false],
    ];
    for (const [a, want] of cases) assert.equal(s.contains(a), want, String(a));
    // an IPv4 network written as mapped IPv6 matches a plain IPv4 peer
    assert.equal(new NetworkSet(['::ffff:127.0.0.0/104']).contains('127.0.0.1'), true);
    assert.equal(new NetworkSet(['0.0.0.0/0']).contains('203.0.113.9'), true);
    assert.equal(new NetworkSet(['0.0.0.0/0']).contains('2001:db8::1'), false, 'an IPv4 network never admits a native IPv6 peer');
    const junk = new NetworkSet(['10.0.0.0/99', 'garbage']);
    assert.equal(junk.size, 0);
    assert.equal(junk.contains('10.0.0.1'), false);
  });

  test('the target decides exactly as the API reads the same ACL (desired-state.ts initiatorAllowed)', () => {
    const acl: DesiredAclEntry[] = [
      { group: 'esx', initiators: [NAME], networks: [] },
      { group: 'lab', initiators: [], networks: ['10.0.0.0/8', '2001:db8:1::/48'] },
      { group: 'pinned', initiators: [OTHER], networks: ['192.0.2.0/24'] },
    ];
    const target = { name: TARGET, portalGroupTag: 1, portals: [], luns: [], acl };
    const rules = { allowedInitiators: [], access: accessRulesOf(acl) };
    const names = [NAME, NAME.toUpperCase(), OTHER, 'iqn.1994-05.com.example:nobody'];
    const addresses = ['10.1.1.1', '192.0.2.9', '198.51.100.1', '2001:db8:1::7', '2001:db8:9::7', '::ffff:10.9.9.9'];
    for (const n of names) {
      for (const a of addresses) assert.equal(initiatorAllowed(rules, n, a), apiAllowed(target, n.toLowerCase(), a), `${n} from ${a}`);
    }
    assert.equal(initiatorAllowed(rules, OTHER, '192.0.2.9'), true, 'name and network both match');
    assert.equal(initiatorAllowed(rules, OTHER, '198.51.100.1'), false, 'name matches, network does not');
    assert.equal(initiatorAllowed({ allowedInitiators: [], access: [] }, NAME, '10.1.1.1'), false, 'no ACL: nobody');
  });
});

function lo6Available(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ host: '::1', port: 0 }, () => s.close(() => resolve(true)));
  });
}

describe('TargetRuntime: network ACLs at login and on change', { timeout: 60_000 }, () => {
  let dir: string;
  let port: number;
  let rt: TargetRuntime;
  let base: DesiredState;
  let v6 = false;
  const open: RawInitiator[] = [];

  const withAcl = (acl: DesiredAclEntry[]): DesiredState => ({ ...base, targets: base.targets.map((t) => ({ ...t, acl })) });
  const login = async (host: string, initiatorName = NAME) => {
    const ini = await RawInitiator.connect(port, host);
    open.push(ini);
    const r = await ini.login({ initiatorName, targetName: TARGET });
    return { ini, status: `${r.statusClass}/${r.statusDetail}` };
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'openlun-acl-cidr-'));
    port = await freePort();
    v6 = await lo6Available();
    const s = stateWith(port, [await backstore(dir, 'a', 1)]);
    const portals = [{ host: '127.0.0.1', port }, ...(v6 ? [{ host: '::1', port }] : [])];
    base = { ...s, listen: portals, targets: s.targets.map((t) => ({ ...t, portals })) };
    rt = new TargetRuntime({ log: capturingLogger(), nopIntervalMs: 0 });
  });
  after(async () => {
    for (const i of open) i.close();
    await rt?.close(100);
    await rm(dir, { recursive: true, force: true });
  });

  test('127.0.0.1 is admitted by 127.0.0.0/8 and refused (0202h) by 10.0.0.0/8; no "cannot check" warning', async () => {
    const applied = await rt.apply(withAcl([{ group: 'loopback', initiators: [], networks: ['127.0.0.0/8'] }]));
    assert.deepEqual(applied.warnings, []);
    assert.equal((await login('127.0.0.1')).status, '0/0');
    await rt.apply(withAcl([{ group: 'elsewhere', initiators: [], networks: ['10.0.0.0/8'] }]));
    // RFC 7143 §11.13.5: status class 2 (initiator error), detail 2: authorization failure
    assert.equal((await login('127.0.0.1')).status, '2/2');
  });

  test('a name and a network in one group: both must match', async () => {
    await rt.apply(withAcl([{ group: 'pinned', initiators: [NAME], networks: ['127.0.0.1/32'] }]));
    assert.equal((await login('127.0.0.1', NAME)).status, '0/0');
    assert.equal((await login('127.0.0.1', OTHER)).status, '2/2');
    await rt.apply(withAcl([{ group: 'pinned', initiators: [NAME], networks: ['127.0.0.2/32'] }]));
    assert.equal((await login('127.0.0.1', NAME)).status, '2/2');
  });

  test('an ACL change ends only the sessions whose address it no longer admits', async () => {
    await rt.apply(withAcl([
      { group: 'a', initiators: [NAME], networks: ['127.0.0.0/8'] },
      { group: 'b', initiators: [OTHER], networks: ['127.0.0.0/8'] },
    ]));
    const keep = await login('127.0.0.1', NAME);
    const lose = await login('127.0.0.1', OTHER);
    assert.equal(keep.status, '0/0');
    assert.equal(lose.status, '0/0');
    const r = await rt.apply(withAcl([
      { group: 'a', initiators: [NAME], networks: ['127.0.0.0/8'] },
      { group: 'b', initiators: [OTHER], networks: ['10.0.0.0/8'] },
    ]));
    assert.equal(r.sessionsEnded, 1);
    assert.ok(await lose.ini.waitClosed(2000), 'the session from outside its network is gone');
    assert.equal(keep.ini.closed, false, 'the other session stays');
    assert.equal(rt.sessions().filter((s) => s.kind === 'Normal').length, 1);
  });

  test('IPv6: ::1 is admitted by ::1/128 and refused by fd00::/8', async (t) => {
    if (!v6) return t.skip('no IPv6 loopback on this machine');
    await rt.apply(withAcl([{ group: 'v6', initiators: [], networks: ['::1/128'] }]));
    assert.equal((await login('::1')).status, '0/0');
    assert.equal((await login('127.0.0.1')).status, '2/2', 'an IPv4 peer is not in an IPv6 network');
    await rt.apply(withAcl([{ group: 'v6', initiators: [], networks: ['fd00::/8'] }]));
    assert.equal((await login('::1')).status, '2/2');
  });

  test('removing CHAP from a live target leaves no old secret in force', async () => {
    const chap = { user: 'cidr-user', secret: 'cidr-secret-123' };
    await rt.apply({ ...withAcl([{ group: 'any', initiators: [], networks: [] }]), targets: withAcl([{ group: 'any', initiators: [], networks: [] }]).targets.map((t) => ({ ...t, chap })) });
    assert.equal((await login('127.0.0.1')).status, '2/1', 'CHAP required: authentication failure without it');
    await rt.apply(withAcl([{ group: 'any', initiators: [], networks: [] }]));
    assert.equal((await login('127.0.0.1')).status, '0/0');
  });
});

test('IscsiServer.setTargets: a setting the new entry leaves out is gone, not kept from the live entry', async () => {
  const f = await startRawTarget({ chap: { user: 'old-user', secret: 'old-secret-1234' }, allowedInitiators: [OTHER] });
  try {
    const { chap: _dropped, ...rest } = f.server.findTarget(TARGET_IQN)!;
    const r = await f.server.setTargets([{ ...rest, allowedInitiators: [], access: [{ initiators: [], networks: ['127.0.0.0/8'] }] }]);
    assert.deepEqual(r.updated, [TARGET_IQN]);
    const live = f.server.findTarget(TARGET_IQN)!;
    assert.equal('chap' in live, false, 'the old CHAP secret is not in force any more');
    const s = await f.session({ initiatorName: NAME });
    assert.equal(s.closed, false, 'logs in without CHAP, from 127.0.0.1, under the new network rule');
  } finally {
    await f.stop();
  }
});
