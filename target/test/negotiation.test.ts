import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_TEXT_BYTES,
  TextAccumulator,
  TextFormatError,
  encodeTextPairs,
  parseTextData,
  splitText,
  type TextPair,
} from '../src/iscsi/text-keys.ts';
import { NEGOTIATION_KEYS, keySpec, type KeySpec } from '../src/iscsi/negotiation-keys.ts';
import { DEFAULT_TARGET_SETTINGS, Negotiator, type NegotiationContext, type TargetSettings } from '../src/iscsi/negotiator.ts';
import { LoginFailure } from '../src/iscsi/login-status.ts';

const txt = (s: string) => Buffer.from(s, 'utf8');
const textCode = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof TextFormatError, `expected TextFormatError, got ${String(e)}`);
    return e.code;
  }
  assert.fail('expected a TextFormatError');
};

describe('text-keys: parse', () => {
  it('parses pairs in order, splitting at the first "="', () => {
    assert.deepEqual(parseTextData(txt('A=1\0B=x=y\0Empty=\0')), [
      ['A', '1'],
      ['B', 'x=y'],
      ['Empty', ''],
    ]);
  });
  it('accepts an empty segment and stray NUL padding', () => {
    assert.deepEqual(parseTextData(Buffer.alloc(0)), []);
    assert.deepEqual(parseTextData(txt('A=1\0\0\0')), [['A', '1']]);
  });
  it('rejects trailing text without a NUL', () => {
    assert.equal(textCode(() => parseTextData(txt('A=1\0B=2'))), 'unterminated');
  });
  it('rejects duplicate keys', () => {
    assert.equal(textCode(() => parseTextData(txt('A=1\0A=2\0'))), 'duplicate-key');
    assert.deepEqual(parseTextData(txt('A=1\0A=2\0'), { allowDuplicates: true }), [['A', '1'], ['A', '2']]);
  });
  it('limits key names to 63 bytes', () => {
    const k63 = 'K'.repeat(63);
    assert.deepEqual(parseTextData(txt(`${k63}=v\0`)), [[k63, 'v']]);
    assert.equal(textCode(() => parseTextData(txt(`${k63}K=v\0`))), 'key-too-long');
  });
  it('limits values to 8192 bytes', () => {
    assert.equal(parseTextData(txt(`A=${'v'.repeat(8192)}\0`))[0]![1].length, 8192);
    assert.equal(textCode(() => parseTextData(txt(`A=${'v'.repeat(8193)}\0`))), 'value-too-long');
  });
  it('rejects a pair without "=", an empty key, bad key characters and bad UTF-8', () => {
    assert.equal(textCode(() => parseTextData(txt('A\0'))), 'missing-equals');
    assert.equal(textCode(() => parseTextData(txt('=1\0'))), 'empty-key');
    assert.equal(textCode(() => parseTextData(txt('A B=1\0'))), 'bad-key');
    assert.equal(textCode(() => parseTextData(Buffer.from([0x41, 0x3d, 0xff, 0xfe, 0]))), 'bad-utf8');
  });
  it('accepts UTF-8 values and X# keys', () => {
    assert.deepEqual(parseTextData(txt('InitiatorAlias=höst\0X#org.example=1\0')), [
      ['InitiatorAlias', 'höst'],
      ['X#org.example', '1'],
    ]);
  });
  it('encodes pairs back to key=value\\0', () => {
    const pairs: TextPair[] = [['HeaderDigest', 'None'], ['TargetAlias', 'disk ü']];
    const buf = encodeTextPairs(pairs);
    assert.equal(buf.toString('utf8'), 'HeaderDigest=None\0TargetAlias=disk ü\0');
    assert.deepEqual(parseTextData(buf), pairs);
  });
});

