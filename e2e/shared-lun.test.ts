// Several targets sharing one backing LUN (issue 3: "the same LUN through two sessions is the same device — same NAA
// id, same data, same reservations"). The appliance's target daemon (TargetRuntime, what `openlun targetd` runs)
// exports one sparse file through two targets, A and B; node 1 logs in to A, node 2 to B. Both see one logical unit:
// one NAA designator (libiscsi's iscsi-inq), one medium (QEMU writes through A, reads through B), one set of
// persistent reservations (a WRITE EXCLUSIVE reservation taken through A makes node 2's WRITE through B a
// RESERVATION CONFLICT; node 2 preempts through B and node 1 hears REGISTRATIONS PREEMPTED through A), one LBA lock
// and one unit attention queue per nexus. REGISTER AND MOVE stays within the target it is sent through.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Opcode } from 'node-iscsi-pdu';
import { after, before, describe, test } from 'node:test';
import { TargetRuntime } from '../target/src/daemon/runtime.ts';
import type { DesiredState } from '../target/src/daemon/state.ts';
import { RawInitiator } from '../target/test/support/raw-initiator.ts';
import { capturingLogger } from '../target/test/support/target-fixture.ts';
import { commandIn, decodeVpd83 } from '../target/test/support/scsi-decode.ts';
import { createSparseFile, makeTempDir, MiB, type TempDir } from './helpers/files.ts';
import { freePort } from './helpers/ports.ts';
import { runOk } from './helpers/run.ts';

const TARGET_A = 'iqn.2026-11.org.openlun:shared-a';
const TARGET_B = 'iqn.2026-11.org.openlun:shared-b';
const NODE1 = 'iqn.1991-05.com.microsoft:node1.shared.test';
const NODE2 = 'iqn.1991-05.com.microsoft:node2.shared.test';
const GOOD = 0;
const CHECK_CONDITION = 2;
const RESERVATION_CONFLICT = 0x18;
const WRITE_EXCLUSIVE = 1;
const SA = { REGISTER: 0, RESERVE: 1, PREEMPT: 4, REGISTER_AND_MOVE: 7 } as const;

/** One I_T nexus: a raw session to one target. */
class Path {
  private constructor(readonly ini: RawInitiator, readonly label: string) {}

  static async open(port: number, initiatorName: string, targetName: string, label: string): Promise<Path> {
    const ini = await RawInitiator.connect(port);
    const resp = await ini.login({ initiatorName, targetName });
    assert.equal(resp.statusClass, 0, `${label}: login failed ${resp.statusClass}/${resp.statusDetail}`);
    const p = new Path(ini, label);
    for (let i = 0; i < 3 && (await p.cmd(Buffer.alloc(6))).status !== GOOD; i++);
    return p;
  }

  cmd(cdb: Buffer, o: { read?: number; data?: Buffer } = {}): Promise<{ status: number; data: Buffer; sense: Buffer }> {
    const itt = this.ini.command(cdb, {
      ...(o.read ? { read: true, edtl: o.read } : {}),
      ...(o.data ? { write: true, edtl: o.data.length, data: o.data } : {}),
    });
    return this.ini.result(itt);
  }

  async prOut(sa: number, key: bigint, sark: bigint, type = 0, extra?: Buffer): Promise<{ status: number; sense: Buffer }> {
    const list = extra ?? Buffer.alloc(24);
    if (!extra) {
      list.writeBigUInt64BE(key, 0);
      list.writeBigUInt64BE(sark, 8);
    }
    const cdb = Buffer.alloc(10);
    cdb[0] = 0x5f;
    cdb[1] = sa;
    cdb[2] = type;
    cdb.writeUInt32BE(list.length, 5);
    return this.cmd(cdb, { data: list });
  }

  async reservation(): Promise<{ key: bigint; type: number } | undefined> {
    const cdb = Buffer.from([0x5e, 0x01, 0, 0, 0, 0, 0, 0x10, 0, 0]);
    const r = await this.cmd(cdb, { read: 4096 });
    assert.equal(r.status, GOOD, `${this.label}: READ RESERVATION`);
    return r.data.readUInt32BE(4) === 0 ? undefined : { key: r.data.readBigUInt64BE(8), type: r.data[21]! & 0x0f };
  }

  async write(lba: number, byte: number): Promise<number> {
    const cdb = Buffer.from([0x2a, 0, 0, 0, 0, lba, 0, 0, 1, 0]);
    return (await this.cmd(cdb, { data: Buffer.alloc(512, byte) })).status;
  }

  async read(lba: number): Promise<{ status: number; data: Buffer }> {
    return this.cmd(Buffer.from([0x28, 0, 0, 0, 0, lba, 0, 0, 1, 0]), { read: 512 });
  }

