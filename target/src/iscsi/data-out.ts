/**
 * Assembles the data-out of one SCSI write-type command: immediate data, unsolicited Data-Out PDUs and the
 * Data-Out answering our R2Ts (RFC 7143 §4.2.4 (data transfer), §11.7 (Data-Out), §11.8 (R2T)).
 *
 * Rules enforced here, each a protocol error at ERL 0 when violated (the connection drops the session):
 * - immediate + unsolicited data never go beyond min(FirstBurstLength, EDTL) (§13.14, the libiscsi#144 lesson);
 * - DataPDUInOrder=Yes / DataSequenceInOrder=Yes: every Data-Out continues exactly where the previous one ended;
 * - nothing beyond EDTL, nothing for a TTT we did not hand out.
 * A DataSN out of sequence (§11.7.5: 0 for the unsolicited sequence and for every R2T, then +1) or a Data-Out
 * whose payload failed its digest loses data but not the framing: ERL 0 cannot ask again, so the command ends with
 * CHECK CONDITION once the initiator has sent what it was going to (§7.8 option b), and the session lives on.
 */
import { RESERVED_TAG } from 'node-iscsi-pdu';
import type { DataOutPdu } from 'node-iscsi-pdu';
import { ScsiError } from '../scsi/sense.ts';

export class DataOutProtocolError extends Error {}

export interface BurstLimits {
  firstBurstLength: number;
  maxBurstLength: number;
  maxOutstandingR2T: number;
  initialR2T: boolean;
}

export interface R2TRequest {
  ttt: number;
  r2tSN: number;
  bufferOffset: number;
  desiredDataTransferLength: number;
}

/** Who hands out TTTs and R2TSNs and sends the R2Ts (the command's task). */
export interface R2TSolicitor {
  nextR2TSN(): number;
  allocateTtt(): number;
  sendR2T(r: R2TRequest): void;
}

interface OutstandingR2T extends R2TRequest {
  nextOffset: number;
  nextDataSN: number;
}

