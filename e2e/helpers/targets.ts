// Start an iSCSI target for a test on a free 127.0.0.1 port, wait until it serves, and stop it.
// The target under test is openlun (bin/openlun); Debian's tgt is the reference used to validate the
// tests themselves and as the benchmark baseline. OPENLUN_TEST_TARGET=tgt selects tgt for a whole run.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { freePort, waitForListener } from './ports.ts';
import { describeRun, run, runOk, trackChild } from './run.ts';

export type TargetKind = 'openlun' | 'tgt';

export interface Credentials {
  readonly user: string;
  readonly secret: string;
}

export interface TargetOptions {
  /** Backing files, served as LUNs in this order. */
  readonly luns: readonly string[];
  readonly iqn?: string;
  readonly readOnly?: boolean;
  /** Initiator names allowed to log in; everyone when absent. */
  readonly initiators?: readonly string[];
  /** CHAP the initiator must answer (RFC 7143 §12.1.3). */
  readonly chap?: Credentials;
  /** CHAP the target answers for mutual authentication. */
  readonly mutualChap?: Credentials;
  readonly readyTimeoutMs?: number;
  /**
   * openlun only: pass CHAP secrets as --chap/--mutual-chap (default) or in OPENLUN_CHAP /
   * OPENLUN_MUTUAL_CHAP, the way that keeps them out of the process list.
   */
  readonly secretsVia?: 'argv' | 'env';
  /**
   * tgt only: also allow CRC32C header and data digests. tgt's default is None alone — and it then
   * answers HeaderDigest=None even to an initiator that offered only CRC32C. (openlun always offers
   * both; this is not on by default for tgt because tgt then prefers CRC32C to an initiator's
   * "None,CRC32C", which would slow the benchmark baseline.)
   */
  readonly tgtDigests?: boolean;
}

export interface RunningTarget {
  readonly kind: TargetKind;
  readonly host: string;
  readonly port: number;
  /** host:port */
  readonly portal: string;
  readonly iqn: string;
  /** The SCSI LUN of each backing file, in the order given (tgt keeps LUN 0 for its controller). */
  readonly lunIds: readonly number[];
  /** iscsi://host:port/iqn/lun for the index-th backing file. */
  url(index?: number): string;
  /** What the target printed so far (stdout and stderr interleaved). */
  output(): string;
  /** The target process (bin/openlun execs node, so signals reach the target itself). */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

export const DEFAULT_TEST_IQN = 'iqn.2026-11.org.openlun:e2e';
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const OPENLUN_BIN = fileURLToPath(new URL('../../bin/openlun', import.meta.url));

const HOST = '127.0.0.1';
const STOP_GRACE_MS = 5_000;

export function selectedTargetKind(): TargetKind {
  const v = process.env['OPENLUN_TEST_TARGET'] ?? 'openlun';
  if (v !== 'openlun' && v !== 'tgt') throw new Error(`OPENLUN_TEST_TARGET must be openlun or tgt, not ${v}`);
  return v;
}

/** Starts the target selected by OPENLUN_TEST_TARGET (openlun unless told otherwise). */
export function startTarget(options: TargetOptions): Promise<RunningTarget> {
  return selectedTargetKind() === 'tgt' ? startTgt(options) : startOpenlun(options);
}

function makeUrl(port: number, iqn: string, lunIds: readonly number[]) {
  return (index = 0): string => {
    const lun = lunIds[index];
    if (lun === undefined) throw new Error(`no LUN at index ${index}`);
    return `iscsi://${HOST}:${port}/${iqn}/${lun}`;
  };
}

interface Spawned {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function spawnCaptured(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Spawned {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error('empty argv');
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: REPO_ROOT, env });
  trackChild(child);
  let text = '';
  const append = (b: Buffer) => {
    text += b.toString('utf8');
    if (text.length > 1_000_000) text = text.slice(-500_000);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: null, signal: null }));
  });
  return { child, output: () => text, exited };
}

