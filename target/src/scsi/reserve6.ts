/**
 * SCSI-2 RESERVE(6)/(10) and RELEASE(6)/(10) (SPC-2 §7.21–7.24; obsolete in SPC-4 but ESXi sends RESERVE(6) when it
 * creates VMFS). The reservation belongs to one I_T nexus; third-party and extent reservations are not supported
 * (their CDB bits are reserved in the opcode table, so they are refused as invalid fields).
 * With persistent reservations present, SPC-4 §5.13.3 (CRH = 1) applies instead.
 */
import type { CommandContext, CommandResult } from './command.ts';
import { ReservationConflict } from './reservations.ts';
import { ScsiError } from './sense.ts';

export function reserve(ctx: CommandContext): CommandResult {
  if (!ctx.lu) throw new ScsiError('LOGICAL_UNIT_NOT_SUPPORTED');
  const pr = ctx.lu.reservations;
  const nexus = ctx.nexus;
  if (pr.registrations.length > 0 || pr.reservation) {
    // SPC-4 §5.13.3: a persistent reservation holder gets GOOD and nothing changes; anyone else, while any
    // registration or reservation exists, RESERVATION CONFLICT.
    if (pr.isHolder(nexus)) return {};
    throw new ReservationConflict('RESERVE while persistent reservations exist');
  }
  // SPC-2 §7.21.2: the holder may re-reserve; another nexus' RESERVE conflicts (device.ts checks that before).
  if (pr.scsi2Holder !== undefined && pr.scsi2Holder !== nexus.id) throw new ReservationConflict('reserved by another I_T nexus');
  pr.scsi2Holder = nexus.id;
  return {};
}

export function release(ctx: CommandContext): CommandResult {
  if (!ctx.lu) throw new ScsiError('LOGICAL_UNIT_NOT_SUPPORTED');
  const pr = ctx.lu.reservations;
  const nexus = ctx.nexus;
  if (pr.reservation && !pr.registrationOf(nexus)) {
    // SPC-4 §5.13.3: RELEASE from a nexus that is not registered while a PR exists conflicts; from a registrant
    // it is GOOD with no effect on the persistent reservation.
    throw new ReservationConflict('RELEASE from an unregistered I_T nexus while a persistent reservation exists');
  }
  // SPC-2 §7.23.2: only the holder's RELEASE releases; anyone else's is GOOD and changes nothing (libiscsi#21).
  if (pr.scsi2Holder === nexus.id) pr.scsi2Holder = undefined;
  return {};
}
