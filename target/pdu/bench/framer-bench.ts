/**
 * Framer throughput: pushes 1 GiB (or --gib N) of Data-Out PDUs through PduFramer in random-sized chunks, as a
 * socket would deliver them, with and without digests. Also times encodePdu for the same PDUs.
 *
 *   node --import tsx target/pdu/bench/framer-bench.ts [--gib 1] [--seed 1]
 */
import { Opcode, PduFramer, encodePdu, encodePduToBuffer, type DataOutPdu } from '../src/index.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const TOTAL = arg('gib', 1) * 2 ** 30;
let seed = arg('seed', 1) >>> 0;
function rand(): number {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 2 ** 32;
}

/** A pre-encoded stream of ~32 MiB, pre-cut into chunks of 1 byte .. 128 KiB (mostly large, like TCP reads). */
function makeStream(segment: number, digests: boolean): { chunks: Buffer[]; pdus: number; payload: number } {
  const payload = Buffer.alloc(segment, 0x5a);
  const parts: Buffer[] = [];
  let pdus = 0;
  for (let bytes = 0; bytes < 32 * 2 ** 20; bytes += segment) {
    const pdu: DataOutPdu = {
      opcode: Opcode.DataOut, final: false, lun: 0n, itt: 1, ttt: 2, expStatSN: 3, dataSN: pdus,
      bufferOffset: pdus * segment, ahs: Buffer.alloc(0), data: payload,
    };
    parts.push(encodePduToBuffer(pdu, { headerDigest: digests, dataDigest: digests }));
    pdus++;
  }
  const stream = Buffer.concat(parts);
  const chunks: Buffer[] = [];
  for (let off = 0; off < stream.length; ) {
    const n = rand() < 0.1 ? 1 + Math.floor(rand() * 512) : 1 + Math.floor(rand() * 128 * 1024);
    chunks.push(stream.subarray(off, off + n));
    off += n;
  }
  return { chunks, pdus, payload: pdus * segment };
}

function benchFramer(segment: number, digests: boolean): void {
  const { chunks, pdus, payload } = makeStream(segment, digests);
  const rounds = Math.max(1, Math.round(TOTAL / payload));
  let seen = 0;
  const start = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) {
    const framer = new PduFramer({ headerDigest: digests, dataDigest: digests, maxRecvDataSegmentLength: segment });
    for (const c of chunks) {
      for (const e of framer.push(c)) {
        if (e.kind !== 'pdu') throw new Error(e.message);
        seen++;
      }
    }
  }
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  if (seen !== pdus * rounds) throw new Error(`saw ${seen} PDUs, expected ${pdus * rounds}`);
  report(`framer  ${label(segment)} digests=${digests ? 'on ' : 'off'}`, (payload * rounds) / secs, seen / secs);
}

function benchEncode(segment: number, digests: boolean): void {
  const payload = Buffer.alloc(segment, 0x5a);
  const count = Math.max(1, Math.round(TOTAL / segment / 4));
  const start = process.hrtime.bigint();
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const chunks = encodePdu(
      { opcode: Opcode.DataIn, final: false, acknowledge: false, residualOverflow: false, residualUnderflow: false,
        hasStatus: false, status: 0, lun: 0n, itt: 1, ttt: 0xffffffff, statSN: 0, expCmdSN: 1, maxCmdSN: 2,
        dataSN: i, bufferOffset: i * segment, residualCount: 0, data: payload },
      { headerDigest: digests, dataDigest: digests },
    );
    bytes += chunks.length;
  }
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  if (bytes === 0) throw new Error('unreachable');
  report(`encode  ${label(segment)} digests=${digests ? 'on ' : 'off'}`, (count * segment) / secs, count / secs);
}

function label(segment: number): string {
  return `${segment / 1024} KiB`.padStart(6);
}

function report(what: string, bytesPerSec: number, pdusPerSec: number): void {
  console.log(`${what}  ${(bytesPerSec / 1e9).toFixed(2).padStart(6)} GB/s  ${Math.round(pdusPerSec).toLocaleString('en-US').padStart(10)} PDUs/s`);
}

console.log(`node ${process.version}, ${(TOTAL / 2 ** 30).toFixed(2)} GiB per framer run, payload bytes counted`);
for (const segment of [64 * 1024, 4 * 1024]) {
  for (const digests of [false, true]) benchFramer(segment, digests);
}
for (const segment of [64 * 1024, 4 * 1024]) {
  for (const digests of [false, true]) benchEncode(segment, digests);
}
