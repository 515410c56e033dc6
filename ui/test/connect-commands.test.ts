import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectCommands, libiscsiUrl, portalString, qemuImageOpts, reachablePortals, xenScsiId, SECRET_PLACEHOLDER } from '../src/connect-commands.ts';

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
  assert.deepEqual(blocks.map((b) => b.os), ['esxi', 'windows', 'linux', 'libiscsi', 'xenserver']);
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
  const [esxi, windows, linux, , xen] = blocks;
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

const byOs = (blocks: ReturnType<typeof connectCommands>, os: string) => blocks.find((b) => b.os === os)!;

test('libiscsi URLs: user%secret@host:port/IQN/LUN, IPv6 in brackets, no auth without CHAP', () => {
  assert.equal(libiscsiUrl({ address: '192.0.2.5', port: 3260 }), 'iscsi://192.0.2.5:3260');
  assert.equal(libiscsiUrl({ address: '192.0.2.5', port: 3261 }, 'esxuser', IQN, 2), `iscsi://esxuser%${SECRET_PLACEHOLDER}@192.0.2.5:3261/${IQN}/2`);
  assert.equal(libiscsiUrl({ address: '2001:db8::5', port: 3260 }, undefined, IQN), `iscsi://[2001:db8::5]:3260/${IQN}/0`);
});

test('libiscsi / QEMU block: discovery without the target\'s CHAP, inquiry per portal, capacity; the ACL\'s initiator name; the secret only as a placeholder and in a file for QEMU', () => {
  const init = 'iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-inq';
  const c = {
    iqn: IQN,
    portals: [{ address: '192.0.2.5', port: 3260 }, { address: '198.51.100.5', port: 3261 }],
    chap: { username: 'linuxuser' },
    initiators: [init, 'iqn.other:host'],
    naaIds: ['6001405aa', '6001405bb'],
  };
  const b = byOs(connectCommands(c), 'libiscsi');
  assert.equal(b.title, 'Linux (libiscsi / QEMU)');
  // discovery uses the appliance's discovery credentials, never this target's CHAP
  assert.ok(b.lines.includes(`iscsi-ls -i ${init} 'iscsi://192.0.2.5:3260'`), b.lines.join('\n'));
  assert.ok(b.lines.includes(`iscsi-inq -i ${init} 'iscsi://linuxuser%${SECRET_PLACEHOLDER}@192.0.2.5:3260/${IQN}/0'`));
  assert.ok(b.lines.includes(`iscsi-inq -i ${init} 'iscsi://linuxuser%${SECRET_PLACEHOLDER}@198.51.100.5:3261/${IQN}/0'`));
  assert.ok(b.lines.includes(`iscsi-readcapacity16 -i ${init} -s 'iscsi://linuxuser%${SECRET_PLACEHOLDER}@192.0.2.5:3260/${IQN}/0'`));
  // QEMU: one qemu-img per mapped LUN; the secret by reference only, the file written by a shell builtin
  const qemu = b.lines.filter((l) => l.startsWith('qemu-img info'));
  assert.deepEqual(qemu, [0, 1].map((lun) => `qemu-img info --object secret,id=chap0,file=chap.secret --image-opts 'driver=iscsi,transport=tcp,portal=192.0.2.5:3260,target=${IQN},lun=${lun},initiator-name=${init},user=linuxuser,password-secret=chap0'`));
  assert.ok(qemu.every((l) => !l.includes(SECRET_PLACEHOLDER)), 'the secret never in qemu-img argv');
  assert.ok(b.lines.includes(`install -m 600 /dev/null chap.secret && printf '%s' '${SECRET_PLACEHOLDER}' > chap.secret`));
  const notes = b.notes.join(' ');
  assert.match(notes, /LIBISCSI_CHAP_PASSWORD/);
  assert.match(notes, /192\.0\.2\.5:3260, 198\.51\.100\.5:3261/, 'the multipath note names every portal');
});

test('libiscsi block without CHAP or ACL: no secret, no -i, and a note saying which name libiscsi presents', () => {
  const b = byOs(connectCommands({ iqn: IQN, portals: [{ address: '2001:db8::7', port: 3260 }] }), 'libiscsi');
  assert.ok(b.lines.includes(`iscsi-inq 'iscsi://[2001:db8::7]:3260/${IQN}/0'`), b.lines.join('\n'));
  assert.ok(!b.lines.join('\n').includes('secret'));
  assert.deepEqual(b.lines.filter((l) => l.startsWith('qemu-img')), [`qemu-img info --image-opts 'driver=iscsi,transport=tcp,portal=[2001:db8::7]:3260,target=${IQN},lun=0'`]);
  assert.match(b.notes.join(' '), /sahlberg:libiscsi/);
  assert.equal(qemuImageOpts({ address: 'h', port: 1 }, { iqn: IQN, portals: [] }, 3), `driver=iscsi,transport=tcp,portal=h:1,target=${IQN},lun=3`);
});
