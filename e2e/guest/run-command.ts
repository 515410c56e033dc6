// Host-side process helpers for the guest build and the e2e scripts: argv arrays only, never a shell string.
import { spawn } from 'node:child_process';
import type { SpawnOptions } from 'node:child_process';

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  constructor(readonly argv: readonly string[], readonly result: CommandResult) {
    const tail = (result.stderr || result.stdout).trim().split('\n').slice(-15).join('\n');
    super(`${argv.join(' ')} exited with ${result.code ?? result.signal}\n${tail}`);
  }
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
  /** Called with every chunk of output (e.g. to append to a build log). */
  onOutput?: (chunk: Buffer) => void;
  /** Don't throw on a non-zero exit. */
  allowFailure?: boolean;
  input?: Buffer | string;
}

/** Run argv[0] with argv[1..]; resolve with its output, reject (CommandError) on failure or timeout. */
export function runCommand(argv: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (!file) throw new Error('runCommand: empty argv');
  const spawnOpts: SpawnOptions = { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] };
  if (opts.cwd) spawnOpts.cwd = opts.cwd;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, spawnOpts);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs) timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.stdout!.on('data', (c: Buffer) => { out.push(c); opts.onOutput?.(c); });
    child.stderr!.on('data', (c: Buffer) => { err.push(c); opts.onOutput?.(c); });
    child.on('error', (e) => { if (timer) clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const result: CommandResult = {
        code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'),
      };
      if ((code !== 0 && !opts.allowFailure) || signal) reject(new CommandError(argv, result));
      else resolve(result);
    });
    child.stdin!.on('error', () => { /* child exited before reading its input */ });
    child.stdin!.end(opts.input ?? '');
  });
}
