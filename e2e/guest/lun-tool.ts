// Runs INSIDE the Debian test guest: the few storage-manager and targetd-control calls an end-to-end test needs,
// one JSON line on stdout per call (exit 1 and the error on stderr otherwise). The host bundles it with esbuild
// (bundleLunTool in e2e/guest/bundles.ts) so each call starts in about a second instead of tsx's ~10 s under TCG.
//   node lun-tool.mjs setup <vg> <lv> <bytes> <disk>...   PVs on the disks, a VG across them, a linear LV
//   node lun-tool.mjs extend <vg> <lv> <newBytes>          online extend (lvextend through StorageManager)
//   node lun-tool.mjs teardown <vg> <lv> <disk>...        LV, VG and PVs removed again
//   node lun-tool.mjs control <socket> <op> [params-json]  one request to targetd's control socket
import { TargetClient } from '../../api/src/target-client.ts';
import { StorageManager } from '../../lvm/src/index.ts';
import type { LvInfo } from '../../lvm/src/index.ts';

const lvSummary = (lv: LvInfo) => ({ name: lv.name, vg: lv.vg, path: lv.path, size: lv.size, kind: lv.kind, active: lv.active, open: lv.open });

function bytes(arg: string | undefined): number {
  const n = Number(arg);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`not a byte count: ${arg}`);
  return n;
}

async function main(argv: string[]): Promise<unknown> {
  const [cmd, ...rest] = argv;
  const mgr = new StorageManager({});
  switch (cmd) {
    case 'setup': {
      const [vg, lv, size, ...disks] = rest;
      if (!vg || !lv || disks.length === 0) throw new Error('setup <vg> <lv> <bytes> <disk>...');
      for (const d of disks) await mgr.createPv(d);
      const vgInfo = await mgr.createVg(vg, disks);
      const lvInfo = await mgr.createLinear(vg, lv, bytes(size));
      return { vg: { name: vgInfo.name, size: vgInfo.size, free: vgInfo.free, pvCount: vgInfo.pvCount }, lv: lvSummary(lvInfo) };
    }
    case 'extend': {
      const [vg, lv, size] = rest;
      if (!vg || !lv) throw new Error('extend <vg> <lv> <newBytes>');
      return { lv: lvSummary(await mgr.extendLv(vg, lv, bytes(size))) };
    }
    case 'teardown': {
      const [vg, lv, ...disks] = rest;
      if (!vg || !lv) throw new Error('teardown <vg> <lv> <disk>...');
      await mgr.removeLv(vg, lv);
      await mgr.removeVg(vg);
      for (const d of disks) await mgr.removePv(d);
      return { vgs: (await mgr.listVgs()).map((v) => v.name), pvs: (await mgr.listPvs()).map((p) => p.name) };
    }
    case 'control': {
      const [socket, op, params] = rest;
      if (!socket || !op) throw new Error('control <socket> <op> [params-json]');
      return new TargetClient(socket, 30_000).request(op, params ? (JSON.parse(params) as Record<string, unknown>) : {});
    }
    default:
      throw new Error(`unknown command ${JSON.stringify(cmd)}; known: setup, extend, teardown, control`);
  }
}

try {
  process.stdout.write(`${JSON.stringify(await main(process.argv.slice(2)))}\n`);
} catch (e) {
  process.stderr.write(`lun-tool: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
}
