/** The shape of a command handler and of the opcode table's entries. */
import type { Nexus, ScsiRequest } from './types.ts';
import type { LogicalUnit } from './logical-unit.ts';

export interface CommandContext {
  req: ScsiRequest;
  cdb: Buffer;
  nexus: Nexus;
  /** Undefined only for the commands that answer without a logical unit (lunOptional). */
  lu: LogicalUnit | undefined;
  /** The target-level view the few target-wide commands need. */
  target: TargetView;
  /** Bytes of data-out the CDB calls for; handlers set it as soon as they know it (write residuals). */
  dataOutLength?: number;
}

export interface TargetView {
  targetName: string;
  /** Mapped LUN numbers, ascending. */
  lunNumbers(): number[];
  logicalUnit(lun: number): LogicalUnit | undefined;
}

export interface CommandResult {
  status?: number; // default GOOD
  data?: Buffer;
  dataOutLength?: number;
}

export type Handler = (ctx: CommandContext) => Promise<CommandResult> | CommandResult;

export type DataDirection = 'none' | 'in' | 'out';

/** One supported command (an opcode, or one service action of an opcode). */
export interface CommandSpec {
  name: string;
  cdbLength: 6 | 10 | 12 | 16;
  /**
   * CDB usage data (SPC-4 §6.35.3): byte 0 is the opcode; for service-action commands byte 1 holds the
   * service action; every other bit set is one the device server looks at. Bits clear are reserved and
   * a CDB that sets them is rejected with INVALID FIELD IN CDB (checked generically, before the handler).
   * The last byte is the CONTROL byte (SAM-5 §5.2): vendor bits only.
   */
  usage: readonly number[];
  /** Command timeouts descriptor (SPC-4 §6.35.4), in seconds. */
  timeout: { nominal: number; recommended: number };
  dataDirection: DataDirection;
  handler: Handler;
  /** Served with no logical unit behind the LUN (SPC-4 §4.6.4 INQUIRY/REQUEST SENSE, REPORT LUNS). */
  lunOptional?: boolean;
  /** Neither reports nor clears a unit attention (SAM-5 §5.14: INQUIRY, REPORT LUNS, REQUEST SENSE). */
  unitAttentionExempt?: boolean;
}

/** An opcode whose byte 1 bits 4..0 select a service action (SPC-4 §4.2.5.2). */
export interface ServiceActionOpcode {
  name: string;
  serviceActions: Readonly<Record<number, CommandSpec>>;
}

export type OpcodeSlot = CommandSpec | ServiceActionOpcode;

export function hasServiceActions(slot: OpcodeSlot): slot is ServiceActionOpcode {
  return 'serviceActions' in slot;
}

export const SERVICE_ACTION_MASK = 0x1f;
