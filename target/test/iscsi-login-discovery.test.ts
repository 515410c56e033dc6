import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Opcode, RESERVED_TAG, RejectReason } from 'node-iscsi-pdu';
import type { TextRequestPdu, TextResponsePdu } from 'node-iscsi-pdu';
import { TextSession, encodeSendTargets, formatTargetAddress, type TextContext, type TextStep } from '../src/iscsi/discovery.ts';
import type { TargetDirectory } from '../src/iscsi/login.ts';
import { encodeTextPairs, parseTextData } from '../src/iscsi/text-keys.ts';

const INITIATOR = 'iqn.1994-05.com.example:host1';
const T1 = 'iqn.2026-11.org.openlun:disk1';
const T2 = 'iqn.2026-11.org.openlun:disk2';

function directory(extraTargets = 0): TargetDirectory & { calls: string[] } {
  const calls: string[] = [];
  const all = [
    { name: T1, addresses: [{ host: '192.0.2.10', port: 3260, portalGroupTag: 1 }, { host: '2001:db8::10', port: 3260, portalGroupTag: 1 }] },
    { name: T2, addresses: [{ host: '::1', port: 3261, portalGroupTag: 2 }] },
  ];
  for (let i = 0; i < extraTargets; i++) all.push({ name: `iqn.2026-11.org.openlun:bulk-${i}`, addresses: [{ host: '198.51.100.1', port: 3260, portalGroupTag: 1 }] });
  return {
    calls,
    findTarget: () => undefined,
    allowInitiator: () => true,
    chapFor: () => undefined,
    sendTargets: (initiator, which) => {
      calls.push(`${initiator} ${which}`);
      return which === 'All' ? all : all.filter((t) => t.name === which);
    },
  };
}

let itt = 500;
function text(o: { keys?: Record<string, string>; data?: Buffer; final?: boolean; continue?: boolean; ttt?: number; itt?: number }): TextRequestPdu {
  return {
    opcode: Opcode.TextRequest,
    immediate: false,
    final: o.final ?? true,
    continue: o.continue ?? false,
    lun: 0n,
    itt: o.itt ?? itt++,
    ttt: o.ttt ?? RESERVED_TAG,
    cmdSN: 1,
    expStatSN: 1,
    ahs: Buffer.alloc(0),
    data: o.data ?? encodeTextPairs(Object.entries(o.keys ?? {})),
  };
}
function respond(step: TextStep) {
  assert.equal(step.kind, 'respond', step.kind === 'reject' ? step.why : '');
  return step as Extract<TextStep, { kind: 'respond' }>;
}
const pairsOf = (r: TextResponsePdu) => parseTextData(r.data, { allowDuplicates: true });
const ctx = (o: Partial<TextContext> = {}): TextContext => ({ directory: directory(), sessionType: 'Discovery', initiatorName: INITIATOR, maxSendDataSegmentLength: 8192, ...o });

describe('SendTargets formatting', () => {
  it('IPv4, IPv6 in brackets, host names', () => {
    assert.equal(formatTargetAddress('192.0.2.1', 3260, 1), '192.0.2.1:3260,1');
    assert.equal(formatTargetAddress('::1', 3260, 1), '[::1]:3260,1');
    assert.equal(formatTargetAddress('[fe80::1]', 860, 7), '[fe80::1]:860,7');
    assert.equal(formatTargetAddress('san.example.com', 3260, 2), 'san.example.com:3260,2');
  });
  it('TargetName then its addresses, per target', () => {
    assert.deepEqual(encodeSendTargets([{ name: T2, addresses: [{ host: '::1', port: 3261, portalGroupTag: 2 }] }]), [
      ['TargetName', T2],
      ['TargetAddress', '[::1]:3261,2'],
    ]);
  });
});

