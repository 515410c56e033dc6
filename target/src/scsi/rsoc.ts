/** REPORT SUPPORTED OPERATION CODES (SPC-4 §6.35), generated from the opcode table. */
import type { CommandContext, CommandResult, CommandSpec, OpcodeSlot } from './command.ts';
import { hasServiceActions } from './command.ts';
import { truncate } from './cdb.ts';
import { invalidCdbField } from './sense.ts';

/** SPC-4 §6.35.1 Table 297 REPORTING OPTIONS. */
const ReportingOptions = { ALL: 0, ONE_OPCODE: 1, ONE_SERVICE_ACTION: 2, ONE_EITHER: 3 } as const;
/** SPC-4 §6.35.3 Table 301 SUPPORT field. */
const Support = { NOT_SUPPORTED: 0b001, SUPPORTED: 0b011 } as const;

export type OpcodeTable = ReadonlyMap<number, OpcodeSlot>;

/** Every supported (opcode, service action, spec), ascending. */
export function listCommands(table: OpcodeTable): { opcode: number; serviceAction?: number; spec: CommandSpec }[] {
  const out: { opcode: number; serviceAction?: number; spec: CommandSpec }[] = [];
  for (const opcode of [...table.keys()].sort((a, b) => a - b)) {
    const slot = table.get(opcode)!;
    if (hasServiceActions(slot)) {
      for (const sa of Object.keys(slot.serviceActions).map(Number).sort((a, b) => a - b)) {
        out.push({ opcode, serviceAction: sa, spec: slot.serviceActions[sa]! });
      }
    } else {
      out.push({ opcode, spec: slot });
    }
  }
  return out;
}

/** SPC-4 §6.35.4 command timeouts descriptor: length 0Ah, nominal and recommended seconds. */
function timeoutsDescriptor(spec: CommandSpec): Buffer {
  const d = Buffer.alloc(12);
  d.writeUInt16BE(0x0a, 0);
  d.writeUInt32BE(spec.timeout.nominal, 4);
  d.writeUInt32BE(spec.timeout.recommended, 8);
  return d;
}

/** The usage data as reported: the table's bits with the opcode (and service action) filled in. */
export function usageData(opcode: number, spec: CommandSpec, serviceAction?: number): Buffer {
  const u = Buffer.from(spec.usage);
  u[0] = opcode;
  if (serviceAction !== undefined) u[1] = (u[1]! & ~0x1f) | serviceAction;
  return u;
}

export function reportSupportedOperationCodes(table: OpcodeTable, ctx: CommandContext): CommandResult {
  const cdb = ctx.cdb;
  const rctd = (cdb[2]! & 0x80) !== 0;
  const options = cdb[2]! & 0x07;
  const requestedOpcode = cdb[3]!;
  const requestedSa = cdb.readUInt16BE(4);
  const allocLength = cdb.readUInt32BE(6);

  if (options === ReportingOptions.ALL) {
    const descriptors = listCommands(table).map(({ opcode, serviceAction, spec }) => {
      // SPC-4 §6.35.2 Table 299 command descriptor
      const d = Buffer.alloc(8);
      d[0] = opcode;
      d.writeUInt16BE(serviceAction ?? 0, 2);
      d[5] = (rctd ? 0x02 : 0) | (serviceAction !== undefined ? 0x01 : 0); // CTDP, SERVACTV
      d.writeUInt16BE(spec.cdbLength, 6);
      return rctd ? Buffer.concat([d, timeoutsDescriptor(spec)]) : d;
    });
    const body = Buffer.concat(descriptors);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(body.length, 0);
    return { data: truncate(Buffer.concat([header, body]), allocLength) };
  }

  let spec: CommandSpec | undefined;
  let sa: number | undefined;
  const slot = table.get(requestedOpcode);
  switch (options) {
    case ReportingOptions.ONE_OPCODE:
      // SPC-4 §6.35.1: asking for an opcode that has service actions this way is an invalid field.
      if (slot && hasServiceActions(slot)) throw invalidCdbField(3);
      spec = slot;
      break;
    case ReportingOptions.ONE_SERVICE_ACTION:
      if (slot && !hasServiceActions(slot)) throw invalidCdbField(3);
      sa = requestedSa;
      spec = slot && hasServiceActions(slot) ? slot.serviceActions[requestedSa] : undefined;
      break;
    case ReportingOptions.ONE_EITHER:
      if (slot && hasServiceActions(slot)) {
        sa = requestedSa;
        spec = slot.serviceActions[requestedSa];
      } else {
        spec = requestedSa === 0 ? slot : undefined;
      }
      break;
    default:
      throw invalidCdbField(2, 2);
  }
  // SPC-4 §6.35.3 Table 300 one-command parameter data
  const header = Buffer.alloc(4);
  if (!spec) {
    header[1] = Support.NOT_SUPPORTED;
    return { data: truncate(header, allocLength) };
  }
  header[1] = (rctd ? 0x80 : 0) | Support.SUPPORTED; // CTDP
  header.writeUInt16BE(spec.cdbLength, 2);
  const parts = [header, usageData(requestedOpcode, spec, sa)];
  if (rctd) parts.push(timeoutsDescriptor(spec));
  return { data: truncate(Buffer.concat(parts), allocLength) };
}
