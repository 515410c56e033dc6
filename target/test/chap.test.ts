import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ChapResponder, decodeChapBinary, encodeChapBinary, type ChapCredentials } from '../src/iscsi/chap.ts';
import { LoginFailure } from '../src/iscsi/login-status.ts';

/** A deterministic byte source: 0x10, 0x11, ... */
function counterRandom(start = 0x10) {
  let next = start;
  return (n: number) => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = next++ & 0xff;
    return b;
  };
}
/** RFC 1994 §4.1, computed independently of chap.ts. */
function expectedResponse(hash: string, id: number, secret: string, challenge: Buffer): Buffer {
  return createHash(hash).update(Buffer.concat([Buffer.of(id), Buffer.from(secret), challenge])).digest();
}
const creds: ChapCredentials = { user: 'iqn.1994-05.com.example:host', secret: 'initiator-secret-12' };
const mutualCreds: ChapCredentials = { ...creds, mutual: { user: 'iqn.2026-11.org.openlun:disk', secret: 'target-secret-1234' } };
const m = (pairs: Record<string, string>) => new Map(Object.entries(pairs));

function chapFailure(fn: () => unknown): LoginFailure {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof LoginFailure, `expected LoginFailure, got ${String(e)}`);
    assert.equal(e.status, 'AuthenticationFailure');
    for (const s of [creds.secret, mutualCreds.mutual!.secret]) assert.ok(!e.message.includes(s), 'secret leaked into the error');
    return e;
  }
  assert.fail('expected a LoginFailure');
}

/** Run the first step and return the target's algorithm, identifier and challenge. */
function challenge(r: ChapResponder, offer: string) {
  const a = Object.fromEntries(r.step(m({ CHAP_A: offer })));
  return { algorithm: Number(a.CHAP_A), id: Number(a.CHAP_I), challenge: decodeChapBinary(a.CHAP_C!)!, raw: a };
}

describe('CHAP binary values', () => {
  it('hex with 0x/0X, odd digit count', () => {
    assert.deepEqual(decodeChapBinary('0x0aFF'), Buffer.from([0x0a, 0xff]));
    assert.deepEqual(decodeChapBinary('0XABC'), Buffer.from([0x0a, 0xbc]));
  });
  it('base64 with 0b/0B', () => {
    assert.deepEqual(decodeChapBinary('0bAQID'), Buffer.from([1, 2, 3]));
    assert.deepEqual(decodeChapBinary('0BAQI='), Buffer.from([1, 2]));
  });
  it('rejects bad syntax', () => {
    for (const v of ['', '0x', '123', '0xZZ', '0b@@@@', '0bAQI', 'x0ab']) assert.equal(decodeChapBinary(v), undefined, v);
  });
  it('encodes as lower-case hex', () => {
    assert.equal(encodeChapBinary(Buffer.from([0xab, 1])), '0xab01');
  });
});

describe('CHAP one-way', () => {
  it('MD5 (CHAP_A=5): challenge and verification', () => {
    const r = new ChapResponder(creds, { randomBytes: counterRandom() });
    const c = challenge(r, '5');
    assert.equal(c.algorithm, 5);
    assert.equal(c.id, 0x10);
    assert.equal(c.challenge.length, 16);
    assert.equal(c.raw.CHAP_C, `0x${Buffer.from(Array.from({ length: 16 }, (_, i) => 0x11 + i)).toString('hex')}`);
    const resp = expectedResponse('md5', c.id, creds.secret, c.challenge);
    assert.deepEqual(r.step(m({ CHAP_N: creds.user, CHAP_R: `0x${resp.toString('hex')}` })), []);
    assert.equal(r.state, 'done');
    assert.equal(r.mutual, false);
  });
  it('SHA-256 (CHAP_A=7) preferred over MD5 whatever the order; 32-byte challenge', () => {
    for (const offer of ['5,7', '7,5', '6,7,5']) {
      const r = new ChapResponder(creds);
      const c = challenge(r, offer);
      assert.equal(c.algorithm, 7, offer);
      assert.equal(c.challenge.length, 32);
      const resp = expectedResponse('sha256', c.id, creds.secret, c.challenge);
      assert.deepEqual(r.step(m({ CHAP_N: creds.user, CHAP_R: `0b${resp.toString('base64')}` })), []);
      assert.equal(r.state, 'done');
    }
  });
  it('random challenges differ between logins', () => {
    const a = challenge(new ChapResponder(creds), '5').challenge;
    const b = challenge(new ChapResponder(creds), '5').challenge;
    assert.notDeepEqual(a, b);
  });
  it('wrong secret → authentication failure', () => {
    const r = new ChapResponder(creds);
    const c = challenge(r, '5');
    const resp = expectedResponse('md5', c.id, 'not-the-secret', c.challenge);
    chapFailure(() => r.step(m({ CHAP_N: creds.user, CHAP_R: `0x${resp.toString('hex')}` })));
  });
  it('wrong name → authentication failure', () => {
    const r = new ChapResponder(creds);
    const c = challenge(r, '5');
    const resp = expectedResponse('md5', c.id, creds.secret, c.challenge);
    chapFailure(() => r.step(m({ CHAP_N: 'someone-else', CHAP_R: `0x${resp.toString('hex')}` })));
  });
  it('response computed with the wrong algorithm or truncated → failure', () => {
    const r = new ChapResponder(creds);
    const c = challenge(r, '7');
    const md5 = expectedResponse('md5', c.id, creds.secret, c.challenge);
    chapFailure(() => r.step(m({ CHAP_N: creds.user, CHAP_R: `0x${md5.toString('hex')}` })));
  });
  it('unsupported algorithms only (SHA-1, SHA3-256, junk) → failure', () => {
    chapFailure(() => new ChapResponder(creds).step(m({ CHAP_A: '6,8,x' })));
  });
  it('protocol order violations → failure', () => {
    chapFailure(() => new ChapResponder(creds).step(m({ CHAP_N: 'a', CHAP_R: '0x00' })));
    chapFailure(() => new ChapResponder(creds).step(m({ CHAP_A: '5', CHAP_N: 'a' })));
    const r = new ChapResponder(creds);
    challenge(r, '5');
    chapFailure(() => r.step(m({ CHAP_A: '5' })));
    const r2 = new ChapResponder(creds);
    challenge(r2, '5');
    chapFailure(() => r2.step(m({ CHAP_N: creds.user })));
    chapFailure(() => {
      const r3 = new ChapResponder(creds);
      challenge(r3, '5');
      r3.step(m({ CHAP_N: creds.user, CHAP_R: 'zz' }));
    });
  });
  it('an empty step waits', () => {
    const r = new ChapResponder(creds);
    assert.deepEqual(r.step(new Map()), []);
    assert.equal(r.state, 'await-algorithm');
  });
});

