/** SBC-4 §4.7.3.8 thin-provisioning soft threshold: SoftThreshold itself, then through ScsiTargetDevice. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SoftThreshold, parseSoftThresholdPercent } from '../src/scsi/provisioning-threshold.ts';
import type { ScsiTargetDevice } from '../src/scsi/device.ts';
import { assertGood, assertSense, makeDevice, makeNexus, pattern, run, rw10, settle } from './scsi-fixture.ts';

/** A threshold over a settable free fraction and a hand-driven clock, counting UAs raised and samples taken. */
function harness(percent: number | null, minIntervalMs = 1000) {
  const state = { free: 1 as number | undefined, t: 0, raised: 0, samples: 0 };
  const th = new SoftThreshold({
    percent: () => percent ?? undefined, // null: no level configured
    onReached: () => void state.raised++,
    source: async () => {
      state.samples++;
      return state.free;
    },
    minIntervalMs,
    now: () => state.t,
  });
  return { th, state };
}

describe('SoftThreshold', () => {
  it('raises once when free space crosses below the level, not again while it stays below', async () => {
    const { th, state } = harness(10);
    await th.sample();
    assert.equal(state.raised, 0, '100% free: nothing');
    state.free = 0.1;
    await th.sample();
    assert.equal(state.raised, 0, 'exactly at the level is not below it');
    state.free = 0.05;
    await th.sample();
    assert.equal(state.raised, 1, 'crossing down raises it');
    assert.equal(th.reached, true);
    state.free = 0.01;
    await th.sample();
    await th.sample();
    assert.equal(state.raised, 1, 'still below: no repeat');
  });

  it('re-arms only after recovering to the level, then raises on the next crossing', async () => {
    const { th, state } = harness(20);
    state.free = 0.1;
    await th.sample();
    assert.equal(state.raised, 1);
    state.free = 0.5;
    await th.sample();
    assert.equal(th.reached, false, 'recovered');
    assert.equal(state.raised, 1, 'recovery itself raises nothing');
    state.free = 0.19;
    await th.sample();
    assert.equal(state.raised, 2, 'second downward crossing is news again');
  });

  it('samples on writes at most once per interval, never concurrently', async () => {
    const { th, state } = harness(10, 1000);
    const first = th.noteWrite();
    assert.ok(first, 'the first write samples');
    assert.equal(th.noteWrite(), undefined, 'no second sample while one runs');
    await first;
    for (let i = 0; i < 1000; i++) assert.equal(th.noteWrite(), undefined);
    assert.equal(state.samples, 1, '1000 writes within the interval: one statfs');
    state.t = 999;
    assert.equal(th.noteWrite(), undefined);
    state.t = 1000;
    state.free = 0.01;
    await th.noteWrite();
    assert.equal(state.samples, 2);
    assert.equal(state.raised, 1);
  });

  it('does nothing without a configured level, and survives a failing source', async () => {
    const { th, state } = harness(null);
    state.free = 0;
    assert.equal(th.noteWrite(), undefined, 'no level: no sampling at all');
    assert.equal(th.observeFree(0), false);
    assert.equal(state.raised, 0);
    const logged: string[] = [];
    const failing = new SoftThreshold({
      percent: () => 10,
      onReached: () => assert.fail('must not raise'),
      source: () => Promise.reject(new Error('EIO')),
      log: (m) => logged.push(m),
    });
    await failing.sample();
    assert.match(logged[0] ?? '', /EIO/);
  });

  it('parses CLI percentages', () => {
    assert.equal(parseSoftThresholdPercent('10'), 10);
    assert.equal(parseSoftThresholdPercent('2.5%'), 2.5);
    for (const bad of ['0', '-1', '101', 'abc', '']) assert.throws(() => parseSoftThresholdPercent(bad), RangeError, bad);
  });
});

