// ATS (COMPARE AND WRITE) latency under load: ESXi heartbeats VMFS with ATS and declares a datastore lost when a
// heartbeat takes ~8 s or miscompares (interop.md), so ATS must stay fast while the LUN is busy. One session does
// heartbeat-style CAWs on one block (compare with what it last wrote, write a new stamp) while qemu-img bench runs
// 4K writes at QD32 on the same LUN; prints p50/p99/max of the CAW latency. tgt is run too, but Debian's tgt answers
// COMPARE AND WRITE with INVALID COMMAND OPERATION CODE on its rdwr backstore, so it only gives the load figure.
//   node --import tsx bench/ats-latency.ts [--seconds 10]
import { parseArgs } from 'node:util';
import { makeTempDir, MiB } from '../e2e/helpers/files.ts';
import { run } from '../e2e/helpers/run.ts';
import { startOpenlun, startTgt, type RunningTarget } from '../e2e/helpers/targets.ts';
import { RawInitiator } from '../target/test/support/raw-initiator.ts';

const BLOCK = 512;
const LUN_BYTES = 4096 * MiB;
// the last MiB holds the heartbeat block; the 4K write load runs from offset 0 and never gets there in time
const HEARTBEAT_LBA = BigInt(LUN_BYTES / BLOCK - 2048);
const LOAD_REQUESTS = (LUN_BYTES - MiB) / 4096;
const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '10' } } });
const seconds = Number(args.seconds);

function caw(lba: bigint): Buffer {
  const cdb = Buffer.alloc(16);
  cdb[0] = 0x89; // SBC-4 §5.3 COMPARE AND WRITE
  cdb.writeBigUInt64BE(lba, 2);
  cdb[13] = 1; // number of logical blocks
  return cdb;
}

function stamp(n: number): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(`openlun-heartbeat ${n}`);
  return b;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function measure(t: RunningTarget): Promise<{ n: number; p50: number; p99: number; max: number; failed: number }> {
  const ini = await RawInitiator.connect(t.port);
  const login = await ini.login({ initiatorName: 'iqn.2026-11.org.openlun:ats-bench', targetName: t.iqn });
  if (login.statusClass !== 0) throw new Error(`login to ${t.kind} failed: ${login.statusClass}/${login.statusDetail}`);
  const lun = BigInt(t.lunIds[0]!) << 48n;
  // clear the power-on unit attention, then put a known stamp on the heartbeat block
  for (let i = 0; i < 3; i++) if ((await ini.result(ini.command(Buffer.alloc(6), { lun }))).status === 0) break;
  const w = Buffer.alloc(10);
  w[0] = 0x2a;
  w.writeUInt32BE(Number(HEARTBEAT_LBA), 2);
  w.writeUInt16BE(1, 7);
  if ((await ini.result(ini.command(w, { lun, write: true, edtl: BLOCK, data: stamp(0) }))).status !== 0) throw new Error('initial write failed');

  const load = run(['qemu-img', 'bench', '-w', '-c', String(LOAD_REQUESTS), '-d', '32', '-s', '4096', '-t', 'none', '-f', 'raw', t.url(0)],
    { timeoutMs: (seconds + 5) * 1000 });
  await new Promise((r) => setTimeout(r, 500));
  const latencies: number[] = [];
  let failed = 0;
  const end = Date.now() + seconds * 1000;
  for (let n = 1; Date.now() < end; n++) {
    const t0 = process.hrtime.bigint();
    const r = await ini.result(ini.command(caw(HEARTBEAT_LBA), { lun, write: true, edtl: 2 * BLOCK, data: Buffer.concat([stamp(n - 1), stamp(n)]) }), 15_000);
    latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.status !== 0) {
      failed++;
      if (failed === 1) console.log(`${t.kind}: first failed CAW: status ${r.status} sense ${r.sense.toString("hex")}`);
    }
    await new Promise((res) => setTimeout(res, 10)); // a heartbeat, not a flood
  }
  await load; // qemu-img bench is stopped by its timeout
  ini.close();
  latencies.sort((a, b) => a - b);
  return { n: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1)!, failed };
}

const dir = await makeTempDir('openlun-ats-');
const targets: RunningTarget[] = [];
try {
  const { createSparseFile } = await import('../e2e/helpers/files.ts');
  const a = await createSparseFile(dir.file('a.img'), LUN_BYTES);
  const b = await createSparseFile(dir.file('b.img'), LUN_BYTES);
  targets.push(await startOpenlun({ luns: [a], iqn: 'iqn.2026-11.org.openlun:ats' }));
  targets.push(await startTgt({ luns: [b], iqn: 'iqn.2026-11.org.openlun:ats-tgt' }));
  console.log(`ATS heartbeat latency under 4K write load QD32 (${seconds} s each), milliseconds`);
  for (const t of targets) {
    const m = await measure(t);
    console.log(`${t.kind.padEnd(8)} n=${m.n} p50=${m.p50.toFixed(2)} p99=${m.p99.toFixed(2)} max=${m.max.toFixed(2)} failed=${m.failed}`);
  }
} finally {
  for (const t of targets) await t.stop();
  await dir.remove();
}
