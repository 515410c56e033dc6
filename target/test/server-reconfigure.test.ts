// Live reconfiguration of a running server (what the control socket drives): ACL, target and LUN changes touch
// only the sessions they concern; the session list reports who is connected and how.
import assert from 'node:assert/strict';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openBackstore } from '../src/backstore/index.ts';
import type { LunEntry } from '../src/scsi/types.ts';
import { INITIATOR_IQN, TARGET_IQN, assertHealthy, senseOf, startTarget } from './support/target-fixture.ts';

const OTHER = 'iqn.1994-05.com.example:other';

test('an ACL change ends only the sessions of initiators no longer allowed', async () => {
  const f = await startTarget();
  try {
    const keep = await f.session({ initiatorName: INITIATOR_IQN });
    const lose = await f.session({ initiatorName: OTHER });
    const entry = f.server.findTarget(TARGET_IQN)!;
    const r = await f.server.setTargets([{ ...entry, allowedInitiators: [INITIATOR_IQN] }]);
    assert.deepEqual(r, { added: [], removed: [], updated: [TARGET_IQN], sessionsEnded: 1 });
    assert.ok(await lose.waitClosed(2000), 'the excluded initiator is disconnected');
    await assertHealthy(keep);
    // and it cannot come back
    await assert.rejects(f.session({ initiatorName: OTHER }), /login failed: 2\/2/);
  } finally {
    await f.stop();
  }
});

test('removing a target ends its sessions; adding one makes it reachable', async () => {
  const f = await startTarget({ extraTargets: [{ name: 'iqn.2026-11.org.openlun:second' }] });
  try {
    const first = await f.session();
    const second = await f.session({ targetName: 'iqn.2026-11.org.openlun:second' });
    const keepEntry = f.server.findTarget(TARGET_IQN)!;
    const r = await f.server.setTargets([keepEntry]);
    assert.deepEqual(r.removed, ['iqn.2026-11.org.openlun:second']);
    assert.equal(r.sessionsEnded, 1);
    assert.ok(await second.waitClosed(2000));
    await assertHealthy(first);
    await assert.rejects(f.session({ targetName: 'iqn.2026-11.org.openlun:second' }), /login failed: 2\/3/);
  } finally {
    await f.stop();
  }
});

test('adding a LUN to a live target: REPORTED LUNS DATA HAS CHANGED, the session stays', async () => {
  const f = await startTarget();
  const dir = await mkdtemp(join(tmpdir(), 'openlun-reconf-'));
  try {
    const ini = await f.session();
    const path = join(dir, 'lun1.img');
    const fh = await open(path, 'w');
    await fh.truncate(1024 * 512);
    await fh.close();
    const device = f.server.findTarget(TARGET_IQN)!.device;
    const luns = new Map<number, LunEntry>();
    for (const n of device.lunNumbers()) {
      const lu = device.logicalUnit(n)!;
      luns.set(n, { ...lu.config, backstore: lu.backstore });
    }
    luns.set(1, { id: '6001405feedface00000000000000aa', serial: 'NEW1', readOnly: false, blockSize: 512, writeCache: 'back', backstore: await openBackstore(path, { readOnly: false }) });
    await device.setLuns(luns);
    // SAM-5 §5.14: the next command sees the unit attention 3Fh/0Eh
    const r = await ini.result(ini.command(Buffer.alloc(6)));
    assert.equal(r.status, 2);
    assert.deepEqual(senseOf(r.sense), { key: 0x06, asc: 0x3f, ascq: 0x0e });
    await assertHealthy(ini);
  } finally {
    await f.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('session list: initiator, ISID, target, portal, digests — and no secrets', async () => {
  const f = await startTarget({ chap: { user: 'u', secret: 'session-list-secret' } });
  try {
    await f.session({ chap: { user: 'u', secret: 'session-list-secret' } });
    const list = f.server.sessionList();
    assert.equal(list.length, 1);
    const s = list[0]!;
    assert.equal(s.initiatorName, INITIATOR_IQN);
    assert.equal(s.target, TARGET_IQN);
    assert.equal(s.kind, 'Normal');
    assert.match(s.isid, /^[0-9a-f]{12}$/);
    assert.equal(s.portal, `127.0.0.1:${f.port}`);
    assert.equal(s.params['headerDigest'], false);
    assert.ok(!JSON.stringify(list).includes('session-list-secret'));
  } finally {
    await f.stop();
  }
});

test('portals can be added and removed while running', async () => {
  const f = await startTarget();
  try {
    const ini = await f.session();
    await f.server.setPortals([...f.server.o.portals, { host: '127.0.0.1', port: 0, portalGroupTag: 1 }]);
    assert.equal(f.server.o.portals.length, 2);
    const added = f.server.o.portals[1]!;
    assert.notEqual(added.port, 0);
    await f.server.setPortals([f.server.o.portals[0]!]);
    assert.equal(f.server.o.portals.length, 1);
    await assertHealthy(ini);
  } finally {
    await f.stop();
  }
});
