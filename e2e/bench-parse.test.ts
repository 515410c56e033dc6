// The benchmark's readers of iscsi-perf and qemu-img bench output (bench/parse.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { median, parseIscsiPerf, parseQemuImgBench } from '../bench/parse.ts';

test('iscsi-perf: the last "iops average" wins over the progress lines', () => {
  const out = 'performing RANDOM READ with 32 parallel requests\n' +
    '00:00:02 - lba 345964, iops current 49780 (194 MB/s), iops average 49780 (194 MB/s), in_flight 32\r' +
    '00:00:01 - lba 132541, iops current 52453 (204 MB/s), iops average 51117 (199 MB/s), in_flight 32\r' +
    'iops average 51705 (201 MB/s)          \n\nfinished.\n';
  assert.deepEqual(parseIscsiPerf(out), { iops: 51705 });
  assert.throws(() => parseIscsiPerf('connection refused'), /no "iops average"/);
});

test('qemu-img bench: requests over the reported run time', () => {
  const out = 'Sending 20000 write requests, 4096 bytes each, 32 in parallel\nRun completed in 0.500 seconds.\n';
  assert.deepEqual(parseQemuImgBench(out, 20000), { iops: 40000, seconds: 0.5 });
  assert.throws(() => parseQemuImgBench('Could not open', 1), /no "Run completed"/);
});

test('median of odd and even counts', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});
