/**
 * One TCP connection from an initiator: framing, the login phase, then full feature phase through its Session
 * (RFC 7143 §4, §6). StatSN is per connection (§4.2.2.2) and is filled in here for every PDU that carries one.
 */
import type { Socket } from 'node:net';
import { Opcode, PduFramer, decodePdu, readDataSegmentLength, readOpcode } from 'node-iscsi-pdu';
import type { DataOutPdu, InitiatorPdu, LoginRequestPdu, PduInit, TargetPdu } from 'node-iscsi-pdu';
import { serialAdd } from './serial.ts';
import { PduWriter, WRITE_HIGH_WATER } from './pdu-writer.ts';
import { Session } from './session.ts';
import type { SessionConnection } from './session.ts';
import { LoginSession } from './login.ts';
import type { LoginOutcome, TargetDirectory } from './login.ts';
import { LoginFailure } from './login-status.ts';
import { formatPortal } from './target-config.ts';
import type { PortalEntry } from './target-config.ts';
import type { Logger } from '../log.ts';

/** RFC 7143 §13.12: during login the data segment limit is the default 8192 bytes. */
const LOGIN_MAX_RECV_DATA_SEGMENT = 8192;
/** A login that has not reached full feature phase in this long is dropped (resource exhaustion guard). */
const LOGIN_TIMEOUT_MS = 15_000;

export interface ConnectionServices {
  log: Logger;
  /** The targets as this connection may see them (portals announced from its local address). */
  directoryFor(conn: Connection): TargetDirectory;
  /**
   * Registers the logged-in session (allocating its TSIH, reinstating an older one with the same ISID);
   * throws LoginFailure when it cannot.
   */
  establish(conn: Connection, outcome: LoginOutcome): Session;
  nopIntervalMs: number;
  nopTimeoutMs: number;
}

let connectionCounter = 0;

export class Connection implements SessionConnection {
  readonly id: string;
  private readonly framer = new PduFramer({
    headerDigest: false,
    dataDigest: false,
    maxRecvDataSegmentLength: LOGIN_MAX_RECV_DATA_SEGMENT,
  });
  private readonly writer: PduWriter;
  private statSN: number;
  private phase: 'login' | 'full' | 'closed' = 'login';
  private readonly login: LoginSession;
  session: Session | undefined;
  private readonly loginTimer: NodeJS.Timeout;
  private idleTimer: NodeJS.Timeout | undefined;
  private lastActivity = Date.now();
  readonly remote: string;
  /** The initiator's IP address (the TCP peer), for ACL rules that restrict networks. */
  readonly peerAddress: string | undefined;
  /** The portal this connection reached, as `addr:port` (its local end). */
  readonly portalAddress: string;

