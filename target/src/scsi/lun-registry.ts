/**
 * Which logical units an EXTENDED COPY may name. A CSCD descriptor names a LU by its VPD 83h designator; the copy
 * manager must resolve it only among the LUs the requesting initiator could reach itself — a copy manager that
 * searched every LU on the box let any initiator read or overwrite any other tenant's LUN (CVE-2020-28374 in LIO;
 * tcmu-runner#644/#645). The transport, which knows targets and ACLs, registers a resolver per device
 * (iscsi/server.ts); without one, only the device's own LUs are found.
 */
import type { TargetView } from './command.ts';
import type { LogicalUnit } from './logical-unit.ts';
import type { Nexus } from './types.ts';
import { naaRegisteredExtended } from './vpd.ts';

/** The LUs an initiator on `nexus` may use as copy sources or destinations, for a designator. */
export type CopyTargetResolver = (designator: Designator, nexus: Nexus) => LogicalUnit | undefined;

/** SPC-4 §7.8.6.1 designation descriptor fields as a CSCD descriptor carries them. */
export interface Designator {
  codeSet: number;
  association: number;
  type: number;
  value: Buffer;
}

const resolvers = new WeakMap<TargetView, CopyTargetResolver>();

export function setCopyTargetResolver(target: TargetView, resolver: CopyTargetResolver): void {
  resolvers.set(target, resolver);
}

/** Resolve a CSCD designator for a copy received by `target` from `nexus`. */
export function resolveCopyTarget(target: TargetView, designator: Designator, nexus: Nexus): LogicalUnit | undefined {
  const resolver = resolvers.get(target);
  return resolver ? resolver(designator, nexus) : findByDesignator([target], designator);
}

const DESIGNATOR_TYPE_NAA = 3; // SPC-4 §7.8.6.1 Table 465
const CODE_SET_BINARY = 1;
const ASSOCIATION_LOGICAL_UNIT = 0;

const naaCache = new Map<string, Buffer>();

/** The NAA designator VPD 83h reports for this LU (vpd.ts derives it from the LU's stable id). */
export function naaOf(lu: LogicalUnit): Buffer {
  const id = lu.config.id;
  let naa = naaCache.get(id);
  if (!naa) {
    naa = naaRegisteredExtended(id);
    naaCache.set(id, naa);
  }
  return naa;
}

/**
 * The LU among `targets` whose VPD 83h NAA designator equals `designator`. Only the binary NAA LU designator is
 * matched: it is the one VPD 83h reports per LU and the one VMware and libiscsi put in an E4h descriptor.
 */
export function findByDesignator(targets: Iterable<TargetView>, designator: Designator): LogicalUnit | undefined {
  if (designator.type !== DESIGNATOR_TYPE_NAA || designator.codeSet !== CODE_SET_BINARY) return undefined;
  if (designator.association !== ASSOCIATION_LOGICAL_UNIT) return undefined;
  for (const target of targets) {
    for (const lun of target.lunNumbers()) {
      const lu = target.logicalUnit(lun);
      if (lu && naaOf(lu).equals(designator.value)) return lu;
    }
  }
  return undefined;
}
