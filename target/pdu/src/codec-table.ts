/** Opcode → codec (RFC 7143 §11.2.1.2). Opcodes not in the table are not iSCSI PDUs this package knows. */
import { OPCODE_MASK } from './bhs.ts';
import { asyncMessageCodec } from './codecs/async-message.ts';
import type { PduCodec } from './codecs/codec.ts';
import { dataInCodec } from './codecs/data-in.ts';
import { dataOutCodec } from './codecs/data-out.ts';
import { loginRequestCodec } from './codecs/login-request.ts';
import { loginResponseCodec } from './codecs/login-response.ts';
import { logoutRequestCodec } from './codecs/logout-request.ts';
import { logoutResponseCodec } from './codecs/logout-response.ts';
import { nopInCodec } from './codecs/nop-in.ts';
import { nopOutCodec } from './codecs/nop-out.ts';
import { r2tCodec } from './codecs/r2t.ts';
import { rejectCodec } from './codecs/reject.ts';
import { scsiCommandCodec } from './codecs/scsi-command.ts';
import { scsiResponseCodec } from './codecs/scsi-response.ts';
import { snackRequestCodec } from './codecs/snack-request.ts';
import { taskManagementRequestCodec } from './codecs/task-management-request.ts';
import { taskManagementResponseCodec } from './codecs/task-management-response.ts';
import { textRequestCodec } from './codecs/text-request.ts';
import { textResponseCodec } from './codecs/text-response.ts';
import { Opcode, type Pdu } from './types.ts';

export const PDU_CODECS = {
  [Opcode.NopOut]: nopOutCodec,
  [Opcode.ScsiCommand]: scsiCommandCodec,
  [Opcode.TaskManagementRequest]: taskManagementRequestCodec,
  [Opcode.LoginRequest]: loginRequestCodec,
  [Opcode.TextRequest]: textRequestCodec,
  [Opcode.DataOut]: dataOutCodec,
  [Opcode.LogoutRequest]: logoutRequestCodec,
  [Opcode.SnackRequest]: snackRequestCodec,
  [Opcode.NopIn]: nopInCodec,
  [Opcode.ScsiResponse]: scsiResponseCodec,
  [Opcode.TaskManagementResponse]: taskManagementResponseCodec,
  [Opcode.LoginResponse]: loginResponseCodec,
  [Opcode.TextResponse]: textResponseCodec,
  [Opcode.DataIn]: dataInCodec,
  [Opcode.LogoutResponse]: logoutResponseCodec,
  [Opcode.R2T]: r2tCodec,
  [Opcode.AsyncMessage]: asyncMessageCodec,
  [Opcode.Reject]: rejectCodec,
} as const satisfies { [K in Pdu['opcode']]: PduCodec<Extract<Pdu, { opcode: K }>> };

/** Dense lookup for the hot path: the opcode is 6 bits. */
const BY_OPCODE: ReadonlyArray<PduCodec<Pdu> | undefined> = (() => {
  const table: Array<PduCodec<Pdu> | undefined> = new Array<PduCodec<Pdu> | undefined>(OPCODE_MASK + 1).fill(undefined);
  for (const codec of Object.values(PDU_CODECS)) table[codec.opcode] = codec as unknown as PduCodec<Pdu>;
  return table;
})();

export function codecForOpcode(opcode: number): PduCodec<Pdu> | undefined {
  return BY_OPCODE[opcode & OPCODE_MASK];
}

export function isKnownOpcode(opcode: number): boolean {
  return opcode >= 0 && opcode <= OPCODE_MASK && BY_OPCODE[opcode] !== undefined;
}
