/** LUNs: file-backed (a sparse file in the file pool) or LV-backed (a device path the lvm/ module created). */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { Formatted, IdParams, IntEnum, Lun, LunPreset, StringEnum, responses } from '../schemas.ts';
import { Problems } from '../store/errors.ts';
import { changeContext } from './common.ts';

const WriteCache = StringEnum(['write-back', 'write-through']);
const NewLun = Type.Object(
  {
    name: Formatted('pool-name', { maxLength: 64 }),
    backing: StringEnum(['file', 'lv']),
    lvPath: Type.Optional(Formatted('lv-path')),
    // backing 'lv' with vg (instead of lvPath): the LV is created here, thin in `pool` when given, linear otherwise
    vg: Type.Optional(Type.String({ minLength: 1, maxLength: 127 })),
    pool: Type.Optional(Type.String({ minLength: 1, maxLength: 127 })),
    sizeBytes: Type.Integer({ minimum: 512, maximum: Number.MAX_SAFE_INTEGER }),
    // SBC-4 §6.6 (READ CAPACITY): the logical block length the LUN reports; 512 and 4096 are what initiators expect
    blockSize: IntEnum([512, 4096]),
    readOnly: Type.Optional(Type.Boolean()),
    writeCache: Type.Optional(WriteCache),
    preset: Type.Optional(LunPreset),
  },
  { additionalProperties: false },
);
const LunPatch = Type.Object(
  { sizeBytes: Type.Optional(Type.Integer({ minimum: 512, maximum: Number.MAX_SAFE_INTEGER })), readOnly: Type.Optional(Type.Boolean()), writeCache: Type.Optional(WriteCache), preset: Type.Optional(LunPreset) },
  { additionalProperties: false, minProperties: 1 },
);
const DeleteQuery = Type.Object({ force: Type.Optional(Type.Boolean()), deleteData: Type.Optional(Type.Boolean()) }, { additionalProperties: false });

export async function lunRoutes(app: FastifyInstance): Promise<void> {
  const { store, storage } = app.openlun;

  app.get('/api/luns', { schema: { tags: ['luns'], response: responses({ 200: Type.Array(Lun) }) } }, async () => store.listLuns());
  app.get<{ Params: Static<typeof IdParams> }>('/api/luns/:id', { schema: { tags: ['luns'], params: IdParams, response: responses({ 200: Lun }) } }, async (request) => store.getLun(request.params.id));
  app.post<{ Body: Static<typeof NewLun> }>('/api/luns', { schema: { tags: ['luns'], body: NewLun, response: responses({ 201: Lun }) } }, async (request, reply) => {
    const { vg, pool, ...lun } = request.body;
    if (vg === undefined && pool === undefined) return reply.status(201).send(store.createLun(changeContext(request), lun));
    const p = new Problems();
    if (lun.backing !== 'lv') p.check(vg !== undefined ? 'vg' : 'pool', 'is only for lv-backed LUNs');
    if (lun.lvPath !== undefined) p.check('lvPath', 'and vg exclude each other (lvPath adopts an existing LV, vg creates one)');
    if (vg === undefined) p.check('vg', 'is required with pool');
    p.throwIfAny();
    const created = await storage.createLvLun(changeContext(request), { ...lun, vg: vg!, ...(pool !== undefined ? { pool } : {}) });
    return reply.status(201).send(lun.preset != null ? store.updateLun(changeContext(request), created.id, { preset: lun.preset }) : created);
  });
  app.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof LunPatch> }>('/api/luns/:id', {
    schema: { tags: ['luns'], params: IdParams, body: LunPatch, response: responses({ 200: Lun }) },
  }, async (request) => storage.updateLun(changeContext(request), request.params.id, request.body));
  // a mapped LUN is refused (409) unless ?force=true; the pool file is kept unless ?deleteData=true
  app.delete<{ Params: Static<typeof IdParams>; Querystring: Static<typeof DeleteQuery> }>('/api/luns/:id', {
    schema: { tags: ['luns'], params: IdParams, querystring: DeleteQuery, response: responses({ 204: Type.Null() }) },
  }, async (request, reply) => {
    await storage.deleteLun(changeContext(request), request.params.id, request.query);
    return reply.status(204).send();
  });
}
