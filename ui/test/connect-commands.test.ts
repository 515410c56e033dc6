import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectCommands, portalString, reachablePortals, xenScsiId, SECRET_PLACEHOLDER } from '../src/connect-commands.ts';

const IQN = 'iqn.2026-11.org.openlun:esx';

test('portal strings bracket IPv6 addresses', () => {
  assert.equal(portalString({ address: '192.0.2.5', port: 3260 }), '192.0.2.5:3260');
  assert.equal(portalString({ address: '2001:db8::5', port: 3261 }), '[2001:db8::5]:3261');
});

test('wildcard or missing portals become the address the admin reached', () => {
  assert.deepEqual(reachablePortals([], 'nas.example', 3260), [{ address: 'nas.example', port: 3260 }]);
  assert.deepEqual(reachablePortals([{ address: '0.0.0.0', port: 3260 }, { address: '192.0.2.9', port: 3260 }], '192.0.2.9', 3260), [{ address: '192.0.2.9', port: 3260 }]);
  assert.deepEqual(reachablePortals([{ address: '::', port: 3260 }], '[2001:db8::1]', 3260), [{ address: '2001:db8::1', port: 3260 }]);
});

test('no CHAP: every OS gets the IQN and portal, no auth lines', () => {
  const blocks = connectCommands({ iqn: IQN, portals: [{ address: '192.0.2.5', port: 3260 }] });
  assert.deepEqual(blocks.map((b) => b.os), ['esxi', 'windows', 'linux', 'xenserver']);
  const all = blocks.flatMap((b) => b.lines).join('\n');
  assert.ok(!/chap|auth/i.test(all.replace(/iscsiadm -m discovery/, '')), all);
  const linux = blocks[2]!.lines;
  assert.equal(linux[0], 'iscsiadm -m discovery -t sendtargets -p 192.0.2.5:3260');
  assert.ok(linux.includes(`iscsiadm -m node -T ${IQN} -p 192.0.2.5:3260 --login`));
  assert.ok(blocks[0]!.lines.includes(`esxcli iscsi adapter discovery statictarget add --adapter=$ADAPTER --address=192.0.2.5:3260 --name=${IQN}`));
  assert.ok(blocks[1]!.lines.some((l) => l === `Connect-IscsiTarget -NodeAddress ${IQN} -TargetPortalAddress 192.0.2.5 -TargetPortalPortNumber 3260 -IsPersistent $true`));
});

test('mutual CHAP fills user names everywhere and never a secret; multipath with two portals', () => {
  const blocks = connectCommands({
    iqn: IQN,
    portals: [{ address: '192.0.2.5', port: 3260 }, { address: '198.51.100.5', port: 3260 }],
    chap: { username: "in'it", mutualUsername: 'tgt' },
    naaIds: ['6001405aabbccddeeff00112233445566'],
  });
  const [esxi, windows, linux, xen] = blocks;
  assert.ok(esxi!.lines.some((l) => l.includes('--direction=mutual') && l.includes("--authname='tgt'")));
  assert.ok(windows!.lines.some((l) => l.includes('-AuthenticationType MUTUALCHAP') && l.includes("-ChapUsername 'in''it'") && l.includes('-IsMultipathEnabled $true')));
  assert.ok(windows!.lines.some((l) => l.startsWith('Set-IscsiChapSecret')));
  assert.ok(linux!.lines.includes(`iscsiadm -m node -T ${IQN} -p 198.51.100.5:3260 --op update -n node.session.auth.username -v 'in'\\''it'`));
  assert.ok(linux!.lines.some((l) => l.includes('node.session.auth.username_in') && l.includes("'tgt'")));
  const xe = xen!.lines.find((l) => l.startsWith('xe sr-create'))!;
  assert.match(xe, /device-config:target=192\.0\.2\.5,198\.51\.100\.5 /);
  assert.match(xe, /device-config:SCSIid=36001405aabbccddeeff00112233445566$/);
  const all = blocks.flatMap((b) => b.lines).join('\n');
  assert.ok(all.includes(SECRET_PLACEHOLDER));
});

test('XenServer SCSIid is "3" + the NAA hex', () => {
  assert.equal(xenScsiId('naa.6001405ABCDEF0123'), '36001405abcdef0123');
});
