/**
 * A short, seeded fuzz: 200 mutations of valid PDU streams (login + full feature phase) thrown at a live target.
 * The process must never throw, nothing may be logged as an internal error, and a parallel session stays healthy.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Opcode, RESERVED_TAG, encodePduToBuffer } from 'node-iscsi-pdu';
import type { Pdu, PduInit } from 'node-iscsi-pdu';
import { RawInitiator, encodeKeys } from './support/raw-initiator.ts';
import { BLOCK, INITIATOR_IQN, TARGET_IQN, assertHealthy, read10, startTarget, write10 } from './support/target-fixture.ts';
import type { TargetFixture } from './support/target-fixture.ts';

const ITERATIONS = Number(process.env['FUZZ_ITERATIONS'] ?? 200);
const PARALLEL = 8;

/** Deterministic PRNG (mulberry32) so a failure can be replayed from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ISID = Buffer.from([0x80, 0xf0, 0x22, 0, 0, 7]);

/** One valid conversation, PDU by PDU: login in two stages, then commands of every kind. */
function validStream(): Buffer[] {
  const login = (keys: Record<string, string>, csg: number, nsg: number, itt: number): PduInit<Pdu> => ({
    opcode: Opcode.LoginRequest, immediate: true, transit: true, continue: false, csg, nsg, versionMax: 0, versionMin: 0,
    isid: ISID, tsih: 0, itt, cid: 1, cmdSN: 1, expStatSN: 0, data: encodeKeys(keys),
  });
  const cdb16 = (cdb: Buffer): Buffer => {
    const b = Buffer.alloc(16);
    cdb.copy(b);
    return b;
  };
  const cmd = (itt: number, cmdSN: number, cdb: Buffer, o: { read?: boolean; write?: boolean; edtl?: number; data?: Buffer; final?: boolean } = {}): PduInit<Pdu> => ({
    opcode: Opcode.ScsiCommand, immediate: false, final: o.final ?? true, read: o.read ?? false, write: o.write ?? false, attr: 1,
    lun: 0n, itt, expectedDataTransferLength: o.edtl ?? 0, cmdSN, expStatSN: 2, cdb: cdb16(cdb), data: o.data ?? Buffer.alloc(0),
  });
  const pdus: PduInit<Pdu>[] = [
    login({ InitiatorName: INITIATOR_IQN, TargetName: TARGET_IQN, SessionType: 'Normal', AuthMethod: 'None' }, 0, 1, 1),
    login({ HeaderDigest: 'None', DataDigest: 'None', InitialR2T: 'No', ImmediateData: 'Yes', MaxBurstLength: '8192', FirstBurstLength: '4096' }, 1, 3, 1),
    cmd(10, 1, Buffer.alloc(6)),
    { opcode: Opcode.NopOut, immediate: true, lun: 0n, itt: 11, ttt: RESERVED_TAG, cmdSN: 2, expStatSN: 3, data: Buffer.from('ping') },
    cmd(12, 2, read10(0, 4), { read: true, edtl: 4 * BLOCK }),
    cmd(13, 3, write10(8, 16), { write: true, edtl: 16 * BLOCK, data: Buffer.alloc(1024, 1), final: false }),
    { opcode: Opcode.DataOut, final: true, lun: 0n, itt: 13, ttt: RESERVED_TAG, expStatSN: 4, dataSN: 0, bufferOffset: 1024, data: Buffer.alloc(3072, 2) },
    { opcode: Opcode.DataOut, final: true, lun: 0n, itt: 13, ttt: 1, expStatSN: 4, dataSN: 0, bufferOffset: 4096, data: Buffer.alloc(4096, 3) },
    { opcode: Opcode.TaskManagementRequest, immediate: true, function: 1, lun: 0n, itt: 14, referencedTaskTag: 13, cmdSN: 4, expStatSN: 5, refCmdSN: 3, expDataSN: 0 },
    { opcode: Opcode.TextRequest, immediate: false, final: true, continue: false, lun: 0n, itt: 15, ttt: RESERVED_TAG, cmdSN: 4, expStatSN: 6, data: encodeKeys({ SendTargets: 'All' }) },
    { opcode: Opcode.SnackRequest, type: 1, lun: 0n, itt: 16, ttt: RESERVED_TAG, expStatSN: 6, begRun: 0, runLength: 0 },
    { opcode: Opcode.LogoutRequest, immediate: false, reasonCode: 0, itt: 17, cid: 1, cmdSN: 5, expStatSN: 7 },
  ];
  return pdus.map((p) => encodePduToBuffer(p, { headerDigest: false, dataDigest: false }));
}

