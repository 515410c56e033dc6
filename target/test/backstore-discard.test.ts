/** FileBackstore.discard / writeZeroes / allocation over a real sparse file (punch-hole via fallocate). */
import assert from 'node:assert/strict';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openBackstore } from '../src/backstore/index.ts';
import { loadNativeFs } from '../src/backstore/native-fs.ts';

const MiB = 1024 * 1024;

async function sparseFile(bytes: number): Promise<{ path: string; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'openlun-discard-'));
  const path = join(dir, 'lun.img');
  const fh = await open(path, 'w');
  await fh.truncate(bytes);
  await fh.close();
  return { path, dir };
}

/** Allocated bytes of a file (st_blocks is in 512-byte units whatever the fs block size). */
async function allocatedBytes(path: string): Promise<number> {
  return (await stat(path)).blocks * 512;
}

test('native fallocate/lseek are reachable on this Linux (koffi) — the rest of this file depends on it', async () => {
  const native = await loadNativeFs();
  assert.ok(native, 'koffi + libc loaded');
});

test('discard punches a hole: allocated blocks drop, the range reads zeros, size is kept, neighbours untouched', async () => {
  const { path, dir } = await sparseFile(8 * MiB);
  const bs = await openBackstore(path, { readOnly: false });
  try {
    assert.equal(bs.discardMethod, 'punch-hole');
    const data = Buffer.alloc(4 * MiB, 0xab);
    await bs.write(0, data);
    await bs.flush();
    const before = await allocatedBytes(path);
    assert.ok(before >= 4 * MiB, `written range is allocated (${before})`);
    await bs.discard!(MiB, 2 * MiB);
    const after = await allocatedBytes(path);
    assert.ok(before - after >= 2 * MiB - 8192, `2 MiB freed: ${before} → ${after}`);
    assert.equal((await stat(path)).size, 8 * MiB, 'KEEP_SIZE');
    assert.ok((await bs.read(MiB, 2 * MiB)).equals(Buffer.alloc(2 * MiB)), 'hole reads zeros');
    assert.ok((await bs.read(0, MiB)).equals(Buffer.alloc(MiB, 0xab)), 'before the hole unchanged');
    assert.ok((await bs.read(3 * MiB, MiB)).equals(Buffer.alloc(MiB, 0xab)), 'after the hole unchanged');
  } finally {
    await bs.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('discard of a partial fs block zeroes exactly the bytes asked for', async () => {
  const { path, dir } = await sparseFile(MiB);
  const bs = await openBackstore(path, { readOnly: false });
  try {
    await bs.write(0, Buffer.alloc(8192, 0x11));
    await bs.discard!(512, 1024);
    const got = await bs.read(0, 8192);
    const want = Buffer.alloc(8192, 0x11);
    want.fill(0, 512, 1536);
    assert.ok(got.equals(want));
  } finally {
    await bs.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('allocation(): SEEK_DATA/SEEK_HOLE extents of data and holes', async () => {
  const { path, dir } = await sparseFile(4 * MiB);
  const bs = await openBackstore(path, { readOnly: false });
  try {
    assert.deepEqual(await bs.allocation!(0), { mapped: false, end: 4 * MiB }, 'fresh sparse file is one hole');
    await bs.write(MiB, Buffer.alloc(64 * 1024, 1));
    assert.deepEqual(await bs.allocation!(0), { mapped: false, end: MiB });
    assert.deepEqual(await bs.allocation!(MiB), { mapped: true, end: MiB + 64 * 1024 });
    assert.deepEqual(await bs.allocation!(MiB + 64 * 1024), { mapped: false, end: 4 * MiB });
    await bs.discard!(MiB, 64 * 1024);
    assert.deepEqual(await bs.allocation!(0), { mapped: false, end: 4 * MiB }, 'discarded range is a hole again');
  } finally {
    await bs.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('writeZeroes zeroes a range (ZERO_RANGE) and it stays allocated', async () => {
  const { path, dir } = await sparseFile(4 * MiB);
  const bs = await openBackstore(path, { readOnly: false });
  try {
    await bs.write(0, Buffer.alloc(2 * MiB, 0x5a));
    await bs.writeZeroes!(0, MiB);
    assert.ok((await bs.read(0, MiB)).equals(Buffer.alloc(MiB)));
    assert.ok((await bs.read(MiB, MiB)).equals(Buffer.alloc(MiB, 0x5a)));
    assert.equal((await bs.allocation!(0)).mapped, true, 'zeroed, not deallocated');
  } finally {
    await bs.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('discard / writeZeroes on a read-only backstore are refused; bad ranges are errors', async () => {
  const { path, dir } = await sparseFile(MiB);
  const ro = await openBackstore(path, { readOnly: true });
  const rw = await openBackstore(path, { readOnly: false });
  try {
    await assert.rejects(ro.discard!(0, 4096), /read-only/);
    await assert.rejects(ro.writeZeroes!(0, 4096), /read-only/);
    await assert.rejects(rw.discard!(-1, 4096), /bad I\/O range/);
  } finally {
    await ro.close();
    await rw.close();
    await rm(dir, { recursive: true, force: true });
  }
});
