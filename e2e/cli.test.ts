// bin/openlun target as an operator meets it: readiness line, one log line per login/logout, a clean
// exit on SIGTERM, and a non-zero exit with a message that names the problem on bad input.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createSparseFile, makeTempDir, MiB, type TempDir } from './helpers/files.ts';
import { freePort } from './helpers/ports.ts';
import { describeRun, run } from './helpers/run.ts';
import { OPENLUN_BIN, selectedTargetKind, startOpenlun } from './helpers/targets.ts';

const skip = selectedTargetKind() === 'tgt' ? 'OPENLUN_TEST_TARGET=tgt: the openlun CLI is not under test' : false;
const IQN = 'iqn.2026-11.org.openlun:cli';

describe('bin/openlun target', { skip, timeout: 3 * 60_000 }, () => {
  let dir: TempDir;
  let lun: string;
  before(async () => {
    dir = await makeTempDir('openlun-cli-');
    lun = await createSparseFile(dir.file('lun.img'), 16 * MiB);
  });
  after(async () => {
    await dir?.remove();
  });

  const target = (...args: string[]) => run([OPENLUN_BIN, 'target', ...args], { timeoutMs: 15_000 });

  test('logs a login and a logout, naming the initiator', async () => {
    const t = await startOpenlun({ luns: [lun], iqn: IQN });
    try {
      const initiator = 'iqn.2026-11.org.openlun:cli-initiator';
      const r = await run(['iscsi-inq', '-i', initiator, t.url(0)], { timeoutMs: 15_000 });
      assert.equal(r.code, 0, describeRun(r));
      await new Promise((res) => setTimeout(res, 300));
      const lines = t.output().split('\n').filter((l) => l.includes(initiator));
      assert.ok(lines.length >= 2, `expected a login and a logout line naming ${initiator}:\n${t.output()}`);
    } finally {
      await t.stop();
    }
  });

  test('a missing backing file: non-zero exit naming the file', async () => {
    const missing = dir.file('does-not-exist.img');
    const r = await target('--portal', `127.0.0.1:${await freePort()}`, '--iqn', IQN, '--lun', missing);
    assert.ok(r.code !== 0 && !r.timedOut, describeRun(r));
    assert.ok(`${r.stdout}${r.stderr}`.includes(missing), `the message does not name ${missing}:\n${describeRun(r)}`);
  });

  test('a busy port: non-zero exit naming the address', async () => {
    const blocker = createServer();
    const port = await new Promise<number>((res) =>
      blocker.listen({ host: '127.0.0.1', port: 0 }, () => res((blocker.address() as { port: number }).port)));
    try {
      const r = await target('--portal', `127.0.0.1:${port}`, '--iqn', IQN, '--lun', lun);
      assert.ok(r.code !== 0 && !r.timedOut, describeRun(r));
      assert.match(`${r.stdout}${r.stderr}`, new RegExp(`${port}|in use`, 'i'), describeRun(r));
    } finally {
      blocker.close();
    }
  });

  test('bad arguments: non-zero exit with a message', async () => {
    for (const args of [
      [],
      ['--portal', '127.0.0.1:3260', '--iqn', IQN],
      ['--portal', 'not-a-portal', '--iqn', IQN, '--lun', lun],
      ['--portal', '127.0.0.1:3260', '--iqn', IQN, '--lun', lun, '--no-such-option'],
      ['--portal', '127.0.0.1:3260', '--iqn', IQN, '--lun', lun, '--chap', 'no-colon'],
    ]) {
      const r = await target(...args);
      assert.ok(r.code !== 0 && !r.timedOut, `accepted: openlun target ${args.join(' ')}\n${describeRun(r)}`);
      assert.ok(`${r.stdout}${r.stderr}`.trim().length > 0, `no message for: ${args.join(' ')}`);
    }
  });
});
