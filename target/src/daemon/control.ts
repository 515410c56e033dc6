/**
 * The control socket: a Unix socket (mode 0600, never TCP — design.md: not reachable from the network) speaking
 * newline-delimited JSON. Each request `{id, op, ...}` gets one answer `{id, result}` or `{id, error: {code,
 * message}}`. Answers and log lines never carry a CHAP secret.
 */
import { chmod, unlink } from 'node:fs/promises';
import net from 'node:net';
import type { Logger } from '../log.ts';
import { ControlError } from './errors.ts';
import type { TargetRuntime } from './runtime.ts';

/** Longest request line accepted (a desired state with a few thousand LUNs fits comfortably). */
export const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

export const CONTROL_OPS = ['ping', 'apply', 'sessions', 'stats', 'refreshCapacity', 'endSession', 'poolUsage'] as const;
export type ControlOp = (typeof CONTROL_OPS)[number];

type Request = Record<string, unknown> & { id: string | number; op: ControlOp };

function parseRequest(line: string): { id: string | number | null; req?: Request; error?: ControlError } {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return { id: null, error: new ControlError('bad-request', 'request is not JSON') };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { id: null, error: new ControlError('bad-request', 'request must be an object') };
  const r = v as Record<string, unknown>;
  const id = typeof r['id'] === 'string' || (typeof r['id'] === 'number' && Number.isFinite(r['id'])) ? (r['id'] as string | number) : null;
  if (id === null) return { id, error: new ControlError('bad-request', 'id must be a string or a number') };
  if (typeof r['op'] !== 'string') return { id, error: new ControlError('bad-request', 'op must be a string') };
  if (!(CONTROL_OPS as readonly string[]).includes(r['op'])) return { id, error: new ControlError('unknown-op', `unknown op ${JSON.stringify(r['op'].slice(0, 40))}; known: ${CONTROL_OPS.join(', ')}`) };
  return { id, req: r as Request };
}

export async function dispatch(runtime: TargetRuntime, req: Request): Promise<unknown> {
  switch (req.op) {
    case 'ping':
      return { pong: true, pid: process.pid, portals: runtime.portals() };
    case 'apply': {
      if (req['force'] !== undefined && typeof req['force'] !== 'boolean') throw new ControlError('bad-request', 'force must be a boolean');
      if (req['state'] === undefined) throw new ControlError('bad-request', 'apply needs a state');
      return runtime.apply(req['state'], { force: req['force'] === true });
    }
    case 'sessions':
      return { sessions: runtime.sessions() };
    case 'endSession': {
      // RFC 7143 §11.12.3: TSIH 0 means "new session", so live sessions have 1-65535
      if (!Number.isInteger(req['tsih']) || (req['tsih'] as number) < 1 || (req['tsih'] as number) > 0xffff) throw new ControlError('bad-request', 'tsih must be an integer 1-65535');
      return runtime.endSession(req['tsih'] as number);
    }
    case 'stats':
      return { targets: runtime.stats() };
    case 'poolUsage': {
      // SBC-4 §4.7.3.8: the share of each pool in use, for the thin-provisioning soft threshold
      const entries = req['entries'];
      if (!Array.isArray(entries) || entries.length > 100_000) throw new ControlError('bad-request', 'entries must be an array of {path, usedFraction}');
      entries.forEach((e: unknown, i) => {
        const o = e as Record<string, unknown> | null;
        if (typeof o !== 'object' || o === null || typeof o['path'] !== 'string' || !o['path'].startsWith('/')) throw new ControlError('bad-request', `entries[${i}].path must be an absolute path`);
        const f = o['usedFraction'];
        if (typeof f !== 'number' || !(f >= 0 && f <= 1)) throw new ControlError('bad-request', `entries[${i}].usedFraction must be a number in [0, 1]`);
      });
      return runtime.poolUsage(entries as Array<{ path: string; usedFraction: number }>);
    }
    case 'refreshCapacity': {
      const problems: string[] = [];
      if (typeof req['target'] !== 'string') problems.push('target must be a string');
      if (!Number.isInteger(req['lun']) || (req['lun'] as number) < 0) problems.push('lun must be a non-negative integer');
      if (problems.length) throw new ControlError('bad-request', problems.join('; '));
      return { sizeBytes: await runtime.refreshCapacity(req['target'] as string, req['lun'] as number) };
    }
  }
}

export interface ControlServer {
  path: string;
  close(): Promise<void>;
}

export async function startControlServer(path: string, runtime: TargetRuntime, log: Logger): Promise<ControlServer> {
  // a socket file left by a dead daemon is removed; a live one is not ours to take over
  if (await answers(path)) throw new Error(`control socket ${path} is in use by another daemon`);
  await unlink(path).catch(() => undefined);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = '';
    let chain = Promise.resolve();
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      if (buffered.length > MAX_REQUEST_BYTES && !buffered.includes('\n')) {
        socket.end(JSON.stringify({ id: null, error: { code: 'bad-request', message: `request longer than ${MAX_REQUEST_BYTES} bytes` } }) + '\n');
        buffered = '';
        return;
      }
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line.length === 0) continue;
        // answers go out in request order
        chain = chain.then(() => handle(line)).then((answer) => {
          if (!socket.destroyed) socket.write(JSON.stringify(answer) + '\n');
        });
      }
    });
  });
  const handle = async (line: string): Promise<unknown> => {
    const { id, req, error } = parseRequest(line);
    if (error || !req) return { id, error: { code: error!.code, message: error!.message } };
    try {
      const result = await dispatch(runtime, req);
      if (req.op === 'apply') log.info(`control: apply ${JSON.stringify(summary(result))}`);
      return { id, result };
    } catch (err) {
      const e = err instanceof ControlError ? err : new ControlError('internal', (err as Error).message);
      log.warn(`control: ${req.op} failed: ${e.code}: ${e.message}`);
      return { id, error: { code: e.code, message: e.message } };
    }
  };
  // the socket is created 0600 (umask) before anyone can connect, then chmod makes sure of it
  const oldMask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
  } finally {
    process.umask(oldMask);
  }
  await chmod(path, 0o600);
  return {
    path,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      await unlink(path).catch(() => undefined);
    },
  };
}

function summary(result: unknown): Record<string, unknown> {
  const r = result as Record<string, unknown[] | boolean | number>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) out[k] = Array.isArray(v) ? v.length : v;
  return out;
}

/** Whether something answers a ping on this socket path. */
export async function answers(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(path);
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    s.on('error', () => done(false));
    s.on('connect', () => s.write(JSON.stringify({ id: 0, op: 'ping' }) + '\n'));
    s.setEncoding('utf8');
    let buf = '';
    s.on('data', (c: string) => {
      buf += c;
      if (buf.includes('\n')) done(true);
    });
  });
}
