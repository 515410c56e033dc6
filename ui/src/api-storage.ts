/**
 * The storage part of the data layer: disks, PVs, volume groups, thin pools, LUN extend, snapshots and their
 * schedules (api/src/routes/storage.ts, snapshots.ts). Typed calls over ApiClient.request; elements never build
 * URLs themselves. Names in paths are URL-encoded (the API validates them again before any command runs).
 */
import type { ApiClient, ChapSetting, InitiatorGroup, Lun, LunMapping, Target, TargetAcl } from './api.ts';

// The shapes of api/src/routes/storage.ts, snapshots.ts and api/src/storage/schedules.ts, as the API returns them.
export interface FilePoolInfo {
  path: string;
  sizeBytes: number;
  freeBytes: number;
  usedBytes: number;
}

export interface VolumeGroup {
  name: string;
  uuid: string;
  size: number;
  free: number;
  extentSize: number;
  pvCount: number;
  lvCount: number;
  snapCount: number;
  missingPvCount: number;
  partial: boolean;
  /** names of the LUNs whose LVs live in this VG (a VG holding LUNs cannot be removed) */
  luns: string[];
}

export interface StorageOverview {
  mode: 'file' | 'lvm';
  filePool: FilePoolInfo;
  vgs: VolumeGroup[];
  /** the thin-provisioning soft threshold (percent) the target applies to every LUN */
  softThresholdPercent: number;
}

export interface Disk {
  name: string;
  path: string;
  size: number;
  model: string | null;
  serial: string | null;
  vendor: string | null;
  transport: string | null;
  rotational: boolean;
  removable: boolean;
  readOnly: boolean;
  partitionTable: string | null;
  partitions: Array<{ name: string; path: string; size: number; fstype: string | null; label: string | null; mountpoints: string[] }>;
  signatures: string[];
  mounted: string[];
  isPv: boolean;
  holders: string[];
  system: boolean;
  inUse: string[];
  available: boolean;
  smart?: { passed: boolean | null; temperatureC: number | null } | null;
}

export interface PhysicalVolume {
  name: string;
  uuid: string;
  vg: string | null;
  size: number;
  free: number;
  devSize: number;
  allocatedExtents: number;
  allocatable: boolean;
  missing: boolean;
}

export interface LogicalVolume {
  name: string;
  vg: string;
  path: string | null;
  size: number;
  kind: string;
  segtype: string;
  pool: string | null;
  origin: string | null;
  dataPercent: number | null;
  metadataPercent: number | null;
  active: boolean;
  open: boolean;
  merging: boolean;
  time: string | null;
  lunId: number | null;
}

export interface ThinPool {
  vg: string;
  name: string;
  sizeBytes: number;
  metadataBytes: number | null;
  dataPercent: number;
  metadataPercent: number;
  usedBytes: number;
  thinVolumes: string[];
  /** sum of the thin volumes' virtual sizes */
  virtualBytes: number;
  /** virtualBytes / sizeBytes: above 1 the pool is overcommitted */
  overcommit: number;
  /** the warning thresholds (percent) the pool monitor uses */
  thresholds: { data: number; metadata: number };
}

export interface Snapshot {
  name: string;
  lunId: number;
  /** file: a copy in the file pool; thin: an LVM thin snapshot; thick: an LVM copy-on-write snapshot */
  kind: 'file' | 'thin' | 'thick';
  /** the LUN's size when it was taken */
  sizeBytes: number;
  cowBytes: number | null;
  cowPercent: number | null;
  createdAt: number | null;
  /** the schedule that made it (its retention prunes it), null for a manual snapshot */
  scheduleId: number | null;
}

export type ScheduleEvery = number | 'hourly' | 'daily' | 'weekly';
export interface SnapshotSchedule {
  id: number;
  lunId: number;
  everyMinutes: number;
  preset: 'hourly' | 'daily' | 'weekly' | null;
  keep: number;
  sizeBytes: number | null;
  createdAt: number;
  lastRunAt: number | null;
  lastError: string | null;
  nextRunAt: number;
}

/** POST /api/luns for either backing (file pool; LV in a VG, thin when `pool` is given). */
export type NewStorageLun =
  | { backing: 'file'; name: string; sizeBytes: number; blockSize: 512 | 4096; writeCache?: 'write-back' | 'write-through' }
  | { backing: 'lv'; vg: string; pool?: string; name: string; sizeBytes: number; blockSize: 512 | 4096; writeCache?: 'write-back' | 'write-through' };

const enc = encodeURIComponent;

/** Every storage call the pages make. One per page, over the app's ApiClient (same session, CSRF, 401 handling). */
export class StorageApi {
  constructor(readonly api: ApiClient) {}

