// Issue 3, "what must be shown" 3 (the QEMU half): after UNMAP and after WRITE SAME with the UNMAP bit, QEMU's iscsi
// driver (qemu-io over iscsi://, libiscsi underneath) reads zeros where READ CAPACITY(16) says LBPRZ, the whole LUN
// read back through qemu-img is byte-identical to the backing file on the host, and the file's allocated blocks
// went down by what was deallocated (holes punched, not zeros written). WRITE SAME of zeros without UNMAP is the
// control: it reads zeros too but keeps the blocks allocated.
//
// qemu-io commands: `discard` → UNMAP (qemu uses it when VPD B2h has LBPU); `write -z -u` → WRITE SAME(16) with UNMAP
// (LBPWS); `write -z` → WRITE SAME(16) without UNMAP.
//
// The open-iscsi half: the Linux initiator in the Debian guest (e2e/guest, one more boot: OPENLUN_SKIP_GUEST=1 leaves
// it out) sees discard support from VPD B0h/B2h, `blkdiscard` on the iSCSI disk sends UNMAP, the guest reads zeros
// back with O_DIRECT, and the host file holds zeros there with its blocks freed.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { Guest } from './guest/guest.ts';
import { createSparseFile, makeTempDir, MiB, sha256File, type TempDir } from './helpers/files.ts';
import { describeRun, run, runOk } from './helpers/run.ts';
import { selectedTargetKind, startTarget, type RunningTarget } from './helpers/targets.ts';

const INITIATOR = 'iqn.2026-11.org.openlun:unmap-zeros';
const LUN_BYTES = 64 * MiB;
const skip = selectedTargetKind() === 'tgt' ? 'OPENLUN_TEST_TARGET=tgt: tgt rdwr backstores do not punch holes' : false;

/** 512-byte units the file system has allocated to the file (stat st_blocks). */
async function allocatedBytes(path: string): Promise<number> {
  return (await stat(path)).blocks * 512;
}

describe('UNMAP and WRITE SAME(UNMAP) through QEMU read back as zeros and free space', { skip, timeout: 3 * 60_000 }, () => {
  let dir: TempDir;
  let target: RunningTarget;
  let lun: string;
  let url: string;

  before(async () => {
    dir = await makeTempDir('openlun-unmap-zeros-');
    lun = await createSparseFile(dir.file('lun.img'), LUN_BYTES);
    target = await startTarget({ luns: [lun], iqn: 'iqn.2026-11.org.openlun:unmap-zeros' });
    url = target.url(0);
  });

  after(async () => {
    await target?.stop();
    await dir?.remove();
  });

  const qemuIo = (...commands: string[]) =>
    runOk(['qemu-io', '--image-opts', imageOpts(), ...commands.flatMap((c) => ['-c', c])], { timeoutMs: 60_000 });
  const imageOpts = () => {
    const m = /^iscsi:\/\/([^/]+)\/([^/]+)\/(\d+)$/.exec(url)!;
    return `driver=iscsi,transport=tcp,portal=${m[1]},target=${m[2]},lun=${m[3]},initiator-name=${INITIATOR}`;
  };

  test('the LUN claims LBPME and LBPRZ (what makes reading zeros after an unmap a promise)', async () => {
    const r = await run(['iscsi-readcapacity16', '-i', INITIATOR, url], { timeoutMs: 20_000 });
    assert.equal(r.code, 0, describeRun(r));
    assert.match(r.stdout, /LBPME:1 LBPRZ:1/);
  });

  test('random data, then UNMAP 2 MiB, WRITE SAME(UNMAP) 3 MiB and WRITE SAME zeros 1 MiB: zeros, identical to the file, space freed', async () => {
    // 16 MiB of random data written through QEMU (qemu-io writes a file's bytes with `write -s`)
    const payload = dir.file('payload.bin');
    const data = randomBytes(16 * MiB);
    await writeFile(payload, data);
    await qemuIo(`write -s ${payload} 0 16M`);
    const full = await allocatedBytes(lun);
    assert.ok(full >= 16 * MiB, `16 MiB written are allocated (${full})`);

    // UNMAP [1 MiB, 3 MiB)
    await qemuIo('discard 1M 2M');
    const afterUnmap = await allocatedBytes(lun);
    assert.ok(full - afterUnmap >= 2 * MiB, `UNMAP freed ${(full - afterUnmap) / MiB} MiB, expected 2`);

    // WRITE SAME(16) with UNMAP over [5 MiB, 8 MiB)
    await qemuIo('write -z -u 5M 3M');
    const afterWriteSame = await allocatedBytes(lun);
    assert.ok(afterUnmap - afterWriteSame >= 3 * MiB, `WRITE SAME(UNMAP) freed ${(afterUnmap - afterWriteSame) / MiB} MiB, expected 3`);

    // WRITE SAME(16) of zeros without UNMAP over [10 MiB, 11 MiB): zeros, but the blocks stay allocated
    await qemuIo('write -z 10M 1M');
    const afterZeros = await allocatedBytes(lun);
    assert.ok(afterWriteSame - afterZeros < 1 * MiB, 'WRITE SAME without UNMAP does not deallocate');

    // QEMU reads zeros where it unmapped (qemu-io `read -P 0` fails on any other byte), the data elsewhere
    const verify = await qemuIo('read -P 0 1M 2M', 'read -P 0 5M 3M', 'read -P 0 10M 1M');
    assert.doesNotMatch(verify.stdout + verify.stderr, /Pattern verification failed/);

    // the whole LUN through QEMU is byte-identical to the host's file, and to what was meant to be there
    const back = dir.file('back.raw');
    await runOk(['qemu-img', 'convert', '--image-opts', imageOpts(), '-O', 'raw', back], { timeoutMs: 60_000 });
    assert.equal(await sha256File(back), await sha256File(lun), 'QEMU reads what the host file holds');
    const expected = Buffer.alloc(LUN_BYTES);
    data.copy(expected);
    expected.fill(0, 1 * MiB, 3 * MiB);
    expected.fill(0, 5 * MiB, 8 * MiB);
    expected.fill(0, 10 * MiB, 11 * MiB);
    const host = await readFile(lun);
    assert.equal(host.length, LUN_BYTES);
    assert.ok(host.equals(expected), 'the file holds the random data with zeros exactly over the three ranges');
  });
});

