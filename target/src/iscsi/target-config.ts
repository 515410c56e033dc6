/**
 * What the iSCSI layer knows of a target: its name, portal group, LUNs (the SCSI device), who may log in and how.
 */
import type { ScsiTargetDevice } from '../scsi/device.ts';
import type { ConfigurableAccessState } from '../scsi/alua.ts';
import { NetworkSet } from './networks.ts';

export interface ChapCredential {
  user: string;
  secret: string;
}

export interface TargetEntry {
  /** iSCSI qualified name (RFC 7143 §4.2.7.2) */
  name: string;
  alias?: string;
  portalGroupTag: number;
  /**
   * More portal groups the target is reachable through (multipath): a login on a portal of any of them is an I_T
   * nexus whose target port is that group's (RFC 7143 §4.4.1 / SPC-4 §5.16: one ALUA target port group per TPGT).
   */
  extraPortalGroupTags?: number[];
  /** ALUA state per portal group tag (SPC-4 §5.16.2.4); a group not listed is active/optimized. */
  portalGroupStates?: Record<number, ConfigurableAccessState>;
  device: ScsiTargetDevice;
  /** Initiator IQNs allowed to log in; empty = everyone. Not consulted when `access` is present. */
  allowedInitiators: string[];
  /**
   * The appliance's ACL, deny by default: an initiator logs in when one rule admits both its name and its address
   * (the TCP peer of its connection). Present (even empty, then nobody) = it decides instead of allowedInitiators.
   */
  access?: AccessRule[] | undefined;
  /** One-way CHAP the initiator must answer; undefined = no authentication. */
  chap?: ChapCredential;
  /** Mutual CHAP: the target proves itself with this secret when the initiator asks. */
  mutualChap?: ChapCredential;
}

/** One ACL rule: the name is listed (or `initiators` is empty) and the address lies in a network (or `networks` is empty). */
export interface AccessRule {
  initiators: string[];
  /** CIDR networks, IPv4 or IPv6 (an IPv4-mapped peer address matches IPv4 networks) */
  networks: string[];
}

export interface PortalEntry {
  host: string;
  port: number;
  portalGroupTag: number;
}

/** `[v6]:port` or `v4:port`, as TargetAddress and log lines want it (RFC 7143 §13.8). */
export function formatPortal(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Every portal group tag the target is served through, ascending, without duplicates. */
export function targetPortalGroupTags(target: Pick<TargetEntry, 'portalGroupTag' | 'extraPortalGroupTags'>): number[] {
  return [...new Set([target.portalGroupTag, ...(target.extraPortalGroupTags ?? [])])].sort((a, b) => a - b);
}

/**
 * The access decision at login (RFC 7143 §6.2; a refusal is status 0202h, "authorization failure", §11.13.5)
 * and again whenever the ACL changes. `address` is the initiator's TCP peer address; without one, a rule that
 * restricts networks admits nobody (fail closed).
 */
export function initiatorAllowed(target: Pick<TargetEntry, 'allowedInitiators' | 'access'>, initiatorName: string, address?: string): boolean {
  // RFC 7143 §4.2.7.1: iSCSI names are case-insensitive (normalized to lower case by stringprep)
  const name = initiatorName.toLowerCase();
  if (target.access) {
    return target.access.some(
      (rule) =>
        (rule.initiators.length === 0 || rule.initiators.some((a) => a.toLowerCase() === name)) &&
        (rule.networks.length === 0 || new NetworkSet(rule.networks).contains(address)),
    );
  }
  if (target.allowedInitiators.length === 0) return true;
  return target.allowedInitiators.some((a) => a.toLowerCase() === name);
}
