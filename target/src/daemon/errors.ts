/** Errors the control socket returns as `{id, error: {code, message}}`; messages never hold a secret. */
export const CONTROL_ERROR_CODES = ['bad-request', 'unknown-op', 'invalid-state', 'in-use', 'not-found', 'backstore', 'portal', 'internal'] as const;
export type ControlErrorCode = (typeof CONTROL_ERROR_CODES)[number];

export class ControlError extends Error {
  constructor(
    readonly code: ControlErrorCode,
    message: string,
  ) {
    super(message);
  }
}
