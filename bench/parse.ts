// Reading the figures the benchmark tools print.

/** iscsi-perf prints progress lines ending in \r and, at the end, "iops average N (M MB/s)". */
export function parseIscsiPerf(output: string): { iops: number } {
  const all = [...output.matchAll(/iops average (\d+) \(\d+ MB\/s\)/g)];
  const last = all.at(-1);
  if (!last?.[1]) throw new Error(`no "iops average" in iscsi-perf output:\n${output.slice(-2000)}`);
  return { iops: Number(last[1]) };
}

/** qemu-img bench prints "Run completed in S seconds." after sending a fixed number of requests. */
export function parseQemuImgBench(output: string, requests: number): { iops: number; seconds: number } {
  const m = /Run completed in ([\d.]+) seconds\./.exec(output);
  if (!m?.[1]) throw new Error(`no "Run completed" in qemu-img bench output:\n${output.slice(-2000)}`);
  const seconds = Number(m[1]);
  if (!(seconds > 0)) throw new Error(`qemu-img bench ran for ${m[1]} s`);
  return { iops: requests / seconds, seconds };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
