import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Opcode } from 'node-iscsi-pdu';
import type { LoginRequestPdu, LoginResponsePdu } from 'node-iscsi-pdu';
import { LoginSession, type LoginContext, type LoginStep, type TargetDirectory, type TargetInfo } from '../src/iscsi/login.ts';
import type { ChapCredentials } from '../src/iscsi/chap.ts';
import { decodeChapBinary } from '../src/iscsi/chap.ts';
import { encodeTextPairs, parseTextData } from '../src/iscsi/text-keys.ts';

const INITIATOR = 'iqn.1994-05.com.example:host1';
const OTHER = 'iqn.1994-05.com.example:intruder';
const DISK: TargetInfo = { name: 'iqn.2026-11.org.openlun:disk1', alias: 'disk one', portalGroupTag: 1 };
const SECURE: TargetInfo = { name: 'iqn.2026-11.org.openlun:secure', portalGroupTag: 2, auth: 'CHAP' };
const CHAP: ChapCredentials = { user: INITIATOR, secret: 'initiator-secret-12', mutual: { user: SECURE.name, secret: 'target-secret-12345' } };
const ISID = Buffer.from('400001370000', 'hex');

function directory(opts: { discoveryChap?: ChapCredentials } = {}): TargetDirectory {
  return {
    findTarget: (name) => [DISK, SECURE].find((t) => t.name === name.toLowerCase()),
    allowInitiator: (_t, initiator) => initiator !== OTHER,
    chapFor: (t, initiator) => (t === 'discovery' ? opts.discoveryChap : t === SECURE && initiator === INITIATOR ? CHAP : undefined),
    sendTargets: () => [],
  };
}

interface ReqOpts {
  csg: number;
  nsg?: number;
  transit?: boolean;
  continue?: boolean;
  keys?: Record<string, string>;
  data?: Buffer;
  tsih?: number;
  isid?: Buffer;
  versionMin?: number;
  itt?: number;
}
let itt = 100;
function req(o: ReqOpts): LoginRequestPdu {
  return {
    opcode: Opcode.LoginRequest,
    immediate: true,
    transit: o.transit ?? false,
    continue: o.continue ?? false,
    csg: o.csg,
    nsg: o.nsg ?? 0,
    versionMax: 0,
    versionMin: o.versionMin ?? 0,
    isid: o.isid ?? ISID,
    tsih: o.tsih ?? 0,
    itt: o.itt ?? itt++,
    cid: 0,
    cmdSN: 1,
    expStatSN: 0,
    ahs: Buffer.alloc(0),
    data: o.data ?? encodeTextPairs(Object.entries(o.keys ?? {})),
  };
}
const keysOf = (r: LoginResponsePdu) => Object.fromEntries(parseTextData(r.data)) as Record<string, string>;
function cont(step: LoginStep) {
  assert.equal(step.kind, 'continue', step.kind === 'failed' ? step.reason : step.kind);
  const r = (step as Extract<LoginStep, { kind: 'continue' }>).response;
  assert.equal(r.statusClass, 0);
  return { r, keys: r.continue ? {} : keysOf(r) };
}
function failed(step: LoginStep, cls: number, detail: number) {
  assert.equal(step.kind, 'failed');
  const s = step as Extract<LoginStep, { kind: 'failed' }>;
  assert.deepEqual([s.response.statusClass, s.response.statusDetail], [cls, detail], s.reason);
  assert.equal(s.response.transit, false);
  assert.equal(s.response.data.length, 0);
  return s;
}
function complete(step: LoginStep) {
  assert.equal(step.kind, 'complete', step.kind === 'failed' ? step.reason : step.kind);
  return step as Extract<LoginStep, { kind: 'complete' }>;
}
const session = (extra: Partial<LoginContext> = {}, dir = directory()) => new LoginSession({ directory: dir, ...extra });
const normalHello = (target = DISK.name, auth = 'None') => ({ InitiatorName: INITIATOR, TargetName: target, SessionType: 'Normal', AuthMethod: auth });
const md5 = (id: number, secret: string, c: Buffer) => createHash('md5').update(Buffer.concat([Buffer.of(id), Buffer.from(secret), c])).digest();
const sha256 = (id: number, secret: string, c: Buffer) => createHash('sha256').update(Buffer.concat([Buffer.of(id), Buffer.from(secret), c])).digest();