describe('CHAP mutual', () => {
  function mutualRun(algo: string, hash: string, cred: ChapCredentials, initiatorChallenge?: Buffer) {
    const r = new ChapResponder(cred);
    const c = challenge(r, algo);
    const resp = expectedResponse(hash, c.id, cred.secret, c.challenge);
    const ic = initiatorChallenge ?? Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    const answers = r.step(m({ CHAP_N: cred.user, CHAP_R: `0x${resp.toString('hex')}`, CHAP_I: '77', CHAP_C: `0x${ic.toString('hex')}` }));
    return { r, answers: Object.fromEntries(answers), ic, c };
  }
  it('MD5: the target answers with its name and H(I, mutual secret, C)', () => {
    const { r, answers, ic } = mutualRun('5', 'md5', mutualCreds);
    assert.equal(answers.CHAP_N, mutualCreds.mutual!.user);
    assert.equal(answers.CHAP_R, `0x${expectedResponse('md5', 77, mutualCreds.mutual!.secret, ic).toString('hex')}`);
    assert.equal(r.mutual, true);
    assert.equal(r.state, 'done');
  });
  it('SHA-256', () => {
    const { answers, ic } = mutualRun('7', 'sha256', mutualCreds);
    assert.equal(answers.CHAP_R, `0x${expectedResponse('sha256', 77, mutualCreds.mutual!.secret, ic).toString('hex')}`);
  });
  it('mutual requested but no target credentials → failure', () => {
    chapFailure(() => mutualRun('5', 'md5', creds));
  });
  it('reflected challenge → failure', () => {
    const r = new ChapResponder(mutualCreds);
    const c = challenge(r, '5');
    const resp = expectedResponse('md5', c.id, mutualCreds.secret, c.challenge);
    chapFailure(() => r.step(m({ CHAP_N: mutualCreds.user, CHAP_R: `0x${resp.toString('hex')}`, CHAP_I: '1', CHAP_C: `0x${c.challenge.toString('hex')}` })));
  });
  it('mutual secret equal to the initiator secret → failure', () => {
    const same: ChapCredentials = { ...creds, mutual: { user: 'tgt', secret: creds.secret } };
    chapFailure(() => mutualRun('5', 'md5', same));
  });
  it('CHAP_I without CHAP_C, bad CHAP_I, oversized CHAP_C → failure', () => {
    const extras: Array<Record<string, string>> = [{ CHAP_I: '1' }, { CHAP_I: '256', CHAP_C: '0x01' }, { CHAP_I: '1', CHAP_C: `0x${'00'.repeat(1025)}` }];
    for (const extra of extras) {
      const r = new ChapResponder(mutualCreds);
      const c = challenge(r, '5');
      const resp = expectedResponse('md5', c.id, mutualCreds.secret, c.challenge);
      chapFailure(() => r.step(m({ CHAP_N: mutualCreds.user, CHAP_R: `0x${resp.toString('hex')}`, ...extra })));
    }
  });
});
