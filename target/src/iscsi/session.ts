/**
 * A normal or discovery session in full feature phase (RFC 7143 §4.2, §11). openlun negotiates MaxConnections=1
 * and ErrorRecoveryLevel=0, so a session has exactly one connection and any protocol error ends the session.
 *
 * The session owns command ordering (CmdSN window), the task table (ITT → task), NOP-In keepalives, task management
 * and logout; the connection owns the socket, framing, StatSN and login.
 */
import type {
  DataOutPdu,
  InitiatorPdu,
  LogoutRequestPdu,
  NopOutPdu,
  PduInit,
  ScsiCommandPdu,
  TargetPdu,
  TaskManagementRequestPdu,
  TextRequestPdu,
} from 'node-iscsi-pdu';
import { Opcode, RESERVED_TAG, RejectReason, TmfFunction, decodeLun } from 'node-iscsi-pdu';
import type { Nexus, ScsiResponse } from '../scsi/types.ts';
import { CmdSNWindow } from './cmdsn-window.ts';
import { DataOutProtocolError } from './data-out.ts';
import type { BurstLimits } from './data-out.ts';
import { ScsiTask } from './scsi-task.ts';
import type { TaskHost } from './scsi-task.ts';
import type { TargetEntry } from './target-config.ts';
import type { TextSession } from './discovery.ts';

/** Commands the target accepts ahead of ExpCmdSN (MaxCmdSN - ExpCmdSN + 1). */
export const COMMAND_WINDOW = 128;

export interface SessionParams extends BurstLimits {
  maxSendDataSegment: number;
  immediateData: boolean;
  dataPDUInOrder: boolean;
  dataSequenceInOrder: boolean;
}

/** What the session needs from its connection. */
export interface SessionConnection {
  /** Fills StatSN/ExpCmdSN/MaxCmdSN as the PDU kind requires and writes it. */
  send(pdu: PduInit<TargetPdu>, advancesStatSN: boolean, onWritten?: () => void): void;
  reject(header: Buffer, reason: number, why: string): void;
  /** Ends the connection (and so, at ERL 0, the session). */
  drop(why: string): void;
  /** Ends the connection after everything queued has been written. */
  finish(): void;
  log(msg: string): void;
  readonly id: string;
  /** The initiator's address and the portal it reached, `addr:port`. */
  readonly remote: string;
  /** The initiator's IP address alone (ACL rules with networks are checked against it). */
  readonly peerAddress?: string | undefined;
  readonly portalAddress: string;
  readonly digests: { headerDigest: boolean; dataDigest: boolean };
}


export interface SessionOptions {
  tsih: number;
  isid: Buffer;
  initiatorName: string;
  kind: 'Normal' | 'Discovery';
  target: TargetEntry | undefined;
  nexus: Nexus | undefined;
  firstCmdSN: number;
  params: SessionParams;
  conn: SessionConnection;
  text: TextSession;
  /** For LOGICAL UNIT RESET / TARGET RESET: every session of the same target. */
  peers: () => Iterable<Session>;
  /** Called once when the session ends. */
  onEnd: (s: Session) => void;
}

export class Session {
  /** Queued with its own header: a Reject must carry the header of the PDU it rejects (RFC 7143 §11.17). */
  readonly window: CmdSNWindow<{ pdu: InitiatorPdu; header: Buffer }>;
  readonly tasks = new Map<number, ScsiTask>();
  private nextTtt = 1;
  private ended = false;
  readonly startedAt = new Date();

  constructor(readonly o: SessionOptions) {
    this.window = new CmdSNWindow(o.firstCmdSN, COMMAND_WINDOW);
  }

  get tsih(): number {
    return this.o.tsih;
  }
  get isid(): Buffer {
    return this.o.isid;
  }
  get initiatorName(): string {
    return this.o.initiatorName;
  }
  get target(): TargetEntry | undefined {
    return this.o.target;
  }
  get expCmdSN(): number {
    return this.window.expCmdSN;
  }
  get maxCmdSN(): number {
    return this.window.maxCmdSN;
  }

