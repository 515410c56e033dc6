/**
 * One SCSI command on the iSCSI side: its data-out, its execution by the SCSI layer and its answer as Data-In
 * PDUs and/or a SCSI Response (RFC 7143 §11.3, §11.4, §11.7), with exact residuals (§11.4.5) — ESXi rejects a
 * false underflow that Linux ignores (interop.md, spdk#405).
 */
import type { DataInPdu, PduInit, ScsiCommandPdu, ScsiResponsePdu } from 'node-iscsi-pdu';
import { Opcode, RESERVED_TAG, decodeLun } from 'node-iscsi-pdu';
import type { Nexus, ScsiRequest, ScsiResponse } from '../scsi/types.ts';
import { ScsiStatus } from '../scsi/types.ts';
import { releaseReadBuffer } from '../backstore/read-buffers.ts';
import { DataOutAssembler } from './data-out.ts';
import type { BurstLimits, R2TRequest, R2TSolicitor } from './data-out.ts';

/** What a task needs from its session; one object per session, shared by its tasks. */
export interface TaskHost {
  nexus: Nexus;
  limits: BurstLimits;
  /** Largest data segment the initiator accepts (its declared MaxRecvDataSegmentLength). */
  maxSendDataSegment: number;
  maxBurstLength: number;
  allocateTtt(): number;
  sendR2T(task: ScsiTask, r: R2TRequest): void;
  /** `onWritten`: called once the socket has taken the PDU (see PduWriter.send). */
  sendDataIn(pdu: PduInit<DataInPdu>, withStatus: boolean, onWritten?: () => void): void;
  sendResponse(pdu: PduInit<ScsiResponsePdu>): void;
  execute(task: ScsiTask): Promise<ScsiResponse>;
}

/**
 * The task is also the SCSI layer's request (ScsiRequest): no per-command adapter objects or closures on the
 * hot path, and the AbortController exists only once someone asks for the signal or aborts.
 */
export class ScsiTask implements ScsiRequest, R2TSolicitor {
  readonly dataOut: DataOutAssembler | undefined;
  readonly lun: number | undefined;
  readonly nexus: Nexus;
  /** R2TSN and DataSN share one counter per command (RFC 7143 §11.8.4). */
  private sn = 0;
  /** Data-out the CDB asked for although the command carried no W bit (an overflow of 0 declared bytes). */
  private writeWithoutWBit = 0;
  private controller: AbortController | undefined;
  aborted = false;

  constructor(
    readonly cmd: ScsiCommandPdu,
    private readonly host: TaskHost,
  ) {
    this.nexus = host.nexus;
    this.lun = decodeLun(cmd.lun);
    if (cmd.write) {
      this.dataOut = new DataOutAssembler(cmd.expectedDataTransferLength, cmd.data, cmd.final, host.limits, this);
    }
  }

