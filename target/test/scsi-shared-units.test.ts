// Two ScsiTargetDevices (targets) mapping one backing file share one LogicalUnit (shared-units.ts): identity,
// reservations, unit attentions and LBA lock are one; the surplus backstore is closed at once; the shared one only
// when the last device lets go; PREEMPT AND ABORT reaches every device with its own LUN number; a re-description
// with a new identity makes a new LU; a symlink to the file is the same LU.
import assert from 'node:assert/strict';
import { mkdtemp, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openBackstore } from '../src/backstore/index.ts';
import type { Backstore } from '../src/backstore/types.ts';
import { ScsiTargetDevice } from '../src/scsi/device.ts';
import { lbaLockOf } from '../src/scsi/lba-lock.ts';
import { LogicalUnitRegistry } from '../src/scsi/shared-units.ts';
import type { LunEntry, Nexus } from '../src/scsi/types.ts';
import { assertGood, assertSense, run, rw10 } from './scsi-fixture.ts';

function nexus(target: string, n: number): Nexus {
  const isid = Buffer.from([0x80, 0, 0, 0, 0, n]);
  const initiatorName = `iqn.2026-01.org.openlun:host${n}`;
  return { id: `${initiatorName},i,0x${isid.toString('hex')},${target},t,0x1`, initiatorName, isid, targetName: target, targetPortalGroupTag: 1, relativeTargetPortId: 1 };
}

/** Tracks close() on a real backstore. */
function tracked(bs: Backstore): Backstore & { closed: boolean } {
  const t = bs as Backstore & { closed: boolean };
  t.closed = false;
  const close = bs.close.bind(bs);
  t.close = async () => {
    t.closed = true;
    await close();
  };
  return t;
}

async function entry(path: string, id: string): Promise<LunEntry & { backstore: Backstore & { closed: boolean } }> {
  return { id, serial: id.slice(0, 8), readOnly: false, blockSize: 512, writeCache: 'back', backstore: tracked(await openBackstore(path, { readOnly: false })) };
}

test('two targets on one file: one LU (reservation, UA, lock), surplus handle closed, last release closes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'openlun-shared-'));
  try {
    const file = join(dir, 'lun.img');
    await writeFile(file, '');
    await truncate(file, 1024 * 1024);
    const link = join(dir, 'alias.img');
    await symlink(file, link);
    const registry = new LogicalUnitRegistry();
    const logs: string[] = [];
    const eA = await entry(file, 'aaaa0001');
    const eB = await entry(link, 'aaaa0001'); // the same file through a symlink
    const a = new ScsiTargetDevice({ targetName: 'iqn.2026-01.org.openlun:a', luns: new Map([[0, eA]]), registry, log: (m) => logs.push(m) });
    const b = new ScsiTargetDevice({ targetName: 'iqn.2026-01.org.openlun:b', luns: new Map([[3, eB]]), registry, log: (m) => logs.push(m) });
    const luA = a.logicalUnit(0)!;
    assert.equal(b.logicalUnit(3), luA, 'one LogicalUnit object');
    assert.equal(registry.references(luA), 2);
    await new Promise((r) => setImmediate(r));
    assert.equal(eB.backstore.closed, true, "B's own handle on the file is surplus and closed");
    assert.equal(lbaLockOf(b.logicalUnit(3)!.backstore), lbaLockOf(eA.backstore), 'one LBA lock');

    const na = nexus('iqn.2026-01.org.openlun:a', 1);
    const nb = nexus('iqn.2026-01.org.openlun:b', 2);
    for (const [d, n, lun] of [[a, na, 0], [b, nb, 3]] as const) assertSense(await run(d, [0, 0, 0, 0, 0, 0], { nexus: n, lun }), 'POWER_ON_RESET_OCCURRED');
    // SCSI-2 RESERVE through A: B's write conflicts
    assertGood(await run(a, [0x16, 0, 0, 0, 0, 0], { nexus: na, lun: 0 }));
    const w = await run(b, rw10(0x2a, 0, 1), { nexus: nb, lun: 3, dataOut: Buffer.alloc(512) });
    assert.equal(w.status, 0x18, 'RESERVATION CONFLICT through the other target');
    assertGood(await run(a, [0x17, 0, 0, 0, 0, 0], { nexus: na, lun: 0 }));
    // PREEMPT AND ABORT listeners: both devices hear, each with its own LUN number
    const heard: Array<[string, number]> = [];
    a.onPreemptAbort = (_ids, lun) => heard.push(['a', lun]);
    b.onPreemptAbort = (_ids, lun) => heard.push(['b', lun]);
    luA.preemptAbort(['x']);
    assert.deepEqual(heard.sort(), [['a', 0], ['b', 3]]);
    // a capacity change through A reaches B's nexus (one UA queue per nexus of the one LU)
    a.logicalUnitReset(0, na);
    assertSense(await run(b, [0, 0, 0, 0, 0, 0], { nexus: nb, lun: 3 }), 'BUS_DEVICE_RESET_FUNCTION_OCCURRED');

    await a.close();
    assert.equal(eA.backstore.closed, false, 'B still maps the LU: its backstore stays open');
    assertGood(await run(b, rw10(0x28, 0, 1), { nexus: nb, lun: 3 }), 'B still reads');
    await b.close();
    assert.equal(eA.backstore.closed, true, 'the last device closed it');
    assert.deepEqual(logs, []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a different identity for an already exported file keeps the first one (and says so); re-describing alone makes a new LU', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'openlun-shared-'));
  try {
    const file = join(dir, 'lun.img');
    await writeFile(file, '');
    await truncate(file, 1024 * 1024);
    const registry = new LogicalUnitRegistry();
    const logs: string[] = [];
    const a = new ScsiTargetDevice({ targetName: 'iqn.2026-01.org.openlun:a', luns: new Map([[0, await entry(file, 'aaaa0001')]]), registry, log: (m) => logs.push(m) });
    const b = new ScsiTargetDevice({ targetName: 'iqn.2026-01.org.openlun:b', luns: new Map([[0, await entry(file, 'bbbb0002')]]), registry, log: (m) => logs.push(m) });
    assert.equal(b.logicalUnit(0)!.config.id, 'aaaa0001');
    assert.match(logs.join('\n'), /already exported as LU aaaa0001; it keeps that identity, not bbbb0002/);
    await b.close();
    // A alone re-describes its LU with a new id: a new LU with that identity, on the same open backstore
    const old = a.logicalUnit(0)!;
    await a.setLuns(new Map([[0, { ...old.config, id: 'cccc0003' }]]));
    assert.notEqual(a.logicalUnit(0), old);
    assert.equal(a.logicalUnit(0)!.config.id, 'cccc0003');
    // the backstore survived the re-description: reads work once the nexus has taken its unit attention(s)
    let r = await run(a, rw10(0x28, 0, 1), { nexus: nexus('iqn.2026-01.org.openlun:a', 1), lun: 0 });
    for (let i = 0; i < 3 && r.status === 2; i++) r = await run(a, rw10(0x28, 0, 1), { nexus: nexus('iqn.2026-01.org.openlun:a', 1), lun: 0 });
    assertGood(r, 'read after the re-description');
    await a.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