describe('discovery session text', () => {
  it('SendTargets=All lists every visible target with every portal (IPv4 + IPv6)', () => {
    const dir = directory();
    const s = new TextSession(ctx({ directory: dir }));
    const r = respond(s.handle(text({ keys: { SendTargets: 'All' }, itt: 9 })));
    assert.deepEqual(pairsOf(r.response), [
      ['TargetName', T1],
      ['TargetAddress', '192.0.2.10:3260,1'],
      ['TargetAddress', '[2001:db8::10]:3260,1'],
      ['TargetName', T2],
      ['TargetAddress', '[::1]:3261,2'],
    ]);
    assert.deepEqual([r.response.final, r.response.continue, r.response.ttt, r.response.itt, r.response.opcode], [true, false, RESERVED_TAG, 9, Opcode.TextResponse]);
    assert.deepEqual(dir.calls, [`${INITIATOR} All`]);
  });
  it('SendTargets=<name> asks for that target only', () => {
    const dir = directory();
    const r = respond(new TextSession(ctx({ directory: dir })).handle(text({ keys: { SendTargets: T2 } })));
    assert.deepEqual(pairsOf(r.response), [['TargetName', T2], ['TargetAddress', '[::1]:3261,2']]);
    assert.deepEqual(dir.calls, [`${INITIATOR} ${T2}`]);
  });
  it('an empty SendTargets in a discovery session → Reject', () => {
    const r = respond(new TextSession(ctx()).handle(text({ keys: { SendTargets: '' } })));
    assert.deepEqual(pairsOf(r.response), [['SendTargets', 'Reject']]);
  });
  it('unknown keys → NotUnderstood; login-only keys → Reject; MaxRecvDataSegmentLength re-declared', () => {
    const s = new TextSession(ctx());
    const r = respond(s.handle(text({ keys: { 'X-com.example.q': '1', MaxBurstLength: '512', MaxRecvDataSegmentLength: '4096' } })));
    assert.deepEqual(Object.fromEntries(pairsOf(r.response)), { 'X-com.example.q': 'NotUnderstood', MaxBurstLength: 'Reject' });
    assert.deepEqual(r.changes, { maxRecvDataSegmentLengthInitiator: 4096 });
    assert.equal(s.maxSendDataSegmentLength, 4096);
  });
  it('splits a long answer with C=1 and a TTT, continued by empty requests', () => {
    const s = new TextSession(ctx({ directory: directory(40), maxSendDataSegmentLength: 512 }));
    const first = respond(s.handle(text({ keys: { SendTargets: 'All' }, itt: 77 }))).response;
    assert.deepEqual([first.continue, first.final], [false, false]);
    assert.ok(first.data.length <= 512 && first.data.length > 400);
    assert.notEqual(first.ttt, RESERVED_TAG);
    const parts = [first.data];
    let last = first;
    for (let i = 0; i < 100 && !last.final; i++) {
      // each PDU holds whole pairs, so it parses on its own
      assert.ok(parseTextData(last.data, { allowDuplicates: true }).length > 0);
      last = respond(s.handle(text({ itt: 77, ttt: last.ttt }))).response;
      assert.ok(last.data.length <= 512);
      parts.push(last.data);
    }
    assert.deepEqual([last.continue, last.final, last.ttt], [false, true, RESERVED_TAG]);
    const all = parseTextData(Buffer.concat(parts), { allowDuplicates: true });
    assert.equal(all.filter(([k]) => k === 'TargetName').length, 42);
    assert.deepEqual(all.at(-2), ['TargetName', 'iqn.2026-11.org.openlun:bulk-39']);
    assert.ok(parts.length > 3);
  });
  it('a pair longer than the limit is cut with C=1', () => {
    const dir = directory();
    dir.sendTargets = () => [{ name: `iqn.2026-11.org.openlun:${'x'.repeat(200)}`, addresses: [] }];
    const s2 = new TextSession(ctx({ directory: dir, maxSendDataSegmentLength: 100 }));
    const a = respond(s2.handle(text({ keys: { SendTargets: 'All' }, itt: 8 }))).response;
    assert.deepEqual([a.continue, a.final, a.data.length], [true, false, 100]);
    const parts = [a.data];
    let last = a;
    while (!last.final) {
      last = respond(s2.handle(text({ itt: 8, ttt: last.ttt }))).response;
      parts.push(last.data);
    }
    assert.equal(last.continue, false);
    assert.deepEqual(parseTextData(Buffer.concat(parts)), [['TargetName', `iqn.2026-11.org.openlun:${'x'.repeat(200)}`]]);
  });
  it('a wrong TTT → Reject PDU (invalid PDU field)', () => {
    const s = new TextSession(ctx({ directory: directory(40), maxSendDataSegmentLength: 512 }));
    const first = respond(s.handle(text({ keys: { SendTargets: 'All' }, itt: 5 }))).response;
    const bad = s.handle(text({ itt: 5, ttt: first.ttt + 1 }));
    assert.deepEqual(bad.kind === 'reject' ? bad.reason : -1, RejectReason.InvalidPduField);
    assert.equal(s.handle(text({ ttt: 1234 })).kind, 'reject');
  });
  it('new text while the target continues → Reject (protocol error)', () => {
    const s = new TextSession(ctx({ directory: directory(40), maxSendDataSegmentLength: 512 }));
    const first = respond(s.handle(text({ keys: { SendTargets: 'All' }, itt: 6 }))).response;
    const bad = s.handle(text({ itt: 6, ttt: first.ttt, keys: { SendTargets: 'All' } }));
    assert.deepEqual(bad.kind === 'reject' ? bad.reason : -1, RejectReason.ProtocolError);
  });
  it('TTT 0xffffffff starts over, dropping the pending answer', () => {
    const s = new TextSession(ctx({ directory: directory(40), maxSendDataSegmentLength: 512 }));
    respond(s.handle(text({ keys: { SendTargets: 'All' } })));
    const r = respond(s.handle(text({ keys: { SendTargets: T2 } }))).response;
    assert.deepEqual([r.final, r.ttt], [true, RESERVED_TAG]);
    assert.deepEqual(pairsOf(r), [['TargetName', T2], ['TargetAddress', '[::1]:3261,2']]);
  });
  it('joins a request split with the C bit', () => {
    const s = new TextSession(ctx());
    const data = encodeTextPairs([['SendTargets', T1]]);
    const ack = respond(s.handle(text({ data: data.subarray(0, 8), continue: true, final: false, itt: 3 }))).response;
    assert.deepEqual([ack.data.length, ack.final, ack.continue], [0, false, false]);
    assert.notEqual(ack.ttt, RESERVED_TAG);
    const r = respond(s.handle(text({ data: data.subarray(8), itt: 3, ttt: ack.ttt }))).response;
    assert.equal(pairsOf(r)[0]![1], T1);
    assert.equal(r.final, true);
  });
  it('C and F both set, or malformed text → Reject (protocol error)', () => {
    const both = new TextSession(ctx()).handle(text({ keys: { SendTargets: 'All' }, continue: true, final: true }));
    assert.deepEqual(both.kind === 'reject' ? both.reason : -1, RejectReason.ProtocolError);
    const bad = new TextSession(ctx()).handle(text({ data: Buffer.from('SendTargets=All') }));
    assert.deepEqual(bad.kind === 'reject' ? bad.reason : -1, RejectReason.ProtocolError);
  });
  it('F=0 request: the answer keeps F=0 and a TTT', () => {
    const r = respond(new TextSession(ctx()).handle(text({ keys: { 'X-a': '1' }, final: false }))).response;
    assert.equal(r.final, false);
    assert.notEqual(r.ttt, RESERVED_TAG);
  });
  it('stamps sequence numbers from the hook', () => {
    const r = respond(new TextSession(ctx({ sequence: () => ({ statSN: 5, expCmdSN: 6, maxCmdSN: 7 }) })).handle(text({ keys: {} }))).response;
    assert.deepEqual([r.statSN, r.expCmdSN, r.maxCmdSN, r.data.length], [5, 6, 7, 0]);
  });
});

describe('normal session text', () => {
  const normal = (dir = directory()) =>
    new TextSession(ctx({ directory: dir, sessionType: 'Normal', target: { name: T1, portalGroupTag: 1 } }));
  it('empty SendTargets names the session target', () => {
    const dir = directory();
    const r = respond(normal(dir).handle(text({ keys: { SendTargets: '' } })));
    assert.equal(pairsOf(r.response)[0]![1], T1);
    assert.deepEqual(dir.calls, [`${INITIATOR} ${T1}`]);
  });
  it('SendTargets=All → Reject in a normal session', () => {
    assert.deepEqual(pairsOf(respond(normal().handle(text({ keys: { SendTargets: 'All' } }))).response), [['SendTargets', 'Reject']]);
  });
  it('InitiatorAlias may change; TargetAlias from the initiator is refused', () => {
    const r = respond(normal().handle(text({ keys: { InitiatorAlias: 'new name', TargetAlias: 'x' } })));
    assert.deepEqual(pairsOf(r.response), [['TargetAlias', 'Reject']]);
    assert.deepEqual(r.changes, { initiatorAlias: 'new name' });
  });
});
