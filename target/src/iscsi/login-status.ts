/**
 * Login response status codes, RFC 7143 §11.13.5. One table: every login failure in this
 * project names one of these entries instead of spelling out class/detail bytes.
 */

export interface LoginStatusCode {
  statusClass: number;
  statusDetail: number;
  description: string;
}

// RFC 7143 §11.13.5 — Status-Class / Status-Detail
export const LoginStatus = {
  Success: { statusClass: 0x00, statusDetail: 0x00, description: 'login is proceeding OK' },
  TargetMovedTemporarily: { statusClass: 0x01, statusDetail: 0x01, description: 'target moved temporarily' },
  TargetMovedPermanently: { statusClass: 0x01, statusDetail: 0x02, description: 'target moved permanently' },
  InitiatorError: { statusClass: 0x02, statusDetail: 0x00, description: 'initiator error' },
  AuthenticationFailure: { statusClass: 0x02, statusDetail: 0x01, description: 'authentication failure' },
  AuthorizationFailure: { statusClass: 0x02, statusDetail: 0x02, description: 'authorization failure' },
  NotFound: { statusClass: 0x02, statusDetail: 0x03, description: 'target not found' },
  TargetRemoved: { statusClass: 0x02, statusDetail: 0x04, description: 'target removed' },
  UnsupportedVersion: { statusClass: 0x02, statusDetail: 0x05, description: 'unsupported version' },
  TooManyConnections: { statusClass: 0x02, statusDetail: 0x06, description: 'too many connections' },
  MissingParameter: { statusClass: 0x02, statusDetail: 0x07, description: 'missing parameter' },
  CantIncludeInSession: { statusClass: 0x02, statusDetail: 0x08, description: "can't include in session" },
  SessionTypeNotSupported: { statusClass: 0x02, statusDetail: 0x09, description: 'session type not supported' },
  SessionDoesNotExist: { statusClass: 0x02, statusDetail: 0x0a, description: 'session does not exist' },
  InvalidDuringLogin: { statusClass: 0x02, statusDetail: 0x0b, description: 'invalid request type during login' },
  TargetError: { statusClass: 0x03, statusDetail: 0x00, description: 'target error' },
  ServiceUnavailable: { statusClass: 0x03, statusDetail: 0x01, description: 'service unavailable' },
  OutOfResources: { statusClass: 0x03, statusDetail: 0x02, description: 'out of resources' },
} as const satisfies Record<string, LoginStatusCode>;

export type LoginStatusName = keyof typeof LoginStatus;

/**
 * A login that must end with a non-success status. `reason` names the violation for the log;
 * it never contains a secret or a CHAP value.
 */
export class LoginFailure extends Error {
  readonly status: LoginStatusName;
  constructor(status: LoginStatusName, reason: string) {
    super(`${LoginStatus[status].description}: ${reason}`);
    this.name = 'LoginFailure';
    this.status = status;
  }
}
