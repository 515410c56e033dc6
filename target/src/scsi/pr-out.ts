/**
 * PERSISTENT RESERVE OUT (SPC-4 §6.17, behaviour in §5.13): REGISTER, REGISTER AND IGNORE EXISTING KEY, RESERVE,
 * RELEASE, CLEAR, PREEMPT, PREEMPT AND ABORT, REGISTER AND MOVE. Every successful change that SPC-4 counts bumps
 * PRgeneration (§6.16.2) and, with APTPL, is durable before GOOD is returned (§5.13.5).
 */
import type { CommandContext, CommandResult } from './command.ts';
import type { LogicalUnit } from './logical-unit.ts';
import type { Registration, Reservations } from './reservations.ts';
import {
  LU_SCOPE,
  PR_TYPE_RULES,
  ReservationConflict,
  isPrType,
  registrationCovers,
  registrationFor,
} from './reservations.ts';
import { ScsiError, invalidCdbField, invalidParameterField } from './sense.ts';
import type { SenseReason } from './sense.ts';
import { decodeTransportId } from './transport-id.ts';
import { targetPortGroupsOf } from './alua.ts';
import type { Nexus } from './types.ts';

/** SPC-4 §6.17.2 Table 176: PR OUT service actions. */
export const PrOutAction = {
  REGISTER: 0x00,
  RESERVE: 0x01,
  RELEASE: 0x02,
  CLEAR: 0x03,
  PREEMPT: 0x04,
  PREEMPT_AND_ABORT: 0x05,
  REGISTER_AND_IGNORE_EXISTING_KEY: 0x06,
  REGISTER_AND_MOVE: 0x07,
} as const;
type PrOutActionCode = (typeof PrOutAction)[keyof typeof PrOutAction];

const BASIC_LIST_LENGTH = 24; // SPC-4 §6.17.3 Table 178
const MAX_LIST_LENGTH = 64 * 1024; // room for many TransportIDs; anything larger is refused, not buffered
const MAX_REGISTRATIONS = 1024; // bounded state: a misbehaving initiator can't grow it without limit
// Parameter list byte 20 (SPC-4 §6.17.3)
const SPEC_I_PT = 0x08;
const ALL_TG_PT = 0x04;
const APTPL = 0x01;
// REGISTER AND MOVE parameter list byte 17 (SPC-4 §6.17.4 Table 179)
const MOVE_UNREG = 0x02;
const MOVE_APTPL = 0x01;

interface BasicList {
  key: bigint;
  serviceActionKey: bigint;
  specIPt: boolean;
  allTgPt: boolean;
  aptpl: boolean;
  list: Buffer;
}

function conflict(why: string): never {
  throw new ReservationConflict(why);
}

async function readList(ctx: CommandContext): Promise<Buffer> {
  const length = ctx.cdb.readUInt32BE(5);
  ctx.dataOutLength = length;
  if (length < BASIC_LIST_LENGTH || length > MAX_LIST_LENGTH) throw new ScsiError('PARAMETER_LIST_LENGTH_ERROR');
  const list = await ctx.req.readDataOut(length);
  if (list.length < length) throw new ScsiError('PARAMETER_LIST_LENGTH_ERROR');
  return list;
}

function parseBasic(list: Buffer, action: PrOutActionCode): BasicList {
  const flags = list[20]!;
  const specIPt = (flags & SPEC_I_PT) !== 0;
  // SPC-4 §6.17.3: without SPEC_I_PT the list is exactly 24 bytes; SPEC_I_PT is valid only for REGISTER.
  if (specIPt && action !== PrOutAction.REGISTER) throw invalidParameterField(20, 3);
  if (!specIPt && list.length !== BASIC_LIST_LENGTH) throw new ScsiError('PARAMETER_LIST_LENGTH_ERROR');
  return {
    key: list.readBigUInt64BE(0),
    serviceActionKey: list.readBigUInt64BE(8),
    specIPt,
    allTgPt: (flags & ALL_TG_PT) !== 0,
    aptpl: (flags & APTPL) !== 0,
    list,
  };
}

function checkScopeType(cdb: Buffer): number {
  const scope = cdb[2]! >> 4;
  const type = cdb[2]! & 0x0f;
  if (scope !== LU_SCOPE) throw invalidCdbField(2, 7); // SPC-4 §6.16.2: only LU_SCOPE
  if (!isPrType(type)) throw invalidCdbField(2, 3);
  return type;
}

function luOf(ctx: CommandContext): LogicalUnit {
  if (!ctx.lu) throw new ScsiError('LOGICAL_UNIT_NOT_SUPPORTED');
  return ctx.lu;
}

