// openlun against tgt, side by side: same initiators, same kind of backing file (1 GiB, filled with
// data and read once so reads come from the page cache), runs alternating between the two targets,
// the median of each. Until bin/openlun exists, or with BENCH_CANDIDATE=tgt, a second tgt stands in
// for openlun, which shows what the harness itself does (the ratio should be about 1).
//
//   npm run bench [-- --runs 3 --seconds 5 --json results.json]
import { writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { randomFillSync } from 'node:crypto';
import { parseArgs } from 'node:util';
import { makeTempDir, MiB, GiB } from '../e2e/helpers/files.ts';
import { describeRun, run } from '../e2e/helpers/run.ts';
import { OPENLUN_BIN, startOpenlun, startTgt, type RunningTarget } from '../e2e/helpers/targets.ts';
import { median, parseIscsiPerf, parseQemuImgBench } from './parse.ts';

interface IscsiPerfWorkload {
  readonly name: string;
  readonly tool: 'iscsi-perf';
  /** bytes per request */
  readonly bytes: number;
  readonly depth: number;
  readonly random: boolean;
}

interface QemuBenchWorkload {
  readonly name: string;
  readonly tool: 'qemu-img-bench';
  readonly bytes: number;
  readonly depth: number;
  /** requests per run: qemu-img bench counts requests, not seconds */
  readonly requests: number;
}

type Workload = IscsiPerfWorkload | QemuBenchWorkload;

const WORKLOADS = [
  { name: '4K random read QD32', tool: 'iscsi-perf', bytes: 4096, depth: 32, random: true },
  { name: '128K seq read QD32', tool: 'iscsi-perf', bytes: 128 * 1024, depth: 32, random: false },
  { name: '4K seq write QD32', tool: 'qemu-img-bench', bytes: 4096, depth: 32, requests: 100_000 },
  { name: '256K seq write QD16', tool: 'qemu-img-bench', bytes: 256 * 1024, depth: 16, requests: 3_000 },
] as const satisfies readonly Workload[];

const BLOCK_SIZE = 512;
const INITIATOR = 'iqn.2026-11.org.openlun:bench';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    'size-gib': { type: 'string', default: '1' },
    json: { type: 'string' },
  },
});
const runs = Number(args.runs);
const seconds = Number(args.seconds);
const lunBytes = Number(args['size-gib']) * GiB;
if (!(runs >= 1) || !(seconds >= 1) || !(lunBytes > 0)) throw new Error('bad --runs / --seconds / --size-gib');

async function measure(w: Workload, t: RunningTarget): Promise<number> {
  if (w.tool === 'iscsi-perf') {
    const argv = ['iscsi-perf', '-i', INITIATOR, '-m', String(w.depth), '-b', String(w.bytes / BLOCK_SIZE),
      '-t', String(seconds), ...(w.random ? ['-r'] : []), t.url(0)];
    const r = await run(argv, { timeoutMs: (seconds + 30) * 1000 });
    if (r.code !== 0) throw new Error(describeRun(r));
    return parseIscsiPerf(r.stdout).iops;
  }
  const opts = `driver=iscsi,transport=tcp,portal=${t.portal},target=${t.iqn},lun=${t.lunIds[0]},initiator-name=${INITIATOR}`;
  const argv = ['qemu-img', 'bench', '-w', '-c', String(w.requests), '-d', String(w.depth), '-s', String(w.bytes),
    '-t', 'none', '--image-opts', opts];
  const r = await run(argv, { timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(describeRun(r));
  return parseQemuImgBench(r.stdout, w.requests).iops;
}

/** Fills the file with non-zero data (a repeated random 4 MiB block) and leaves it in the page cache. */
async function prefill(path: string, bytes: number): Promise<void> {
  const fh = await open(path, 'w');
  try {
    const chunk = randomFillSync(Buffer.alloc(4 * MiB));
    for (let done = 0; done < bytes; done += chunk.length) {
      await fh.write(chunk, 0, Math.min(chunk.length, bytes - done));
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const useOpenlun = process.env['BENCH_CANDIDATE'] !== 'tgt' && existsSync(OPENLUN_BIN);
  const dir = await makeTempDir('openlun-bench-');
  const targets: RunningTarget[] = [];
  try {
    const fileA = dir.file('candidate.img');
    const fileB = dir.file('baseline.img');
    console.log(`bench: filling two ${fmt(lunBytes / GiB, 1)} GiB backing files in ${dir.path}`);
    await prefill(fileA, lunBytes);
    await prefill(fileB, lunBytes);
    const candidate = useOpenlun
      ? await startOpenlun({ luns: [fileA], iqn: 'iqn.2026-11.org.openlun:bench-candidate' })
      : await startTgt({ luns: [fileA], iqn: 'iqn.2026-11.org.openlun:bench-candidate' });
    targets.push(candidate);
    const baseline = await startTgt({ luns: [fileB], iqn: 'iqn.2026-11.org.openlun:bench-baseline' });
    targets.push(baseline);
    const candidateName = useOpenlun ? 'openlun' : 'tgt#2';
    if (!useOpenlun) console.log('bench: bin/openlun not used; a second tgt stands in for it (harness check)');
    console.log(`bench: ${runs} runs per workload per target, alternating; iscsi-perf runs ${seconds} s\n`);

    const results = WORKLOADS.map((w) => ({ workload: w, candidate: [] as number[], baseline: [] as number[] }));
    for (let i = 0; i < runs; i++) {
      for (const res of results) {
        // Alternate which target goes first so neither always gets the warmer cache.
        const order = i % 2 === 0 ? (['candidate', 'baseline'] as const) : (['baseline', 'candidate'] as const);
        for (const who of order) {
          const iops = await measure(res.workload, who === 'candidate' ? candidate : baseline);
          res[who].push(iops);
          console.log(`  run ${i + 1} ${res.workload.name.padEnd(22)} ${(who === 'candidate' ? candidateName : 'tgt').padEnd(8)} ${fmt(iops).padStart(9)} IOPS`);
        }
      }
    }

    const header = `${'workload'.padEnd(22)} | ${`${candidateName} IOPS`.padStart(13)} ${'MB/s'.padStart(8)} | ${'tgt IOPS'.padStart(10)} ${'MB/s'.padStart(8)} | ${`${candidateName}/tgt`.padStart(12)}`;
    console.log(`\nmedian of ${runs} runs\n${header}\n${'-'.repeat(header.length)}`);
    const rows = results.map((r) => {
      const a = median(r.candidate);
      const b = median(r.baseline);
      const mbA = (a * r.workload.bytes) / 1e6;
      const mbB = (b * r.workload.bytes) / 1e6;
      console.log(`${r.workload.name.padEnd(22)} | ${fmt(a).padStart(13)} ${fmt(mbA).padStart(8)} | ${fmt(b).padStart(10)} ${fmt(mbB).padStart(8)} | ${fmt(a / b, 2).padStart(12)}`);
      return { workload: r.workload.name, candidate: candidateName, candidateIops: r.candidate, baselineIops: r.baseline,
        candidateMedianIops: a, baselineMedianIops: b, ratio: a / b };
    });
    if (args.json) await writeFile(args.json, `${JSON.stringify({ runs, seconds, lunBytes, rows }, null, 2)}\n`);
  } finally {
    for (const t of targets) await t.stop();
    await dir.remove();
  }
}

await main();
