/**
 * One login shell on a pseudo-terminal (node-pty), started by argv — never through a shell string — as the
 * service's own user, with a trimmed environment: nothing of the API process's environment (data dir overrides,
 * anything secret a unit file might set) leaks into the admin's shell besides what a login needs.
 */
import { userInfo } from 'node:os';
import pty from 'node-pty';

export interface PtyShellOptions {
  cols: number;
  rows: number;
  cwd: string;
  /** argv; default the service user's login shell with -l, else /bin/bash -l */
  command?: string[];
}

export interface PtyShell {
  readonly pid: number;
  write(data: string): void;
  resize(cols: number, rows: number): void;
  kill(): void;
  onData(listener: (data: string) => void): void;
  onExit(listener: (e: { exitCode: number; signal?: number }) => void): void;
}

// the terminal's size limits: a resize outside them is refused (a huge size would make the kernel and the shell
// allocate for nothing)
export const MAX_COLS = 500;
export const MAX_ROWS = 200;

export function validSize(cols: unknown, rows: unknown): cols is number {
  return Number.isInteger(cols) && Number.isInteger(rows) && (cols as number) >= 2 && (cols as number) <= MAX_COLS && (rows as number) >= 1 && (rows as number) <= MAX_ROWS;
}

/** The login shell of the user this process runs as (the appliance runs the API as root). */
export function loginShell(): string[] {
  let shell = '/bin/bash';
  try {
    const s = userInfo().shell;
    // nologin / false would end the session at once; keep bash for a service account that has one of them
    if (s && s.startsWith('/') && !/(nologin|false)$/.test(s)) shell = s;
  } catch {
    // no passwd entry (a container): bash
  }
  return [shell, '-l'];
}

/** The environment of the shell: what a login needs, nothing inherited beyond it. */
export function shellEnv(): Record<string, string> {
  const u = userInfo();
  return {
    HOME: u.homedir,
    USER: u.username,
    LOGNAME: u.username,
    SHELL: loginShell()[0]!,
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    TERM: 'xterm-256color',
    COLORTERM: 'truecolor',
    LANG: process.env['LANG'] && /^[A-Za-z0-9_.@-]+$/.test(process.env['LANG']) ? process.env['LANG'] : 'C.UTF-8',
  };
}

export function spawnShell(o: PtyShellOptions): PtyShell {
  const [file, ...args] = o.command ?? loginShell();
  const p = pty.spawn(file!, args, { name: 'xterm-256color', cols: o.cols, rows: o.rows, cwd: o.cwd, env: shellEnv() });
  return {
    pid: p.pid,
    write: (data) => p.write(data),
    resize: (cols, rows) => p.resize(cols, rows),
    kill: () => {
      try {
        // SIGHUP: what a terminal's hang-up sends; a login shell passes it to its jobs
        p.kill('SIGHUP');
      } catch {
        // already gone
      }
    },
    onData: (l) => void p.onData(l),
    onExit: (l) => void p.onExit(l),
  };
}
