/** Shared helpers for the scsi-*.test.ts files: a device over temp sparse files, CDB runners, sense checks. */
import assert from 'node:assert/strict';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBackstore } from '../src/backstore/index.ts';
import { ScsiTargetDevice } from '../src/scsi/device.ts';
import { parseSense } from '../src/scsi/sense.ts';
import type { SenseReason } from '../src/scsi/sense.ts';
import { SENSE_REASONS } from '../src/scsi/sense.ts';
import type { LogicalUnitConfig, LunEntry, Nexus, ScsiResponse } from '../src/scsi/types.ts';

export const TARGET = 'iqn.2026-01.org.openlun:test';

export function makeNexus(n = 1): Nexus {
  const isid = Buffer.from([0x80, 0, 0, 0, 0, n]);
  const initiatorName = `iqn.2026-01.org.openlun:init${n}`;
  return {
    id: `${initiatorName},i,0x${isid.toString('hex')},${TARGET},t,0x1`,
    initiatorName,
    isid,
    targetName: TARGET,
    targetPortalGroupTag: 1,
    relativeTargetPortId: 1,
  };
}

export interface Fixture {
  device: ScsiTargetDevice;
  dir: string;
  paths: string[];
  cleanup(): Promise<void>;
}

export interface LunSpec extends Partial<LogicalUnitConfig> {
  blocks?: number;
}

/** A device with one LUN per spec (LUN numbers 0..n-1 unless `lunNumbers` says otherwise). */
export async function makeDevice(specs: LunSpec[] = [{}], lunNumbers?: number[]): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'openlun-scsi-'));
  const luns = new Map<number, LunEntry>();
  const paths: string[] = [];
  for (const [i, spec] of specs.entries()) {
    const blockSize = spec.blockSize ?? 512;
    const path = join(dir, `lun${i}.img`);
    const fh = await open(path, 'w');
    await fh.truncate((spec.blocks ?? 2048) * blockSize); // sparse
    await fh.close();
    paths.push(path);
    const readOnly = spec.readOnly ?? false;
    const backstore = await openBackstore(path, { readOnly });
    luns.set(lunNumbers?.[i] ?? i, {
      id: spec.id ?? `6001405abcdef0123456789${i.toString(16).padStart(2, '0')}`,
      serial: spec.serial ?? `SERIAL${i}`,
      readOnly,
      blockSize,
      writeCache: spec.writeCache ?? 'back',
      backstore,
      ...(spec.product ? { product: spec.product } : {}),
      ...(spec.softThresholdPercent !== undefined ? { softThresholdPercent: spec.softThresholdPercent } : {}),
    });
  }
  const device = new ScsiTargetDevice({ targetName: TARGET, luns });
  return {
    device,
    dir,
    paths,
    async cleanup() {
      await device.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface RunOptions {
  lun?: number | undefined;
  nexus?: Nexus;
  dataOut?: Buffer;
  signal?: AbortSignal;
  /** Record how much data-out the handler asked for. */
  asked?: number[];
}

export async function run(device: ScsiTargetDevice, cdb: number[] | Buffer, o: RunOptions = {}): Promise<ScsiResponse> {
  const raw = Buffer.isBuffer(cdb) ? cdb : Buffer.from(cdb);
  const padded = Buffer.alloc(Math.max(16, raw.length));
  raw.copy(padded);
  const dataOut = o.dataOut ?? Buffer.alloc(0);
  const signal = o.signal ?? new AbortController().signal;
  return device.execute({
    nexus: o.nexus ?? makeNexus(1),
    lun: 'lun' in o ? o.lun : 0,
    cdb: padded,
    taskAttribute: 1,
    expectedDataTransferLength: dataOut.length,
    readDataOut: async (length: number) => {
      o.asked?.push(length);
      return dataOut.subarray(0, Math.min(length, dataOut.length));
    },
    signal,
    isAborted: () => signal.aborted,
  });
}

/** Consume the POWER ON unit attention so the next command sees the LU plainly. */
export async function settle(device: ScsiTargetDevice, nexus = makeNexus(1), luns = [0]): Promise<void> {
  for (const lun of luns) {
    const r = await run(device, [0x00, 0, 0, 0, 0, 0], { nexus, lun });
    assert.equal(r.status, 2, 'first command should report the power-on unit attention');
    assertSense(r, 'POWER_ON_RESET_OCCURRED');
  }
}

export function assertGood(r: ScsiResponse, what = 'command'): void {
  if (r.status !== 0) {
    const s = r.sense ? parseSense(r.sense) : undefined;
    assert.fail(`${what}: expected GOOD, got status ${r.status} sense ${JSON.stringify(s, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
  }
}

export function assertSense(
  r: ScsiResponse,
  reason: SenseReason,
  extra: { byte?: number; bit?: number; cd?: boolean; information?: bigint; descriptor?: boolean } = {},
): void {
  assert.equal(r.status, 2, `expected CHECK CONDITION for ${reason}, got status ${r.status}`);
  assert.ok(r.sense, 'sense data present');
  const s = parseSense(r.sense);
  const want = SENSE_REASONS[reason];
  assert.deepEqual({ key: s.key, asc: s.asc, ascq: s.ascq }, { key: want.key, asc: want.asc, ascq: want.ascq }, `sense for ${reason}`);
  if (extra.descriptor !== undefined) assert.equal(s.descriptor, extra.descriptor, 'sense format');
  if (extra.byte !== undefined) {
    assert.ok(s.fieldPointer, 'field pointer present');
    assert.equal(s.fieldPointer.byte, extra.byte, 'field pointer byte');
    assert.equal(s.fieldPointer.cd, extra.cd ?? true, 'C/D');
    if (extra.bit !== undefined) assert.equal(s.fieldPointer.bit, extra.bit, 'bit pointer');
  }
  if (extra.information !== undefined) assert.equal(s.information, extra.information, 'INFORMATION');
}

// ---- CDB builders ----

export function rw10(op: number, lba: number, blocks: number, b1 = 0): Buffer {
  const c = Buffer.alloc(10);
  c[0] = op;
  c[1] = b1;
  c.writeUInt32BE(lba >>> 0, 2);
  c.writeUInt16BE(blocks, 7);
  return c;
}

export function rw12(op: number, lba: number, blocks: number, b1 = 0): Buffer {
  const c = Buffer.alloc(12);
  c[0] = op;
  c[1] = b1;
  c.writeUInt32BE(lba >>> 0, 2);
  c.writeUInt32BE(blocks, 6);
  return c;
}

export function rw16(op: number, lba: bigint, blocks: number, b1 = 0): Buffer {
  const c = Buffer.alloc(16);
  c[0] = op;
  c[1] = b1;
  c.writeBigUInt64BE(lba, 2);
  c.writeUInt32BE(blocks, 10);
  return c;
}

export function rw6(op: number, lba: number, blocks: number): Buffer {
  return Buffer.from([op, (lba >> 16) & 0x1f, (lba >> 8) & 0xff, lba & 0xff, blocks & 0xff, 0]);
}

export function pattern(length: number, seed: number): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = (i * 31 + seed * 7 + (i >> 9)) & 0xff;
  return b;
}
