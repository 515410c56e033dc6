/**
 * The API's ACL entries (one per initiator group mapped to a target) as the iSCSI layer's access rules. Both are
 * deny-by-default: no entry, nobody logs in. An entry admits an initiator whose name it lists (or any name, when it
 * lists none) connecting from an address in one of its networks (or from anywhere, when it has none); the address
 * is the TCP peer of the leading connection, checked at login (target-config.ts `initiatorAllowed`).
 */
import type { AccessRule } from '../iscsi/target-config.ts';
import type { DesiredAclEntry } from './state.ts';

export function accessRulesOf(acl: readonly DesiredAclEntry[]): AccessRule[] {
  return acl.map((entry) => ({
    // RFC 7143 §4.2.7.1: names compare case-insensitively
    initiators: [...new Set(entry.initiators.map((n) => n.toLowerCase()))].sort(),
    networks: [...entry.networks],
  }));
}
