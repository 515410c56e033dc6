/**
 * iSCSI name and portal syntax (RFC 7143 §4.2.7): validated before anything is configured, so a typo fails at
 * start with a clear message instead of as an initiator's "target not found".
 */

// RFC 7143 §4.2.7.1: an iSCSI name is at most 223 bytes, UTF-8, after stringprep (which lower-cases ASCII)
export const MAX_ISCSI_NAME_BYTES = 223;

export const ISCSI_NAME_FORMATS = {
  // RFC 7143 §4.2.7.2 / RFC 3720 §3.2.6.3.1: iqn. + yyyy-mm of a date the naming authority owned the domain
  // + reversed domain name + optional ':' and a unique string
  iqn: /^iqn\.\d{4}-(0[1-9]|1[0-2])\.[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[a-z0-9.:-]+)?$/,
  // RFC 7143 §4.2.7.3 / RFC 3720 §3.2.6.3.2: eui. + an EUI-64 as 16 hex digits
  eui: /^eui\.[0-9A-F]{16}$/,
  // RFC 7143 §4.2.7.4 / RFC 3980: naa. + a 64- or 128-bit NAA identifier in hex
  naa: /^naa\.([0-9A-F]{16}|[0-9A-F]{32})$/,
} as const satisfies Record<string, RegExp>;

/** Canonical form: iqn. lower case (stringprep); eui./naa. hex upper case as the RFC writes it. */
export function normalizeIscsiName(name: string): string {
  const lower = name.trim().toLowerCase();
  if (lower.startsWith('eui.') || lower.startsWith('naa.')) return lower.slice(0, 4) + lower.slice(4).toUpperCase();
  return lower;
}

export function iscsiNameProblem(raw: string): string | undefined {
  const name = normalizeIscsiName(raw);
  if (Buffer.byteLength(name, 'utf8') > MAX_ISCSI_NAME_BYTES) return `is longer than ${MAX_ISCSI_NAME_BYTES} bytes (RFC 7143 §4.2.7.1)`;
  const prefix = name.slice(0, 4);
  if (prefix === 'iqn.') {
    if (!ISCSI_NAME_FORMATS.iqn.test(name)) {
      return 'is not a valid iqn. name: iqn.YYYY-MM.reversed.domain[:unique], lower-case letters, digits, "-", ".", ":" (RFC 7143 §4.2.7.2)';
    }
    return undefined;
  }
  if (prefix === 'eui.') return ISCSI_NAME_FORMATS.eui.test(name) ? undefined : 'is not a valid eui. name: "eui." + 16 hex digits (RFC 7143 §4.2.7.3)';
  if (prefix === 'naa.') return ISCSI_NAME_FORMATS.naa.test(name) ? undefined : 'is not a valid naa. name: "naa." + 16 or 32 hex digits (RFC 7143 §4.2.7.4)';
  return 'must start with iqn., eui. or naa. (RFC 7143 §4.2.7)';
}

export interface ParsedPortal {
  host: string;
  port: number;
}

/** `host[:port]`, `[v6][:port]` → host and port (3260 when omitted, RFC 7143 §13.8 default). */
export function parsePortal(text: string): ParsedPortal {
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([0-9a-fA-F:.%a-zA-Z]+)\](?::(\d+))?$/.exec(text);
  if (v6) {
    host = v6[1]!;
    portText = v6[2];
  } else {
    const parts = text.split(':');
    if (parts.length > 2) throw new Error(`portal "${text}": write IPv6 addresses in brackets, e.g. [::1]:3260`);
    host = parts[0]!;
    portText = parts[1];
  }
  if (!host) throw new Error(`portal "${text}": missing address`);
  const port = portText === undefined ? 3260 : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`portal "${text}": bad port`);
  return { host, port };
}
