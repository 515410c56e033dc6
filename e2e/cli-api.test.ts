// The openlun command line over the management API, as a script and a person use it: `openlun serve` (HTTPS,
// self-signed certificate) on a fresh data directory, first-run setup through the API, then every step through
// the CLI as a child process — login with --password-stdin and a pinned certificate fingerprint (and once on a
// terminal, through a pty, with the trust question and a password that is not echoed), a LUN, a target with a
// portal, a mapping, an ACL with the initiator's IQN, CHAP with the secret on stdin. libiscsi and qemu-img then
// log in with those credentials and write and read data. --json output is parsed; bad input, unknown commands
// and a certificate that does not match the pin are refused with a clear message and the documented exit code.
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RawInitiator } from '../target/test/support/raw-initiator.ts';
import { MiB, createRandomFile, makeTempDir, sha256File } from './helpers/files.ts';
import type { TempDir } from './helpers/files.ts';
import { freePort } from './helpers/ports.ts';
import { CLI_BUNDLE, assertCliFailed, buildBundle, runCli, serveFingerprint } from './helpers/cli-process.ts';
import { describeRun, run, runOk } from './helpers/run.ts';
import type { RunResult } from './helpers/run.ts';
import { ServeApi, endTargetd, startServeProcess, stopServeProcess, targetdPid, type ServeProcess } from './helpers/serve-process.ts';

const TARGET_IQN = 'iqn.2026-11.org.openlun:cli-api';
const INITIATOR = 'iqn.2026-11.org.openlun:cli-host';
const STRANGER = 'iqn.2026-11.org.openlun:cli-stranger';
const ADMIN_PASSWORD = 'cli-admin-password-1';
const CHAP = { user: 'cli-chap-user', secret: 'cli-chap-secret-0123' } as const;
const IMAGE_BYTES = 2 * MiB;

let dir: TempDir;
let dataDir: string;
let configHome: string;
let apiPort: number;
let iscsiPort: number;
let url: string;
let fingerprint: string;
let serve: ServeProcess | undefined;

type CliOpts = { input?: string; env?: Record<string, string> };

/** The CLI as a script runs it: its own config directory, no inherited OPENLUN_* variables, and no terminal. */
function cli(args: string[], opts: CliOpts = {}): Promise<RunResult> {
  return runCli(args, { configHome, ...opts });
}

/** The API directly, with the CLI's stored token: for what the CLI does not do (users, tokens for others). */
async function apiAsCli(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const { token } = JSON.parse(await readFile(join(configHome, 'openlun', 'cli.json'), 'utf8')) as { token: string };
  return new ServeApi('127.0.0.1', apiPort, dataDir, token).request(method, path, body);
}

async function cliOk(args: string[], opts: CliOpts = {}): Promise<RunResult> {
  const r = await cli(args, opts);
  assert.equal(r.code, 0, describeRun(r));
  assert.doesNotMatch(r.stderr, /warning/, describeRun(r));
  return r;
}

async function cliJson<T = any>(args: string[], opts: { input?: string } = {}): Promise<T> {
  const r = await cliOk([...args, '--json'], opts);
  return JSON.parse(r.stdout) as T;
}

/** Exit code and the message it must carry. */
async function cliFails(args: string[], code: number, message: RegExp, opts: CliOpts = {}): Promise<RunResult> {
  return assertCliFailed(await cli(args, opts), code, message);
}

function inquiry(initiator = INITIATOR): Promise<RunResult> {
  const env = { ...process.env, LIBISCSI_CHAP_PASSWORD: CHAP.secret };
  return run(['iscsi-inq', '-i', initiator, `iscsi://${CHAP.user}@127.0.0.1:${iscsiPort}/${TARGET_IQN}/0`], { env, timeoutMs: 20_000 });
}

