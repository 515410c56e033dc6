// A LUN on a real LVM logical volume, end to end, all inside the Debian test guest (issue 5, "What must be
// shown" 2): the StorageManager makes a VG on two virtual disks and a 64 MiB linear LV; `openlun targetd` serves
// it from a desired-state file on 127.0.0.1:3260 with an ACL admitting only the guest's initiator; open-iscsi
// discovers, logs in, mkfs.ext4, writes files with checksums; the LV is extended online by 64 MiB, targetd is
// asked over its control socket to refreshCapacity (CAPACITY DATA HAS CHANGED, SBC-4 §4.6), the initiator
// rescans and sees 128 MiB, resize2fs grows the mounted filesystem, new data lands beyond the old end, and every
// checksum still verifies after a remount; then logout, targetd stopped, LV/VG/PVs removed.
// The guest runs dist/openlun.mjs from the read-only share (rebuilt on the host first when stale) and a bundled
// StorageManager/control-socket tool (e2e/guest/lun-tool.ts) copied in. Each step prints its duration.
// Part of npm test; OPENLUN_SKIP_GUEST=1 skips it:
//   node --import tsx --test e2e/lv-iscsi-resize.test.ts
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Guest } from './guest/guest.ts';
import { bundleLunTool, ensureOpenlunBundle } from './guest/bundles.ts';

const skip = process.env['OPENLUN_SKIP_GUEST'] === '1' ? 'OPENLUN_SKIP_GUEST=1' : false;
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MiB = 2 ** 20;

const VG = 'vg_lun';
const LV = 'lun0';
const LV_PATH = `/dev/${VG}/${LV}`;
const IQN = 'iqn.2026-11.org.openlun:e2e.lv-resize';
const PORTAL = '127.0.0.1:3260';
const LUN = 0;
const INITIAL = 64 * MiB;
const GROWN = 128 * MiB;
const LUN_TOOL = '/root/lun-tool.mjs';
const WORK = '/root/openlun';
const STATE = `${WORK}/target-state.json`;
const SOCKET = '/run/openlun/target.sock';
const TARGETD_LOG = `${WORK}/targetd.log`;
const BY_PATH = `/dev/disk/by-path/ip-${PORTAL}-iscsi-${IQN}-lun-${LUN}`;

