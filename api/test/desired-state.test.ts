import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { desiredState, initiatorAllowed, readSnapshot, type StoreSnapshot } from '../src/desired-state.ts';
import { Store } from '../src/store/store.ts';
import type { Lun } from '../src/store/types.ts';

const lun = (id: number, name: string, over: Partial<Lun> = {}): Lun => ({
  id,
  name,
  backing: 'file',
  path: `/pool/${name}.img`,
  sizeBytes: 1 << 20,
  blockSize: 512,
  readOnly: false,
  writeCache: 'write-through',
  serial: `serial${id}`,
  naaId: `300000000000000${id}`,
  createdAt: 0,
  preset: null,
  ...over,
});

function snapshot(): StoreSnapshot {
  return {
    settings: { hostname: 'box', baseIqn: 'iqn.2026-11.org.openlun', iscsiPort: 3261 },
    targets: [
      { id: 2, iqn: 'iqn.2026-11.org.example:b', alias: null },
      { id: 1, iqn: 'iqn.2026-11.org.example:a', alias: 'first' },
    ],
    portals: [
      { id: 1, targetId: 1, address: '192.0.2.1', port: 3260, portalGroupId: 1, portalGroupTag: 1 },
      { id: 2, targetId: 1, address: '2001:db8::1', port: 3260, portalGroupId: 1, portalGroupTag: 1 },
    ],
    luns: [lun(1, 'zeta'), lun(2, 'alpha', { backing: 'lv', path: '/dev/vg0/alpha', writeCache: 'write-back', readOnly: true }), lun(3, 'unmapped')],
    mappings: [
      { id: 1, targetId: 1, lun: 1, lunId: 1 },
      { id: 2, targetId: 1, lun: 0, lunId: 2 },
      { id: 3, targetId: 2, lun: 5, lunId: 1 },
    ],
    groups: [
      { id: 1, name: 'esx', initiators: ['iqn.1998-01.com.vmware:esx1'], networks: [] },
      { id: 2, name: 'lab', initiators: [], networks: ['10.0.0.0/8', '2001:db8::/32'] },
    ],
    acls: [
      { id: 1, targetId: 1, groupId: 2 },
      { id: 2, targetId: 1, groupId: 1 },
    ],
    chap: [
      { targetId: 1, secrets: { username: 'esx', secret: 'Secret-One-111', mutual: { username: 'tgt', secret: 'Secret-Two-222' } } },
      { targetId: null, secrets: { username: 'disc', secret: 'Secret-Disc-33' } },
    ],
  };
}

describe('desiredState', () => {
  test('targets with LUNs in LUN order, ACLs, CHAP and portals; only mapped backstores', () => {
    const d = desiredState(snapshot());
    assert.deepEqual(d.targets.map((t) => t.name), ['iqn.2026-11.org.example:a', 'iqn.2026-11.org.example:b']);
    const a = d.targets[0]!;
    assert.equal(a.alias, 'first');
    assert.deepEqual(a.luns, [{ lun: 0, backstore: 'alpha' }, { lun: 1, backstore: 'zeta' }]);
    assert.deepEqual(a.acl.map((e) => e.group), ['esx', 'lab']);
    assert.deepEqual(a.chap, { user: 'esx', secret: 'Secret-One-111' });
    assert.deepEqual(a.mutualChap, { user: 'tgt', secret: 'Secret-Two-222' });
    assert.deepEqual(a.portalGroups, [{ tag: 1, aluaState: 'active-optimized', portals: [{ host: '192.0.2.1', port: 3260 }, { host: '2001:db8::1', port: 3260 }] }]);
    // a target without portals listens everywhere on the configured port
    assert.deepEqual(d.targets[1]!.portalGroups, [{ tag: 1, aluaState: 'active-optimized', portals: [{ host: '0.0.0.0', port: 3261 }, { host: '::', port: 3261 }] }]);
    assert.equal(d.targets[1]!.chap, undefined);
    assert.deepEqual(d.listen.length, 4);
    assert.deepEqual(d.backstores.map((b) => [b.name, b.kind, b.writeBack, b.readOnly]), [
      ['alpha', 'block', true, true],
      ['zeta', 'file', false, false],
    ]);
    assert.deepEqual(d.discoveryChap, { user: 'disc', secret: 'Secret-Disc-33' });
    assert.equal(d.discoveryMutualChap, undefined);
  });

  test('warnings: no LUN 0, no ACL', () => {
    const d = desiredState(snapshot());
    assert.equal(d.warnings.length, 2);
    assert.ok(d.warnings.some((w) => w.includes('example:b has no LUN 0')));
    assert.ok(d.warnings.some((w) => w.includes('example:b has no ACL')));
  });

  test('deterministic: input order does not matter', () => {
    const s = snapshot();
    const shuffled: StoreSnapshot = { ...s, targets: [...s.targets].reverse(), luns: [...s.luns].reverse(), mappings: [...s.mappings].reverse(), acls: [...s.acls].reverse(), portals: [...s.portals].reverse() };
    assert.deepEqual(desiredState(shuffled), desiredState(s));
  });

  test('ACL decision: names case-insensitive, networks v4/v6, deny by default', () => {
    const d = desiredState(snapshot());
    const a = d.targets[0]!;
    assert.equal(initiatorAllowed(a, 'IQN.1998-01.com.vmware:ESX1', '203.0.113.5'), true, 'esx group: any address');
    assert.equal(initiatorAllowed(a, 'iqn.2000-01.org.other:x', '10.1.2.3'), true, 'lab group: any name from 10/8');
    assert.equal(initiatorAllowed(a, 'iqn.2000-01.org.other:x', '2001:db8:1::9'), true);
    assert.equal(initiatorAllowed(a, 'iqn.2000-01.org.other:x', '192.168.1.1'), false);
    assert.equal(initiatorAllowed(d.targets[1]!, 'iqn.1998-01.com.vmware:esx1', '10.0.0.1'), false, 'no ACL: nobody');
  });

  test('readSnapshot reads a real store, secrets decrypted', () => {
    const dir = mkdtempSync(join(tmpdir(), 'openlun-ds-'));
    const store = new Store({ dataDir: dir });
    try {
      const ctx = { actor: 't', ip: '::1' };
      const t = store.createTarget(ctx, 'iqn.2026-11.org.example:real');
      const l = store.createLun(ctx, { name: 'd0', backing: 'file', sizeBytes: 4096, blockSize: 512 });
      store.createMapping(ctx, t.id, 0, l.id);
      const g = store.createInitiatorGroup(ctx, { name: 'h', initiators: ['iqn.2026-11.org.example:host'] });
      store.createAcl(ctx, t.id, g.id);
      store.setChap(ctx, t.id, { username: 'h', secret: 'Real-Secret-123' });
      const d = desiredState(readSnapshot(store));
      assert.equal(d.targets[0]!.chap?.secret, 'Real-Secret-123');
      assert.equal(d.backstores[0]!.path, l.path);
      assert.equal(d.backstores[0]!.naaId, l.naaId);
      assert.deepEqual(d.warnings, []);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