/** The issuing nexus' registration, checked against RESERVATION KEY (SPC-4 §5.13.11.1 rules for the non-REGISTER actions). */
function registeredCaller(pr: Reservations, nexus: Nexus, key: bigint): Registration {
  const reg = pr.registrationOf(nexus);
  if (!reg) conflict('I_T nexus not registered');
  if (reg.key !== key) conflict('RESERVATION KEY does not match the registered key');
  return reg;
}

class Change {
  readonly attentions: Array<[Set<string>, SenseReason]> = [];
  aborted: string[] = [];
  constructor(readonly lu: LogicalUnit) {}
  ua(ids: Set<string>, reason: SenseReason): void {
    if (ids.size > 0) this.attentions.push([ids, reason]);
  }
}

/** Apply the change's unit attentions and persist; then answer GOOD. */
async function commit(change: Change, persist: boolean): Promise<CommandResult> {
  const { lu } = change;
  for (const [ids, reason] of change.attentions) for (const id of ids) lu.unitAttentions.establishFor(id, reason);
  if (change.aborted.length > 0) lu.preemptAbort(change.aborted);
  if (persist && lu.prStore) await lu.prStore.save(lu.reservations);
  return {};
}

/** Remove registrations; a non-all-registrants reservation goes with its holder (SPC-4 §5.13.11.2.3). */
function unregister(pr: Reservations, regs: Registration[], change: Change, releasedUa: boolean): void {
  const gone = new Set(regs);
  pr.registrations = pr.registrations.filter((r) => !gone.has(r));
  const res = pr.reservation;
  if (!res) return;
  const rules = PR_TYPE_RULES[res.type];
  const holderGone = rules.allRegistrants ? pr.registrations.length === 0 : gone.has(res.holder);
  if (!holderGone) {
    if (rules.allRegistrants && gone.has(res.holder)) res.holder = pr.registrations[0]!;
    return;
  }
  pr.reservation = undefined;
  // SPC-4 §5.13.11.2.3: releasing a registrants-only / all-registrants reservation by unregistering tells the
  // remaining registrants RESERVATIONS RELEASED.
  if (releasedUa && rules.registrantsAccess) change.ua(pr.nexusIdsOf(pr.registrations), 'RESERVATIONS_RELEASED');
}

