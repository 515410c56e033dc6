// End to end with a real Linux initiator: a target on the host's loopback, open-iscsi in the Debian test guest
// (QEMU, slirp: the guest reaches the host's 127.0.0.1 as 10.0.2.2). Discovery, login, mkfs.ext4, 32 MiB of
// random data + small files, remount, checksums, logout; then the host reads the file back out of the LUN
// image to prove the bytes landed in the backstore. By default the login uses CHAP and CRC32C header and data
// digests (the Linux initiator is the one real client here that offers data digests; libiscsi 1.19 and QEMU
// cannot), and the negotiated values are read back from the kernel's session.
//   node --import tsx e2e/open-iscsi.ts                              # openlun (bin/openlun target …)
//   OPENLUN_TEST_TARGET=tgt node --import tsx e2e/open-iscsi.ts      # Debian's tgt, the reference
// Exits non-zero on failure; prints every step with its duration.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Guest } from './guest/guest.ts';
import { runCommand } from './guest/run-command.ts';
import { startTarget as startSelectedTarget } from './helpers/targets.ts';
import type { RunningTarget, TargetOptions } from './helpers/targets.ts';

/** Starts an iSCSI target on 127.0.0.1 serving opts.luns; e2e/helpers' startTarget by default, which picks
 *  openlun or tgt from OPENLUN_TEST_TARGET (openlun unless told otherwise). */
export type TargetStarter = (opts: TargetOptions) => Promise<RunningTarget>;

export interface OpenIscsiOptions {
  startTarget?: TargetStarter;
  lunSizeMiB?: number;
  randomMiB?: number;
  /** CHAP + CRC32C header and data digests (default true). */
  secure?: boolean;
  log?: (line: string) => void;
}

const CHAP = { user: 'e2e-initiator', secret: 'e2e-chap-secret-0123' };

