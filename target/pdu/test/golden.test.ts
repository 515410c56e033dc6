/**
 * Golden PDUs written out byte by byte from RFC 7143 §11's layouts: decode → expected object, encode → same bytes.
 * Each line is one 4-byte row of the RFC's figures (byte offset in the comment).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Opcode,
  PduFramer,
  encodePduToBuffer,
  type Pdu,
  type EncodeOptions,
} from '../src/index.ts';
import { hex } from './helpers.ts';

const ZERO8 = '00000000 00000000';
const ZERO12 = '00000000 00000000 00000000';
const ZERO16 = '00000000 00000000 00000000 00000000';

function decodeWire(wire: Buffer, opts: EncodeOptions = {}): Pdu {
  const framer = new PduFramer({
    headerDigest: !!opts.headerDigest,
    dataDigest: !!opts.dataDigest,
    maxRecvDataSegmentLength: 1 << 24,
  });
  const events = framer.push(wire);
  assert.equal(events.length, 1, JSON.stringify(events.map((e) => (e.kind === 'error' ? e.message : e.kind))));
  const [ev] = events;
  assert.equal(ev!.kind, 'pdu');
  assert.equal(framer.bufferedBytes, 0);
  return (ev as { pdu: Pdu }).pdu;
}

const tmfRequestHeader = hex(
  '42 81 0000', //  0: I=1, opcode 0x02 | F=1, Function 1 (ABORT TASK) | reserved
  '00 000000', //   4: TotalAHSLength 0 | DataSegmentLength 0
  '00000000 00000000', // 8: LUN 0
  '00000020', //   16: ITT
  '00000010', //   20: Referenced Task Tag
  '00000008', //   24: CmdSN
  '00000004', //   28: ExpStatSN
  '00000007', //   32: RefCmdSN
  '00000000', //   36: ExpDataSN
  ZERO8, //        40: reserved
);

interface Golden {
  name: string;
  wire: Buffer;
  pdu: Pdu;
  opts?: EncodeOptions;
}

const goldens: Golden[] = [
  {
    // RFC 3720 Appendix B.4 "iSCSI - Read (10) Command PDU" with its published header CRC32C
    name: 'SCSI Command: READ(10), header digest (RFC 3720 B.4 vector)',
    opts: { headerDigest: true },
    wire: hex(
      '01 c0 0000', //  0: opcode 0x01 | F=1 R=1 W=0 ATTR=0 | reserved
      '00 000000', //   4: TotalAHSLength 0 | DataSegmentLength 0
      '00000000 00000000', // 8: LUN 0
      '14000000', //   16: ITT
      '00000400', //   20: Expected Data Transfer Length 1024
      '00000014', //   24: CmdSN 20
      '00000018', //   28: ExpStatSN 24
      '28000000 00000000 02000000 00000000', // 32: CDB READ(10), transfer length 2
      '563a96d9', //   48: header digest as on the wire (RFC 3720 B.4: "56 3a 96 d9")
    ),
    pdu: {
      opcode: Opcode.ScsiCommand,
      immediate: false,
      final: true,
      read: true,
      write: false,
      attr: 0,
      lun: 0n,
      itt: 0x14000000,
      expectedDataTransferLength: 1024,
      cmdSN: 20,
      expStatSN: 24,
      cdb: hex('28000000 00000000 02000000 00000000'),
      ahs: Buffer.alloc(0),
      data: Buffer.alloc(0),
    },
  },
  {
    name: 'SCSI Command: 32-byte CDB (Extended CDB AHS) + Bidirectional Read EDTL AHS + immediate data',
    wire: hex(
      '41 e1 0000', //  0: I=1, opcode 0x01 | F=1 R=1 W=1 ATTR=1 (Simple) | reserved
      '07 000005', //   4: TotalAHSLength 7 words | DataSegmentLength 5
      '00010000 00000000', // 8: LUN 1 (peripheral addressing)
      '00000010', //   16: ITT
      '00000200', //   20: Expected Data Transfer Length 512
      '00000007', //   24: CmdSN
      '00000003', //   28: ExpStatSN
      '7f010203 04050607 08090a0b 0c0d0e0f', // 32: CDB bytes 0..15
      // 48: Extended CDB AHS: AHSLength 17 (= 32 − 15), AHSType 1, reserved, CDB bytes 16..31
      '0011 01 00',
      '10111213 14151617 18191a1b 1c1d1e1f',
      // 68: Bidirectional Read EDTL AHS: AHSLength 5, AHSType 2, reserved, length 4096
      '0005 02 00',
      '00001000',
      '68656c6c 6f 000000', // 76: data "hello" + 3 bytes padding
    ),
    pdu: {
      opcode: Opcode.ScsiCommand,
      immediate: true,
      final: true,
      read: true,
      write: true,
      attr: 1,
      lun: 0x0001_0000_0000_0000n,
      itt: 0x10,
      expectedDataTransferLength: 512,
      cmdSN: 7,
      expStatSN: 3,
      cdb: hex('7f010203 04050607 08090a0b 0c0d0e0f 10111213 14151617 18191a1b 1c1d1e1f'),
      bidiReadExpectedDataTransferLength: 4096,
      ahs: hex('0011 0100 10111213 14151617 18191a1b 1c1d1e1f 0005 0200 00001000'),
      data: Buffer.from('hello'),
    },
  },
  {
    name: 'SCSI Response: CHECK CONDITION with sense data, residual underflow',
    wire: hex(
      '21 82 00 02', // 0: opcode 0x21 | 1 . . o u O U=1 . | Response 0 | Status 0x02 CHECK CONDITION
      '00 000014', //   4: TotalAHSLength 0 | DataSegmentLength 20
      ZERO8, //         8: reserved
      '00000010', //   16: ITT
      '00000000', //   20: SNACK Tag
      '00000003', //   24: StatSN
      '00000008', //   28: ExpCmdSN
      '00000027', //   32: MaxCmdSN
      '00000000', //   36: ExpDataSN
      '00000000', //   40: Bidirectional Read Residual Count
      '00000200', //   44: Residual Count
      // 48: SenseLength 18, fixed-format sense: ILLEGAL REQUEST, ASC 0x24 (INVALID FIELD IN CDB)
      '0012 7000 0500 0000 000a 0000 0000 2400 0000 0000',
    ),
    pdu: {
      opcode: Opcode.ScsiResponse,
      bidiReadResidualOverflow: false,
      bidiReadResidualUnderflow: false,
      residualOverflow: false,
      residualUnderflow: true,
      response: 0,
      status: 2,
      itt: 0x10,
      snackTag: 0,
      statSN: 3,
      expCmdSN: 8,
      maxCmdSN: 0x27,
      expDataSN: 0,
      bidiReadResidualCount: 0,
      residualCount: 0x200,
      ahs: Buffer.alloc(0),
      data: hex('0012 7000 0500 0000 000a 0000 0000 2400 0000 0000'),
    },
  },
  {
    name: 'Task Management Function Request: ABORT TASK',
    wire: tmfRequestHeader,
    pdu: {
      opcode: Opcode.TaskManagementRequest,
      immediate: true,
      function: 1,
      lun: 0n,
      itt: 0x20,
      referencedTaskTag: 0x10,
      cmdSN: 8,
      expStatSN: 4,
      refCmdSN: 7,
      expDataSN: 0,
      ahs: Buffer.alloc(0),
      data: Buffer.alloc(0),
    },
  },
  {
    name: 'Task Management Function Response: function complete',
    wire: hex(
      '22 80 00 00', // 0: opcode 0x22 | 1 | Response 0 | reserved
      '00 000000', //   4: TotalAHSLength | DataSegmentLength
      ZERO8, //         8: reserved
      '00000020', //   16: ITT
      '00000000', //   20: reserved
      '00000004', //   24: StatSN
      '00000009', //   28: ExpCmdSN
      '00000028', //   32: MaxCmdSN
      ZERO12, //       36: reserved
    ),
    pdu: {
      opcode: Opcode.TaskManagementResponse,
      response: 0,
      itt: 0x20,
      statSN: 4,
      expCmdSN: 9,
      maxCmdSN: 0x28,
      ahs: Buffer.alloc(0),
      data: Buffer.alloc(0),
    },
  },
  {
    name: 'Login Request: operational stage → full feature, with text keys',
    wire: hex(
      '43 87 00 00', // 0: I=1, opcode 0x03 | T=1 C=0 CSG=1 NSG=3 | Version-max 0 | Version-min 0
      '00 000012', //   4: TotalAHSLength 0 | DataSegmentLength 18
      '00023d00 0001', // 8: ISID (Linux open-iscsi style)
      '0000', //       14: TSIH 0 (new session)
      '00000000', //   16: ITT
      '0001 0000', //  20: CID 1 | reserved
      '00000001', //   24: CmdSN
      '00000000', //   28: ExpStatSN
      ZERO16, //       32: reserved
      '48656164 65724469 67657374 3d4e6f6e 6500', // 48: "HeaderDigest=None\0"
      '0000', //          padding
    ),
    pdu: {
      opcode: Opcode.LoginRequest,
      immediate: true,
      transit: true,
      continue: false,
      csg: 1,
      nsg: 3,
      versionMax: 0,
      versionMin: 0,
      isid: hex('00023d000001'),
      tsih: 0,
      itt: 0,
      cid: 1,
      cmdSN: 1,
      expStatSN: 0,
      ahs: Buffer.alloc(0),
      data: Buffer.from('HeaderDigest=None\0'),
    },
  },
  {
    name: 'Login Response: success, TSIH assigned',
    wire: hex(
      '23 87 00 00', // 0: opcode 0x23 | T=1 C=0 CSG=1 NSG=3 | Version-max 0 | Version-active 0
      '00 000012', //   4: TotalAHSLength 0 | DataSegmentLength 18
      '00023d00 0001', // 8: ISID
      '0005', //       14: TSIH 5
      '00000000', //   16: ITT
      '00000000', //   20: reserved
      '00000000', //   24: StatSN
      '00000001', //   28: ExpCmdSN
      '00000001', //   32: MaxCmdSN
      '00 00 0000', // 36: Status-Class 0 | Status-Detail 0 | reserved
      ZERO8, //        40: reserved
      '48656164 65724469 67657374 3d4e6f6e 6500 0000', // 48: "HeaderDigest=None\0" + padding
    ),
    pdu: {
      opcode: Opcode.LoginResponse,
      transit: true,
      continue: false,
      csg: 1,
      nsg: 3,
      versionMax: 0,
      versionActive: 0,
      isid: hex('00023d000001'),
      tsih: 5,
      itt: 0,
      statSN: 0,
      expCmdSN: 1,
      maxCmdSN: 1,
      statusClass: 0,
      statusDetail: 0,
      ahs: Buffer.alloc(0),
      data: Buffer.from('HeaderDigest=None\0'),
    },
  },
  {
    name: 'Login Response: authentication failure (Status-Class 2, Status-Detail 1)',
    wire: hex(
      '23 00 00 00', // 0: opcode 0x23 | T=0 C=0 CSG=0 NSG=0 | versions
      '00 000000', //   4
      '400000aa bbcc', // 8: ISID
      '0000', //       14: TSIH
      '12345678', //   16: ITT
      '00000000', //   20: reserved
      '00000000 00000000 00000000', // 24: StatSN, ExpCmdSN, MaxCmdSN
      '02 01 0000', // 36: Status-Class 2 (initiator error) | Status-Detail 1 (authentication failure)
      ZERO8, //        40
    ),
    pdu: {
      opcode: Opcode.LoginResponse,
      transit: false,
      continue: false,
      csg: 0,
      nsg: 0,
      versionMax: 0,
      versionActive: 0,
      isid: hex('400000aabbcc'),
      tsih: 0,
      itt: 0x12345678,
      statSN: 0,
      expCmdSN: 0,
      maxCmdSN: 0,
      statusClass: 2,
      statusDetail: 1,
      ahs: Buffer.alloc(0),
      data: Buffer.alloc(0),
    },
  },
  {
    name: 'Text Request: SendTargets=All',
    wire: hex(
      '04 80 0000', //  0: opcode 0x04 | F=1 C=0 | reserved
      '00 000010', //   4: DataSegmentLength 16
      ZERO8, //         8: LUN
      '00000001', //   16: ITT
      'ffffffff', //   20: TTT (reserved value: a new request)
      '00000002', //   24: CmdSN
      '00000001', //   28: ExpStatSN
      ZERO16, //       32: reserved
      '53656e64 54617267 6574733d 416c6c00', // 48: "SendTargets=All\0"
    ),
    pdu: {
      opcode: Opcode.TextRequest,
      immediate: false,
      final: true,
      continue: false,
      lun: 0n,
      itt: 1,
      ttt: 0xffffffff,
      cmdSN: 2,
      expStatSN: 1,
      ahs: Buffer.alloc(0),
      data: Buffer.from('SendTargets=All\0'),
    },
  },
  {
    name: 'Text Response: continued (C=1) with a target-assigned TTT',
    wire: hex(
      '24 40 0000', //  0: opcode 0x24 | F=0 C=1 | reserved
      '00 000009', //   4: DataSegmentLength 9
      ZERO8, //         8: LUN
      '00000001', //   16: ITT
      '00000077', //   20: TTT
      '00000001', //   24: StatSN
      '00000003', //   28: ExpCmdSN
      '00000003', //   32: MaxCmdSN
      ZERO12, //       36: reserved
      '54617267 65744e61 6d 000000', // 48: "TargetNam" + 3 bytes padding
    ),
    pdu: {
      opcode: Opcode.TextResponse,
      final: false,
      continue: true,
      lun: 0n,
      itt: 1,
      ttt: 0x77,
      statSN: 1,
      expCmdSN: 3,
      maxCmdSN: 3,
      ahs: Buffer.alloc(0),
      data: Buffer.from('TargetNam'),
    },
  },
  {
    name: 'SCSI Data-Out: final, header and data digests',
    opts: { headerDigest: true, dataDigest: true },
    wire: hex(
      '05 80 0000', //  0: opcode 0x05 | F=1 | reserved
      '00 000006', //   4: DataSegmentLength 6
      '00020000 00000000', // 8: LUN 2
      '00000010', //   16: ITT
      '0000abcd', //   20: TTT
      '00000000', //   24: reserved
      '00000003', //   28: ExpStatSN
      '00000000', //   32: reserved
      '00000001', //   36: DataSN
      '00002000', //   40: Buffer Offset
      '00000000', //   44: reserved
      '290aed5a', //   48: header digest (CRC32C of bytes 0–47, least significant byte first)
      '01020304 0506 0000', // 52: data + padding
      '0b8e3db6', //   60: data digest (CRC32C of data + padding)
    ),
    pdu: {
      opcode: Opcode.DataOut,
      final: true,
      lun: 0x0002_0000_0000_0000n,
      itt: 0x10,
      ttt: 0xabcd,
      expStatSN: 3,
      dataSN: 1,
      bufferOffset: 0x2000,
      ahs: Buffer.alloc(0),
      data: hex('010203040506'),
    },
  },
  {
    name: 'SCSI Data-In: final with status (S=1), residual underflow',
    wire: hex(
      '25 83 00 00', // 0: opcode 0x25 | F=1 A=0 O=0 U=1 S=1 | reserved | Status GOOD
      '00 000008', //   4: DataSegmentLength 8
      ZERO8, //         8: LUN
      '14000000', //   16: ITT
      'ffffffff', //   20: TTT
      '00000005', //   24: StatSN
      '00000015', //   28: ExpCmdSN
      '00000034', //   32: MaxCmdSN
      '00000000', //   36: DataSN
      '00000000', //   40: Buffer Offset
      '000003f8', //   44: Residual Count 1016
      '00000000 00000200', // 48: data (READ CAPACITY(10)-like)
    ),
    pdu: {
      opcode: Opcode.DataIn,
      final: true,
      acknowledge: false,
      residualOverflow: false,
      residualUnderflow: true,
      hasStatus: true,
      status: 0,
      lun: 0n,
      itt: 0x14000000,
      ttt: 0xffffffff,
      statSN: 5,
      expCmdSN: 0x15,
      maxCmdSN: 0x34,
      dataSN: 0,
      bufferOffset: 0,
      residualCount: 1016,
      ahs: Buffer.alloc(0),
      data: hex('00000000 00000200'),
    },
  },
  {
    name: 'SCSI Data-In: not final, no status (StatSN/Status reserved)',
    wire: hex(
      '25 00 00 00', // 0: opcode 0x25 | F=0 S=0 | reserved | reserved
      '00 000004', //   4: DataSegmentLength 4
      ZERO8, //         8: LUN
      '00000009', //   16: ITT
      'ffffffff', //   20: TTT
      '00000000', //   24: reserved (StatSN only with S)
      '00000015', //   28: ExpCmdSN
      '00000034', //   32: MaxCmdSN
      '00000002', //   36: DataSN
      '00010000', //   40: Buffer Offset
      '00000000', //   44: Residual Count
      'deadbeef', //   48: data
    ),
    pdu: {
      opcode: Opcode.DataIn,
      final: false,
      acknowledge: false,
      residualOverflow: false,
      residualUnderflow: false,
      hasStatus: false,
      status: 0,
      lun: 0n,
      itt: 9,
      ttt: 0xffffffff,
      statSN: 0,
      expCmdSN: 0x15,
      maxCmdSN: 0x34,
      dataSN: 2,
      bufferOffset: 0x10000,
      residualCount: 0,
      ahs: Buffer.alloc(0),
      data: hex('deadbeef'),
    },
  },
  {
    name: 'Logout Request: close the session',
    wire: hex(
      '46 80 0000', //  0: I=1, opcode 0x06 | 1, Reason Code 0 | reserved
      '00 000000', //   4
      ZERO8, //         8: reserved
      '00000030', //   16: ITT
      '0001 0000', //  20: CID 1 | reserved
      '00000009', //   24: CmdSN
      '00000006', //   28: ExpStatSN
      ZERO16, //       32: reserved
    ),
    pdu: {
      opcode: Opcode.LogoutRequest,
      immediate: true,
      reasonCode: 0,
      itt: 0x30,
      cid: 1,
      cmdSN: 9,
      expStatSN: 6,
      ahs: Buffer.alloc(0),
      data: Buffer.alloc(0),
    },
  },
  {
    name: 'Logout Response: closed successfully',
    wire: hex(
      '26 80 00 00', // 0: opcode 0x26 | 1 | Response 0 | reserved
      '00 000000', //   4
      ZERO8, //         8: reserved
      '00000030', //   16: ITT
      '00000000', //   20: reserved
      '00000006', //   24: StatSN
      '0000000a', //   28: ExpCmdSN
      '00000029', //   32: MaxCmdSN
      '00000000', //   36: reserved
      '0002 0014', //  40: Time2Wait 2 | Time2Retain 20
      '00000000', //   44: reserved
    ),
    pdu: {
      opcode: Opcode.LogoutResponse,
      response: 0,
      itt: 0x30,
      statSN: 6,
      expCmdSN: 10,
      maxCmdSN: 0x29,
      time2Wait: 2,
      time2Retain: 20,
      ahs: Buffer.alloc(0),
      data: Buffer.alloc(0),
    },
  },
  {
    name: 'SNACK Request: Status SNACK',
    wire: hex(
      '10 81 0000', //  0: opcode 0x10 | 1 . . . Type 1 (Status) | reserved
      '00 000000', //   4
      ZERO8, //         8: LUN
      'ffffffff', //   16: ITT
      '00000000', //   20: TTT / SNACK Tag
      '00000000', //   24: reserved
      '00000005', //   28: ExpStatSN
      ZERO8, //        32: reserved
      '00000003', //   40: BegRun
      '00000002', //   44: RunLength
    ),
    pdu: {
      opcode: Opcode.SnackRequest,
      type: 1,
      lun: 0n,
      itt: 0xffffffff,
      ttt: 0,
      expStatSN: 5,
      begRun: 3,
      runLength: 2,
      ahs: Buffer.alloc(0),
      data: Buffer.alloc(0),
    },
  },
  {
    name: 'NOP-Out: ping with data',
    wire: hex(
      '40 80 0000', //  0: I=1, opcode 0x00 | 1 | reserved
      '00 000004', //   4: DataSegmentLength 4
      ZERO8, //         8: LUN
      '00000040', //   16: ITT
      'ffffffff', //   20: TTT
      '0000000b', //   24: CmdSN
      '00000007', //   28: ExpStatSN
      ZERO16, //       32: reserved
      '70696e67', //   48: "ping"
    ),
    pdu: {
      opcode: Opcode.NopOut,
      immediate: true,
      lun: 0n,
      itt: 0x40,
      ttt: 0xffffffff,
      cmdSN: 11,
      expStatSN: 7,
      ahs: Buffer.alloc(0),
      data: Buffer.from('ping'),
    },
  },
  {
    name: 'NOP-In: answer with the ping data',
    wire: hex(
      '20 80 0000', //  0: opcode 0x20 | 1 | reserved
      '00 000004', //   4: DataSegmentLength 4
      ZERO8, //         8: LUN
      '00000040', //   16: ITT
      'ffffffff', //   20: TTT
      '00000007', //   24: StatSN
      '0000000c', //   28: ExpCmdSN
      '0000002b', //   32: MaxCmdSN
      ZERO12, //       36: reserved
      '70696e67', //   48: "ping"
    ),
    pdu: {
      opcode: Opcode.NopIn,
      lun: 0n,
      itt: 0x40,
      ttt: 0xffffffff,
      statSN: 7,
      expCmdSN: 12,
      maxCmdSN: 0x2b,
      ahs: Buffer.alloc(0),
      data: Buffer.from('ping'),
    },
  },
  {
    name: 'R2T',
    wire: hex(
      '31 80 0000', //  0: opcode 0x31 | 1 | reserved
      '00 000000', //   4
      '00010000 00000000', // 8: LUN 1
      '00000010', //   16: ITT
      '0000abcd', //   20: TTT
      '00000004', //   24: StatSN
      '00000008', //   28: ExpCmdSN
      '00000027', //   32: MaxCmdSN
      '00000000', //   36: R2TSN
      '00010000', //   40: Buffer Offset
      '00040000', //   44: Desired Data Transfer Length
    ),
    pdu: {
      opcode: Opcode.R2T,
      lun: 0x0001_0000_0000_0000n,
      itt: 0x10,
      ttt: 0xabcd,
      statSN: 4,
      expCmdSN: 8,
      maxCmdSN: 0x27,
      r2tSN: 0,
      bufferOffset: 0x10000,
      desiredDataTransferLength: 0x40000,
      ahs: Buffer.alloc(0),
      data: Buffer.alloc(0),
    },
  },
  {
    name: 'Asynchronous Message: target requests logout',
    wire: hex(
      '32 80 0000', //  0: opcode 0x32 | 1 | reserved
      '00 000000', //   4
      ZERO8, //         8: LUN
      'ffffffff', //   16: 0xffffffff
      '00000000', //   20: reserved
      '00000008', //   24: StatSN
      '0000000c', //   28: ExpCmdSN
      '0000002b', //   32: MaxCmdSN
      '01 00 0000', // 36: AsyncEvent 1 (logout request) | AsyncVCode | Parameter1
      '0000 001e', //  40: Parameter2 | Parameter3 (30 s to log out)
      '00000000', //   44: reserved
    ),
    pdu: {
      opcode: Opcode.AsyncMessage,
      lun: 0n,
      statSN: 8,
      expCmdSN: 12,
      maxCmdSN: 0x2b,
      asyncEvent: 1,
      asyncVCode: 0,
      parameter1: 0,
      parameter2: 0,
      parameter3: 30,
      ahs: Buffer.alloc(0),
      data: Buffer.alloc(0),
    },
  },
  {
    name: 'Reject: Invalid PDU Field, data = the rejected header',
    wire: Buffer.concat([
      hex(
        '3f 80 09 00', // 0: opcode 0x3f | 1 | Reason 0x09 (Invalid PDU Field) | reserved
        '00 000030', //   4: DataSegmentLength 48
        ZERO8, //         8: reserved
        'ffffffff', //   16: 0xffffffff
        '00000000', //   20: reserved
        '00000009', //   24: StatSN
        '0000000c', //   28: ExpCmdSN
        '0000002b', //   32: MaxCmdSN
        '00000000', //   36: DataSN/R2TSN
        ZERO8, //        40: reserved
      ),
      tmfRequestHeader, // 48: complete header of the rejected PDU
    ]),
    pdu: {
      opcode: Opcode.Reject,
      reason: 9,
      statSN: 9,
      expCmdSN: 12,
      maxCmdSN: 0x2b,
      dataSN: 0,
      ahs: Buffer.alloc(0),
      data: tmfRequestHeader,
    },
  },
];

describe('golden PDUs (RFC 7143 §11 layouts)', () => {
  it('covers every PDU kind', () => {
    const covered = new Set(goldens.map((g) => g.pdu.opcode));
    for (const op of Object.values(Opcode)) assert.ok(covered.has(op), `no golden PDU for opcode 0x${op.toString(16)}`);
  });

  for (const g of goldens) {
    it(`${g.name}: decodes`, () => {
      assert.deepStrictEqual(decodeWire(g.wire, g.opts), g.pdu);
    });
    it(`${g.name}: encodes to the same bytes`, () => {
      assert.equal(encodePduToBuffer(g.pdu, g.opts).toString('hex'), g.wire.toString('hex'));
    });
  }
});
