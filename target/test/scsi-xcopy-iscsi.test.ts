/**
 * EXTENDED COPY over iSCSI with several targets on one appliance: a CSCD may name another target's LU only when that
 * target's ACL admits the initiator (and, for a CHAP target, only while the initiator holds a session there) —
 * CVE-2020-28374. Everything else is COPY ABORTED / COPY TARGET DEVICE NOT REACHABLE and no block moves.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { naaRegisteredExtended } from '../src/scsi/vpd.ts';
import type { RawInitiator } from './support/raw-initiator.ts';
import { BLOCK, INITIATOR_IQN, read10, senseOf, startTarget, writeImmediate } from './support/target-fixture.ts';
import type { TargetFixture } from './support/target-fixture.ts';

const OPEN = 'iqn.2026-11.org.openlun:xcopy-open';
const CLOSED = 'iqn.2026-11.org.openlun:xcopy-closed';
const GUARDED = 'iqn.2026-11.org.openlun:xcopy-chap';
const CHAP = { user: 'xcopy-user', secret: 'xcopy-secret-1234' };
const OWN_ID = 'xcopy-iscsi-own';
const IDS = { [OPEN]: 'xcopy-iscsi-open', [CLOSED]: 'xcopy-iscsi-closed', [GUARDED]: 'xcopy-iscsi-chap' } as const;

function cscd(id: string): Buffer {
  const d = Buffer.alloc(32);
  d[0] = 0xe4; // identification CSCD, peripheral device type 00h
  const naa = naaRegisteredExtended(id);
  d[4] = 0x01;
  d[5] = 0x03;
  d[7] = naa.length;
  naa.copy(d, 8);
  d.writeUIntBE(BLOCK, 29, 3);
  return d;
}

/** One 02h segment copying `blocks` from CSCD 0 at `srcLba` to CSCD 1 at `dstLba`. */
function copyList(fromId: string, toId: string, blocks: number, srcLba: number, dstLba: number): Buffer {
  const h = Buffer.alloc(16);
  h[0] = 1;
  h.writeUInt16BE(64, 2);
  h.writeUInt32BE(28, 8);
  const s = Buffer.alloc(28);
  s[0] = 0x02;
  s.writeUInt16BE(0x18, 2);
  s.writeUInt16BE(0, 4);
  s.writeUInt16BE(1, 6);
  s.writeUInt16BE(blocks, 10);
  s.writeBigUInt64BE(BigInt(srcLba), 12);
  s.writeBigUInt64BE(BigInt(dstLba), 20);
  return Buffer.concat([h, cscd(fromId), cscd(toId), s]);
}

async function xcopy(ini: RawInitiator, list: Buffer) {
  const cdb = Buffer.alloc(16);
  cdb[0] = 0x83;
  cdb.writeUInt32BE(list.length, 10);
  return ini.result(ini.command(cdb, { write: true, edtl: list.length, data: list }));
}

async function readOwn(ini: RawInitiator, lba: number, blocks: number): Promise<Buffer> {
  const r = await ini.result(ini.command(read10(lba, blocks), { read: true, edtl: blocks * BLOCK }));
  assert.equal(r.status, 0);
  return r.data;
}

function fill(blocks: number, byte: number): Buffer {
  return Buffer.alloc(blocks * BLOCK, byte);
}

describe('EXTENDED COPY across targets (iSCSI)', () => {
  let t: TargetFixture;
  let ini: RawInitiator;
  const lu = (name: string) => t.server.findTarget(name)!.device.logicalUnit(0)!;

  before(async () => {
    t = await startTarget({
      extraTargets: [
        { name: OPEN, allowedInitiators: [INITIATOR_IQN] },
        { name: CLOSED, allowedInitiators: ['iqn.1994-05.com.example:someone-else'] },
        { name: GUARDED, chap: CHAP },
      ],
    });
    // Give every LU its own identity (the fixture's ids share the digits VPD 83h uses).
    const main = t.server.findTarget('iqn.2026-11.org.openlun:session-test')!.device;
    await main.setLuns(new Map([[0, { ...main.logicalUnit(0)!.config, id: OWN_ID }]]));
    for (const [name, id] of Object.entries(IDS)) {
      const device = t.server.findTarget(name)!.device;
      await device.setLuns(new Map([[0, { ...device.logicalUnit(0)!.config, id }]]));
      await lu(name).backstore.write(0, fill(8, name === OPEN ? 0x0e : name === CLOSED ? 0x0c : 0x0a));
    }
    ini = await t.session();
    // consume REPORTED LUNS DATA HAS CHANGED from the re-identification
    for (let i = 0; i < 3; i++) if ((await ini.result(ini.command(Buffer.alloc(6)))).status === 0) break;
    await writeImmediate(ini, 0, fill(8, 0x55));
  });
  after(() => t.stop());

  test('a LU of another target whose ACL admits the initiator can be the source and the destination', async () => {
    const r = await xcopy(ini, copyList(IDS[OPEN], OWN_ID, 8, 0, 100));
    assert.equal(r.status, 0, 'GOOD');
    assert.ok((await readOwn(ini, 100, 8)).equals(fill(8, 0x0e)), 'copied from the other target');
    const w = await xcopy(ini, copyList(OWN_ID, IDS[OPEN], 8, 0, 50));
    assert.equal(w.status, 0, 'GOOD');
    assert.ok((await lu(OPEN).backstore.read(50 * BLOCK, 8 * BLOCK)).equals(fill(8, 0x55)), 'copied to the other target');
  });

  test('a LU of a target whose ACL refuses the initiator is not reachable, either way', async () => {
    const before200 = await readOwn(ini, 200, 8);
    const r = await xcopy(ini, copyList(IDS[CLOSED], OWN_ID, 8, 0, 200));
    assert.equal(r.status, 2, 'CHECK CONDITION');
    assert.deepEqual(senseOf(r.sense), { key: 0x0a, asc: 0x0d, ascq: 0x02 }, 'COPY ABORTED, COPY TARGET DEVICE NOT REACHABLE');
    assert.ok((await readOwn(ini, 200, 8)).equals(before200), 'nothing read from the refused target');
    const w = await xcopy(ini, copyList(OWN_ID, IDS[CLOSED], 8, 0, 0));
    assert.equal(w.status, 2);
    assert.deepEqual(senseOf(w.sense), { key: 0x0a, asc: 0x0d, ascq: 0x02 });
    assert.ok((await lu(CLOSED).backstore.read(0, 8 * BLOCK)).equals(fill(8, 0x0c)), 'the refused target is unchanged');
  });

  test('a CHAP target is reachable only while the initiator holds a session there', async () => {
    const refused = await xcopy(ini, copyList(IDS[GUARDED], OWN_ID, 8, 0, 300));
    assert.equal(refused.status, 2);
    assert.deepEqual(senseOf(refused.sense), { key: 0x0a, asc: 0x0d, ascq: 0x02 });
    const guarded = await t.session({ targetName: GUARDED, chap: CHAP });
    try {
      const r = await xcopy(ini, copyList(IDS[GUARDED], OWN_ID, 8, 0, 300));
      assert.equal(r.status, 0, 'GOOD once authenticated there');
      assert.ok((await readOwn(ini, 300, 8)).equals(fill(8, 0x0a)));
    } finally {
      guarded.close();
    }
  });
});