  /** Entry point for every full-feature PDU from the initiator, with its raw header for Reject. */
  handle(pdu: InitiatorPdu, header: Buffer): void {
    switch (pdu.opcode) {
      case Opcode.DataOut:
        return this.onDataOut(pdu, header);
      case Opcode.SnackRequest:
        // RFC 7143 §11.16: SNACK needs ErrorRecoveryLevel > 0, and we negotiate 0
        return this.o.conn.reject(header, RejectReason.ProtocolError, 'SNACK at ErrorRecoveryLevel 0');
      case Opcode.LoginRequest:
        return this.o.conn.reject(header, RejectReason.ProtocolError, 'Login request in full feature phase');
      case Opcode.NopOut:
      case Opcode.ScsiCommand:
      case Opcode.TaskManagementRequest:
      case Opcode.TextRequest:
      case Opcode.LogoutRequest:
        break;
      default:
        // a target-side opcode (RFC 7143 §11.2.1.2) from an initiator: the framer decodes both directions
        return this.o.conn.reject(header, RejectReason.ProtocolError, `target opcode 0x${(pdu as { opcode: number }).opcode.toString(16)} from the initiator`);
    }
    if (pdu.immediate) {
      this.deliver(pdu, header);
      return;
    }
    const admission = this.window.offer(pdu.cmdSN, { pdu, header });
    if (admission === 'out-of-window') {
      this.o.conn.log(
        `ignoring ${opcodeName(pdu.opcode)} with CmdSN ${pdu.cmdSN} outside ${this.window.expCmdSN}..${this.window.maxCmdSN}`,
      );
    } else if (admission === 'deliver') {
      this.deliver(pdu, header);
    }
    for (const next of this.window.drain()) this.deliver(next.pdu, next.header);
  }

  private deliver(pdu: InitiatorPdu, header: Buffer): void {
    switch (pdu.opcode) {
      case Opcode.ScsiCommand:
        return this.onScsiCommand(pdu, header);
      case Opcode.NopOut:
        return this.onNopOut(pdu);
      case Opcode.TaskManagementRequest:
        return this.onTaskManagement(pdu);
      case Opcode.TextRequest:
        return this.onText(pdu, header);
      case Opcode.LogoutRequest:
        return this.onLogout(pdu);
      default:
        return this.o.conn.reject(header, RejectReason.CommandNotSupported, `unexpected opcode ${pdu.opcode}`);
    }
  }

  private onText(pdu: TextRequestPdu, header: Buffer): void {
    const step = this.o.text.handle(pdu);
    if (step.kind === 'reject') return this.o.conn.reject(header, step.reason, step.why);
    // RFC 7143 §13.12: MaxRecvDataSegmentLength may be declared again in full feature phase
    const mrdsl = step.changes.maxRecvDataSegmentLengthInitiator;
    if (mrdsl !== undefined) this.o.params.maxSendDataSegment = mrdsl;
    this.o.conn.send(step.response, true);
  }

  private onScsiCommand(cmd: ScsiCommandPdu, header: Buffer): void {
    if (this.o.kind === 'Discovery' || !this.o.target || !this.o.nexus) {
      // RFC 7143 §4.3: a discovery session carries only Text, NOP and Logout
      return this.o.conn.reject(header, RejectReason.ProtocolError, 'SCSI command in a discovery session');
    }
    if (cmd.data.length > 0 && !this.o.params.immediateData) {
      // RFC 7143 §13.11: with ImmediateData=No a command carries no data
      return this.o.conn.drop('protocol error: immediate data although ImmediateData=No');
    }
    if (this.tasks.has(cmd.itt)) {
      return this.o.conn.reject(header, RejectReason.TaskInProgress, `ITT 0x${cmd.itt.toString(16)} already in use`);
    }
    let task: ScsiTask;
    try {
      task = new ScsiTask(cmd, this.taskHost(this.o.target));
    } catch (err) {
      if (err instanceof DataOutProtocolError) return this.o.conn.drop(`protocol error: ${err.message}`);
      throw err;
    }
    this.tasks.set(cmd.itt, task);
    task
      .run()
      .catch((err: unknown) => {
        this.o.conn.log(`command 0x${cmd.cdb[0]!.toString(16)} ITT 0x${cmd.itt.toString(16)} failed: ${String(err)}`);
        this.o.conn.drop('internal error while executing a command');
      })
      .finally(() => {
        if (this.tasks.get(cmd.itt) === task) this.tasks.delete(cmd.itt);
      });
  }

