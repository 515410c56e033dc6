/**
 * The API's ACLs are deny-by-default (no entry: nobody logs in); target-config's `allowedInitiators` is
 * allow-by-default (empty: everyone). This maps one onto the other without touching the iSCSI layer.
 */
import type { DesiredAclEntry } from './state.ts';

/**
 * Stands for "no initiator": it is not a valid iSCSI name (RFC 7143 §4.2.7: names start with iqn., eui. or naa.
 * and never hold a space or a NUL), so no login can ever match it, and the list is never empty.
 */
export const NOBODY = '\0 nobody' as const;

export interface AclMapping {
  allowedInitiators: string[];
  /** entries the iSCSI layer cannot enforce (it does not see addresses at the ACL check), dropped: fail closed */
  unenforced: string[];
}

export function allowedInitiatorsOf(acl: readonly DesiredAclEntry[]): AclMapping {
  const unenforced: string[] = [];
  const names = new Set<string>();
  let everyone = false;
  for (const entry of acl) {
    if (entry.networks.length > 0) {
      unenforced.push(entry.group);
      continue;
    }
    if (entry.initiators.length === 0) everyone = true;
    // RFC 7143 §4.2.7.1: names compare case-insensitively
    for (const n of entry.initiators) names.add(n.toLowerCase());
  }
  if (everyone) return { allowedInitiators: [], unenforced };
  return { allowedInitiators: names.size > 0 ? [...names].sort() : [NOBODY], unenforced };
}
