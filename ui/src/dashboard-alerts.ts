/**
 * The dashboard's alerts, derived from what it already has (pure, tested in ui/test/dashboard-alerts.test.ts):
 * a pool at or above its threshold, a disk whose SMART health is not good, the target daemon not answering, a
 * session that went away without this browser ending it, memory nearly exhausted, plus the server's own `alert`
 * events.
 */
import type { PoolUsage, SystemInfo } from './api-live.ts';
import type { EndedSession, ServerAlert, TargetState } from './live-events.ts';
import { formatPercent } from './live-format.ts';

export type AlertLevel = 'critical' | 'warning' | 'info';

export interface DashboardAlert {
  /** stable across refreshes, so the list does not flicker */
  id: string;
  level: AlertLevel;
  text: string;
  at?: number;
}

export interface AlertInput {
  pools: PoolUsage[];
  system: SystemInfo | undefined;
  target: TargetState | undefined;
  ended: EndedSession[];
  serverAlerts: ServerAlert[];
  now: number;
}

/** A pool this full is out of space for practical purposes (writes to thin LUNs start failing soon after). */
export const CRITICAL_FRACTION = 0.95;
/** how long a dropped session stays on the dashboard */
export const ENDED_VISIBLE_MS = 15 * 60_000;
const ORDER: Record<AlertLevel, number> = { critical: 0, warning: 1, info: 2 };

function clock(ms: number): string {
  return new Date(ms).toLocaleTimeString('en-GB', { hour12: false });
}

export function deriveAlerts(i: AlertInput): DashboardAlert[] {
  const out: DashboardAlert[] = [];
  if (i.target && !i.target.available) {
    out.push({ id: 'target', level: 'critical', text: `The iSCSI target daemon is not answering${i.target.message ? `: ${i.target.message}` : ''}. Initiators may have lost their disks.` });
  }
  for (const p of i.pools) {
    const full = p.usedFraction >= CRITICAL_FRACTION;
    if (!full && p.usedFraction < p.warnAt) continue;
    const what = p.measure === 'metadata' ? 'metadata' : p.measure === 'data' ? 'data' : 'space';
    out.push({
      id: `pool:${p.kind}:${p.name}:${p.measure}`,
      level: full ? 'critical' : 'warning',
      text: `Pool ${p.name} ${what} is ${formatPercent(p.usedFraction)} used (threshold ${formatPercent(p.warnAt)})${full ? ': thin LUNs will fail writes when it is full' : ''}.`,
    });
  }
  for (const d of i.system?.disks ?? []) {
    // smartctl's overall health self-assessment (smart_status.passed false): the drive predicts its own failure
    if (d.health !== 'failed') continue;
    out.push({ id: `disk:${d.name}`, level: 'critical', text: `Disk ${d.name}${d.model ? ` (${d.model})` : ''} is failing its SMART health check: replace it before it fails.` });
  }
  const mem = i.system?.memory;
  if (mem && mem.totalBytes > 0 && mem.availableBytes / mem.totalBytes < 0.05) {
    out.push({ id: 'memory', level: 'warning', text: `Memory is nearly exhausted: ${formatPercent(mem.availableBytes / mem.totalBytes)} available.` });
  }
  for (const e of i.ended) {
    if (e.byAdmin || i.now - e.at > ENDED_VISIBLE_MS) continue;
    const s = e.session;
    out.push({
      id: `ended:${s.tsih}:${e.at}`,
      level: 'warning',
      text: `Session dropped at ${clock(e.at)}: ${s.initiatorName} (${s.remote})${s.target ? ` from ${s.target}` : ''}.`,
      at: e.at,
    });
  }
  i.serverAlerts.forEach((a, n) => {
    // a pool crossing its threshold is history; the pool bars (reloaded on that event) say where it stands now
    if (a.source === 'pool') return;
    out.push({ id: `server:${a.at}:${n}`, level: a.level, text: a.message, at: a.at });
  });
  // most severe first; within a level the standing conditions (no time) before the newest events
  const when = (a: DashboardAlert): number => a.at ?? Number.MAX_SAFE_INTEGER;
  return out.sort((a, b) => ORDER[a.level] - ORDER[b.level] || when(b) - when(a));
}
