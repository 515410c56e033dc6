/**
 * The iSCSI wizard's logic apart from its element (testable without a browser): the steps, the values each one
 * owns, what a preset changes, per-step validation that mirrors the API's rules (the API still checks everything),
 * and the plan of API calls the last step makes.
 */
import { ISCSI_NAME_FORMATS, MAX_ISCSI_NAME_BYTES, normalizeIscsiName } from '../../target/src/iscsi/names.ts';
import type { ChapSetting } from './api.ts';
import type { NewStorageLun } from './api-storage.ts';
import { errorText, parseSize, SIZE_UNITS, type SizeUnit, targetIqn } from './format.ts';
import { parseInitiators, type ChapMode } from './forms.ts';
import { PRESETS, isPresetId, presetLunSettings, type PresetId } from './presets.ts';

export const WIZARD_STEPS = [
  { id: 'lun', title: 'LUN' },
  { id: 'target', title: 'Target' },
  { id: 'access', title: 'Who may connect' },
  { id: 'auth', title: 'Authentication' },
  { id: 'summary', title: 'Summary' },
] as const;
export type StepId = (typeof WIZARD_STEPS)[number]['id'];

/** Every value the wizard collects, as the inputs hold them (strings), so Back shows exactly what was typed. */
export interface WizardValues {
  preset: PresetId;
  lunName: string;
  size: string;
  unit: SizeUnit;
  /** 'file' (the file pool), 'vg:NAME' (a linear LV) or 'pool:VG/NAME' (a thin LV) */
  location: string;
  blockSize: '512' | '4096';
  writeCache: 'write-back' | 'write-through';
  lunNumber: string;
  targetName: string;
  /** a full IQN that overrides base IQN + name */
  targetIqn: string;
  alias: string;
  initiators: string;
  networks: string;
  chapMode: ChapMode;
  chapUser: string;
  chapSecret: string;
  mutualUser: string;
  mutualSecret: string;
}

/** What the wizard knows about the appliance while validating (loaded when it opens). */
export interface WizardContext {
  baseIqn: string;
  lunNames: readonly string[];
  targetIqns: readonly string[];
  groupNames: readonly string[];
  /** where a LUN may live: 'file' and/or 'vg:…' / 'pool:…' keys */
  locations: readonly string[];
}

export function initialValues(preset: PresetId = 'esxi', location = 'file'): WizardValues {
  const p = presetLunSettings(preset);
  return {
    preset,
    lunName: '',
    size: '',
    unit: 'GiB',
    location,
    blockSize: String(p.blockSize) as '512' | '4096',
    writeCache: p.writeCache,
    lunNumber: String(p.lunNumber),
    targetName: '',
    targetIqn: '',
    alias: '',
    initiators: '',
    networks: '',
    chapMode: 'one-way',
    chapUser: '',
    chapSecret: '',
    mutualUser: '',
    mutualSecret: '',
  };
}

/** Choosing a preset sets the values it owns (block size, write cache, LUN number) and leaves everything typed. */
export function applyPreset(v: WizardValues, preset: PresetId): WizardValues {
  const p = presetLunSettings(preset);
  return { ...v, preset, blockSize: String(p.blockSize) as '512' | '4096', writeCache: p.writeCache, lunNumber: String(p.lunNumber) };
}

/** The settings that differ from what the preset would set (shown so an override is never silent). */
export function presetOverrides(v: WizardValues): string[] {
  const p = presetLunSettings(v.preset);
  const out: string[] = [];
  if (v.blockSize !== String(p.blockSize)) out.push(`block size ${v.blockSize} (the preset sets ${p.blockSize})`);
  if (v.writeCache !== p.writeCache) out.push(`write cache ${v.writeCache} (the preset sets ${p.writeCache})`);
  if (v.lunNumber.trim() !== String(p.lunNumber)) out.push(`LUN number ${v.lunNumber.trim()} (the preset sets ${p.lunNumber})`);
  return out;
}

// mirrors api/src/store/names.ts POOL_NAME (file names) and lvm(8) VALID NAMES: the stricter of the two
const LUN_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const LABEL = /^[A-Za-z0-9][A-Za-z0-9 _.:@-]{0,63}$/;
const CHAP_USER = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,222}$/;

