// The one place that starts lvm2 and the other storage tools (libblockdev's call_lvm_and_capture_output idea):
// argv only (never a shell), a table of allowed programs, LC_ALL=C so messages and number formats are the
// ones the parsers and classifiers expect, a time bound, cancellation, and typed errors carrying the tool's
// own message. Where the process runs is pluggable (a `Runner`): locally by default; the guest tests run the
// same argv inside a VM.
import { spawn } from 'node:child_process';
import { StorageError, ToolError } from './errors.ts';
import { reportLogErrors } from './report.ts';
import type { StorageErrorCode } from './errors.ts';

/** Programs the storage manager may run. Anything else is refused before spawning. */
export const TOOLS = {
  lvm: 'lvm2', pvs: 'lvm2', vgs: 'lvm2', lvs: 'lvm2',
  pvcreate: 'lvm2', pvremove: 'lvm2', pvresize: 'lvm2',
  vgcreate: 'lvm2', vgextend: 'lvm2', vgreduce: 'lvm2', vgrename: 'lvm2', vgremove: 'lvm2', vgchange: 'lvm2',
  lvcreate: 'lvm2', lvextend: 'lvm2', lvreduce: 'lvm2', lvresize: 'lvm2', lvrename: 'lvm2', lvremove: 'lvm2',
  lvchange: 'lvm2', lvconvert: 'lvm2',
  lsblk: 'util-linux', wipefs: 'util-linux', blkid: 'util-linux', findmnt: 'util-linux', blkdiscard: 'util-linux',
  dmsetup: 'dmsetup', smartctl: 'smartmontools',
} as const satisfies Record<string, string>;
export type ToolName = keyof typeof TOOLS;

export interface RunRequest {
  argv: readonly [ToolName, ...string[]];
  env: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface RunResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  aborted: boolean;
  /** errno of a failed spawn (ENOENT: not installed). */
  spawnError?: string;
  ms: number;
}

/** Starts one process and collects its output. Must kill it when the time bound or the signal fires. */
export type Runner = (req: RunRequest) => Promise<RunResult>;

/** Time between SIGTERM and SIGKILL. lvm2 defers signals inside its critical sections (metadata commit), so
 *  SIGTERM first gives it the chance to stop at a consistent point. */
const KILL_GRACE_MS = 2_000;

/** Spawns locally in its own process group, so a timeout also kills the tool's children (thin_check, …). */
export const localRunner: Runner = (req) => new Promise((resolve) => {
  const t0 = Date.now();
  const [cmd, ...args] = req.argv;
  const child = spawn(cmd, args, { env: req.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let timedOut = false;
  let aborted = false;
  let spawnError: string | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  const killGroup = (sig: NodeJS.Signals) => {
    try { if (child.pid) process.kill(-child.pid, sig); } catch { /* already gone */ }
  };
  const stop = () => {
    killGroup('SIGTERM');
    killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
  };
  const timer = setTimeout(() => { timedOut = true; stop(); }, req.timeoutMs);
  const onAbort = () => { aborted = true; stop(); };
  if (req.signal?.aborted) onAbort(); else req.signal?.addEventListener('abort', onAbort, { once: true });
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));
  child.on('error', (e: NodeJS.ErrnoException) => { spawnError = e.code ?? e.message; });
  child.on('close', (code, signal) => {
    clearTimeout(timer);
    clearTimeout(killTimer);
    req.signal?.removeEventListener('abort', onAbort);
    resolve({
      code, signal, timedOut, aborted, ms: Date.now() - t0,
      stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'),
      ...(spawnError ? { spawnError } : {}),
    });
  });
});

