/**
 * GET /api/events: a server-sent-events stream for the web UI (WHATWG HTML §9.2). One poller per process, running
 * only while someone listens, asks targetd for counters and sessions every few seconds and sends every subscriber:
 *   event: stats     per-LUN IOPS and throughput from the counter deltas since the previous poll
 *   event: sessions  the session list, when it changed (and once on connect)
 *   event: target    {available:false, message} when targetd stops answering, {available:true} when it is back
 *   event: alert     storage alerts as they happen (pool thresholds crossed, failed snapshot schedules)
 * plus comment lines as heartbeats, so proxies and the browser keep the connection open. A stream ends when the
 * client goes away, when its session or token stops being valid, or when the app closes.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import { AUTH_POLICY } from '../auth/policy.ts';
import { HttpError } from '../auth/principal.ts';
import { ErrorBody, responses } from '../schemas.ts';
import { TargetClient } from '../target-client.ts';
import type { LunStatsSample, TargetStatsSample } from './metrics.ts';

export interface EventsOptions {
  /** how often targetd is polled; default 2000 ms */
  intervalMs?: number;
  /** how often a heartbeat comment is sent; default 15000 ms */
  heartbeatMs?: number;
  /** streams open at once; more are refused with 429 (each holds a socket for as long as the page is open) */
  maxStreams?: number;
  /** how often an open stream re-checks its session or token (a token check writes its last-used time); default 10000 ms */
  credentialRecheckMs?: number;
}

const DEFAULTS = { intervalMs: 2000, heartbeatMs: 15_000, maxStreams: 64, credentialRecheckMs: 10_000 } as const satisfies Required<EventsOptions>;
// a poll must not outlive its interval by much: a hung targetd shows as unavailable, not as a frozen chart
const POLL_TIMEOUT_MS = 5000;

export interface LunRates {
  target: string;
  lun: number;
  backstore: string | null;
  readIops: number;
  writeIops: number;
  readBytesPerSec: number;
  writeBytesPerSec: number;
  errorsPerSec: number;
  /** mean latency of the commands completed in the interval (null: none completed) */
  avgLatencyUs: number | null;
  inFlight: number;
}

export interface StatsEvent {
  at: number;
  /** length of the interval the rates cover; 0 on the first sample (rates are 0 then) */
  intervalMs: number;
  luns: LunRates[];
}

interface Sample {
  at: number;
  stats: TargetStatsSample[];
}

/** A counter delta; a smaller value means the counter restarted (LUN number given another unit), counting from 0. */
function delta(now: number, before: number | undefined): number {
  if (before === undefined || now < before) return now;
  return now - before;
}

function histogramTotal(l: LunStatsSample): number {
  return l.latency.counts.reduce((a, b) => a + b, 0);
}

/** Rates between two samples (pure). Without a previous sample every rate is 0. */
export function computeRates(prev: Sample | undefined, cur: Sample): StatsEvent {
  const seconds = prev ? (cur.at - prev.at) / 1000 : 0;
  const before = new Map<string, LunStatsSample>();
  for (const t of prev?.stats ?? []) for (const l of t.luns) before.set(`${t.target.toLowerCase()}\0${l.lun}`, l);
  const rate = (d: number): number => (seconds > 0 ? Math.round((d / seconds) * 100) / 100 : 0);
  const luns: LunRates[] = [];
  for (const t of cur.stats) {
    for (const l of t.luns) {
      const p = prev ? before.get(`${t.target.toLowerCase()}\0${l.lun}`) : undefined;
      const known = prev !== undefined;
      const d = (f: 'readOps' | 'writeOps' | 'readBytes' | 'writeBytes' | 'errors'): number => (known ? delta(l[f], p?.[f]) : 0);
      const completed = known ? delta(histogramTotal(l), p ? histogramTotal(p) : undefined) : 0;
      const latencyUs = known ? delta(l.latency.sumUs, p?.latency.sumUs) : 0;
      luns.push({
        target: t.target,
        lun: l.lun,
        backstore: l.backstore ?? null,
        readIops: rate(d('readOps')),
        writeIops: rate(d('writeOps')),
        readBytesPerSec: rate(d('readBytes')),
        writeBytesPerSec: rate(d('writeBytes')),
        errorsPerSec: rate(d('errors')),
        avgLatencyUs: completed > 0 ? Math.round(latencyUs / completed) : null,
        inFlight: l.inFlight,
      });
    }
  }
  return { at: cur.at, intervalMs: prev ? cur.at - prev.at : 0, luns };
}

