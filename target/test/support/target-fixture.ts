/**
 * An in-process iSCSI target on 127.0.0.1:<ephemeral> over temp sparse files, for the session and robustness
 * tests; plus helpers to log a RawInitiator in and to run READ/WRITE on it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBackstore } from '../../src/backstore/index.ts';
import { IscsiServer } from '../../src/iscsi/server.ts';
import type { ServerOptions } from '../../src/iscsi/server.ts';
import type { ChapCredential } from '../../src/iscsi/target-config.ts';
import { ScsiTargetDevice } from '../../src/scsi/device.ts';
import type { LunEntry } from '../../src/scsi/types.ts';
import type { Logger } from '../../src/log.ts';
import { RawInitiator } from './raw-initiator.ts';
import type { Pair } from './raw-initiator.ts';
import { rw10 } from '../scsi-fixture.ts';

export const TARGET_IQN = 'iqn.2026-11.org.openlun:session-test';
export const INITIATOR_IQN = 'iqn.1994-05.com.example:tester';
export const BLOCK = 512;

/** A logger that keeps every line (tests check what was logged, e.g. that no secret was). */
export function capturingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (l: string) => (m: string) => void lines.push(`${l} ${m}`);
  return { lines, info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
}

export interface TargetFixture {
  server: IscsiServer;
  port: number;
  log: Logger & { lines: string[] };
  blocks: number;
  /** A new connection logged in to the target (asserts success). */
  session(o?: { initiatorName?: string; operational?: Pair; isid?: Buffer; chap?: ChapCredential; keepUnitAttention?: boolean; targetName?: string }): Promise<RawInitiator>;
  /** Registers a connection the test opened itself so stop() closes it. */
  track(ini: RawInitiator): RawInitiator;
  stop(): Promise<void>;
}

export async function startTarget(o: {
  blocks?: number;
  luns?: number;
  chap?: ChapCredential;
  allowedInitiators?: string[];
  extraTargets?: Array<{ name: string; allowedInitiators?: string[]; chap?: ChapCredential }>;
  server?: Partial<Pick<ServerOptions, 'nopIntervalMs' | 'nopTimeoutMs'>>;
} = {}): Promise<TargetFixture> {
  const blocks = o.blocks ?? 2048;
  const dir = await mkdtemp(join(tmpdir(), 'openlun-session-'));
  const makeDevice = async (name: string): Promise<ScsiTargetDevice> => {
    const luns = new Map<number, LunEntry>();
    for (let i = 0; i < (o.luns ?? 1); i++) {
      const path = join(dir, `${name.replace(/[^a-z0-9]/gi, '_')}-${i}.img`);
      const fh = await open(path, 'w');
      await fh.truncate(blocks * BLOCK); // sparse
      await fh.close();
      luns.set(i, {
        id: `6001405feedface000000000000000${i.toString(16).padStart(2, '0')}`,
        serial: `SESS${i}`,
        readOnly: false,
        blockSize: BLOCK,
        writeCache: 'back',
        backstore: await openBackstore(path, { readOnly: false }),
      });
    }
    return new ScsiTargetDevice({ targetName: name, luns });
  };
  const log = capturingLogger();
  const server = new IscsiServer({
    portals: [{ host: '127.0.0.1', port: 0, portalGroupTag: 1 }],
    targets: [
      {
        name: TARGET_IQN,
        portalGroupTag: 1,
        device: await makeDevice(TARGET_IQN),
        allowedInitiators: o.allowedInitiators ?? [],
        ...(o.chap ? { chap: o.chap } : {}),
      },
      ...(await Promise.all(
        (o.extraTargets ?? []).map(async (t) => ({
          name: t.name,
          portalGroupTag: 1,
          device: await makeDevice(t.name),
          allowedInitiators: t.allowedInitiators ?? [],
          ...(t.chap ? { chap: t.chap } : {}),
        })),
      )),
    ],
    log,
    // keepalive off unless a test asks: a stray NOP-In would confuse strict PDU sequences
    nopIntervalMs: o.server?.nopIntervalMs ?? 0,
    nopTimeoutMs: o.server?.nopTimeoutMs ?? 30_000,
  });
  const [bound] = await server.listen();
  const port = bound!.port;
  const open_: RawInitiator[] = [];
  let isidCounter = 0x100;
  return {
    server,
    port,
    log,
    blocks,
    async session(so = {}) {
      const ini = await RawInitiator.connect(port);
      open_.push(ini);
      // a distinct ISID per session unless the test wants reinstatement
      (ini as { isid: Buffer }).isid = so.isid ?? Buffer.from([0x80, 0x12, 0x34, 0x56, (isidCounter >> 8) & 0xff, isidCounter++ & 0xff]);
      const resp = await ini.login({
        initiatorName: so.initiatorName ?? INITIATOR_IQN,
        targetName: so.targetName ?? TARGET_IQN,
        ...(so.chap ? { chap: so.chap } : {}),
        ...(so.operational ? { operational: so.operational } : {}),
      });
      assert.equal(resp.statusClass, 0, `login failed: ${resp.statusClass}/${resp.statusDetail}`);
      assert.ok(resp.transit && resp.nsg === 3, 'login reached full feature phase');
      if (!so.keepUnitAttention) {
        // SAM-5 §5.14: a new I_T nexus first sees UNIT ATTENTION (power on / reset); consume it
        for (let i = 0; i < 3; i++) {
          const r = await ini.result(ini.command(Buffer.alloc(6)));
          if (r.status === 0) break;
        }
      }
      return ini;
    },
    track(ini: RawInitiator) {
      open_.push(ini);
      return ini;
    },
    async stop() {
      for (const i of open_) i.close();
      await server.close(200);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function read10(lba: number, blocks: number): Buffer {
  return rw10(0x28, lba, blocks); // SBC-4 §5.16 READ(10)
}

export function write10(lba: number, blocks: number): Buffer {
  return rw10(0x2a, lba, blocks); // SBC-4 §5.40 WRITE(10)
}

/** Fixed-format sense: key, ASC, ASCQ (SPC-4 §4.5.3). */
export function senseOf(sense: Buffer): { key: number; asc: number; ascq: number } {
  assert.ok(sense.length >= 14, `sense data present (${sense.length} bytes)`);
  assert.equal(sense[0]! & 0x7f, 0x70, 'fixed-format current sense');
  return { key: sense[2]! & 0x0f, asc: sense[12]!, ascq: sense[13]! };
}

/** A READ(10) of one block on `ini` that must succeed: proves a session is still healthy. */
export async function assertHealthy(ini: RawInitiator, lba = 0): Promise<Buffer> {
  const itt = ini.command(read10(lba, 1), { read: true, edtl: BLOCK });
  const r = await ini.result(itt);
  assert.equal(r.status, 0, 'READ on the bystander session succeeds');
  assert.equal(r.data.length, BLOCK);
  return r.data;
}

/** Writes `data` at `lba` as immediate data (must fit FirstBurstLength) and asserts GOOD. */
export async function writeImmediate(ini: RawInitiator, lba: number, data: Buffer): Promise<void> {
  const itt = ini.command(write10(lba, data.length / BLOCK), { write: true, edtl: data.length, data });
  const r = await ini.result(itt);
  assert.equal(r.status, 0, 'WRITE succeeds');
}
