/**
 * Health, first-run setup, login and logout. Setup chooses the admin password (there is no default password) and
 * works exactly once: the user table must be empty, checked inside the transaction that creates the admin.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AUTH_POLICY } from '../auth/policy.ts';
import { HttpError } from '../auth/principal.ts';
import { Problems } from '../store/errors.ts';
import { PASSWORD_MIN, passwordProblem } from '../store/names.ts';
import { DUMMY_HASH, hashPassword, verifyPassword } from '../store/passwords.ts';
import { ErrorBody, Formatted, User } from '../schemas.ts';
import { changeContext } from './common.ts';

const SetupBody = Type.Object(
  {
    username: Type.Optional(Formatted('username', { maxLength: 32 })),
    password: Type.String({ minLength: PASSWORD_MIN, maxLength: 1024 }),
  },
  { additionalProperties: false },
);
const LoginBody = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 32 }), password: Type.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);
const SessionInfo = Type.Object({ user: User, csrfToken: Type.String() });

export async function authRoutes(app: FastifyInstance): Promise<void> {
  const { store, limiter } = app.openlun;
  const cookieBase = () => ({ path: '/', sameSite: 'strict' as const, secure: app.openlun.secureCookies });

  function startSession(reply: FastifyReply, userId: number, ip: string): string {
    const s = store.createSession(userId, ip, AUTH_POLICY.sessionTtlMs);
    const maxAge = Math.floor(AUTH_POLICY.sessionTtlMs / 1000);
    reply.setCookie(AUTH_POLICY.sessionCookie, s.sessionId, { ...cookieBase(), httpOnly: true, maxAge });
    // readable by the UI's own script (to echo in X-CSRF-Token), never by another origin
    reply.setCookie(AUTH_POLICY.csrfCookie, s.csrfToken, { ...cookieBase(), httpOnly: false, maxAge });
    return s.csrfToken;
  }

  app.get('/api/health', {
    config: { access: 'public' },
    schema: { security: [], tags: ['system'], response: { 200: Type.Object({ status: Type.Literal('ok') }) } },
  }, async () => ({ status: 'ok' as const }));

  app.get('/api/setup', {
    config: { access: 'public' },
    schema: { security: [], tags: ['auth'], response: { 200: Type.Object({ setupRequired: Type.Boolean() }) } },
  }, async () => ({ setupRequired: store.userCount() === 0 }));

  app.post<{ Body: Static<typeof SetupBody> }>('/api/setup', {
    config: { access: 'public' },
    schema: { security: [], tags: ['auth'], body: SetupBody, response: { 201: SessionInfo, 400: ErrorBody, 409: ErrorBody } },
  }, async (request, reply) => {
    if (store.userCount() > 0) throw new HttpError(409, 'conflict', 'setup is already complete');
    const username = request.body.username ?? 'admin';
    const p = new Problems();
    p.check('password', passwordProblem(request.body.password));
    p.throwIfAny();
    const hash = await hashPassword(request.body.password);
    const user = store.createUser(changeContext(request, username), username, 'admin', hash, { onlyIfNoUsers: true });
    const csrfToken = startSession(reply, user.id, request.ip);
    return reply.status(201).send({ user, csrfToken });
  });

  app.post<{ Body: Static<typeof LoginBody> }>('/api/login', {
    config: { access: 'public' },
    schema: { security: [], tags: ['auth'], body: LoginBody, response: { 200: SessionInfo, 401: ErrorBody, 429: ErrorBody } },
  }, async (request, reply) => {
    const wait = limiter.attempt(request.ip);
    if (wait > 0) {
      store.audit(changeContext(request, 'anonymous'), 'login.rate-limited', `user ${request.body.username}`);
      throw new HttpError(429, 'rate-limited', `too many login attempts from ${request.ip}; try again in ${Math.ceil(wait / 1000)} s`, { 'retry-after': String(Math.ceil(wait / 1000)) });
    }
    const { username, password } = request.body;
    const user = store.findUserByName(username);
    const now = store.now();
    if (user && user.lockedUntil > now) {
      const s = Math.ceil((user.lockedUntil - now) / 1000);
      store.audit(changeContext(request, 'anonymous'), 'login.locked', `user ${username}`);
      throw new HttpError(429, 'locked', `account locked after repeated failed logins; try again in ${s} s`, { 'retry-after': String(s) });
    }
    // verify against a dummy hash for unknown users: same cost, so timing does not reveal which names exist
    const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
    if (!user || !ok) {
      if (user) store.recordLoginFailure(user.id, AUTH_POLICY.lockAfterFailures, AUTH_POLICY.lockMs);
      store.audit(changeContext(request, 'anonymous'), 'login.failed', `user ${username}`);
      throw new HttpError(401, 'unauthenticated', 'wrong username or password');
    }
    store.recordLoginSuccess(user.id);
    store.audit(changeContext(request, user.username), 'login', `user ${user.username}`);
    const csrfToken = startSession(reply, user.id, request.ip);
    return { user: { id: user.id, username: user.username, role: user.role, createdAt: user.createdAt }, csrfToken };
  });

  app.post('/api/logout', {
    config: { access: 'read' },
    schema: { tags: ['auth'], response: { 204: Type.Null() } },
  }, async (request, reply) => {
    const sid = request.cookies[AUTH_POLICY.sessionCookie];
    if (sid) store.deleteSession(sid);
    store.audit(changeContext(request), 'logout', `user ${request.principal!.user.username}`);
    reply.clearCookie(AUTH_POLICY.sessionCookie, { ...cookieBase(), httpOnly: true });
    reply.clearCookie(AUTH_POLICY.csrfCookie, cookieBase());
    return reply.status(204).send();
  });

  app.get('/api/me', {
    schema: { tags: ['auth'], response: { 200: Type.Object({ user: User, via: Type.String() }) } },
  }, async (request) => ({ user: request.principal!.user, via: request.principal!.via }));
}
