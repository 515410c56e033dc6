// GET /api/negotiation over app.inject(): authenticated like every route, readable by a read-only user, the
// fourteen RFC 7143 §13 operational keys with the target's side, the RFC default and the result function — and the
// target side is what the target's own negotiator answers to an initiator that offers the widest values.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Negotiator } from '../../target/src/iscsi/negotiator.ts';
import type { NegotiationInfo } from '../src/routes/negotiation.ts';
import { as, createReader, newApp, setupAdmin, type Fixture, type Session } from './support/fixture.ts';

let f: Fixture;
let app: FastifyInstance;
let admin: Session;
let reader: Session;

before(async () => {
  f = await newApp();
  app = f.app;
  admin = await setupAdmin(app);
  reader = await createReader(app, admin);
});
after(async () => f.close());

test('GET /api/negotiation needs a session; a read-only user may read it; it cannot be changed', async () => {
  assert.equal((await app.inject({ method: 'GET', url: '/api/negotiation' })).statusCode, 401);
  assert.equal((await app.inject({ method: 'GET', url: '/api/negotiation', headers: as(reader) })).statusCode, 200);
  const put = await app.inject({ method: 'PUT', url: '/api/negotiation', headers: as(admin), payload: { MaxBurstLength: 4096 } });
  assert.equal(put.statusCode, 404);
});

test('the fourteen operational keys, each with the target side, the RFC default, the result function and range', async () => {
  const res = await app.inject({ method: 'GET', url: '/api/negotiation', headers: as(admin) });
  assert.equal(res.statusCode, 200);
  const body = res.json() as NegotiationInfo;
  assert.equal(body.editable, false);
  assert.deepEqual(body.keys.map((k) => k.key), [
    'MaxRecvDataSegmentLength', 'MaxBurstLength', 'FirstBurstLength', 'InitialR2T', 'ImmediateData', 'MaxOutstandingR2T', 'MaxConnections',
    'DataPDUInOrder', 'DataSequenceInOrder', 'ErrorRecoveryLevel', 'DefaultTime2Wait', 'DefaultTime2Retain', 'HeaderDigest', 'DataDigest',
  ]);
  const by = Object.fromEntries(body.keys.map((k) => [k.key, k]));
  // RFC 7143 §13.13, §13.10, §13.1: defaults and result functions as the RFC states them
  assert.deepEqual([by['MaxBurstLength']!.default, by['MaxBurstLength']!.result, by['MaxBurstLength']!.min, by['MaxBurstLength']!.max], ['262144', 'Minimum', 512, 2 ** 24 - 1]);
  assert.deepEqual([by['InitialR2T']!.default, by['InitialR2T']!.result], ['Yes', 'OR']);
  assert.deepEqual([by['DefaultTime2Wait']!.default, by['DefaultTime2Wait']!.result], ['2', 'Maximum']);
  assert.deepEqual([by['HeaderDigest']!.default, by['HeaderDigest']!.result, by['HeaderDigest']!.scope, by['HeaderDigest']!.values], ['None', 'list-first-match', 'CO', ['CRC32C', 'None']]);
  assert.equal(by['MaxRecvDataSegmentLength']!.result, 'declarative');
  for (const k of body.keys) assert.match(k.ref, /^RFC 7143 §13\.\d+$/, k.key);
});

test('the target side is what the target negotiator answers to the widest offer', async () => {
  const body = (await app.inject({ method: 'GET', url: '/api/negotiation', headers: as(admin) })).json() as NegotiationInfo;
  // an initiator offering the most it may: then every result function lands on the target's own value
  const widest = body.keys
    .filter((k) => k.result !== 'declarative')
    .map((k): [string, string] => {
      if (k.result === 'Minimum') return [k.key, String(k.max)];
      if (k.result === 'Maximum') return [k.key, String(k.min)];
      if (k.result === 'OR') return [k.key, 'No'];
      if (k.result === 'AND') return [k.key, 'Yes'];
      return [k.key, k.values!.join(',')];
    });
  const n = new Negotiator();
  const answers = new Map(n.respond(widest, { stage: 'operational', sessionType: 'Normal', leading: true }));
  for (const k of body.keys) {
    if (k.result === 'declarative') {
      assert.deepEqual(n.targetDeclarations(), [[k.key, k.target]]);
      continue;
    }
    // list keys: the initiator's first choice among ours; the target's list starts with what it prefers
    const expected = k.result === 'list-first-match' ? k.target.split(',')[0] : k.target;
    assert.equal(answers.get(k.key), expected, k.key);
  }
});
