/** CDB and parameter-list builders for the persistent reservation tests (SPC-4 §6.16, §6.17). */
import type { ScsiTargetDevice } from '../src/scsi/device.ts';
import type { Nexus, ScsiResponse } from '../src/scsi/types.ts';
import { encodeTransportId } from '../src/scsi/transport-id.ts';
import { run } from './scsi-fixture.ts';

export const SA = { REGISTER: 0, RESERVE: 1, RELEASE: 2, CLEAR: 3, PREEMPT: 4, PREEMPT_AND_ABORT: 5, REGISTER_AND_IGNORE: 6, REGISTER_AND_MOVE: 7 } as const;
export const TYPE = { WE: 1, EA: 3, WE_RO: 5, EA_RO: 6, WE_AR: 7, EA_AR: 8 } as const;
export const RESERVATION_CONFLICT = 0x18;

export function prOutCdb(sa: number, type: number, listLength: number): Buffer {
  const c = Buffer.alloc(10);
  c[0] = 0x5f;
  c[1] = sa;
  c[2] = type & 0x0f;
  c.writeUInt32BE(listLength, 5);
  return c;
}

export function prInCdb(sa: number, alloc = 8192): Buffer {
  const c = Buffer.alloc(10);
  c[0] = 0x5e;
  c[1] = sa;
  c.writeUInt16BE(alloc, 7);
  return c;
}

export interface ListOptions {
  specIPt?: boolean;
  allTgPt?: boolean;
  aptpl?: boolean;
  transportIds?: Buffer[];
}

export function basicList(key: bigint, sark: bigint, o: ListOptions = {}): Buffer {
  const b = Buffer.alloc(24);
  b.writeBigUInt64BE(key, 0);
  b.writeBigUInt64BE(sark, 8);
  b[20] = (o.specIPt ? 0x08 : 0) | (o.allTgPt ? 0x04 : 0) | (o.aptpl ? 0x01 : 0);
  if (!o.specIPt) return b;
  const tids = Buffer.concat(o.transportIds ?? []);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(tids.length);
  return Buffer.concat([b, len, tids]);
}

export function moveList(key: bigint, sark: bigint, dest: Nexus, o: { unreg?: boolean; aptpl?: boolean; rtpi?: number } = {}): Buffer {
  const tid = encodeTransportId(dest.initiatorName, dest.isid.toString('hex'));
  const b = Buffer.alloc(24 + tid.length);
  b.writeBigUInt64BE(key, 0);
  b.writeBigUInt64BE(sark, 8);
  b[17] = (o.unreg ? 0x02 : 0) | (o.aptpl ? 0x01 : 0);
  b.writeUInt16BE(o.rtpi ?? dest.relativeTargetPortId, 18);
  b.writeUInt32BE(tid.length, 20);
  tid.copy(b, 24);
  return b;
}

export function prOut(device: ScsiTargetDevice, nexus: Nexus, sa: number, type: number, list: Buffer): Promise<ScsiResponse> {
  return run(device, prOutCdb(sa, type, list.length), { nexus, dataOut: list });
}

export function register(device: ScsiTargetDevice, nexus: Nexus, key: bigint, o: ListOptions = {}): Promise<ScsiResponse> {
  return prOut(device, nexus, SA.REGISTER_AND_IGNORE, 0, basicList(0n, key, o));
}

export function reserve(device: ScsiTargetDevice, nexus: Nexus, key: bigint, type: number): Promise<ScsiResponse> {
  return prOut(device, nexus, SA.RESERVE, type, basicList(key, 0n));
}

export function prIn(device: ScsiTargetDevice, nexus: Nexus, sa: number): Promise<ScsiResponse> {
  return run(device, prInCdb(sa), { nexus });
}

export async function readKeys(device: ScsiTargetDevice, nexus: Nexus): Promise<{ generation: number; keys: bigint[] }> {
  const r = await prIn(device, nexus, 0);
  const d = r.data!;
  const n = d.readUInt32BE(4) / 8;
  return { generation: d.readUInt32BE(0), keys: Array.from({ length: n }, (_, i) => d.readBigUInt64BE(8 + 8 * i)) };
}

export async function readReservation(device: ScsiTargetDevice, nexus: Nexus): Promise<{ key: bigint; type: number } | undefined> {
  const r = await prIn(device, nexus, 1);
  const d = r.data!;
  if (d.readUInt32BE(4) === 0) return undefined;
  return { key: d.readBigUInt64BE(8), type: d[21]! & 0x0f };
}
