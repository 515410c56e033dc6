/**
 * Ajv formats for the name rules in store/names.ts, so request validation reports a bad IQN or pool name in the
 * same response as every other bad field. The store runs the same checks again (defense in depth).
 */
import {
  addressProblem,
  chapSecretProblem,
  chapUserProblem,
  cidrProblem,
  iscsiNameProblem,
  labelProblem,
  lvPathProblem,
  poolNameProblem,
  usernameProblem,
} from './store/names.ts';

interface FormatSpec {
  problem: (value: string) => string | undefined;
  /** what the error says when the format fails */
  hint: string;
}

export const FORMATS = {
  'iscsi-name': {
    problem: iscsiNameProblem,
    hint: 'is not an iSCSI name: iqn.YYYY-MM.reversed.domain[:unique], eui. + 16 hex digits, or naa. + 16/32 hex digits, at most 223 bytes (RFC 7143 §4.2.7)',
  },
  'pool-name': { problem: poolNameProblem, hint: 'must be one name of 1-64 letters, digits, "_", "-", "." starting with a letter or digit (no "/", "..", spaces or shell characters)' },
  label: { problem: labelProblem, hint: 'must be 1-64 characters: letters, digits, space, "_", ".", ":", "@", "-"' },
  'lv-path': { problem: lvPathProblem, hint: 'must be a device path like /dev/vg0/lun1 without "." or ".." components' },
  'ip-address': { problem: addressProblem, hint: 'must be an IPv4 or IPv6 address' },
  cidr: { problem: cidrProblem, hint: 'must be a network like 192.0.2.0/24 or 2001:db8::/32' },
  'chap-user': { problem: chapUserProblem, hint: 'must be 1-223 characters: letters, digits, "_", ".", ":", "@", "-"' },
  'chap-secret': { problem: chapSecretProblem, hint: 'must be 12-255 printable ASCII characters without spaces (RFC 7143 §12.1.3)' },
  username: { problem: usernameProblem, hint: 'must be 1-32 characters: lower-case letters, digits, "_", ".", "-", starting with a letter or "_"' },
} as const satisfies Record<string, FormatSpec>;

export type FormatName = keyof typeof FORMATS;

/** For Ajv's `formats` option. */
export function ajvFormats(): Record<string, (value: string) => boolean> {
  return Object.fromEntries(Object.entries(FORMATS).map(([name, spec]) => [name, (v: string) => spec.problem(v) === undefined]));
}

export function formatHint(name: string): string | undefined {
  return (FORMATS as Record<string, FormatSpec>)[name]?.hint;
}