async function stopChild(s: Spawned, firstSignal: NodeJS.Signals): Promise<void> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  s.child.kill(firstSignal);
  const done = await Promise.race([s.exited.then(() => true), delay(STOP_GRACE_MS).then(() => false)]);
  if (!done) {
    s.child.kill('SIGKILL');
    await s.exited;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------------------------------------
// openlun: bin/openlun target --portal H:P --iqn IQN --lun PATH … ; ready once it prints
// "listening on H:P" for the portal.

export function openlunArgs(port: number, iqn: string, o: TargetOptions): string[] {
  const argv = ['target', '--portal', `${HOST}:${port}`, '--iqn', iqn];
  for (const lun of o.luns) argv.push('--lun', lun);
  if (o.readOnly) argv.push('--read-only');
  for (const name of o.initiators ?? []) argv.push('--initiator', name);
  if (o.secretsVia !== 'env') {
    if (o.chap) argv.push('--chap', `${o.chap.user}:${o.chap.secret}`);
    if (o.mutualChap) argv.push('--mutual-chap', `${o.mutualChap.user}:${o.mutualChap.secret}`);
  }
  return argv;
}

export function openlunEnv(o: TargetOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env['OPENLUN_CHAP'];
  delete env['OPENLUN_MUTUAL_CHAP'];
  delete env['OPENLUN_DISCOVERY_CHAP'];
  if (o.secretsVia === 'env') {
    if (o.chap) env['OPENLUN_CHAP'] = `${o.chap.user}:${o.chap.secret}`;
    if (o.mutualChap) env['OPENLUN_MUTUAL_CHAP'] = `${o.mutualChap.user}:${o.mutualChap.secret}`;
  }
  return env;
}

export async function startOpenlun(options: TargetOptions): Promise<RunningTarget> {
  if (!existsSync(OPENLUN_BIN)) {
    throw new Error(
      `${OPENLUN_BIN} does not exist yet; set OPENLUN_TEST_TARGET=tgt to run this test against tgt`,
    );
  }
  const iqn = options.iqn ?? DEFAULT_TEST_IQN;
  const timeoutMs = options.readyTimeoutMs ?? 15_000;
  let lastError = '';
  // The port is free when chosen but another process may take it before openlun binds: retry.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort(HOST);
    const s = spawnCaptured([OPENLUN_BIN, ...openlunArgs(port, iqn, options)], openlunEnv(options));
    const ready = `listening on ${HOST}:${port}`;
    const outcome = await Promise.race([
      waitForText(s, ready, timeoutMs),
      s.exited.then((e) => `exited (code ${e.code}, signal ${e.signal})`),
    ]);
    if (outcome === 'ready') {
      const lunIds = options.luns.map((_, i) => i);
      return {
        kind: 'openlun',
        host: HOST,
        port,
        portal: `${HOST}:${port}`,
        iqn,
        lunIds,
        url: makeUrl(port, iqn, lunIds),
        output: s.output,
        pid: s.child.pid,
        stop: () => stopChild(s, 'SIGTERM'),
      };
    }
    await stopChild(s, 'SIGTERM');
    lastError = `openlun ${outcome} before printing "${ready}":\n${s.output()}`;
    if (!/EADDRINUSE|in use/i.test(s.output())) break;
  }
  throw new Error(lastError);
}

function waitForText(s: Spawned, text: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const check = () => {
      if (s.output().includes(text)) {
        finish('ready');
      }
    };
    const finish = (v: string) => {
      clearTimeout(timer);
      s.child.stdout?.off('data', check);
      s.child.stderr?.off('data', check);
      resolve(v);
    };
    const timer = setTimeout(() => finish(`not ready after ${timeoutMs} ms`), timeoutMs);
    s.child.stdout?.on('data', check);
    s.child.stderr?.on('data', check);
    check();
  });
}

// ---------------------------------------------------------------------------------------------
// tgt: tgtd in the foreground with a control port of its own (its management socket is
// /var/run/tgtd/socket.<n>), configured with tgtadm. tgt numbers backing stores from LUN 1.

const TGT_SOCKET_DIR = '/var/run/tgtd';