describe('openlun CLI over the management API', { timeout: 3 * 60_000 }, () => {
  before(async () => {
    dir = await makeTempDir('openlun-cli-api-');
    dataDir = dir.file('data');
    configHome = dir.file('config');
    apiPort = await freePort();
    iscsiPort = await freePort();
    url = `https://127.0.0.1:${apiPort}`;
    await buildBundle();
    serve = await startServeProcess(['node', CLI_BUNDLE], { dataDir, listen: `127.0.0.1:${apiPort}` });
    await new ServeApi('127.0.0.1', apiPort, dataDir).setup(ADMIN_PASSWORD);
    fingerprint = await serveFingerprint(dataDir);
  });

  after(async () => {
    await stopServeProcess(serve, 'SIGKILL');
    await endTargetd(await targetdPid(dataDir));
    await dir?.remove();
  });

  test('login refuses a wrong pin, an unconfirmed certificate and a wrong password; then pins and stores a token', async () => {
    const credentials = join(configHome, 'openlun', 'cli.json');
    const wrongPin = 'AB'.repeat(32);
    const wrong = await cliFails(['login', '--url', url, '--password-stdin', '--fingerprint', wrongPin], 1, /does not match the pinned one/, { input: `${ADMIN_PASSWORD}\n` });
    assert.match(wrong.stderr, new RegExp(fingerprint), 'names the fingerprint the server presented');
    // no terminal to ask on and no --fingerprint: shown, not trusted
    const unasked = await cliFails(['login', '--url', url, '--password-stdin'], 1, /--fingerprint/, { input: `${ADMIN_PASSWORD}\n` });
    assert.match(unasked.stderr, new RegExp(fingerprint));
    await cliFails(['login', '--url', url, '--password-stdin', '--fingerprint', fingerprint], 1, /wrong username or password/, { input: 'not-the-password\n' });
    await assert.rejects(stat(credentials), 'nothing stored after failed logins');
    await cliFails(['login', '--url', url, '--password-stdin', '--fingerprint', 'sha256:zz'], 2, /SHA-256 fingerprint/);
    await cliFails(['login', '--url', `http://192.0.2.1:${apiPort}`, '--password-stdin'], 1, /loopback address only/, { input: 'x\n' });

    // the fingerprint as openssl prints it lower-cased without colons works too
    const ok = await cliOk(['login', '--url', url, '--password-stdin', '--fingerprint', `SHA256:${fingerprint.replace(/:/g, '').toLowerCase()}`], { input: `${ADMIN_PASSWORD}\n` });
    assert.match(ok.stdout, /Logged in to .* as admin/);
    const saved = JSON.parse(await readFile(credentials, 'utf8'));
    assert.deepEqual(saved.trust, { kind: 'pin', fingerprint256: fingerprint });
    assert.equal(saved.url, url);
    assert.ok(saved.token.length >= 20);
    assert.ok(!ok.stdout.includes(saved.token) && !ok.stderr.includes(saved.token), 'the token is not printed');
    assert.equal((await stat(credentials)).mode & 0o777, 0o600);
    assert.equal((await stat(join(configHome, 'openlun'))).mode & 0o777, 0o700);
  });

  test('LUN, target, portal, mapping, ACL and CHAP through the CLI; libiscsi and qemu-img log in and read back', async () => {
    const lun = await cliJson(['lun', 'create', 'disk0', '--size', '16M', '--block-size', '512']);
    assert.equal(lun.sizeBytes, 16 * MiB);
    assert.match(lun.naaId, /^[0-9a-f]{16,32}$/i);
    const target = await cliJson(['target', 'create', TARGET_IQN, '--alias', 'cli test', '--portal', `127.0.0.1:${iscsiPort}`]);
    assert.equal(target.iqn, TARGET_IQN);
    assert.deepEqual(target.portals.map((p: { address: string; port: number }) => [p.address, p.port]), [['127.0.0.1', iscsiPort]]);
    const mapping = await cliJson(['target', 'map', TARGET_IQN, 'disk0']);
    assert.equal(mapping.lun, 0, 'the first free LUN number is 0');
    // deny by default: mapped but no ACL yet
    assert.notEqual((await inquiry()).code, 0, 'nobody gets in without an ACL');

    const allowed = await cliJson(['acl', 'allow', TARGET_IQN, INITIATOR]);
    assert.deepEqual(allowed.group.initiators, [INITIATOR]);
    assert.equal(allowed.group.name, 'cli-api-hosts');
    await cliOk(['chap', 'set', TARGET_IQN, '--user', CHAP.user, '--secret-stdin'], { input: `${CHAP.secret}\n` });

    const shown = await cliJson(['target', 'show', TARGET_IQN]);
    assert.deepEqual(shown.mappings.map((m: { lun: number; name: string }) => [m.lun, m.name]), [[0, 'disk0']]);
    assert.deepEqual(shown.acls.map((g: { name: string }) => g.name), ['cli-api-hosts']);
    assert.equal(shown.chap.username, CHAP.user);
    const table = await cliOk(['target', 'show', TARGET_IQN]);
    assert.match(table.stdout, /target:\s+iqn\.2026-11\.org\.openlun:cli-api/);
    assert.match(table.stdout, /CHAP:\s+cli-chap-user/);
    const chapList = await cliOk(['chap', 'list']);
    assert.ok(!(chapList.stdout + table.stdout + JSON.stringify(shown)).includes(CHAP.secret), 'no secret printed');

    const r = await inquiry();
    assert.equal(r.code, 0, describeRun(r));
    assert.notEqual((await inquiry(STRANGER)).code, 0, 'an initiator outside the ACL is refused');

    const source = await createRandomFile(dir.file('source.raw'), IMAGE_BYTES);
    const secretFile = dir.file('chap.secret');
    await writeFile(secretFile, CHAP.secret, { mode: 0o600 });
    const opts = `driver=iscsi,transport=tcp,portal=127.0.0.1:${iscsiPort},target=${TARGET_IQN},lun=0,initiator-name=${INITIATOR},user=${CHAP.user},password-secret=chap0`;
    const secret = ['--object', `secret,id=chap0,file=${secretFile}`];
    await runOk(['qemu-img', 'convert', '-n', '-f', 'raw', ...secret, '--target-image-opts', source, opts], { timeoutMs: 60_000 });
    const back = dir.file('back.raw');
    await runOk(['qemu-img', 'convert', ...secret, '--image-opts', opts, '-O', 'raw', back], { timeoutMs: 60_000 });
    assert.equal(await sha256File(back, { length: IMAGE_BYTES }), await sha256File(source));

    const list = await cliOk(['lun', 'list']);
    assert.match(list.stdout, /^NAME\s+SIZE\s+BLOCK/m);
    assert.match(list.stdout, new RegExp(`disk0\\s+16 MiB\\s+512\\s+file.*${TARGET_IQN}/0`));
  });

  test('bad input is refused with the reason and changes nothing; usage errors exit 2 with the usage', async () => {
    const badIqn = await cliFails(['target', 'create', 'iqn.bogus'], 1, /body\/iqn is not an iSCSI name/);
    assert.match(badIqn.stderr, /RFC 7143/);
    await cliFails(['lun', 'create', '../etc', '--size', '1M'], 1, /body\/name/);
    await cliOk(['lun', 'create', 'disk1', '--size', '8M', '--block-size', '4096']);
    const dup = await cliFails(['target', 'map', TARGET_IQN, 'disk1', '--lun', '0'], 1, /already has a LUN 0/);
    assert.match(dup.stderr, /lun: LUN 0 is already used on this target/);
    await cliFails(['target', 'map', TARGET_IQN, 'disk1', '--lun', '1024'], 2, /--lun must be a whole number 0-1023/);
    await cliFails(['target', 'map', 'iqn.2026-11.org.openlun:nope', 'disk1'], 1, /no target iqn\.2026-11\.org\.openlun:nope/);
    await cliFails(['lun', 'create', 'disk2', '--size', '10Q'], 2, /--size wants a size/);
    await cliFails(['lun', 'create', 'disk2'], 2, /--size is required[\s\S]*usage: openlun lun list/);
    await cliFails(['lun', 'frobnicate'], 2, /unknown lun command "frobnicate"/);
    await cliFails(['frobnicate'], 2, /unknown command "frobnicate"/);
    await cliFails(['acl', 'allow', TARGET_IQN, 'not-an-iqn'], 1, /body\/initiators\/\d+ is not an iSCSI name/);
    await cliFails(['chap', 'set', TARGET_IQN, '--user', CHAP.user, '--secret-stdin'], 1, /body\/secret must be 12-255/, { input: 'short\n' });
    // secrets never on the command line: there is no option for one
    await cliFails(['chap', 'set', TARGET_IQN, '--user', CHAP.user, '--secret', CHAP.secret], 2, /Unknown option '--secret'/);
    const luns = await cliJson<Array<{ name: string }>>(['lun', 'list']);
    assert.deepEqual(luns.map((l) => l.name).sort(), ['disk0', 'disk1'], 'nothing half-made by the refusals');
    assert.deepEqual((await cliJson(['target', 'show', TARGET_IQN])).mappings.map((m: { lun: number }) => m.lun), [0]);
    assert.equal((await inquiry()).code, 0, 'the refused CHAP change left the old secret working');

    const mapped = await cliJson(['target', 'map', TARGET_IQN, 'disk1']);
    assert.equal(mapped.lun, 1);
    await cliOk(['target', 'unmap', TARGET_IQN, '--lun', '1']);
    await cliOk(['lun', 'resize', 'disk1', '--size', '12M']);
    assert.equal((await cliJson(['lun', 'set', 'disk1', '--read-only'])).readOnly, true);
    const disk1 = await cliJson(['lun', 'show', 'disk1']);
    assert.deepEqual([disk1.sizeBytes, disk1.readOnly, disk1.mappings], [12 * MiB, true, []]);
    await cliOk(['lun', 'delete', 'disk1', '--delete-data', '--yes']);
  });

  test('acl allow and deny decide who logs in; portals and targets come and go', async () => {
    await cliOk(['acl', 'allow', TARGET_IQN, STRANGER, '--group', 'strangers']);
    assert.equal((await inquiry(STRANGER)).code, 0, 'allowed now');
    const acls = await cliJson<Array<{ target: string; group: { name: string } }>>(['acl', 'list', TARGET_IQN]);
    assert.deepEqual(acls.map((a) => a.group.name).sort(), ['cli-api-hosts', 'strangers']);
    await cliFails(['acl', 'deny', TARGET_IQN, 'nobody-here'], 1, /group nobody-here is not allowed on .* \(allowed: /);
    await cliOk(['acl', 'deny', TARGET_IQN, 'strangers']);
    assert.notEqual((await inquiry(STRANGER)).code, 0, 'refused again');
    assert.equal((await inquiry()).code, 0, 'the other group is untouched');

    const other = 'iqn.2026-11.org.openlun:cli-other';
    await cliOk(['target', 'create', other]);
    const portal = await cliJson(['target', 'portal', 'add', other, `[::1]:${iscsiPort}`]);
    assert.deepEqual([portal.address, portal.port], ['::1', iscsiPort]);
    await cliFails(['target', 'portal', 'remove', other, '[::1]:1'], 1, /has no portal \[::1\]:1 \(it has: \[::1\]:\d+\)/);
    await cliOk(['target', 'portal', 'remove', other, `[::1]:${iscsiPort}`]);
    await cliOk(['target', 'delete', other]);
    assert.deepEqual((await cliJson<Array<{ iqn: string }>>(['target', 'list'])).map((t) => t.iqn), [TARGET_IQN]);

    const secretFile = dir.file('discovery.secret');
    await writeFile(secretFile, 'discovery-secret-42\n', { mode: 0o600 });
    await cliOk(['chap', 'discovery', 'set', '--user', 'disco', '--secret-file', secretFile]);
    assert.match((await cliOk(['chap', 'list'])).stdout, /^\(discovery\)\s+disco\s+-$/m);
    await cliOk(['chap', 'discovery', 'clear']);
    assert.deepEqual((await cliJson<Array<{ targetId: number | null }>>(['chap', 'list'])).map((c) => c.targetId !== null), [true]);
  });

  test('sessions, pool, config plan and help', async (t) => {
    const ini = await RawInitiator.connect(iscsiPort);
    try {
      assert.equal((await ini.login({ initiatorName: INITIATOR, targetName: TARGET_IQN, chap: CHAP })).statusClass, 0);
      const sessions = await cliJson<Array<{ tsih: number; initiatorName: string }>>(['session', 'list']);
      const mine = sessions.find((s) => s.initiatorName === INITIATOR);
      assert.ok(mine, JSON.stringify(sessions));
      const ended = await cli(['session', 'end', String(mine.tsih)]);
      if (ended.code === 0) {
        t.diagnostic(`session end: ${ended.stdout.trim()}`);
        const after = await cliJson<Array<{ tsih: number }>>(['session', 'list']);
        assert.ok(!after.some((s) => s.tsih === mine.tsih), 'the ended session is gone');
      } else {
        // a server without DELETE /api/sessions/:tsih: said so, not a generic 404
        assert.equal(ended.code, 1, describeRun(ended));
        assert.match(ended.stderr, /this server does not support ending sessions/);
        t.diagnostic('session end: the server has no DELETE /api/sessions/:tsih');
      }
    } finally {
      ini.close();
    }
    await cliFails(['session', 'end', '0'], 2, /TSIH must be a whole number 1-65535/);

    const pool = await cliJson(['pool', 'show']);
    if (pool.storage === null) {
      t.diagnostic('pool show: the server has no GET /api/storage; LUN totals');
      assert.deepEqual([pool.luns.count, pool.luns.provisionedBytes], [1, 16 * MiB]);
    } else {
      t.diagnostic(`pool show: storage mode ${pool.mode}`);
      assert.equal(typeof pool.mode, 'string');
    }
    assert.equal((await cliOk(['pool', 'show'])).stdout.length > 0, true);

    const doc = await cliJson(['config', 'export']);
    assert.equal(doc.targets[0].iqn, TARGET_IQN);
    assert.equal(doc.targets[0].chap.username, CHAP.user);
    assert.equal(doc.targets[0].chap.secret, undefined, 'no secret without --secrets');
    const withSecrets = await cliOk(['config', 'export', '--secrets', '--password-stdin'], { input: `${ADMIN_PASSWORD}\n` });
    assert.equal(JSON.parse(withSecrets.stdout).targets[0].chap.secret, CHAP.secret);
    await cliFails(['config', 'export', '--secrets', '--password-stdin'], 1, /password does not match/, { input: 'wrong-password-here\n' });
    doc.luns.push({ name: 'disk9', backing: 'file', sizeBytes: MiB, blockSize: 512, readOnly: false, writeCache: 'write-back' });
    const file = dir.file('config.json');
    await writeFile(file, JSON.stringify(doc));
    const plan = await cliJson(['config', 'plan', file]);
    assert.deepEqual(plan.summary, { create: 1, update: 0, delete: 0 });
    assert.match((await cliOk(['config', 'plan', file])).stdout, /^\+ lun disk9$/m);
    assert.equal((await cliJson<unknown[]>(['lun', 'list'])).length, 1, 'plan changes nothing');
    assert.match((await cliOk(['config', 'apply', file])).stdout, /^applied: 1 to create, 0 to update, 0 to delete$/m);
    assert.deepEqual((await cliJson<Array<{ name: string }>>(['lun', 'list'])).map((l) => l.name).sort(), ['disk0', 'disk9']);
    assert.match((await cliOk(['config', 'plan', file])).stdout, /no changes/);
    await cliOk(['lun', 'delete', 'disk9', '--delete-data', '--yes']);

    const help = await cliOk(['target', '--help']);
    assert.match(help.stdout, /--portal ADDR/, 'the standalone target');
    assert.match(help.stdout, /openlun target map IQN LUN-NAME/, 'the API client');
    assert.match((await cliOk(['help', 'chap'])).stdout, /--secret-stdin/);
    assert.match((await cliOk(['help'])).stdout, /session\s+list\|end/);
  });

  test('a read-only user: logs in (their token is read-only) or uses one an admin made; reading works, changing is refused', async () => {
    const viewer = await apiAsCli('POST', '/api/users', { username: 'viewer', password: 'viewer-password-1', role: 'read-only' });
    assert.equal(viewer.status, 201, JSON.stringify(viewer.json));
    // their own login directory: the admin's stored login stays for the tests after this one
    const own = { env: { XDG_CONFIG_HOME: dir.file('config-viewer') } };
    const login = await cliOk(['login', '--url', url, '--user', 'viewer', '--password-stdin', '--fingerprint', fingerprint, '--token-name', 'viewer-cli'], { ...own, input: 'viewer-password-1\n' });
    assert.doesNotMatch(login.stdout + login.stderr, /viewer-password-1/);
    assert.deepEqual((JSON.parse((await cliOk(['lun', 'list', '--json'], own)).stdout) as Array<{ name: string }>).map((l) => l.name), ['disk0']);
    await cliFails(['lun', 'create', 'viewer-disk', '--size', '1M'], 1, /read-only users cannot make changes/, own);
    const token = await apiAsCli('POST', '/api/tokens', { name: 'viewer token', userId: viewer.json.id });
    assert.equal(token.status, 201);
    const env = { OPENLUN_URL: url, OPENLUN_TOKEN: token.json.secret as string, OPENLUN_FINGERPRINT: fingerprint };
    const luns = JSON.parse((await cliOk(['lun', 'list', '--json'], { env })).stdout) as Array<{ name: string }>;
    assert.deepEqual(luns.map((l) => l.name), ['disk0']);
    await cliFails(['lun', 'create', 'viewer-disk', '--size', '1M'], 1, /read-only users cannot make changes/, { env });
  });

  test('a certificate that no longer matches the pin is refused before anything is sent; logout revokes the token', async () => {
    const credentials = join(configHome, 'openlun', 'cli.json');
    const saved = JSON.parse(await readFile(credentials, 'utf8'));
    await writeFile(credentials, JSON.stringify({ ...saved, trust: { kind: 'pin', fingerprint256: 'CD'.repeat(32).match(/../g)!.join(':') } }), { mode: 0o600 });
    await cliFails(['lun', 'list'], 1, /does not match the pinned one[\s\S]*Nothing was sent/);
    await writeFile(credentials, JSON.stringify(saved), { mode: 0o600 });
    await cliFails(['lun', 'list'], 1, /does not match/, { env: { OPENLUN_FINGERPRINT: 'EF'.repeat(32) } });
    // a login file others can read is not used
    await (await import('node:fs/promises')).chmod(credentials, 0o644);
    await cliFails(['lun', 'list'], 1, /others may read it/);
    await (await import('node:fs/promises')).chmod(credentials, 0o600);
    // OPENLUN_TOKEN overrides the stored token
    await cliFails(['lun', 'list'], 1, /invalid API token[\s\S]*openlun login/, { env: { OPENLUN_TOKEN: 'not-a-token' } });

    assert.match((await cliOk(['logout'])).stdout, /revoked/);
    await assert.rejects(stat(credentials));
    await cliFails(['lun', 'list'], 1, /not logged in/);
    await cliFails(['lun', 'list'], 1, /invalid API token/, { env: { OPENLUN_URL: url, OPENLUN_TOKEN: saved.token, OPENLUN_FINGERPRINT: fingerprint } });
  });

  test('on a terminal: the fingerprint is shown and confirmed, the password is not echoed', async () => {
    const pty = await import('node-pty');
    const env: Record<string, string> = { ...(process.env as Record<string, string>), XDG_CONFIG_HOME: configHome };
    for (const k of ['OPENLUN_URL', 'OPENLUN_TOKEN', 'OPENLUN_FINGERPRINT', 'OPENLUN_CA']) delete env[k];
    const term = pty.spawn('node', [CLI_BUNDLE, 'login', '--url', url], { cols: 200, rows: 40, env });
    let screen = '';
    const exited = new Promise<number>((r) => term.onExit((e) => r(e.exitCode)));
    const waitFor = async (re: RegExp): Promise<void> => {
      for (let i = 0; i < 200 && !re.test(screen); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(screen, re);
    };
    term.onData((d) => (screen += d));
    try {
      await waitFor(/Trust this certificate and pin it\? \[y\/N\]/);
      assert.ok(screen.includes(fingerprint), 'the fingerprint is shown before the question');
      term.write('y\r');
      await waitFor(/Password for admin at 127\.0\.0\.1:\d+: /);
      term.write(`${ADMIN_PASSWORD}\r`);
      assert.equal(await exited, 0, screen);
    } finally {
      term.kill();
    }
    assert.match(screen, /Logged in to/);
    assert.ok(!screen.includes(ADMIN_PASSWORD), 'the password was not echoed');
    const saved = JSON.parse(await readFile(join(configHome, 'openlun', 'cli.json'), 'utf8'));
    assert.equal(saved.trust.fingerprint256, fingerprint);
    assert.equal((await cliJson<unknown[]>(['target', 'list'])).length, 1);
  });
});
