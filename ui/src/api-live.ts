/**
 * Typed calls for the dashboard and the sessions page: system information, storage pools, live iSCSI sessions
 * (and ending one). The records are declared here as the UI reads them; the server's own route schemas
 * (api/src/routes/system.ts, storage.ts, live.ts) are the source of truth, and every reader below tolerates fields
 * that a given appliance version does not send yet.
 */
import type { ApiClient } from './api.ts';
import type { ThinPool } from './api-storage.ts';

export type { ThinPool };

/** GET /api/system (api/src/routes/system.ts SystemReportSchema). */
export interface SystemInfo {
  hostname: string;
  os: { platform: string; distro: string; release: string; kernel: string; arch: string };
  /** percent: busy share of all CPUs over the last sample interval, 0-100 (null before the second sample) */
  cpu: { model: string; cores: number; physicalCores: number; percent: number | null };
  load: { one: number; five: number; fifteen: number };
  memory: { totalBytes: number; usedBytes: number; availableBytes: number };
  uptimeSeconds: number;
  interfaces: SystemInterface[];
  disks: SystemDisk[];
  sampledAt: string | null;
  sampleIntervalMs: number | null;
}
export interface SystemInterface {
  name: string;
  mac: string | null;
  state: string;
  speedMbps: number | null;
  mtu: number | null;
  /** loopback */
  internal: boolean;
  addresses: Array<{ address: string; family: 'IPv4' | 'IPv6'; cidr: string | null }>;
  rxBytes: number;
  txBytes: number;
  rxBytesPerSec: number;
  txBytesPerSec: number;
}
export interface SystemDisk {
  name: string;
  device: string;
  sizeBytes: number;
  model: string;
  serial: string;
  vendor: string;
  interfaceType: string;
  kind: string;
  removable: boolean;
  /** SMART overall health (smartctl) */
  health: 'passed' | 'failed' | 'unknown';
  temperatureC: number | null;
}

/** GET /api/storage (api/src/routes/storage.ts Summary). */
export interface StorageSummary {
  mode: 'lvm' | 'file';
  filePool: { path: string; sizeBytes: number; freeBytes: number; usedBytes: number };
  vgs: Array<{ name: string; size: number; free: number; lvCount: number; missingPvCount: number; partial: boolean; luns: string[] }>;
  /** the thin-provisioning soft threshold the target applies (SBC-4 §4.7.3.7) */
  softThresholdPercent: number;
}

/** A session as GET /api/sessions and the `sessions` event list it (api/src/routes/live.ts). */
export interface LiveSession {
  tsih: number;
  /** 'Normal' or 'Discovery' (RFC 7143 §4.3: SessionType) */
  kind: string;
  initiatorName: string;
  isid: string;
  target?: string;
  /** the initiator's address:port */
  remote: string;
  /** the portal it connected to */
  portal: string;
  /** ISO 8601 */
  since: string;
  /** the operational parameters negotiated at login (RFC 7143 §13) */
  params: Record<string, unknown>;
  /** commands in flight */
  tasks: number;
}

/** One pool's usage as the dashboard shows it, whichever backend it comes from. */
export interface PoolUsage {
  /** 'file' pool directory, thin pool or volume group */
  kind: 'file' | 'thin' | 'vg';
  name: string;
  /** what the fraction counts: 'data' | 'metadata' | 'space' */
  measure: string;
  sizeBytes: number | null;
  usedFraction: number;
  /** warn at or above this fraction */
  warnAt: number;
  /** thin pools: virtual sizes / pool size, when above 1 */
  overcommit?: number;
}

/** GET /api/system; undefined when this appliance's API has no such route (404). */
export const fetchSystem = (api: ApiClient): Promise<SystemInfo | undefined> => api.getOptional<SystemInfo>('/api/system');

/** The storage summary and, in LVM mode, the thin pools; undefined when the API has no storage routes (404). */
export async function fetchStorage(api: ApiClient): Promise<{ summary: StorageSummary; thinPools: ThinPool[] } | undefined> {
  const summary = await api.getOptional<StorageSummary>('/api/storage');
  if (!summary) return undefined;
  const thinPools = summary.mode === 'lvm' ? await api.request<ThinPool[]>('GET', '/api/storage/pools') : [];
  return { summary, thinPools };
}

export const fetchSessions = (api: ApiClient): Promise<LiveSession[]> => api.request<LiveSession[]>('GET', '/api/sessions');

/** Logs a session out (admin only): the target asks the initiator to log out first, then drops it. */
export const endSession = (api: ApiClient, tsih: number): Promise<void> => api.request<void>('DELETE', `/api/sessions/${tsih}`);

/**
 * The pools as usage bars (pure): the file pool (file mode: its file system, statfs) against the soft threshold,
 * each volume group's allocated share, each thin pool's data and metadata against the pool thresholds.
 */
export function poolUsages(summary: StorageSummary, thinPools: ThinPool[]): PoolUsage[] {
  const soft = summary.softThresholdPercent / 100;
  const out: PoolUsage[] = [];
  const fp = summary.filePool;
  if (summary.mode === 'file' && fp.sizeBytes > 0) {
    out.push({ kind: 'file', name: fp.path, measure: 'space', sizeBytes: fp.sizeBytes, usedFraction: (fp.sizeBytes - fp.freeBytes) / fp.sizeBytes, warnAt: soft });
  }
  for (const v of summary.vgs) {
    if (v.size <= 0) continue;
    out.push({ kind: 'vg', name: v.name, measure: 'allocated', sizeBytes: v.size, usedFraction: (v.size - v.free) / v.size, warnAt: soft });
  }
  for (const p of thinPools) {
    const name = `${p.vg}/${p.name}`;
    const over = p.overcommit > 1 ? p.overcommit : undefined;
    out.push({ kind: 'thin', name, measure: 'data', sizeBytes: p.sizeBytes, usedFraction: p.dataPercent / 100, warnAt: p.thresholds.data / 100, ...(over ? { overcommit: over } : {}) });
    out.push({ kind: 'thin', name, measure: 'metadata', sizeBytes: p.metadataBytes, usedFraction: p.metadataPercent / 100, warnAt: p.thresholds.metadata / 100 });
  }
  return out;
}
