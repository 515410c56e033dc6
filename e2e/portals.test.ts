// Portals as initiators meet them: one target on IPv4, IPv6 and a wildcard portal at once. Discovery
// (SendTargets=All through libiscsi's iscsi-ls) must list every portal with IPv6 in brackets (RFC 7143 §13.8),
// announce a wildcard portal by the address the initiator reached, and every listed portal must work for a login.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { createSparseFile, makeTempDir, MiB, type TempDir } from './helpers/files.ts';
import { describeRun, run } from './helpers/run.ts';
import { OPENLUN_BIN, selectedTargetKind } from './helpers/targets.ts';

const skip = selectedTargetKind() === 'tgt' ? 'OPENLUN_TEST_TARGET=tgt: openlun portals are under test' : false;
const IQN = 'iqn.2026-11.org.openlun:portals';
const INITIATOR = 'iqn.2026-11.org.openlun:portals-initiator';

describe('portals: IPv4, IPv6 and wildcard', { skip, timeout: 2 * 60_000 }, () => {
  let dir: TempDir;
  let proc: ReturnType<typeof spawn>;
  let out = '';
  const portals: Record<'v4' | 'v6' | 'any', string> = { v4: '', v6: '', any: '' };

  before(async () => {
    dir = await makeTempDir('openlun-portals-');
    const lun = await createSparseFile(dir.file('lun.img'), 16 * MiB);
    // port 0: the kernel picks free ports and the target prints the real ones
    proc = spawn(OPENLUN_BIN, ['target', '--portal', '127.0.0.1:0', '--portal', '[::1]:0', '--portal', '0.0.0.0:0', '--iqn', IQN, '--lun', lun], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`target did not start:\n${out}`)), 30_000);
      proc.stdout!.on('data', (b: Buffer) => {
        out += b.toString();
        const found = [...out.matchAll(/listening on (\S+)/g)].map((m) => m[1]!);
        if (found.length === 3) {
          clearTimeout(timer);
          portals.v4 = found.find((p) => p.startsWith('127.'))!;
          portals.v6 = found.find((p) => p.startsWith('['))!;
          portals.any = found.find((p) => p.startsWith('0.0.0.0'))!;
          resolve();
        }
      });
      proc.once('exit', (code) => reject(new Error(`target exited with ${code}:\n${out}`)));
    });
  });

  after(async () => {
    proc?.kill('SIGTERM');
    await dir?.remove();
  });

  const portsOf = (p: string) => p.slice(p.lastIndexOf(':') + 1);

  test('SendTargets over IPv4 lists the IPv4, IPv6 and wildcard portals, IPv6 in brackets', async () => {
    const r = await run(['iscsi-ls', '-i', INITIATOR, `iscsi://${portals.v4}`], { timeoutMs: 15_000 });
    assert.equal(r.code, 0, describeRun(r));
    const listed = [...r.stdout.matchAll(/Portal:(\S+),1/g)].map((m) => m[1]).sort();
    assert.deepEqual(listed, [portals.v4, portals.v6, `127.0.0.1:${portsOf(portals.any)}`].sort(), r.stdout);
  });

  test('SendTargets over IPv6 leaves out the IPv4-only wildcard portal', async () => {
    const r = await run(['iscsi-ls', '-i', INITIATOR, `iscsi://${portals.v6}`], { timeoutMs: 15_000 });
    assert.equal(r.code, 0, describeRun(r));
    const listed = [...r.stdout.matchAll(/Portal:(\S+),1/g)].map((m) => m[1]).sort();
    assert.deepEqual(listed, [portals.v4, portals.v6].sort(), r.stdout);
  });

  test('every announced portal takes a login and serves the LUN', async () => {
    for (const p of [portals.v4, portals.v6, `127.0.0.1:${portsOf(portals.any)}`]) {
      const r = await run(['qemu-img', 'info', '--output=json', `iscsi://${p}/${IQN}/0`], { timeoutMs: 20_000 });
      assert.equal(r.code, 0, describeRun(r));
      assert.equal(JSON.parse(r.stdout)['virtual-size'], 16 * MiB, p);
    }
  });
});