  /** One TaskHost per session (built at the first command): tasks share it instead of carrying closures. */
  private host: TaskHost | undefined;

  private taskHost(target: TargetEntry): TaskHost {
    if (this.host) return this.host;
    const p = this.o.params;
    const conn = this.o.conn;
    const device = target.device;
    this.host = {
      nexus: this.o.nexus!,
      limits: p,
      // read at each use: a Text request may declare a new MaxRecvDataSegmentLength in full feature phase
      get maxSendDataSegment() {
        return p.maxSendDataSegment;
      },
      maxBurstLength: p.maxBurstLength,
      allocateTtt: () => this.allocateTtt(),
      sendR2T: (task, r) =>
        conn.send(
          {
            opcode: Opcode.R2T,
            lun: task.cmd.lun,
            itt: task.itt,
            ttt: r.ttt,
            statSN: 0,
            expCmdSN: 0,
            maxCmdSN: 0,
            r2tSN: r.r2tSN,
            bufferOffset: r.bufferOffset,
            desiredDataTransferLength: r.desiredDataTransferLength,
          },
          false,
        ),
      sendDataIn: (pdu, withStatus, onWritten) => conn.send(pdu, withStatus, onWritten),
      sendResponse: (pdu) => conn.send(pdu, true),
      execute: (task): Promise<ScsiResponse> => device.execute(task),
    };
    return this.host;
  }

  private allocateTtt(): number {
    const t = this.nextTtt;
    this.nextTtt = this.nextTtt >= 0xfffffffe ? 1 : this.nextTtt + 1;
    return t;
  }

  /** A Data-Out whose payload failed its data digest (the framer already sent nothing; we Reject it here). */
  dataOutDigestError(pdu: DataOutPdu, header: Buffer): void {
    // RFC 7143 §7.8: Reject with reason "data digest error", then end the command (option b) — never retry at ERL 0
    this.o.conn.reject(header, RejectReason.DataDigestError, 'data digest error on Data-Out');
    // one PDU, one Reject: a Data-Out for no known transfer needs no second answer
    const task = this.tasks.get(pdu.itt);
    if (!task?.dataOut) return;
    this.onDataOut(pdu, header, false);
  }

  private onDataOut(pdu: DataOutPdu, header: Buffer, digestOk = true): void {
    const task = this.tasks.get(pdu.itt);
    if (!task || !task.dataOut) {
      if (task === undefined && this.recentlyAborted.has(pdu.itt)) return; // data still in flight for an aborted task
      return this.o.conn.reject(header, RejectReason.InvalidPduField, `Data-Out for unknown ITT 0x${pdu.itt.toString(16)}`);
    }
    if (task.aborted) return;
    try {
      task.dataOut.receive(pdu, digestOk);
    } catch (err) {
      if (err instanceof DataOutProtocolError) {
        // ERL 0: a sequence error cannot be recovered within the connection (RFC 7143 §7.1.4, §7.12)
        this.o.conn.drop(`protocol error: ${err.message}`);
        return;
      }
      throw err;
    }
  }

  private readonly recentlyAborted = new Set<number>();

  private abortTask(task: ScsiTask, why: string): void {
    task.abort(why);
    this.tasks.delete(task.itt);
    this.recentlyAborted.add(task.itt);
    if (this.recentlyAborted.size > 1024) {
      const first = this.recentlyAborted.values().next().value;
      if (first !== undefined) this.recentlyAborted.delete(first);
    }
  }

