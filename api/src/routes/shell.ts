/**
 * GET /api/shell (WebSocket): a login shell for an admin, in the browser's xterm.js.
 *
 * Who may open one: an admin signed in with the session cookie (not an API token: a shell is for a person at the
 * web UI). Cross-site WebSocket hijacking — a page elsewhere opening this socket with the admin's cookie — is
 * stopped three ways: the Origin header must name this server (browsers always send it on a WebSocket handshake,
 * RFC 6455 §4.1 item 8, and a page cannot forge it), the session cookie is SameSite=Strict, and the first frame
 * must carry the session's CSRF token, which a foreign page cannot read. Every session is audited when it starts
 * (user, client address) and when it ends (duration, bytes each way, why).
 */
import websocket from '@fastify/websocket';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { join } from 'node:path';
import { HttpError } from '../auth/principal.ts';
import { responses } from '../schemas.ts';
import { changeContext } from './common.ts';
import { runShellSession, type ShellSocket } from '../shell/shell-session.ts';
import type { PtyShell, PtyShellOptions } from '../shell/pty-shell.ts';

export interface ShellOptions {
  dataDir: string;
  /** no keystroke for this long ends the session; default 15 min */
  idleTimeoutMs?: number;
  /** sessions open at once, all users together; default 4 */
  maxSessions?: number;
  /** write a 0600 transcript of each session's output under <dataDir>/shell-transcripts; default true */
  transcripts?: boolean;
  /** working directory; default the data dir */
  cwd?: string;
  /** argv instead of the login shell (tests) */
  command?: string[];
  spawn?: (o: PtyShellOptions) => PtyShell;
}

export const SHELL_DEFAULTS = { idleTimeoutMs: 15 * 60_000, maxSessions: 4 } as const;

/** The Origin of a WebSocket handshake must be this server's own (scheme and host). */
export function originProblem(request: FastifyRequest): string | undefined {
  const origin = request.headers.origin;
  if (origin === undefined) return 'the WebSocket handshake carries no Origin header';
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return 'malformed Origin header';
  }
  const scheme = (request.raw.socket as { encrypted?: boolean }).encrypted ? 'https:' : 'http:';
  if (url.host !== request.headers.host || url.protocol !== scheme) return `cross-origin WebSocket from ${origin} refused`;
  return undefined;
}

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

export function shellRoutes(o: ShellOptions) {
  const idleTimeoutMs = o.idleTimeoutMs ?? SHELL_DEFAULTS.idleTimeoutMs;
  const maxSessions = o.maxSessions ?? SHELL_DEFAULTS.maxSessions;
  let open = 0;

  return async function registerShell(app: FastifyInstance): Promise<void> {
    const { store } = app.openlun;
    if (!app.hasDecorator('websocketServer')) await app.register(websocket, { options: { maxPayload: 1024 * 1024 } });

    app.get('/api/shell', {
      websocket: true,
      config: { access: 'admin' },
      schema: {
        tags: ['system'],
        summary: 'WebSocket: an interactive login shell (admin, session cookie, same Origin, CSRF token in the first frame)',
        response: responses({ 101: Type.Null() }),
      },
      // runs before the upgrade: a refusal is a plain HTTP answer and no socket is ever opened
      preHandler: async (request) => {
        const problem = originProblem(request);
        if (problem) {
          store.audit(changeContext(request), 'shell.refused', 'shell', { reason: problem });
          throw new HttpError(403, 'csrf', problem);
        }
        if (request.principal?.via !== 'session') throw new HttpError(403, 'forbidden', 'a shell needs a signed-in session, not an API token');
        if (!request.ws) throw new HttpError(400, 'bad-request', 'this route speaks WebSocket only');
        if (open >= maxSessions) throw new HttpError(409, 'conflict', `${maxSessions} shells are open already; close one first`);
      },
      // a refused handshake's socket was never upgraded, and the plugin only tidies up sockets it saw: end it here,
      // after the answer went out, so neither side keeps it open
      onResponse: async (request) => {
        if (request.raw.headers.upgrade) request.raw.socket?.end();
      },
    }, (socket, request) => {
      const ctx = changeContext(request);
      const user = request.principal!.user.username;
      open++;
      void runShellSession({
        socket: socket as unknown as ShellSocket,
        csrfToken: request.principal!.csrfToken!,
        idleTimeoutMs,
        cwd: o.cwd ?? o.dataDir,
        ...(o.command ? { command: o.command } : {}),
        ...(o.spawn ? { spawn: o.spawn } : {}),
        ...(o.transcripts === false ? {} : { transcriptDir: join(o.dataDir, 'shell-transcripts'), transcriptName: `${stamp(Date.now())}-${user}-${process.hrtime.bigint() % 100000n}` }),
        onStart: (pid) => store.audit(ctx, 'shell.start', 'shell', { pid }),
        onEnd: (end) => store.audit(ctx, 'shell.end', 'shell', { ...end }),
      }).finally(() => {
        open--;
      });
    });
  };
}
