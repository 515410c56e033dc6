// The command line's storage and administration commands against a real `openlun serve` (file-pool mode, HTTPS,
// pinned certificate): snapshots of a LUN taken, rolled back (refused without --yes when there is no terminal)
// and cloned, with the data checked in the LUN files themselves; snapshot schedules; users; API tokens — a
// read-only user logs in, makes a token for their own monitoring, which reads but cannot change anything, and
// cannot make one for someone else. Bad input exits 1 or 2 with a message and changes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MiB, createRandomFile, makeTempDir, sha256File } from './helpers/files.ts';
import type { TempDir } from './helpers/files.ts';
import { freePort } from './helpers/ports.ts';
import { CLI_BUNDLE, assertCliFailed, buildBundle, runCli, serveFingerprint } from './helpers/cli-process.ts';
import { describeRun } from './helpers/run.ts';
import type { RunResult } from './helpers/run.ts';
import { ServeApi, endTargetd, startServeProcess, stopServeProcess, targetdPid, type ServeProcess } from './helpers/serve-process.ts';

const ADMIN_PASSWORD = 'cli-storage-admin-1';
const VIEWER_PASSWORD = 'cli-storage-viewer-1';

let dir: TempDir;
let dataDir: string;
let apiPort: number;
let url: string;
let fingerprint: string;
let serve: ServeProcess | undefined;

interface CliOpts {
  input?: string;
  /** whose stored login: 'admin' or 'viewer' (their own config directory) */
  as?: 'admin' | 'viewer';
  token?: string;
}

/** The built CLI as a script runs it: no terminal (setsid), its own config directory, no inherited OPENLUN_*. */
function cli(args: string[], o: CliOpts = {}): Promise<RunResult> {
  const env = o.token ? { OPENLUN_TOKEN: o.token, OPENLUN_URL: url, OPENLUN_FINGERPRINT: fingerprint } : undefined;
  return runCli(args, { configHome: dir.file(`config-${o.as ?? 'admin'}`), ...(o.input !== undefined ? { input: o.input } : {}), ...(env ? { env } : {}) });
}
async function ok(args: string[], o: CliOpts = {}): Promise<RunResult> {
  const r = await cli(args, o);
  assert.equal(r.code, 0, describeRun(r));
  return r;
}
async function json<T = any>(args: string[], o: CliOpts = {}): Promise<T> {
  return JSON.parse((await ok([...args, '--json'], o)).stdout) as T;
}
async function fails(args: string[], code: number, re: RegExp, o: CliOpts = {}): Promise<RunResult> {
  return assertCliFailed(await cli(args, o), code, re);
}

