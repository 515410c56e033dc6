// `openlun target --standby TPGT / --unavailable TPGT` as a real initiator meets them: libiscsi's iscsi-readcapacity16
// works through the active portal group and is refused NOT READY 04h/0Bh through the standby one (libiscsi's connect
// sends TEST UNIT READY, which a standby port refuses: SPC-4 §5.16.2.4.4); a raw initiator reads RTPG through the
// standby port; a group named twice with different states is a usage error.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { startTargetProcess, type TargetProcess } from '../../e2e/helpers/target-process.ts';
import { RawInitiator } from './support/raw-initiator.ts';
import { commandIn, decodeRtpg } from './support/scsi-decode.ts';

const BIN = fileURLToPath(new URL('../../bin/openlun', import.meta.url));
const IQN = 'iqn.2026-11.org.openlun:cli-alua';
const INITIATOR = 'iqn.2026-11.org.openlun:cli-alua-host';
const HOST = '127.0.0.1';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    import('node:net').then(({ createServer }) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, HOST, () => {
        const a = s.address();
        s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
      });
    }, reject);
  });
}

describe('openlun target --standby / --unavailable', { timeout: 120_000 }, () => {
  let dir: string;
  let lun: string;
  let target: TargetProcess | undefined;
  const ports: number[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'openlun-cli-alua-'));
    lun = join(dir, 'lun.img');
    await writeFile(lun, '');
    await truncate(lun, 16 * 1024 * 1024);
    ports.push(await freePort(), await freePort(), await freePort());
    target = await startTargetProcess([BIN, 'target', '--portal', `${HOST}:${ports[0]},1`, '--portal', `${HOST}:${ports[1]},2`, '--portal', `${HOST}:${ports[2]},3`,
      '--standby', '2', '--unavailable', '3', '--iqn', IQN, '--lun', lun, '--log-level', 'warn'], { listeners: 3 });
  });

  after(async () => {
    await target?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const url = (port: number) => `iscsi://${HOST}:${port}/${IQN}/0`;

  test('libiscsi: active path serves READ CAPACITY(16); standby path refused with NOT READY 04h/0Bh', () => {
    const ok = spawnSync('iscsi-readcapacity16', ['-i', INITIATOR, url(ports[0]!)], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /Total size:16777216/);
    const sb = spawnSync('iscsi-readcapacity16', ['-i', INITIATOR, url(ports[1]!)], { encoding: 'utf8', timeout: 20_000 });
    assert.notEqual(sb.status, 0);
    assert.match(sb.stdout + sb.stderr, /NOT READY.*0x040b/);
    const un = spawnSync('iscsi-readcapacity16', ['-i', INITIATOR, url(ports[2]!)], { encoding: 'utf8', timeout: 20_000 });
    assert.notEqual(un.status, 0);
    assert.match(un.stdout + un.stderr, /NOT READY.*0x040c/);
  });

  test('RTPG through the standby port lists the three groups in their states', async () => {
    const ini = await RawInitiator.connect(ports[1]!, HOST);
    try {
      assert.equal((await ini.login({ initiatorName: INITIATOR, targetName: IQN })).statusClass, 0);
      const cdb = Buffer.alloc(12);
      cdb[0] = 0xa3;
      cdb[1] = 0x0a;
      cdb.writeUInt32BE(512, 6);
      assert.deepEqual(decodeRtpg(await commandIn(ini, cdb, 512)), [
        { id: 1, state: 0, ports: [1] },
        { id: 2, state: 2, ports: [2] },
        { id: 3, state: 3, ports: [3] },
      ]);
    } finally {
      ini.close();
    }
  });

  test('one group with two states, or a state for a group without a portal: usage error, exit 2', () => {
    for (const [args, message] of [
      [['--portal', `${HOST}:1,1`, '--standby', '1', '--unavailable', '1'], /portal group 1 is already standby/],
      [['--portal', `${HOST}:1,1`, '--standby', '2'], /--standby 2: no --portal is in portal group 2/],
    ] as const) {
      const r = spawnSync(BIN, ['target', ...args, '--iqn', IQN, '--lun', lun], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, message);
    }
  });
});