describe('login: normal session without authentication', () => {
  it('security → operational → full feature, with declarations and ITT/ISID echo', () => {
    const s = session();
    const first = req({ csg: 0, nsg: 1, transit: true, keys: normalHello(), itt: 7 });
    const a = cont(s.handle(first));
    assert.deepEqual(a.keys, { AuthMethod: 'None', TargetPortalGroupTag: '1', TargetAlias: 'disk one' });
    assert.deepEqual([a.r.transit, a.r.csg, a.r.nsg, a.r.itt, a.r.tsih, a.r.versionMax, a.r.versionActive], [true, 0, 1, 7, 0, 0, 0]);
    assert.deepEqual(a.r.isid, ISID);
    assert.equal(a.r.opcode, Opcode.LoginResponse);

    const c = complete(
      s.handle(
        req({
          csg: 1,
          nsg: 3,
          transit: true,
          keys: { HeaderDigest: 'CRC32C,None', DataDigest: 'None', MaxRecvDataSegmentLength: '131072', MaxBurstLength: '1048576', FirstBurstLength: '65536', InitialR2T: 'No', ImmediateData: 'Yes', MaxOutstandingR2T: '1', ErrorRecoveryLevel: '0', MaxConnections: '1', InitiatorAlias: 'host one' },
        }),
      ),
    );
    assert.equal(c.outcome.sessionType, 'Normal');
    assert.equal(c.outcome.initiatorName, INITIATOR);
    assert.equal(c.outcome.initiatorAlias, 'host one');
    assert.equal(c.outcome.target, DISK);
    assert.equal(c.outcome.tsih, 0);
    assert.equal(c.outcome.authMethod, 'None');
    assert.deepEqual(c.outcome.isid, ISID);
    const p = c.outcome.params;
    assert.deepEqual(
      [p.headerDigest, p.dataDigest, p.maxRecvDataSegmentLengthInitiator, p.maxRecvDataSegmentLengthTarget, p.maxBurstLength, p.firstBurstLength, p.initialR2T, p.immediateData],
      ['CRC32C', 'None', 131072, 262144, 1048576, 65536, false, true],
    );
    const final = c.accept(0x1234, { expCmdSN: 1, maxCmdSN: 64 });
    assert.deepEqual([final.transit, final.csg, final.nsg, final.tsih, final.statusClass, final.expCmdSN, final.maxCmdSN], [true, 1, 3, 0x1234, 0, 1, 64]);
    const k = keysOf(final);
    assert.equal(k.MaxRecvDataSegmentLength, '262144');
    assert.equal(k.HeaderDigest, 'CRC32C');
    assert.equal(k.MaxBurstLength, '1048576');
    assert.equal(k.TargetPortalGroupTag, undefined, 'declared once only');
    assert.throws(() => c.accept(2));
  });
  it('may start in the operational stage and skip security', () => {
    const s = session();
    const { InitiatorName, TargetName } = normalHello();
    const c = complete(s.handle(req({ csg: 1, nsg: 3, transit: true, keys: { InitiatorName, TargetName, HeaderDigest: 'None' } })));
    const k = keysOf(c.accept(1));
    assert.equal(k.TargetPortalGroupTag, '1');
    assert.equal(k.MaxRecvDataSegmentLength, '262144');
  });
  it('may go from security straight to full feature phase', () => {
    const c = complete(session().handle(req({ csg: 0, nsg: 3, transit: true, keys: normalHello() })));
    assert.equal(keysOf(c.accept(9)).MaxRecvDataSegmentLength, '262144');
    assert.equal(c.outcome.params.headerDigest, 'None');
  });
  it('without T the target stays in the stage', () => {
    const s = session();
    const a = cont(s.handle(req({ csg: 0, nsg: 1, keys: normalHello() })));
    assert.equal(a.r.transit, false);
    // still security: an operational request now is a stage error
    failed(s.handle(req({ csg: 1, nsg: 3, transit: true })), 2, 0);
  });
  it('uses the sequence hook for every response', () => {
    let statSN = 41;
    const s = session({ sequence: (r) => ({ statSN: statSN++, expCmdSN: r.cmdSN, maxCmdSN: r.cmdSN + 7 }) });
    const a = cont(s.handle(req({ csg: 0, nsg: 1, transit: true, keys: normalHello() })));
    assert.deepEqual([a.r.statSN, a.r.expCmdSN, a.r.maxCmdSN], [41, 1, 8]);
    const final = complete(s.handle(req({ csg: 1, nsg: 3, transit: true }))).accept(3);
    assert.equal(final.statSN, 42);
  });
  it('joins a first request split with the C bit', () => {
    const s = session();
    const data = encodeTextPairs(Object.entries(normalHello()));
    const partial = cont(s.handle(req({ csg: 0, nsg: 1, continue: true, data: data.subarray(0, 20) })));
    assert.deepEqual([partial.r.data.length, partial.r.transit, partial.r.continue], [0, false, false]);
    const a = cont(s.handle(req({ csg: 0, nsg: 1, transit: true, data: data.subarray(20) })));
    assert.equal(a.keys.AuthMethod, 'None');
    assert.equal(a.r.transit, true);
  });
  it('continues a long response with the C bit until the initiator acknowledges it', () => {
    const s = session();
    const unknown: Record<string, string> = {};
    for (let i = 0; i < 160; i++) unknown[`X-com.example.vendor-key-number-${String(i).padStart(4, '0')}`] = '1';
    const first = cont(s.handle(req({ csg: 1, nsg: 3, transit: true, keys: { InitiatorName: INITIATOR, TargetName: DISK.name, ...unknown } })));
    assert.deepEqual([first.r.continue, first.r.transit], [true, false]);
    assert.ok(first.r.data.length <= 8192 && first.r.data.length > 8000);
    const c = complete(s.handle(req({ csg: 1, nsg: 3 })));
    const rest = c.accept(4);
    assert.deepEqual([rest.continue, rest.transit, rest.nsg], [false, true, 3]);
    const k = Object.fromEntries(parseTextData(Buffer.concat([first.r.data, rest.data])));
    assert.equal(k['X-com.example.vendor-key-number-0159'], 'NotUnderstood');
    assert.equal(k.MaxRecvDataSegmentLength, '262144');
  });
  it('a connection joining a session (TSIH ≠ 0) may repeat SessionType but not send LO keys', () => {
    const keys = { InitiatorName: INITIATOR, TargetName: DISK.name, SessionType: 'Normal', HeaderDigest: 'None' };
    const c = complete(session().handle(req({ csg: 1, nsg: 3, transit: true, tsih: 5, keys })));
    assert.equal(c.outcome.tsih, 5);
    failed(session().handle(req({ csg: 1, nsg: 3, transit: true, tsih: 5, keys: { ...keys, MaxBurstLength: '65536' } })), 2, 0);
  });
  it('refuse() turns a completed login into the caller\'s failure (e.g. 02/0A)', () => {
    const c = complete(session().handle(req({ csg: 1, nsg: 3, transit: true, tsih: 5, keys: { InitiatorName: INITIATOR, TargetName: DISK.name } })));
    assert.equal(c.outcome.tsih, 5);
    const r = c.refuse('SessionDoesNotExist', 'no such TSIH');
    assert.deepEqual([r.statusClass, r.statusDetail, r.transit], [2, 0x0a, false]);
  });
});

