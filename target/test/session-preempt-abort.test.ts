// PREEMPT AND ABORT over real sessions (SPC-4 §5.13.11.2.4): the preempted nexus's task in flight is aborted —
// it never gets a response — while the preempting session carries on; the preempted one then learns of it
// through REGISTRATIONS PREEMPTED.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Opcode } from 'node-iscsi-pdu';
import { BLOCK, senseOf, startTarget, write10 } from './support/target-fixture.ts';
import type { RawInitiator } from './support/raw-initiator.ts';
import { SA, TYPE, basicList, prOutCdb } from './scsi-pr-support.ts';

async function prOut(ini: RawInitiator, sa: number, type: number, key: bigint, sark: bigint): Promise<number> {
  const list = basicList(key, sark);
  const r = await ini.result(ini.command(prOutCdb(sa, type, list.length), { write: true, edtl: list.length, data: list }));
  return r.status;
}

test('PREEMPT AND ABORT aborts the preempted session\'s task and tells it', async () => {
  const f = await startTarget();
  try {
    // InitialR2T=Yes and a WRITE sent without immediate data: it waits for Data-Out that the test never sends
    const a = await f.session({ operational: { InitialR2T: 'Yes' } });
    const b = await f.session();
    assert.equal(await prOut(a, SA.REGISTER, 0, 0n, 0xaan), 0);
    assert.equal(await prOut(b, SA.REGISTER, 0, 0n, 0xbbn), 0);
    assert.equal(await prOut(a, SA.RESERVE, TYPE.WE, 0xaan, 0n), 0);

    const stuck = a.command(write10(8, 8), { write: true, edtl: 8 * BLOCK });
    const r2t = await a.next(2000);
    assert.equal(r2t?.opcode, Opcode.R2T, 'the WRITE is waiting for its data');

    assert.equal(await prOut(b, SA.PREEMPT_AND_ABORT, TYPE.WE, 0xbbn, 0xaan), 0);
    // the data the target asked for arrives after the abort: it is dropped, and the WRITE never answers
    assert.ok(r2t.opcode === Opcode.R2T);
    a.dataOut({ itt: stuck, ttt: r2t.ttt, offset: 0, data: Buffer.alloc(8 * BLOCK, 0x5a), dataSN: 0, final: true });
    const late = await a.next(700);
    assert.ok(!late || !(late.opcode === Opcode.ScsiResponse && late.itt === stuck), 'the aborted WRITE got no response');

    // the preempted session's next command reports it (SPC-4 §5.13.11.2.4: REGISTRATIONS PREEMPTED)
    const tur = await a.result(a.command(Buffer.alloc(6)));
    assert.equal(tur.status, 2);
    assert.deepEqual(senseOf(tur.sense), { key: 0x06, asc: 0x2a, ascq: 0x05 });
    // and the preempting session holds the reservation and works
    const ok = await b.result(b.command(Buffer.alloc(6)));
    assert.equal(ok.status, 0);
  } finally {
    await f.stop();
  }
});