/** lvm2's messages → our error codes. Order matters: the first match wins. Messages are lvm2's, LC_ALL=C. */
export const ERROR_PATTERNS = [
  { code: 'unsupported', re: /Invalid argument for --reportformat|Unrecognised option|unrecognized option|Unknown (?:option|command)/i },
  { code: 'lock-timeout', re: /Could not get lock|Can't get lock|Failed to get lock|lock.*(?:timed out|timeout)|Global lock failed/i },
  { code: 'not-found', re: /Volume group "[^"]*" not found|Failed to find (?:logical|physical) volume|not found or rejected by a filter|Cannot access VG|No such (?:file|device)|Couldn't find device|Device .* not found/i },
  { code: 'exists', re: /already exists|already in volume group|is already a physical volume|already used by|same name/i },
  { code: 'no-space', re: /[Ii]nsufficient (?:free )?(?:space|extents)|not enough free|exceeds maximum|No space left/i },
  { code: 'in-use', re: /in use|Can't open .* exclusively|is open|[Cc]an't remove open|contains a filesystem in use|is busy|Device or resource busy|still has [0-9]+ logical volume|while mounted|is used by/i },
] as const satisfies ReadonlyArray<{ code: StorageErrorCode; re: RegExp }>;

/** lvm2's own words: stderr lines with lvm2's indentation trimmed; WARNING lines only if nothing else. */
export function toolMessageOf(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const errors = lines.filter((l) => !/^WARNING:/.test(l) && !/leaked on .* invocation/.test(l));
  return (errors.length ? errors : lines).join('\n');
}

export function classify(stderr: string): StorageErrorCode {
  for (const p of ERROR_PATTERNS) if (p.re.test(stderr)) return p.code;
  return 'tool-failed';
}

export interface ExecOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  runner?: Runner;
  /** Exit codes that are not failures (e.g. wipefs/blkid use 2 for "nothing found"). */
  okCodes?: readonly number[];
  /** PATH for the tool (tests put fake binaries first). Default: this process's PATH plus the sbin dirs. */
  path?: string;
}

export const DEFAULT_TIMEOUT_MS = 60_000;
const SBIN = '/usr/local/sbin:/usr/sbin:/sbin:/usr/local/bin:/usr/bin:/bin';

/** A fixed, small environment: locale pinned (messages and decimal points as the parsers expect), lvm2's
 *  fd-leak warnings silenced (they would otherwise be mistaken for the tool's message). */
export function toolEnv(path?: string): Record<string, string> {
  return { PATH: path ?? `${process.env.PATH ? `${process.env.PATH}:` : ''}${SBIN}`, LC_ALL: 'C', LANG: 'C', LVM_SUPPRESS_FD_WARNINGS: '1' };
}

/** Run a storage tool. Resolves with its output on success; rejects with a ToolError (typed by `code`). */
export async function execTool(argv: readonly string[], opts: ExecOptions = {}): Promise<RunResult> {
  const [cmd] = argv;
  if (cmd === undefined || !Object.hasOwn(TOOLS, cmd)) {
    throw new StorageError('refused', `refusing to run ${JSON.stringify(cmd)}: not a storage tool`);
  }
  for (const a of argv) {
    if (typeof a !== 'string' || a.includes('\0')) throw new StorageError('refused', 'refusing an argument with a NUL byte');
  }
  if (opts.signal?.aborted) throw new StorageError('aborted', `${cmd}: cancelled before it started`);
  const runner = opts.runner ?? localRunner;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const r = await runner({
    argv: argv as RunRequest['argv'], env: toolEnv(opts.path), timeoutMs,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const failure = { argv, exitCode: r.code, signal: r.signal, stderr: r.stderr, ms: r.ms };
  if (r.spawnError === 'ENOENT') {
    throw new ToolError('tool-missing', failure, '', `${cmd} is not installed (package ${TOOLS[cmd as ToolName]})`);
  }
  if (r.spawnError) throw new ToolError('tool-failed', failure, '', `could not start ${cmd}: ${r.spawnError}`);
  // With a JSON report, lvm2 writes its errors into the report's "log" section instead of stderr.
  const logged = r.stdout.trimStart().startsWith('{') ? reportLogErrors(r.stdout) : [];
  const message = [toolMessageOf(r.stderr), ...logged].filter(Boolean).join('\n');
  if (r.aborted) throw new ToolError('aborted', failure, message, `cancelled after ${r.ms} ms (process killed)`);
  if (r.timedOut) throw new ToolError('timeout', failure, message, `no answer within ${timeoutMs} ms (process killed)`);
  if (r.code === 0 || (r.code !== null && opts.okCodes?.includes(r.code))) return r;
  const code = classify(message);
  throw new ToolError(code, failure, message, message || `exited with ${r.code ?? r.signal}`);
}
