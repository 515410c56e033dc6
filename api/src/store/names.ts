/**
 * Name rules for everything an admin types. Each check returns a problem sentence (or undefined) so callers can
 * collect every bad field at once; nothing here throws.
 */
import { isIP } from 'node:net';

// iSCSI names follow one rule for the target and the API alike (RFC 7143 §4.2.7): defined once, in the target
export { ISCSI_NAME_FORMATS, MAX_ISCSI_NAME_BYTES, iscsiNameProblem, normalizeIscsiName } from '../../../target/src/iscsi/names.ts';

// file-pool names become file names: one path component, no leading dot, nothing a shell or a path would interpret
export const POOL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export function poolNameProblem(name: string): string | undefined {
  if (name.includes('/') || name.includes('\\') || name.includes('..')) return 'must be a single name, without "/", "\\" or ".."';
  if (!POOL_NAME.test(name)) return 'must be 1-64 characters: letters, digits, "_", "-", "." and start with a letter or digit';
  return undefined;
}

// LVM's own rule (lvm(8) "VALID NAMES"): [a-zA-Z0-9+_.-], not starting with '-'; plus no '..' components
const LV_PATH = /^\/dev\/(?:mapper\/)?[A-Za-z0-9+_.][A-Za-z0-9+_.-]{0,127}(?:\/[A-Za-z0-9+_.][A-Za-z0-9+_.-]{0,127})?$/;
export function lvPathProblem(path: string): string | undefined {
  if (path.split('/').some((c) => c === '.' || c === '..')) return 'must not contain "." or ".." components';
  if (!LV_PATH.test(path)) return 'must be a device path like /dev/vg0/lun1 (letters, digits, "+", "_", ".", "-")';
  return undefined;
}

// group names, token names and aliases are shown in the UI and in logs: printable, no control or shell characters
export const LABEL = /^[A-Za-z0-9][A-Za-z0-9 _.:@-]{0,63}$/;
export function labelProblem(label: string): string | undefined {
  return LABEL.test(label) ? undefined : 'must be 1-64 characters: letters, digits, space, "_", ".", ":", "@", "-"';
}

export function addressProblem(address: string): string | undefined {
  return isIP(address) === 0 ? 'must be an IPv4 or IPv6 address' : undefined;
}

export function cidrProblem(cidr: string): string | undefined {
  const [addr, bits, extra] = cidr.split('/');
  if (addr === undefined || bits === undefined || extra !== undefined) return 'must be a network like 192.0.2.0/24 or 2001:db8::/32';
  const family = isIP(addr);
  if (family === 0 || !/^\d{1,3}$/.test(bits)) return 'must be a network like 192.0.2.0/24 or 2001:db8::/32';
  const max = family === 4 ? 32 : 128;
  return Number(bits) <= max ? undefined : `prefix length must be 0-${max}`;
}

// CHAP user names go on the wire as CHAP_N text values (RFC 7143 §6.1: UTF-8, no NUL; keep them printable)
const CHAP_USER = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,222}$/;
export function chapUserProblem(user: string): string | undefined {
  return CHAP_USER.test(user) ? undefined : 'must be 1-223 characters: letters, digits, "_", ".", ":", "@", "-"';
}

// RFC 7143 §12.1.3 / RFC 3720 §8.2.1: secrets of at least 96 bits (12 octets); many initiators (Windows) stop at 16.
export const CHAP_SECRET_MIN = 12;
export const CHAP_SECRET_MAX = 255;
export function chapSecretProblem(secret: string): string | undefined {
  if (secret.length < CHAP_SECRET_MIN || secret.length > CHAP_SECRET_MAX) return `must be ${CHAP_SECRET_MIN}-${CHAP_SECRET_MAX} characters`;
  return /^[\x21-\x7e]+$/.test(secret) ? undefined : 'must be printable ASCII without spaces';
}

export const USERNAME = /^[a-z_][a-z0-9_.-]{0,31}$/;
export function usernameProblem(username: string): string | undefined {
  return USERNAME.test(username) ? undefined : 'must be 1-32 characters: lower-case letters, digits, "_", ".", "-", starting with a letter or "_"';
}

export const PASSWORD_MIN = 10;
export function passwordProblem(password: string): string | undefined {
  if (password.length < PASSWORD_MIN) return `must be at least ${PASSWORD_MIN} characters`;
  if (password.length > 1024) return 'must be at most 1024 characters';
  return undefined;
}