  overview = () => this.api.request<StorageOverview>('GET', '/api/storage');
  disks = () => this.api.request<Disk[]>('GET', '/api/storage/disks');
  pvs = () => this.api.request<PhysicalVolume[]>('GET', '/api/storage/pvs');
  createPv = (device: string, wipe: boolean) => this.api.request<unknown>('POST', '/api/storage/pvs', { device, ...(wipe ? { wipe: true } : {}) });
  removePv = (device: string) => this.api.request<void>('DELETE', `/api/storage/pvs/${enc(device)}`);
  vgs = () => this.api.request<VolumeGroup[]>('GET', '/api/storage/vgs');
  createVg = (name: string, devices: string[]) => this.api.request<VolumeGroup>('POST', '/api/storage/vgs', { name, devices });
  updateVg = (name: string, patch: { addDevices?: string[]; removeDevices?: string[]; newName?: string }) =>
    this.api.request<VolumeGroup>('PATCH', `/api/storage/vgs/${enc(name)}`, patch);
  removeVg = (name: string) => this.api.request<void>('DELETE', `/api/storage/vgs/${enc(name)}`);
  lvs = (vg?: string) => this.api.request<LogicalVolume[]>('GET', `/api/storage/lvs${vg ? `?vg=${enc(vg)}` : ''}`);
  pools = () => this.api.request<ThinPool[]>('GET', '/api/storage/pools');
  createPool = (vg: string, name: string, sizeBytes: number, metadataBytes?: number) =>
    this.api.request<ThinPool>('POST', '/api/storage/pools', { vg, name, sizeBytes, ...(metadataBytes ? { metadataBytes } : {}) });
  extendPool = (vg: string, name: string, patch: { sizeBytes?: number; metadataBytes?: number }) =>
    this.api.request<ThinPool>('PATCH', `/api/storage/pools/${enc(vg)}/${enc(name)}`, patch);

  // LUNs
  createStorageLun = (l: NewStorageLun) => this.api.request<Lun>('POST', '/api/luns', l);
  extendLun = (id: number, sizeBytes: number) => this.api.request<Lun>('PATCH', `/api/luns/${id}`, { sizeBytes });
  snapshots = (lunId: number) => this.api.request<Snapshot[]>('GET', `/api/luns/${lunId}/snapshots`);
  takeSnapshot = (lunId: number, name: string, sizeBytes?: number) =>
    this.api.request<Snapshot>('POST', `/api/luns/${lunId}/snapshots`, { name, ...(sizeBytes ? { sizeBytes } : {}) });
  rollback = (lunId: number, snap: string, force = false) =>
    this.api.request<unknown>('POST', `/api/luns/${lunId}/snapshots/${enc(snap)}/rollback${force ? '?force=true' : ''}`);
  clone = (lunId: number, snap: string, name: string) => this.api.request<Lun>('POST', `/api/luns/${lunId}/snapshots/${enc(snap)}/clone`, { name });
  deleteSnapshot = (lunId: number, snap: string) => this.api.request<void>('DELETE', `/api/luns/${lunId}/snapshots/${enc(snap)}`);
  schedules = () => this.api.request<SnapshotSchedule[]>('GET', '/api/snapshot-schedules');
  createSchedule = (lunId: number, every: ScheduleEvery, keep: number) =>
    this.api.request<SnapshotSchedule>('POST', '/api/snapshot-schedules', typeof every === 'number' ? { lunId, everyMinutes: every, keep } : { lunId, preset: every, keep });
  deleteSchedule = (id: number) => this.api.request<void>('DELETE', `/api/snapshot-schedules/${id}`);

  // what the wizard needs beyond ApiClient's own calls (the WizardApi shape)
  createTarget = (iqn: string, alias: string | null) => this.api.createTarget(iqn, alias);
  createMapping = (targetId: number, lun: number, lunId: number) => this.api.createMapping(targetId, lun, lunId);
  createInitiatorGroup = (name: string, initiators: string[], networks: string[] = []) => this.api.createInitiatorGroup(name, initiators, networks);
  createAcl = (targetId: number, groupId: number) => this.api.createAcl(targetId, groupId);
  setTargetChap = (targetId: number, c: ChapSetting) => this.api.setTargetChap(targetId, c);
  deleteLun = (id: number, deleteData: boolean) => this.api.deleteLun(id, deleteData);
  deleteTarget = (id: number) => this.api.deleteTarget(id);
  deleteMapping = (id: number) => this.api.deleteMapping(id);
  deleteInitiatorGroup = (id: number) => this.api.request<void>('DELETE', `/api/initiator-groups/${id}`);
  deleteAcl = (id: number) => this.api.deleteAcl(id);
  deleteTargetChap = (targetId: number) => this.api.deleteTargetChap(targetId);
}

export type { InitiatorGroup, Lun, LunMapping, Target, TargetAcl };
