/** Users and API tokens (admin only, except reading one's own identity at /api/me and managing one's own tokens). */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError } from '../auth/principal.ts';
import { Problems, StoreError } from '../store/errors.ts';
import { PASSWORD_MIN, passwordProblem } from '../store/names.ts';
import { hashPassword } from '../store/passwords.ts';
import { ApiToken, Formatted, IdParams, Label, Role, User, responses } from '../schemas.ts';
import { changeContext } from './common.ts';

const NewUser = Type.Object(
  { username: Formatted('username', { maxLength: 32 }), password: Type.String({ minLength: PASSWORD_MIN, maxLength: 1024 }), role: Role },
  { additionalProperties: false },
);
const NewPassword = Type.Object({ password: Type.String({ minLength: PASSWORD_MIN, maxLength: 1024 }) }, { additionalProperties: false });
// userId: whose role the token carries (e.g. a read-only user for monitoring); default the caller
const NewToken = Type.Object(
  { name: Label, userId: Type.Optional(Type.Integer({ minimum: 1 })) },
  { additionalProperties: false },
);

export async function userRoutes(app: FastifyInstance): Promise<void> {
  const { store } = app.openlun;

  app.get('/api/users', { config: { access: 'admin' }, schema: { tags: ['users'], response: responses({ 200: Type.Array(User) }) } }, async () => store.listUsers());

  app.post<{ Body: Static<typeof NewUser> }>('/api/users', { schema: { tags: ['users'], body: NewUser, response: responses({ 201: User }) } }, async (request, reply) => {
    const p = new Problems();
    p.check('password', passwordProblem(request.body.password));
    p.throwIfAny();
    const user = store.createUser(changeContext(request), request.body.username, request.body.role, await hashPassword(request.body.password));
    return reply.status(201).send(user);
  });

  app.put<{ Params: Static<typeof IdParams>; Body: Static<typeof NewPassword> }>('/api/users/:id/password', {
    schema: { tags: ['users'], params: IdParams, body: NewPassword, response: responses({ 204: Type.Null() }) },
  }, async (request, reply) => {
    const p = new Problems();
    p.check('password', passwordProblem(request.body.password));
    p.throwIfAny();
    store.getUser(request.params.id);
    store.setPassword(changeContext(request), request.params.id, await hashPassword(request.body.password));
    return reply.status(204).send();
  });

  app.delete<{ Params: Static<typeof IdParams> }>('/api/users/:id', { schema: { tags: ['users'], params: IdParams, response: responses({ 204: Type.Null() }) } }, async (request, reply) => {
    // an admin removing their own account would be signed out mid-task with no way back in; another admin does it
    if (request.params.id === request.principal!.user.id) throw new StoreError('conflict', 'you cannot delete your own account; another admin can');
    store.deleteUser(changeContext(request), request.params.id);
    return reply.status(204).send();
  });

  // Read-only users may list, create and revoke their OWN tokens (monitoring automation needs one); a token acts
  // with its user's role, so a read-only user's token is read-only. Admins see and manage everyone's.
  const isAdmin = (request: FastifyRequest): boolean => request.principal!.user.role === 'admin';
  app.get('/api/tokens', { config: { access: 'read' }, schema: { tags: ['tokens'], response: responses({ 200: Type.Array(ApiToken) }) } }, async (request) =>
    isAdmin(request) ? store.listTokens() : store.listTokens().filter((t) => t.userId === request.principal!.user.id));

  // the token text is returned once, here; only its hash is stored
  app.post<{ Body: Static<typeof NewToken> }>('/api/tokens', {
    config: { access: 'read' },
    schema: { tags: ['tokens'], body: NewToken, response: responses({ 201: Type.Object({ token: ApiToken, secret: Type.String() }) }) },
  }, async (request, reply) => {
    const me = request.principal!.user;
    if (!isAdmin(request) && request.body.userId !== undefined && request.body.userId !== me.id) {
      throw new HttpError(403, 'forbidden', `${me.role} users may create tokens only for themselves`);
    }
    const created = store.createToken(changeContext(request), request.body.userId ?? request.principal!.user.id, request.body.name);
    return reply.status(201).send(created);
  });

  app.delete<{ Params: Static<typeof IdParams> }>('/api/tokens/:id', {
    config: { access: 'read' },
    schema: { tags: ['tokens'], params: IdParams, response: responses({ 204: Type.Null() }) },
  }, async (request, reply) => {
    // someone else's token reads as "not found" to a read-only user: its existence is none of their business
    if (!isAdmin(request) && store.getToken(request.params.id).userId !== request.principal!.user.id) throw new StoreError('not-found', `token ${request.params.id} not found`);
    store.deleteToken(changeContext(request), request.params.id);
    return reply.status(204).send();
  });
}
