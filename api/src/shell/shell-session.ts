/**
 * The web shell's wire protocol and one session's life: a WebSocket bound to a pty.
 *
 * Client → server, text frames of JSON:
 *   {"type":"hello","csrf":"…","cols":120,"rows":30}   first, within HELLO_TIMEOUT_MS; nothing runs before it
 *   {"type":"input","data":"ls\r"}                   keystrokes
 *   {"type":"resize","cols":120,"rows":30}
 * Server → client: binary frames are terminal output (UTF-8); text frames are JSON control messages
 *   {"type":"ready","pid":123,"idleTimeoutMs":900000}  {"type":"exit","reason":"…"}
 * Close codes (RFC 6455 §7.4.2: 4000-4999 are the application's): 4400 bad message, 4403 CSRF token wrong,
 * 4408 idle or hello timeout, 1000 the shell ended.
 *
 * The CSRF token travels in the first message rather than in the URL: URLs reach request logs, frames do not.
 */
import { timingSafeEqual } from 'node:crypto';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { spawnShell, validSize, type PtyShell, type PtyShellOptions } from './pty-shell.ts';

/** The part of a `ws` WebSocket this module uses (ws ships no types of its own here). */
export interface ShellSocket {
  readonly readyState: number;
  send(data: string | Buffer): void;
  close(code?: number, reason?: string): void;
  on(event: 'message', listener: (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void): void;
  on(event: 'close', listener: () => void): void;
}

export const CLOSE = { normal: 1000, badMessage: 4400, csrf: 4403, timeout: 4408 } as const;
export const HELLO_TIMEOUT_MS = 10_000;
// a frame bigger than this is not typing; a paste of a few pages still fits
const MAX_FRAME = 64 * 1024;
// transcripts stop growing here (the session goes on; the file says it was cut)
const MAX_TRANSCRIPT_BYTES = 10 * 1024 * 1024;
const OPEN = 1;

export interface SessionEnd {
  durationMs: number;
  bytesIn: number;
  bytesOut: number;
  reason: string;
  transcript?: string;
}

export interface ShellSessionOptions {
  socket: ShellSocket;
  csrfToken: string;
  idleTimeoutMs: number;
  cwd: string;
  command?: string[];
  /** directory for a 0600 transcript of the output; none when undefined */
  transcriptDir?: string;
  /** transcript file name stem, e.g. "20261128T034000Z-admin" */
  transcriptName?: string;
  onStart(pid: number): void;
  onEnd(end: SessionEnd): void;
  now?: () => number;
  spawn?: (o: PtyShellOptions) => PtyShell;
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function frameText(data: Buffer | ArrayBuffer | Buffer[]): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data as ArrayBuffer).toString('utf8');
}

type ClientMessage = { type: 'hello'; csrf: string; cols: number; rows: number } | { type: 'input'; data: string } | { type: 'resize'; cols: number; rows: number };

/** A client message, or why it is not one. */
export function parseClientMessage(text: string): ClientMessage | { problem: string } {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return { problem: 'not JSON' };
  }
  if (typeof m !== 'object' || m === null) return { problem: 'not an object' };
  const o = m as Record<string, unknown>;
  if (o['type'] === 'input') return typeof o['data'] === 'string' ? { type: 'input', data: o['data'] } : { problem: 'input.data must be a string' };
  if (o['type'] === 'resize' || o['type'] === 'hello') {
    if (!validSize(o['cols'], o['rows'])) return { problem: `${o['type']}: cols 2-500 and rows 1-200 are required` };
    if (o['type'] === 'resize') return { type: 'resize', cols: o['cols'] as number, rows: o['rows'] as number };
    if (typeof o['csrf'] !== 'string') return { problem: 'hello.csrf must be a string' };
    return { type: 'hello', csrf: o['csrf'], cols: o['cols'] as number, rows: o['rows'] as number };
  }
  return { problem: 'type must be hello, input or resize' };
}

