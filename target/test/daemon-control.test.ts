// The control socket: newline-delimited JSON over a 0600 Unix socket; every request validated, every error
// `{id, error: {code, message}}`, no secret in any answer; the applied state written atomically to the state file.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { answers, startControlServer } from '../src/daemon/control.ts';
import { TargetRuntime } from '../src/daemon/runtime.ts';
import { readStateFile, writeStateFile } from '../src/daemon/state-file.ts';
import { capturingLogger } from './support/target-fixture.ts';
import { TARGET, backstore, stateWith } from './daemon-fixture.ts';
import { freePort } from '../../e2e/helpers/ports.ts';

const SECRET = 'control-socket-secret-1';

/** Sends lines, returns one parsed answer per line. */
async function ask(path: string, lines: string[]): Promise<Array<Record<string, any>>> {
  const s = net.connect(path);
  s.setEncoding('utf8');
  let buf = '';
  const out: Array<Record<string, any>> = [];
  return new Promise((resolve, reject) => {
    s.on('error', reject);
    s.on('data', (c: string) => {
      buf += c;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        out.push(JSON.parse(buf.slice(0, nl)));
        buf = buf.slice(nl + 1);
      }
      if (out.length === lines.length) {
        s.end();
        resolve(out);
      }
    });
    s.write(lines.map((l) => l + '\n').join(''));
  });
}

test('control socket: 0600, ping, validation errors, apply, sessions and stats without secrets, state file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'openlun-control-'));
  const log = capturingLogger();
  const stateFile = join(dir, 'state.json');
  const rt = new TargetRuntime({ log, persist: (s) => writeStateFile(stateFile, s), nopIntervalMs: 0 });
  const sock = join(dir, 'target.sock');
  const control = await startControlServer(sock, rt, log);
  try {
    assert.equal((await stat(sock)).mode & 0o777, 0o600);
    assert.equal(await answers(sock), true);
    await assert.rejects(startControlServer(sock, rt, log), /in use/, 'a second daemon cannot take the socket over');

    const port = await freePort();
    const b0 = await backstore(dir, 'disk0', 1);
    const state = stateWith(port, [b0], { chap: { user: 'alice', secret: SECRET } });
    const bad = { ...state, targets: [{ ...state.targets[0]!, name: 'bad name', chap: { user: 'alice', secret: 'x' } }], listen: 'nope' };
    const answersList = await ask(sock, [
      '{not json',
      JSON.stringify({ op: 'ping' }),
      JSON.stringify({ id: 1, op: 'format-disk' }),
      JSON.stringify({ id: 2, op: 'ping' }),
      JSON.stringify({ id: 3, op: 'apply' }),
      JSON.stringify({ id: 4, op: 'apply', state: bad }),
      JSON.stringify({ id: 5, op: 'apply', state, force: 'yes' }),
      JSON.stringify({ id: 6, op: 'apply', state }),
      JSON.stringify({ id: 7, op: 'refreshCapacity', target: 3 }),
      JSON.stringify({ id: 8, op: 'refreshCapacity', target: 'iqn.2026-11.org.openlun:none', lun: 0 }),
      JSON.stringify({ id: 'nine', op: 'refreshCapacity', target: TARGET, lun: 0 }),
      JSON.stringify({ id: 10, op: 'sessions' }),
      JSON.stringify({ id: 11, op: 'stats' }),
    ]);
    const byId = new Map(answersList.map((a) => [a['id'], a]));
    assert.equal(answersList[0]!['error'].code, 'bad-request');
    assert.equal(answersList[1]!['error'].code, 'bad-request', 'a request without an id');
    assert.equal(byId.get(1)!['error'].code, 'unknown-op');
    assert.equal(byId.get(2)!['result'].pong, true);
    assert.equal(byId.get(3)!['error'].code, 'bad-request');
    const invalid = byId.get(4)!['error'];
    assert.equal(invalid.code, 'invalid-state');
    for (const f of ['listen', 'targets[0].name', 'targets[0].chap.secret']) assert.ok(invalid.message.includes(`${f}:`), `${f} in ${invalid.message}`);
    assert.equal(byId.get(5)!['error'].code, 'bad-request');
    assert.deepEqual(byId.get(6)!['result'].targetsAdded, [TARGET]);
    assert.match(byId.get(7)!['error'].message, /target must be a string; lun must be/);
    assert.equal(byId.get(8)!['error'].code, 'not-found');
    assert.equal(byId.get('nine')!['result'].sizeBytes, b0.sizeBytes);
    assert.deepEqual(byId.get(10)!['result'].sessions, []);
    assert.equal(byId.get(11)!['result'].targets[0].target, TARGET);

    const everything = JSON.stringify(answersList) + log.lines.join('\n');
    assert.ok(!everything.includes(SECRET), 'no secret in answers or logs');

    // the state file: 0600, the applied state, no temp files left behind
    assert.equal((await stat(stateFile)).mode & 0o777, 0o600);
    assert.deepEqual(await readStateFile(stateFile), state);
    assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.tmp')), []);
    assert.ok((await readFile(stateFile, 'utf8')).endsWith('\n'));
  } finally {
    await control.close();
    await rt.close(100);
    await rm(dir, { recursive: true, force: true });
  }
  assert.equal(await answers(sock), false, 'the socket is gone after close');
});
