/**
 * Initiator presets: what a LUN and its target should look like so a given hypervisor or OS uses them without
 * surprises. A preset sets what the API lets us choose (block size, write cache, the LUN number) and states what
 * the target always does for that initiator (ATS, reservations, ALUA, UNMAP) so the admin sees every setting and
 * why — nothing is hidden behind the preset's name.
 */
import type { InitiatorOs } from './connect-commands.ts';

export type PresetId = 'esxi' | 'hyperv' | 'xenserver' | 'linux';

/** One line of "what this preset sets and why"; `fixed` = the target always behaves so (not a choice). */
export interface PresetSetting {
  name: string;
  value: string;
  why: string;
  fixed?: boolean;
}

export interface Preset {
  label: string;
  // SBC-4 §6.6 (READ CAPACITY): the logical block length the LUN reports
  blockSize: 512 | 4096;
  // SBC-4 §7.5.4 (caching mode page, WCE): write-back still honours SYNCHRONIZE CACHE and FUA
  writeCache: 'write-back' | 'write-through';
  /** the LUN number the wizard maps it as (SAM-5 §4.6.1: LUN 0 must exist for REPORT LUNS to be answered well) */
  lunNumber: number;
  why: string;
  /** the Connect tab the wizard ends on */
  connectOs: InitiatorOs;
  /** what an initiator name of this OS looks like (placeholder text in the wizard) */
  initiatorExample: string;
  settings: readonly PresetSetting[];
}

// Settings every preset shares: the target implements them for every LUN, so they are stated, not chosen.
const RESERVATIONS: PresetSetting = {
  name: 'Persistent reservations',
  value: 'on',
  why: 'SPC-4 PERSISTENT RESERVE IN/OUT (all types, APTPL kept across restarts) — what cluster fencing needs.',
  fixed: true,
};
const ALUA: PresetSetting = {
  name: 'ALUA',
  value: 'implicit',
  why: 'SPC-4 REPORT TARGET PORT GROUPS (one group per portal group) lets multipath pick paths without vendor plugins.',
  fixed: true,
};
const UNMAP: PresetSetting = {
  name: 'UNMAP / WRITE SAME',
  value: 'on',
  why: 'SBC-4 thin provisioning: space freed by the initiator is given back to the pool.',
  fixed: true,
};

export const PRESETS = {
  esxi: {
    label: 'VMware ESXi',
    blockSize: 512,
    writeCache: 'write-back',
    lunNumber: 0,
    why: 'VMFS takes 4K-native devices only on recent releases, and not for every guest or RDM.',
    connectOs: 'esxi',
    initiatorExample: 'iqn.1998-01.com.vmware:esx01-4c4c4544',
    settings: [
      { name: 'Block size', value: '512 bytes', why: 'VMFS 6 accepts 4K-native only on 6.7+ and never for RDMs or some guests; 512 works everywhere.' },
      { name: 'Write cache', value: 'write-back', why: 'ESXi sends SYNCHRONIZE CACHE and FUA where it needs durability, so write-back is safe and fast.' },
      { name: 'LUN number', value: '0', why: 'ESXi scans from LUN 0; a target without LUN 0 shows no devices on some releases.' },
      { name: 'ATS (VAAI)', value: 'on', why: 'COMPARE AND WRITE (SBC-4 §5.2) replaces SCSI-2 reservations for VMFS locking; our target always offers it.', fixed: true },
      { name: 'XCOPY (VAAI)', value: 'on', why: 'EXTENDED COPY lets ESXi clone and migrate VMs inside the appliance.', fixed: true },
      UNMAP,
      ALUA,
    ],
  },
  hyperv: {
    label: 'Hyper-V / Windows cluster',
    blockSize: 512,
    writeCache: 'write-back',
    lunNumber: 0,
    why: 'The widest compatibility for Cluster Shared Volumes and older guests.',
    connectOs: 'windows',
    initiatorExample: 'iqn.1991-05.com.microsoft:hv01.example.local',
    settings: [
      { name: 'Block size', value: '512 bytes', why: 'Cluster Shared Volumes and older guests expect 512-byte sectors.' },
      { name: 'Write cache', value: 'write-back', why: 'Windows flushes with SYNCHRONIZE CACHE / FUA; the cache never hides a flush.' },
      { name: 'LUN number', value: '0', why: 'Windows enumerates from LUN 0.' },
      { ...RESERVATIONS, why: 'Failover Clustering validation requires SCSI-3 persistent reservations; our target always supports them (SPC-4, APTPL kept across restarts).' },
      ALUA,
      UNMAP,
    ],
  },
  xenserver: {
    label: 'XenServer / XCP-ng',
    blockSize: 512,
    writeCache: 'write-back',
    lunNumber: 0,
    why: 'The lvmoiscsi storage repository does not support 4K-native devices.',
    connectOs: 'xenserver',
    initiatorExample: 'iqn.2026-01.com.example:xcp01',
    settings: [
      { name: 'Block size', value: '512 bytes', why: 'The lvmoiscsi storage repository refuses 4K-native devices.' },
      { name: 'Write cache', value: 'write-back', why: 'tapdisk issues flushes where it needs them.' },
      { name: 'LUN number', value: '0', why: 'sr-probe lists LUNs from 0; the SR is created on the LUN with the SCSIid the Connect tab shows.' },
      RESERVATIONS,
      ALUA,
    ],
  },
  linux: {
    label: 'Linux',
    blockSize: 4096,
    writeCache: 'write-back',
    lunNumber: 0,
    why: 'ext4, XFS and LVM align to 4 KiB and issue fewer, larger I/Os.',
    connectOs: 'linux',
    initiatorExample: 'iqn.2004-10.com.ubuntu:01:c0ffee123456',
    settings: [
      { name: 'Block size', value: '4096 bytes', why: 'ext4, XFS and LVM align to 4 KiB; no read-modify-write on partial blocks.' },
      { name: 'Write cache', value: 'write-back', why: 'The kernel sends SYNCHRONIZE CACHE and FUA for journal commits.' },
      { name: 'LUN number', value: '0', why: 'open-iscsi scans every LUN; 0 keeps REPORT LUNS conventional.' },
      UNMAP,
      ALUA,
      RESERVATIONS,
    ],
  },
} as const satisfies Record<PresetId, Preset>;

export const PRESET_IDS = Object.keys(PRESETS) as PresetId[];

export function isPresetId(v: string): v is PresetId {
  return (PRESET_IDS as string[]).includes(v);
}

/** What a preset fixes on a new LUN and its mapping (the values the wizard's fields start with). */
export function presetLunSettings(id: PresetId): { blockSize: 512 | 4096; writeCache: 'write-back' | 'write-through'; lunNumber: number } {
  const p: Preset = PRESETS[id];
  return { blockSize: p.blockSize, writeCache: p.writeCache, lunNumber: p.lunNumber };
}
