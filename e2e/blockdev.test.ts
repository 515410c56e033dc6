// A block-device backstore with a real initiator: a loop device (the host can set one up; an LVM LV on the
// appliance is the same kind of device) served by bin/openlun target; QEMU copies 16 MiB of random data onto the
// LUN and back, byte-identical, and the bytes are on the device itself. Skipped where losetup is not permitted.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createRandomFile, createSparseFile, makeTempDir, MiB, sha256File, type TempDir } from './helpers/files.ts';
import { describeRun, run, runOk } from './helpers/run.ts';
import { selectedTargetKind, startOpenlun, type RunningTarget } from './helpers/targets.ts';

const DEVICE_BYTES = 48 * MiB;
const IMAGE_BYTES = 16 * MiB;

async function loopAvailable(): Promise<string | false> {
  if (selectedTargetKind() === 'tgt') return 'OPENLUN_TEST_TARGET=tgt: the openlun backstore is under test';
  if (process.getuid?.() !== 0) return 'needs root for losetup';
  const r = await run(['losetup', '--version'], { timeoutMs: 5_000 });
  return r.code === 0 ? false : 'losetup not installed';
}

describe('block-device backstore (loop device)', { skip: await loopAvailable(), timeout: 2 * 60_000 }, () => {
  let dir: TempDir;
  let loop = '';
  let target: RunningTarget | undefined;

  before(async () => {
    dir = await makeTempDir('openlun-blockdev-');
    const backing = await createSparseFile(dir.file('backing.img'), DEVICE_BYTES);
    loop = (await runOk(['losetup', '--find', '--show', backing], { timeoutMs: 10_000 })).stdout.trim();
    target = await startOpenlun({ luns: [loop], iqn: 'iqn.2026-11.org.openlun:blockdev' });
  });

  after(async () => {
    await target?.stop();
    if (loop) await run(['losetup', '-d', loop], { timeoutMs: 10_000 });
    await dir?.remove();
  });

  test('the LUN has the device size and round-trips data onto the device', async () => {
    const info = await runOk(['qemu-img', 'info', '--output=json', target!.url(0)], { timeoutMs: 20_000 });
    assert.equal((JSON.parse(info.stdout) as { 'virtual-size': number })['virtual-size'], DEVICE_BYTES);
    const src = await createRandomFile(dir.file('src.raw'), IMAGE_BYTES);
    const up = await run(['qemu-img', 'convert', '-n', '-f', 'raw', '-O', 'raw', src, target!.url(0)], { timeoutMs: 60_000 });
    assert.equal(up.code, 0, describeRun(up));
    const back = dir.file('back.raw');
    const down = await run(['qemu-img', 'convert', '-f', 'raw', '-O', 'raw', target!.url(0), back], { timeoutMs: 60_000 });
    assert.equal(down.code, 0, describeRun(down));
    const want = await sha256File(src);
    assert.equal(await sha256File(back, { length: IMAGE_BYTES }), want, 'read back through iSCSI');
    await runOk(['sync'], { timeoutMs: 10_000 });
    assert.equal(await sha256File(loop, { length: IMAGE_BYTES }), want, 'on the device itself');
  });
});
