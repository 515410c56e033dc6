/**
 * Asymmetric logical unit access (SPC-4 §5.16), implicit only: the target reports which target port groups it has,
 * the access state of each (active/optimized, active/non-optimized, standby, unavailable: set by the appliance) and
 * the relative target ports in each; it never changes states on request, so SET TARGET PORT GROUPS is absent from the
 * opcode table (SPC-4 §5.16.2.1: only explicit ALUA supports it). A state change is an implicit transition: every
 * I_T nexus gets ASYMMETRIC ACCESS STATE CHANGED (device.ts setTargetPortGroups).
 *
 * openlun's mapping, the one VPD 0x83 uses as well: every iSCSI portal group (TPGT) of a target is one target port
 * group whose identifier is the TPGT, holding one target port whose relative target port identifier is the TPGT.
 */
import type { CommandContext, CommandResult, TargetView } from './command.ts';
import { truncate } from './cdb.ts';
import { invalidCdbField } from './sense.ts';
import type { Nexus } from './types.ts';

/** SPC-4 §6.36.2 Table 175 ASYMMETRIC ACCESS STATE codes. */
export const AsymmetricAccessState = {
  ACTIVE_OPTIMIZED: 0x0,
  ACTIVE_NON_OPTIMIZED: 0x1,
  STANDBY: 0x2,
  UNAVAILABLE: 0x3,
  LOGICAL_BLOCK_DEPENDENT: 0x4,
  OFFLINE: 0xe,
  TRANSITIONING: 0xf,
} as const;
export type AsymmetricAccessStateCode = (typeof AsymmetricAccessState)[keyof typeof AsymmetricAccessState];

/** The states a target port group may be configured in, by the name a config file or a CLI flag uses. */
export const CONFIGURABLE_STATES = {
  'active/optimized': AsymmetricAccessState.ACTIVE_OPTIMIZED,
  // Non-optimized still serves every command (SPC-4 §5.16.2.4.3), so nothing but the report changes.
  'active/non-optimized': AsymmetricAccessState.ACTIVE_NON_OPTIMIZED,
  // Standby and unavailable serve only the commands of SPC-4 §5.16.2.4.4 / §5.16.2.4.5 (commandAllowedIn below).
  standby: AsymmetricAccessState.STANDBY,
  unavailable: AsymmetricAccessState.UNAVAILABLE,
} as const satisfies Record<string, AsymmetricAccessStateCode>;
export type ConfigurableAccessState = keyof typeof CONFIGURABLE_STATES;

/**
 * SPC-4 §6.36.2 Table 174 byte 1: the states this device server can put a group in: both active states, standby and
 * unavailable (device.ts filters commands by them). Not offline, transitioning or logical block dependent.
 */
const SupportedStates = { T_SUP: 0x80, O_SUP: 0x40, LBD_SUP: 0x10, U_SUP: 0x08, S_SUP: 0x04, AN_SUP: 0x02, AO_SUP: 0x01 } as const;
export const SUPPORTED_STATES = SupportedStates.U_SUP | SupportedStates.S_SUP | SupportedStates.AN_SUP | SupportedStates.AO_SUP;

/**
 * Which commands a LU serves through a target port in standby or unavailable state, by opcode-table key. SPC-4
 * §5.16.2.4.4 (standby): INQUIRY, LOG SELECT/SENSE, MODE SELECT/SENSE, REPORT LUNS, RECEIVE/SEND DIAGNOSTIC,
 * REPORT/SET TARGET PORT GROUPS, REQUEST SENSE, PERSISTENT RESERVE IN/OUT, echo-buffer READ/WRITE BUFFER, and others at
 * the device server's choice (REPORT SUPPORTED OPERATION CODES here: it only describes the LU). §5.16.2.4.5
 * (unavailable): INQUIRY, REPORT LUNS, REPORT/SET TARGET PORT GROUPS, REQUEST SENSE, echo-buffer READ/WRITE BUFFER.
 * Everything else — media access, TEST UNIT READY (what a multipath path checker sends) — is refused with NOT READY
 * and the state's ASC/ASCQ, so the host routes I/O to an active path.
 */