describe('text-keys: continuation', () => {
  it('joins C-bit segments split in the middle of a pair', () => {
    const acc = new TextAccumulator();
    assert.equal(acc.push(txt('InitiatorName=iqn.19'), true), undefined);
    assert.equal(acc.pending, true);
    assert.equal(acc.push(txt('94-05.com.example:x\0Sess'), true), undefined);
    const whole = acc.push(txt('ionType=Normal\0'), false)!;
    assert.equal(acc.pending, false);
    assert.deepEqual(parseTextData(whole), [
      ['InitiatorName', 'iqn.1994-05.com.example:x'],
      ['SessionType', 'Normal'],
    ]);
  });
  it('bounds the total size', () => {
    const acc = new TextAccumulator();
    acc.push(Buffer.alloc(MAX_TEXT_BYTES - 1, 0x41), true);
    assert.throws(() => acc.push(Buffer.alloc(2, 0x41), false), TextFormatError);
    assert.equal(acc.pending, false);
  });
  it('splits text at pair boundaries, cutting only pairs longer than the limit', () => {
    const data = encodeTextPairs([['A', '1'], ['B', '2'], ['C', 'x'.repeat(10)], ['D', '4']]);
    const chunks = splitText(data, 8);
    assert.ok(chunks.every((c) => c.data.length <= 8));
    assert.deepEqual(Buffer.concat(chunks.map((c) => c.data)), data);
    assert.deepEqual(chunks.map((c) => [c.data.toString(), c.partial]), [
      ['A=1\0B=2\0', false],
      ['C=xxxxxx', true],
      ['xxxx\0', false],
      ['D=4\0', false],
    ]);
    assert.deepEqual(splitText(Buffer.alloc(3), 4), [{ data: Buffer.alloc(3), partial: false }]);
  });
});

describe('negotiation-keys table', () => {
  // RFC 7143 §13 (and RFC 7144 §2.1 for iSCSIProtocolLevel): result function and scope of every key.
  const expected: Record<string, [KeySpec['result'], KeySpec['scope'], KeySpec['use']]> = {
    HeaderDigest: ['list-first-match', 'CO', 'IO'],
    DataDigest: ['list-first-match', 'CO', 'IO'],
    MaxConnections: ['Minimum', 'SW', 'LO'],
    SendTargets: ['query', 'SW', 'FFPO'],
    TargetName: ['declarative', 'SW', 'IO'],
    InitiatorName: ['declarative', 'SW', 'IO'],
    TargetAlias: ['declarative', 'SW', 'ALL'],
    InitiatorAlias: ['declarative', 'SW', 'ALL'],
    TargetAddress: ['declarative', 'SW', 'ALL'],
    TargetPortalGroupTag: ['declarative', 'SW', 'IO'],
    InitialR2T: ['OR', 'SW', 'LO'],
    ImmediateData: ['AND', 'SW', 'LO'],
    MaxRecvDataSegmentLength: ['declarative', 'CO', 'ALL'],
    MaxBurstLength: ['Minimum', 'SW', 'LO'],
    FirstBurstLength: ['Minimum', 'SW', 'LO'],
    DefaultTime2Wait: ['Maximum', 'SW', 'LO'],
    DefaultTime2Retain: ['Minimum', 'SW', 'LO'],
    MaxOutstandingR2T: ['Minimum', 'SW', 'LO'],
    DataPDUInOrder: ['OR', 'SW', 'LO'],
    DataSequenceInOrder: ['OR', 'SW', 'LO'],
    ErrorRecoveryLevel: ['Minimum', 'SW', 'LO'],
    SessionType: ['declarative', 'SW', 'LO'],
    AuthMethod: ['security', 'CO', 'SEC'],
    iSCSIProtocolLevel: ['Minimum', 'SW', 'LO'],
    TaskReporting: ['list-first-match', 'SW', 'LO'],
  };
  for (const [key, [result, scope, use]] of Object.entries(expected)) {
    it(`${key}: ${result}, ${scope}, ${use}`, () => {
      const spec = keySpec(key);
      assert.ok(spec, `${key} missing from the table`);
      assert.equal(spec.result, result);
      assert.equal(spec.scope, scope);
      assert.equal(spec.use, use);
    });
  }
  it('numeric defaults lie inside their ranges', () => {
    for (const [key, spec] of Object.entries(NEGOTIATION_KEYS) as Array<[string, KeySpec]>) {
      if (spec.type !== 'numeric' || spec.default === undefined) continue;
      const d = Number(spec.default);
      assert.ok(d >= spec.min! && d <= spec.max!, `${key} default ${d} outside ${spec.min}..${spec.max}`);
    }
  });
  it('RFC 7143 ranges and defaults', () => {
    assert.deepEqual([keySpec('MaxRecvDataSegmentLength')!.min, keySpec('MaxRecvDataSegmentLength')!.max, keySpec('MaxRecvDataSegmentLength')!.default], [512, 16777215, '8192']);
    assert.deepEqual([keySpec('MaxBurstLength')!.default, keySpec('FirstBurstLength')!.default], ['262144', '65536']);
    assert.deepEqual([keySpec('DefaultTime2Wait')!.max, keySpec('DefaultTime2Retain')!.default], [3600, '20']);
    assert.deepEqual([keySpec('ErrorRecoveryLevel')!.max, keySpec('MaxConnections')!.max], [2, 65535]);
    assert.equal(keySpec('toString'), undefined);
  });
});