/** RFC 7143 §4.2.7: the target's own rule (same regexes), measured in UTF-8 bytes as the RFC counts. */
export function iscsiNameProblem(raw: string): string | undefined {
  const name = normalizeIscsiName(raw);
  if (new TextEncoder().encode(name).length > MAX_ISCSI_NAME_BYTES) return `is longer than ${MAX_ISCSI_NAME_BYTES} bytes (RFC 7143 §4.2.7.1)`;
  if (name.startsWith('iqn.')) return ISCSI_NAME_FORMATS.iqn.test(name) ? undefined : 'is not a valid iqn. name: iqn.YYYY-MM.reversed.domain[:unique] (RFC 7143 §4.2.7.2)';
  if (name.startsWith('eui.')) return ISCSI_NAME_FORMATS.eui.test(name) ? undefined : 'is not a valid eui. name: "eui." + 16 hex digits (RFC 7143 §4.2.7.3)';
  if (name.startsWith('naa.')) return ISCSI_NAME_FORMATS.naa.test(name) ? undefined : 'is not a valid naa. name: "naa." + 16 or 32 hex digits (RFC 7143 §4.2.7.4)';
  return 'must start with iqn., eui. or naa. (RFC 7143 §4.2.7)';
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const IPV6 = /^[0-9a-fA-F:.]+$/;
/** "192.0.2.0/24" or "2001:db8::/32"; the API's check (node:net isIP) is the final word on IPv6 spellings. */
export function cidrProblem(cidr: string): string | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(cidr);
  const bad = 'must be a network like 192.0.2.0/24 or 2001:db8::/32';
  if (!m) return bad;
  const v4 = IPV4.test(m[1]!);
  if (!v4 && !(m[1]!.includes(':') && IPV6.test(m[1]!))) return bad;
  const max = v4 ? 32 : 128;
  return Number(m[2]) <= max ? undefined : `prefix length must be 0-${max}`;
}

/** The target IQN the wizard will create: the full IQN when typed, else base IQN + name. */
export function wizardIqn(v: WizardValues, ctx: Pick<WizardContext, 'baseIqn'>): string {
  return v.targetIqn.trim() ? normalizeIscsiName(v.targetIqn) : targetIqn(ctx.baseIqn, v.targetName);
}

