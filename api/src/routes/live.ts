/** Live state from the target daemon's control socket: sessions and per-LUN counters (never secrets). */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { HttpError } from '../auth/principal.ts';
import { ErrorBody, responses } from '../schemas.ts';
import { changeContext } from './common.ts';
import { TargetControlError, type TargetClient } from '../target-client.ts';

const Session = Type.Object({
  tsih: Type.Integer(),
  kind: Type.String(),
  initiatorName: Type.String(),
  isid: Type.String(),
  target: Type.Optional(Type.String()),
  remote: Type.String(),
  portal: Type.String(),
  since: Type.String(),
  params: Type.Record(Type.String(), Type.Unknown()),
  tasks: Type.Integer(),
});
const LunCounters = Type.Object({
  lun: Type.Integer(),
  backstore: Type.Optional(Type.String()),
  readOps: Type.Integer(),
  writeOps: Type.Integer(),
  otherOps: Type.Integer(),
  readBytes: Type.Integer(),
  writeBytes: Type.Integer(),
  errors: Type.Integer(),
  inFlight: Type.Integer(),
  latency: Type.Object({ bucketsUs: Type.Array(Type.Number()), counts: Type.Array(Type.Integer()), sumUs: Type.Number() }),
});
const Stats = Type.Array(Type.Object({ target: Type.String(), luns: Type.Array(LunCounters) }));

async function ask<T>(target: TargetClient, op: string, params: Record<string, unknown> = {}): Promise<T> {
  try {
    return await target.request<T>(op, params);
  } catch (err) {
    if (err instanceof TargetControlError && err.code === 'not-found') throw new HttpError(404, 'not-found', err.message);
    if (err instanceof TargetControlError) throw new HttpError(503, 'target-unavailable', err.message);
    throw err;
  }
}

// RFC 7143 §11.12.3: TSIH 0 is "new session"; a live session has 1-65535
const TsihParams = Type.Object({ tsih: Type.Integer({ minimum: 1, maximum: 0xffff }) }, { additionalProperties: false });

export function liveRoutes(target: TargetClient) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/api/sessions', { schema: { tags: ['live'], summary: 'iSCSI sessions logged in now', response: { ...responses({ 200: Type.Array(Session) }), 503: ErrorBody } } }, async () =>
      (await ask<{ sessions: unknown[] }>(target, 'sessions')).sessions,
    );
    app.delete<{ Params: { tsih: number } }>(
      '/api/sessions/:tsih',
      {
        schema: {
          tags: ['live'],
          summary: 'end an iSCSI session (admin)',
          description:
            'The initiator is asked to log out (RFC 7143 §11.9.1 Async Message, 2 s) and its connection is dropped if it does not. ' +
            'It may log in again while the ACL admits it: to keep it out, change the ACL.',
          params: TsihParams,
          response: { ...responses({ 204: Type.Null() }), 503: ErrorBody },
        },
      },
      async (request, reply) => {
        const { tsih } = request.params;
        const who = (await ask<{ sessions: Array<{ tsih: number; initiatorName: string; target?: string; remote: string }> }>(target, 'sessions')).sessions.find((s) => s.tsih === tsih);
        if (!who) throw new HttpError(404, 'not-found', `no session with TSIH ${tsih}`);
        const done = await ask<{ ended: string }>(target, 'endSession', { tsih });
        app.openlun.store.audit(changeContext(request), 'session.end', `session ${tsih}`, {
          initiator: who.initiatorName,
          target: who.target ?? null,
          remote: who.remote,
          ended: done.ended,
        });
        return reply.status(204).send();
      },
    );
    app.get('/api/stats', { schema: { tags: ['live'], summary: 'per-LUN counters since the target started', response: { ...responses({ 200: Stats }), 503: ErrorBody } } }, async () =>
      (await ask<{ targets: unknown[] }>(target, 'stats')).targets,
    );
  };
}
