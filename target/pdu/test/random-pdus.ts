/** Random, valid PDUs of every kind (fields within their wire widths, reserved fields respected). */
import { Opcode, type Pdu } from '../src/index.ts';
import type { Rng } from './helpers.ts';

function data(r: Rng, max = 300): Buffer {
  return r.bool() ? Buffer.alloc(0) : r.bytes(r.int(max));
}

/** Raw AHS for kinds that carry it opaque: one segment of a type nobody interprets. */
function opaqueAhs(r: Rng): Buffer {
  if (r.int(4) !== 0) return Buffer.alloc(0);
  const len = r.int(20);
  const seg = Buffer.alloc((3 + len + 3) & ~3);
  seg.writeUInt16BE(len, 0);
  seg[2] = 0x40 + r.int(0x3f);
  r.bytes(len).copy(seg, 3);
  return seg;
}

const generators: { [K in Pdu['opcode']]: (r: Rng) => Extract<Pdu, { opcode: K }> } = {
  [Opcode.NopOut]: (r) => ({
    opcode: Opcode.NopOut, immediate: r.bool(), lun: r.u64(), itt: r.u32(), ttt: r.u32(), cmdSN: r.u32(),
    expStatSN: r.u32(), ahs: opaqueAhs(r), data: data(r),
  }),
  [Opcode.ScsiCommand]: (r) => {
    const cdbLength = [6, 10, 12, 16, 16, 32, 17, 260][r.int(8)]!;
    const cdb = Buffer.alloc(Math.max(16, cdbLength));
    r.bytes(cdbLength).copy(cdb);
    const pdu: Extract<Pdu, { opcode: 0x01 }> = {
      opcode: Opcode.ScsiCommand, immediate: r.bool(), final: r.bool(), read: r.bool(), write: r.bool(),
      attr: r.int(8), lun: r.u64(), itt: r.u32(), expectedDataTransferLength: r.u32(), cmdSN: r.u32(),
      expStatSN: r.u32(), cdb, ahs: Buffer.alloc(0), data: data(r),
    };
    if (r.bool()) pdu.bidiReadExpectedDataTransferLength = r.u32();
    return pdu;
  },
  [Opcode.TaskManagementRequest]: (r) => ({
    opcode: Opcode.TaskManagementRequest, immediate: r.bool(), function: r.int(128), lun: r.u64(), itt: r.u32(),
    referencedTaskTag: r.u32(), cmdSN: r.u32(), expStatSN: r.u32(), refCmdSN: r.u32(), expDataSN: r.u32(),
    ahs: opaqueAhs(r), data: data(r),
  }),
  [Opcode.LoginRequest]: (r) => ({
    opcode: Opcode.LoginRequest, immediate: true, transit: r.bool(), continue: r.bool(), csg: r.int(4),
    nsg: r.int(4), versionMax: r.u8(), versionMin: r.u8(), isid: r.bytes(6), tsih: r.u16(), itt: r.u32(),
    cid: r.u16(), cmdSN: r.u32(), expStatSN: r.u32(), ahs: opaqueAhs(r), data: data(r),
  }),
  [Opcode.TextRequest]: (r) => ({
    opcode: Opcode.TextRequest, immediate: r.bool(), final: r.bool(), continue: r.bool(), lun: r.u64(),
    itt: r.u32(), ttt: r.u32(), cmdSN: r.u32(), expStatSN: r.u32(), ahs: opaqueAhs(r), data: data(r),
  }),
  [Opcode.DataOut]: (r) => ({
    opcode: Opcode.DataOut, final: r.bool(), lun: r.u64(), itt: r.u32(), ttt: r.u32(), expStatSN: r.u32(),
    dataSN: r.u32(), bufferOffset: r.u32(), ahs: opaqueAhs(r), data: data(r, 3000),
  }),
  [Opcode.LogoutRequest]: (r) => ({
    opcode: Opcode.LogoutRequest, immediate: r.bool(), reasonCode: r.int(128), itt: r.u32(), cid: r.u16(),
    cmdSN: r.u32(), expStatSN: r.u32(), ahs: opaqueAhs(r), data: data(r),
  }),
  [Opcode.SnackRequest]: (r) => ({
    opcode: Opcode.SnackRequest, type: r.int(16), lun: r.u64(), itt: r.u32(), ttt: r.u32(), expStatSN: r.u32(),
    begRun: r.u32(), runLength: r.u32(), ahs: opaqueAhs(r), data: data(r),
  }),
  [Opcode.NopIn]: (r) => ({
    opcode: Opcode.NopIn, lun: r.u64(), itt: r.u32(), ttt: r.u32(), statSN: r.u32(), expCmdSN: r.u32(),
    maxCmdSN: r.u32(), ahs: opaqueAhs(r), data: data(r),
  }),
  [Opcode.ScsiResponse]: (r) => ({
    opcode: Opcode.ScsiResponse, bidiReadResidualOverflow: r.bool(), bidiReadResidualUnderflow: r.bool(),
    residualOverflow: r.bool(), residualUnderflow: r.bool(), response: r.u8(), status: r.u8(), itt: r.u32(),
    snackTag: r.u32(), statSN: r.u32(), expCmdSN: r.u32(), maxCmdSN: r.u32(), expDataSN: r.u32(),
    bidiReadResidualCount: r.u32(), residualCount: r.u32(), ahs: opaqueAhs(r), data: data(r),
  }),
  [Opcode.TaskManagementResponse]: (r) => ({
    opcode: Opcode.TaskManagementResponse, response: r.u8(), itt: r.u32(), statSN: r.u32(), expCmdSN: r.u32(),
    maxCmdSN: r.u32(), ahs: opaqueAhs(r), data: data(r),
  }),
  [Opcode.LoginResponse]: (r) => ({
    opcode: Opcode.LoginResponse, transit: r.bool(), continue: r.bool(), csg: r.int(4), nsg: r.int(4),
    versionMax: r.u8(), versionActive: r.u8(), isid: r.bytes(6), tsih: r.u16(), itt: r.u32(), statSN: r.u32(),
    expCmdSN: r.u32(), maxCmdSN: r.u32(), statusClass: r.u8(), statusDetail: r.u8(), ahs: opaqueAhs(r),
    data: data(r),
  }),
  [Opcode.TextResponse]: (r) => ({
    opcode: Opcode.TextResponse, final: r.bool(), continue: r.bool(), lun: r.u64(), itt: r.u32(), ttt: r.u32(),
    statSN: r.u32(), expCmdSN: r.u32(), maxCmdSN: r.u32(), ahs: opaqueAhs(r), data: data(r),
  }),
  [Opcode.DataIn]: (r) => {
    const hasStatus = r.bool();
    return {
      opcode: Opcode.DataIn, final: r.bool(), acknowledge: r.bool(), residualOverflow: r.bool(),
      residualUnderflow: r.bool(), hasStatus, status: hasStatus ? r.u8() : 0, lun: r.u64(), itt: r.u32(),
      ttt: r.u32(), statSN: hasStatus ? r.u32() : 0, expCmdSN: r.u32(), maxCmdSN: r.u32(), dataSN: r.u32(),
      bufferOffset: r.u32(), residualCount: r.u32(), ahs: opaqueAhs(r), data: data(r, 3000),
    };
  },
  [Opcode.LogoutResponse]: (r) => ({
    opcode: Opcode.LogoutResponse, response: r.u8(), itt: r.u32(), statSN: r.u32(), expCmdSN: r.u32(),
    maxCmdSN: r.u32(), time2Wait: r.u16(), time2Retain: r.u16(), ahs: opaqueAhs(r), data: data(r),
  }),
  [Opcode.R2T]: (r) => ({
    opcode: Opcode.R2T, lun: r.u64(), itt: r.u32(), ttt: r.u32(), statSN: r.u32(), expCmdSN: r.u32(),
    maxCmdSN: r.u32(), r2tSN: r.u32(), bufferOffset: r.u32(), desiredDataTransferLength: r.u32(),
    ahs: opaqueAhs(r), data: data(r),
  }),
  [Opcode.AsyncMessage]: (r) => ({
    opcode: Opcode.AsyncMessage, lun: r.u64(), statSN: r.u32(), expCmdSN: r.u32(), maxCmdSN: r.u32(),
    asyncEvent: r.u8(), asyncVCode: r.u8(), parameter1: r.u16(), parameter2: r.u16(), parameter3: r.u16(),
    ahs: opaqueAhs(r), data: data(r),
  }),
  [Opcode.Reject]: (r) => ({
    opcode: Opcode.Reject, reason: r.u8(), statSN: r.u32(), expCmdSN: r.u32(), maxCmdSN: r.u32(),
    dataSN: r.u32(), ahs: opaqueAhs(r), data: r.bytes(48),
  }),
};

export const ALL_OPCODES = Object.values(Opcode) as Pdu['opcode'][];

export function randomPdu(r: Rng, opcode: Pdu['opcode'] = ALL_OPCODES[r.int(ALL_OPCODES.length)]!): Pdu {
  return (generators[opcode] as (r: Rng) => Pdu)(r);
}
