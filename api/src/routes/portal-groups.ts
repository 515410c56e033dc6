/**
 * Portal groups of a target (RFC 7143 §4.4.1): each has a tag (TPGT, 1-65535, unique per target, §13.9) and the
 * ALUA access state of the target port group it is (SPC-4 §5.16: openlun maps one portal group to one target port
 * group). Every target has group 1 from its creation; portals join a group (POST /api/portals portalGroupId). A
 * state change reaches the running target at the next reconcile, live: RTPG reports it and every I_T nexus gets
 * ASYMMETRIC ACCESS STATE CHANGED (2Ah/06h), no session drops. Changes are admin-only (the auth hook: non-GET).
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { AluaState, Id, IdParams, PortalGroup, responses } from '../schemas.ts';
import { changeContext } from './common.ts';

const NewPortalGroup = Type.Object(
  {
    targetId: Id,
    // RFC 7143 §13.9 TargetPortalGroupTag: 16 bits; 0 is kept out (SPC-4 §7.8.6.8 target port group designator)
    tag: Type.Integer({ minimum: 1, maximum: 65535 }),
    aluaState: Type.Optional(AluaState),
  },
  { additionalProperties: false },
);
const PortalGroupPatch = Type.Object({ aluaState: AluaState }, { additionalProperties: false });
const ByTarget = Type.Object({ targetId: Type.Optional(Id) }, { additionalProperties: false });

export async function portalGroupRoutes(app: FastifyInstance): Promise<void> {
  const { store } = app.openlun;

  app.get<{ Querystring: Static<typeof ByTarget> }>('/api/portal-groups', {
    schema: { tags: ['portal-groups'], querystring: ByTarget, response: responses({ 200: Type.Array(PortalGroup) }) },
  }, async (request) => store.listPortalGroups(request.query.targetId));
  app.get<{ Params: Static<typeof IdParams> }>('/api/portal-groups/:id', {
    schema: { tags: ['portal-groups'], params: IdParams, response: responses({ 200: PortalGroup }) },
  }, async (request) => store.getPortalGroup(request.params.id));
  app.post<{ Body: Static<typeof NewPortalGroup> }>('/api/portal-groups', {
    schema: { tags: ['portal-groups'], body: NewPortalGroup, response: responses({ 201: PortalGroup }) },
  }, async (request, reply) => {
    const { targetId, tag, aluaState } = request.body;
    return reply.status(201).send(store.createPortalGroup(changeContext(request), targetId, tag, aluaState ?? 'active-optimized'));
  });
  app.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof PortalGroupPatch> }>('/api/portal-groups/:id', {
    schema: { tags: ['portal-groups'], params: IdParams, body: PortalGroupPatch, response: responses({ 200: PortalGroup }) },
  }, async (request) => store.updatePortalGroup(changeContext(request), request.params.id, request.body));
  // refused (409) while the group has portals or when it is the target's last group
  app.delete<{ Params: Static<typeof IdParams> }>('/api/portal-groups/:id', {
    schema: { tags: ['portal-groups'], params: IdParams, response: responses({ 204: Type.Null() }) },
  }, async (request, reply) => {
    store.deletePortalGroup(changeContext(request), request.params.id);
    return reply.status(204).send();
  });
}