describe('login: identity keys repeated after the first request', () => {
  // libiscsi 1.19 offers CHAP,None when it has credentials; when the target picks None it sends InitiatorName,
  // TargetName and SessionType again in its operational-stage request
  it('the same values again are tolerated and change nothing', () => {
    const s = session();
    cont(s.handle(req({ csg: 0, nsg: 1, transit: true, keys: { ...normalHello(), AuthMethod: 'CHAP,None' } })));
    const c = complete(s.handle(req({ csg: 1, nsg: 3, transit: true, keys: { InitiatorName: INITIATOR, TargetName: DISK.name, SessionType: 'Normal', MaxRecvDataSegmentLength: '65536' } })));
    assert.equal(c.outcome.initiatorName, INITIATOR);
    assert.equal(c.outcome.target, DISK);
  });
  it('a different value is refused as an initiator error (RFC 7143 §6.2.1)', () => {
    const s = session();
    cont(s.handle(req({ csg: 0, nsg: 1, transit: true, keys: normalHello() })));
    failed(s.handle(req({ csg: 1, nsg: 3, transit: true, keys: { InitiatorName: OTHER } })), 2, 0);
    const t = session();
    cont(t.handle(req({ csg: 0, nsg: 1, transit: true, keys: normalHello() })));
    failed(t.handle(req({ csg: 1, nsg: 3, transit: true, keys: { SessionType: 'Discovery' } })), 2, 0);
  });
});