/** SSE framing: one `data:` line per line of the JSON (it has none, but a payload never breaks the frame). */
export function sseFrame(event: string, data: unknown): string {
  const body = JSON.stringify(data).split('\n').map((line) => `data: ${line}`).join('\n');
  return `event: ${event}\n${body}\n\n`;
}

interface Subscriber {
  raw: ServerResponse;
  /** still signed in (session not logged out or expired, token not revoked) */
  valid: () => boolean;
  end: () => void;
}

/** The shared poller: one targetd round trip per interval however many pages are open. */
class LiveFeed {
  readonly #subs = new Set<Subscriber>();
  readonly #client: TargetClient;
  #timer: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #prev: Sample | undefined;
  #lastStats: StatsEvent | undefined;
  #sessionsKey: string | undefined;
  #lastSessions: unknown[] | undefined;
  #available: boolean | undefined;
  #polling = false;

  constructor(
    target: TargetClient,
    readonly o: Required<EventsOptions>,
  ) {
    this.#client = new TargetClient(target.path, Math.min(target.timeoutMs, POLL_TIMEOUT_MS));
  }

  get size(): number {
    return this.#subs.size;
  }

  add(sub: Subscriber): void {
    this.#subs.add(sub);
    // a new page gets the current picture at once, without waiting for the next poll
    if (this.#lastSessions) this.#write(sub, sseFrame('sessions', this.#lastSessions));
    if (this.#lastStats) this.#write(sub, sseFrame('stats', this.#lastStats));
    if (this.#available === false) this.#write(sub, sseFrame('target', { available: false }));
    this.#heartbeat ??= setInterval(() => this.#broadcast(': heartbeat\n\n'), this.o.heartbeatMs);
    if (!this.#timer && !this.#polling) void this.#poll();
  }

  /** An event that is not polled (alerts): to every subscriber now. */
  publish(event: string, data: unknown): void {
    this.#broadcast(sseFrame(event, data));
  }

  remove(sub: Subscriber): void {
    this.#subs.delete(sub);
    if (this.#subs.size === 0) this.#stop();
  }

  closeAll(): void {
    for (const sub of [...this.#subs]) sub.end();
    this.#stop();
  }

  #stop(): void {
    clearTimeout(this.#timer);
    clearInterval(this.#heartbeat);
    this.#timer = undefined;
    this.#heartbeat = undefined;
    // a later subscriber starts from a fresh baseline: a delta across an idle gap says nothing about now
    this.#prev = undefined;
    this.#lastStats = undefined;
    this.#sessionsKey = undefined;
    this.#lastSessions = undefined;
    this.#available = undefined;
  }

  #write(sub: Subscriber, text: string): void {
    if (!sub.raw.writableEnded && !sub.raw.destroyed) sub.raw.write(text);
  }

  #broadcast(text: string): void {
    for (const sub of [...this.#subs]) {
      if (!sub.valid()) {
        this.#write(sub, sseFrame('end', { reason: 'signed out' }));
        sub.end();
        continue;
      }
      this.#write(sub, text);
    }
  }

  async #poll(): Promise<void> {
    this.#timer = undefined;
    this.#polling = true;
    try {
      const [stats, sessions] = await Promise.all([
        this.#client.request<{ targets: TargetStatsSample[] }>('stats').then((r) => r.targets),
        this.#client.request<{ sessions: unknown[] }>('sessions').then((r) => r.sessions),
      ]);
      if (this.#subs.size === 0) return;
      if (this.#available === false) this.#broadcast(sseFrame('target', { available: true }));
      this.#available = true;
      const cur = { at: Date.now(), stats };
      this.#lastStats = computeRates(this.#prev, cur);
      this.#prev = cur;
      const key = sessionsKey(sessions);
      if (key !== this.#sessionsKey) {
        this.#sessionsKey = key;
        this.#lastSessions = sessions;
        this.#broadcast(sseFrame('sessions', sessions));
      }
      this.#broadcast(sseFrame('stats', this.#lastStats));
    } catch (err) {
      if (this.#subs.size === 0) return;
      if (this.#available !== false) this.#broadcast(sseFrame('target', { available: false, message: (err as Error).message }));
      this.#available = false;
      this.#prev = undefined;
    } finally {
      this.#polling = false;
      if (this.#subs.size > 0) this.#timer = setTimeout(() => void this.#poll(), this.o.intervalMs);
    }
  }
}

/** The identity of the session list; `tasks` changes with every command and is not a change of sessions. */
function sessionsKey(sessions: unknown[]): string {
  return JSON.stringify(sessions.map((s) => {
    const { tasks: _tasks, ...rest } = s as Record<string, unknown>;
    return rest;
  }));
}

/** Re-checks, at every broadcast, that the credential that opened the stream still holds. */
function credentialCheck(app: FastifyInstance, request: FastifyRequest, everyMs: number): () => boolean {
  const store = app.openlun.store;
  const auth = request.headers.authorization;
  let check: () => boolean;
  if (request.principal?.via === 'token' && auth) {
    const secret = auth.slice('Bearer '.length);
    check = () => store.findUserByToken(secret) !== undefined;
  } else {
    const sid = request.cookies[AUTH_POLICY.sessionCookie];
    check = () => sid !== undefined && store.findSession(sid) !== undefined;
  }
  let checkedAt = Date.now();
  let valid = true;
  return () => {
    if (valid && Date.now() - checkedAt >= everyMs) {
      checkedAt = Date.now();
      valid = check();
    }
    return valid;
  };
}

/** Where alerts come from (serve: the storage runtime's scheduler and pool monitor). */
export interface AlertSource {
  on(event: 'alert', listener: (alert: unknown) => void): unknown;
  off(event: 'alert', listener: (alert: unknown) => void): unknown;
}

export function eventRoutes(target: TargetClient, opts: EventsOptions = {}, alerts?: AlertSource) {
  const o: Required<EventsOptions> = { ...DEFAULTS, ...opts };
  return async (app: FastifyInstance): Promise<void> => {
    const feed = new LiveFeed(target, o);
    if (alerts) {
      const onAlert = (a: unknown): void => feed.publish('alert', a);
      alerts.on('alert', onAlert);
      app.addHook('onClose', async () => void alerts.off('alert', onAlert));
    }
    // preClose: the server waits for open connections before onClose hooks run, and a stream never ends by itself
    app.addHook('preClose', async () => feed.closeAll());

    app.get('/api/events', {
      schema: {
        tags: ['live'],
        summary: 'live counters and session changes as server-sent events (text/event-stream: stats, sessions, target, end)',
        response: { ...responses({ 200: Type.String({ description: 'text/event-stream' }) }), 429: ErrorBody },
      },
    }, async (request, reply) => {
      if (feed.size >= o.maxStreams) throw new HttpError(429, 'rate-limited', `too many event streams open (${o.maxStreams})`, { 'retry-after': '30' });
      // the stream outlives this handler: fastify hands the socket over and sends nothing itself
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        // nginx and similar proxies buffer responses unless told otherwise
        'x-accel-buffering': 'no',
      });
      raw.write(`retry: ${o.intervalMs}\n\n`);
      let ended = false;
      const sub: Subscriber = {
        raw,
        valid: credentialCheck(app, request, o.credentialRecheckMs),
        end: () => {
          if (ended) return;
          ended = true;
          feed.remove(sub);
          raw.end();
        },
      };
      raw.on('close', sub.end);
      raw.on('error', sub.end);
      request.raw.on('close', sub.end);
      feed.add(sub);
    });
  };
}