/** Runs one session to its end; resolves when the socket is closed and the shell is gone. */
export function runShellSession(o: ShellSessionOptions): Promise<SessionEnd> {
  const now = o.now ?? Date.now;
  const started = now();
  let shell: PtyShell | undefined;
  let bytesIn = 0;
  let bytesOut = 0;
  let ended = false;
  let reason = 'closed by the browser';
  let transcriptFd: number | undefined;
  let transcriptPath: string | undefined;
  let transcriptBytes = 0;
  let idle: ReturnType<typeof setTimeout> | undefined;

  return new Promise<SessionEnd>((resolve) => {
    const finish = (why: string, code: number): void => {
      if (ended) return;
      ended = true;
      reason = why;
      clearTimeout(idle);
      clearTimeout(helloTimer);
      shell?.kill();
      if (transcriptFd !== undefined) {
        const fd = transcriptFd;
        // output the pty still flushes after this point is neither counted nor written
        transcriptFd = undefined;
        try {
          closeSync(fd);
        } catch {
          // already closed
        }
      }
      if (o.socket.readyState === OPEN) {
        try {
          o.socket.send(JSON.stringify({ type: 'exit', reason: why }));
        } catch {
          // the socket went away meanwhile
        }
        o.socket.close(code, why.slice(0, 120));
      }
      const end: SessionEnd = { durationMs: now() - started, bytesIn, bytesOut, reason: why, ...(transcriptPath ? { transcript: transcriptPath } : {}) };
      if (shell) o.onEnd(end);
      resolve(end);
    };
    const touch = (): void => {
      clearTimeout(idle);
      idle = setTimeout(() => finish(`idle for ${Math.round(o.idleTimeoutMs / 1000)} s`, CLOSE.timeout), o.idleTimeoutMs);
    };
    const helloTimer = setTimeout(() => finish('no hello message in time', CLOSE.timeout), HELLO_TIMEOUT_MS);

    const start = (cols: number, rows: number): void => {
      clearTimeout(helloTimer);
      shell = (o.spawn ?? spawnShell)({ cols, rows, cwd: o.cwd, ...(o.command ? { command: o.command } : {}) });
      if (o.transcriptDir) {
        mkdirSync(o.transcriptDir, { recursive: true, mode: 0o700 });
        transcriptPath = join(o.transcriptDir, `${o.transcriptName ?? `shell-${started}`}.log`);
        transcriptFd = openSync(transcriptPath, 'wx', 0o600);
      }
      o.onStart(shell.pid);
      shell.onData((data) => {
        if (ended) return;
        const bytes = Buffer.from(data, 'utf8');
        bytesOut += bytes.length;
        if (transcriptFd !== undefined && transcriptBytes < MAX_TRANSCRIPT_BYTES) {
          const room = MAX_TRANSCRIPT_BYTES - transcriptBytes;
          writeSync(transcriptFd, room >= bytes.length ? bytes : Buffer.concat([bytes.subarray(0, room), Buffer.from('\n[transcript cut at 10 MiB]\n')]));
          transcriptBytes += Math.min(room, bytes.length);
        }
        if (o.socket.readyState === OPEN) o.socket.send(bytes);
      });
      shell.onExit((e) => finish(e.signal ? `shell ended by signal ${e.signal}` : `shell exited with status ${e.exitCode}`, CLOSE.normal));
      o.socket.send(JSON.stringify({ type: 'ready', pid: shell.pid, idleTimeoutMs: o.idleTimeoutMs }));
      touch();
    };

    o.socket.on('close', () => finish(reason, CLOSE.normal));
    o.socket.on('message', (data, isBinary) => {
      if (ended) return;
      const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : (data as Buffer).byteLength;
      if (isBinary || size > MAX_FRAME) return finish(isBinary ? 'binary frames are not part of the protocol' : 'frame too large', CLOSE.badMessage);
      const m = parseClientMessage(frameText(data));
      if ('problem' in m) return finish(`bad message: ${m.problem}`, CLOSE.badMessage);
      if (!shell) {
        if (m.type !== 'hello') return finish('the first message must be hello', CLOSE.badMessage);
        if (!sameToken(m.csrf, o.csrfToken)) return finish('missing or wrong CSRF token', CLOSE.csrf);
        try {
          start(m.cols, m.rows);
        } catch (e) {
          finish(`cannot start a shell: ${(e as Error).message}`, 1011);
        }
        return;
      }
      if (m.type === 'hello') return finish('hello sent twice', CLOSE.badMessage);
      touch();
      if (m.type === 'resize') shell.resize(m.cols, m.rows);
      else {
        bytesIn += Buffer.byteLength(m.data, 'utf8');
        shell.write(m.data);
      }
    });
  });
}
