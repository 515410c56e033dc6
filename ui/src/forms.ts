/**
 * Form logic apart from the elements (so it is testable without a browser): form values → API bodies, or messages
 * per field that mirror the API's rules and show before a round trip. The API still checks everything.
 */
import type { ChapSetting, LunMapping } from './api.ts';
import { SIZE_UNITS, parseSize, type SizeUnit } from './format.ts';
import { PRESETS, type PresetId } from './presets.ts';

export type ChapMode = 'none' | 'one-way' | 'mutual';
export const PASSWORD_MIN = 10;

/** First-run password: the API's minimum, and the repeat must match. */
export function passwordProblems(password: string, confirm: string): Record<string, string> {
  const e: Record<string, string> = {};
  if (password.length < PASSWORD_MIN) e['password'] = `must be at least ${PASSWORD_MIN} characters`;
  if (confirm !== password) e['confirm'] = 'does not match the password';
  return e;
}

export interface LunFormResult {
  body?: { name: string; backing: 'file'; sizeBytes: number; blockSize: 512 | 4096; writeCache: 'write-back' | 'write-through' };
  errors: Record<string, string>;
}

/** The create-LUN form's values → the API body, or messages per field (checked before the round trip). */
export function lunFormBody(v: Record<string, string>): LunFormResult {
  const errors: Record<string, string> = {};
  const name = (v['name'] ?? '').trim();
  if (!name) errors['name'] = 'is required';
  else if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name) || name.includes('..')) {
    errors['name'] = 'must be 1-64 letters, digits, "_", "-", "." starting with a letter or digit';
  }
  const unit = (v['unit'] ?? 'GiB') as SizeUnit;
  const size = parseSize(v['size'] ?? '', unit in SIZE_UNITS ? unit : 'GiB');
  if ('error' in size) errors['sizeBytes'] = size.error;
  const preset = PRESETS[(v['preset'] ?? 'esxi') as PresetId] ?? PRESETS.esxi;
  if (Object.keys(errors).length > 0) return { errors };
  return {
    body: { name, backing: 'file', sizeBytes: (size as { bytes: number }).bytes, blockSize: preset.blockSize, writeCache: preset.writeCache },
    errors,
  };
}

/** Initiator names typed one per line (or comma-separated) → a clean list. */
export function parseInitiators(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean))];
}

/** CHAP form values → the API body, or messages per field. RFC 7143 §12.1.3: secrets of 12+ bytes; mutual differs. */
export function chapFormBody(mode: ChapMode, v: Record<string, string>): { body?: ChapSetting; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  if (mode === 'none') return { errors };
  const username = (v['username'] ?? '').trim();
  const secret = v['secret'] ?? '';
  if (!username) errors['username'] = 'is required';
  if (secret.length < 12) errors['secret'] = 'must be at least 12 characters (RFC 7143 §12.1.3)';
  const body: ChapSetting = { username, secret };
  if (mode === 'mutual') {
    const mu = (v['mutualUsername'] ?? '').trim();
    const ms = v['mutualSecret'] ?? '';
    if (!mu) errors['mutualUsername'] = 'is required for mutual CHAP';
    if (ms.length < 12) errors['mutualSecret'] = 'must be at least 12 characters (RFC 7143 §12.1.3)';
    else if (ms === secret) errors['mutualSecret'] = 'must differ from the initiator secret (RFC 7143 §12.1.3)';
    body.mutualUsername = mu;
    body.mutualSecret = ms;
  }
  return Object.keys(errors).length > 0 ? { errors } : { body, errors };
}

/** The lowest LUN number not yet used on this target (SAM-5: LUN 0 should exist for REPORT LUNS). */
export function nextFreeLun(mappings: LunMapping[]): number {
  const used = new Set(mappings.map((m) => m.lun));
  let n = 0;
  while (used.has(n)) n++;
  return n;
}

