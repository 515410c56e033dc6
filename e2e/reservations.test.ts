// Persistent reservations from outside, against `bin/openlun target` as a process:
// 1. the Windows failover-cluster validation sequence (register, reserve, read the reservation from the other
//    node, preempt, arbitrate, unregister) from two initiator names, each over two portals (two I_T nexuses each);
// 2. APTPL: the target is killed with SIGKILL between two PR OUT commands and the state is there after restart.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { RawInitiator } from '../target/test/support/raw-initiator.ts';
import { createSparseFile, makeTempDir, MiB, type TempDir } from './helpers/files.ts';
import { freePort } from './helpers/ports.ts';
import { trackChild } from './helpers/run.ts';
import { OPENLUN_BIN, REPO_ROOT } from './helpers/targets.ts';

const IQN = 'iqn.2026-11.org.openlun:e2e-pr';
const NODE1 = 'iqn.1991-05.com.microsoft:node1.cluster.test';
const NODE2 = 'iqn.1991-05.com.microsoft:node2.cluster.test';
const GOOD = 0;
const CHECK_CONDITION = 2;
const RESERVATION_CONFLICT = 0x18;
const WE_RO = 5; // Windows clusters reserve WRITE EXCLUSIVE – REGISTRANTS ONLY
const SA = { REGISTER: 0, RESERVE: 1, RELEASE: 2, CLEAR: 3, PREEMPT: 4, REGISTER_AND_IGNORE: 6 } as const;

interface Target {
  child: ChildProcess;
  ports: number[];
  stop(signal?: NodeJS.Signals): Promise<void>;
}