describe('login: CHAP', () => {
  function chapLogin(algorithms: string, mutual: boolean) {
    const s = session();
    const a = cont(s.handle(req({ csg: 0, nsg: 1, transit: true, keys: normalHello(SECURE.name, 'CHAP,None') })));
    assert.equal(a.keys.AuthMethod, 'CHAP');
    assert.equal(a.r.transit, false, 'no transit before authentication');
    const b = cont(s.handle(req({ csg: 0, nsg: 1, keys: { CHAP_A: algorithms } })));
    const id = Number(b.keys.CHAP_I);
    const challenge = decodeChapBinary(b.keys.CHAP_C!)!;
    return { s, id, challenge, algorithm: b.keys.CHAP_A, mutual };
  }
  it('MD5 one-way, then operational, then full feature', () => {
    const { s, id, challenge, algorithm } = chapLogin('5', false);
    assert.equal(algorithm, '5');
    const r = md5(id, CHAP.secret, challenge);
    const c = cont(s.handle(req({ csg: 0, nsg: 1, transit: true, keys: { CHAP_N: INITIATOR, CHAP_R: `0x${r.toString('hex')}` } })));
    assert.deepEqual([c.r.transit, c.r.nsg], [true, 1]);
    assert.deepEqual(c.keys, {});
    const done = complete(s.handle(req({ csg: 1, nsg: 3, transit: true, keys: { HeaderDigest: 'None' } })));
    assert.equal(done.outcome.authMethod, 'CHAP');
    assert.equal(done.outcome.mutualChap, false);
  });
  it('SHA-256 mutual', () => {
    const { s, id, challenge, algorithm } = chapLogin('7,5', true);
    assert.equal(algorithm, '7');
    const ic = Buffer.alloc(32, 0x5a);
    const c = cont(
      s.handle(req({ csg: 0, nsg: 1, transit: true, keys: { CHAP_N: INITIATOR, CHAP_R: `0x${sha256(id, CHAP.secret, challenge).toString('hex')}`, CHAP_I: '3', CHAP_C: `0b${ic.toString('base64')}` } })),
    );
    assert.equal(c.keys.CHAP_N, SECURE.name);
    assert.equal(c.keys.CHAP_R, `0x${sha256(3, CHAP.mutual!.secret, ic).toString('hex')}`);
    assert.equal(c.r.transit, true);
    const done = complete(s.handle(req({ csg: 1, nsg: 3, transit: true })));
    assert.equal(done.outcome.mutualChap, true);
  });
  it('wrong secret → 02/01', () => {
    const { s, id, challenge } = chapLogin('5', false);
    failed(s.handle(req({ csg: 0, nsg: 1, transit: true, keys: { CHAP_N: INITIATOR, CHAP_R: `0x${md5(id, 'guess', challenge).toString('hex')}` } })), 2, 1);
  });
  it('a CHAP target cannot be entered by skipping to the operational stage → 02/01', () => {
    failed(session().handle(req({ csg: 1, nsg: 3, transit: true, keys: { InitiatorName: INITIATOR, TargetName: SECURE.name } })), 2, 1);
  });
  it('…nor by offering only AuthMethod=None → 02/01', () => {
    failed(session().handle(req({ csg: 0, nsg: 1, transit: true, keys: normalHello(SECURE.name, 'None') })), 2, 1);
  });
  it('…nor by leaving the security stage without AuthMethod → 02/01', () => {
    const { InitiatorName, TargetName } = normalHello(SECURE.name);
    failed(session().handle(req({ csg: 0, nsg: 1, transit: true, keys: { InitiatorName, TargetName } })), 2, 1);
  });
  it('…nor by moving on in the middle of CHAP', () => {
    const { s } = chapLogin('5', false);
    failed(s.handle(req({ csg: 1, nsg: 3, transit: true })), 2, 0); // stage is still security
  });
  it('CHAP target, initiator without credentials → 02/01', () => {
    const dir = directory();
    dir.allowInitiator = () => true;
    failed(session({}, dir).handle(req({ csg: 0, nsg: 1, keys: { ...normalHello(SECURE.name, 'CHAP'), InitiatorName: 'iqn.1994-05.com.example:nocreds' } })), 2, 1);
  });
  it('no authentication configured but the initiator insists on CHAP → 02/01', () => {
    failed(session().handle(req({ csg: 0, nsg: 1, keys: normalHello(DISK.name, 'CHAP') })), 2, 1);
  });
  it('CHAP keys after AuthMethod=None → 02/00', () => {
    const s = session();
    cont(s.handle(req({ csg: 0, nsg: 1, keys: normalHello() })));
    failed(s.handle(req({ csg: 0, nsg: 1, keys: { CHAP_A: '5' } })), 2, 0);
  });
  it('discovery sessions use chapFor("discovery")', () => {
    const s = session({}, directory({ discoveryChap: { user: 'disc', secret: 'discovery-secret' } }));
    const a = cont(s.handle(req({ csg: 0, nsg: 1, transit: true, keys: { InitiatorName: INITIATOR, SessionType: 'Discovery', AuthMethod: 'None,CHAP' } })));
    assert.equal(a.keys.AuthMethod, 'CHAP');
    assert.equal(a.r.transit, false);
  });
});

