/**
 * Decoders for what multipath tests read back over a session: VPD 0x83 port designators (SPC-4 §7.8.6) and REPORT
 * TARGET PORT GROUPS data (SPC-4 §6.36), and a data-in command that retries past a new nexus's unit attention.
 */
import type { RawInitiator } from './raw-initiator.ts';

export function decodeVpd83(data: Buffer): { naa: string; tpg: number; relPort: number; portName: string } {
  const r = { naa: '', tpg: -1, relPort: -1, portName: '' };
  for (let off = 4; off + 4 <= data.length; ) {
    const assoc = (data[off + 1]! >> 4) & 0x3;
    const type = data[off + 1]! & 0x0f;
    const len = data[off + 3]!;
    const v = data.subarray(off + 4, off + 4 + len);
    if (assoc === 0 && type === 3) r.naa = v.toString('hex');
    if (assoc === 1 && type === 5) r.tpg = v.readUInt16BE(2);
    if (assoc === 1 && type === 4) r.relPort = v.readUInt16BE(2);
    if (assoc === 1 && type === 8) r.portName = v.toString('utf8').replace(/\0+$/, '');
    off += 4 + len;
  }
  return r;
}

export function decodeRtpg(data: Buffer): Array<{ id: number; state: number; ports: number[] }> {
  const groups = [];
  for (let off = 4; off < 4 + data.readUInt32BE(0); ) {
    const count = data[off + 7]!;
    const ports = [];
    for (let i = 0; i < count; i++) ports.push(data.readUInt16BE(off + 8 + 4 * i + 2));
    groups.push({ id: data.readUInt16BE(off + 2), state: data[off]! & 0x0f, ports });
    off += 8 + 4 * count;
  }
  return groups;
}

export async function commandIn(ini: RawInitiator, cdb: Buffer, edtl: number): Promise<Buffer> {
  for (let i = 0; i < 3; i++) {
    const r = await ini.result(ini.command(cdb, { read: true, edtl }));
    if (r.status === 0) return r.data; // the first command of a nexus reports POWER ON (SAM-5 §5.14)
  }
  throw new Error('command kept failing');
}
