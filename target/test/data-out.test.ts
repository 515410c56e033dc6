/** DataOutAssembler: immediate/unsolicited/solicited data-out of one command (RFC 7143 §4.2.4, §11.7, §11.8). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Opcode, RESERVED_TAG } from 'node-iscsi-pdu';
import type { DataOutPdu } from 'node-iscsi-pdu';
import { DataOutAssembler, DataOutProtocolError } from '../src/iscsi/data-out.ts';
import type { BurstLimits, R2TRequest } from '../src/iscsi/data-out.ts';
import { ScsiError } from '../src/scsi/sense.ts';

function pattern(n: number, seed = 7): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

function dataOut(o: { ttt?: number; offset: number; data: Buffer; dataSN: number; final: boolean }): DataOutPdu {
  return {
    opcode: Opcode.DataOut,
    final: o.final,
    lun: 0n,
    itt: 1,
    ttt: o.ttt ?? RESERVED_TAG,
    expStatSN: 0,
    dataSN: o.dataSN,
    bufferOffset: o.offset,
    ahs: Buffer.alloc(0),
    data: o.data,
  };
}

function make(edtl: number, immediate: Buffer, final: boolean, limits: Partial<BurstLimits>) {
  const r2ts: R2TRequest[] = [];
  let sn = 0;
  let ttt = 0x100;
  const full: BurstLimits = { firstBurstLength: 65536, maxBurstLength: 262144, maxOutstandingR2T: 1, initialR2T: true, ...limits };
  const a = new DataOutAssembler(edtl, immediate, final, full, {
    nextR2TSN: () => sn++,
    allocateTtt: () => ttt++,
    sendR2T: (r) => r2ts.push({ ttt: r.ttt, r2tSN: r.r2tSN, bufferOffset: r.bufferOffset, desiredDataTransferLength: r.desiredDataTransferLength }),
  });
  return { a, r2ts };
}

/** Settles a promise within a tick, or reports it pending. */
async function state<T>(p: Promise<T>): Promise<{ s: 'pending' } | { s: 'ok'; v: T } | { s: 'err'; e: unknown }> {
  const pending = Symbol();
  const r = await Promise.race([p.then((v) => ({ s: 'ok' as const, v }), (e: unknown) => ({ s: 'err' as const, e })), new Promise((r) => setImmediate(() => r(pending)))]);
  return r === pending ? { s: 'pending' } : (r as { s: 'ok'; v: T } | { s: 'err'; e: unknown });
}