describe('login: failures map to RFC 7143 §11.13.5 status codes', () => {
  it('initiator not allowed → 02/02', () => {
    failed(session().handle(req({ csg: 0, nsg: 1, keys: { ...normalHello(), InitiatorName: OTHER } })), 2, 2);
  });
  it('unknown target → 02/03', () => {
    failed(session().handle(req({ csg: 0, nsg: 1, keys: normalHello('iqn.2026-11.org.openlun:nope') })), 2, 3);
  });
  it('missing TargetName in a normal session → 02/07', () => {
    failed(session().handle(req({ csg: 0, nsg: 1, keys: { InitiatorName: INITIATOR, AuthMethod: 'None' } })), 2, 7);
  });
  it('missing InitiatorName → 02/07', () => {
    failed(session().handle(req({ csg: 0, nsg: 1, keys: { TargetName: DISK.name } })), 2, 7);
  });
  it('Version-min above 0 → 02/05', () => {
    failed(session().handle(req({ csg: 0, nsg: 1, versionMin: 1, keys: normalHello() })), 2, 5);
  });
  it('unknown SessionType → 02/09', () => {
    failed(session().handle(req({ csg: 0, nsg: 1, keys: { ...normalHello(), SessionType: 'Bogus' } })), 2, 9);
  });
  it('sessionExists hook says no → 02/0A', () => {
    const s = session({ sessionExists: () => false });
    failed(s.handle(req({ csg: 0, nsg: 1, tsih: 9, keys: normalHello() })), 2, 0x0a);
  });
  it('T and C both set → 02/00', () => {
    failed(session().handle(req({ csg: 0, nsg: 1, transit: true, continue: true, keys: normalHello() })), 2, 0);
  });
  it('invalid stage transition → 02/00', () => {
    failed(session().handle(req({ csg: 1, nsg: 1, transit: true, keys: normalHello() })), 2, 0);
    failed(session().handle(req({ csg: 3, nsg: 3, transit: true, keys: normalHello() })), 2, 0);
    failed(session().handle(req({ csg: 0, nsg: 2, transit: true, keys: normalHello() })), 2, 0);
  });
  it('ISID changed during login → 02/00', () => {
    const s = session();
    cont(s.handle(req({ csg: 0, nsg: 1, transit: true, keys: normalHello() })));
    failed(s.handle(req({ csg: 1, nsg: 3, transit: true, isid: Buffer.alloc(6, 9) })), 2, 0);
  });
  it('a key negotiated twice → 02/00', () => {
    const s = session();
    cont(s.handle(req({ csg: 1, nsg: 3, keys: { InitiatorName: INITIATOR, TargetName: DISK.name, MaxBurstLength: '65536' } })));
    failed(s.handle(req({ csg: 1, nsg: 3, transit: true, keys: { MaxBurstLength: '65536' } })), 2, 0);
  });
  it('InitiatorName changed after the first request → 02/00 (an unchanged repeat is tolerated: see above)', () => {
    const s = session();
    cont(s.handle(req({ csg: 0, nsg: 1, keys: normalHello() })));
    failed(s.handle(req({ csg: 0, nsg: 1, keys: { InitiatorName: OTHER } })), 2, 0);
  });
  it('operational key in the security stage → 02/00', () => {
    failed(session().handle(req({ csg: 0, nsg: 1, keys: { ...normalHello(), MaxBurstLength: '65536' } })), 2, 0);
  });
  it('security key in the operational stage → 02/00', () => {
    failed(session().handle(req({ csg: 1, nsg: 3, keys: { InitiatorName: INITIATOR, TargetName: DISK.name, AuthMethod: 'None' } })), 2, 0);
  });
  it('malformed text (duplicate key, no NUL) → 02/00', () => {
    failed(session().handle(req({ csg: 0, nsg: 1, data: Buffer.from(`InitiatorName=${INITIATOR}\0InitiatorName=x\0`) })), 2, 0);
    failed(session().handle(req({ csg: 0, nsg: 1, data: Buffer.from(`InitiatorName=${INITIATOR}`) })), 2, 0);
  });
  it('a request after a failure → 02/0B', () => {
    const s = session();
    failed(s.handle(req({ csg: 0, nsg: 1, keys: { TargetName: DISK.name } })), 2, 7);
    failed(s.handle(req({ csg: 0, nsg: 1, keys: normalHello() })), 2, 0x0b);
  });
  it('bounded number of login requests', () => {
    const s = session({ maxLoginPdus: 3 });
    cont(s.handle(req({ csg: 0, nsg: 1, keys: normalHello() })));
    cont(s.handle(req({ csg: 0, nsg: 1 })));
    cont(s.handle(req({ csg: 0, nsg: 1 })));
    failed(s.handle(req({ csg: 0, nsg: 1 })), 2, 0);
  });
});

describe('login: discovery session', () => {
  it('needs no TargetName, answers session keys Irrelevant, declares no TPGT', () => {
    const s = session();
    const a = cont(s.handle(req({ csg: 0, nsg: 1, transit: true, keys: { InitiatorName: INITIATOR, SessionType: 'Discovery', AuthMethod: 'None' } })));
    assert.deepEqual(a.keys, { AuthMethod: 'None' });
    const c = complete(s.handle(req({ csg: 1, nsg: 3, transit: true, keys: { HeaderDigest: 'None', InitialR2T: 'Yes', MaxRecvDataSegmentLength: '32768' } })));
    assert.deepEqual(keysOf(c.accept(1)), { HeaderDigest: 'None', InitialR2T: 'Irrelevant', MaxRecvDataSegmentLength: '262144' });
    assert.equal(c.outcome.sessionType, 'Discovery');
    assert.equal(c.outcome.target, undefined);
    assert.equal(c.outcome.params.maxRecvDataSegmentLengthInitiator, 32768);
  });
});