export async function runOpenIscsiE2E(opts: OpenIscsiOptions = {}): Promise<void> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const startTarget = opts.startTarget ?? startSelectedTarget;
  const t0 = Date.now();
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const s = Date.now();
    log(`[open-iscsi] ${name} ...`);
    const r = await fn();
    log(`[open-iscsi] ${name}: ok (${((Date.now() - s) / 1000).toFixed(1)} s)`);
    return r;
  };

  const work = await mkdtemp(join(tmpdir(), 'openlun-e2e-iscsi-'));
  const lunFile = join(work, 'lun1.img');
  await writeFile(lunFile, '');
  await truncate(lunFile, (opts.lunSizeMiB ?? 256) * 2 ** 20);
  const iqn = 'iqn.2026-11.org.openlun:e2e.open-iscsi';
  const randomMiB = opts.randomMiB ?? 32;
  let target: RunningTarget | undefined;
  let vm: Guest | undefined;
  try {
    const secure = opts.secure ?? true;
    target = await step('start target', () =>
      startTarget({ luns: [lunFile], iqn, ...(secure ? { chap: CHAP, tgtDigests: true } : {}) }));
    const portal = `10.0.2.2:${target.port}`;
    log(`[open-iscsi] target: ${target.kind} on ${target.portal}, LUN ${target.lunIds.join(',')}; the guest uses ${portal}`);
    vm = await step('boot guest', () => Guest.boot({ timeoutMs: 240_000, log: (l) => log(`[guest] ${l}`) }));
    const g = vm;
    await step('start iscsid', () => g.sh('modprobe iscsi_tcp && iscsid </dev/null >/dev/null 2>&1', { timeoutMs: 30_000 }));
    const discovered = await step(`discovery (sendtargets ${portal})`,
      () => g.sh(['iscsiadm', '-m', 'discovery', '-t', 'sendtargets', '-p', portal], { timeoutMs: 60_000 }));
    log(`[open-iscsi]   ${discovered.trim().replace(/\n/g, '\n[open-iscsi]   ')}`);
    if (!discovered.split('\n').some((l) => /^\S+:\d+,\d+ /.test(l) && l.trim().endsWith(` ${iqn}`))) {
      throw new Error(`discovery did not return ${iqn}:\n${discovered}`);
    }
    // The target advertises the portal it listens on (127.0.0.1:port, RFC 7143 §13.8 TargetAddress), which is
    // the host's loopback and unreachable from behind slirp's NAT; so log in through a node record for the
    // address the guest can reach, as an initiator behind NAT would.
    await step(`login${secure ? ' (CHAP, CRC32C header and data digests)' : ''}`, async () => {
      await g.sh(['iscsiadm', '-m', 'node', '-o', 'new', '-T', iqn, '-p', portal], { timeoutMs: 30_000 });
      if (secure) {
        const set = (name: string, value: string) =>
          g.sh(['iscsiadm', '-m', 'node', '-T', iqn, '-p', portal, '-o', 'update', '-n', name, '-v', value], { timeoutMs: 30_000 });
        await set('node.session.auth.authmethod', 'CHAP');
        await set('node.session.auth.username', CHAP.user);
        await set('node.session.auth.password', CHAP.secret);
        await set('node.conn[0].iscsi.HeaderDigest', 'CRC32C');
        await set('node.conn[0].iscsi.DataDigest', 'CRC32C');
      }
      await g.sh(['iscsiadm', '-m', 'node', '-T', iqn, '-p', portal, '--login'], { timeoutMs: 60_000 });
      if (secure) {
        const info = await g.sh(['iscsiadm', '-m', 'session', '-P', '2'], { timeoutMs: 30_000 });
        for (const key of ['HeaderDigest', 'DataDigest']) {
          if (!new RegExp(`${key}: CRC32C`).test(info)) throw new Error(`${key} was not negotiated to CRC32C:\n${info}`);
        }
      }
    });
    const lun = target.lunIds[0];
    const dev = (await step(`wait for the SCSI disk (LUN ${lun})`, () => g.sh(`
      for i in $(seq 1 300); do
        udevadm settle --timeout=5
        for p in /dev/disk/by-path/ip-${portal}-iscsi-${iqn}-lun-${lun}; do
          [ -b "$p" ] && { readlink -f "$p"; exit 0; }
        done
        sleep 0.1
      done
      iscsiadm -m session -P 3 >&2; lsblk >&2; exit 1`, { timeoutMs: 60_000 }))).trim();
    log(`[open-iscsi]   disk: ${dev} (${(await g.sh(['lsblk', '-dno', 'SIZE,VENDOR,MODEL', dev])).trim()})`);
    await step('mkfs.ext4', () => g.sh(['mkfs.ext4', '-F', '-q', dev], { timeoutMs: 120_000 }));
    const sums = await step(`mount, write ${randomMiB} MiB random + 64 small files, sync, umount`, () => g.sh(`
      set -euo pipefail
      mkdir -p /mnt/lun && mount ${dev} /mnt/lun
      head -c ${randomMiB}M /dev/urandom > /mnt/lun/random.bin
      mkdir /mnt/lun/small
      for i in $(seq 1 64); do head -c $((i * 513)) /dev/urandom > /mnt/lun/small/f$i; done
      (cd /mnt/lun && sha256sum random.bin small/*) > /root/sums
      sync
      umount /mnt/lun
      cat /root/sums`, { timeoutMs: 300_000 }));
    await step('drop caches, remount, verify checksums', () => g.sh(`
      set -euo pipefail
      blockdev --flushbufs ${dev}
      echo 3 > /proc/sys/vm/drop_caches
      mount ${dev} /mnt/lun
      (cd /mnt/lun && sha256sum --quiet -c /root/sums)
      umount /mnt/lun`, { timeoutMs: 300_000 }));
    await step('logout', async () => {
      await g.sh(['iscsiadm', '-m', 'node', '-T', iqn, '-p', portal, '--logout'], { timeoutMs: 60_000 });
      const s = await g.run(['iscsiadm', '-m', 'session']);
      // open-iscsi exits 21 (ISCSI_ERR_NO_OBJS_FOUND) when no session is left.
      if (s.code !== 21) throw new Error(`a session is still listed after logout (exit ${s.code}): ${s.stdout}${s.stderr}`);
    });
    await step('host reads random.bin back from the LUN file', async () => {
      const want = /^([0-9a-f]{64})\s+random\.bin$/m.exec(sums)?.[1];
      if (!want) throw new Error(`no checksum for random.bin in:\n${sums}`);
      const out = join(work, 'random.bin');
      await runCommand(['debugfs', '-R', `dump /random.bin ${out}`, lunFile]);
      const got = createHash('sha256').update(await readFile(out)).digest('hex');
      if (got !== want) throw new Error(`LUN file holds ${got}, the guest wrote ${want}`);
    });
    log(`[open-iscsi] PASS in ${((Date.now() - t0) / 1000).toFixed(1)} s (guest boot ${(vm.bootMs / 1000).toFixed(1)} s)`);
  } finally {
    const s = Date.now();
    if (vm) await vm.shutdown().catch((e: Error) => log(`[open-iscsi] guest shutdown: ${e.message}`));
    if (target) await target.stop().catch((e: Error) => log(`[open-iscsi] target stop: ${e.message}`));
    await rm(work, { recursive: true, force: true });
    log(`[open-iscsi] cleanup (guest off, target stopped): ${((Date.now() - s) / 1000).toFixed(1)} s`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    await runOpenIscsiE2E();
  } catch (e) {
    console.error(`[open-iscsi] FAIL: ${(e as Error).stack ?? e}`);
    process.exitCode = 1;
  }
}
