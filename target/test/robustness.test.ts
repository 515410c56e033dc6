/**
 * Bad input against a live target: each gets its specific answer (Login status, Reject reason, CHECK CONDITION,
 * or a closed connection), and after EVERY case a bystander session on the same server still reads and a new login
 * still succeeds (RFC 7143 §6.1, §7.8, §11.12–§11.17, §13).
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Opcode, RESERVED_TAG, encodePdu } from 'node-iscsi-pdu';
import type { RejectPdu } from 'node-iscsi-pdu';
import { RawInitiator, decodeKeys, encodeKeys } from './support/raw-initiator.ts';
import { BLOCK, INITIATOR_IQN, TARGET_IQN, assertHealthy, senseOf, startTarget, write10 } from './support/target-fixture.ts';
import type { TargetFixture } from './support/target-fixture.ts';

const SECURE_IQN = 'iqn.2026-11.org.openlun:secure';
const PRIVATE_IQN = 'iqn.2026-11.org.openlun:private';
const CHAP = { user: 'tester', secret: 'correct-horse-battery' };
const STRANGER = 'iqn.1994-05.com.example:stranger';

describe('robustness: bad input', () => {
  let t: TargetFixture;
  let bystander: RawInitiator;
  before(async () => {
    t = await startTarget({
      extraTargets: [
        { name: SECURE_IQN, chap: CHAP },
        { name: PRIVATE_IQN, allowedInitiators: [INITIATOR_IQN] },
      ],
    });
    bystander = await t.session({ isid: Buffer.from([0x80, 0xbe, 0xef, 0, 0, 1]) });
  });
  after(async () => {
    await t.stop();
  });
  // the rule: the connection or the process never crashes, and other sessions are unaffected
  afterEach(async () => {
    await assertHealthy(bystander);
    const fresh = await t.session();
    await assertHealthy(fresh);
    fresh.close();
    assert.equal(t.log.lines.filter((l) => l.includes('internal error')).length, 0, 'no internal error was logged');
  });

  const raw = async (): Promise<RawInitiator> => t.track(await RawInitiator.connect(t.port));

  it('garbage bytes before login: the connection is closed', async () => {
    const ini = await raw();
    ini.sendRaw(Buffer.from('GET / HTTP/1.1\r\nHost: example\r\n\r\n'.padEnd(600, 'x')));
    assert.equal(await ini.waitClosed(), true);
  });

  it('a non-login PDU during login: the connection is closed (§6.1)', async () => {
    const ini = await raw();
    ini.nopOut(Buffer.from('hello'));
    assert.equal(await ini.waitClosed(), true);
  });

  it('a Login with T and C both set: 02/00 initiator error (§11.12.2)', async () => {
    const ini = await raw();
    const pdu = ini.loginPdu({ InitiatorName: INITIATOR_IQN, TargetName: TARGET_IQN, AuthMethod: 'None' }, { csg: 0, nsg: 1, transit: true });
    ini.send({ ...pdu, continue: true } as typeof pdu);
    const rsp = await ini.expect(Opcode.LoginResponse);
    assert.deepEqual([rsp.statusClass, rsp.statusDetail], [0x02, 0x00]);
    assert.equal(await ini.waitClosed(), true);
  });

  it('a login that violates the stage rules (operational → security, reserved CSG 2): 02/00 (§6.2, §11.12.3)', async () => {
    const back = await raw();
    back.send(back.loginPdu({ InitiatorName: INITIATOR_IQN, TargetName: TARGET_IQN, AuthMethod: 'None' }, { csg: 0, nsg: 1, transit: true }));
    assert.equal((await back.expect(Opcode.LoginResponse)).statusClass, 0);
    back.send(back.loginPdu({}, { csg: 1, nsg: 0, transit: true }));
    const r1 = await back.expect(Opcode.LoginResponse);
    assert.deepEqual([r1.statusClass, r1.statusDetail], [0x02, 0x00]);
    assert.equal(await back.waitClosed(), true);
    const reserved = await raw();
    reserved.send(reserved.loginPdu({ InitiatorName: INITIATOR_IQN, TargetName: TARGET_IQN, AuthMethod: 'None' }, { csg: 2, nsg: 3, transit: true }));
    const r2 = await reserved.expect(Opcode.LoginResponse);
    assert.deepEqual([r2.statusClass, r2.statusDetail], [0x02, 0x00]);
    assert.equal(await reserved.waitClosed(), true);
  });

  it('an out-of-range operational value is answered with Reject for that key and the login goes on (§6.2.1)', async () => {
    const ini = await raw();
    ini.send(ini.loginPdu({ InitiatorName: INITIATOR_IQN, TargetName: TARGET_IQN, AuthMethod: 'None' }, { csg: 0, nsg: 1, transit: true }));
    assert.equal((await ini.expect(Opcode.LoginResponse)).statusClass, 0);
    ini.send(ini.loginPdu({ FirstBurstLength: '100', MaxBurstLength: 'lots' }, { csg: 1, nsg: 3, transit: true }));
    const rsp = await ini.expect(Opcode.LoginResponse);
    assert.equal(rsp.statusClass, 0);
    const k = decodeKeys(rsp.data);
    assert.equal(k['FirstBurstLength'], 'Reject');
    assert.equal(k['MaxBurstLength'], 'Reject');
    ini.close();
  });

  it('Version-min above what we support: 02/05 unsupported version (§11.12.4)', async () => {
    const ini = await raw();
    const pdu = ini.loginPdu({ InitiatorName: INITIATOR_IQN, TargetName: TARGET_IQN, AuthMethod: 'None' }, { csg: 0, nsg: 1, transit: true });
    ini.send({ ...pdu, versionMin: 1, versionMax: 2 } as typeof pdu);
    const rsp = await ini.expect(Opcode.LoginResponse);
    assert.deepEqual([rsp.statusClass, rsp.statusDetail], [0x02, 0x05]);
    assert.equal(await ini.waitClosed(), true);
  });

  it('a Login without InitiatorName: 02/07 missing parameter (§13.11)', async () => {
    const ini = await raw();
    ini.send(ini.loginPdu({ TargetName: TARGET_IQN, SessionType: 'Normal', AuthMethod: 'None' }, { csg: 0, nsg: 1, transit: true }));
    const rsp = await ini.expect(Opcode.LoginResponse);
    assert.deepEqual([rsp.statusClass, rsp.statusDetail], [0x02, 0x07]);
    assert.equal(await ini.waitClosed(), true);
  });

  it('a data segment above our MaxRecvDataSegmentLength: the connection is closed (§13.12)', async () => {
    const ini = await t.session();
    ini.nopOut(Buffer.alloc(262144 + 4));
    assert.equal(await ini.waitClosed(), true);
  });

  it('a header digest error (digests negotiated): the connection is closed (§7.8)', async () => {
    const ini = await t.session({ operational: { HeaderDigest: 'CRC32C' } });
    assert.equal(ini.digests.headerDigest, true, 'header digest negotiated');
    await assertHealthy(ini);
    const bytes = Buffer.concat(
      encodePdu({ opcode: Opcode.NopOut, immediate: true, lun: 0n, itt: 77, ttt: RESERVED_TAG, cmdSN: ini.cmdSN, expStatSN: ini.expStatSN }, ini.digests),
    );
    bytes[20] ^= 0x01; // inside the ITT: the digest no longer matches
    ini.sendRaw(bytes);
    assert.equal(await ini.waitClosed(), true);
  });

  it('a data digest error on a SCSI Command with immediate data: Reject 0x02, the retried command succeeds (§7.8, §11.17)', async () => {
    const ini = await t.session({ operational: { DataDigest: 'CRC32C' } });
    assert.equal(ini.digests.dataDigest, true);
    const payload = Buffer.alloc(BLOCK, 0x5a);
    const itt = 0x900;
    const cmdSN = ini.cmdSN;
    const cdb = Buffer.alloc(16);
    write10(40, 1).copy(cdb);
    const cmd = { opcode: Opcode.ScsiCommand, immediate: false, final: true, read: false, write: true, attr: 1, lun: 0n, itt,
      expectedDataTransferLength: BLOCK, cmdSN, expStatSN: ini.expStatSN, cdb, data: payload } as const;
    const bytes = Buffer.concat(encodePdu(cmd, ini.digests));
    bytes[48 + 10] ^= 0xff; // a data byte
    ini.sendRaw(bytes);
    const rej = (await ini.expect(Opcode.Reject)) as RejectPdu;
    assert.equal(rej.reason, 0x02);
    assert.equal(rej.data.readUInt32BE(16), itt, 'the Reject carries the rejected header');
    // §7.8: the PDU was discarded, its CmdSN not consumed: the initiator retries with the same ITT and CmdSN
    ini.send(cmd);
    const r = await ini.result(itt);
    assert.equal(r.status, 0);
    ini.cmdSN = (cmdSN + 1) >>> 0;
    await assertHealthy(ini);
    ini.close();
  });

  it('a data digest error on a Data-Out: Reject 0x02, then CHECK CONDITION ABORTED COMMAND 47h/05h (§7.8 b)', async () => {
    const ini = await t.session({ operational: { DataDigest: 'CRC32C', ImmediateData: 'No' } });
    const itt = ini.command(write10(50, 8), { write: true, edtl: 4096 });
    const r2t = await ini.expect(Opcode.R2T);
    assert.equal(r2t.desiredDataTransferLength, 4096);
    const bytes = Buffer.concat(
      encodePdu({ opcode: Opcode.DataOut, final: true, lun: 0n, itt, ttt: r2t.ttt, expStatSN: ini.expStatSN, dataSN: 0, bufferOffset: 0, data: Buffer.alloc(4096, 1) }, ini.digests),
    );
    bytes[48 + 100] ^= 0x10;
    ini.sendRaw(bytes);
    const rej = (await ini.expect(Opcode.Reject)) as RejectPdu;
    assert.equal(rej.reason, 0x02);
    const r = await ini.result(itt);
    assert.equal(r.status, 0x02);
    assert.deepEqual(senseOf(r.sense), { key: 0x0b, asc: 0x47, ascq: 0x05 });
    await assertHealthy(ini);
    ini.close();
  });

  it('a SNACK at ErrorRecoveryLevel 0: Reject 0x04 protocol error (§11.16)', async () => {
    const ini = await t.session();
    ini.send({ opcode: Opcode.SnackRequest, type: 0, lun: 0n, itt: 5, ttt: RESERVED_TAG, expStatSN: ini.expStatSN, begRun: 0, runLength: 0 });
    const rej = (await ini.expect(Opcode.Reject)) as RejectPdu;
    assert.equal(rej.reason, 0x04);
    await assertHealthy(ini);
    ini.close();
  });

  it('a target-side PDU (NOP-In) sent by the initiator: Reject 0x04, the session goes on', async () => {
    const ini = await t.session();
    ini.send({ opcode: Opcode.NopIn, lun: 0n, itt: 9, ttt: RESERVED_TAG, statSN: 0, expCmdSN: 0, maxCmdSN: 0 });
    const rej = (await ini.expect(Opcode.Reject)) as RejectPdu;
    assert.equal(rej.reason, 0x04);
    assert.equal(rej.data[0]! & 0x3f, Opcode.NopIn, 'the rejected header comes back');
    await assertHealthy(ini);
    ini.close();
  });

  it('a Data-Out for an unknown ITT: Reject, the session goes on', async () => {
    const ini = await t.session();
    ini.dataOut({ itt: 0xabcdef, ttt: 0x1234, offset: 0, data: Buffer.alloc(512), dataSN: 0, final: true });
    const rej = (await ini.expect(Opcode.Reject)) as RejectPdu;
    assert.equal(rej.reason, 0x09);
    assert.equal(rej.data.readUInt32BE(16), 0xabcdef);
    await assertHealthy(ini);
    ini.close();
  });

  it('a duplicate ITT of a task in progress: Reject 0x07, the first task completes (§11.17.1)', async () => {
    const ini = await t.session({ operational: { ImmediateData: 'No' } });
    const itt = ini.command(write10(60, 1), { write: true, edtl: BLOCK });
    const r2t = await ini.expect(Opcode.R2T);
    ini.command(Buffer.alloc(6), { itt });
    const rej = (await ini.expect(Opcode.Reject)) as RejectPdu;
    assert.equal(rej.reason, 0x07);
    ini.dataOut({ itt, ttt: r2t.ttt, offset: 0, data: Buffer.alloc(BLOCK, 3), dataSN: 0, final: true });
    const r = await ini.result(itt);
    assert.equal(r.status, 0);
    await assertHealthy(ini);
    ini.close();
  });

  it('immediate data beyond FirstBurstLength: the connection is closed (§13.14)', async () => {
    const ini = await t.session({ operational: { FirstBurstLength: '4096', ImmediateData: 'Yes' } });
    ini.command(write10(70, 16), { write: true, edtl: 8192, data: Buffer.alloc(8192) });
    assert.equal(await ini.waitClosed(), true);
  });

  it('more Data-Out than the declared EDTL: the connection is closed', async () => {
    const ini = await t.session({ operational: { InitialR2T: 'No', ImmediateData: 'No' } });
    const itt = ini.command(write10(80, 8), { write: true, edtl: 4096, final: false });
    ini.dataOut({ itt, offset: 0, data: Buffer.alloc(8192), dataSN: 0, final: true });
    assert.equal(await ini.waitClosed(), true);
  });

  it('a wrong CHAP secret: 02/01 authentication failure, and the secret is never logged', async () => {
    const ini = await raw();
    const rsp = await ini.login({ initiatorName: INITIATOR_IQN, targetName: SECURE_IQN, chap: { user: CHAP.user, secret: 'wrong-secret-value' } });
    assert.deepEqual([rsp.statusClass, rsp.statusDetail], [0x02, 0x01]);
    assert.equal(await ini.waitClosed(), true);
    const good = await t.session({ targetName: SECURE_IQN, chap: CHAP });
    good.close();
    assert.ok(!t.log.lines.some((l) => l.includes(CHAP.secret) || l.includes('wrong-secret-value')));
  });

  it('an initiator not in the ACL: 02/02, and SendTargets does not list the target to it', async () => {
    const ini = await raw();
    const rsp = await ini.login({ initiatorName: STRANGER, targetName: PRIVATE_IQN });
    assert.deepEqual([rsp.statusClass, rsp.statusDetail], [0x02, 0x02]);
    assert.equal(await ini.waitClosed(), true);
    const listFor = async (initiatorName: string): Promise<string[]> => {
      const d = await raw();
      const lr = await d.login({ initiatorName, discovery: true });
      assert.equal(lr.statusClass, 0);
      d.send({ opcode: Opcode.TextRequest, immediate: true, final: true, continue: false, lun: 0n, itt: 0x55, ttt: RESERVED_TAG, cmdSN: d.cmdSN, expStatSN: d.expStatSN, data: encodeKeys({ SendTargets: 'All' }) });
      const tr = await d.expect(Opcode.TextResponse);
      d.close();
      return tr.data.toString('utf8').split('\0').filter((kv) => kv.startsWith('TargetName=')).map((kv) => kv.slice('TargetName='.length));
    };
    const strangerSees = await listFor(STRANGER);
    assert.ok(!strangerSees.includes(PRIVATE_IQN), 'the private target is hidden from a stranger');
    assert.ok(strangerSees.includes(TARGET_IQN), 'open targets are still listed');
    assert.ok((await listFor(INITIATOR_IQN)).includes(PRIVATE_IQN), 'the allowed initiator sees it');
  });

  it('a SCSI command on a discovery session: Reject, the discovery session goes on (§4.3)', async () => {
    const d = await raw();
    assert.equal((await d.login({ initiatorName: INITIATOR_IQN, discovery: true })).statusClass, 0);
    d.command(Buffer.alloc(6));
    const rej = (await d.expect(Opcode.Reject)) as RejectPdu;
    assert.equal(rej.reason, 0x04);
    const itt = d.nopOut(Buffer.from('x'));
    assert.equal((await d.expect(Opcode.NopIn)).itt, itt);
    d.close();
  });
});