const STANDBY_ALLOWED: ReadonlySet<string> = new Set([
  'INQUIRY', 'REQUEST_SENSE', 'REPORT_LUNS', 'REPORT_TARGET_PORT_GROUPS', 'REPORT_SUPPORTED_OPERATION_CODES',
  'MODE_SENSE_6', 'MODE_SENSE_10', 'MODE_SELECT_6', 'MODE_SELECT_10',
  'PR_IN_READ_KEYS', 'PR_IN_READ_RESERVATION', 'PR_IN_REPORT_CAPABILITIES', 'PR_IN_READ_FULL_STATUS',
  'PR_OUT_REGISTER', 'PR_OUT_RESERVE', 'PR_OUT_RELEASE', 'PR_OUT_CLEAR', 'PR_OUT_PREEMPT', 'PR_OUT_PREEMPT_AND_ABORT',
  'PR_OUT_REGISTER_AND_IGNORE_EXISTING_KEY', 'PR_OUT_REGISTER_AND_MOVE',
]);
const UNAVAILABLE_ALLOWED: ReadonlySet<string> = new Set(['INQUIRY', 'REQUEST_SENSE', 'REPORT_LUNS', 'REPORT_TARGET_PORT_GROUPS']);

/** Why a command (by opcode-table key) is refused through a port in `state`; undefined when it is served. */
export function accessStateRefusal(state: AsymmetricAccessStateCode, commandKey: string | undefined): 'LOGICAL_UNIT_NOT_ACCESSIBLE_STANDBY' | 'LOGICAL_UNIT_NOT_ACCESSIBLE_UNAVAILABLE' | undefined {
  if (state === AsymmetricAccessState.STANDBY) return commandKey !== undefined && STANDBY_ALLOWED.has(commandKey) ? undefined : 'LOGICAL_UNIT_NOT_ACCESSIBLE_STANDBY';
  if (state === AsymmetricAccessState.UNAVAILABLE) return commandKey !== undefined && UNAVAILABLE_ALLOWED.has(commandKey) ? undefined : 'LOGICAL_UNIT_NOT_ACCESSIBLE_UNAVAILABLE';
  return undefined;
}

/** The access state of the group the nexus's target port belongs to; active/optimized when no group names it. */
export function accessStateOf(groups: readonly TargetPortGroup[], nexus: Nexus): AsymmetricAccessStateCode {
  for (const g of groups) if (g.relativePortIds.includes(nexus.relativeTargetPortId)) return g.state;
  return AsymmetricAccessState.ACTIVE_OPTIMIZED;
}

/** True when some group present in both lists has a different state (SPC-4 §5.16.2.5: an implicit transition). */
export function accessStatesChanged(before: readonly TargetPortGroup[], after: readonly TargetPortGroup[]): boolean {
  return after.some((g) => {
    const old = before.find((b) => b.id === g.id);
    return old !== undefined && old.state !== g.state;
  });
}

/** One target port group as RTPG reports it. */
export interface TargetPortGroup {
  /** TARGET PORT GROUP (16 bits); also the TPG designator of VPD 0x83. */
  id: number;
  state: AsymmetricAccessStateCode;
  /** RELATIVE TARGET PORT IDENTIFIERs of the ports in the group (16 bits, non-zero: SPC-4 §7.8.6.5 Table 482). */
  relativePortIds: readonly number[];
}

/** What the device (TargetView) offers when the transport told it its port groups (device.ts). */
export interface TargetPortGroupSource {
  targetPortGroups(): readonly TargetPortGroup[];
}

