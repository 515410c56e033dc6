/** The store's records as the API shows them (camelCase; never a secret or a hash). */
export type Role = 'admin' | 'read-only';
export type LunBacking = 'file' | 'lv';
export type WriteCache = 'write-back' | 'write-through';

export interface User {
  id: number;
  username: string;
  role: Role;
  createdAt: number;
}

export interface ApiToken {
  id: number;
  name: string;
  userId: number;
  createdAt: number;
  lastUsed: number | null;
}

export interface Target {
  id: number;
  iqn: string;
  alias: string | null;
}

/** SPC-4 §5.16.2.4: the ALUA access state of a target port group (one per iSCSI portal group). */
export type AluaState = 'active-optimized' | 'active-non-optimized' | 'standby' | 'unavailable';
export const ALUA_STATES = ['active-optimized', 'active-non-optimized', 'standby', 'unavailable'] as const satisfies readonly AluaState[];

/** The hypervisor a LUN was set up for (ui/src/presets.ts ids). */
export type LunPreset = 'esxi' | 'hyperv' | 'xenserver' | 'linux';
export const LUN_PRESETS = ['esxi', 'hyperv', 'xenserver', 'linux'] as const satisfies readonly LunPreset[];

/** RFC 7143 §4.4.1: a target's portal group; its tag (TPGT) is unique within the target. */
export interface PortalGroup {
  id: number;
  targetId: number;
  tag: number;
  aluaState: AluaState;
}

export interface Portal {
  id: number;
  targetId: number;
  address: string;
  port: number;
  portalGroupId: number;
  /** the TPGT of its portal group, as SendTargets reports it (RFC 7143 Appendix C) */
  portalGroupTag: number;
}

export interface Lun {
  id: number;
  name: string;
  backing: LunBacking;
  path: string;
  sizeBytes: number;
  blockSize: 512 | 4096;
  readOnly: boolean;
  writeCache: WriteCache;
  serial: string;
  naaId: string;
  createdAt: number;
  preset: LunPreset | null;
}

export interface LunMapping {
  id: number;
  targetId: number;
  lun: number;
  lunId: number;
}

export interface InitiatorGroup {
  id: number;
  name: string;
  initiators: string[];
  networks: string[];
}

export interface TargetAcl {
  id: number;
  targetId: number;
  groupId: number;
}

/** CHAP as the API shows it: who, never the secret. targetId null = discovery sessions. */
export interface ChapInfo {
  id: number;
  targetId: number | null;
  username: string;
  mutualUsername: string | null;
}

export interface ChapSecrets {
  username: string;
  secret: string;
  mutual?: { username: string; secret: string };
}

export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  action: string;
  object: string;
  ip: string;
  detail: Record<string, unknown>;
}

/** Who makes a change and from where: every mutation records it in the audit log in the same transaction. */
export interface ChangeContext {
  actor: string;
  ip: string;
}

export interface Settings {
  hostname: string;
  baseIqn: string;
  iscsiPort: number;
}
