/** Task management over a socket: ABORT TASK of a running, a queued and a not-yet-received command (RFC 7143 §11.5). */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Opcode } from 'node-iscsi-pdu';
import type { ScsiResponsePdu } from 'node-iscsi-pdu';
import type { RawInitiator } from './support/raw-initiator.ts';
import { BLOCK, assertHealthy, startTarget, write10 } from './support/target-fixture.ts';
import type { TargetFixture } from './support/target-fixture.ts';

const TUR = Buffer.alloc(6);

function abortTask(ini: RawInitiator, o: { ref: number; refCmdSN: number; function?: number }): number {
  const itt = ini.itt++;
  ini.send({
    opcode: Opcode.TaskManagementRequest,
    immediate: true,
    function: o.function ?? 1,
    lun: 0n,
    itt,
    referencedTaskTag: o.ref,
    cmdSN: ini.cmdSN,
    expStatSN: ini.expStatSN,
    refCmdSN: o.refCmdSN,
    expDataSN: 0,
  });
  return itt;
}

describe('task management', () => {
  let t: TargetFixture;
  before(async () => {
    t = await startTarget();
  });
  after(async () => {
    await t.stop();
  });

  it('ABORT TASK of a WRITE waiting for Data-Out: function complete, no response for the task, late Data-Out ignored', async () => {
    const ini = await t.session({ operational: { ImmediateData: 'No' } });
    const cmdSN = ini.cmdSN;
    const itt = ini.command(write10(20, 1), { write: true, edtl: BLOCK });
    const r2t = await ini.expect(Opcode.R2T);
    const tmf = abortTask(ini, { ref: itt, refCmdSN: cmdSN });
    const rsp = await ini.expect(Opcode.TaskManagementResponse);
    assert.equal(rsp.itt, tmf);
    assert.equal(rsp.response, 0);
    ini.dataOut({ itt, ttt: r2t.ttt, offset: 0, data: Buffer.alloc(BLOCK), dataSN: 0, final: true });
    const next = await ini.next(200);
    assert.equal(next, undefined, 'neither a SCSI Response nor a Reject for the aborted task');
    await assertHealthy(ini);
    ini.close();
  });

  it('ABORT TASK of a command queued behind a CmdSN gap: it never runs', async () => {
    const ini = await t.session();
    const gap = ini.cmdSN;
    const victim = ini.command(TUR, { cmdSN: (gap + 1) >>> 0 });
    ini.cmdSN = (gap + 2) >>> 0;
    abortTask(ini, { ref: victim, refCmdSN: (gap + 1) >>> 0 });
    assert.equal((await ini.expect(Opcode.TaskManagementResponse)).response, 0);
    const filler = ini.command(TUR, { cmdSN: gap });
    const r = await ini.result(filler);
    assert.equal(r.status, 0);
    assert.equal((r.pdu as ScsiResponsePdu).expCmdSN, (gap + 2) >>> 0, 'the aborted CmdSN counts as received');
    assert.equal(await ini.next(200), undefined, 'the victim is not answered');
    await assertHealthy(ini);
    ini.close();
  });

  it('ABORT TASK of a command not yet received: function complete, and the late command is dropped (§11.5.1)', async () => {
    const ini = await t.session();
    const lost = ini.cmdSN;
    ini.cmdSN = (lost + 1) >>> 0; // as if CmdSN `lost` were in flight
    abortTask(ini, { ref: 0x7777, refCmdSN: lost });
    assert.equal((await ini.expect(Opcode.TaskManagementResponse)).response, 0);
    const r = await ini.result(ini.command(TUR));
    assert.equal(r.status, 0, 'the window moved past the aborted CmdSN');
    ini.command(TUR, { cmdSN: lost, itt: 0x7777 });
    assert.equal(await ini.next(200), undefined, 'the late arrival is not executed');
    await assertHealthy(ini);
    ini.close();
  });

  it('ABORT TASK of an unknown task: task does not exist (1)', async () => {
    const ini = await t.session();
    abortTask(ini, { ref: 0x999999, refCmdSN: (ini.cmdSN - 10) >>> 0 });
    assert.equal((await ini.expect(Opcode.TaskManagementResponse)).response, 1);
    await assertHealthy(ini);
    ini.close();
  });
});