/** A target port group per portal group tag, in ascending order, each group active/optimized unless `states` says. */
export function portGroupsFromTags(tags: Iterable<number>, states: Readonly<Record<number, ConfigurableAccessState>> = {}): TargetPortGroup[] {
  return [...new Set(tags)]
    .sort((a, b) => a - b)
    .map((tag) => ({ id: tag, state: CONFIGURABLE_STATES[states[tag] ?? 'active/optimized'], relativePortIds: [tag] }));
}

/**
 * The groups of this target; a device that was never told (unit tests, a bare device) has one group: the port the
 * command came through.
 */
export function targetPortGroupsOf(target: TargetView, nexus: Nexus): readonly TargetPortGroup[] {
  const groups = (target as TargetView & Partial<TargetPortGroupSource>).targetPortGroups?.();
  if (groups && groups.length > 0) return groups;
  return [{ id: nexus.targetPortalGroupTag, state: AsymmetricAccessState.ACTIVE_OPTIMIZED, relativePortIds: [nexus.relativeTargetPortId] }];
}

/** SPC-4 §6.36.1 Table 172: PARAMETER DATA FORMAT, byte 1 bits 7..5. */
const ParameterDataFormat = { LENGTH_ONLY: 0b000, EXTENDED: 0b001 } as const;
/** SPC-4 §6.36.2 Table 174: FORMAT TYPE 001b in byte 4 bits 6..4 of the extended header. */
const EXTENDED_FORMAT_TYPE = 0x10;
/** IMPLICIT TRANSITION TIME (seconds): no transitions ever happen here. */
const IMPLICIT_TRANSITION_TIME = 0;
/** STATUS CODE 00h: no status available (no SET TARGET PORT GROUPS, no implicit change so far). */
const STATUS_NO_STATUS = 0x00;
const GROUP_DESCRIPTOR_LENGTH = 8;
const PORT_DESCRIPTOR_LENGTH = 4;

/** The parameter data of REPORT TARGET PORT GROUPS, untruncated. */
export function reportTargetPortGroupsData(groups: readonly TargetPortGroup[], extended: boolean): Buffer {
  const descriptors = groups.map((g) => {
    const d = Buffer.alloc(GROUP_DESCRIPTOR_LENGTH + PORT_DESCRIPTOR_LENGTH * g.relativePortIds.length);
    d[0] = g.state & 0x0f; // PREF 0: no group is preferred over another
    d[1] = SUPPORTED_STATES;
    d.writeUInt16BE(g.id & 0xffff, 2);
    d[5] = STATUS_NO_STATUS;
    d[7] = g.relativePortIds.length; // TARGET PORT COUNT
    g.relativePortIds.forEach((id, i) => d.writeUInt16BE(id & 0xffff, GROUP_DESCRIPTOR_LENGTH + PORT_DESCRIPTOR_LENGTH * i + 2));
    return d;
  });
  const body = Buffer.concat(descriptors);
  const header = Buffer.alloc(extended ? 8 : 4);
  // RETURN DATA LENGTH counts the descriptors only, in both formats (n-3 resp. n-7).
  header.writeUInt32BE(body.length, 0);
  if (extended) {
    header[4] = EXTENDED_FORMAT_TYPE;
    header[5] = IMPLICIT_TRANSITION_TIME;
  }
  return Buffer.concat([header, body]);
}

/** SPC-4 §6.36 REPORT TARGET PORT GROUPS (MAINTENANCE IN, service action 0Ah). */
export function reportTargetPortGroups(ctx: CommandContext): CommandResult {
  const { cdb } = ctx;
  const format = cdb[1]! >> 5;
  if (format !== ParameterDataFormat.LENGTH_ONLY && format !== ParameterDataFormat.EXTENDED) throw invalidCdbField(1, 7);
  const allocLength = cdb.readUInt32BE(6);
  const data = reportTargetPortGroupsData(targetPortGroupsOf(ctx.target, ctx.nexus), format === ParameterDataFormat.EXTENDED);
  return { data: truncate(data, allocLength) };
}