export async function persistentReserveOut(ctx: CommandContext, action: PrOutActionCode): Promise<CommandResult> {
  const lu = luOf(ctx);
  const pr = lu.reservations;
  const cdb = ctx.cdb;
  const nexus = ctx.nexus;
  if (action === PrOutAction.REGISTER_AND_MOVE) return registerAndMove(ctx, lu);
  // Validate the CDB before taking the data-out (SPC-4 §6.17.1 fields apply to RESERVE/RELEASE/PREEMPT*).
  const needsType =
    action === PrOutAction.RESERVE || action === PrOutAction.RELEASE || action === PrOutAction.PREEMPT || action === PrOutAction.PREEMPT_AND_ABORT;
  const list = await readList(ctx);
  const p = parseBasic(list, action);
  const type = needsType ? checkScopeType(cdb) : 0;
  const change = new Change(lu);

  switch (action) {
    case PrOutAction.REGISTER:
    case PrOutAction.REGISTER_AND_IGNORE_EXISTING_KEY: {
      if (p.aptpl && !lu.prStore) throw invalidParameterField(20, 0); // PTPL_C = 0 (SPC-4 §6.16.4)
      const own = pr.registrationOf(nexus);
      const ignoreKey = action === PrOutAction.REGISTER_AND_IGNORE_EXISTING_KEY;
      if (!own) {
        // SPC-4 §5.13.7 Table 57: an unregistered nexus must send RESERVATION KEY 0 with REGISTER.
        if (!ignoreKey && p.key !== 0n) conflict('REGISTER from an unregistered I_T nexus with a nonzero key');
        if (p.serviceActionKey === 0n) return {}; // nothing to register: GOOD, no change
        const added = [registrationFor(nexus, p.serviceActionKey, p.allTgPt)];
        if (p.specIPt) added.push(...specifiedPorts(pr, nexus, p));
        if (pr.registrations.length + added.length > MAX_REGISTRATIONS) throw new ScsiError('INSUFFICIENT_REGISTRATION_RESOURCES');
        pr.registrations.push(...added);
      } else {
        if (!ignoreKey && p.key !== own.key) conflict('REGISTER with a RESERVATION KEY that is not the registered key');
        // SPC-4 §5.13.7: SPEC_I_PT from a registered nexus is an invalid field.
        if (p.specIPt) throw invalidParameterField(20, 3);
        if (p.serviceActionKey === 0n) unregister(pr, [own], change, true);
        else own.key = p.serviceActionKey;
      }
      pr.aptpl = p.aptpl;
      pr.generation = (pr.generation + 1) >>> 0;
      return commit(change, true);
    }
    case PrOutAction.RESERVE: {
      const reg = registeredCaller(pr, nexus, p.key);
      const res = pr.reservation;
      if (res) {
        // SPC-4 §5.13.9: the holder re-reserving with the same type is a no-op; anything else conflicts.
        if (pr.isHolder(nexus) && res.type === type) return {};
        conflict('the logical unit is already reserved');
      }
      pr.reservation = { type: type as keyof typeof PR_TYPE_RULES, holder: reg };
      return commit(change, true);
    }
    case PrOutAction.RELEASE: {
      registeredCaller(pr, nexus, p.key);
      const res = pr.reservation;
      if (!res || !pr.isHolder(nexus)) return {}; // SPC-4 §5.13.11.2.1: GOOD, nothing released
      if (res.type !== type) throw new ScsiError('INVALID_RELEASE_OF_PERSISTENT_RESERVATION');
      pr.reservation = undefined;
      // SPC-4 §5.13.11.2.2: other registrants learn of it for the registrants-only and all-registrants types.
      if (PR_TYPE_RULES[res.type].registrantsAccess) {
        const others = pr.nexusIdsOf(pr.registrations);
        others.delete(nexus.id);
        change.ua(others, 'RESERVATIONS_RELEASED');
      }
      return commit(change, true);
    }
    case PrOutAction.CLEAR: {
      registeredCaller(pr, nexus, p.key);
      // SPC-4 §5.13.11.3: every other registered nexus gets RESERVATIONS PREEMPTED.
      const others = pr.nexusIdsOf(pr.registrations);
      others.delete(nexus.id);
      change.ua(others, 'RESERVATIONS_PREEMPTED');
      pr.registrations = [];
      pr.reservation = undefined;
      pr.generation = (pr.generation + 1) >>> 0;
      return commit(change, true);
    }
    case PrOutAction.PREEMPT:
    case PrOutAction.PREEMPT_AND_ABORT:
      preempt(pr, nexus, p, type as keyof typeof PR_TYPE_RULES, change);
      if (action === PrOutAction.PREEMPT_AND_ABORT) {
        // SPC-4 §5.13.11.4.4: the preempted nexuses' tasks are aborted; the transport does that.
        change.aborted = change.attentions.filter(([, r]) => r === 'REGISTRATIONS_PREEMPTED').flatMap(([ids]) => [...ids]);
      }
      pr.generation = (pr.generation + 1) >>> 0;
      return commit(change, true);
  }
  throw invalidCdbField(1, 4);
}

/** SPC-4 §5.13.11.4: PREEMPT / PREEMPT AND ABORT. */
function preempt(pr: Reservations, nexus: Nexus, p: BasicList, type: keyof typeof PR_TYPE_RULES, change: Change): void {
  const own = registeredCaller(pr, nexus, p.key);
  const res = pr.reservation;
  const sark = p.serviceActionKey;
  const preempted = (regs: Registration[]): void => {
    const ids = pr.nexusIdsOf(regs);
    ids.delete(nexus.id);
    change.ua(ids, 'REGISTRATIONS_PREEMPTED');
    const gone = new Set(regs);
    pr.registrations = pr.registrations.filter((r) => !gone.has(r));
  };
  if (!res || (PR_TYPE_RULES[res.type].allRegistrants && sark !== 0n) || (res && !PR_TYPE_RULES[res.type].allRegistrants && sark !== res.holder.key)) {
    // §5.13.11.4.2 / .4.3 b): no reservation change, only the registrations with SERVICE ACTION RESERVATION KEY go.
    if (sark === 0n) throw invalidParameterField(8);
    const victims = pr.registrations.filter((r) => r.key === sark);
    if (victims.length === 0) conflict('no registration with the SERVICE ACTION RESERVATION KEY');
    preempted(victims.filter((r) => r !== own));
    // An all-registrants reservation stays while anyone is registered (the issuer is); keep its holder valid.
    if (res && !pr.registrations.includes(res.holder)) res.holder = own;
    return;
  }
  // The reservation itself is preempted: all-registrants with SARK 0 takes every other registration away
  // (§5.13.11.4.3 a), otherwise the holder's key names the registrations to remove (§5.13.11.4.3 c).
  const victims = PR_TYPE_RULES[res.type].allRegistrants ? pr.registrations.filter((r) => r !== own) : pr.registrations.filter((r) => r.key === sark && r !== own);
  const typeChanged = res.type !== type;
  preempted(victims);
  pr.reservation = { type, holder: own };
  // §5.13.11.4.3: registrants that keep their registration learn the type or scope changed.
  if (typeChanged) {
    const keep = pr.nexusIdsOf(pr.registrations);
    keep.delete(nexus.id);
    change.ua(keep, 'RESERVATIONS_RELEASED');
  }
}