  get itt(): number {
    return this.cmd.itt;
  }
  get cdb(): Buffer {
    return this.cmd.cdb;
  }
  get taskAttribute(): number {
    return this.cmd.attr;
  }
  get expectedDataTransferLength(): number {
    return this.cmd.expectedDataTransferLength;
  }
  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    return this.controller.signal;
  }

  isAborted(): boolean {
    return this.aborted;
  }

  nextR2TSN(): number {
    return this.sn++;
  }
  allocateTtt(): number {
    return this.host.allocateTtt();
  }
  sendR2T(r: R2TRequest): void {
    this.host.sendR2T(this, r);
  }

  abort(reason: string): void {
    if (this.aborted) return;
    this.aborted = true;
    this.controller?.abort(new Error(reason));
    this.dataOut?.abort(new Error(reason));
  }

  async run(): Promise<void> {
    let result: ScsiResponse;
    try {
      result = await this.host.execute(this);
    } catch (err) {
      if (this.aborted) return;
      throw err;
    }
    // never answer before the initiator has finished sending what it was allowed to send unsolicited
    if (this.dataOut) await this.dataOut.quiesced();
    if (this.aborted) return;
    this.respond(result);
  }

  readDataOut(length: number): Promise<Buffer> {
    if (!this.dataOut) {
      // RFC 7143 §11.3.1: without the W bit the initiator sends no data-out: an overflow of the whole length
      this.writeWithoutWBit = length;
      return Promise.resolve(Buffer.alloc(0));
    }
    return this.dataOut.read(length);
  }

  private respond(r: ScsiResponse): void {
    const edtl = this.cmd.expectedDataTransferLength;
    let residualOverflow = false;
    let residualUnderflow = false;
    let residualCount = 0;
    let dataIn: Buffer | undefined;
    if (this.cmd.read && r.data) {
      // §11.4.5.2: residuals compare what the command would transfer with what the initiator expected
      const produced = r.data.length;
      if (produced > edtl) {
        residualOverflow = true;
        residualCount = produced - edtl;
        dataIn = r.data.subarray(0, edtl);
      } else {
        dataIn = r.data;
        if (produced < edtl) {
          residualUnderflow = true;
          residualCount = edtl - produced;
        }
      }
    } else if (this.cmd.write) {
      const wanted = Math.max(0, this.dataOut?.requested ?? 0);
      if (wanted > edtl) {
        residualOverflow = true;
        residualCount = wanted - edtl;
      } else if (wanted < edtl) {
        residualUnderflow = true;
        residualCount = edtl - wanted;
      }
    } else if (r.data && r.data.length > 0) {
      // §11.3.1: without the R bit no Data-In may be sent: everything the command produced is an overflow
      residualOverflow = true;
      residualCount = r.data.length;
    } else if (this.writeWithoutWBit > 0) {
      residualOverflow = true;
      residualCount = this.writeWithoutWBit;
    } else if (this.cmd.read && edtl > 0) {
      residualUnderflow = true;
      residualCount = edtl;
    }

    const canPiggyback = !r.sense && (r.status === ScsiStatus.GOOD || r.status === ScsiStatus.CONDITION_MET);
    // a pooled read buffer goes back once the socket has taken the last Data-In that points into it
    const release = r.data ? () => releaseReadBuffer(r.data!) : undefined;
    if (dataIn && dataIn.length > 0) {
      this.sendDataIn(dataIn, canPiggyback ? { status: r.status, residualOverflow, residualUnderflow, residualCount } : undefined, release);
      if (canPiggyback) return;
    } else {
      release?.();
    }
    this.host.sendResponse({
      opcode: Opcode.ScsiResponse,
      bidiReadResidualOverflow: false,
      bidiReadResidualUnderflow: false,
      residualOverflow,
      residualUnderflow,
      response: 0,
      status: r.status,
      itt: this.cmd.itt,
      snackTag: 0,
      statSN: 0,
      expCmdSN: 0,
      maxCmdSN: 0,
      expDataSN: this.sn,
      bidiReadResidualCount: 0,
      residualCount,
      data: r.sense ? senseSegment(r.sense) : Buffer.alloc(0),
    });
  }

  /** §11.7: Data-In PDUs no larger than the initiator's MaxRecvDataSegmentLength; F at each MaxBurstLength. */
  private sendDataIn(
    data: Buffer,
    status: { status: number; residualOverflow: boolean; residualUnderflow: boolean; residualCount: number } | undefined,
    onLastWritten: (() => void) | undefined,
  ): void {
    const seg = this.host.maxSendDataSegment;
    const burst = this.host.maxBurstLength;
    let offset = 0;
    let inBurst = 0;
    while (offset < data.length) {
      const len = Math.min(seg, data.length - offset, burst - inBurst);
      const last = offset + len === data.length;
      inBurst += len;
      const endOfBurst = last || inBurst === burst;
      if (inBurst === burst) inBurst = 0;
      const withStatus = last && status !== undefined;
      this.host.sendDataIn(
        {
          opcode: Opcode.DataIn,
          final: endOfBurst,
          acknowledge: false,
          residualOverflow: withStatus ? status.residualOverflow : false,
          residualUnderflow: withStatus ? status.residualUnderflow : false,
          hasStatus: withStatus,
          status: withStatus ? status.status : 0,
          lun: this.cmd.lun,
          itt: this.cmd.itt,
          ttt: RESERVED_TAG,
          statSN: 0,
          expCmdSN: 0,
          maxCmdSN: 0,
          dataSN: this.sn++,
          bufferOffset: offset,
          residualCount: withStatus ? status.residualCount : 0,
          data: data.subarray(offset, offset + len),
        },
        withStatus,
        last ? onLastWritten : undefined,
      );
      offset += len;
    }
  }
}

/** RFC 7143 §11.4.7: SenseLength (2 bytes) followed by the sense data. */
function senseSegment(sense: Buffer): Buffer {
  const out = Buffer.allocUnsafe(2 + sense.length);
  out.writeUInt16BE(sense.length, 0);
  sense.copy(out, 2);
  return out;
}
