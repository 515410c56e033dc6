/**
 * Interop: the codecs and framer speak to a real target (tgt's tgtd) as an initiator would, with
 * HeaderDigest=CRC32C and DataDigest=CRC32C. This checks the byte layouts and the digest byte order against an
 * independent implementation. It covers login (security → operational → full feature), NOP-Out/NOP-In with data,
 * INQUIRY (Data-In), WRITE(10) through R2T + Data-Out, READ(10), and Logout.
 *
 * Skipped when tgtd/tgtadm are missing or we are not root. tgtd runs on a free loopback port with its own control
 * port and is killed at the end.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  Opcode,
  PduFramer,
  encodeLun,
  encodePdu,
  type DataInPdu,
  type Pdu,
  type PduInit,
} from '../src/index.ts';

const TGTD = '/usr/sbin/tgtd';
const TGTADM = '/usr/sbin/tgtadm';
const canRun = existsSync(TGTD) && existsSync(TGTADM) && process.getuid?.() === 0;
const IQN = 'iqn.2026-11.org.openlun.test:pdu-interop';
const BLOCK = 512;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A minimal initiator connection: send typed PDUs, await typed PDUs. */
class Conn {
  readonly framer = new PduFramer({ headerDigest: false, dataDigest: false, maxRecvDataSegmentLength: 262144 });
  digests = { headerDigest: false, dataDigest: false };
  private queue: Pdu[] = [];
  private waiter: ((p: Pdu) => void) | undefined;
  private failure: Error | undefined;

  constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const ev of this.framer.push(chunk)) {
        if (ev.kind === 'error') this.failure = new Error(`framer: ${ev.reason}: ${ev.message}`);
        else this.queue.push(ev.pdu);
      }
      this.wake();
    });
    socket.on('close', () => {
      this.failure ??= new Error('connection closed');
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiter;
    if (w && (this.queue.length || this.failure)) {
      this.waiter = undefined;
      w(this.queue.shift()!);
    }
  }

  send(pdu: PduInit<Pdu>): void {
    this.socket.cork();
    for (const c of encodePdu(pdu, this.digests)) this.socket.write(c);
    this.socket.uncork();
  }

  async next(): Promise<Pdu> {
    if (this.queue.length) return this.queue.shift()!;
    if (this.failure) throw this.failure;
    let timer: NodeJS.Timeout | undefined;
    try {
      const p = await new Promise<Pdu | undefined>((resolve, reject) => {
        this.waiter = resolve;
        timer = setTimeout(() => reject(new Error('timed out waiting for a PDU')), 5000);
      });
      if (!p) throw this.failure ?? new Error('no PDU');
      return p;
    } finally {
      clearTimeout(timer);
    }
  }
}

