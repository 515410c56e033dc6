/** SBC-4 §4.7.3.8 soft threshold seen on live iSCSI sessions: the UA reaches both sessions once, after a write. */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { BLOCK, TARGET_IQN, senseOf, startTarget, writeImmediate } from './support/target-fixture.ts';
import type { TargetFixture } from './support/target-fixture.ts';

let fx: TargetFixture;
before(async () => {
  fx = await startTarget({ blocks: 256 });
});
after(async () => {
  await fx.stop();
});

const TUR = Buffer.alloc(6);

it('a write that drops free space below the soft threshold gives each session 38h/07h once', async () => {
  const entry = [...fx.server.targets.values()].find((t) => t.name === TARGET_IQN);
  assert.ok(entry, 'the fixture target is registered');
  const lu = entry.device.logicalUnit(0)!;
  lu.config = { ...lu.config, softThresholdPercent: 10 };
  let freeBytes = lu.backstore.size(); // 100% of the LUN's size still free
  (lu.backstore as { freeSpace?: () => Promise<number | undefined> }).freeSpace = async () => freeBytes;

  const a = await fx.session();
  const b = await fx.session({ initiatorName: 'iqn.1994-05.com.example:other' });
  await writeImmediate(a, 0, Buffer.alloc(BLOCK, 1));
  await lu.softThreshold.sample();
  for (const s of [a, b]) assert.equal((await s.result(s.command(TUR))).status, 0, 'above the level: no UA');

  freeBytes = lu.backstore.size() / 20; // 5% < 10%
  await writeImmediate(a, 1, Buffer.alloc(BLOCK, 2)); // the write itself completes GOOD; the UA follows it
  await lu.softThreshold.sample(); // the write's background sample may still be rate-limited: take one now
  for (const s of [a, b]) {
    const r = await s.result(s.command(TUR));
    assert.equal(r.status, 2, 'CHECK CONDITION');
    assert.deepEqual(senseOf(r.sense), { key: 0x6, asc: 0x38, ascq: 0x07 }, 'THIN PROVISIONING SOFT THRESHOLD REACHED');
    assert.equal((await s.result(s.command(TUR))).status, 0, 'reported once per nexus');
  }
});
