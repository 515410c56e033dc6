/**
 * The administration pages' calls to the API (users, tokens, audit log, settings, TLS, self-test), typed, through
 * the shared ApiClient (CSRF header, ApiError with per-field messages). Pure functions of the client: no DOM.
 */
import type { ApiClient, Settings, User } from './api.ts';
import type { ApiToken, AuditEntry, Role } from '../../api/src/store/types.ts';
import type { NetworkChange, NetworkState } from './admin-network-logic.ts';

export type { ApiToken, AuditEntry, Role };

export interface AuditFilter {
  user?: string;
  action?: string;
  q?: string;
  /** yyyy-mm-dd, local time, inclusive */
  fromDate?: string;
  /** yyyy-mm-dd, local time, inclusive (the whole day) */
  toDate?: string;
}

export interface AuditPage {
  entries: AuditEntry[];
  /** another page follows this one */
  more: boolean;
}

export interface CertInfo {
  subject: string;
  issuer: string;
  subjectAltName: string | null;
  validFrom: string;
  validTo: string;
  fingerprint256: string;
  selfSigned: boolean;
}

export interface ApplianceInfo {
  tls: { enabled: boolean; certificate: CertInfo | null; restartPending: boolean };
  ports: { web: { host: string; port: number; tls: boolean }; iscsiDefault: number; iscsiPortals: Array<{ address: string; port: number }> };
  time: { now: string; timezone: string; utcOffsetMinutes: number; ntpSynchronized: boolean | null };
}

export type SelfTestStatus = 'passed' | 'failed' | 'skipped-not-applicable' | 'skipped-unsupported';

export interface SelfTestRun {
  id: number;
  state: 'preparing' | 'running' | 'cleaning' | 'done' | 'error';
  verdict?: 'passed' | 'failed';
  families: string[];
  startedAt: number;
  finishedAt?: number;
  startedBy: string;
  target?: string;
  progress: { done: number; total: number; current?: string };
  counts?: { passed: number; failed: number; skippedNotApplicable: number; skippedUnsupported: number };
  cases: Array<{ suite: string; name: string; status: SelfTestStatus; failures: string[]; skipReasons: string[] }>;
  message?: string;
  logTail: string[];
  cleanup: string[];
}

export interface SelfTestOverview {
  available: boolean;
  unavailableReason?: string;
  families: string[];
  defaultFamilies: string[];
  runs: SelfTestRun[];
}

/** A local calendar day as epoch ms: its start, or (end) the start of the next day. */
export function dayBound(date: string, end: boolean): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return undefined;
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + (end ? 1 : 0)).getTime();
}

/** The audit query string for a filter and a page; blank filter fields are left out. */
export function auditQuery(f: AuditFilter, page: number, pageSize: number): string {
  const p = new URLSearchParams();
  // one more than a page: whether another page follows, without a count query
  p.set('limit', String(pageSize + 1));
  p.set('offset', String(page * pageSize));
  for (const k of ['user', 'action', 'q'] as const) {
    const v = f[k]?.trim();
    if (v) p.set(k, v);
  }
  const from = f.fromDate ? dayBound(f.fromDate, false) : undefined;
  const to = f.toDate ? dayBound(f.toDate, true) : undefined;
  if (from !== undefined) p.set('from', String(from));
  if (to !== undefined) p.set('to', String(to));
  return p.toString();
}

export const SELFTEST_POLL_MS = 1000;

export class AdminApi {
  constructor(private readonly api: ApiClient) {}

  users = () => this.api.request<User[]>('GET', '/api/users');
  createUser = (username: string, password: string, role: Role) => this.api.request<User>('POST', '/api/users', { username, password, role });
  setPassword = (id: number, password: string) => this.api.request<void>('PUT', `/api/users/${id}/password`, { password });
  deleteUser = (id: number) => this.api.request<void>('DELETE', `/api/users/${id}`);

  tokens = () => this.api.request<ApiToken[]>('GET', '/api/tokens');
  createToken = (name: string, userId?: number) =>
    this.api.request<{ token: ApiToken; secret: string }>('POST', '/api/tokens', { name, ...(userId !== undefined ? { userId } : {}) });
  deleteToken = (id: number) => this.api.request<void>('DELETE', `/api/tokens/${id}`);

  async audit(f: AuditFilter, page: number, pageSize: number): Promise<AuditPage> {
    const rows = await this.api.request<AuditEntry[]>('GET', `/api/audit?${auditQuery(f, page, pageSize)}`);
    return { entries: rows.slice(0, pageSize), more: rows.length > pageSize };
  }

  settings = () => this.api.request<Settings>('GET', '/api/settings');
  updateSettings = (patch: Partial<Settings>) => this.api.request<Settings>('PATCH', '/api/settings', patch);
  appliance = () => this.api.request<ApplianceInfo>('GET', '/api/settings/appliance');
  replaceTls = (certificate: string, key: string) => this.api.request<CertInfo>('PUT', '/api/settings/tls', { certificate, key });

  network = () => this.api.request<NetworkState>('GET', '/api/network');
  updateNetwork = (change: NetworkChange) => this.api.request<NetworkState>('PUT', '/api/network', change);

  selftest = () => this.api.request<SelfTestOverview>('GET', '/api/selftest');
  startSelftest = (families: string[]) => this.api.request<SelfTestRun>('POST', '/api/selftest', { families });
  selftestRun = (id: number) => this.api.request<SelfTestRun>('GET', `/api/selftest/${id}`);
}
