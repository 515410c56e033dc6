// Pooled read buffers (backstore/read-buffers.ts) must never be handed out again while a Data-In still points
// into them: many concurrent large READs of distinct data over one session, every byte checked.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Opcode } from 'node-iscsi-pdu';
import { acquireReadBuffer, releaseReadBuffer } from '../src/backstore/read-buffers.ts';
import { BLOCK, read10, startTarget, writeImmediate } from './support/target-fixture.ts';

const CHUNK = 64 * 1024; // a pooled size class, and within the initiator's FirstBurstLength

test('the pool hands back only what was released, and only power-of-two sizes from 64 KiB', () => {
  const a = acquireReadBuffer(CHUNK);
  const b = acquireReadBuffer(CHUNK);
  assert.notEqual(a, b);
  releaseReadBuffer(a);
  assert.equal(acquireReadBuffer(CHUNK), a, 'a released buffer is reused');
  const odd = acquireReadBuffer(CHUNK + BLOCK);
  releaseReadBuffer(odd);
  assert.notEqual(acquireReadBuffer(CHUNK + BLOCK), odd, 'other sizes are never pooled');
  const foreign = Buffer.alloc(CHUNK);
  releaseReadBuffer(foreign);
  assert.notEqual(acquireReadBuffer(CHUNK), foreign, 'a buffer that did not come from the pool is ignored');
});

test('64 concurrent 64 KiB reads of distinct data, five rounds: every byte right', async () => {
  const chunks = 64;
  const f = await startTarget({ blocks: (chunks * CHUNK) / BLOCK });
  try {
    const ini = await f.session();
    for (let i = 0; i < chunks; i++) await writeImmediate(ini, (i * CHUNK) / BLOCK, Buffer.alloc(CHUNK, i + 1));
    for (let round = 0; round < 5; round++) {
      const byItt = new Map<number, { chunk: number; parts: Buffer[] }>();
      for (let i = 0; i < chunks; i++) {
        const chunk = (i * 7 + round) % chunks;
        const itt = ini.command(read10((chunk * CHUNK) / BLOCK, CHUNK / BLOCK), { read: true, edtl: CHUNK });
        byItt.set(itt, { chunk, parts: [] });
      }
      let done = 0;
      while (done < chunks) {
        const p = await ini.next(5000);
        assert.ok(p, 'target answered');
        if (p.opcode !== Opcode.DataIn) continue;
        const entry = byItt.get(p.itt);
        assert.ok(entry, `Data-In for ITT ${p.itt}`);
        // copy now: the test must see the bytes as they were on the wire
        entry.parts.push(Buffer.from(p.data));
        if (p.hasStatus) {
          assert.equal(p.status, 0);
          const data = Buffer.concat(entry.parts);
          assert.equal(data.length, CHUNK);
          const want = entry.chunk + 1;
          const bad = data.findIndex((b) => b !== want);
          assert.equal(bad, -1, `chunk ${entry.chunk} byte ${bad} is ${data[bad]}, expected ${want}`);
          done++;
        }
      }
    }
  } finally {
    await f.stop();
  }
});
