/**
 * The logic of the target pages apart from the elements (testable without a browser): ALUA states and what a
 * change does to initiators, the next free portal group tag, portals per group, and how a negotiation key's
 * result is reached.
 */
import type { Portal } from './api.ts';
import type { AluaState, NegotiationKey, PortalGroup } from './api-targets.ts';

export const ALUA_STATES: readonly AluaState[] = ['active-optimized', 'active-non-optimized', 'standby', 'unavailable'];

// SPC-4 §5.16.2.4: the target port group asymmetric access states
export const ALUA_LABELS: Record<AluaState, string> = {
  'active-optimized': 'Active/optimized',
  'active-non-optimized': 'Active/non-optimized',
  standby: 'Standby',
  unavailable: 'Unavailable',
};

/** for narrow places (a portal's group choice) */
export const ALUA_SHORT: Record<AluaState, string> = {
  'active-optimized': 'optimized',
  'active-non-optimized': 'non-optimized',
  standby: 'standby',
  unavailable: 'unavailable',
};

export const ALUA_MEANING: Record<AluaState, string> = {
  'active-optimized': 'preferred path: multipath sends I/O here first',
  'active-non-optimized': 'serves I/O, but multipath prefers optimized paths',
  standby: 'no reads or writes here; multipath uses other paths',
  unavailable: 'no I/O here at all; multipath uses other paths',
};

/** SPC-4 §5.16.2.4.4/.5: in standby and unavailable a port refuses reads and writes (NOT READY, 04h/0Bh, 04h/0Ch). */
export function stopsIo(state: AluaState): boolean {
  return state === 'standby' || state === 'unavailable';
}

/** A change needs the admin's yes when it takes I/O away from the group's portals. */
export function aluaChangeNeedsConfirm(from: AluaState, to: AluaState): boolean {
  return from !== to && stopsIo(to) && !stopsIo(from);
}

/** What the confirmation says: which portals stop getting I/O and where multipath goes. */
export function aluaConfirmText(group: PortalGroup, portals: readonly Portal[], to: AluaState, others: readonly PortalGroup[]): { title: string; body: string; confirmLabel: string } {
  const here = portals.filter((p) => p.portalGroupId === group.id).map((p) => `${p.address}:${p.port}`);
  const serving = others.filter((g) => g.id !== group.id && !stopsIo(g.aluaState));
  const where = here.length ? `on ${here.join(', ')}` : 'on this group’s portals (it has none yet)';
  const rest =
    serving.length > 0
      ? `Multipath moves I/O to the other paths (portal group${serving.length > 1 ? 's' : ''} ${serving.map((g) => g.tag).join(', ')}).`
      : 'No other portal group of this target serves I/O: initiators lose access to its LUNs until a group is active again.';
  return {
    title: `Set portal group ${group.tag} to ${ALUA_LABELS[to].toLowerCase()}?`,
    body: `Initiators connected ${where} stop getting I/O there: reads and writes are refused (SPC-4 §5.16.2.4), sessions stay logged in. ${rest}`,
    confirmLabel: `Set ${ALUA_LABELS[to].toLowerCase()}`,
  };
}

/** The lowest tag (RFC 7143 §13.9: 1-65535 here) no group of this target uses. */
export function nextFreeTag(groups: readonly PortalGroup[]): number {
  const used = new Set(groups.map((g) => g.tag));
  let t = 1;
  while (used.has(t)) t++;
  return t;
}

/** A typed tag, checked as the API checks it (before the round trip). */
export function parseTag(text: string, groups: readonly PortalGroup[]): { tag: number } | { error: string } {
  const s = text.trim();
  if (!/^[0-9]+$/.test(s)) return { error: 'must be a whole number from 1 to 65535' };
  const tag = Number(s);
  if (tag < 1 || tag > 65535) return { error: 'must be a whole number from 1 to 65535' };
  if (groups.some((g) => g.tag === tag)) return { error: `portal group ${tag} already exists on this target` };
  return { tag };
}

/** Groups in tag order, each with its portals (address order). */
export function portalsByGroup(groups: readonly PortalGroup[], portals: readonly Portal[]): Array<{ group: PortalGroup; portals: Portal[] }> {
  return [...groups]
    .sort((a, b) => a.tag - b.tag)
    .map((group) => ({
      group,
      portals: portals.filter((p) => p.portalGroupId === group.id).sort((a, b) => a.address.localeCompare(b.address) || a.port - b.port),
    }));
}

/** RFC 7143 §6.2: how the target's side and the initiator's combine into the value in force. */
export function resultRule(k: Pick<NegotiationKey, 'result' | 'key'>): string {
  switch (k.result) {
    case 'Minimum':
      return 'the lower of both offers';
    case 'Maximum':
      return 'the higher of both offers';
    case 'OR':
      return 'Yes if either side says Yes';
    case 'AND':
      return 'Yes only if both sides say Yes';
    case 'list-first-match':
      return 'the initiator’s first choice that the target also lists';
    case 'declarative':
      return 'each side declares its own (how much it receives per PDU)';
  }
}

/** A value with its unit where one helps (byte counts, seconds). */
export function formatKeyValue(key: string, value: string): string {
  if (/^[0-9]+$/.test(value)) {
    const n = Number(value);
    if (/Length$/.test(key)) return n >= 1024 && n % 1024 === 0 ? `${value} (${n / 1024} KiB)` : `${value} bytes`;
    if (/Time2/.test(key)) return `${value} s`;
  }
  return value.replace(/,/g, ', ');
}