  /** "status" or, for CHECK CONDITION, "key/asc/ascq" of a TEST UNIT READY. */
  async tur(): Promise<string> {
    const r = await this.cmd(Buffer.alloc(6));
    if (r.status !== CHECK_CONDITION) return String(r.status);
    return `${r.sense[2]! & 0xf}/${r.sense[12]!.toString(16)}/${r.sense[13]!.toString(16)}`;
  }

  close(): void {
    this.ini.close();
  }
}

/** iscsi-inq prints designators raw; the NAA one is the 16 bytes after the LU association's "Designator:[". */
function runRaw(argv: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`${argv.join(' ')}: exit ${code}: ${err}`))));
  });
}

describe('two targets sharing one backing file are one logical unit', { concurrency: false, timeout: 120_000 }, () => {
  let dir: TempDir;
  let rt: TargetRuntime;
  let port: number;
  const paths: Path[] = [];
  const url = (target: string) => `iscsi://127.0.0.1:${port}/${target}/0`;

  before(async () => {
    dir = await makeTempDir('openlun-shared-lun-');
    const file = await createSparseFile(dir.file('shared.img'), 16 * MiB);
    port = await freePort();
    rt = new TargetRuntime({ log: capturingLogger(), nopIntervalMs: 0, prStateDir: dir.path });
    const target = (name: string) => ({
      name,
      portalGroupTag: 1,
      portals: [{ host: '127.0.0.1', port }],
      luns: [{ lun: 0, backstore: 'shared' }],
      acl: [{ group: 'cluster', initiators: [NODE1, NODE2], networks: [] }],
    });
    const state: DesiredState = {
      version: 1,
      hostname: 'shared-lun-test',
      listen: [{ host: '127.0.0.1', port }],
      backstores: [{ name: 'shared', kind: 'file', path: file, sizeBytes: 16 * MiB, blockSize: 512, readOnly: false, writeBack: true, serial: '00000000000000a1', naaId: '300000000000a1a1' }],
      targets: [target(TARGET_A), target(TARGET_B)],
      warnings: [],
    };
    const result = await rt.apply(state);
    assert.deepEqual(result.targetsAdded.sort(), [TARGET_A, TARGET_B]);
  });

  after(async () => {
    for (const p of paths) p.close();
    await rt?.close(100);
    await dir?.remove();
  });

  test('iscsi-inq: the same NAA designator through target A and target B, each with its own target name', async () => {
    const naa: string[] = [];
    for (const [target, node] of [[TARGET_A, NODE1], [TARGET_B, NODE2]] as const) {
      const raw = (await runRaw(['iscsi-inq', '-i', node, '-e', '1', '-c', '131', url(target)])).toString('latin1');
      const lu = raw.split('DEVICE DESIGNATOR #').find((b) => /Association:\(0\)/.test(b) && /Designator Type:\(3\)/.test(b));
      assert.ok(lu, raw);
      const start = lu.indexOf('Designator:[') + 'Designator:['.length;
      naa.push(Buffer.from(lu.slice(start, start + 16), 'latin1').toString('hex'));
      assert.ok(raw.includes(target), `VPD 0x83 names ${target}`);
    }
    assert.match(naa[0]!, /^6[0-9a-f]{31}$/);
    assert.equal(naa[0], naa[1], 'one logical unit: one NAA through both targets');
  });

  test('QEMU writes through target A and reads the same bytes through target B', async () => {
    const opts = (target: string, node: string) => `driver=iscsi,transport=tcp,portal=127.0.0.1:${port},target=${target},lun=0,initiator-name=${node}`;
    await runOk(['qemu-io', '--image-opts', opts(TARGET_A, NODE1), '-c', 'write -P 0x5c 1M 256k'], { timeoutMs: 30_000 });
    const r = await runOk(['qemu-io', '--image-opts', opts(TARGET_B, NODE2), '-c', 'read -P 0x5c 1M 256k'], { timeoutMs: 30_000 });
    assert.doesNotMatch(r.stdout + r.stderr, /Pattern verification failed/);
  });

  test('a reservation taken through target A conflicts with a write through target B; PREEMPT through B reaches A', async () => {
    const a = await Path.open(port, NODE1, TARGET_A, 'node1 via A');
    const b = await Path.open(port, NODE2, TARGET_B, 'node2 via B');
    paths.push(a, b);
    assert.equal((await a.prOut(SA.REGISTER, 0n, 0xa1n)).status, GOOD, 'register node1 through A');
    assert.equal((await a.prOut(SA.RESERVE, 0xa1n, 0n, WRITE_EXCLUSIVE)).status, GOOD, 'reserve WRITE EXCLUSIVE through A');
    // target B sees the reservation and enforces it
    assert.deepEqual(await b.reservation(), { key: 0xa1n, type: WRITE_EXCLUSIVE }, 'READ RESERVATION through B');
    assert.equal(await b.write(8, 0xbb), RESERVATION_CONFLICT, 'WRITE through B conflicts with the reservation taken through A');
    assert.equal((await b.read(8)).status, GOOD, 'READ through B is allowed under WRITE EXCLUSIVE');
    assert.equal(await a.write(8, 0xaa), GOOD, 'the holder writes through A');
    assert.ok((await b.read(8)).data.equals(Buffer.alloc(512, 0xaa)), 'and B reads what A wrote');
    // node 2 registers through B and preempts node 1: node 1 learns it through A
    assert.equal((await b.prOut(SA.REGISTER, 0n, 0xb2n)).status, GOOD);
    assert.equal((await b.prOut(SA.PREEMPT, 0xb2n, 0xa1n, WRITE_EXCLUSIVE)).status, GOOD, 'PREEMPT through B');
    assert.equal(await a.tur(), '6/2a/5', 'REGISTRATIONS PREEMPTED on the nexus through A');
    assert.equal(await a.write(9, 0xaa), RESERVATION_CONFLICT, 'node 1 lost the reservation');
    assert.equal(await b.write(9, 0xbb), GOOD, 'node 2 holds it now');
    assert.deepEqual(await a.reservation(), { key: 0xb2n, type: WRITE_EXCLUSIVE });
  });

  test('REGISTER AND MOVE only to a port of the target it is sent through', async () => {
    const b = paths[1]!;
    // move node 2's reservation to node 1 at relative target port 2: target B has only port 1 (TPGT 1)
    const iqn = Buffer.from(NODE1 + ',i,0x400001370001', 'utf8');
    const tidLength = Math.ceil((4 + iqn.length + 1) / 4) * 4;
    const tid = Buffer.alloc(tidLength);
    tid[0] = 0x45; // FORMAT CODE 01b (with ISID), PROTOCOL IDENTIFIER 5h iSCSI (SPC-4 §7.6.4.6)
    tid.writeUInt16BE(tidLength - 4, 2);
    iqn.copy(tid, 4);
    const list = Buffer.alloc(24 + tidLength);
    list.writeBigUInt64BE(0xb2n, 0);
    list.writeBigUInt64BE(0xc3n, 8);
    list.writeUInt16BE(2, 18); // RELATIVE TARGET PORT IDENTIFIER
    list.writeUInt32BE(tidLength, 20);
    tid.copy(list, 24);
    const r = await b.prOut(SA.REGISTER_AND_MOVE, 0n, 0n, WRITE_EXCLUSIVE, list);
    assert.equal(r.status, CHECK_CONDITION);
    assert.deepEqual([r.sense[2]! & 0xf, r.sense[12], r.sense[13]], [5, 0x26, 0], 'ILLEGAL REQUEST, INVALID FIELD IN PARAMETER LIST');
    assert.deepEqual(await b.reservation(), { key: 0xb2n, type: WRITE_EXCLUSIVE }, 'nothing moved');
  });

  test('a LOGICAL UNIT RESET through target A is seen through target B (one LU, one UA queue per nexus)', async () => {
    const [a, b] = paths as [Path, Path];
    // clean up reservations first so the reset test is independent of the previous one
    assert.equal((await b.prOut(SA.REGISTER, 0xb2n, 0n)).status, GOOD, 'node 2 unregisters (releases)');
    await a.tur();
    // RFC 7143 §11.5.1: TMF function 5 = LOGICAL UNIT RESET
    a.ini.send({
      opcode: Opcode.TaskManagementRequest,
      immediate: true,
      function: 5,
      lun: 0n,
      itt: a.ini.itt++,
      referencedTaskTag: 0xffffffff,
      cmdSN: a.ini.cmdSN,
      expStatSN: a.ini.expStatSN,
      refCmdSN: 0,
      expDataSN: 0,
    });
    assert.equal((await a.ini.expect(Opcode.TaskManagementResponse)).response, 0, 'function complete');
    assert.equal(await b.tur(), '6/29/3', 'BUS DEVICE RESET FUNCTION OCCURRED through B');
    // the VPD 0x83 relative port / target port group seen through each stays its own target's
    const vpd = decodeVpd83(await commandIn(b.ini, Buffer.from([0x12, 0x01, 0x83, 0x01, 0x00, 0x00]), 256));
    assert.equal(vpd.tpg, 1);
  });
});
