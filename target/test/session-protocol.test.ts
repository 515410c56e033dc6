/**
 * Full feature phase over a real socket against an in-process target: numbering, NOP, R2T, Data-In, residuals,
 * sense for bad requests, reinstatement, logout, keepalive and shutdown (RFC 7143 §4.2.2, §11; SPC-4; SBC-4).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Opcode, RESERVED_TAG, encodeLun } from 'node-iscsi-pdu';
import type { DataInPdu, ScsiResponsePdu } from 'node-iscsi-pdu';
import { encodeKeys } from './support/raw-initiator.ts';
import { BLOCK, assertHealthy, read10, senseOf, startTarget, write10 } from './support/target-fixture.ts';
import type { TargetFixture } from './support/target-fixture.ts';

const TUR = Buffer.alloc(6);
const CHECK_CONDITION = 0x02;

function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 13 + seed) & 0xff;
  return b;
}

describe('session protocol', () => {
  let t: TargetFixture;
  before(async () => {
    t = await startTarget({ blocks: 2048 });
  });
  after(async () => {
    await t.stop();
  });

  it('NOP-Out ping: NOP-In echoes the data with the same ITT and TTT 0xffffffff (RFC 7143 §11.19)', async () => {
    const ini = await t.session();
    const ping = Buffer.from('are you there?');
    const itt = ini.nopOut(ping);
    const nop = await ini.expect(Opcode.NopIn);
    assert.equal(nop.itt, itt);
    assert.equal(nop.ttt, RESERVED_TAG);
    assert.deepEqual(nop.data, ping);
    ini.close();
  });

  it('StatSN advances by one per status; ExpCmdSN/MaxCmdSN advance per command (§4.2.2)', async () => {
    const ini = await t.session();
    const answers: ScsiResponsePdu[] = [];
    for (let i = 0; i < 4; i++) {
      const sn = ini.cmdSN;
      const r = await ini.result(ini.command(TUR));
      assert.equal(r.status, 0);
      const p = r.pdu as ScsiResponsePdu;
      assert.equal(p.expCmdSN, (sn + 1) >>> 0, 'ExpCmdSN is the next CmdSN');
      answers.push(p);
    }
    for (let i = 1; i < answers.length; i++) {
      assert.equal(answers[i]!.statSN, (answers[i - 1]!.statSN + 1) >>> 0);
      assert.equal(answers[i]!.maxCmdSN, (answers[i - 1]!.maxCmdSN + 1) >>> 0);
    }
    assert.ok(answers.every((a) => ((a.maxCmdSN - a.expCmdSN) >>> 0) < 0x80000000), 'MaxCmdSN ≥ ExpCmdSN - 1');
    ini.close();
  });

  it('a command outside the window is ignored and the session goes on (§4.2.2.1)', async () => {
    const ini = await t.session();
    const exp = ini.cmdSN;
    ini.command(TUR, { cmdSN: (exp + 100_000) >>> 0 });
    ini.command(TUR, { cmdSN: (exp - 1) >>> 0 });
    assert.equal(await ini.next(300), undefined, 'no answer to an out-of-window command');
    const r = await ini.result(ini.command(TUR));
    assert.equal(r.status, 0);
    assert.equal((r.pdu as ScsiResponsePdu).expCmdSN, (exp + 1) >>> 0, 'ignored commands consumed no CmdSN');
    ini.close();
  });

  it('an immediate command is executed at once and does not advance ExpCmdSN (§3.2.2.1)', async () => {
    const ini = await t.session();
    // a hole: CmdSN cmdSN+1 queued behind the missing cmdSN
    const gapSN = ini.cmdSN;
    const queuedItt = ini.command(TUR, { cmdSN: (gapSN + 1) >>> 0 });
    const itt = 0x7000;
    ini.send({
      opcode: Opcode.ScsiCommand, immediate: true, final: true, read: false, write: false, attr: 1, lun: 0n, itt,
      expectedDataTransferLength: 0, cmdSN: gapSN, expStatSN: ini.expStatSN, cdb: Buffer.alloc(16),
    });
    const r = await ini.result(itt);
    assert.equal(r.status, 0);
    assert.equal((r.pdu as ScsiResponsePdu).expCmdSN, gapSN, 'ExpCmdSN unchanged by an immediate command');
    // now fill the hole: both queued commands run
    const fill = ini.command(TUR, { cmdSN: gapSN });
    const a = await ini.result(fill);
    const b = await ini.result(queuedItt);
    assert.equal(a.status, 0);
    assert.equal(b.status, 0);
    ini.close();
  });

  it('a 64 KiB WRITE with InitialR2T=Yes and MaxBurstLength 4 KiB is solicited in 16 R2Ts, then reads back', async () => {
    const ini = await t.session({
      operational: { InitialR2T: 'Yes', ImmediateData: 'No', MaxBurstLength: '4096', FirstBurstLength: '4096' },
    });
    const payload = pattern(65536, 3);
    const itt = ini.command(write10(100, 128), { write: true, edtl: 65536 });
    const w = await ini.writeSolicited(itt, payload, 1024);
    assert.equal(w.status, 0);
    assert.equal(w.r2ts.length, 16);
    w.r2ts.forEach((r, i) => {
      assert.equal(r.bufferOffset, i * 4096, 'R2T offset');
      assert.equal(r.desiredDataTransferLength, 4096, 'R2T length = MaxBurstLength');
      assert.equal(r.r2tSN, i, 'R2TSN counts from 0');
      assert.notEqual(r.ttt, RESERVED_TAG);
    });
    const rsp = w.pdu as ScsiResponsePdu;
    assert.equal(rsp.residualOverflow || rsp.residualUnderflow, false);
    assert.equal(rsp.expDataSN, 16, 'ExpDataSN = number of R2Ts (§11.4.8)');
    const r = await ini.result(ini.command(read10(100, 128), { read: true, edtl: 65536 }));
    assert.equal(r.status, 0);
    assert.ok(r.data.equals(payload), 'data read back equals data written');
    ini.close();
  });

  it('Data-In is split by the initiator MaxRecvDataSegmentLength: DataSN 0..n, F and S on the last PDU (§11.7)', async () => {
    const ini = await t.session({ operational: { MaxRecvDataSegmentLength: '4096' } });
    const payload = pattern(16 * 1024, 9);
    const witt = ini.command(write10(300, 32), { write: true, edtl: payload.length, data: payload.subarray(0, 16384), final: true });
    // 16 KiB fits FirstBurstLength (64 KiB) as immediate data
    assert.equal((await ini.result(witt)).status, 0);
    const itt = ini.command(read10(300, 32), { read: true, edtl: payload.length });
    const pdus: DataInPdu[] = [];
    for (;;) {
      const p = await ini.expect(Opcode.DataIn);
      assert.equal(p.itt, itt);
      pdus.push(p);
      if (p.hasStatus) break;
    }
    assert.equal(pdus.length, 4);
    pdus.forEach((p, i) => {
      assert.equal(p.dataSN, i);
      assert.equal(p.bufferOffset, i * 4096);
      assert.equal(p.data.length, 4096);
      assert.equal(p.final, i === 3, 'F only on the last PDU of the burst');
      assert.equal(p.hasStatus, i === 3, 'S only on the last');
    });
    assert.equal(pdus[3]!.status, 0);
    assert.ok(Buffer.concat(pdus.map((p) => p.data)).equals(payload));
    ini.close();
  });

  it('MaxRecvDataSegmentLength declared again in full feature phase (Text) applies to the next Data-In (§13.12)', async () => {
    const ini = await t.session();
    ini.send({
      opcode: Opcode.TextRequest, immediate: false, final: true, continue: false, lun: 0n, itt: 0x6000, ttt: RESERVED_TAG,
      cmdSN: ini.cmdSN, expStatSN: ini.expStatSN, data: encodeKeys({ MaxRecvDataSegmentLength: '2048' }),
    });
    ini.cmdSN = (ini.cmdSN + 1) >>> 0;
    const tr = await ini.expect(Opcode.TextResponse);
    assert.equal(tr.itt, 0x6000);
    assert.equal(tr.final, true);
    const itt = ini.command(read10(0, 16), { read: true, edtl: 8192 });
    const sizes: number[] = [];
    for (;;) {
      const p = await ini.expect(Opcode.DataIn);
      assert.equal(p.itt, itt);
      sizes.push(p.data.length);
      if (p.hasStatus) break;
    }
    assert.deepEqual(sizes, [2048, 2048, 2048, 2048]);
    ini.close();
  });

  it('read residuals are exact: underflow when EDTL is larger, overflow (data cut to EDTL) when smaller (§11.4.5)', async () => {
    const ini = await t.session();
    const under = await ini.result(ini.command(read10(0, 2), { read: true, edtl: 4096 }));
    const u = under.pdu as DataInPdu;
    assert.equal(under.data.length, 1024);
    assert.equal(u.residualUnderflow, true);
    assert.equal(u.residualOverflow, false);
    assert.equal(u.residualCount, 3072);
    const over = await ini.result(ini.command(read10(0, 4), { read: true, edtl: 1024 }));
    const o = over.pdu as DataInPdu;
    assert.equal(over.data.length, 1024, 'never more than EDTL');
    assert.equal(o.residualOverflow, true);
    assert.equal(o.residualUnderflow, false);
    assert.equal(o.residualCount, 1024);
    const exact = await ini.result(ini.command(read10(0, 2), { read: true, edtl: 1024 }));
    const e = exact.pdu as DataInPdu;
    assert.equal(e.residualOverflow || e.residualUnderflow, false);
    assert.equal(e.residualCount, 0);
    // a READ sent without the R bit and EDTL 0 may carry no Data-In: all it would have read is an overflow
    const noR = await ini.result(ini.command(read10(0, 1), { read: false, edtl: 0 }));
    const n = noR.pdu as ScsiResponsePdu;
    assert.equal(n.opcode, Opcode.ScsiResponse);
    assert.equal(noR.data.length, 0);
    assert.equal(n.residualOverflow, true);
    assert.equal(n.residualCount, BLOCK);
    ini.close();
  });

  it('an LBA past the end: CHECK CONDITION, ILLEGAL REQUEST 21h/00h (SBC-4 §4.5)', async () => {
    const ini = await t.session();
    const r = await ini.result(ini.command(read10(t.blocks, 1), { read: true, edtl: BLOCK }));
    assert.equal(r.status, CHECK_CONDITION);
    assert.equal(r.data.length, 0, 'no data for a failed read');
    assert.deepEqual(senseOf(r.sense), { key: 0x05, asc: 0x21, ascq: 0x00 });
    const straddle = await ini.result(ini.command(read10(t.blocks - 1, 2), { read: true, edtl: 2 * BLOCK }));
    assert.deepEqual(senseOf(straddle.sense), { key: 0x05, asc: 0x21, ascq: 0x00 });
    await assertHealthy(ini);
    ini.close();
  });

  it('an unknown opcode: ILLEGAL REQUEST 20h/00h (SPC-4 §4.5.6)', async () => {
    const ini = await t.session();
    const r = await ini.result(ini.command(Buffer.from([0x06, 0, 0, 0, 0, 0])));
    assert.equal(r.status, CHECK_CONDITION);
    assert.deepEqual(senseOf(r.sense), { key: 0x05, asc: 0x20, ascq: 0x00 });
    ini.close();
  });

  it('a LUN that does not exist: INQUIRY says qualifier 011b, TEST UNIT READY says 25h/00h (SPC-4 §4.6.4)', async () => {
    const ini = await t.session();
    const lun = encodeLun(5);
    const inq = await ini.result(ini.command(Buffer.from([0x12, 0, 0, 0, 96, 0]), { lun, read: true, edtl: 96 }));
    assert.equal(inq.status, 0);
    assert.equal(inq.data[0], 0x7f, 'peripheral qualifier 011b, device type 1Fh');
    const tur = await ini.result(ini.command(TUR, { lun }));
    assert.equal(tur.status, CHECK_CONDITION);
    assert.deepEqual(senseOf(tur.sense), { key: 0x05, asc: 0x25, ascq: 0x00 });
    ini.close();
  });

  it('a second login with the same ISID reinstates the session: the first connection is closed (§6.3.5)', async () => {
    const isid = Buffer.from([0x80, 0xaa, 0xbb, 0xcc, 0x00, 0x01]);
    const first = await t.session({ isid });
    await assertHealthy(first);
    const second = await t.session({ isid });
    assert.equal(await first.waitClosed(2000), true, 'the old connection is dropped');
    await assertHealthy(second);
    assert.notEqual(first.tsih, second.tsih);
    second.close();
  });

  it('Logout (close the session): response 0 with the same ITT, then the connection closes (§11.14, §11.15)', async () => {
    const ini = await t.session();
    const before = t.server.sessions.size;
    ini.send({ opcode: Opcode.LogoutRequest, immediate: true, reasonCode: 0, itt: 0x4242, cid: 1, cmdSN: ini.cmdSN, expStatSN: ini.expStatSN });
    const rsp = await ini.expect(Opcode.LogoutResponse);
    assert.equal(rsp.itt, 0x4242);
    assert.equal(rsp.response, 0);
    assert.equal(await ini.waitClosed(3000), true);
    await waitFor(() => t.server.sessions.size === before - 1);
  });
});

describe('keepalive and shutdown', () => {
  it('the target pings an idle connection with NOP-In and drops one that never answers (§11.19)', async () => {
    const t = await startTarget({ server: { nopIntervalMs: 80, nopTimeoutMs: 500 } });
    try {
      const polite = await t.session();
      const silent = await t.session();
      const started = Date.now();
      // the polite one answers every ping
      const answering = (async () => {
        while (!polite.closed && Date.now() - started < 2000) {
          const p = await polite.next(200);
          if (p?.opcode === Opcode.NopIn && p.itt === RESERVED_TAG) {
            assert.notEqual(p.ttt, RESERVED_TAG, 'a ping that wants an answer carries a TTT');
            polite.send({ opcode: Opcode.NopOut, immediate: true, lun: 0n, itt: RESERVED_TAG, ttt: p.ttt, cmdSN: polite.cmdSN, expStatSN: polite.expStatSN });
          }
        }
      })();
      const ping = await silent.expect(Opcode.NopIn, 1000);
      assert.equal(ping.itt, RESERVED_TAG);
      assert.notEqual(ping.ttt, RESERVED_TAG);
      assert.equal(await silent.waitClosed(3000), true, 'an unanswered ping ends the connection');
      await answering;
      assert.equal(polite.closed, false, 'the answering session is kept');
      await assertHealthy(polite);
    } finally {
      await t.stop();
    }
  });

  it('shutdown sends an Async Message (event 1, logout requested) before closing (§11.9.1)', async () => {
    const t = await startTarget();
    const ini = await t.session();
    const closing = t.server.close(300);
    const msg = await ini.expect(Opcode.AsyncMessage, 2000);
    assert.equal(msg.asyncEvent, 1);
    assert.ok(msg.parameter3 >= 1, 'Parameter3: seconds to log out in');
    await closing;
    assert.equal(await ini.waitClosed(1000), true, 'connections are closed at the end of the grace period');
    await t.stop();
  });
});

async function waitFor(cond: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