async function startOpenlun(lun: string, stateDir: string, ports: number[]): Promise<Target> {
  const argv = ['target', '--iqn', IQN, '--lun', lun, '--state-dir', stateDir, '--log-level', 'warn'];
  for (const p of ports) argv.push('--portal', `127.0.0.1:${p}`);
  const child = spawn(OPENLUN_BIN, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd: REPO_ROOT });
  trackChild(child);
  let out = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`openlun did not start: ${out}`)), 15_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (ports.every((p) => out.includes(`listening on 127.0.0.1:${p}`))) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`openlun exited ${code}: ${out}`));
    });
  });
  return {
    child,
    ports,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** One I_T nexus: a raw session logged in through one portal with its own ISID. */
class Path {
  private constructor(
    readonly ini: RawInitiator,
    readonly label: string,
  ) {}

  static async open(port: number, initiatorName: string, isidLast: number, label: string): Promise<Path> {
    const ini = await RawInitiator.connect(port);
    (ini as { isid: Buffer }).isid = Buffer.from([0x40, 0x00, 0x01, 0x37, 0x00, isidLast]);
    const resp = await ini.login({ initiatorName, targetName: IQN });
    assert.equal(resp.statusClass, 0, `${label}: login failed ${resp.statusClass}/${resp.statusDetail}`);
    const p = new Path(ini, label);
    // SAM-5 §5.14: the first command of a new nexus reports the power-on unit attention
    for (let i = 0; i < 3 && (await p.cmd(Buffer.alloc(6))).status !== GOOD; i++);
    return p;
  }

  async cmd(cdb: Buffer, o: { read?: number; data?: Buffer } = {}): Promise<{ status: number; data: Buffer; sense: Buffer }> {
    const itt = this.ini.command(cdb, {
      ...(o.read ? { read: true, edtl: o.read } : {}),
      ...(o.data ? { write: true, edtl: o.data.length, data: o.data } : {}),
    });
    return this.ini.result(itt);
  }

  async prOut(sa: number, key: bigint, sark: bigint, o: { type?: number; aptpl?: boolean } = {}): Promise<number> {
    const cdb = Buffer.alloc(10);
    cdb[0] = 0x5f;
    cdb[1] = sa;
    cdb[2] = o.type ?? 0;
    cdb.writeUInt32BE(24, 5);
    const list = Buffer.alloc(24);
    list.writeBigUInt64BE(key, 0);
    list.writeBigUInt64BE(sark, 8);
    list[20] = o.aptpl ? 0x01 : 0;
    return (await this.cmd(cdb, { data: list })).status;
  }

  async prIn(sa: number): Promise<Buffer> {
    const cdb = Buffer.alloc(10);
    cdb[0] = 0x5e;
    cdb[1] = sa;
    cdb.writeUInt16BE(4096, 7);
    const r = await this.cmd(cdb, { read: 4096 });
    assert.equal(r.status, GOOD, `${this.label}: PR IN service action ${sa}`);
    return r.data;
  }

  async keys(): Promise<bigint[]> {
    const d = await this.prIn(0);
    return Array.from({ length: d.readUInt32BE(4) / 8 }, (_, i) => d.readBigUInt64BE(8 + 8 * i));
  }

  async reservation(): Promise<{ key: bigint; type: number } | undefined> {
    const d = await this.prIn(1);
    return d.readUInt32BE(4) === 0 ? undefined : { key: d.readBigUInt64BE(8), type: d[21]! & 0x0f };
  }

  async write(): Promise<number> {
    const cdb = Buffer.from([0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
    return (await this.cmd(cdb, { data: Buffer.alloc(512, 0x5a) })).status;
  }

  /** Status and, for CHECK CONDITION, "key/asc/ascq" of a TEST UNIT READY. */
  async tur(): Promise<string> {
    const r = await this.cmd(Buffer.alloc(6));
    if (r.status !== CHECK_CONDITION) return String(r.status);
    const s = r.sense;
    return `${s[2]! & 0xf}/${s[12]!.toString(16)}/${s[13]!.toString(16)}`;
  }

  close(): void {
    this.ini.close();
  }
}

const REGISTRATIONS_PREEMPTED = '6/2a/5';

describe('persistent reservations against bin/openlun target', { concurrency: false, timeout: 120_000 }, () => {
  let dir: TempDir;
  const running: Target[] = [];
  const paths: Path[] = [];

  before(async () => {
    dir = await makeTempDir('openlun-pr-e2e-');
  });

  after(async () => {
    for (const p of paths) p.close();
    for (const t of running) await t.stop('SIGKILL');
    await dir?.remove();
  });

  test('Windows failover-cluster validation: two nodes × two paths', async () => {
    const lun = await createSparseFile(dir.file('cluster.img'), 16 * MiB);
    const ports = [await freePort(), await freePort()];
    const t = await startOpenlun(lun, dir.path, ports);
    running.push(t);
    const open = async (port: number, name: string, isid: number, label: string) => {
      const p = await Path.open(port, name, isid, label);
      paths.push(p);
      return p;
    };
    const n1a = await open(ports[0]!, NODE1, 1, 'node1/path A');
    const n1b = await open(ports[1]!, NODE1, 2, 'node1/path B');
    const n2a = await open(ports[0]!, NODE2, 1, 'node2/path A');
    const n2b = await open(ports[1]!, NODE2, 2, 'node2/path B');
    const K1 = 0x1111_0000_0000_0001n;
    const K2 = 0x2222_0000_0000_0002n;

    // 1. register: every path of each node registers the node's key (REGISTER AND IGNORE EXISTING KEY)
    for (const [p, k] of [[n1a, K1], [n1b, K1], [n2a, K2], [n2b, K2]] as const) {
      assert.equal(await p.prOut(SA.REGISTER_AND_IGNORE, 0n, k), GOOD, `${p.label} register`);
    }
    assert.deepEqual(await n2b.keys(), [K1, K1, K2, K2], 'one registration per I_T nexus');

    // 2. reserve from node 1; node 2 cannot take it; both nodes' registered paths may still write (WE_RO)
    assert.equal(await n1a.prOut(SA.RESERVE, K1, 0n, { type: WE_RO }), GOOD);
    assert.equal(await n2a.prOut(SA.RESERVE, K2, 0n, { type: WE_RO }), RESERVATION_CONFLICT);
    assert.equal(await n1b.prOut(SA.RESERVE, K1, 0n, { type: WE_RO }), RESERVATION_CONFLICT, 'the other path is not the holder');

    // 3. read the reservation from the other node, over both of its paths
    for (const p of [n2a, n2b]) assert.deepEqual(await p.reservation(), { key: K1, type: WE_RO }, p.label);
    assert.equal(await n2b.write(), GOOD, 'registrants may write under WE_RO');

    // 4. preempt: node 2 takes over (what the cluster does when node 1 stops defending)
    assert.equal(await n2a.prOut(SA.PREEMPT, K2, K1, { type: WE_RO }), GOOD);
    for (const p of [n1a, n1b]) {
      assert.equal(await p.tur(), REGISTRATIONS_PREEMPTED, `${p.label}: told it was preempted`);
      assert.equal(await p.write(), RESERVATION_CONFLICT, `${p.label}: no longer a registrant`);
    }
    assert.deepEqual(await n1b.keys(), [K2, K2]);
    assert.equal(await n2b.tur(), '0', 'the preempting node is not disturbed');
    assert.deepEqual(await n1a.reservation(), { key: K2, type: WE_RO });

    // 5. arbitrate: node 1 comes back, registers again and tries to reserve: it loses to the holder
    assert.equal(await n1a.prOut(SA.REGISTER_AND_IGNORE, 0n, K1), GOOD);
    assert.equal(await n1a.prOut(SA.RESERVE, K1, 0n, { type: WE_RO }), RESERVATION_CONFLICT);
    assert.deepEqual(await n1a.reservation(), { key: K2, type: WE_RO });
    assert.equal(await n1a.write(), GOOD, 'registered again: may write under WE_RO');
    assert.equal(await n1b.write(), RESERVATION_CONFLICT, 'path B of node 1 did not re-register');

    // 6. unregister: the holder releases, everyone unregisters; nothing is left
    assert.equal(await n2a.prOut(SA.RELEASE, K2, 0n, { type: WE_RO }), GOOD);
    // SPC-4 §5.13.11.2.2: releasing a registrants-only reservation tells the other registrants
    for (const p of [n1a, n2b]) assert.equal(await p.tur(), '6/2a/4', `${p.label}: RESERVATIONS RELEASED`);
    assert.equal(await n1b.tur(), '0', 'an unregistered path is not told');
    for (const [p, k] of [[n1a, K1], [n2a, K2], [n2b, K2]] as const) {
      assert.equal(await p.prOut(SA.REGISTER, k, 0n), GOOD, `${p.label} unregister`);
    }
    assert.deepEqual(await n1b.keys(), []);
    assert.equal(await n1b.reservation(), undefined);
    for (const p of paths.splice(0)) p.close();
    await t.stop();
  });

  test('APTPL state survives SIGKILL between two PR OUT commands', async () => {
    const lun = await createSparseFile(dir.file('aptpl.img'), 16 * MiB);
    const ports = [await freePort()];
    const K1 = 0xaaaan;
    const K2 = 0xbbbbn;
    let t = await startOpenlun(lun, dir.path, ports);
    running.push(t);
    let a = await Path.open(ports[0]!, NODE1, 1, 'node1');
    let b = await Path.open(ports[0]!, NODE2, 1, 'node2');
    assert.equal(await a.prOut(SA.REGISTER_AND_IGNORE, 0n, K1, { aptpl: true }), GOOD);
    assert.equal(await b.prOut(SA.REGISTER_AND_IGNORE, 0n, K2, { aptpl: true }), GOOD);
    assert.equal(await a.prOut(SA.RESERVE, K1, 0n, { type: WE_RO }), GOOD);
    // killed before the next PR OUT: nothing gets a chance to flush at exit
    await t.stop('SIGKILL');
    a.close();
    b.close();

    t = await startOpenlun(lun, dir.path, ports);
    running.push(t);
    a = await Path.open(ports[0]!, NODE1, 1, 'node1');
    b = await Path.open(ports[0]!, NODE2, 1, 'node2');
    const c = await Path.open(ports[0]!, 'iqn.2026-11.org.openlun:outsider', 1, 'outsider');
    assert.deepEqual(await b.keys(), [K1, K2]);
    assert.deepEqual(await b.reservation(), { key: K1, type: WE_RO });
    assert.equal(await c.write(), RESERVATION_CONFLICT, 'the restored reservation is enforced');
    assert.equal(await b.write(), GOOD, 'the restored registration is honoured');
    // the second PR OUT goes through on the restored state
    assert.equal(await b.prOut(SA.PREEMPT, K2, K1, { type: WE_RO }), GOOD);
    assert.deepEqual(await c.reservation(), { key: K2, type: WE_RO });
    for (const p of [a, b, c]) p.close();
    await t.stop('SIGKILL');

    // ... and the preemption was persisted too
    t = await startOpenlun(lun, dir.path, ports);
    running.push(t);
    const d = await Path.open(ports[0]!, NODE2, 1, 'node2');
    assert.deepEqual(await d.keys(), [K2]);
    assert.deepEqual(await d.reservation(), { key: K2, type: WE_RO });
    d.close();
    await t.stop();
  });
});