const op: NegotiationContext = { stage: 'operational', sessionType: 'Normal', leading: true };
function answer(pairs: TextPair[], ctx: NegotiationContext = op, settings: TargetSettings = DEFAULT_TARGET_SETTINGS) {
  const n = new Negotiator(settings);
  const answers = n.respond(pairs, ctx);
  return { answers: Object.fromEntries(answers) as Record<string, string>, list: answers, params: n.params(), n };
}
function loginFailure(fn: () => unknown): LoginFailure {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof LoginFailure, `expected LoginFailure, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a LoginFailure');
}

describe('negotiator: list keys (first match of the initiator list)', () => {
  it('HeaderDigest/DataDigest pick the initiator preference', () => {
    const r = answer([['HeaderDigest', 'CRC32C,None'], ['DataDigest', 'None,CRC32C']]);
    assert.deepEqual(r.answers, { HeaderDigest: 'CRC32C', DataDigest: 'None' });
    assert.equal(r.params.headerDigest, 'CRC32C');
    assert.equal(r.params.dataDigest, 'None');
  });
  it('nothing supported → Reject, value stays the default', () => {
    const r = answer([['HeaderDigest', 'MD5,SHA1']]);
    assert.equal(r.answers.HeaderDigest, 'Reject');
    assert.equal(r.params.headerDigest, 'None');
    const noCrc = { ...DEFAULT_TARGET_SETTINGS, dataDigest: ['None'] as const };
    assert.equal(answer([['DataDigest', 'CRC32C']], op, noCrc).answers.DataDigest, 'Reject');
  });
  it('TaskReporting', () => {
    assert.equal(answer([['TaskReporting', 'FastAbort,RFC3720']]).answers.TaskReporting, 'RFC3720');
    assert.equal(answer([['TaskReporting', 'FastAbort']]).answers.TaskReporting, 'Reject');
  });
});

describe('negotiator: numeric keys', () => {
  it('Minimum: MaxConnections, MaxBurstLength, MaxOutstandingR2T, DefaultTime2Retain, ErrorRecoveryLevel, iSCSIProtocolLevel', () => {
    const r = answer([
      ['MaxConnections', '4'],
      ['MaxBurstLength', '16777215'],
      ['MaxOutstandingR2T', '16'],
      ['DefaultTime2Retain', '30'],
      ['ErrorRecoveryLevel', '2'],
      ['iSCSIProtocolLevel', '2'],
    ]);
    assert.deepEqual(r.answers, {
      MaxConnections: '1',
      MaxBurstLength: String(DEFAULT_TARGET_SETTINGS.maxBurstLength),
      MaxOutstandingR2T: '8',
      DefaultTime2Retain: '20',
      ErrorRecoveryLevel: '0',
      iSCSIProtocolLevel: '1',
    });
    assert.equal(r.params.maxOutstandingR2T, 8);
    assert.equal(r.params.errorRecoveryLevel, 0);
  });
  it('Minimum keeps a smaller initiator value', () => {
    const r = answer([['MaxBurstLength', '65536'], ['DefaultTime2Retain', '0']]);
    assert.deepEqual(r.answers, { MaxBurstLength: '65536', DefaultTime2Retain: '0' });
  });
  it('Maximum: DefaultTime2Wait', () => {
    assert.equal(answer([['DefaultTime2Wait', '0']]).answers.DefaultTime2Wait, '2');
    assert.equal(answer([['DefaultTime2Wait', '10']]).answers.DefaultTime2Wait, '10');
  });
  it('out of range or bad syntax → Reject', () => {
    const r = answer([
      ['MaxConnections', '0'],
      ['MaxBurstLength', '16777216'],
      ['FirstBurstLength', '511'],
      ['DefaultTime2Wait', '3601'],
      ['ErrorRecoveryLevel', '3'],
      ['MaxOutstandingR2T', '0x10'],
      ['DefaultTime2Retain', '-1'],
    ]);
    for (const v of Object.values(r.answers)) assert.equal(v, 'Reject');
    assert.equal(Object.keys(r.answers).length, 7);
    assert.equal(r.params.maxBurstLength, 262144);
  });
  it('FirstBurstLength never exceeds MaxBurstLength, in either key order', () => {
    for (const order of [0, 1]) {
      const pairs: TextPair[] = [['FirstBurstLength', '262144'], ['MaxBurstLength', '65536']];
      if (order) pairs.reverse();
      const r = answer(pairs);
      assert.equal(r.answers.MaxBurstLength, '65536');
      assert.equal(r.answers.FirstBurstLength, '65536');
      assert.equal(r.params.firstBurstLength, 65536);
    }
  });
  it('FirstBurstLength alone is bounded by our value and the default MaxBurstLength', () => {
    const r = answer([['FirstBurstLength', '1048576']]);
    assert.equal(r.answers.FirstBurstLength, '262144');
    assert.ok(r.params.firstBurstLength <= r.params.maxBurstLength);
  });
  it('params() clamps FirstBurstLength when MaxBurstLength was lowered later', () => {
    const n = new Negotiator();
    n.respond([['FirstBurstLength', '131072']], op);
    n.respond([['MaxBurstLength', '65536']], op);
    assert.equal(n.params().firstBurstLength, 65536);
  });
});

describe('negotiator: boolean keys', () => {
  it('OR: InitialR2T (ours No), DataPDUInOrder and DataSequenceInOrder (ours Yes)', () => {
    assert.equal(answer([['InitialR2T', 'No']]).answers.InitialR2T, 'No');
    assert.equal(answer([['InitialR2T', 'Yes']]).answers.InitialR2T, 'Yes');
    const strict = { ...DEFAULT_TARGET_SETTINGS, initialR2T: true };
    assert.equal(answer([['InitialR2T', 'No']], op, strict).answers.InitialR2T, 'Yes');
    const r = answer([['DataPDUInOrder', 'No'], ['DataSequenceInOrder', 'No']]);
    assert.deepEqual(r.answers, { DataPDUInOrder: 'Yes', DataSequenceInOrder: 'Yes' });
    assert.equal(r.params.dataPDUInOrder, true);
  });
  it('AND: ImmediateData', () => {
    assert.equal(answer([['ImmediateData', 'Yes']]).answers.ImmediateData, 'Yes');
    assert.equal(answer([['ImmediateData', 'No']]).answers.ImmediateData, 'No');
    const none = { ...DEFAULT_TARGET_SETTINGS, immediateData: false };
    const r = answer([['ImmediateData', 'Yes']], op, none);
    assert.equal(r.answers.ImmediateData, 'No');
    assert.equal(r.params.immediateData, false);
  });
  it('bad boolean → Reject', () => {
    assert.equal(answer([['InitialR2T', 'yes']]).answers.InitialR2T, 'Reject');
  });
  it('RDMAExtensions is refused on TCP (AND with No)', () => {
    assert.equal(answer([['RDMAExtensions', 'Yes']]).answers.RDMAExtensions, 'No');
  });
});

describe('negotiator: declarations, obsolete, unknown keys', () => {
  it('MaxRecvDataSegmentLength is declarative: recorded per direction, not answered', () => {
    const r = answer([['MaxRecvDataSegmentLength', '65536']]);
    assert.deepEqual(r.list, []);
    assert.equal(r.params.maxRecvDataSegmentLengthInitiator, 65536);
    assert.equal(r.params.maxRecvDataSegmentLengthTarget, DEFAULT_TARGET_SETTINGS.maxRecvDataSegmentLength);
    assert.deepEqual(r.n.targetDeclarations(), [['MaxRecvDataSegmentLength', '262144']]);
    assert.equal(answer([['MaxRecvDataSegmentLength', '511']]).answers.MaxRecvDataSegmentLength, 'Reject');
  });
  it('InitiatorAlias is recorded; identity keys need no answer', () => {
    const r = answer([['InitiatorAlias', 'host1'], ['InitiatorName', 'iqn.x'], ['SessionType', 'Normal']]);
    assert.deepEqual(r.list, []);
    assert.equal(r.n.initiatorAlias, 'host1');
  });
  it('unknown and X-/X# keys → NotUnderstood', () => {
    const r = answer([['X-com.example.Foo', '1'], ['X#Bar', '2'], ['Frobnicate', 'Yes']]);
    assert.deepEqual(r.answers, { 'X-com.example.Foo': 'NotUnderstood', 'X#Bar': 'NotUnderstood', Frobnicate: 'NotUnderstood' });
  });
  it('RFC 7143 §13.25 obsolete marker keys are never NotUnderstood', () => {
    const r = answer([['IFMarker', 'No'], ['OFMarker', 'Yes'], ['IFMarkInt', '2048~8192'], ['OFMarkInt', '2048']]);
    assert.deepEqual(r.answers, { IFMarker: 'No', OFMarker: 'No', IFMarkInt: 'Reject', OFMarkInt: 'Reject' });
  });
  it('answer constants from the initiator get no answer', () => {
    assert.deepEqual(answer([['MaxBurstLength', 'Reject'], ['X-foo', 'NotUnderstood'], ['InitialR2T', 'Irrelevant']]).list, []);
  });
  it('value longer than 255 bytes → Reject', () => {
    assert.equal(answer([['HeaderDigest', `None,${'x'.repeat(300)}`]]).answers.HeaderDigest, 'Reject');
  });
  it('discovery sessions answer session keys Irrelevant', () => {
    const r = answer(
      [['InitialR2T', 'No'], ['ImmediateData', 'Yes'], ['MaxBurstLength', '1024'], ['FirstBurstLength', '512'], ['MaxOutstandingR2T', '1'], ['DataPDUInOrder', 'Yes'], ['DataSequenceInOrder', 'Yes'], ['HeaderDigest', 'None'], ['DefaultTime2Wait', '2']],
      { stage: 'operational', sessionType: 'Discovery', leading: true },
    );
    assert.deepEqual(r.answers, {
      InitialR2T: 'Irrelevant',
      ImmediateData: 'Irrelevant',
      MaxBurstLength: 'Irrelevant',
      FirstBurstLength: 'Irrelevant',
      MaxOutstandingR2T: 'Irrelevant',
      DataPDUInOrder: 'Irrelevant',
      DataSequenceInOrder: 'Irrelevant',
      HeaderDigest: 'None',
      DefaultTime2Wait: '2',
    });
  });
});

describe('negotiator: placement violations', () => {
  it('operational key in the security stage → initiator error', () => {
    const f = loginFailure(() => answer([['HeaderDigest', 'None']], { stage: 'security', sessionType: 'Normal', leading: true }));
    assert.equal(f.status, 'InitiatorError');
  });
  it('declarations are allowed in the security stage', () => {
    assert.deepEqual(answer([['MaxRecvDataSegmentLength', '8192'], ['InitiatorAlias', 'a']], { stage: 'security', sessionType: 'Normal', leading: true }).list, []);
  });
  it('security key through the negotiator in the operational stage → initiator error', () => {
    assert.equal(loginFailure(() => answer([['CHAP_A', '5']])).status, 'InitiatorError');
  });
  it('leading-only key on a non-leading connection → initiator error', () => {
    assert.equal(loginFailure(() => answer([['MaxBurstLength', '65536']], { ...op, leading: false })).status, 'InitiatorError');
    assert.deepEqual(answer([['HeaderDigest', 'None']], { ...op, leading: false }).answers, { HeaderDigest: 'None' });
  });
  it('target-only key sent by the initiator → initiator error', () => {
    assert.equal(loginFailure(() => answer([['TargetPortalGroupTag', '1']])).status, 'InitiatorError');
  });
  it('SendTargets during login → initiator error', () => {
    assert.equal(loginFailure(() => answer([['SendTargets', 'All']])).status, 'InitiatorError');
  });
  it('a key negotiated twice during login → initiator error', () => {
    const n = new Negotiator();
    n.respond([['MaxBurstLength', '65536']], op);
    assert.equal(loginFailure(() => n.respond([['MaxBurstLength', '65536']], op)).status, 'InitiatorError');
  });
  it('full feature phase: login-only keys → Reject, ALL keys accepted, repeats allowed', () => {
    const n = new Negotiator();
    const ffp: NegotiationContext = { stage: 'full-feature', sessionType: 'Normal', leading: true };
    assert.deepEqual(n.respond([['MaxBurstLength', '65536'], ['MaxRecvDataSegmentLength', '16384']], ffp), [['MaxBurstLength', 'Reject']]);
    assert.deepEqual(n.respond([['MaxRecvDataSegmentLength', '32768']], ffp), []);
    assert.equal(n.params().maxRecvDataSegmentLengthInitiator, 32768);
  });
  it('RFC defaults when nothing is negotiated', () => {
    const p = new Negotiator().params();
    assert.deepEqual(
      [p.headerDigest, p.dataDigest, p.initialR2T, p.immediateData, p.maxBurstLength, p.firstBurstLength, p.maxOutstandingR2T, p.maxRecvDataSegmentLengthInitiator, p.defaultTime2Wait, p.defaultTime2Retain, p.maxConnections],
      ['None', 'None', true, true, 262144, 65536, 1, 8192, 2, 20, 1],
    );
  });
});
