/**
 * A deliberately small iSCSI initiator for tests: it speaks PDUs through node-iscsi-pdu and lets a test send
 * anything — including what a real initiator never would.
 */
import net from 'node:net';
import { createHash } from 'node:crypto';
import { Opcode, PduFramer, RESERVED_TAG, encodePdu } from 'node-iscsi-pdu';
import type { Pdu, PduInit, TargetPdu, LoginResponsePdu, R2TPdu } from 'node-iscsi-pdu';

export interface Pair {
  [key: string]: string;
}

export function encodeKeys(pairs: Pair): Buffer {
  return Buffer.from(
    Object.entries(pairs)
      .map(([k, v]) => `${k}=${v}\0`)
      .join(''),
    'utf8',
  );
}

export function decodeKeys(data: Buffer): Pair {
  const out: Pair = {};
  for (const kv of data.toString('utf8').split('\0')) {
    if (!kv) continue;
    const i = kv.indexOf('=');
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

export class RawInitiator {
  private readonly framer = new PduFramer({ headerDigest: false, dataDigest: false, maxRecvDataSegmentLength: 1 << 24 });
  /** Every PDU received, in order (tests inspect StatSN sequences etc.). */
  readonly received: TargetPdu[] = [];
  private queue: TargetPdu[] = [];
  private waiters: Array<() => void> = [];
  closed = false;
  cmdSN = 1;
  expStatSN = 0;
  itt = 1;
  readonly isid = Buffer.from([0x80, 0x12, 0x34, 0x56, 0x00, 0x01]);
  tsih = 0;
  digests = { headerDigest: false, dataDigest: false };

  private constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      for (const ev of this.framer.push(chunk)) {
        if (ev.kind === 'pdu') {
          this.queue.push(ev.pdu as TargetPdu);
          this.received.push(ev.pdu as TargetPdu);
        }
        else this.queue.push({ opcode: -1, message: ev.message } as unknown as TargetPdu);
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawInitiator> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host }, () => resolve(new RawInitiator(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(pdu: PduInit<Pdu>): void {
    for (const c of encodePdu(pdu, this.digests)) this.socket.write(c);
  }

  sendRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Next PDU from the target, or undefined if the connection closed / nothing arrived in time. */
  async next(timeoutMs = 3000): Promise<TargetPdu | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0) {
      if (this.closed) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    const p = this.queue.shift()!;
    if (advancesStatSN(p)) this.expStatSN = (p.statSN + 1) >>> 0;
    return p;
  }

  /** Waits for the connection to close; true if it did within the time. */
  async waitClosed(timeoutMs = 3000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) {
      this.queue = [];
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.closed;
  }

  loginPdu(keys: Pair, opts: { csg: number; nsg: number; transit: boolean }): PduInit<Pdu> {
    return {
      opcode: Opcode.LoginRequest,
      immediate: true,
      transit: opts.transit,
      continue: false,
      csg: opts.csg,
      nsg: opts.nsg,
      versionMax: 0,
      versionMin: 0,
      isid: this.isid,
      tsih: this.tsih,
      itt: this.itt,
      cid: 1,
      cmdSN: this.cmdSN,
      expStatSN: this.expStatSN,
      data: encodeKeys(keys),
    };
  }

  /**
   * Logs in: security stage (CHAP if credentials are given, else AuthMethod=None), then operational, then full
   * feature. Returns the last login response (its status tells success or failure).
   */
  async login(opts: {
    initiatorName: string;
    targetName?: string;
    discovery?: boolean;
    chap?: { user: string; secret: string };
    operational?: Pair;
  }): Promise<LoginResponsePdu> {
    const base: Pair = {
      InitiatorName: opts.initiatorName,
      SessionType: opts.discovery ? 'Discovery' : 'Normal',
      ...(opts.targetName ? { TargetName: opts.targetName } : {}),
    };
    let resp: LoginResponsePdu;
    if (opts.chap) {
      this.send(this.loginPdu({ ...base, AuthMethod: 'CHAP,None' }, { csg: 0, nsg: 1, transit: false }));
      resp = await this.expectLogin();
      if (resp.statusClass !== 0) return resp;
      this.send(this.loginPdu({ CHAP_A: '5' }, { csg: 0, nsg: 1, transit: false }));
      resp = await this.expectLogin();
      if (resp.statusClass !== 0) return resp;
      const k = decodeKeys(resp.data);
      const id = Number(k['CHAP_I']);
      const challenge = Buffer.from(k['CHAP_C']!.slice(2), 'hex');
      const r = createHash('md5')
        .update(Buffer.from([id]))
        .update(opts.chap.secret)
        .update(challenge)
        .digest('hex');
      this.send(this.loginPdu({ CHAP_N: opts.chap.user, CHAP_R: `0x${r}` }, { csg: 0, nsg: 1, transit: true }));
      resp = await this.expectLogin();
      if (resp.statusClass !== 0) return resp;
    } else {
      this.send(this.loginPdu({ ...base, AuthMethod: 'None' }, { csg: 0, nsg: 1, transit: true }));
      resp = await this.expectLogin();
      if (resp.statusClass !== 0) return resp;
    }
    this.tsih = resp.tsih;
    const op: Pair = {
      HeaderDigest: 'None',
      DataDigest: 'None',
      ErrorRecoveryLevel: '0',
      InitialR2T: 'Yes',
      ImmediateData: 'Yes',
      MaxRecvDataSegmentLength: '262144',
      MaxBurstLength: '262144',
      FirstBurstLength: '65536',
      ...opts.operational,
    };
    for (let round = 0; round < 4; round++) {
      this.send(this.loginPdu(round === 0 ? op : {}, { csg: 1, nsg: 3, transit: true }));
      resp = await this.expectLogin();
      if (resp.statusClass !== 0 || (resp.transit && resp.nsg === 3)) break;
    }
    this.tsih = resp.tsih;
    if (resp.statusClass === 0) {
      // RFC 7143 §13.1: digests start with the first PDU after the final Login Response
      const k = decodeKeys(resp.data);
      const hd = (k['HeaderDigest'] ?? op['HeaderDigest']) === 'CRC32C';
      const dd = (k['DataDigest'] ?? op['DataDigest']) === 'CRC32C';
      this.digests = { headerDigest: hd, dataDigest: dd };
      this.framer.update({ headerDigest: hd, dataDigest: dd });
    }
    return resp;
  }

  private async expectLogin(): Promise<LoginResponsePdu> {
    const p = await this.next();
    if (!p) throw new Error('connection closed during login');
    if (p.opcode !== Opcode.LoginResponse) throw new Error(`expected Login Response, got opcode ${p.opcode}`);
    return p;
  }

  /** Sends a SCSI command (non-immediate, next CmdSN) and returns its ITT. */
  command(cdb: Buffer, opts: { lun?: bigint; read?: boolean; write?: boolean; edtl?: number; data?: Buffer; final?: boolean; cmdSN?: number; itt?: number } = {}): number {
    const itt = opts.itt ?? this.itt++;
    const padded = Buffer.alloc(Math.max(16, cdb.length));
    cdb.copy(padded);
    this.send({
      opcode: Opcode.ScsiCommand,
      immediate: false,
      final: opts.final ?? true,
      read: opts.read ?? false,
      write: opts.write ?? false,
      attr: 1,
      lun: opts.lun ?? 0n,
      itt,
      expectedDataTransferLength: opts.edtl ?? 0,
      cmdSN: opts.cmdSN ?? this.cmdSN,
      expStatSN: this.expStatSN,
      cdb: padded,
      data: opts.data ?? Buffer.alloc(0),
    });
    if (opts.cmdSN === undefined) this.cmdSN = (this.cmdSN + 1) >>> 0;
    return itt;
  }

  /** Collects Data-In and the final status for one ITT. */
  async result(itt: number, timeoutMs = 5000): Promise<{ status: number; data: Buffer; sense: Buffer; pdu: TargetPdu }> {
    const chunks: Buffer[] = [];
    for (;;) {
      const p = await this.next(timeoutMs);
      if (!p) throw new Error(`no answer for ITT ${itt}`);
      if (p.opcode === Opcode.DataIn && p.itt === itt) {
        chunks.push(p.data);
        if (p.hasStatus) return { status: p.status, data: Buffer.concat(chunks), sense: Buffer.alloc(0), pdu: p };
      } else if (p.opcode === Opcode.ScsiResponse && p.itt === itt) {
        const sense = p.data.length >= 2 ? p.data.subarray(2, 2 + p.data.readUInt16BE(0)) : Buffer.alloc(0);
        return { status: p.status, data: Buffer.concat(chunks), sense, pdu: p };
      } else if (p.opcode === Opcode.R2T && p.itt === itt) {
        throw new Error('unexpected R2T');
      } else if (p.opcode === Opcode.Reject) {
        return { status: -1, data: p.data, sense: Buffer.alloc(0), pdu: p };
      }
    }
  }

  /** Next PDU of the given opcode (others are skipped); throws when none arrives. */
  async expect<O extends TargetPdu['opcode']>(opcode: O, timeoutMs = 3000): Promise<Extract<TargetPdu, { opcode: O }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const p = await this.next(Math.max(1, deadline - Date.now()));
      if (!p) throw new Error(`expected opcode 0x${opcode.toString(16)}, connection ${this.closed ? 'closed' : 'silent'}`);
      if (p.opcode === opcode) return p as Extract<TargetPdu, { opcode: O }>;
    }
  }

  /** Sends one Data-Out PDU. */
  dataOut(o: { itt: number; ttt?: number; offset: number; data: Buffer; dataSN: number; final: boolean; lun?: bigint }): void {
    this.send({
      opcode: Opcode.DataOut,
      final: o.final,
      lun: o.lun ?? 0n,
      itt: o.itt,
      ttt: o.ttt ?? RESERVED_TAG,
      expStatSN: this.expStatSN,
      dataSN: o.dataSN,
      bufferOffset: o.offset,
      data: o.data,
    });
  }

  /** Answers every R2T of `itt` from `payload` (in MaxRecvDataSegmentLength pieces of `seg`), then returns the result. */
  async writeSolicited(itt: number, payload: Buffer, seg = 8192): Promise<{ status: number; data: Buffer; sense: Buffer; pdu: TargetPdu; r2ts: R2TPdu[] }> {
    const r2ts: R2TPdu[] = [];
    for (;;) {
      const p = await this.next(5000);
      if (!p) throw new Error(`no answer for ITT ${itt}`);
      if (p.opcode === Opcode.R2T && p.itt === itt) {
        r2ts.push(p);
        let sn = 0;
        for (let off = p.bufferOffset; off < p.bufferOffset + p.desiredDataTransferLength; off += seg) {
          const end = Math.min(off + seg, p.bufferOffset + p.desiredDataTransferLength);
          this.dataOut({ itt, ttt: p.ttt, offset: off, data: payload.subarray(off, end), dataSN: sn++, final: end === p.bufferOffset + p.desiredDataTransferLength });
        }
      } else if (p.opcode === Opcode.ScsiResponse && p.itt === itt) {
        const sense = p.data.length >= 2 ? p.data.subarray(2, 2 + p.data.readUInt16BE(0)) : Buffer.alloc(0);
        return { status: p.status, data: Buffer.alloc(0), sense, pdu: p, r2ts };
      } else if (p.opcode === Opcode.Reject) {
        return { status: -1, data: p.data, sense: Buffer.alloc(0), pdu: p, r2ts };
      }
    }
  }

  nopOut(data = Buffer.alloc(0)): number {
    const itt = this.itt++;
    this.send({
      opcode: Opcode.NopOut,
      immediate: true,
      lun: 0n,
      itt,
      ttt: RESERVED_TAG,
      cmdSN: this.cmdSN,
      expStatSN: this.expStatSN,
      data,
    });
    return itt;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Whether a target PDU consumed a StatSN (RFC 7143 §4.2.2.2): R2T, Async and Data-In without status do not. */
function advancesStatSN(p: TargetPdu): p is Exclude<TargetPdu, never> & { statSN: number } {
  switch (p.opcode) {
    case Opcode.R2T:
    case Opcode.AsyncMessage:
      return false;
    case Opcode.DataIn:
      return p.hasStatus;
    case Opcode.NopIn:
      return p.itt !== RESERVED_TAG;
    default:
      return typeof (p as { statSN?: unknown }).statSN === 'number';
  }
}