const skipGuest = skip || (process.env['OPENLUN_SKIP_GUEST'] === '1' ? 'OPENLUN_SKIP_GUEST=1' : false);

describe('blkdiscard from open-iscsi in the Debian guest reads back as zeros and frees the host file', { skip: skipGuest, timeout: 10 * 60_000 }, () => {
  let dir: TempDir;
  let target: RunningTarget;
  let lun: string;
  let vm: Guest | undefined;
  const iqn = 'iqn.2026-11.org.openlun:unmap-guest';

  before(async () => {
    dir = await makeTempDir('openlun-unmap-guest-');
    lun = await createSparseFile(dir.file('lun.img'), 64 * MiB);
    target = await startTarget({ luns: [lun], iqn });
  });

  after(async () => {
    await vm?.shutdown().catch(() => undefined);
    await target?.stop();
    await dir?.remove();
  });

  test('login, write 8 MiB, blkdiscard 4 MiB of it, zeros in the guest and in the host file, blocks freed', async (t) => {
    const started = Date.now();
    vm = await Guest.boot({ timeoutMs: 240_000 });
    const g = vm;
    t.diagnostic(`guest boot ${(g.bootMs / 1000).toFixed(1)} s`);
    const portal = `10.0.2.2:${target.port}`;
    await g.sh('modprobe iscsi_tcp && iscsid </dev/null >/dev/null 2>&1', { timeoutMs: 30_000 });
    // the host's 127.0.0.1 is 10.0.2.2 behind slirp: a node record for that address, as in e2e/open-iscsi.ts
    await g.sh(['iscsiadm', '-m', 'node', '-o', 'new', '-T', iqn, '-p', portal], { timeoutMs: 30_000 });
    await g.sh(['iscsiadm', '-m', 'node', '-T', iqn, '-p', portal, '--login'], { timeoutMs: 60_000 });
    const dev = (await g.sh(`
      for i in $(seq 1 300); do
        udevadm settle --timeout=5
        p=/dev/disk/by-path/ip-${portal}-iscsi-${iqn}-lun-0
        [ -b "$p" ] && { readlink -f "$p"; exit 0; }
        sleep 0.1
      done
      exit 1`, { timeoutMs: 60_000 })).trim();
    const name = dev.replace('/dev/', '');
    // the kernel read VPD B0h/B2h: discard is on, UNMAP granularity 4 KiB, LBPRZ → discard_zeroes… / provisioning_mode
    const mode = (await g.sh(`cat /sys/block/${name}/device/scsi_disk/*/provisioning_mode /sys/block/${name}/queue/discard_granularity /sys/block/${name}/queue/discard_max_bytes`)).trim().split('\n');
    t.diagnostic(`provisioning_mode ${mode[0]}, discard_granularity ${mode[1]}, discard_max_bytes ${mode[2]}`);
    assert.equal(mode[0], 'unmap', 'the Linux sd driver chose UNMAP (VPD B2h LBPU, B0h limits)');
    assert.equal(mode[1], '4096');
    assert.ok(Number(mode[2]) > 0);
    await g.sh(`set -e; head -c 8M /dev/urandom > /root/data; dd if=/root/data of=${dev} bs=1M oflag=direct status=none; sync`, { timeoutMs: 120_000 });
    const full = await allocatedBytes(lun);
    assert.ok(full >= 8 * MiB, `8 MiB allocated on the host (${full})`);
    await g.sh(['blkdiscard', '-o', String(2 * MiB), '-l', String(4 * MiB), dev], { timeoutMs: 60_000 });
    // read back through the kernel, bypassing its page cache: zeros over the discarded range, the data around it
    const sums = await g.sh(`set -e
      dd if=${dev} bs=1M skip=2 count=4 iflag=direct status=none | cmp - /dev/zero -n ${4 * MiB} && echo zeros
      dd if=${dev} bs=1M count=2 iflag=direct status=none | cmp - /root/data -n ${2 * MiB} && echo head-intact
      dd if=${dev} bs=1M skip=6 count=2 iflag=direct status=none | cmp - <(tail -c 2M /root/data) && echo tail-intact`, { timeoutMs: 60_000 });
    assert.deepEqual(sums.trim().split('\n'), ['zeros', 'head-intact', 'tail-intact']);
    await g.sh(['iscsiadm', '-m', 'node', '-T', iqn, '-p', portal, '--logout'], { timeoutMs: 60_000 });
    const freed = full - (await allocatedBytes(lun));
    assert.ok(freed >= 4 * MiB, `blkdiscard freed ${freed / MiB} MiB on the host, expected 4`);
    const host = await readFile(lun);
    assert.ok(host.subarray(2 * MiB, 6 * MiB).equals(Buffer.alloc(4 * MiB)), 'the host file holds zeros over the discarded range');
    t.diagnostic(`guest part ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
});