  constructor(
    readonly socket: Socket,
    readonly portal: PortalEntry,
    private readonly services: ConnectionServices,
  ) {
    this.id = `c${++connectionCounter}`;
    this.peerAddress = socket.remoteAddress;
    this.remote = formatPortal(socket.remoteAddress ?? '?', socket.remotePort ?? 0);
    this.portalAddress = formatPortal(socket.localAddress ?? '?', socket.localPort ?? 0);
    this.statSN = 1;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    this.writer = new PduWriter(socket);
    this.login = new LoginSession({
      directory: services.directoryFor(this),
      portalGroupTag: portal.portalGroupTag,
      log: (m) => this.log(m),
    });
    this.loginTimer = setTimeout(() => this.drop('login did not complete in time'), LOGIN_TIMEOUT_MS);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => socket.isPaused() && socket.resume());
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // an initiator that resets instead of closing (open-iscsi ends discovery sessions so) is routine, not news
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') this.services.log.debug(`${this.remote} connection reset`);
      else this.log(`socket error: ${err.message}`);
    });
    socket.on('close', () => this.onClose());
  }

  get digests(): { headerDigest: boolean; dataDigest: boolean } {
    return this.writer.digests;
  }

  get closed(): boolean {
    return this.phase === 'closed';
  }

  log(msg: string): void {
    this.services.log.info(`${this.remote} ${this.session ? this.session.initiatorName + ' ' : ''}${msg}`);
  }

  private onData(chunk: Buffer): void {
    if (this.phase === 'closed') return;
    this.lastActivity = Date.now();
    for (const ev of this.framer.push(chunk)) {
      if (ev.kind === 'error') {
        if (ev.fatal || this.phase === 'login') {
          this.log(`framing error: ${ev.message}`);
          if (ev.header && this.phase === 'full') this.reject(ev.header, ev.rejectReason, ev.message);
          this.drop(ev.message);
          return;
        }
        if (ev.reason === 'data-digest' && ev.header && readOpcode(ev.header) === Opcode.DataOut && this.session) {
          // the header is sound (its own digest passed): the command learns its data was lost
          const len = readDataSegmentLength(ev.header);
          const pdu = decodePdu(ev.header, Buffer.alloc(0), Buffer.alloc(len)) as DataOutPdu;
          this.session.dataOutDigestError(pdu, ev.header);
          continue;
        }
        // RFC 7143 §7.8: any other PDU with a data digest error is discarded and answered with Reject
        if (ev.header) this.reject(ev.header, ev.rejectReason, ev.message);
        continue;
      }
      const pdu = ev.pdu as InitiatorPdu;
      if (this.phase === 'login') {
        if (pdu.opcode !== Opcode.LoginRequest) {
          // RFC 7143 §6.1: only Login Requests before full feature phase; there is no Reject in login
          this.drop(`${pdu.opcode} PDU during login`);
          return;
        }
        this.onLoginRequest(pdu);
      } else if (this.phase === 'full') {
        try {
          this.session!.handle(pdu, ev.header);
        } catch (err) {
          this.log(`internal error: ${(err as Error).stack ?? String(err)}`);
          this.drop('internal error');
          return;
        }
      }
      if (this.closed) return;
    }
    if (this.writer.backlog > WRITE_HIGH_WATER) this.socket.pause();
  }

  private onLoginRequest(pdu: LoginRequestPdu): void {
    const step = this.login.handle(pdu);
    if (step.kind === 'continue') {
      this.sendLogin(step.response);
      return;
    }
    if (step.kind === 'failed') {
      // RFC 7143 §6.3: a login reject ends the connection (the login layer already logged the reason)
      this.sendLogin(step.response);
      this.finish();
      return;
    }
    const outcome = step.outcome;
    let session: Session;
    try {
      session = this.services.establish(this, outcome);
    } catch (err) {
      const failure = err instanceof LoginFailure ? err : new LoginFailure('TargetError', (err as Error).message);
      this.sendLogin(step.refuse(failure.status, failure.message));
      this.finish();
      return;
    }
    this.session = session;
    this.sendLogin(step.accept(session.tsih, { expCmdSN: session.expCmdSN, maxCmdSN: session.maxCmdSN }));
    clearTimeout(this.loginTimer);
    this.phase = 'full';
    const p = outcome.params;
    const headerDigest = p.headerDigest === 'CRC32C';
    const dataDigest = p.dataDigest === 'CRC32C';
    // RFC 7143 §13.1: digests apply from the first PDU after the final Login Response
    this.writer.digests = { headerDigest, dataDigest };
    this.framer.update({ headerDigest, dataDigest, maxRecvDataSegmentLength: p.maxRecvDataSegmentLengthTarget });
    this.log(
      `login: ${outcome.sessionType === 'Discovery' ? 'discovery session' : `target ${outcome.target?.name ?? '?'}`}` +
        ` (TSIH ${session.tsih}, ISID ${outcome.isid.toString('hex')}, auth ${outcome.authMethod}${outcome.mutualChap ? ' mutual' : ''},` +
        ` digests ${p.headerDigest}/${p.dataDigest})`,
    );
    this.startKeepalive();
  }

  private sendLogin(pdu: PduInit<TargetPdu>): void {
    // §11.13.4: every Login Response advances StatSN
    this.writer.send({ ...pdu, statSN: this.statSN } as PduInit<TargetPdu>);
    this.statSN = serialAdd(this.statSN, 1);
  }

  send(pdu: PduInit<TargetPdu>, advancesStatSN: boolean, onWritten?: () => void): void {
    if (this.phase === 'closed') {
      onWritten?.();
      return;
    }
    const s = this.session;
    const p = pdu as PduInit<TargetPdu> & { statSN: number; expCmdSN: number; maxCmdSN: number };
    p.statSN = this.statSN;
    if (s) {
      p.expCmdSN = s.expCmdSN;
      p.maxCmdSN = s.maxCmdSN;
    }
    if (advancesStatSN) this.statSN = serialAdd(this.statSN, 1);
    this.writer.send(p, onWritten);
  }

  reject(header: Buffer, reason: number, why: string): void {
    this.log(`reject (reason 0x${reason.toString(16)}): ${why}`);
    // RFC 7143 §11.17: the data segment is the rejected PDU's header; StatSN advances after a Reject
    this.send(
      { opcode: Opcode.Reject, reason, statSN: 0, expCmdSN: 0, maxCmdSN: 0, dataSN: 0, data: Buffer.from(header) },
      true,
    );
  }

  drop(why: string): void {
    if (this.phase === 'closed') return;
    this.log(`closing connection: ${why}`);
    this.phase = 'closed';
    this.socket.destroy();
  }

  finish(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    // let queued PDUs (a Logout or final Login Response) leave first: end() flushes a corked stream
    setImmediate(() => this.socket.end());
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  private startKeepalive(): void {
    const interval = this.services.nopIntervalMs;
    if (interval <= 0) return;
    this.idleTimer = setInterval(() => {
      if (this.phase !== 'full' || !this.session) return;
      if (Date.now() - this.lastActivity < interval) return;
      if (!this.session.ping(this.services.nopTimeoutMs)) this.drop('NOP-In ping not answered');
    }, interval);
    this.idleTimer.unref();
  }

  private onClose(): void {
    clearTimeout(this.loginTimer);
    if (this.idleTimer) clearInterval(this.idleTimer);
    this.phase = 'closed';
    this.session?.end();
  }

  /** RFC 7143 §11.9: ask the initiator to log out, e.g. before shutdown. */
  requestLogout(seconds: number): void {
    this.session?.requestLogout(seconds);
  }
}