describe('LUN on a real LV: openlun targetd + open-iscsi in the guest, online resize', { skip, timeout: 12 * 60_000 }, () => {
  let vm: Guest | undefined;
  let hostWork: string | undefined;
  let disks: string[] = [];
  let targetdPid = 0;
  let dev = '';
  let failed = false;
  const durations: string[] = [];

  /** One step: runs only while the steps before it passed (they build on each other), prints its duration. */
  const step = (name: string, fn: (g: Guest) => Promise<void>) =>
    it(name, async (t) => {
      if (failed || !vm) return t.skip('an earlier step failed');
      const t0 = Date.now();
      try {
        await fn(vm);
      } catch (e) {
        failed = true;
        throw e;
      } finally {
        const line = `${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s`;
        durations.push(line);
        console.log(`# lv-iscsi-resize: ${line}`);
      }
    });

  /** lun-tool in the guest; its one JSON line. */
  const tool = async (g: Guest, args: string[]): Promise<any> => {
    const out = await g.sh(['node', LUN_TOOL, ...args], { timeoutMs: 120_000 });
    return JSON.parse(out.trim().split('\n').at(-1)!);
  };
  const sizeOf = async (g: Guest, path: string): Promise<number> => Number((await g.sh(['blockdev', '--getsize64', path])).trim());
  const fsBytes = async (g: Guest): Promise<number> => Number((await g.sh(['df', '-B1', '--output=size', '/mnt/lun'])).trim().split('\n').at(-1));

  before(async () => {
    const t0 = Date.now();
    const bundle = await ensureOpenlunBundle(repo);
    hostWork = await mkdtemp(join(tmpdir(), 'openlun-lv-iscsi-'));
    await bundleLunTool(repo, join(hostWork, 'lun-tool.mjs'));
    vm = await Guest.boot({ disks: [{ sizeMiB: 256 }, { sizeMiB: 256 }], shareDir: repo, timeoutMs: 240_000 });
    disks = vm.disks.map((d) => d.guestPath);
    await vm.copyIn(join(hostWork, 'lun-tool.mjs'), LUN_TOOL);
    const line = `bundles${bundle.rebuilt ? ' (dist rebuilt)' : ''} + guest boot: ${((Date.now() - t0) / 1000).toFixed(1)} s (boot ${(vm.bootMs / 1000).toFixed(1)} s)`;
    durations.push(line);
    console.log(`# lv-iscsi-resize: ${line}`);
  });

  after(async () => {
    if (vm && failed) {
      // what the target and the kernel said, for whoever reads the failure
      const r = await vm.run(`tail -n 40 ${TARGETD_LOG} 2>&1; echo ---; dmesg | tail -n 40; echo ---; iscsiadm -m session -P 3 2>&1 | tail -n 30; lvs 2>&1`, { timeoutMs: 30_000 }).catch(() => undefined);
      if (r) console.log(`# lv-iscsi-resize diagnostics:\n${r.stdout}${r.stderr}`);
    }
    await vm?.shutdown();
    if (hostWork) await rm(hostWork, { recursive: true, force: true });
    console.log(`# lv-iscsi-resize: ${durations.join(', ')}`);
  });

  step('1. StorageManager: PVs on both disks, a VG across them, a 64 MiB linear LV', async (g) => {
    const r = await tool(g, ['setup', VG, LV, String(INITIAL), ...disks]);
    assert.equal(r.vg.pvCount, 2);
    assert.ok(r.vg.size > 480 * MiB, `VG of ${r.vg.size} bytes spans both 256 MiB disks`);
    assert.deepEqual([r.lv.path, r.lv.kind, r.lv.size, r.lv.active], [LV_PATH, 'linear', INITIAL, true]);
    assert.equal(await sizeOf(g, LV_PATH), INITIAL);
  });

  step('2. openlun targetd serves the LV from a desired-state file (ACL: this initiator only)', async (g) => {
    const initiator = (await g.sh(['sed', '-n', 's/^InitiatorName=//p', '/etc/iscsi/initiatorname.iscsi'])).trim();
    assert.match(initiator, /^iqn\./);
    const state = {
      version: 1,
      hostname: 'openlun-guest',
      listen: [{ host: '127.0.0.1', port: 3260 }],
      backstores: [{
        name: LV, kind: 'block', path: LV_PATH, sizeBytes: INITIAL, blockSize: 512, readOnly: false, writeBack: false,
        serial: 'e2e-lv-resize-0', naaId: '6001405e2e1e5a0b0000000000000001',
      }],
      targets: [{
        name: IQN, portalGroupTag: 1, portals: [{ host: '127.0.0.1', port: 3260 }], luns: [{ lun: LUN, backstore: LV }],
        acl: [{ group: 'guest', initiators: [initiator], networks: [] }],
      }],
      warnings: [],
    };
    await g.sh(['mkdir', '-p', '-m', '700', WORK]);
    await g.sh(['tee', STATE], { stdin: JSON.stringify(state, null, 2) });
    await g.sh(['chmod', '600', STATE]);
    // In its own session with output to a file, so the agent's command returns while targetd keeps running; a
    // wrapper shell waits for it and records its exit status (the guest's PID 1, the agent, reaps no orphans).
    await g.sh(['tee', `${WORK}/run-targetd.sh`], { stdin: [
      `node --enable-source-maps /mnt/share/dist/openlun.mjs targetd --state ${STATE} --control ${SOCKET} </dev/null >${TARGETD_LOG} 2>&1 &`,
      `echo $! > ${WORK}/targetd.pid`,
      `wait $!`,
      `echo $? > ${WORK}/targetd.exit`,
      '',
    ].join('\n') });
    targetdPid = Number((await g.sh(`
      setsid bash ${WORK}/run-targetd.sh </dev/null >/dev/null 2>&1 &
      for i in $(seq 1 100); do [ -s ${WORK}/targetd.pid ] && exec cat ${WORK}/targetd.pid; sleep 0.1; done
      exit 1`)).trim());
    assert.ok(targetdPid > 1);
    const started = Date.now();
    await g.sh(`
      for i in $(seq 1 300); do
        grep -q '^control socket ' ${TARGETD_LOG} && exit 0
        kill -0 ${targetdPid} 2>/dev/null || { echo "targetd exited:" >&2; cat ${TARGETD_LOG} >&2; exit 1; }
        sleep 0.2
      done
      echo "targetd did not start in 60 s:" >&2; cat ${TARGETD_LOG} >&2; exit 1`, { timeoutMs: 90_000 });
    console.log(`# lv-iscsi-resize:   targetd up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const ping = await tool(g, ['control', SOCKET, 'ping']);
    assert.equal(ping.pid, targetdPid);
    assert.deepEqual(ping.portals, [{ host: '127.0.0.1', port: 3260 }]);
  });

  step('3. open-iscsi: discovery, login, the disk, mkfs.ext4, files with checksums', async (g) => {
    await g.sh('modprobe iscsi_tcp && iscsid </dev/null >/dev/null 2>&1', { timeoutMs: 30_000 });
    const discovered = await g.sh(['iscsiadm', '-m', 'discovery', '-t', 'sendtargets', '-p', PORTAL], { timeoutMs: 60_000 });
    assert.ok(discovered.split('\n').some((l) => l.trim() === `${PORTAL},1 ${IQN}`), `discovery returned:\n${discovered}`);
    await g.sh(['iscsiadm', '-m', 'node', '-T', IQN, '-p', PORTAL, '--login'], { timeoutMs: 60_000 });
    dev = (await g.sh(`
      for i in $(seq 1 300); do
        udevadm settle --timeout=5
        [ -b "${BY_PATH}" ] && { readlink -f "${BY_PATH}"; exit 0; }
        sleep 0.1
      done
      iscsiadm -m session -P 3 >&2; lsblk >&2; exit 1`, { timeoutMs: 60_000 })).trim();
    assert.match(dev, /^\/dev\/sd[a-z]+$/);
    assert.equal(await sizeOf(g, dev), INITIAL);
    await g.sh(['mkfs.ext4', '-F', '-q', dev], { timeoutMs: 120_000 });
    await g.sh(`
      set -euo pipefail
      mkdir -p /mnt/lun && mount ${dev} /mnt/lun
      head -c 8M /dev/urandom > /mnt/lun/before.bin
      mkdir /mnt/lun/small
      for i in $(seq 1 16); do head -c $((i * 1531)) /dev/urandom > /mnt/lun/small/f$i; done
      (cd /mnt/lun && sha256sum before.bin small/*) > /root/sums
      sync`, { timeoutMs: 120_000 });
  });

  step('4. LV extended online by 64 MiB, refreshCapacity, the initiator sees 128 MiB, resize2fs, data intact', async (g) => {
    const fsBefore = await fsBytes(g);
    assert.ok(fsBefore < INITIAL, `the filesystem starts below 64 MiB (${fsBefore})`);
    const ext = await tool(g, ['extend', VG, LV, String(GROWN)]);
    assert.deepEqual([ext.lv.size, ext.lv.open], [GROWN, true]); // open: targetd holds the LV while it grows
    assert.equal(await sizeOf(g, LV_PATH), GROWN);
    // Nothing told the initiator yet: its disk still has the old capacity.
    assert.equal(await sizeOf(g, dev), INITIAL);
    const refreshed = await tool(g, ['control', SOCKET, 'refreshCapacity', JSON.stringify({ target: IQN, lun: LUN })]);
    assert.equal(refreshed.sizeBytes, GROWN);
    // The next command on the nexus gets CHECK CONDITION, UNIT ATTENTION, CAPACITY DATA HAS CHANGED (SBC-4 §4.6);
    // Linux's SCSI midlayer logs it (scsi_report_sense) and retries the command. It does not re-read the capacity
    // by itself (no udev rule does either), so the session is rescanned as an admin would.
    await g.sh(['dd', `if=${dev}`, 'of=/dev/null', 'bs=4096', 'count=1', 'iflag=direct', 'status=none']);
    const kernelLog = await g.sh(['dmesg']);
    assert.match(kernelLog, /Capacity data has changed/, 'the initiator received the CAPACITY DATA HAS CHANGED unit attention');
    const sawByItself = (await sizeOf(g, dev)) === GROWN;
    await g.sh(['iscsiadm', '-m', 'session', '--rescan'], { timeoutMs: 60_000 });
    await g.sh(`
      for i in $(seq 1 100); do
        [ "$(blockdev --getsize64 ${dev})" = ${GROWN} ] && exit 0
        sleep 0.2
      done
      echo "${dev} still $(blockdev --getsize64 ${dev}) bytes after the rescan" >&2; exit 1`, { timeoutMs: 60_000 });
    console.log(`# lv-iscsi-resize:   new size seen ${sawByItself ? 'after the unit attention alone' : 'after iscsiadm --rescan'}`);
    await g.sh(['resize2fs', dev], { timeoutMs: 120_000 }); // online: the filesystem stays mounted
    const fsAfter = await fsBytes(g);
    // ~60 MiB of the 64 MiB: the new block groups carry their own bitmaps and inode tables
    assert.ok(fsAfter - fsBefore >= 56 * MiB, `the filesystem grew from ${fsBefore} to ${fsAfter}`);
    // 8 MiB + 56 MiB + the small files do not fit in the old filesystem (~55 MiB): the new extents are really used.
    await g.sh(`
      set -euo pipefail
      head -c 56M /dev/urandom > /mnt/lun/after.bin
      (cd /mnt/lun && sha256sum after.bin) >> /root/sums
      sync
      umount /mnt/lun
      blockdev --flushbufs ${dev}
      echo 3 > /proc/sys/vm/drop_caches
      mount ${dev} /mnt/lun
      (cd /mnt/lun && sha256sum --quiet -c /root/sums)
      e2fsck_out=$(umount /mnt/lun && e2fsck -fn ${dev} 2>&1) || { echo "$e2fsck_out" >&2; exit 1; }`, { timeoutMs: 240_000 });
  });

  step('5. logout, targetd stopped, LV, VG and PVs removed', async (g) => {
    await g.sh(['iscsiadm', '-m', 'node', '-T', IQN, '-p', PORTAL, '--logout'], { timeoutMs: 60_000 });
    const s = await g.run(['iscsiadm', '-m', 'session']);
    assert.equal(s.code, 21, `a session is still listed after logout: ${s.stdout}${s.stderr}`); // ISCSI_ERR_NO_OBJS_FOUND
    const sessions = await tool(g, ['control', SOCKET, 'sessions']);
    assert.deepEqual(sessions.sessions, []);
    const exit = (await g.sh(`
      kill -TERM ${targetdPid}
      for i in $(seq 1 300); do [ -s ${WORK}/targetd.exit ] && exec cat ${WORK}/targetd.exit; sleep 0.1; done
      echo "targetd still running 30 s after SIGTERM:" >&2
      ls -l /proc/${targetdPid}/fd >&2; grep -E 'State|Threads' /proc/${targetdPid}/status >&2
      for t in /proc/${targetdPid}/task/*; do echo "$t $(cat $t/comm) $(cat $t/wchan)" >&2; done
      tail -n 5 ${TARGETD_LOG} >&2
      kill -KILL ${targetdPid}; exit 1`, { timeoutMs: 60_000 })).trim();
    assert.equal(exit, '0', `targetd exited with ${exit} after SIGTERM (log: ${TARGETD_LOG})`);
    assert.match(await g.sh(['cat', TARGETD_LOG]), /SIGTERM: shutting down/);
    const r = await tool(g, ['teardown', VG, LV, ...disks]);
    assert.deepEqual([r.vgs, r.pvs], [[], []]);
  });
});
