/**
 * Snapshots of LUNs (file-backed and LV-backed alike), rollback, clone into a new LUN, and snapshot schedules with
 * retention (issue 5). Changes are admin-only (the auth hook) and audited by the storage backend.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ErrorBody, Formatted, Id, IdParams, Lun, StringEnum, responses } from '../schemas.ts';
import { MAX_KEEP, MIN_EVERY_MINUTES, PRESETS } from '../storage/schedules.ts';
import type { Preset } from '../storage/schedules.ts';
import { StoreError } from '../store/errors.ts';
import { changeContext } from './common.ts';

const SnapName = Type.String({ minLength: 1, maxLength: 64 });
const Snapshot = Type.Object({
  name: Type.String(),
  lunId: Type.Integer(),
  kind: StringEnum(['file', 'thin', 'thick']),
  sizeBytes: Type.Integer(),
  cowBytes: Type.Union([Type.Integer(), Type.Null()]),
  cowPercent: Type.Union([Type.Number(), Type.Null()]),
  createdAt: Type.Union([Type.Integer(), Type.Null()]),
  scheduleId: Type.Union([Type.Integer(), Type.Null()]),
});
const NewSnapshot = Type.Object({ name: SnapName, sizeBytes: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })) }, { additionalProperties: false });
const SnapParams = Type.Object({ id: Id, snap: SnapName }, { additionalProperties: false });
const RollbackQuery = Type.Object({ force: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
const RollbackResult = Type.Object({ lun: Lun, snapshot: Type.String(), consumed: Type.Boolean() });
const CloneBody = Type.Object({ name: Formatted('pool-name', { maxLength: 64 }) }, { additionalProperties: false });

const Schedule = Type.Object({
  id: Type.Integer(),
  lunId: Type.Integer(),
  everyMinutes: Type.Integer(),
  preset: Type.Union([StringEnum(Object.keys(PRESETS) as Preset[]), Type.Null()]),
  keep: Type.Integer(),
  sizeBytes: Type.Union([Type.Integer(), Type.Null()]),
  createdAt: Type.Integer(),
  lastRunAt: Type.Union([Type.Integer(), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
  nextRunAt: Type.Integer(),
});
// everyMinutes: a number (>= 5) or one of the presets, as the contract has it; `preset` is the same thing spelled out
const NewSchedule = Type.Object({
  lunId: Id,
  everyMinutes: Type.Optional(Type.Union([Type.Integer({ minimum: MIN_EVERY_MINUTES, maximum: 366 * 24 * 60 }), StringEnum(Object.keys(PRESETS) as Preset[])])),
  preset: Type.Optional(StringEnum(Object.keys(PRESETS) as Preset[])),
  keep: Type.Integer({ minimum: 1, maximum: MAX_KEEP }),
  sizeBytes: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
}, { additionalProperties: false });

const more = { 422: ErrorBody, 503: ErrorBody };

export async function snapshotRoutes(app: FastifyInstance): Promise<void> {
  const { store, storage, schedules } = app.openlun;
  const tags = ['snapshots'];

  app.get<{ Params: Static<typeof IdParams> }>('/api/luns/:id/snapshots', {
    schema: { tags, params: IdParams, response: { ...responses({ 200: Type.Array(Snapshot) }), ...more } },
  }, async (request) => storage.listSnapshots(request.params.id));
  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof NewSnapshot> }>('/api/luns/:id/snapshots', {
    schema: {
      tags, summary: 'take a snapshot (thin LV: thin snapshot; linear LV: COW snapshot of sizeBytes; file: a sparse copy)',
      params: IdParams, body: NewSnapshot, response: { ...responses({ 201: Snapshot }), ...more },
    },
  }, async (request, reply) => {
    const { name, sizeBytes } = request.body;
    const snap = await storage.createSnapshot(changeContext(request), request.params.id, name, sizeBytes !== undefined ? { sizeBytes } : {});
    return reply.status(201).send(snap);
  });
  app.post<{ Params: Static<typeof SnapParams>; Querystring: Static<typeof RollbackQuery> }>('/api/luns/:id/snapshots/:snap/rollback', {
    schema: {
      tags, summary: 'put the LUN back to the snapshot (offline meanwhile; same serial and NAA id); refused while initiators are logged in unless force=true',
      params: SnapParams, querystring: RollbackQuery, response: { ...responses({ 200: RollbackResult }), ...more },
    },
  }, async (request) => {
    const { id, snap } = request.params;
    const r = await storage.rollback(changeContext(request), id, snap, { force: request.query.force === true });
    return { lun: store.getLun(id), snapshot: snap, consumed: r.consumed };
  });
  app.post<{ Params: Static<typeof SnapParams>; Body: Static<typeof CloneBody> }>('/api/luns/:id/snapshots/:snap/clone', {
    schema: { tags, summary: 'a new LUN (new identity) holding the snapshot\'s data', params: SnapParams, body: CloneBody, response: { ...responses({ 201: Lun }), ...more } },
  }, async (request, reply) => reply.status(201).send(await storage.cloneSnapshot(changeContext(request), request.params.id, request.params.snap, request.body.name)));
  app.delete<{ Params: Static<typeof SnapParams> }>('/api/luns/:id/snapshots/:snap', {
    schema: { tags, params: SnapParams, response: { ...responses({ 204: Type.Null() }), ...more } },
  }, async (request, reply) => {
    await storage.deleteSnapshot(changeContext(request), request.params.id, request.params.snap);
    return reply.status(204).send();
  });

  app.get('/api/snapshot-schedules', { schema: { tags, response: responses({ 200: Type.Array(Schedule) }) } }, async () => schedules.list());
  app.post<{ Body: Static<typeof NewSchedule> }>('/api/snapshot-schedules', {
    schema: { tags, summary: 'snapshot a LUN every N minutes (>= 5) or hourly/daily/weekly, keeping the newest `keep`', body: NewSchedule, response: responses({ 201: Schedule }) },
  }, async (request, reply) => {
    const { lunId, everyMinutes, preset, keep, sizeBytes } = request.body;
    if (typeof everyMinutes === 'string' && preset !== undefined) throw new StoreError('invalid', 'give everyMinutes or preset, not both', [{ field: 'preset', message: 'preset and everyMinutes both given' }]);
    const p = typeof everyMinutes === 'string' ? everyMinutes : preset;
    const s = schedules.create(changeContext(request), {
      lunId, keep, ...(p !== undefined ? { preset: p } : {}), ...(typeof everyMinutes === 'number' ? { everyMinutes } : {}), ...(sizeBytes !== undefined ? { sizeBytes } : {}),
    });
    return reply.status(201).send(s);
  });
  app.delete<{ Params: Static<typeof IdParams> }>('/api/snapshot-schedules/:id', { schema: { tags, params: IdParams, response: responses({ 204: Type.Null() }) } }, async (request, reply) => {
    schedules.delete(changeContext(request), request.params.id);
    return reply.status(204).send();
  });
}