describe('openlun snapshot/schedule/user/token against openlun serve', { timeout: 3 * 60_000 }, () => {
  before(async () => {
    dir = await makeTempDir('openlun-cli-storage-');
    dataDir = dir.file('data');
    apiPort = await freePort();
    url = `https://127.0.0.1:${apiPort}`;
    await buildBundle();
    serve = await startServeProcess(['node', CLI_BUNDLE], { dataDir, listen: `127.0.0.1:${apiPort}` });
    await new ServeApi('127.0.0.1', apiPort, dataDir).setup(ADMIN_PASSWORD);
    fingerprint = await serveFingerprint(dataDir);
    await ok(['login', '--url', url, '--password-stdin', '--fingerprint', fingerprint], { input: `${ADMIN_PASSWORD}\n` });
  });

  after(async () => {
    await stopServeProcess(serve, 'SIGKILL');
    await endTargetd(await targetdPid(dataDir));
    await dir?.remove();
  });

  test('snapshots: take, roll back (typed confirmation or --yes), clone, delete — data checked in the LUN files', async () => {
    const lun = await json<{ path: string; naaId: string; serial: string }>(['lun', 'create', 'disk1', '--size', '4M']);
    const original = await sha256File(await createRandomFile(lun.path, 4 * MiB));
    const snap = await json<{ name: string; kind: string; sizeBytes: number }>(['snapshot', 'create', 'disk1', 'before']);
    assert.deepEqual([snap.name, snap.kind, snap.sizeBytes], ['before', 'file', 4 * MiB]);
    assert.match((await ok(['snapshot', 'list', 'disk1'])).stdout, /^NAME\s+KIND\s+SIZE[\s\S]*^before\s+file\s+4 MiB\s+-\s+\d{4}-/m);
    await fails(['snapshot', 'create', 'disk1', '.hidden'], 1, /snapshot name/);
    await fails(['snapshot', 'create', 'nosuch', 'x'], 1, /no LUN named nosuch/);
    await fails(['snapshot', 'create', 'disk1'], 2, /missing argument/);

    const changed = await sha256File(await createRandomFile(lun.path, 4 * MiB));
    assert.notEqual(changed, original);
    // no terminal: the rollback is refused before anything is sent; the new data stays
    await fails(['snapshot', 'rollback', 'disk1', 'before'], 1, /everything written to it since is lost.*add --yes/s);
    assert.equal(await sha256File(lun.path), changed);
    const rb = await json<{ lun: { naaId: string; serial: string }; snapshot: string }>(['snapshot', 'rollback', 'disk1', 'before', '--yes']);
    assert.equal(await sha256File(lun.path), original, 'rolled back to the snapshot');
    assert.deepEqual([rb.lun.naaId, rb.lun.serial], [lun.naaId, lun.serial], 'same identity after a rollback');

    const clone = await json<{ name: string; path: string; naaId: string }>(['snapshot', 'clone', 'disk1', 'before', 'disk1-copy']);
    assert.equal(clone.name, 'disk1-copy');
    assert.notEqual(clone.naaId, lun.naaId);
    assert.equal(await sha256File(clone.path), original);
    await fails(['snapshot', 'clone', 'disk1', 'before', 'disk1-copy'], 1, /exists|already|taken|in use/i);

    assert.match((await ok(['snapshot', 'delete', 'disk1', 'before'])).stdout, /snapshot before deleted/);
    assert.deepEqual(await json(['snapshot', 'list', 'disk1']), []);
    await fails(['snapshot', 'delete', 'disk1', 'before'], 1, /no snapshot|not found/);
  });

  test('on a terminal: rollback asks for the LUN\'s name; a wrong answer changes nothing, the name rolls back', async () => {
    const pty = await import('node-pty');
    const lun = await json<{ path: string }>(['lun', 'create', 'tty1', '--size', '1M']);
    const original = await sha256File(await createRandomFile(lun.path, MiB));
    await ok(['snapshot', 'create', 'tty1', 's1']);
    const changed = await sha256File(await createRandomFile(lun.path, MiB));
    const env: Record<string, string> = { ...(process.env as Record<string, string>), XDG_CONFIG_HOME: dir.file('config-admin') };
    for (const k of ['OPENLUN_URL', 'OPENLUN_TOKEN', 'OPENLUN_FINGERPRINT', 'OPENLUN_CA']) delete env[k];
    const rollback = async (answer: string): Promise<{ code: number; screen: string }> => {
      const term = pty.spawn('node', [CLI_BUNDLE, 'snapshot', 'rollback', 'tty1', 's1'], { cols: 200, rows: 40, env });
      let screen = '';
      term.onData((d) => (screen += d));
      const exited = new Promise<number>((r) => term.onExit((e) => r(e.exitCode)));
      try {
        for (let i = 0; i < 200 && !/Type tty1 to confirm/.test(screen); i++) await new Promise((r) => setTimeout(r, 50));
        assert.match(screen, /everything written to it since is lost\r?\nType tty1 to confirm/);
        term.write(`${answer}\r`);
        return { code: await exited, screen };
      } finally {
        term.kill();
      }
    };
    const wrong = await rollback('yes');
    assert.equal(wrong.code, 1, wrong.screen);
    assert.match(wrong.screen, /not confirmed \(expected "tty1"\); nothing was changed/);
    assert.equal(await sha256File(lun.path), changed);
    const right = await rollback('tty1');
    assert.equal(right.code, 0, right.screen);
    assert.match(right.screen, /LUN tty1 is back at snapshot s1/);
    assert.equal(await sha256File(lun.path), original);
    await ok(['lun', 'delete', 'tty1', '--delete-data', '--yes']);
  });

  test('schedules: presets and minutes, --keep, bad input refused, delete', async () => {
    await fails(['schedule', 'create', 'disk1', '--keep', '3'], 2, /exactly one of --every/);
    await fails(['schedule', 'create', 'disk1', '--hourly', '--every', '10', '--keep', '3'], 2, /exactly one of --every/);
    await fails(['schedule', 'create', 'disk1', '--every', '3', '--keep', '3'], 2, /--every must be a whole number 5-/);
    await fails(['schedule', 'create', 'disk1', '--daily'], 2, /--keep N is required/);
    await fails(['schedule', 'create', 'disk1', '--daily', '--keep', '0'], 2, /--keep must be a whole number 1-100/);
    assert.deepEqual(await json(['schedule', 'list']), []);
    const daily = await json<{ id: number; preset: string; everyMinutes: number; keep: number }>(['schedule', 'create', 'disk1', '--daily', '--keep', '7']);
    assert.deepEqual([daily.preset, daily.everyMinutes, daily.keep], ['daily', 24 * 60, 7]);
    const often = await json<{ id: number; everyMinutes: number }>(['schedule', 'create', 'disk1-copy', '--every', '90', '--keep', '2']);
    assert.equal(often.everyMinutes, 90);
    const table = (await ok(['schedule', 'list'])).stdout;
    assert.match(table, new RegExp(`^${daily.id}\\s+disk1\\s+daily\\s+7\\s`, 'm'));
    assert.match(table, new RegExp(`^${often.id}\\s+disk1-copy\\s+every 90 min\\s+2\\s`, 'm'));
    await ok(['schedule', 'delete', String(often.id)]);
    await fails(['schedule', 'delete', String(often.id)], 1, /not found/);
    await fails(['schedule', 'delete', 'x'], 2, /ID must be a whole number/);
    assert.deepEqual((await json<Array<{ id: number }>>(['schedule', 'list'])).map((s) => s.id), [daily.id]);
  });

  test('users and tokens: a read-only user logs in and manages their own monitoring token', async () => {
    await fails(['user', 'create', 'viewer', '--password-stdin'], 2, /--role admin\|read-only is required/, { input: `${VIEWER_PASSWORD}\n` });
    await fails(['user', 'create', 'viewer', '--role', 'root', '--password-stdin'], 2, /--role must be admin or read-only/, { input: `${VIEWER_PASSWORD}\n` });
    await fails(['user', 'create', 'viewer', '--role', 'read-only'], 1, /no terminal.*--password-stdin/);
    await fails(['user', 'create', 'viewer', '--role', 'read-only', '--password-stdin'], 1, /password/, { input: 'short\n' });
    const viewer = await json<{ id: number; role: string }>(['user', 'create', 'viewer', '--role', 'read-only', '--password-stdin'], { input: 'first-password-1\n' });
    assert.equal(viewer.role, 'read-only');
    await ok(['user', 'passwd', 'viewer', '--password-stdin'], { input: `${VIEWER_PASSWORD}\n` });
    assert.match((await ok(['user', 'list'])).stdout, /^\d+\s+viewer\s+read-only\s/m);

    // the viewer signs in with the CLI (which makes a token for that machine) and makes a monitoring token
    await ok(['login', '--url', url, '--user', 'viewer', '--password-stdin', '--fingerprint', fingerprint], { as: 'viewer', input: `${VIEWER_PASSWORD}\n` });
    const made = await ok(['token', 'create', 'monitoring'], { as: 'viewer' });
    const secret = made.stdout.trim();
    assert.match(secret, /^olt_\S+$/, 'only the secret on stdout');
    assert.match(made.stderr, /for viewer \(read-only\).*shown only now/);
    const mine = await json<Array<{ id: number; name: string; userId: number }>>(['token', 'list'], { as: 'viewer' });
    assert.deepEqual(mine.map((t) => t.userId), [viewer.id, viewer.id], 'the viewer sees only their own tokens (login + monitoring)');
    const monitoring = mine.find((t) => t.name === 'monitoring')!;
    assert.match((await ok(['token', 'list'], { as: 'viewer' })).stdout, /^\d+\s+monitoring\s+viewer\s/m);
    assert.doesNotMatch(JSON.stringify(await json(['token', 'list'], { as: 'viewer' })), /olt_/, 'list never shows a secret');

    // the token reads, and changes nothing
    assert.ok((await json<unknown[]>(['lun', 'list'], { token: secret })).length >= 2);
    await fails(['lun', 'create', 'nope', '--size', '1M'], 1, /read-only users cannot make changes/, { token: secret });
    await fails(['token', 'create', 'sneaky', '--user', 'admin'], 1, /403|forbidden|cannot|may/i, { as: 'viewer' });
    const all = await json<Array<{ id: number; name: string; userId: number }>>(['token', 'list']);
    assert.equal(all.some((t) => t.name === 'sneaky'), false);
    const adminTokenId = all.find((t) => t.userId !== viewer.id)!.id;
    await fails(['token', 'revoke', String(adminTokenId)], 1, /not found/, { as: 'viewer' });
    await ok(['lun', 'list'], { as: 'admin' });

    // revoked: it stops working at once
    await ok(['token', 'revoke', String(monitoring.id)], { as: 'viewer' });
    await fails(['lun', 'list'], 1, /invalid API token/, { token: secret });

    // an admin makes one for the viewer; deleting the viewer revokes everything of theirs
    const forViewer = await json<{ token: { userId: number }; secret: string }>(['token', 'create', 'scraper', '--user', 'viewer']);
    assert.equal(forViewer.token.userId, viewer.id);
    await ok(['lun', 'list'], { token: forViewer.secret });
    await fails(['user', 'delete', 'admin'], 1, /your own account/);
    await ok(['user', 'delete', 'viewer']);
    await fails(['lun', 'list'], 1, /invalid API token/, { token: forViewer.secret });
    await fails(['user', 'delete', 'viewer'], 1, /no user named viewer/);
  });
});