/** The initiator group the ACL uses: named after the target so it is recognisable in the ACL list. */
export function wizardGroupName(v: WizardValues): string {
  const base = (v.targetName.trim() || v.lunName.trim() || 'wizard').replace(/[^A-Za-z0-9 _.:@-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return `${(base || 'wizard').slice(0, 58)}-hosts`;
}

/** Messages per field of one step ({} when the step may be left with Next). */
export function validateStep(step: StepId, v: WizardValues, ctx: WizardContext): Record<string, string> {
  const e: Record<string, string> = {};
  switch (step) {
    case 'lun': {
      const name = v.lunName.trim();
      if (!name) e['lunName'] = 'is required';
      else if (!LUN_NAME.test(name) || name.includes('..')) e['lunName'] = 'must be 1-64 letters, digits, "_", "-", "." starting with a letter or digit';
      else if (ctx.lunNames.includes(name)) e['lunName'] = 'already exists';
      const size = parseSize(v.size, v.unit in SIZE_UNITS ? v.unit : 'GiB');
      if ('error' in size) e['size'] = size.error;
      if (!ctx.locations.includes(v.location)) e['location'] = 'choose where the LUN is stored';
      if (v.blockSize !== '512' && v.blockSize !== '4096') e['blockSize'] = 'must be 512 or 4096';
      const n = v.lunNumber.trim();
      // SAM-5 §4.6.1: single-level LUN addressing (peripheral / flat) reaches 0-16383
      if (!/^\d{1,5}$/.test(n) || Number(n) > 16383) e['lunNumber'] = 'must be a whole number 0-16383';
      break;
    }
    case 'target': {
      const iqn = wizardIqn(v, ctx);
      if (!v.targetIqn.trim() && !v.targetName.trim()) e['targetName'] = 'give the target a name (or a full IQN)';
      else {
        const problem = iscsiNameProblem(iqn);
        const where = v.targetIqn.trim() ? 'targetIqn' : 'targetName';
        if (problem) e[where] = v.targetIqn.trim() ? problem : `gives the IQN ${iqn}, which ${problem}`;
        else if (ctx.targetIqns.includes(iqn)) e[where] = `${iqn} already exists`;
      }
      if (v.alias.trim() && !LABEL.test(v.alias.trim())) e['alias'] = 'must be 1-64 characters: letters, digits, space, "_", ".", ":", "@", "-"';
      break;
    }
    case 'access': {
      const initiators = parseInitiators(v.initiators);
      const networks = parseInitiators(v.networks);
      if (initiators.length === 0 && networks.length === 0) {
        e['initiators'] = 'allow at least one initiator or network: targets refuse everyone else';
      }
      const badI = initiators.map((i) => [i, iscsiNameProblem(i)] as const).find(([, p]) => p);
      if (badI) e['initiators'] = `${badI[0]} ${badI[1]}`;
      const badN = networks.map((n) => [n, cidrProblem(n)] as const).find(([, p]) => p);
      if (badN) e['networks'] = `${badN[0]} ${badN[1]}`;
      if (ctx.groupNames.includes(wizardGroupName(v))) e['initiators'] = `an initiator group named ${wizardGroupName(v)} already exists; pick another target name`;
      break;
    }
    case 'auth': {
      if (v.chapMode === 'none') break;
      // RFC 7143 §12.1.3: CHAP secrets of at least 12 octets (96 bits); the API refuses longer than 255
      if (!CHAP_USER.test(v.chapUser.trim())) e['chapUser'] = v.chapUser.trim() ? 'must be letters, digits, "_", ".", ":", "@", "-"' : 'is required';
      if (v.chapSecret.length < 12 || v.chapSecret.length > 255) e['chapSecret'] = 'must be 12-255 characters (RFC 7143 §12.1.3)';
      else if (!/^[\x21-\x7e]+$/.test(v.chapSecret)) e['chapSecret'] = 'must be printable ASCII without spaces';
      if (v.chapMode === 'mutual') {
        if (!CHAP_USER.test(v.mutualUser.trim())) e['mutualUser'] = v.mutualUser.trim() ? 'must be letters, digits, "_", ".", ":", "@", "-"' : 'is required for mutual CHAP';
        if (v.mutualSecret.length < 12 || v.mutualSecret.length > 255) e['mutualSecret'] = 'must be 12-255 characters (RFC 7143 §12.1.3)';
        else if (!/^[\x21-\x7e]+$/.test(v.mutualSecret)) e['mutualSecret'] = 'must be printable ASCII without spaces';
        // RFC 7143 §12.1.3: the same secret in both directions lets an attacker reflect the challenge
        else if (v.mutualSecret === v.chapSecret) e['mutualSecret'] = 'must differ from the initiator secret (RFC 7143 §12.1.3)';
      }
      break;
    }
    case 'summary':
      break;
  }
  return e;
}

/** The first step that does not validate (the summary's Create sends the admin back there), or undefined. */
export function firstInvalidStep(v: WizardValues, ctx: WizardContext): { step: number; errors: Record<string, string> } | undefined {
  for (let i = 0; i < WIZARD_STEPS.length; i++) {
    const errors = validateStep(WIZARD_STEPS[i]!.id, v, ctx);
    if (Object.keys(errors).length > 0) return { step: i, errors };
  }
  return undefined;
}

export interface WizardPlan {
  lun: NewStorageLun;
  /** the hypervisor the LUN is set up for: stored with the LUN (POST /api/luns preset), shown in the LUN list */
  preset: PresetId;
  target: { iqn: string; alias: string | null };
  lunNumber: number;
  group: { name: string; initiators: string[]; networks: string[] };
  chap: ChapSetting | undefined;
}

/** The API calls the last step makes, in order (call only once firstInvalidStep is undefined). */
export function buildPlan(v: WizardValues, ctx: Pick<WizardContext, 'baseIqn'>): WizardPlan {
  const size = parseSize(v.size, v.unit);
  if ('error' in size) throw new Error(`size ${size.error}`);
  const common = {
    name: v.lunName.trim(),
    sizeBytes: size.bytes,
    blockSize: (v.blockSize === '4096' ? 4096 : 512) as 512 | 4096,
    writeCache: v.writeCache,
  };
  let lun: NewStorageLun;
  if (v.location.startsWith('pool:')) {
    const [vg, pool] = v.location.slice(5).split('/');
    lun = { ...common, backing: 'lv', vg: vg!, pool: pool! };
  } else if (v.location.startsWith('vg:')) lun = { ...common, backing: 'lv', vg: v.location.slice(3) };
  else lun = { ...common, backing: 'file' };
  let chap: ChapSetting | undefined;
  if (v.chapMode !== 'none') {
    chap = { username: v.chapUser.trim(), secret: v.chapSecret };
    if (v.chapMode === 'mutual') Object.assign(chap, { mutualUsername: v.mutualUser.trim(), mutualSecret: v.mutualSecret });
  }
  return {
    lun,
    preset: v.preset,
    target: { iqn: wizardIqn(v, ctx), alias: v.alias.trim() || null },
    lunNumber: Number(v.lunNumber.trim()),
    group: { name: wizardGroupName(v), initiators: parseInitiators(v.initiators).map(normalizeIscsiName), networks: parseInitiators(v.networks) },
    chap,
  };
}

/** Which step and field an API message about one action belongs to (so it is shown next to the right input). */
export function fieldOfApiError(action: CreatedKind, apiField: string, v: WizardValues): { step: StepId; field: string } | undefined {
  switch (action) {
    case 'lun':
      if (apiField === 'name') return { step: 'lun', field: 'lunName' };
      if (apiField === 'sizeBytes') return { step: 'lun', field: 'size' };
      if (apiField === 'vg' || apiField === 'pool' || apiField === 'backing') return { step: 'lun', field: 'location' };
      if (apiField === 'blockSize') return { step: 'lun', field: 'blockSize' };
      return undefined;
    case 'target':
      if (apiField === 'iqn') return { step: 'target', field: v.targetIqn.trim() ? 'targetIqn' : 'targetName' };
      if (apiField === 'alias') return { step: 'target', field: 'alias' };
      return undefined;
    case 'mapping':
      return apiField === 'lun' ? { step: 'lun', field: 'lunNumber' } : undefined;
    case 'group':
      if (apiField === 'initiators') return { step: 'access', field: 'initiators' };
      if (apiField === 'networks') return { step: 'access', field: 'networks' };
      if (apiField === 'name') return { step: 'access', field: 'initiators' };
      return undefined;
    case 'acl':
      return undefined;
    case 'chap': {
      const map: Record<string, string> = { username: 'chapUser', secret: 'chapSecret', mutualUsername: 'mutualUser', mutualSecret: 'mutualSecret' };
      return map[apiField] ? { step: 'auth', field: map[apiField] } : undefined;
    }
  }
}

export type CreatedKind = 'lun' | 'target' | 'mapping' | 'group' | 'acl' | 'chap';
export interface CreatedItem {
  kind: CreatedKind;
  id: number;
  /** how the admin knows it: "LUN vmfs01", "target iqn…" */
  label: string;
}

export const ACTION_ORDER: readonly CreatedKind[] = ['lun', 'target', 'mapping', 'group', 'acl', 'chap'];

/** The order to remove a half-made setup in: the reverse of creation, so nothing is removed while still in use. */
export function undoOrder(created: readonly CreatedItem[]): CreatedItem[] {
  return [...created].sort((a, b) => ACTION_ORDER.indexOf(b.kind) - ACTION_ORDER.indexOf(a.kind));
}

/** The parts of the API the wizard uses (a fake in the component tests, ApiClient in the page). */
export interface WizardApi {
  createStorageLun(l: NewStorageLun & { preset?: PresetId }): Promise<{ id: number; name: string }>;
  createTarget(iqn: string, alias: string | null): Promise<{ id: number; iqn: string }>;
  createMapping(targetId: number, lun: number, lunId: number): Promise<{ id: number }>;
  createInitiatorGroup(name: string, initiators: string[], networks?: string[]): Promise<{ id: number; name: string }>;
  createAcl(targetId: number, groupId: number): Promise<{ id: number }>;
  setTargetChap(targetId: number, c: ChapSetting): Promise<unknown>;
  deleteLun(id: number, deleteData: boolean): Promise<void>;
  deleteTarget(id: number): Promise<void>;
  deleteMapping(id: number): Promise<void>;
  deleteInitiatorGroup(id: number): Promise<void>;
  deleteAcl(id: number): Promise<void>;
  deleteTargetChap(targetId: number): Promise<void>;
}

export interface RunResult {
  created: CreatedItem[];
  targetId?: number;
  /** the action that failed and its error; undefined when everything was created */
  failed?: { kind: CreatedKind; error: unknown };
}

/**
 * Runs the plan's calls in order, skipping what an earlier attempt already created (so "fix and retry" continues
 * where it stopped instead of creating a second LUN). Stops at the first failure and says what exists.
 */
export async function runPlan(api: WizardApi, plan: WizardPlan, already: readonly CreatedItem[] = []): Promise<RunResult> {
  const created = [...already];
  const has = (k: CreatedKind) => created.find((c) => c.kind === k);
  let kind: CreatedKind = 'lun';
  try {
    let lun = has('lun');
    if (!lun) {
      const l = await api.createStorageLun({ ...plan.lun, preset: plan.preset });
      lun = { kind: 'lun', id: l.id, label: `LUN ${l.name}` };
      created.push(lun);
    }
    kind = 'target';
    let target = has('target');
    if (!target) {
      const t = await api.createTarget(plan.target.iqn, plan.target.alias);
      target = { kind: 'target', id: t.id, label: `target ${t.iqn}` };
      created.push(target);
    }
    kind = 'mapping';
    if (!has('mapping')) {
      const m = await api.createMapping(target.id, plan.lunNumber, lun.id);
      created.push({ kind: 'mapping', id: m.id, label: `mapping of ${lun.label} as LUN ${plan.lunNumber}` });
    }
    kind = 'group';
    let group = has('group');
    if (!group) {
      const g = await api.createInitiatorGroup(plan.group.name, plan.group.initiators, plan.group.networks);
      group = { kind: 'group', id: g.id, label: `initiator group ${g.name}` };
      created.push(group);
    }
    kind = 'acl';
    if (!has('acl')) {
      const a = await api.createAcl(target.id, group.id);
      created.push({ kind: 'acl', id: a.id, label: `access rule letting ${group.label} in` });
    }
    kind = 'chap';
    if (plan.chap && !has('chap')) {
      await api.setTargetChap(target.id, plan.chap);
      created.push({ kind: 'chap', id: target.id, label: `${plan.chap.mutualUsername ? 'mutual' : 'one-way'} CHAP for user ${plan.chap.username}` });
    }
    return { created, targetId: target.id };
  } catch (error) {
    const t = has('target');
    return { created, ...(t ? { targetId: t.id } : {}), failed: { kind, error } };
  }
}

/** Removes what a failed run created, newest first; returns what could not be removed (with the reason). */
export async function undoCreated(api: WizardApi, created: readonly CreatedItem[]): Promise<{ removed: CreatedItem[]; left: Array<{ item: CreatedItem; error: string }> }> {
  const removed: CreatedItem[] = [];
  const left: Array<{ item: CreatedItem; error: string }> = [];
  for (const item of undoOrder(created)) {
    try {
      switch (item.kind) {
        case 'chap':
          await api.deleteTargetChap(item.id);
          break;
        case 'acl':
          await api.deleteAcl(item.id);
          break;
        case 'group':
          await api.deleteInitiatorGroup(item.id);
          break;
        case 'mapping':
          await api.deleteMapping(item.id);
          break;
        case 'target':
          await api.deleteTarget(item.id);
          break;
        case 'lun':
          await api.deleteLun(item.id, true);
          break;
      }
      removed.push(item);
    } catch (e) {
      left.push({ item, error: errorText(e) });
    }
  }
  return { removed, left };
}

export function presetIdOr(v: string, fallback: PresetId): PresetId {
  return isPresetId(v) ? v : fallback;
}

export { PRESETS };
