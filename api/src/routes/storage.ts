/**
 * Storage: which mode (LVM or the file pool) and, in LVM mode, disks, physical volumes, volume groups, logical
 * volumes and thin pools (issue 5). In file mode the LVM lists are empty and LVM changes answer 409. Reads for every signed-in user; changes for admins (the auth hook), each
 * audited, every name checked by lvm/'s rules before a command runs, lvm2's own message in the 4xx when it says no.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { StoreError } from '../store/errors.ts';
import { ErrorBody, responses } from '../schemas.ts';
import { filePoolInfo } from '../storage/backend.ts';
import { checkNames, deviceFields } from '../storage/validate.ts';
import type { PoolUsage, VgInfo } from '../../../lvm/src/index.ts';
import { changeContext } from './common.ts';

const Name = Type.String({ minLength: 1, maxLength: 127 });
const Device = Type.String({ minLength: 1, maxLength: 4096 });
const Bytes = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

const FilePool = Type.Object({ path: Type.String(), sizeBytes: Type.Integer(), freeBytes: Type.Integer(), usedBytes: Type.Integer() });
const Vg = Type.Object({
  name: Type.String(), uuid: Type.String(), size: Type.Integer(), free: Type.Integer(), extentSize: Type.Integer(),
  pvCount: Type.Integer(), lvCount: Type.Integer(), snapCount: Type.Integer(), missingPvCount: Type.Integer(), partial: Type.Boolean(),
  /** LUNs whose LVs live in this VG */
  luns: Type.Array(Type.String()),
});
const Pv = Type.Object({
  name: Type.String(), uuid: Type.String(), vg: Nullable(Type.String()), size: Type.Integer(), free: Type.Integer(),
  devSize: Type.Integer(), allocatedExtents: Type.Integer(), allocatable: Type.Boolean(), missing: Type.Boolean(),
});
const Partition = Type.Object({ name: Type.String(), path: Type.String(), size: Type.Integer(), fstype: Nullable(Type.String()), label: Nullable(Type.String()), mountpoints: Type.Array(Type.String()) });
const Disk = Type.Object({
  name: Type.String(), path: Type.String(), size: Type.Integer(), model: Nullable(Type.String()), serial: Nullable(Type.String()),
  vendor: Nullable(Type.String()), wwn: Nullable(Type.String()), transport: Nullable(Type.String()), rotational: Type.Boolean(),
  removable: Type.Boolean(), readOnly: Type.Boolean(), partitionTable: Nullable(Type.String()), partitions: Type.Array(Partition),
  signatures: Type.Array(Type.String()), mounted: Type.Array(Type.String()), isPv: Type.Boolean(), holders: Type.Array(Type.String()),
  system: Type.Boolean(), inUse: Type.Array(Type.String()), available: Type.Boolean(),
  smart: Type.Optional(Type.Union([Type.Object({ passed: Nullable(Type.Boolean()), temperatureC: Nullable(Type.Number()) }), Type.Null()])),
});
const Lv = Type.Object({
  name: Type.String(), vg: Type.String(), path: Nullable(Type.String()), size: Type.Integer(), kind: Type.String(), segtype: Type.String(),
  pool: Nullable(Type.String()), origin: Nullable(Type.String()), dataPercent: Nullable(Type.Number()), metadataPercent: Nullable(Type.Number()),
  active: Type.Boolean(), open: Type.Boolean(), merging: Type.Boolean(), time: Nullable(Type.String()),
  /** the LUN this LV backs, if any */
  lunId: Nullable(Type.Integer()),
});
const Pool = Type.Object({
  vg: Type.String(), name: Type.String(), sizeBytes: Type.Integer(), metadataBytes: Nullable(Type.Integer()), dataPercent: Type.Number(),
  metadataPercent: Type.Number(), usedBytes: Type.Integer(), thinVolumes: Type.Array(Type.String()), virtualBytes: Type.Integer(),
  /** sum of the thin volumes' virtual sizes / pool size: above 1 the pool is overcommitted */
  overcommit: Type.Number(),
  thresholds: Type.Object({ data: Type.Number(), metadata: Type.Number() }),
});
/** A thin pool as GET /api/storage/pools answers it (the CLI formats these). */
export type ThinPoolReply = Static<typeof Pool>;
const Summary = Type.Object({
  mode: Type.Union([Type.Literal('lvm'), Type.Literal('file')]),
  filePool: FilePool,
  vgs: Type.Array(Vg),
  softThresholdPercent: Type.Number(),
});
const SummaryPatch = Type.Object({ softThresholdPercent: Type.Number({ exclusiveMinimum: 0, maximum: 100 }) }, { additionalProperties: false });
const NewPv = Type.Object({ device: Device, wipe: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
const DeviceParams = Type.Object({ device: Device }, { additionalProperties: false });
const NewVg = Type.Object({ name: Name, devices: Type.Array(Device, { minItems: 1, maxItems: 64 }) }, { additionalProperties: false });
const VgPatch = Type.Object({
  addDevices: Type.Optional(Type.Array(Device, { minItems: 1, maxItems: 64 })),
  removeDevices: Type.Optional(Type.Array(Device, { minItems: 1, maxItems: 64 })),
  newName: Type.Optional(Name),
}, { additionalProperties: false, minProperties: 1 });
const NameParams = Type.Object({ name: Name }, { additionalProperties: false });
const VgQuery = Type.Object({ vg: Type.Optional(Name) }, { additionalProperties: false });
const DisksQuery = Type.Object({ probe: Type.Optional(Type.Boolean()), smart: Type.Optional(Type.Boolean()), loop: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
const NewPool = Type.Object({ vg: Name, name: Name, sizeBytes: Bytes, metadataBytes: Type.Optional(Bytes) }, { additionalProperties: false });
const PoolParams = Type.Object({ vg: Name, name: Name }, { additionalProperties: false });
const PoolPatch = Type.Object({ sizeBytes: Type.Optional(Bytes), metadataBytes: Type.Optional(Bytes) }, { additionalProperties: false, minProperties: 1 });

/** Errors lvm2 gives beyond the common ones (see storage/errors.ts). */
const storageResponses = (ok: Record<number, TSchema>) =>
  ({ ...responses(ok), 422: ErrorBody, 502: ErrorBody, 503: ErrorBody });

export async function storageRoutes(app: FastifyInstance): Promise<void> {
  const { store, storage } = app.openlun;
  const tags = ['storage'];
  const lunsInVg = (vg: string) => store.listLuns().filter((l) => l.backing === 'lv' && l.path.startsWith(`/dev/${vg}/`)).map((l) => l.name);
  const vgOut = (v: VgInfo) => ({ ...v, luns: lunsInVg(v.name) });

  app.get('/api/storage', { schema: { tags, summary: 'storage mode, file pool usage, volume groups, soft threshold', response: storageResponses({ 200: Summary }) } }, async () => ({
    mode: storage.mode,
    filePool: await filePoolInfo(store.pool.dir),
    vgs: storage.mode === 'lvm' ? (await storage.requireLvm().listVgs()).map(vgOut) : [],
    softThresholdPercent: storage.softThresholdPercent,
  }));
  app.patch<{ Body: Static<typeof SummaryPatch> }>('/api/storage', {
    schema: { tags, summary: 'the thin-provisioning soft threshold (percent) the target applies to every LUN', body: SummaryPatch, response: storageResponses({ 200: Summary }) },
  }, async (request) => {
    storage.setSoftThresholdPercent(changeContext(request), request.body.softThresholdPercent);
    return {
      mode: storage.mode, filePool: await filePoolInfo(store.pool.dir),
      vgs: storage.mode === 'lvm' ? (await storage.requireLvm().listVgs()).map(vgOut) : [], softThresholdPercent: storage.softThresholdPercent,
    };
  });

  // ---- disks and PVs
  app.get<{ Querystring: Static<typeof DisksQuery> }>('/api/storage/disks', {
    schema: { tags, summary: 'block devices; the system disk is flagged (system: true) and never available', querystring: DisksQuery, response: storageResponses({ 200: Type.Array(Disk) }) },
  }, async (request) => (storage.lvm ? storage.lvm.listDisks({ probe: request.query.probe ?? false, smart: request.query.smart ?? false, includeLoop: request.query.loop ?? false }) : []));
  app.get('/api/storage/pvs', { schema: { tags, response: storageResponses({ 200: Type.Array(Pv) }) } }, async () => (storage.lvm ? storage.lvm.listPvs() : []));
  app.post<{ Body: Static<typeof NewPv> }>('/api/storage/pvs', {
    schema: { tags, summary: 'initialize a disk as a physical volume (wipe: true to erase existing signatures)', body: NewPv, response: storageResponses({ 201: Pv }) },
  }, async (request, reply) => {
    const { device, wipe } = request.body;
    checkNames({ device: ['device', device] });
    const mgr = storage.requireLvm();
    const pv = await storage.audited(changeContext(request), 'storage.pv.create', `pv ${device}`, { wipe: !!wipe }, () => mgr.createPv(device, { confirmWipe: wipe === true }));
    return reply.status(201).send(pv);
  });
  app.delete<{ Params: Static<typeof DeviceParams> }>('/api/storage/pvs/:device', {
    schema: { tags, summary: 'remove a physical volume label (the device URL-encoded: %2Fdev%2Fsdb)', params: DeviceParams, response: storageResponses({ 204: Type.Null() }) },
  }, async (request, reply) => {
    const { device } = request.params;
    checkNames({ device: ['device', device] });
    const mgr = storage.requireLvm();
    await storage.audited(changeContext(request), 'storage.pv.remove', `pv ${device}`, {}, () => mgr.removePv(device));
    return reply.status(204).send();
  });

  // ---- VGs
  app.get('/api/storage/vgs', { schema: { tags, response: storageResponses({ 200: Type.Array(Vg) }) } }, async () => (storage.lvm ? (await storage.lvm.listVgs()).map(vgOut) : []));
  app.post<{ Body: Static<typeof NewVg> }>('/api/storage/vgs', { schema: { tags, body: NewVg, response: storageResponses({ 201: Vg }) } }, async (request, reply) => {
    const { name, devices } = request.body;
    checkNames({ name: ['VG', name], ...deviceFields('devices', devices) });
    const mgr = storage.requireLvm();
    const vg = await storage.audited(changeContext(request), 'storage.vg.create', `vg ${name}`, { devices }, () => mgr.createVg(name, devices));
    return reply.status(201).send(vgOut(vg));
  });
  app.patch<{ Params: Static<typeof NameParams>; Body: Static<typeof VgPatch> }>('/api/storage/vgs/:name', {
    schema: { tags, summary: 'add disks, remove disks, rename (in that order)', params: NameParams, body: VgPatch, response: storageResponses({ 200: Vg }) },
  }, async (request) => {
    const { name } = request.params;
    const { addDevices, removeDevices, newName } = request.body;
    checkNames({ name: ['VG', name], newName: ['VG', newName], ...deviceFields('addDevices', addDevices), ...deviceFields('removeDevices', removeDevices) });
    const mgr = storage.requireLvm();
    if (newName !== undefined && newName !== name && lunsInVg(name).length) {
      // a LUN's row names its device path /dev/<vg>/<lv>: a rename would leave those LUNs pointing at nothing
      throw new StoreError('in-use', `volume group ${name} holds LUNs (${lunsInVg(name).join(', ')}); it cannot be renamed under them`, [{ field: 'newName', message: 'the VG holds LUNs' }]);
    }
    let vg = await mgr.getVg(name);
    const ctx = changeContext(request);
    if (addDevices) vg = await storage.audited(ctx, 'storage.vg.extend', `vg ${name}`, { devices: addDevices }, () => mgr.extendVg(name, addDevices));
    if (removeDevices) vg = await storage.audited(ctx, 'storage.vg.reduce', `vg ${name}`, { devices: removeDevices }, () => mgr.reduceVg(name, removeDevices));
    if (newName !== undefined && newName !== name) vg = await storage.audited(ctx, 'storage.vg.rename', `vg ${name}`, { newName }, () => mgr.renameVg(name, newName));
    return vgOut(vg);
  });
  app.delete<{ Params: Static<typeof NameParams> }>('/api/storage/vgs/:name', {
    schema: { tags, summary: 'remove a volume group (refused while it holds LUNs or any LV)', params: NameParams, response: storageResponses({ 204: Type.Null() }) },
  }, async (request, reply) => {
    const { name } = request.params;
    checkNames({ name: ['VG', name] });
    const mgr = storage.requireLvm();
    const luns = lunsInVg(name);
    if (luns.length) throw new StoreError('in-use', `volume group ${name} holds LUNs (${luns.join(', ')}); delete them first`);
    await storage.audited(changeContext(request), 'storage.vg.remove', `vg ${name}`, {}, () => mgr.removeVg(name));
    return reply.status(204).send();
  });

  // ---- LVs and thin pools
  app.get<{ Querystring: Static<typeof VgQuery> }>('/api/storage/lvs', { schema: { tags, querystring: VgQuery, response: storageResponses({ 200: Type.Array(Lv) }) } }, async (request) => {
    checkNames({ vg: ['VG', request.query.vg] });
    const byPath = new Map(store.listLuns().filter((l) => l.backing === 'lv').map((l) => [l.path, l.id]));
    if (!storage.lvm) return [];
    return (await storage.lvm.listLvs(request.query.vg)).map((l) => ({ ...l, lunId: byPath.get(`/dev/${l.vg}/${l.name}`) ?? null }));
  });
  // An LV no LUN uses (one left behind when a LUN's lvremove failed, or made by hand): admins clean it up here.
  // A LUN's own LV goes with the LUN (DELETE /api/luns/:id?deleteData=true) and a LUN's snapshot with the snapshot
  // routes, so those are refused naming the LUN; lvm/ refuses an open LV or a pool that still holds volumes.
  app.delete<{ Params: Static<typeof PoolParams> }>('/api/storage/lvs/:vg/:name', {
    schema: { tags, summary: 'remove a logical volume that no LUN uses (refused, naming the LUN, when one does)', params: PoolParams, response: storageResponses({ 204: Type.Null() }) },
  }, async (request, reply) => {
    const { vg, name } = request.params;
    checkNames({ vg: ['VG', vg], name: ['LV', name] });
    const mgr = storage.requireLvm();
    const lv = await mgr.getLv(vg, name);
    const luns = store.listLuns().filter((l) => l.backing === 'lv');
    const backs = luns.find((l) => l.path === `/dev/${vg}/${name}`);
    if (backs) throw new StoreError('in-use', `${vg}/${name} backs LUN ${backs.name}; delete the LUN with its data instead (openlun lun delete ${backs.name} --delete-data)`);
    const originLun = lv.origin !== null ? luns.find((l) => l.path === `/dev/${vg}/${lv.origin}`) : undefined;
    if (originLun) {
      const snap = name.startsWith(`${lv.origin}.`) ? name.slice(lv.origin!.length + 1) : name;
      throw new StoreError('in-use', `${vg}/${name} is snapshot ${snap} of LUN ${originLun.name}; delete it as a snapshot (openlun snapshot delete ${originLun.name} ${snap})`);
    }
    await storage.audited(changeContext(request), 'storage.lv.remove', `lv ${vg}/${name}`, { kind: lv.kind, sizeBytes: lv.size }, () => mgr.removeLv(vg, name));
    return reply.status(204).send();
  });
  const poolOut = (u: PoolUsage) => ({
    vg: u.vg, name: u.pool, sizeBytes: u.size, metadataBytes: u.metadataSize, dataPercent: u.dataPercent, metadataPercent: u.metadataPercent,
    usedBytes: u.usedBytes, thinVolumes: u.thinVolumes, virtualBytes: u.virtualSize, overcommit: u.overcommit, thresholds: storage.poolThresholds,
  });
  app.get<{ Querystring: Static<typeof VgQuery> }>('/api/storage/pools', {
    schema: { tags, summary: 'thin pools with data/metadata use, thresholds and overcommit', querystring: VgQuery, response: storageResponses({ 200: Type.Array(Pool) }) },
  }, async (request) => {
    checkNames({ vg: ['VG', request.query.vg] });
    return storage.lvm ? (await storage.lvm.poolUsage(request.query.vg)).map(poolOut) : [];
  });
  const onePool = async (vg: string, name: string) => {
    const u = (await storage.requireLvm().poolUsage(vg)).find((p) => p.pool === name);
    if (!u) throw new StoreError('not-found', `thin pool ${vg}/${name} not found`);
    return poolOut(u);
  };
  app.post<{ Body: Static<typeof NewPool> }>('/api/storage/pools', { schema: { tags, body: NewPool, response: storageResponses({ 201: Pool }) } }, async (request, reply) => {
    const { vg, name, sizeBytes, metadataBytes } = request.body;
    checkNames({ vg: ['VG', vg], name: ['LV', name] });
    const mgr = storage.requireLvm();
    await storage.audited(changeContext(request), 'storage.pool.create', `pool ${vg}/${name}`, { sizeBytes, metadataBytes: metadataBytes ?? null },
      () => mgr.createPool(vg, name, sizeBytes, metadataBytes !== undefined ? { metadataBytes } : {}));
    return reply.status(201).send(await onePool(vg, name));
  });
  app.patch<{ Params: Static<typeof PoolParams>; Body: Static<typeof PoolPatch> }>('/api/storage/pools/:vg/:name', {
    schema: { tags, summary: 'grow a thin pool\'s data and/or metadata', params: PoolParams, body: PoolPatch, response: storageResponses({ 200: Pool }) },
  }, async (request) => {
    const { vg, name } = request.params;
    const { sizeBytes, metadataBytes } = request.body;
    checkNames({ vg: ['VG', vg], name: ['LV', name] });
    const mgr = storage.requireLvm();
    const ctx = changeContext(request);
    if (sizeBytes !== undefined) await storage.audited(ctx, 'storage.pool.extend', `pool ${vg}/${name}`, { sizeBytes }, () => mgr.extendPoolData(vg, name, sizeBytes));
    if (metadataBytes !== undefined) await storage.audited(ctx, 'storage.pool.extend-metadata', `pool ${vg}/${name}`, { metadataBytes }, () => mgr.extendPoolMetadata(vg, name, metadataBytes));
    return onePool(vg, name);
  });
}
