/**
 * Resolves who is calling (session cookie or Bearer token) and enforces the route's access level and CSRF.
 *
 * CSRF: requests authenticated by the session cookie that change state must carry the session's CSRF token in the
 * X-CSRF-Token header (synchronizer token bound to the session, also handed to the page in a non-HttpOnly cookie so
 * the UI can read it; a cross-site page can neither read the cookie nor set the header without a CORS preflight we
 * never answer). In addition, a request whose Origin header names another origin is refused before anything runs,
 * and SameSite=Strict keeps browsers from sending the cookie cross-site in the first place. Bearer tokens carry no
 * ambient authority (a browser never adds them), so they need no CSRF token.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Store } from '../store/store.ts';
import type { User } from '../store/types.ts';
import { AUTH_POLICY, SAFE_METHODS, type Access } from './policy.ts';

export interface Principal {
  user: User;
  via: 'session' | 'token';
  csrfToken?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyContextConfig {
    access?: Access;
  }
}

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function routeAccess(request: FastifyRequest): Access {
  const configured = request.routeOptions.config.access;
  if (configured) return configured;
  return SAFE_METHODS.has(request.method) ? 'read' : 'admin';
}

/** Origin check: browsers send Origin on cross-site requests; it must name this host. */
function originProblem(request: FastifyRequest): string | undefined {
  const origin = request.headers.origin;
  if (origin === undefined) return undefined;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return 'malformed Origin header';
  }
  return host === request.headers.host ? undefined : `cross-origin request from ${origin} refused`;
}

function resolvePrincipal(store: Store, request: FastifyRequest): Principal | undefined {
  const auth = request.headers.authorization;
  if (auth !== undefined) {
    const m = /^Bearer (\S+)$/.exec(auth);
    if (!m) throw new HttpError(401, 'unauthenticated', 'Authorization header must be "Bearer <token>"');
    const user = store.findUserByToken(m[1]!);
    if (!user) throw new HttpError(401, 'unauthenticated', 'invalid API token');
    return { user, via: 'token' };
  }
  const sid = request.cookies[AUTH_POLICY.sessionCookie];
  if (sid) {
    const s = store.findSession(sid);
    if (s) return { user: s.user, via: 'session', csrfToken: s.csrfToken };
  }
  return undefined;
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function makeAuthHook(store: Store) {
  return async function authenticate(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const unsafe = !SAFE_METHODS.has(request.method);
    if (unsafe) {
      const problem = originProblem(request);
      if (problem) throw new HttpError(403, 'csrf', problem);
    }
    const access = routeAccess(request);
    const principal = resolvePrincipal(store, request);
    if (principal) request.principal = principal;
    if (access === 'public') return;
    if (!principal) throw new HttpError(401, 'unauthenticated', 'sign in or present an API token');
    if (unsafe && principal.via === 'session') {
      const sent = request.headers[AUTH_POLICY.csrfHeader];
      if (typeof sent !== 'string' || !sameToken(sent, principal.csrfToken!)) {
        throw new HttpError(403, 'csrf', `missing or wrong ${AUTH_POLICY.csrfHeader} header`);
      }
    }
    if (access === 'admin' && principal.user.role !== 'admin') {
      throw new HttpError(403, 'forbidden', `${principal.user.role} users cannot make changes`);
    }
  };
}