describe('DataOutAssembler', () => {
  it('a write carried wholly as immediate data needs no R2T', async () => {
    const payload = pattern(1024);
    const { a, r2ts } = make(1024, payload, true, {});
    const got = await a.read(1024);
    assert.deepEqual(got, payload);
    assert.equal(r2ts.length, 0);
    assert.equal(a.requested, 1024);
    assert.equal((await state(a.quiesced())).s, 'ok');
  });

  it('immediate + unsolicited Data-Out up to FirstBurstLength, then R2T for the rest (InitialR2T=No)', async () => {
    const payload = pattern(8192);
    const { a, r2ts } = make(8192, payload.subarray(0, 1024), false, { initialR2T: false, firstBurstLength: 4096 });
    const p = a.read(8192);
    assert.equal(r2ts.length, 0, 'no R2T while the unsolicited sequence is open');
    a.receive(dataOut({ offset: 1024, data: payload.subarray(1024, 2048), dataSN: 0, final: false }));
    a.receive(dataOut({ offset: 2048, data: payload.subarray(2048, 4096), dataSN: 1, final: true }));
    // RFC 7143 §11.8: the solicited part starts where the unsolicited part ended
    assert.deepEqual(r2ts, [{ ttt: 0x100, r2tSN: 0, bufferOffset: 4096, desiredDataTransferLength: 4096 }]);
    assert.equal((await state(p)).s, 'pending');
    a.receive(dataOut({ ttt: 0x100, offset: 4096, data: payload.subarray(4096), dataSN: 0, final: true }));
    assert.deepEqual(await p, payload);
    assert.equal((await state(a.quiesced())).s, 'ok');
  });

  it('unsolicited data beyond FirstBurstLength is a protocol error', () => {
    const { a } = make(8192, Buffer.alloc(0), false, { initialR2T: false, firstBurstLength: 4096 });
    assert.throws(() => a.receive(dataOut({ offset: 0, data: Buffer.alloc(8192), dataSN: 0, final: true })), DataOutProtocolError);
  });

  it('immediate data beyond min(FirstBurstLength, EDTL) is refused at once', () => {
    assert.throws(() => make(8192, Buffer.alloc(4608), true, { firstBurstLength: 4096 }), DataOutProtocolError);
    assert.throws(() => make(512, Buffer.alloc(1024), true, {}), DataOutProtocolError);
  });

  it('solicits in MaxBurstLength pieces, at most MaxOutstandingR2T at a time, R2TSN counting up', async () => {
    const payload = pattern(65536);
    const { a, r2ts } = make(65536, Buffer.alloc(0), true, { maxBurstLength: 4096, maxOutstandingR2T: 2 });
    const p = a.read(65536);
    assert.deepEqual(
      r2ts.map((r) => [r.r2tSN, r.bufferOffset, r.desiredDataTransferLength]),
      [[0, 0, 4096], [1, 4096, 4096]],
    );
    // answer them in order, two PDUs each; every answer frees one slot
    for (let i = 0; i < 16; i++) {
      const r = r2ts[i]!;
      assert.equal(r.bufferOffset, i * 4096);
      assert.equal(r.r2tSN, i);
      a.receive(dataOut({ ttt: r.ttt, offset: r.bufferOffset, data: payload.subarray(r.bufferOffset, r.bufferOffset + 2048), dataSN: 0, final: false }));
      a.receive(dataOut({ ttt: r.ttt, offset: r.bufferOffset + 2048, data: payload.subarray(r.bufferOffset + 2048, r.bufferOffset + 4096), dataSN: 1, final: true }));
      assert.ok(r2ts.length <= i + 3, 'never more than MaxOutstandingR2T outstanding');
    }
    assert.equal(r2ts.length, 16);
    assert.equal(new Set(r2ts.map((r) => r.ttt)).size, 16, 'a fresh TTT per R2T');
    assert.deepEqual(await p, payload);
  });

  it('a DataSN gap loses the data: the read fails with DATA PHASE ERROR, and the sequence is still followed', async () => {
    const { a, r2ts } = make(4096, Buffer.alloc(0), true, {});
    const p = a.read(4096);
    const ttt = r2ts[0]!.ttt;
    a.receive(dataOut({ ttt, offset: 0, data: Buffer.alloc(2048), dataSN: 0, final: false }));
    a.receive(dataOut({ ttt, offset: 2048, data: Buffer.alloc(2048), dataSN: 5, final: true }));
    const s = await state(p);
    assert.equal(s.s, 'err');
    assert.ok(s.s === 'err' && s.e instanceof ScsiError && s.e.reason === 'DATA_PHASE_ERROR');
    assert.equal((await state(a.quiesced())).s, 'ok', 'nothing more is expected');
  });

  it('a digest failure on a Data-Out fails the read with PROTOCOL SERVICE CRC ERROR (47h/05h)', async () => {
    const { a, r2ts } = make(4096, Buffer.alloc(0), true, {});
    const p = a.read(4096);
    const quiet = a.quiesced();
    a.receive(dataOut({ ttt: r2ts[0]!.ttt, offset: 0, data: Buffer.alloc(4096), dataSN: 0, final: true }), false);
    const s = await state(p);
    assert.ok(s.s === 'err' && s.e instanceof ScsiError && s.e.reason === 'PROTOCOL_SERVICE_CRC_ERROR');
    assert.equal((await state(quiet)).s, 'ok');
  });

  it('a wrong buffer offset, an unknown TTT, or an early F bit is a protocol error', () => {
    const { a, r2ts } = make(8192, Buffer.alloc(0), true, {});
    void a.read(8192).catch(() => undefined);
    const ttt = r2ts[0]!.ttt;
    assert.throws(() => a.receive(dataOut({ ttt, offset: 512, data: Buffer.alloc(512), dataSN: 0, final: false })), DataOutProtocolError);
    assert.throws(() => a.receive(dataOut({ ttt: 0xdead, offset: 0, data: Buffer.alloc(512), dataSN: 0, final: false })), DataOutProtocolError);
    assert.throws(() => a.receive(dataOut({ ttt, offset: 0, data: Buffer.alloc(512), dataSN: 0, final: true })), DataOutProtocolError);
    const b = make(4096, Buffer.alloc(0), true, {});
    void b.a.read(4096).catch(() => undefined);
    assert.throws(
      () => b.a.receive(dataOut({ ttt: b.r2ts[0]!.ttt, offset: 0, data: Buffer.alloc(8192), dataSN: 0, final: true })),
      DataOutProtocolError,
      'more data than the R2T asked for',
    );
    const c = make(4096, Buffer.alloc(0), true, {});
    assert.throws(() => c.a.receive(dataOut({ offset: 0, data: Buffer.alloc(512), dataSN: 0, final: true })), DataOutProtocolError, 'unsolicited Data-Out with InitialR2T=Yes');
  });

  it('EDTL below what the CDB needs: only EDTL is solicited, the read gets a short buffer', async () => {
    const { a, r2ts } = make(1024, Buffer.alloc(0), true, {});
    const p = a.read(4096);
    assert.deepEqual(r2ts.map((r) => [r.bufferOffset, r.desiredDataTransferLength]), [[0, 1024]]);
    a.receive(dataOut({ ttt: r2ts[0]!.ttt, offset: 0, data: pattern(1024), dataSN: 0, final: true }));
    const got = await p;
    assert.equal(got.length, 1024);
    assert.equal(a.requested, 4096, 'the residual is computed from what the command wanted');
  });

  it('abort fails a pending read and quiesces; later Data-Out is ignored', async () => {
    const { a, r2ts } = make(4096, Buffer.alloc(0), true, {});
    const p = a.read(4096);
    const quiet = a.quiesced();
    assert.equal((await state(quiet)).s, 'pending');
    a.abort(new Error('ABORT TASK'));
    const s = await state(p);
    assert.ok(s.s === 'err' && (s.e as Error).message === 'ABORT TASK');
    assert.equal((await state(quiet)).s, 'ok');
    assert.doesNotThrow(() => a.receive(dataOut({ ttt: r2ts[0]!.ttt, offset: 0, data: Buffer.alloc(4096), dataSN: 0, final: true })));
    await assert.rejects(a.read(4096));
  });
});
