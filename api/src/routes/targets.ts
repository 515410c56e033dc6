/** Targets and what hangs off them: portals, LUN mappings, ACLs (initiator groups allowed in), CHAP. */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { StoreError } from '../store/errors.ts';
import { ChapInfo, Formatted, Id, IdParams, IscsiName, Label, LunMapping, Portal, Target, TargetAcl, responses } from '../schemas.ts';
import { changeContext } from './common.ts';

const NewTarget = Type.Object({ iqn: IscsiName, alias: Type.Optional(Type.Union([Label, Type.Null()])) }, { additionalProperties: false });
const TargetPatch = Type.Object({ alias: Type.Union([Label, Type.Null()]) }, { additionalProperties: false });
const NewPortal = Type.Object(
  {
    targetId: Id,
    address: Formatted('ip-address', { maxLength: 45 }),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    // RFC 7143 §4.4.1: the portal group (of this target) the portal joins; default its lowest tag, group 1
    portalGroupId: Type.Optional(Id),
  },
  { additionalProperties: false },
);
const NewMapping = Type.Object({ targetId: Id, lun: Type.Integer({ minimum: 0, maximum: 1023 }), lunId: Id }, { additionalProperties: false });
const NewAcl = Type.Object({ targetId: Id, groupId: Id }, { additionalProperties: false });
const ByTarget = Type.Object({ targetId: Type.Optional(Id) }, { additionalProperties: false });
const TargetIdParams = Type.Object({ targetId: Id }, { additionalProperties: false });
// CHAP secrets: accepted here, stored sealed, never part of any response schema
const ChapSecret = Formatted('chap-secret');
const ChapUser = Formatted('chap-user', { maxLength: 223 });
const NewChap = Type.Object(
  { username: ChapUser, secret: ChapSecret, mutualUsername: Type.Optional(ChapUser), mutualSecret: Type.Optional(ChapSecret) },
  { additionalProperties: false },
);

// RFC 7143 §13.8: the well-known iSCSI port
const ISCSI_DEFAULT_PORT = 3260;

export async function targetRoutes(app: FastifyInstance): Promise<void> {
  const { store } = app.openlun;

  app.get('/api/targets', { schema: { tags: ['targets'], response: responses({ 200: Type.Array(Target) }) } }, async () => store.listTargets());
  app.get<{ Params: Static<typeof IdParams> }>('/api/targets/:id', { schema: { tags: ['targets'], params: IdParams, response: responses({ 200: Target }) } }, async (request) => store.getTarget(request.params.id));
  app.post<{ Body: Static<typeof NewTarget> }>('/api/targets', { schema: { tags: ['targets'], body: NewTarget, response: responses({ 201: Target }) } }, async (request, reply) =>
    reply.status(201).send(store.createTarget(changeContext(request), request.body.iqn, request.body.alias ?? null)),
  );
  app.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof TargetPatch> }>('/api/targets/:id', {
    schema: { tags: ['targets'], params: IdParams, body: TargetPatch, response: responses({ 200: Target }) },
  }, async (request) => store.updateTarget(changeContext(request), request.params.id, request.body));
  app.delete<{ Params: Static<typeof IdParams> }>('/api/targets/:id', { schema: { tags: ['targets'], params: IdParams, response: responses({ 204: Type.Null() }) } }, async (request, reply) => {
    store.deleteTarget(changeContext(request), request.params.id);
    return reply.status(204).send();
  });

  app.get<{ Querystring: Static<typeof ByTarget> }>('/api/portals', { schema: { tags: ['portals'], querystring: ByTarget, response: responses({ 200: Type.Array(Portal) }) } }, async (request) => store.listPortals(request.query.targetId));
  app.post<{ Body: Static<typeof NewPortal> }>('/api/portals', { schema: { tags: ['portals'], body: NewPortal, response: responses({ 201: Portal }) } }, async (request, reply) =>
    reply.status(201).send(store.createPortal(changeContext(request), request.body.targetId, request.body.address, request.body.port ?? ISCSI_DEFAULT_PORT, request.body.portalGroupId)),
  );
  app.delete<{ Params: Static<typeof IdParams> }>('/api/portals/:id', { schema: { tags: ['portals'], params: IdParams, response: responses({ 204: Type.Null() }) } }, async (request, reply) => {
    store.deletePortal(changeContext(request), request.params.id);
    return reply.status(204).send();
  });

  app.get<{ Querystring: Static<typeof ByTarget> }>('/api/mappings', { schema: { tags: ['mappings'], querystring: ByTarget, response: responses({ 200: Type.Array(LunMapping) }) } }, async (request) => store.listMappings(request.query.targetId));
  app.post<{ Body: Static<typeof NewMapping> }>('/api/mappings', { schema: { tags: ['mappings'], body: NewMapping, response: responses({ 201: LunMapping }) } }, async (request, reply) =>
    reply.status(201).send(store.createMapping(changeContext(request), request.body.targetId, request.body.lun, request.body.lunId)),
  );
  app.delete<{ Params: Static<typeof IdParams> }>('/api/mappings/:id', { schema: { tags: ['mappings'], params: IdParams, response: responses({ 204: Type.Null() }) } }, async (request, reply) => {
    store.deleteMapping(changeContext(request), request.params.id);
    return reply.status(204).send();
  });

  app.get<{ Querystring: Static<typeof ByTarget> }>('/api/acls', { schema: { tags: ['acls'], querystring: ByTarget, response: responses({ 200: Type.Array(TargetAcl) }) } }, async (request) => store.listAcls(request.query.targetId));
  app.post<{ Body: Static<typeof NewAcl> }>('/api/acls', { schema: { tags: ['acls'], body: NewAcl, response: responses({ 201: TargetAcl }) } }, async (request, reply) =>
    reply.status(201).send(store.createAcl(changeContext(request), request.body.targetId, request.body.groupId)),
  );
  app.delete<{ Params: Static<typeof IdParams> }>('/api/acls/:id', { schema: { tags: ['acls'], params: IdParams, response: responses({ 204: Type.Null() }) } }, async (request, reply) => {
    store.deleteAcl(changeContext(request), request.params.id);
    return reply.status(204).send();
  });

  app.get('/api/chap', { schema: { tags: ['chap'], response: responses({ 200: Type.Array(ChapInfo) }) } }, async () => store.listChap());
  app.put<{ Params: Static<typeof TargetIdParams>; Body: Static<typeof NewChap> }>('/api/chap/targets/:targetId', {
    schema: { tags: ['chap'], params: TargetIdParams, body: NewChap, response: responses({ 200: ChapInfo }) },
  }, async (request) => store.setChap(changeContext(request), request.params.targetId, request.body));
  app.delete<{ Params: Static<typeof TargetIdParams> }>('/api/chap/targets/:targetId', {
    schema: { tags: ['chap'], params: TargetIdParams, response: responses({ 204: Type.Null() }) },
  }, async (request, reply) => {
    store.deleteChap(changeContext(request), request.params.targetId);
    return reply.status(204).send();
  });
  app.put<{ Body: Static<typeof NewChap> }>('/api/chap/discovery', { schema: { tags: ['chap'], body: NewChap, response: responses({ 200: ChapInfo }) } }, async (request) =>
    store.setChap(changeContext(request), null, request.body),
  );
  app.delete('/api/chap/discovery', { schema: { tags: ['chap'], response: responses({ 204: Type.Null() }) } }, async (request, reply) => {
    if (!store.getChap(null)) throw new StoreError('not-found', 'no discovery CHAP is set');
    store.deleteChap(changeContext(request), null);
    return reply.status(204).send();
  });
}