  /** Aborts this session's tasks matching `lun` (all when undefined); returns how many. */
  abortTasks(lun: number | undefined, why: string): number {
    let n = 0;
    for (const task of [...this.tasks.values()]) {
      if (lun === undefined || task.lun === lun) {
        this.abortTask(task, why);
        n++;
      }
    }
    this.window.removeQueued(({ pdu: p }) => p.opcode === Opcode.ScsiCommand && (lun === undefined || decodeLun(p.lun) === lun));
    return n;
  }

  private onNopOut(pdu: NopOutPdu): void {
    if (pdu.itt === RESERVED_TAG) {
      // RFC 7143 §11.18.1: an answer to our NOP-In ping (or a bare ExpStatSN update): no reply
      if (pdu.ttt !== RESERVED_TAG) this.pingAnswered(pdu.ttt);
      return;
    }
    // §11.19: echo the ping data back with TTT 0xffffffff
    this.o.conn.send(
      {
        opcode: Opcode.NopIn,
        lun: pdu.lun,
        itt: pdu.itt,
        ttt: RESERVED_TAG,
        statSN: 0,
        expCmdSN: 0,
        maxCmdSN: 0,
        data: pdu.data.subarray(0, this.o.params.maxSendDataSegment),
      },
      true,
    );
  }

  // --- NOP-In keepalive (RFC 7143 §11.19.2: a target-initiated ping with a TTT the initiator echoes)
  private pingTtt: number | undefined;
  private pingSentAt = 0;

  /** Called by the connection's idle timer; returns false when the previous ping went unanswered too long. */
  ping(timeoutMs: number): boolean {
    if (this.pingTtt !== undefined) return Date.now() - this.pingSentAt < timeoutMs;
    this.pingTtt = this.allocateTtt();
    this.pingSentAt = Date.now();
    this.o.conn.send(
      {
        opcode: Opcode.NopIn,
        lun: 0n,
        itt: RESERVED_TAG,
        ttt: this.pingTtt,
        statSN: 0,
        expCmdSN: 0,
        maxCmdSN: 0,
      },
      false,
    );
    return true;
  }

  private pingAnswered(ttt: number): void {
    if (ttt === this.pingTtt) this.pingTtt = undefined;
  }

