/** LUNs: file-backed (a sparse file in the file pool) or LV-backed (a device path the lvm/ module created). */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { Formatted, IdParams, IntEnum, Lun, StringEnum, responses } from '../schemas.ts';
import { changeContext } from './common.ts';

const WriteCache = StringEnum(['write-back', 'write-through']);
const NewLun = Type.Object(
  {
    name: Formatted('pool-name', { maxLength: 64 }),
    backing: StringEnum(['file', 'lv']),
    lvPath: Type.Optional(Formatted('lv-path')),
    sizeBytes: Type.Integer({ minimum: 512, maximum: Number.MAX_SAFE_INTEGER }),
    // SBC-4 §6.6 (READ CAPACITY): the logical block length the LUN reports; 512 and 4096 are what initiators expect
    blockSize: IntEnum([512, 4096]),
    readOnly: Type.Optional(Type.Boolean()),
    writeCache: Type.Optional(WriteCache),
  },
  { additionalProperties: false },
);
const LunPatch = Type.Object(
  { sizeBytes: Type.Optional(Type.Integer({ minimum: 512, maximum: Number.MAX_SAFE_INTEGER })), readOnly: Type.Optional(Type.Boolean()), writeCache: Type.Optional(WriteCache) },
  { additionalProperties: false, minProperties: 1 },
);
const DeleteQuery = Type.Object({ force: Type.Optional(Type.Boolean()), deleteData: Type.Optional(Type.Boolean()) }, { additionalProperties: false });

export async function lunRoutes(app: FastifyInstance): Promise<void> {
  const { store } = app.openlun;

  app.get('/api/luns', { schema: { tags: ['luns'], response: responses({ 200: Type.Array(Lun) }) } }, async () => store.listLuns());
  app.get<{ Params: Static<typeof IdParams> }>('/api/luns/:id', { schema: { tags: ['luns'], params: IdParams, response: responses({ 200: Lun }) } }, async (request) => store.getLun(request.params.id));
  app.post<{ Body: Static<typeof NewLun> }>('/api/luns', { schema: { tags: ['luns'], body: NewLun, response: responses({ 201: Lun }) } }, async (request, reply) =>
    reply.status(201).send(store.createLun(changeContext(request), request.body)),
  );
  app.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof LunPatch> }>('/api/luns/:id', {
    schema: { tags: ['luns'], params: IdParams, body: LunPatch, response: responses({ 200: Lun }) },
  }, async (request) => store.updateLun(changeContext(request), request.params.id, request.body));
  // a mapped LUN is refused (409) unless ?force=true; the pool file is kept unless ?deleteData=true
  app.delete<{ Params: Static<typeof IdParams>; Querystring: Static<typeof DeleteQuery> }>('/api/luns/:id', {
    schema: { tags: ['luns'], params: IdParams, querystring: DeleteQuery, response: responses({ 204: Type.Null() }) },
  }, async (request, reply) => {
    store.deleteLun(changeContext(request), request.params.id, request.query);
    return reply.status(204).send();
  });
}