export class DataOutAssembler {
  /** Bytes of immediate + unsolicited data the initiator may send without an R2T. */
  private readonly unsolicitedLimit: number;
  private unsolicitedDone: boolean;
  private unsolicitedDataSN = 0;
  /** Next buffer offset expected (DataPDUInOrder=Yes makes the stream contiguous). */
  private nextOffset = 0;
  /** Data that arrived before the command asked for it (only unsolicited data can). */
  private early: Buffer[] = [];
  private sink: Buffer | undefined;
  private wanted = -1;
  private r2ts = new Map<number, OutstandingR2T>();
  /** Offset up to which R2Ts have been issued. */
  private solicitedUpTo = 0;
  private waiter: { resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  private quiesceWaiters: Array<() => void> = [];
  private failed: Error | undefined;
  /** Data was lost (DataSN gap, digest error): the command fails, the sequence is still followed to its end. */
  private lost: ScsiError | undefined;

  constructor(
    readonly edtl: number,
    immediate: Buffer,
    commandFinal: boolean,
    private readonly limits: BurstLimits,
    private readonly solicitor: R2TSolicitor,
  ) {
    // RFC 7143 §13.10/§13.11: with InitialR2T=Yes only immediate data is unsolicited
    const unsolicitedCap = Math.min(edtl, limits.firstBurstLength);
    this.unsolicitedLimit = limits.initialR2T ? Math.min(immediate.length, unsolicitedCap) : unsolicitedCap;
    if (immediate.length > unsolicitedCap) {
      throw new DataOutProtocolError(
        `immediate data of ${immediate.length} bytes exceeds min(FirstBurstLength, EDTL) = ${unsolicitedCap}`,
      );
    }
    if (immediate.length > 0) {
      this.early.push(immediate);
      this.nextOffset = immediate.length;
    }
    // §11.3.4: F=1 on the command means no unsolicited Data-Out follows
    this.unsolicitedDone = commandFinal || limits.initialR2T || this.nextOffset >= this.unsolicitedLimit;
  }

  /** Bytes asked for by the command, or -1 if it never asked. */
  get requested(): number {
    return this.wanted;
  }

  /** Called by the SCSI layer through ScsiRequest.readDataOut. */
  read(length: number): Promise<Buffer> {
    if (this.wanted >= 0) return Promise.reject(new Error('data-out already requested'));
    if (this.failed) return Promise.reject(this.failed);
    if (this.lost) {
      this.wanted = length;
      return Promise.reject(this.lost);
    }
    this.wanted = length;
    // never solicit beyond what the initiator declared; the SCSI layer decides what a short transfer means
    length = Math.min(length, this.edtl);
    if (this.early.length === 1 && this.early[0]!.length >= length) {
      // zero copy: a small write carried wholly as immediate data
      this.sink = this.early[0]!.subarray(0, length);
    } else {
      this.sink = Buffer.allocUnsafe(length);
      let off = 0;
      for (const b of this.early) {
        if (off >= length) break;
        b.copy(this.sink, off, 0, Math.min(b.length, length - off));
        off += b.length;
      }
    }
    this.early = [];
    if (this.nextOffset >= length) return Promise.resolve(this.sink);
    return new Promise<Buffer>((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.issueR2Ts();
    });
  }

  /**
   * Handles one Data-Out PDU for this command. Throws DataOutProtocolError on a violation that breaks the framing
   * of the transfer. `digestOk` false: the payload failed its data digest and was discarded by the framer.
   */
  receive(pdu: DataOutPdu, digestOk = true): void {
    if (this.failed) return;
    const len = pdu.data.length;
    if (pdu.ttt === RESERVED_TAG) {
      if (this.unsolicitedDone) throw new DataOutProtocolError('unsolicited Data-Out after the unsolicited sequence ended');
      if (pdu.bufferOffset !== this.nextOffset) {
        throw new DataOutProtocolError(`Data-Out buffer offset ${pdu.bufferOffset}, expected ${this.nextOffset}`);
      }
      if (pdu.bufferOffset + len > this.unsolicitedLimit) {
        throw new DataOutProtocolError('unsolicited data beyond min(FirstBurstLength, EDTL)');
      }
      this.checkDataSN(pdu.dataSN, this.unsolicitedDataSN, digestOk);
      this.unsolicitedDataSN = pdu.dataSN + 1;
      this.accept(pdu.bufferOffset, pdu.data);
      if (pdu.final || this.nextOffset >= this.unsolicitedLimit) {
        if (!pdu.final) throw new DataOutProtocolError('unsolicited sequence reached FirstBurstLength without F bit');
        this.unsolicitedDone = true;
        this.issueR2Ts();
      }
    } else {
      const r2t = this.r2ts.get(pdu.ttt);
      if (!r2t) throw new DataOutProtocolError(`Data-Out for unknown TTT 0x${pdu.ttt.toString(16)}`);
      const end = r2t.bufferOffset + r2t.desiredDataTransferLength;
      if (pdu.bufferOffset !== r2t.nextOffset || pdu.bufferOffset + len > end) {
        throw new DataOutProtocolError(`Data-Out offset ${pdu.bufferOffset}+${len} outside the R2T's ${r2t.nextOffset}..${end}`);
      }
      this.checkDataSN(pdu.dataSN, r2t.nextDataSN, digestOk);
      r2t.nextDataSN = pdu.dataSN + 1;
      r2t.nextOffset += len;
      this.accept(pdu.bufferOffset, pdu.data);
      if (r2t.nextOffset === end) {
        if (!pdu.final) throw new DataOutProtocolError('R2T sequence complete without F bit');
        this.r2ts.delete(pdu.ttt);
        this.issueR2Ts();
      } else if (pdu.final) {
        throw new DataOutProtocolError('F bit before the R2T was satisfied');
      }
    }
    this.settle();
  }

  private checkDataSN(got: number, expected: number, digestOk: boolean): void {
    if (this.lost) return;
    if (!digestOk) this.lose(new ScsiError('PROTOCOL_SERVICE_CRC_ERROR'));
    else if (got !== expected) this.lose(new ScsiError('DATA_PHASE_ERROR'));
  }

  private lose(err: ScsiError): void {
    this.lost = err;
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(err);
  }

  /** Resolves once no more Data-Out can arrive for this command (the response may then be sent). */
  quiesced(): Promise<void> {
    if (this.isQuiet()) return Promise.resolve();
    return new Promise((resolve) => this.quiesceWaiters.push(resolve));
  }

  /** Fails the pending read (task aborted or connection lost). */
  abort(err: Error): void {
    this.failed = err;
    this.r2ts.clear();
    this.unsolicitedDone = true;
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(err);
    this.settle();
  }

  /** Whether this TTT belongs to an outstanding R2T of this command. */
  ownsTtt(ttt: number): boolean {
    return this.r2ts.has(ttt);
  }

  private accept(offset: number, data: Buffer): void {
    this.nextOffset = offset + data.length;
    if (this.lost) return;
    if (this.sink) {
      if (offset < this.sink.length) data.copy(this.sink, offset, 0, Math.min(data.length, this.sink.length - offset));
    } else {
      this.early.push(data);
    }
  }

  private isQuiet(): boolean {
    const need = this.sink ? this.sink.length : 0;
    return this.unsolicitedDone && this.r2ts.size === 0 && (this.wanted < 0 || this.nextOffset >= need || !!this.failed || !!this.lost);
  }

  private settle(): void {
    if (this.waiter && this.sink && this.nextOffset >= this.sink.length) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve(this.sink);
    }
    if (this.isQuiet()) {
      const ws = this.quiesceWaiters;
      this.quiesceWaiters = [];
      for (const w of ws) w();
    }
  }

  /** RFC 7143 §11.8: solicit what the command still needs, one MaxBurstLength per R2T, MaxOutstandingR2T at a time. */
  private issueR2Ts(): void {
    if (!this.unsolicitedDone || this.wanted < 0 || this.failed || this.lost) return;
    if (this.solicitedUpTo < this.nextOffset) this.solicitedUpTo = this.nextOffset;
    const need = this.sink ? this.sink.length : 0;
    while (this.solicitedUpTo < need && this.r2ts.size < this.limits.maxOutstandingR2T) {
      const len = Math.min(this.limits.maxBurstLength, need - this.solicitedUpTo);
      const r: OutstandingR2T = {
        ttt: this.solicitor.allocateTtt(),
        r2tSN: this.solicitor.nextR2TSN(),
        bufferOffset: this.solicitedUpTo,
        desiredDataTransferLength: len,
        nextOffset: this.solicitedUpTo,
        nextDataSN: 0,
      };
      this.r2ts.set(r.ttt, r);
      this.solicitedUpTo += len;
      this.solicitor.sendR2T(r);
    }
  }
}