  private onTaskManagement(pdu: TaskManagementRequestPdu): void {
    const respond = (response: number): void =>
      this.o.conn.send(
        { opcode: Opcode.TaskManagementResponse, response, itt: pdu.itt, statSN: 0, expCmdSN: 0, maxCmdSN: 0 },
        true,
      );
    const target = this.o.target;
    if (this.o.kind === 'Discovery' || !target || !this.o.nexus) return respond(TmfResponse.Rejected);
    const lun = decodeLun(pdu.lun);
    const lunMapped = lun !== undefined && target.device.hasLun(lun);
    switch (pdu.function) {
      case TmfFunction.AbortTask: {
        const task = this.tasks.get(pdu.referencedTaskTag);
        if (task && task.cmd.lun === pdu.lun) {
          this.abortTask(task, 'ABORT TASK');
          return respond(TmfResponse.FunctionComplete);
        }
        const queued = this.window.removeQueued(({ pdu: p }) => p.opcode === Opcode.ScsiCommand && p.itt === pdu.referencedTaskTag);
        if (queued.length > 0) return respond(TmfResponse.FunctionComplete);
        // RFC 7143 §11.5.1: a command not yet received but inside the window counts as received and aborted
        if (this.window.notYetReceived(pdu.refCmdSN, pdu.cmdSN)) {
          this.window.markReceived(pdu.refCmdSN);
          return respond(TmfResponse.FunctionComplete);
        }
        return respond(TmfResponse.TaskDoesNotExist);
      }
      case TmfFunction.AbortTaskSet:
      case TmfFunction.ClearTaskSet:
        if (!lunMapped) return respond(TmfResponse.LunDoesNotExist);
        this.abortTasks(lun, pdu.function === TmfFunction.AbortTaskSet ? 'ABORT TASK SET' : 'CLEAR TASK SET');
        return respond(TmfResponse.FunctionComplete);
      case TmfFunction.LogicalUnitReset:
        if (!lunMapped) return respond(TmfResponse.LunDoesNotExist);
        // SAM-5 §7.6: a LU reset aborts every task in the LU's task sets, from every I_T nexus
        for (const s of this.o.peers()) s.abortTasks(lun, 'LOGICAL UNIT RESET');
        target.device.logicalUnitReset(lun, this.o.nexus);
        this.o.conn.log(`LOGICAL UNIT RESET of LUN ${lun}`);
        return respond(TmfResponse.FunctionComplete);
      case TmfFunction.TargetWarmReset:
      case TmfFunction.TargetColdReset: {
        const cold = pdu.function === TmfFunction.TargetColdReset;
        for (const s of this.o.peers()) s.abortTasks(undefined, cold ? 'TARGET COLD RESET' : 'TARGET WARM RESET');
        target.device.targetReset(cold ? 'cold' : 'warm', this.o.nexus);
        this.o.conn.log(cold ? 'TARGET COLD RESET' : 'TARGET WARM RESET');
        respond(TmfResponse.FunctionComplete);
        // RFC 7143 §11.5.1: after a cold reset the target closes every connection of the target
        if (cold) for (const s of [...this.o.peers()]) s.o.conn.finish();
        return;
      }
      case TmfFunction.TaskReassign:
        // needs ErrorRecoveryLevel 2
        return respond(TmfResponse.ReassignNotSupported);
      case TmfFunction.ClearACA:
        // NACA=1 is refused in every CDB, so no ACA condition can exist
        return respond(TmfResponse.NotSupported);
      default:
        return respond(TmfResponse.Rejected);
    }
  }

  private onLogout(pdu: LogoutRequestPdu): void {
    // RFC 7143 §11.14.1: reason 2 (remove connection for recovery) needs ERL 2
    const response = pdu.reasonCode === 2 ? 2 : 0;
    if (response === 0) this.abortTasks(undefined, 'logout');
    this.o.conn.send(
      {
        opcode: Opcode.LogoutResponse,
        response,
        itt: pdu.itt,
        statSN: 0,
        expCmdSN: 0,
        maxCmdSN: 0,
        time2Wait: 0,
        time2Retain: 0,
      },
      true,
    );
    if (response === 0) {
      this.o.conn.log(`logout of ${this.o.initiatorName}`);
      this.o.conn.finish();
    }
  }

  /** Asks the initiator to log out (shutdown): Async Message event 1 (RFC 7143 §11.9.1). */
  requestLogout(seconds: number): void {
    this.o.conn.send(
      {
        opcode: Opcode.AsyncMessage,
        lun: 0n,
        statSN: 0,
        expCmdSN: 0,
        maxCmdSN: 0,
        asyncEvent: 1,
        asyncVCode: 0,
        parameter1: 0,
        parameter2: 0,
        parameter3: seconds,
      },
      false,
    );
  }

  /** Connection gone: abort everything; the SCSI layer learns of the I_T nexus loss. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.abortTasks(undefined, 'connection closed');
    if (this.o.nexus && this.o.target) this.o.target.device.nexusLost(this.o.nexus.id);
    this.o.onEnd(this);
  }
}

/** RFC 7143 §11.6.1 */
export const TmfResponse = {
  FunctionComplete: 0,
  TaskDoesNotExist: 1,
  LunDoesNotExist: 2,
  TaskStillAllegiant: 3,
  ReassignNotSupported: 4,
  NotSupported: 5,
  AuthorizationFailed: 6,
  Rejected: 255,
} as const;

function opcodeName(op: number): string {
  for (const [name, v] of Object.entries(Opcode)) if (v === op) return name;
  return `0x${op.toString(16)}`;
}
