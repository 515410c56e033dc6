/**
 * Initiator presets: what a LUN should report so a given hypervisor or OS uses it without surprises. Only settings
 * the API has today (block size, write cache); ALUA and reservation knobs join when the API grows them.
 */
export type PresetId = 'esxi' | 'hyperv' | 'xenserver' | 'linux';

export interface Preset {
  label: string;
  // SBC-4 §6.6 (READ CAPACITY): the logical block length the LUN reports
  blockSize: 512 | 4096;
  // SBC-4 §7.5.4 (caching mode page, WCE): write-back still honours SYNCHRONIZE CACHE and FUA
  writeCache: 'write-back' | 'write-through';
  why: string;
}

export const PRESETS = {
  esxi: {
    label: 'VMware ESXi',
    blockSize: 512,
    writeCache: 'write-back',
    why: 'VMFS takes 4K-native devices only on recent releases, and not for every guest or RDM.',
  },
  hyperv: {
    label: 'Hyper-V / Windows cluster',
    blockSize: 512,
    writeCache: 'write-back',
    why: 'The widest compatibility for Cluster Shared Volumes and older guests.',
  },
  xenserver: {
    label: 'XenServer / XCP-ng',
    blockSize: 512,
    writeCache: 'write-back',
    why: 'The lvmoiscsi storage repository does not support 4K-native devices.',
  },
  linux: {
    label: 'Linux',
    blockSize: 4096,
    writeCache: 'write-back',
    why: 'ext4, XFS and LVM align to 4 KiB and issue fewer, larger I/Os.',
  },
} as const satisfies Record<PresetId, Preset>;

export const PRESET_IDS = Object.keys(PRESETS) as PresetId[];