/** SPC-4 §5.13.7 SPEC_I_PT: register the I_T nexuses the TransportIDs name; each must be one we know. */
function specifiedPorts(pr: Reservations, nexus: Nexus, p: BasicList): Registration[] {
  const list = p.list;
  if (list.length < BASIC_LIST_LENGTH + 4) throw new ScsiError('PARAMETER_LIST_LENGTH_ERROR');
  const dataLength = list.readUInt32BE(24);
  const end = 28 + dataLength;
  if (end > list.length) throw new ScsiError('PARAMETER_LIST_LENGTH_ERROR');
  const out: Registration[] = [];
  for (let at = 28; at < end; ) {
    const { id, length } = decodeTransportId(list, at, end);
    const matches = [...pr.knownNexuses.values()].filter(
      (n) =>
        n.initiatorName.toLowerCase() === id.initiatorName &&
        (id.isid === undefined || n.isid.toString('hex') === id.isid) &&
        (p.allTgPt || (n.targetName === nexus.targetName && n.targetPortalGroupTag === nexus.targetPortalGroupTag)) &&
        n.id !== nexus.id,
    );
    // An I_T nexus the device server doesn't know can't be registered (SPC-4 §5.13.7: INVALID FIELD IN PARAMETER LIST).
    if (matches.length === 0) throw invalidParameterField(at);
    for (const n of matches) {
      if (pr.registrationOf(n) || out.some((r) => registrationCovers(r, n))) throw invalidParameterField(at);
      out.push(registrationFor(n, p.serviceActionKey, p.allTgPt));
    }
    at += length;
  }
  return out;
}

/** SPC-4 §5.13.8 REGISTER AND MOVE: register another I_T nexus and hand it the reservation. */
async function registerAndMove(ctx: CommandContext, lu: LogicalUnit): Promise<CommandResult> {
  const pr = lu.reservations;
  const nexus = ctx.nexus;
  const type = checkScopeType(ctx.cdb);
  const list = await readList(ctx);
  const key = list.readBigUInt64BE(0);
  const sark = list.readBigUInt64BE(8);
  const unreg = (list[17]! & MOVE_UNREG) !== 0;
  const aptpl = (list[17]! & MOVE_APTPL) !== 0;
  const rtpi = list.readUInt16BE(18);
  const tidLength = list.readUInt32BE(20);
  if (BASIC_LIST_LENGTH + tidLength > list.length) throw new ScsiError('PARAMETER_LIST_LENGTH_ERROR');
  const own = registeredCaller(pr, nexus, key);
  const res = pr.reservation;
  // §5.13.8: only the holder of a reservation that is not all-registrants can move it.
  if (!res || PR_TYPE_RULES[res.type].allRegistrants || res.holder !== own) conflict('REGISTER AND MOVE by a non-holder');
  if (sark === 0n) throw invalidParameterField(8);
  if (aptpl && !lu.prStore) throw invalidParameterField(17, 0);
  const { id } = decodeTransportId(list, BASIC_LIST_LENGTH, BASIC_LIST_LENGTH + tidLength);
  // iSCSI needs the initiator port (ISID) to name one I_T nexus.
  if (id.isid === undefined) throw invalidParameterField(BASIC_LIST_LENGTH, 7);
  // SPC-4 §5.13.8: RELATIVE TARGET PORT IDENTIFIER names the destination's target port — here any port of this
  // target (one per portal group, alua.ts). A LU shared with another target (shared-units.ts) has ports there too,
  // but those relative ids repeat per target, so a move never leaves the target it was asked through.
  const destGroup = targetPortGroupsOf(ctx.target, nexus).find((g) => g.relativePortIds.includes(rtpi));
  if (!destGroup) throw invalidParameterField(18);
  const dest: Nexus = {
    id: '',
    initiatorName: id.initiatorName,
    isid: Buffer.from(id.isid, 'hex'),
    targetName: nexus.targetName,
    targetPortalGroupTag: destGroup.id,
    relativeTargetPortId: rtpi,
  };
  if (registrationCovers(own, dest)) throw invalidParameterField(BASIC_LIST_LENGTH);
  let target = pr.registrationOf(dest);
  if (target) target.key = sark;
  else {
    target = registrationFor(dest, sark, false);
    pr.registrations.push(target);
  }
  pr.reservation = { type: type as keyof typeof PR_TYPE_RULES, holder: target };
  const change = new Change(lu);
  if (unreg) pr.registrations = pr.registrations.filter((r) => r !== own);
  pr.aptpl = aptpl;
  pr.generation = (pr.generation + 1) >>> 0;
  return commit(change, true);
}
