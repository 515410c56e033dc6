import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackstoreError, openBackstore } from '../src/backstore/index.ts';
import { probeSize, splitDevT } from '../src/backstore/device-size.ts';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'openlun-bs-'));
}

test('regular sparse file: size, positional write/read, zeros where nothing was written', async () => {
  const dir = await tempDir();
  try {
    const path = join(dir, 'disk.img');
    const fh = await open(path, 'w');
    await fh.truncate(1 << 30); // 1 GiB, sparse
    await fh.close();
    const bs = await openBackstore(path, { readOnly: false });
    assert.equal(bs.size(), 1 << 30);
    assert.equal(bs.readOnly, false);
    const data = Buffer.alloc(128 * 1024, 0x5a);
    await bs.write(512 * 1024 * 1024, data);
    assert.deepEqual(await bs.read(512 * 1024 * 1024, data.length), data);
    const z = await bs.read(4096, 8192);
    assert.ok(z.every((b) => b === 0));
    await bs.flush();
    await bs.close();
    await bs.close(); // idempotent
    assert.ok((await stat(path)).blocks * 512 < 4 << 20, 'still sparse');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('reads past EOF of a short file return zeros (the rest of the buffer is zero-filled)', async () => {
  const dir = await tempDir();
  try {
    const path = join(dir, 'short.img');
    await writeFile(path, Buffer.alloc(1000, 7));
    const bs = await openBackstore(path, { readOnly: true });
    const b = await bs.read(512, 1024);
    assert.ok(b.subarray(0, 488).every((x) => x === 7));
    assert.ok(b.subarray(488).every((x) => x === 0));
    await bs.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('read-only: write rejects; write-through opens with O_DSYNC and writes through', async () => {
  const dir = await tempDir();
  try {
    const path = join(dir, 'ro.img');
    await writeFile(path, Buffer.alloc(4096));
    const ro = await openBackstore(path, { readOnly: true });
    await assert.rejects(ro.write(0, Buffer.alloc(512)), (e: unknown) => e instanceof BackstoreError && e.code === 'EROFS');
    await ro.close();
    const wt = await openBackstore(path, { readOnly: false, writeThrough: true });
    await wt.write(512, Buffer.alloc(512, 9));
    await wt.close();
    assert.equal((await readFile(path))[600], 9);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('missing path and a directory give clear errors', async () => {
  const dir = await tempDir();
  try {
    await assert.rejects(openBackstore(join(dir, 'nope.img'), { readOnly: false }), (e: unknown) => {
      assert.ok(e instanceof BackstoreError);
      assert.equal(e.code, 'ENOENT');
      assert.match(e.message, /does not exist/);
      return true;
    });
    await assert.rejects(openBackstore(dir, { readOnly: false }), /neither a regular file nor a block device/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('refreshSize follows a grown file; bad ranges and closed handles are errors', async () => {
  const dir = await tempDir();
  try {
    const path = join(dir, 'grow.img');
    await writeFile(path, Buffer.alloc(4096));
    const bs = await openBackstore(path, { readOnly: false });
    const fh = await open(path, 'r+');
    await fh.truncate(1 << 20);
    await fh.close();
    assert.equal(bs.size(), 4096, 'size is the one read at open until refreshed');
    assert.equal(await bs.refreshSize(), 1 << 20);
    assert.equal(bs.size(), 1 << 20);
    await assert.rejects(bs.read(-1, 10), BackstoreError);
    await bs.close();
    await assert.rejects(bs.read(0, 10), /closed/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('probeSize finds the exact end by positional reads (block-device fallback)', async () => {
  const dir = await tempDir();
  try {
    for (const size of [0, 1, 511, 512, 513, 4096 * 3 + 7, 1_000_000]) {
      const path = join(dir, `p${size}.img`);
      await writeFile(path, Buffer.alloc(size, 1));
      const fh = await open(path, 'r');
      assert.equal(await probeSize(fh), size, `size ${size}`);
      await fh.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('splitDevT decodes Linux dev_t (major 8 minor 1 = sda1, major 259 minor 65536)', () => {
  assert.deepEqual(splitDevT(0x801n), { major: 8n, minor: 1n });
  const big = (259n << 8n) | 0n | ((65536n & ~0xffn) << 12n);
  assert.deepEqual(splitDevT(big), { major: 259n, minor: 65536n });
});

test('a loop block device, when one can be set up, reports its size via sysfs', { skip: process.getuid?.() !== 0 }, async (t) => {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const run = promisify(execFile);
  const dir = await tempDir();
  let loop: string | undefined;
  try {
    const path = join(dir, 'loop.img');
    const fh = await open(path, 'w');
    await fh.truncate(8 << 20);
    await fh.close();
    try {
      loop = (await run('losetup', ['--find', '--show', path])).stdout.trim();
    } catch {
      t.skip('losetup not available here');
      return;
    }
    const bs = await openBackstore(loop, { readOnly: true });
    assert.equal(bs.size(), 8 << 20);
    await bs.close();
  } finally {
    if (loop) await run('losetup', ['-d', loop]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
});
