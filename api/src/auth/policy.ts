/**
 * Authentication and authorization policy, in one table so a reviewer reads it at a glance.
 */
export const AUTH_POLICY = {
  sessionCookie: 'openlun_session',
  csrfCookie: 'openlun_csrf',
  csrfHeader: 'x-csrf-token',
  sessionTtlMs: 8 * 60 * 60 * 1000,
  // per client address: 10 attempts per 15 minutes
  loginMaxAttemptsPerIp: 10,
  loginWindowMs: 15 * 60 * 1000,
  // per account: 5 consecutive failures lock it for 15 minutes
  lockAfterFailures: 5,
  lockMs: 15 * 60 * 1000,
} as const;

/** Who may call a route: 'public' (setup, login, health), 'read' (any signed-in role), 'admin'. */
export type Access = 'public' | 'read' | 'admin';

export const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
