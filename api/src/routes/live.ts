/** Live state from the target daemon's control socket: sessions and per-LUN counters (never secrets). */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { HttpError } from '../auth/principal.ts';
import { ErrorBody, responses } from '../schemas.ts';
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

async function ask<T>(target: TargetClient, op: string): Promise<T> {
  try {
    return await target.request<T>(op);
  } catch (err) {
    if (err instanceof TargetControlError) throw new HttpError(503, 'target-unavailable', err.message);
    throw err;
  }
}

export function liveRoutes(target: TargetClient) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/api/sessions', { schema: { tags: ['live'], summary: 'iSCSI sessions logged in now', response: { ...responses({ 200: Type.Array(Session) }), 503: ErrorBody } } }, async () =>
      (await ask<{ sessions: unknown[] }>(target, 'sessions')).sessions,
    );
    app.get('/api/stats', { schema: { tags: ['live'], summary: 'per-LUN counters since the target started', response: { ...responses({ 200: Stats }), 503: ErrorBody } } }, async () =>
      (await ask<{ targets: unknown[] }>(target, 'stats')).targets,
    );
  };
}
