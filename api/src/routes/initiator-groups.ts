/** Initiator groups: the IQNs (and optionally networks) an ACL lets in. */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { Formatted, ForceQuery, IdParams, InitiatorGroup, IscsiName, Label, responses } from '../schemas.ts';
import { changeContext } from './common.ts';

const Initiators = Type.Array(IscsiName, { maxItems: 256 });
const Networks = Type.Array(Formatted('cidr', { maxLength: 49 }), { maxItems: 64 });
const NewGroup = Type.Object({ name: Label, initiators: Initiators, networks: Type.Optional(Networks) }, { additionalProperties: false });
const GroupPatch = Type.Object({ initiators: Type.Optional(Initiators), networks: Type.Optional(Networks) }, { additionalProperties: false, minProperties: 1 });

export async function initiatorGroupRoutes(app: FastifyInstance): Promise<void> {
  const { store } = app.openlun;

  app.get('/api/initiator-groups', { schema: { tags: ['acls'], response: responses({ 200: Type.Array(InitiatorGroup) }) } }, async () => store.listInitiatorGroups());
  app.get<{ Params: Static<typeof IdParams> }>('/api/initiator-groups/:id', { schema: { tags: ['acls'], params: IdParams, response: responses({ 200: InitiatorGroup }) } }, async (request) =>
    store.getInitiatorGroup(request.params.id),
  );
  app.post<{ Body: Static<typeof NewGroup> }>('/api/initiator-groups', { schema: { tags: ['acls'], body: NewGroup, response: responses({ 201: InitiatorGroup }) } }, async (request, reply) =>
    reply.status(201).send(store.createInitiatorGroup(changeContext(request), request.body)),
  );
  app.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof GroupPatch> }>('/api/initiator-groups/:id', {
    schema: { tags: ['acls'], params: IdParams, body: GroupPatch, response: responses({ 200: InitiatorGroup }) },
  }, async (request) => store.updateInitiatorGroup(changeContext(request), request.params.id, request.body));
  app.delete<{ Params: Static<typeof IdParams>; Querystring: Static<typeof ForceQuery> }>('/api/initiator-groups/:id', {
    schema: { tags: ['acls'], params: IdParams, querystring: ForceQuery, response: responses({ 204: Type.Null() }) },
  }, async (request, reply) => {
    store.deleteInitiatorGroup(changeContext(request), request.params.id, request.query);
    return reply.status(204).send();
  });
}
