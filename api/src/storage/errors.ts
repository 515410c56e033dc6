/**
 * lvm/'s typed errors as HTTP answers: the status follows the error's code, the message is lvm2's own words (or the
 * refusal's sentence), so the admin reads what lvm2 said rather than a paraphrase.
 */
import { StorageError, ToolError } from '../../../lvm/src/errors.ts';
import type { StorageErrorCode } from '../../../lvm/src/errors.ts';

const STATUS = {
  'invalid-name': 400,
  refused: 409,
  'in-use': 409,
  'not-found': 404,
  exists: 409,
  'no-space': 409,
  aborted: 409,
  // lvm2 ran and said no for a reason we do not classify: the request was understood but cannot be done
  'tool-failed': 422,
  unsupported: 422,
  'lock-timeout': 503,
  timeout: 503,
  'tool-missing': 503,
  parse: 502,
} as const satisfies Record<StorageErrorCode, number>;

export interface StorageErrorReply {
  status: number;
  body: { error: string; message: string; tool?: { argv: string[]; exitCode: number | null } };
}

export function storageErrorReply(e: StorageError): StorageErrorReply {
  const body: StorageErrorReply['body'] = { error: e.code, message: e.message };
  if (e instanceof ToolError) body.tool = { argv: [...e.argv], exitCode: e.exitCode };
  return { status: STATUS[e.code], body };
}

export { StorageError };
