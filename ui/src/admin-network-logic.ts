/**
 * Administration → Network, the pure part: the form's client-side checks (the same rules as the API's
 * staticProblems, so most mistakes are named before a round trip), the PUT body, the URL the UI will answer at,
 * and the mapping of the API's field names onto the form's inputs. No DOM.
 */

export type NetworkMode = 'dhcp' | 'static';

export interface NetworkInterfaceInfo {
  name: string;
  mac: string | null;
  /** address/prefix, IPv4 and IPv6 */
  addresses: string[];
}

export interface NetworkState {
  mode: NetworkMode;
  interface?: string;
  address?: string;
  prefixLength?: number;
  gateway?: string | null;
  dns?: string[];
  interfaces: NetworkInterfaceInfo[];
}

export type NetworkChange =
  | { mode: 'dhcp' }
  | { mode: 'static'; interface: string; address: string; prefixLength: number; gateway?: string; dns?: string[] };

/** The form as strings, as the inputs hold them. */
export interface NetworkForm {
  mode: NetworkMode;
  interface: string;
  address: string;
  prefixLength: string;
  gateway: string;
  dns: [string, string, string];
}

export const MAX_DNS = 3;

/** Dotted quad, four decimal octets 0-255 without leading zeros (as node's isIPv4 accepts them). */
export function isDottedQuad(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

const ipv4Int = (a: string): number => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);

function parsePrefix(s: string): number | undefined {
  const t = s.trim();
  if (!/^\d{1,2}$/.test(t)) return undefined;
  const n = Number(t);
  return n >= 1 && n <= 32 ? n : undefined;
}

/** Every problem of the form at once, keyed by input name (dns0..dns2 for the DNS servers). */
export function validateNetworkForm(f: NetworkForm, interfaces: readonly string[]): Record<string, string> {
  const e: Record<string, string> = {};
  if (f.mode === 'dhcp') return e;
  const iface = f.interface.trim();
  if (!iface) e['interface'] = 'is required';
  else if (!interfaces.includes(iface)) e['interface'] = `does not exist here (interfaces: ${interfaces.join(', ') || 'none'})`;
  const address = f.address.trim();
  const addressOk = isDottedQuad(address);
  if (!address) e['address'] = 'is required';
  else if (!addressOk) e['address'] = 'must be an IPv4 address like 192.0.2.10';
  const prefix = parsePrefix(f.prefixLength);
  if (!f.prefixLength.trim()) e['prefixLength'] = 'is required';
  else if (prefix === undefined) e['prefixLength'] = 'must be a whole number from 1 to 32';
  if (addressOk && prefix !== undefined && prefix <= 30) {
    // RFC 919/922: the all-zeros and all-ones host parts name the network and the broadcast, not a host.
    const size = 2 ** (32 - prefix);
    const host = ipv4Int(address) % size;
    if (host === 0 || host === size - 1) e['address'] = `is the network or broadcast address of /${prefix}`;
  }
  const gateway = f.gateway.trim();
  if (gateway) {
    if (!isDottedQuad(gateway)) e['gateway'] = 'must be an IPv4 address';
    else if (addressOk && prefix !== undefined) {
      // a gateway is reached on the link, so it must be inside the interface's own network (RFC 1122 §3.3.1.1)
      const size = 2 ** (32 - prefix);
      if (Math.floor(ipv4Int(gateway) / size) !== Math.floor(ipv4Int(address) / size)) e['gateway'] = `is not in ${address}/${prefix}`;
      else if (gateway === address) e['gateway'] = "is the appliance's own address";
    }
  }
  f.dns.forEach((d, i) => {
    if (d.trim() && !isDottedQuad(d.trim())) e[`dns${i}`] = 'must be an IPv4 address';
  });
  return e;
}

/** The PUT /api/network body of a valid form: blanks left out, DNS servers in order without gaps. */
export function networkBody(f: NetworkForm): NetworkChange {
  if (f.mode === 'dhcp') return { mode: 'dhcp' };
  const dns = f.dns.map((d) => d.trim()).filter(Boolean);
  const gateway = f.gateway.trim();
  return {
    mode: 'static',
    interface: f.interface.trim(),
    address: f.address.trim(),
    prefixLength: Number(f.prefixLength.trim()),
    ...(gateway ? { gateway } : {}),
    ...(dns.length ? { dns } : {}),
  };
}

/** The form filled from the current state (static values kept; DHCP preselects the first interface). */
export function formFromState(s: NetworkState): NetworkForm {
  const dns = s.dns ?? [];
  return {
    mode: s.mode,
    interface: s.interface ?? s.interfaces[0]?.name ?? '',
    address: s.address ?? '',
    prefixLength: s.prefixLength !== undefined ? String(s.prefixLength) : '24',
    gateway: s.gateway ?? '',
    dns: [dns[0] ?? '', dns[1] ?? '', dns[2] ?? ''],
  };
}

/** The API names DNS problems dns[1] (its own checks) or dns/1 (the schema); the form's inputs are dns0..dns2. */
export function networkFieldErrors(byField: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(byField)) {
    const m = /^dns(?:\[(\d)\]|\/(\d))?$/.exec(k);
    const key = m ? `dns${m[1] ?? m[2] ?? '0'}` : k;
    out[key] = out[key] ? `${out[key]}; ${v}` : v;
  }
  return out;
}

/** Where the web UI answers after the change: same scheme and port, the new address (static) or the DHCP lease. */
export function newUiUrl(protocol: string, port: string, address: string): string {
  const scheme = protocol.replace(/:$/, '') || 'https';
  return `${scheme}://${address}${port ? `:${port}` : ''}/`;
}
