/**
 * One EventSource on GET /api/events (api/src/routes/events.ts) shared by every page of a browser tab: open while
 * at least one page subscribes, closed when none does. It keeps what pages need when they appear later: the last
 * stats sample and a few minutes of totals for the charts, the session list, the sessions that ended (the
 * dashboard's "session dropped" alerts), the target daemon's availability and the server's `alert` events.
 *
 * Events it dispatches (CustomEvent; detail = the new value): 'stats', 'sessions', 'target', 'alert', 'state', and
 * 'change' — "something on the appliance changed; reload what you show" (sessions came or went, the target daemon
 * went away or came back, an alert, or the stream came back after a gap). Refresher listens to 'change'.
 */
import type { LiveSession } from './api-live.ts';

/** Per-LUN rates of one `stats` event (api/src/routes/events.ts LunRates). */
export interface LunRates {
  target: string;
  lun: number;
  backstore: string | null;
  readIops: number;
  writeIops: number;
  readBytesPerSec: number;
  writeBytesPerSec: number;
  errorsPerSec: number;
  avgLatencyUs: number | null;
  inFlight: number;
}
export interface StatsEvent {
  at: number;
  intervalMs: number;
  luns: LunRates[];
}
/** Totals over all LUNs at one instant: one point of each chart. */
export interface StatsPoint {
  at: number;
  readIops: number;
  writeIops: number;
  readBytesPerSec: number;
  writeBytesPerSec: number;
  /** mean over the commands completed, weighted by each LUN's IOPS; null when nothing completed */
  latencyUs: number | null;
}
export interface TargetState {
  available: boolean;
  message?: string;
}
export interface EndedSession {
  session: LiveSession;
  /** ms since the epoch, when the stream noticed */
  at: number;
  /** ended from this browser (Sessions page), not dropped */
  byAdmin: boolean;
}
/** An `alert` event (api/src/storage: pool thresholds crossed, snapshot schedules failing). */
export interface ServerAlert {
  level: 'info' | 'warning' | 'critical';
  message: string;
  /** ms since the epoch: the server's time when it says, else when it arrived */
  at: number;
  /** what raised it ('pool', 'snapshot-schedule', …) */
  source?: string;
}
export type StreamState = 'idle' | 'connecting' | 'open' | 'retrying' | 'closed';

/** What LiveEvents needs of an EventSource (the browser's, or a fake in tests). */
export interface EventSourceLike {
  readonly readyState: number;
  onopen: ((ev: Event) => unknown) | null;
  onerror: ((ev: Event) => unknown) | null;
  addEventListener(type: string, listener: (ev: MessageEvent) => void): void;
  close(): void;
}
export type EventSourceFactory = (url: string) => EventSourceLike;

/** WHATWG HTML §9.2.2: readyState CLOSED — the browser gave up (an HTTP error such as 401 or 429), no retry. */
const CLOSED = 2;
/** 2.5 minutes at the server's 2-second poll */
export const HISTORY_POINTS = 75;
const MAX_ENDED = 20;
const MAX_ALERTS = 20;
const RETRY_MS = [2000, 5000, 10_000, 30_000];

/** Totals of one stats event (pure). */
export function totalsOf(ev: StatsEvent): StatsPoint {
  let readIops = 0;
  let writeIops = 0;
  let readBytesPerSec = 0;
  let writeBytesPerSec = 0;
  let weighted = 0;
  let weight = 0;
  let plain = 0;
  let plainN = 0;
  for (const l of ev.luns) {
    readIops += l.readIops;
    writeIops += l.writeIops;
    readBytesPerSec += l.readBytesPerSec;
    writeBytesPerSec += l.writeBytesPerSec;
    if (l.avgLatencyUs !== null) {
      const w = l.readIops + l.writeIops;
      weighted += l.avgLatencyUs * w;
      weight += w;
      plain += l.avgLatencyUs;
      plainN++;
    }
  }
  const latencyUs = weight > 0 ? Math.round(weighted / weight) : plainN > 0 ? Math.round(plain / plainN) : null;
  return { at: ev.at, readIops, writeIops, readBytesPerSec, writeBytesPerSec, latencyUs };
}

/**
 * One session's identity across lists. The TSIH alone is not enough: RFC 7143 §11.12.3 lets the target hand a
 * freed TSIH to a later session (an initiator that logs in again right after being logged out may get it), so the
 * login time and the initiator's connection are part of it.
 */
export function sessionIdentity(s: Pick<LiveSession, 'tsih' | 'since' | 'remote'>): string {
  return `${s.tsih}|${s.since}|${s.remote}`;
}

/** Sessions in `before` that are not in `after`. */
export function endedSessions(before: LiveSession[], after: LiveSession[]): LiveSession[] {
  const now = new Set(after.map(sessionIdentity));
  return before.filter((s) => !now.has(sessionIdentity(s)));
}

function parseJson(ev: MessageEvent): unknown {
  try {
    return JSON.parse(String(ev.data));
  } catch {
    return undefined;
  }
}

function toAlert(v: unknown, at: number): ServerAlert | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const message = typeof o['message'] === 'string' ? o['message'] : undefined;
  if (!message) return undefined;
  const raw = String(o['level'] ?? o['severity'] ?? 'warning');
  const level = raw === 'critical' || raw === 'error' ? 'critical' : raw === 'info' ? 'info' : 'warning';
  const when = typeof o['at'] === 'number' && Number.isFinite(o['at']) ? o['at'] : at;
  return { level, message, at: when, ...(typeof o['source'] === 'string' ? { source: o['source'] } : {}) };
}

export class LiveEvents extends EventTarget {
  state: StreamState = 'idle';
  lastStats: StatsEvent | undefined;
  readonly history: StatsPoint[] = [];
  sessions: LiveSession[] | undefined;
  readonly ended: EndedSession[] = [];
  readonly alerts: ServerAlert[] = [];
  target: TargetState | undefined;