function keys(text: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of text.toString('latin1').split('\0')) {
    const i = kv.indexOf('=');
    if (i > 0) out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

const text = (kv: Record<string, string>) => Buffer.from(Object.entries(kv).map(([k, v]) => `${k}=${v}\0`).join(''));

describe('interop with tgtd (digests on)', { skip: canRun ? false : 'needs root, tgtd and tgtadm' }, () => {
  let tgtd: ChildProcess | undefined;
  let dir = '';
  let port = 0;
  let ctl = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pdu-interop-'));
    const backing = join(dir, 'lun1.img');
    writeFileSync(backing, Buffer.alloc(1024 * 1024));
    port = await freePort();
    ctl = String(20000 + (process.pid % 10000));
    tgtd = spawn(TGTD, ['-f', '-C', ctl, '--iscsi', `portal=127.0.0.1:${port}`], { stdio: 'ignore' });
    const adm = (...args: string[]) => execFileSync(TGTADM, ['-C', ctl, '--lld', 'iscsi', ...args], { stdio: 'pipe' });
    for (let i = 0; ; i++) {
      try {
        adm('--op', 'new', '--mode', 'target', '--tid', '1', '-T', IQN);
        break;
      } catch (e) {
        if (i > 50) throw e;
        await sleep(100);
      }
    }
    adm('--op', 'new', '--mode', 'logicalunit', '--tid', '1', '--lun', '1', '-b', backing);
    adm('--op', 'bind', '--mode', 'target', '--tid', '1', '-I', 'ALL');
    // tgt offers no digests unless told to
    for (const key of ['HeaderDigest', 'DataDigest']) {
      adm('--op', 'update', '--mode', 'target', '--tid', '1', '-n', key, '-v', 'CRC32C');
    }
  });

  after(() => {
    if (tgtd?.pid) process.kill(tgtd.pid, 'SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('logs in, moves data both ways with CRC32C digests, logs out', async () => {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.setNoDelay(true);
    const c = new Conn(socket);
    const isid = Buffer.from('80123456789a', 'hex');
    let cmdSN = 1;
    let expStatSN = 0;
    let itt = 1;
    const lun = encodeLun(1);

    // RFC 7143 §6.3: security stage (AuthMethod=None) → operational stage → full feature phase
    const login = (csg: number, nsg: number, kv: Record<string, string>) =>
      c.send({
        opcode: Opcode.LoginRequest, immediate: true, transit: true, continue: false, csg, nsg, versionMax: 0,
        versionMin: 0, isid, tsih: 0, itt: itt, cid: 0, cmdSN, expStatSN, data: text(kv),
      });
    login(0, 1, {
      InitiatorName: 'iqn.2026-11.org.openlun.test:initiator', TargetName: IQN, SessionType: 'Normal',
      AuthMethod: 'None',
    });
    let r = await c.next();
    assert.equal(r.opcode, Opcode.LoginResponse);
    if (r.opcode !== Opcode.LoginResponse) return;
    assert.equal(r.statusClass, 0, `login status ${r.statusClass}/${r.statusDetail}`);
    assert.deepStrictEqual(r.isid, isid);
    expStatSN = r.statSN + 1;
    login(1, 3, {
      HeaderDigest: 'CRC32C', DataDigest: 'CRC32C', MaxRecvDataSegmentLength: '262144', InitialR2T: 'Yes',
      ImmediateData: 'No', ErrorRecoveryLevel: '0', MaxBurstLength: '262144', FirstBurstLength: '65536',
    });
    r = await c.next();
    assert.equal(r.opcode, Opcode.LoginResponse);
    if (r.opcode !== Opcode.LoginResponse) return;
    assert.equal(r.statusClass, 0);
    assert.equal(r.transit, true);
    assert.equal(r.nsg, 3);
    assert.notEqual(r.tsih, 0);
    const negotiated = keys(r.data);
    assert.equal(negotiated.HeaderDigest, 'CRC32C');
    assert.equal(negotiated.DataDigest, 'CRC32C');
    expStatSN = r.statSN + 1;
    // full feature phase: digests on both directions from the next PDU (RFC 7143 §13.1)
    c.digests = { headerDigest: true, dataDigest: true };
    c.framer.update({ headerDigest: true, dataDigest: true });

    // NOP-Out with ping data (odd length: padding inside the data digest) → NOP-In echoes it
    itt++;
    const ping = Buffer.from('openlun ping!');
    c.send({ opcode: Opcode.NopOut, immediate: true, lun: 0n, itt, ttt: 0xffffffff, cmdSN, expStatSN, data: ping });
    r = await c.next();
    assert.equal(r.opcode, Opcode.NopIn);
    if (r.opcode !== Opcode.NopIn) return;
    assert.equal(r.itt, itt);
    assert.deepStrictEqual(r.data, ping);

    const command = (cdb: Buffer, edtl: number, read: boolean, write: boolean) => {
      itt++;
      const padded = Buffer.alloc(16);
      cdb.copy(padded);
      c.send({
        opcode: Opcode.ScsiCommand, immediate: false, final: true, read, write, attr: 1, lun, itt,
        expectedDataTransferLength: edtl, cmdSN: cmdSN++, expStatSN, cdb: padded,
      });
      return itt;
    };
    /** Collect Data-In until status (S bit or SCSI Response). */
    const readResult = async (tag: number): Promise<{ data: Buffer; status: number }> => {
      const parts: DataInPdu[] = [];
      for (;;) {
        const p = await c.next();
        if (p.opcode === Opcode.DataIn) {
          assert.equal(p.itt, tag);
          parts.push(p);
          if (p.hasStatus) {
            expStatSN = p.statSN + 1;
            return { data: Buffer.concat(parts.map((d) => d.data)), status: p.status };
          }
        } else if (p.opcode === Opcode.ScsiResponse) {
          assert.equal(p.itt, tag);
          expStatSN = p.statSN + 1;
          return { data: Buffer.concat(parts.map((d) => d.data)), status: p.status };
        } else {
          assert.fail(`unexpected opcode 0x${p.opcode.toString(16)}`);
        }
      }
    };

    // INQUIRY (SPC-4 §6.6)
    let tag = command(Buffer.from([0x12, 0, 0, 0, 96, 0]), 96, true, false);
    const inq = await readResult(tag);
    assert.equal(inq.status, 0);
    assert.equal(inq.data[0]! & 0x1f, 0, 'direct-access block device');
    assert.match(inq.data.subarray(8, 16).toString('latin1'), /IET/);

    // TEST UNIT READY: the first command after the LU appeared reports the power-on unit attention
    // (SPC-4 §5.14; sense key 6, ASC 29h) in a SCSI Response's sense data (RFC 7143 §11.4.7)
    tag = command(Buffer.from([0, 0, 0, 0, 0, 0]), 0, false, false);
    let tur = await c.next();
    assert.equal(tur.opcode, Opcode.ScsiResponse);
    if (tur.opcode !== Opcode.ScsiResponse) return;
    assert.equal(tur.itt, tag);
    assert.equal(tur.status, 2);
    assert.equal(tur.data.readUInt16BE(0), tur.data.length - 2, 'SenseLength');
    assert.equal(tur.data[2 + 2]! & 0x0f, 6, 'UNIT ATTENTION');
    assert.equal(tur.data[2 + 12], 0x29, 'POWER ON, RESET, OR BUS DEVICE RESET OCCURRED');
    expStatSN = tur.statSN + 1;
    tag = command(Buffer.from([0, 0, 0, 0, 0, 0]), 0, false, false);
    tur = await c.next();
    assert.ok(tur.opcode === Opcode.ScsiResponse && tur.status === 0);
    expStatSN = tur.statSN + 1;

    // WRITE(10) of 8 blocks at LBA 2: InitialR2T=Yes, ImmediateData=No → the target asks with R2T
    const payload = Buffer.alloc(8 * BLOCK);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7 + 3) & 0xff;
    tag = command(Buffer.from([0x2a, 0, 0, 0, 0, 2, 0, 0, 8, 0]), payload.length, false, true);
    let sent = 0;
    for (;;) {
      const p = await c.next();
      if (p.opcode === Opcode.R2T) {
        assert.equal(p.itt, tag);
        // answer the R2T in two Data-Out PDUs (RFC 7143 §11.7.4: DataSN restarts per R2T)
        const half = p.desiredDataTransferLength / 2;
        for (let k = 0; k < 2; k++) {
          const offset = p.bufferOffset + k * half;
          c.send({
            opcode: Opcode.DataOut, final: k === 1, lun, itt: tag, ttt: p.ttt, expStatSN, dataSN: k,
            bufferOffset: offset, data: payload.subarray(offset, offset + half),
          });
          sent += half;
        }
      } else {
        assert.equal(p.opcode, Opcode.ScsiResponse);
        if (p.opcode !== Opcode.ScsiResponse) return;
        assert.equal(p.status, 0, `WRITE status ${p.status}, sense ${p.data.toString('hex')}`);
        expStatSN = p.statSN + 1;
        break;
      }
    }
    assert.equal(sent, payload.length);

    // READ(10) the same blocks back
    tag = command(Buffer.from([0x28, 0, 0, 0, 0, 2, 0, 0, 8, 0]), payload.length, true, false);
    const back = await readResult(tag);
    assert.equal(back.status, 0);
    assert.deepStrictEqual(back.data, payload);

    // Logout (close the session)
    itt++;
    c.send({ opcode: Opcode.LogoutRequest, immediate: true, reasonCode: 0, itt, cid: 0, cmdSN, expStatSN });
    r = await c.next();
    assert.equal(r.opcode, Opcode.LogoutResponse);
    if (r.opcode !== Opcode.LogoutResponse) return;
    assert.equal(r.response, 0);
    socket.destroy();
  });
});