/** One mutation of the stream; the kinds cover bit rot, framing damage, reordering and absurd field values. */
function mutate(stream: Buffer[], r: () => number): Buffer {
  const pick = (n: number): number => Math.floor(r() * n);
  const pdus = stream.map((b) => Buffer.from(b));
  const i = 1 + pick(pdus.length - 1); // usually keep the login start so full-feature handlers are reached
  const target = pdus[i]!;
  switch (pick(8)) {
    case 0: // flip a few bits anywhere in one PDU
      for (let k = 0; k < 1 + pick(4); k++) target[pick(target.length)] ^= 1 << pick(8);
      break;
    case 1: // a random byte in the BHS
      target[pick(48)] = pick(256);
      break;
    case 2: // absurd 32-bit fields: ITT, TTT/EDTL, CmdSN/StatSN, offsets
      target.writeUInt32BE(pick(2) ? 0xffffffff : Math.floor(r() * 2 ** 32), [16, 20, 24, 28, 32, 36, 40][pick(7)]!);
      break;
    case 3: // DataSegmentLength lies
      target.writeUIntBE(pick(2) ? pick(1 << 24) : pick(9000), 5, 3);
      break;
    case 4: // TotalAHSLength lies
      target[4] = pick(256);
      break;
    case 5: // truncate the stream inside a PDU
      return Buffer.concat([...pdus.slice(0, i), target.subarray(0, pick(target.length))]);
    case 6: // duplicate or swap PDUs
      if (pick(2)) pdus.splice(i, 0, Buffer.from(target));
      else if (i + 1 < pdus.length) [pdus[i], pdus[i + 1]] = [pdus[i + 1]!, target];
      break;
    default: // random garbage inserted between PDUs
      pdus.splice(i, 0, Buffer.from(Array.from({ length: 1 + pick(200) }, () => pick(256))));
      break;
  }
  if (pick(10) === 0) pdus[0] = Buffer.from(pdus[0]!).fill(pick(256), 0, 4); // sometimes the first PDU too
  return Buffer.concat(pdus);
}

describe('robustness: fuzz', () => {
  let t: TargetFixture;
  const crashes: unknown[] = [];
  const onCrash = (err: unknown): void => void crashes.push(err);
  before(async () => {
    process.on('uncaughtException', onCrash);
    process.on('unhandledRejection', onCrash);
    t = await startTarget({ blocks: 256 });
  });
  after(async () => {
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
    await t.stop();
  });

  it(`${ITERATIONS} mutated PDU streams: no throw, no internal error, a parallel session stays healthy`, async () => {
    const bystander = await t.session({ isid: Buffer.from([0x80, 0xbe, 0xef, 0, 0, 2]) });
    const stream = validStream();
    const seed = Number(process.env['FUZZ_SEED'] ?? 0x5eed);
    const r = rng(seed);
    const inputs = Array.from({ length: ITERATIONS }, () => mutate(stream, r));
    let closedByTarget = 0;
    const answered = new Set<number>();
    for (let base = 0; base < ITERATIONS; base += PARALLEL) {
      await Promise.all(
        inputs.slice(base, base + PARALLEL).map(async (bytes) => {
          const ini = await RawInitiator.connect(t.port);
          ini.sendRaw(bytes);
          // drain answers until the target closes or goes quiet
          for (let p = await ini.next(60); p !== undefined; p = await ini.next(60)) answered.add(p.opcode);
          if (ini.closed) closedByTarget++;
          ini.close();
        }),
      );
      if (base % (PARALLEL * 5) === 0) await assertHealthy(bystander);
    }
    await assertHealthy(bystander);
    assert.equal(bystander.closed, false);
    assert.deepEqual(crashes, [], `seed ${seed}: the process threw`);
    const internal = t.log.lines.filter((l) => /internal error|TypeError|RangeError/.test(l));
    assert.deepEqual(internal, [], `seed ${seed}: internal errors logged`);
    // the fuzz must have got past login into every handler, not only into the framer
    for (const op of [Opcode.ScsiResponse, Opcode.DataIn, Opcode.NopIn, Opcode.Reject, Opcode.TaskManagementResponse, Opcode.TextResponse, Opcode.LogoutResponse]) {
      assert.ok(answered.has(op), `some stream reached a 0x${op.toString(16)} answer`);
    }
    assert.ok(closedByTarget > 0, 'some mutations were fatal, so the fuzz reached the framing checks');
    // and the target still takes a clean login
    const fresh = await t.session();
    await assertHealthy(fresh);
    fresh.close();
  });
});
