import type { FastifyRequest } from 'fastify';
import type { ChangeContext } from '../store/types.ts';

/** The audit context of a request: the signed-in user (or the token's user) and the client address. */
export function changeContext(request: FastifyRequest, actor?: string): ChangeContext {
  const who = actor ?? (request.principal ? `${request.principal.user.username}${request.principal.via === 'token' ? ' (token)' : ''}` : 'anonymous');
  return { actor: who, ip: request.ip };
}