export async function startTgt(options: TargetOptions): Promise<RunningTarget> {
  const iqn = options.iqn ?? DEFAULT_TEST_IQN;
  const timeoutMs = options.readyTimeoutMs ?? 15_000;
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort(HOST);
    // The number only names a socket (tgtd accepts 1..32767); pick one unlikely to be anyone else's.
    const control = 10_000 + Math.floor(Math.random() * 22_000);
    const s = spawnCaptured(['tgtd', '-f', '-C', String(control), '--iscsi', `portal=${HOST}:${port}`]);
    const adm = (...args: string[]) =>
      runOk(['tgtadm', '-C', String(control), '--lld', 'iscsi', ...args], { timeoutMs: 10_000 });
    const cleanup = async () => {
      await stopTgtd(s, control);
    };
    try {
      await waitForTgtadm(s, control, timeoutMs);
      if (!(await waitForListener(HOST, port, timeoutMs))) throw new Error(`tgtd is not listening on ${port}`);
      await adm('--mode', 'target', '--op', 'new', '--tid', '1', '--targetname', iqn);
      if (options.tgtDigests) {
        for (const name of ['HeaderDigest', 'DataDigest']) {
          await adm('--mode', 'target', '--op', 'update', '--tid', '1', '--name', name, '--value', 'CRC32C,None');
        }
      }
      const lunIds: number[] = [];
      for (const [i, path] of options.luns.entries()) {
        const lun = String(i + 1);
        await adm('--mode', 'logicalunit', '--op', 'new', '--tid', '1', '--lun', lun,
          '--backing-store', path, '--bstype', 'rdwr');
        if (options.readOnly) {
          await adm('--mode', 'logicalunit', '--op', 'update', '--tid', '1', '--lun', lun, '--params', 'readonly=1');
        }
        lunIds.push(i + 1);
      }
      if (options.initiators && options.initiators.length > 0) {
        for (const name of options.initiators) {
          await adm('--mode', 'target', '--op', 'bind', '--tid', '1', '--initiator-name', name);
        }
      } else {
        await adm('--mode', 'target', '--op', 'bind', '--tid', '1', '--initiator-address', 'ALL');
      }
      if (options.chap) {
        await adm('--mode', 'account', '--op', 'new', '--user', options.chap.user, '--password', options.chap.secret);
        await adm('--mode', 'account', '--op', 'bind', '--tid', '1', '--user', options.chap.user);
      }
      if (options.mutualChap) {
        const m = options.mutualChap;
        await adm('--mode', 'account', '--op', 'new', '--user', m.user, '--password', m.secret);
        await adm('--mode', 'account', '--op', 'bind', '--tid', '1', '--user', m.user, '--outgoing');
      }
      return {
        kind: 'tgt',
        host: HOST,
        port,
        portal: `${HOST}:${port}`,
        iqn,
        lunIds,
        url: makeUrl(port, iqn, lunIds),
        output: s.output,
        pid: s.child.pid,
        stop: cleanup,
      };
    } catch (e) {
      await cleanup();
      lastError = `tgtd (control port ${control}, portal ${HOST}:${port}) failed to start: ${
        (e as Error).message
      }\n${s.output()}`;
    }
  }
  throw new Error(lastError);
}

async function waitForTgtadm(s: Spawned, control: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (s.child.exitCode !== null || s.child.signalCode !== null) throw new Error('tgtd exited');
    const r = await run(['tgtadm', '-C', String(control), '--mode', 'sys', '--op', 'show'], { timeoutMs: 5_000 });
    if (r.code === 0) return;
    if (Date.now() > deadline) throw new Error(`tgtadm cannot reach tgtd: ${describeRun(r)}`);
    await delay(50);
  }
}

/** tgtd ignores SIGTERM while it serves targets; its own shutdown is "tgtadm --mode system --op delete". */
async function stopTgtd(s: Spawned, control: number): Promise<void> {
  if (s.child.exitCode === null && s.child.signalCode === null) {
    const c = String(control);
    await run(['tgtadm', '-C', c, '--lld', 'iscsi', '--mode', 'target', '--op', 'delete', '--force', '--tid', '1'],
      { timeoutMs: 5_000 });
    await run(['tgtadm', '-C', c, '--mode', 'system', '--op', 'delete'], { timeoutMs: 5_000 });
    const done = await Promise.race([s.exited.then(() => true), delay(STOP_GRACE_MS).then(() => false)]);
    if (!done) {
      s.child.kill('SIGKILL');
      await s.exited;
    }
  }
  await rm(`${TGT_SOCKET_DIR}/socket.${control}`, { force: true });
  await rm(`${TGT_SOCKET_DIR}/socket.${control}.lock`, { force: true });
}
