// Online resize with the standalone target (issue 3, "Online resize and LUN changes"): the backing file grows while
// an initiator is logged in, SIGHUP makes bin/openlun target re-read it, the logged-in session gets CAPACITY DATA HAS
// CHANGED (2Ah/09h) and READ CAPACITY reports the new size — on the same session, which never drops — and a new
// initiator (qemu-img info) sees the new size too.
import assert from 'node:assert/strict';
import { truncate } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { RawInitiator } from '../target/test/support/raw-initiator.ts';
import { createSparseFile, makeTempDir, MiB, type TempDir } from './helpers/files.ts';
import { runOk } from './helpers/run.ts';
import { selectedTargetKind, startOpenlun, type RunningTarget } from './helpers/targets.ts';

const skip = selectedTargetKind() === 'tgt' ? 'OPENLUN_TEST_TARGET=tgt: SIGHUP is openlun\'s' : false;
const IQN = 'iqn.2026-11.org.openlun:resize';

function readCapacity16(): Buffer {
  const cdb = Buffer.alloc(16);
  cdb[0] = 0x9e; // SBC-4 §5.21 SERVICE ACTION IN(16) / READ CAPACITY(16)
  cdb[1] = 0x10;
  cdb.writeUInt32BE(32, 10);
  return cdb;
}

describe('online resize of bin/openlun target (SIGHUP)', { skip, timeout: 60_000 }, () => {
  let dir: TempDir;
  let lun: string;
  let target: RunningTarget;
  before(async () => {
    dir = await makeTempDir('openlun-resize-');
    lun = await createSparseFile(dir.file('lun.img'), 16 * MiB);
    target = await startOpenlun({ luns: [lun], iqn: IQN });
  });
  after(async () => {
    await target?.stop();
    await dir?.remove();
  });

  test('the logged-in session learns the new size; a new one sees it', async () => {
    const ini = await RawInitiator.connect(target.port);
    try {
      const login = await ini.login({ initiatorName: 'iqn.2026-11.org.openlun:resize-initiator', targetName: IQN });
      assert.equal(login.statusClass, 0);
      for (let i = 0; i < 3; i++) if ((await ini.result(ini.command(Buffer.alloc(6)))).status === 0) break;
      const cap = async () => (await ini.result(ini.command(readCapacity16(), { read: true, edtl: 32 })));
      const first = await cap();
      assert.equal(first.status, 0);
      assert.equal(first.data.readBigUInt64BE(0), BigInt(16 * MiB / 512 - 1));

      await truncate(lun, 48 * MiB);
      process.kill(target.pid!, 'SIGHUP');
      let ua: Awaited<ReturnType<typeof cap>> | undefined;
      for (let i = 0; i < 50 && !ua; i++) {
        const r = await ini.result(ini.command(Buffer.alloc(6)));
        if (r.status === 2) ua = r;
        else await new Promise((res) => setTimeout(res, 50));
      }
      assert.ok(ua, 'a unit attention arrived');
      assert.deepEqual([ua.sense[2]! & 0x0f, ua.sense[12], ua.sense[13]], [0x06, 0x2a, 0x09], 'CAPACITY DATA HAS CHANGED');
      const grown = await cap();
      assert.equal(grown.status, 0);
      assert.equal(grown.data.readBigUInt64BE(0), BigInt(48 * MiB / 512 - 1), 'READ CAPACITY on the same session');
      assert.ok(!ini.closed, 'the session stayed up');
    } finally {
      ini.close();
    }
    const info = await runOk(['qemu-img', 'info', '--output=json', target.url(0)], { timeoutMs: 20_000 });
    assert.equal((JSON.parse(info.stdout) as { 'virtual-size': number })['virtual-size'], 48 * MiB);
  });
});