/** LUN 0 of a fresh device with the threshold configured and its file's free space faked. */
async function thresholdDevice(percent: number) {
  const fx = await makeDevice([{ blocks: 2048 }]);
  const lu = fx.device.logicalUnit(0)!;
  lu.config = { ...lu.config, softThresholdPercent: percent };
  const fake = { freeBytes: 10 * lu.backstore.size(), calls: 0 };
  // the fake free-space source: the file system "has" fake.freeBytes available
  (lu.backstore as { freeSpace?: () => Promise<number | undefined> }).freeSpace = async () => {
    fake.calls++;
    return fake.freeBytes;
  };
  return { fx, lu, fake };
}

async function tur(device: ScsiTargetDevice, n: number) {
  return run(device, [0x00, 0, 0, 0, 0, 0], { nexus: makeNexus(n), lun: 0 });
}

describe('soft threshold unit attention on the device', () => {
  it('a write that finds free space below the level gives every I_T nexus 38h/07h exactly once', async () => {
    const { fx, lu, fake } = await thresholdDevice(50);
    try {
      const nexuses = [1, 2, 3];
      for (const n of nexuses) await settle(fx.device, makeNexus(n));
      fake.freeBytes = lu.backstore.size() / 4; // 25% of the LUN's size left < 50%
      assertGood(await run(fx.device, rw10(0x2a, 0, 1), { nexus: makeNexus(1), lun: 0, dataOut: pattern(512, 1) }), 'WRITE');
      await lu.softThreshold.sample(); // the write's own sample is in the background: wait for one
      assert.ok(fake.calls >= 1, 'free space was sampled');
      for (const n of nexuses) {
        assertSense(await tur(fx.device, n), 'THIN_PROVISIONING_SOFT_THRESHOLD_REACHED');
        assertGood(await tur(fx.device, n), `nexus ${n} sees it once`);
      }
      await lu.softThreshold.sample();
      for (const n of nexuses) assertGood(await tur(fx.device, n), `still below: no repeat for nexus ${n}`);
      fake.freeBytes = lu.backstore.size(); // recovered (e.g. after UNMAP)
      await lu.softThreshold.sample();
      for (const n of nexuses) assertGood(await tur(fx.device, n), 'recovery is silent');
      fake.freeBytes = 0;
      await lu.softThreshold.sample();
      for (const n of nexuses) assertSense(await tur(fx.device, n), 'THIN_PROVISIONING_SOFT_THRESHOLD_REACHED');
    } finally {
      await fx.cleanup();
    }
  });

  it('reads are not a reason to sample', async () => {
    const { fx, fake } = await thresholdDevice(50);
    try {
      await settle(fx.device);
      assertGood(await run(fx.device, rw10(0x28, 0, 1), { nexus: makeNexus(1), lun: 0 }), 'READ');
      await new Promise((r) => setImmediate(r));
      assert.equal(fake.calls, 0);
    } finally {
      await fx.cleanup();
    }
  });

  it('setPoolUsage (thin LV data%) raises the UA on crossing and validates its input', async () => {
    const fx = await makeDevice([{ blocks: 64 }]);
    try {
      const lu = fx.device.logicalUnit(0)!;
      lu.config = { ...lu.config, softThresholdPercent: 20 };
      await settle(fx.device, makeNexus(1));
      await settle(fx.device, makeNexus(2));
      assert.equal(fx.device.setPoolUsage(0, 0.5), false);
      assert.equal(fx.device.setPoolUsage(0, 0.85), true, '15% free < 20%');
      assert.equal(fx.device.setPoolUsage(0, 0.9), false, 'no repeat');
      for (const n of [1, 2]) {
        assertSense(await tur(fx.device, n), 'THIN_PROVISIONING_SOFT_THRESHOLD_REACHED');
        assertGood(await tur(fx.device, n));
      }
      assert.throws(() => fx.device.setPoolUsage(0, 1.5), RangeError);
      assert.throws(() => fx.device.setPoolUsage(7, 0.1), /not mapped/);
    } finally {
      await fx.cleanup();
    }
  });

  it('the real file backstore reports its file system free space', async () => {
    const fx = await makeDevice([{ blocks: 16 }]);
    try {
      const free = await fx.device.logicalUnit(0)!.backstore.freeSpace?.();
      assert.ok(typeof free === 'number' && free > 0, `statfs free bytes: ${free}`);
    } finally {
      await fx.cleanup();
    }
  });
});
