/**
 * iSCSI name and portal syntax (RFC 7143 §4.2.7): validated before anything is configured, so a typo fails at
 * start with a clear message instead of as an initiator's "target not found".
 */

// §4.2.7.2: iqn.yyyy-mm.reversed-domain[:unique]; eui. + 16 hex; naa. + 16 or 32 hex
const IQN = /^iqn\.\d{4}-(0[1-9]|1[0-2])\.[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[a-z0-9.:\-]+)?$/;
const EUI = /^eui\.[0-9a-f]{16}$/;
const NAA = /^naa\.([0-9a-f]{16}|[0-9a-f]{32})$/;
/** §4.2.7.1: at most 223 bytes */
const MAX_NAME_BYTES = 223;

export function iscsiNameProblem(name: string): string | undefined {
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) return `longer than ${MAX_NAME_BYTES} bytes`;
  const n = name.toLowerCase();
  if (IQN.test(n) || EUI.test(n) || NAA.test(n)) return undefined;
  return 'not an iqn./eui./naa. name (e.g. iqn.2026-11.org.example:storage)';
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
