/**
 * Regression tests for two session-layer bugs found while writing the robustness suite:
 * - a queued command rejected after the CmdSN gap filled was answered with the header of the PDU that filled the
 *   gap (RFC 7143 §11.17: the Reject's data segment is the header of the rejected PDU);
 * - a Data-Out with a data digest error for an unknown ITT got two Rejects (0x02 and 0x09) for one PDU.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Opcode, encodePdu } from 'node-iscsi-pdu';
import type { RejectPdu } from 'node-iscsi-pdu';
import { BLOCK, assertHealthy, startTarget, write10 } from './support/target-fixture.ts';
import type { TargetFixture } from './support/target-fixture.ts';

describe('session: ordering and Reject headers', () => {
  let t: TargetFixture;
  before(async () => {
    t = await startTarget();
  });
  after(async () => {
    await t.stop();
  });

  it('a command queued behind a CmdSN gap is rejected with its own header', async () => {
    const ini = await t.session({ operational: { ImmediateData: 'No' } });
    // a WRITE waiting for its Data-Out keeps ITT 0x100 busy
    const busy = ini.command(write10(10, 1), { write: true, edtl: BLOCK, itt: 0x100 });
    const r2t = await ini.expect(Opcode.R2T);
    const gap = ini.cmdSN;
    // CmdSN gap+1 reuses the busy ITT and waits in the queue; CmdSN gap fills the hole
    ini.command(Buffer.alloc(6), { itt: 0x100, cmdSN: (gap + 1) >>> 0 });
    const filler = ini.command(Buffer.alloc(6), { itt: 0x200, cmdSN: gap });
    ini.cmdSN = (gap + 2) >>> 0;
    const seen: Array<{ op: number; itt: number }> = [];
    for (let i = 0; i < 2; i++) {
      const p = await ini.next();
      assert.ok(p, 'two answers');
      if (p.opcode === Opcode.Reject) {
        const rej = p as RejectPdu;
        assert.equal(rej.reason, 0x07);
        seen.push({ op: p.opcode, itt: rej.data.readUInt32BE(16) });
        assert.equal(rej.data.readUInt32BE(24), (gap + 1) >>> 0, 'the Reject carries the CmdSN of the rejected PDU');
      } else if (p.opcode === Opcode.ScsiResponse) {
        seen.push({ op: p.opcode, itt: p.itt });
      }
    }
    assert.deepEqual(
      seen.sort((a, b) => a.op - b.op),
      [{ op: Opcode.ScsiResponse, itt: filler }, { op: Opcode.Reject, itt: 0x100 }],
    );
    ini.dataOut({ itt: busy, ttt: r2t.ttt, offset: 0, data: Buffer.alloc(BLOCK), dataSN: 0, final: true });
    assert.equal((await ini.result(busy)).status, 0);
    await assertHealthy(ini);
    ini.close();
  });

  it('a Data-Out with a data digest error for an unknown ITT gets exactly one Reject (0x02)', async () => {
    const ini = await t.session({ operational: { DataDigest: 'CRC32C' } });
    const bytes = Buffer.concat(
      encodePdu({ opcode: Opcode.DataOut, final: true, lun: 0n, itt: 0x3333, ttt: 9, expStatSN: ini.expStatSN, dataSN: 0, bufferOffset: 0, data: Buffer.alloc(512, 1) }, ini.digests),
    );
    bytes[60] ^= 1;
    ini.sendRaw(bytes);
    const rej = (await ini.expect(Opcode.Reject)) as RejectPdu;
    assert.equal(rej.reason, 0x02);
    const itt = ini.nopOut();
    const next = await ini.next();
    assert.equal(next?.opcode, Opcode.NopIn, 'no second Reject for the same PDU');
    assert.equal((next as { itt: number }).itt, itt);
    ini.close();
  });
});