  private source: EventSourceLike | undefined;
  private subscribers = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private retries = 0;
  private everOpened = false;
  private readonly endingByAdmin = new Set<string>();

  constructor(
    private readonly factory: EventSourceFactory,
    private readonly url = '/api/events',
    private readonly now: () => number = () => Date.now(),
    private readonly idleCloseMs = 3000,
  ) {
    super();
  }

  /** Keeps the stream open until the returned function is called. */
  subscribe(): () => void {
    this.subscribers++;
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (!this.source && this.retryTimer === undefined) this.open();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.subscribers--;
      // moving between pages unsubscribes one page just before the next subscribes: keep the stream (and the
      // server's counter baseline) across that gap instead of reconnecting on every click
      if (this.subscribers === 0) {
        clearTimeout(this.idleTimer);
        this.idleTimer = setTimeout(() => {
          this.idleTimer = undefined;
          if (this.subscribers === 0) this.shut('idle');
        }, this.idleCloseMs);
      }
    };
  }

  /** Calls `fn` on every 'change' until the returned function is called (and keeps the stream open meanwhile). */
  onChange(fn: () => void): () => void {
    const listener = () => fn();
    this.addEventListener('change', listener);
    const unsubscribe = this.subscribe();
    return () => {
      this.removeEventListener('change', listener);
      unsubscribe();
    };
  }

  /** The Sessions page ends this session: when it goes, it is reported as ended by an admin, not as dropped. */
  noteEnding(session: LiveSession): void {
    this.endingByAdmin.add(sessionIdentity(session));
  }

  private emit(type: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  private setState(s: StreamState): void {
    if (this.state === s) return;
    this.state = s;
    this.emit('state', s);
  }

  private open(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.setState('connecting');
    let src: EventSourceLike;
    try {
      src = this.factory(this.url);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.source = src;
    src.onopen = () => {
      if (this.source !== src) return;
      this.retries = 0;
      this.setState('open');
      // after a gap (reconnect) what the pages show may be stale
      if (this.everOpened) this.emit('change', 'reconnected');
      this.everOpened = true;
    };
    src.onerror = () => {
      if (this.source !== src) return;
      if (src.readyState === CLOSED) {
        src.close();
        this.source = undefined;
        this.scheduleRetry();
      } else this.setState('retrying'); // the browser reconnects by itself (the server sent `retry:`)
    };
    src.addEventListener('stats', (e) => this.source === src && this.onStats(parseJson(e)));
    src.addEventListener('sessions', (e) => this.source === src && this.onSessions(parseJson(e)));
    src.addEventListener('target', (e) => this.source === src && this.onTarget(parseJson(e)));
    src.addEventListener('alert', (e) => this.source === src && this.onAlert(parseJson(e)));
    // the server ends the stream when the session that opened it is gone: do not reconnect with it
    src.addEventListener('end', () => this.source === src && this.shut('closed'));
  }

  private scheduleRetry(): void {
    if (this.subscribers === 0) return;
    this.setState('retrying');
    const wait = RETRY_MS[Math.min(this.retries, RETRY_MS.length - 1)]!;
    this.retries++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.subscribers > 0) this.open();
    }, wait);
  }

  private shut(state: StreamState): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.source?.close();
    this.source = undefined;
    this.setState(state);
  }

  private onStats(v: unknown): void {
    if (typeof v !== 'object' || v === null || !Array.isArray((v as StatsEvent).luns)) return;
    const ev = v as StatsEvent;
    this.lastStats = ev;
    // the first sample after the server started polling has no interval: its zero rates say nothing
    if (ev.intervalMs > 0) {
      if (this.history.length > 0 && this.history[this.history.length - 1]!.at >= ev.at) this.history.length = 0;
      this.history.push(totalsOf(ev));
      if (this.history.length > HISTORY_POINTS) this.history.splice(0, this.history.length - HISTORY_POINTS);
    }
    this.emit('stats', ev);
  }

  private onSessions(v: unknown): void {
    if (!Array.isArray(v)) return;
    const list = v as LiveSession[];
    const before = this.sessions;
    this.sessions = list;
    if (before) {
      const at = this.now();
      for (const s of endedSessions(before, list)) {
        const byAdmin = this.endingByAdmin.delete(sessionIdentity(s));
        this.ended.unshift({ session: s, at, byAdmin });
      }
      if (this.ended.length > MAX_ENDED) this.ended.length = MAX_ENDED;
    }
    this.emit('sessions', list);
    // the first list only tells what the pages just loaded themselves
    if (before) this.emit('change', 'sessions');
  }

  private onTarget(v: unknown): void {
    if (typeof v !== 'object' || v === null) return;
    const o = v as Record<string, unknown>;
    this.target = { available: o['available'] === true, ...(typeof o['message'] === 'string' ? { message: o['message'] } : {}) };
    this.emit('target', this.target);
    this.emit('change', 'target');
  }

  private onAlert(v: unknown): void {
    const a = toAlert(v, this.now());
    if (!a) return;
    this.alerts.unshift(a);
    if (this.alerts.length > MAX_ALERTS) this.alerts.length = MAX_ALERTS;
    this.emit('alert', a);
    this.emit('change', 'alert');
  }
}

let shared: LiveEvents | undefined;

/** The tab's one stream; undefined where there is no EventSource (node tests). */
export function liveEvents(): LiveEvents | undefined {
  if (shared) return shared;
  const ES = (globalThis as { EventSource?: new (url: string, init?: { withCredentials?: boolean }) => EventSourceLike }).EventSource;
  if (!ES) return undefined;
  shared = new LiveEvents((url) => new ES(url));
  return shared;
}
