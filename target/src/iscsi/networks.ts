/**
 * Initiator addresses against CIDR networks, for ACL rules that restrict where an initiator may log in from.
 * The address is the TCP peer of the connection: what iSCSI itself knows of the initiator's network identity
 * (RFC 7143 §9.1: the target may use it in its access decision; names can be spoofed, addresses less easily).
 */
import { BlockList, isIP } from 'node:net';

type Family = 'ipv4' | 'ipv6';

/** RFC 4291 §2.5.5.2: an IPv4 address as a dual-stack socket reports it. */
const V4_MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/**
 * The address an ACL compares: without an IPv6 zone (`fe80::1%eth0`) and, for an IPv4-mapped IPv6 address
 * (`::ffff:10.1.2.3`, what a listener on `::` reports for an IPv4 client), the IPv4 address itself, so that an
 * IPv4 network matches whichever way the socket was opened. Undefined when it is not an IP address.
 */
export function normalizeAddress(address: string): { address: string; family: Family } | undefined {
  let a = address.trim();
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  const mapped = V4_MAPPED.exec(a);
  if (mapped && isIP(mapped[1]!) === 4) return { address: mapped[1]!, family: 'ipv4' };
  const v = isIP(a);
  if (v === 4) return { address: a, family: 'ipv4' };
  if (v === 6) return { address: a.toLowerCase(), family: 'ipv6' };
  return undefined;
}

export interface Network {
  address: string;
  prefix: number;
  family: Family;
}

/** Parses `a.b.c.d/n` or `v6/n`; undefined when malformed (the desired state is validated before it gets here). */
export function parseNetwork(cidr: string): Network | undefined {
  const parts = cidr.trim().split('/');
  if (parts.length !== 2 || !/^\d{1,3}$/.test(parts[1]!)) return undefined;
  const prefix = Number(parts[1]);
  const mapped = V4_MAPPED.exec(parts[0]!);
  // ::ffff:a.b.c.d/n with n ≥ 96 is an IPv4 network written in IPv6 (RFC 4291 §2.5.5.2)
  if (mapped && isIP(mapped[1]!) === 4 && prefix >= 96 && prefix <= 128) return { address: mapped[1]!, prefix: prefix - 96, family: 'ipv4' };
  const v = isIP(parts[0]!);
  if (v === 0) return undefined;
  const family: Family = v === 4 ? 'ipv4' : 'ipv6';
  if (prefix > (v === 4 ? 32 : 128)) return undefined;
  return { address: parts[0]!, prefix, family };
}

/** A set of networks to test addresses against; malformed entries match nothing (fail closed). */
export class NetworkSet {
  readonly #list = new BlockList();
  readonly size: number;

  constructor(cidrs: readonly string[]) {
    let n = 0;
    for (const c of cidrs) {
      const net = parseNetwork(c);
      if (!net) continue;
      this.#list.addSubnet(net.address, net.prefix, net.family);
      n++;
    }
    this.size = n;
  }

  /** Whether the address lies in one of the networks; an absent or unparsable address never does. */
  contains(address: string | undefined): boolean {
    if (address === undefined) return false;
    const a = normalizeAddress(address);
    return a !== undefined && this.#list.check(a.address, a.family);
  }
}
