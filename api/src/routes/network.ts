/**
 * GET/PUT /api/network: the appliance's management address, DHCP (the default) or a static IPv4 address.
 * Any signed-in role may read it; only an admin may change it. The API never writes /etc/systemd/network itself: it runs the privileged helper the console uses
 * (systemd/libexec/openlun-netconfig) with an argv array, after checking every field here, so a bad request
 * changes nothing and the console and the API produce the same file.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { networkInterfaces } from 'node:os';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { responses, StringEnum } from '../schemas.ts';
import { Problems, StoreError } from '../store/errors.ts';
import { changeContext } from './common.ts';

/** Where the ISO installs the helper (systemd/layout.ts). */
export const NETCONFIG_HELPER = '/usr/libexec/openlun/openlun-netconfig';

export interface NetworkOptions {
  /** argv prefix that runs openlun-netconfig (tests add --dir DIR --no-apply). */
  helper?: readonly string[];
  /** The host's interfaces (tests give fixed ones); default os.networkInterfaces(). */
  interfaces?: () => NetworkInterfaceInfo[];
}

export interface NetworkInterfaceInfo {
  name: string;
  mac: string | null;
  /** address/prefix, IPv4 and IPv6 */
  addresses: string[];
}

const Ipv4 = Type.String({ maxLength: 15, description: 'dotted-quad IPv4 address' });
const NetworkInterface = Type.Object({ name: Type.String(), mac: Type.Union([Type.String(), Type.Null()]), addresses: Type.Array(Type.String()) });
const NetworkState = Type.Object({
  mode: StringEnum(['dhcp', 'static']),
  interface: Type.Optional(Type.String()),
  address: Type.Optional(Type.String()),
  prefixLength: Type.Optional(Type.Integer()),
  gateway: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  dns: Type.Optional(Type.Array(Type.String())),
  interfaces: Type.Array(NetworkInterface, { description: 'the wired interfaces and their current addresses' }),
});
const NetworkChange = Type.Object({
  mode: StringEnum(['dhcp', 'static']),
  interface: Type.Optional(Type.String({ minLength: 1, maxLength: 15 })),
  address: Type.Optional(Ipv4),
  prefixLength: Type.Optional(Type.Integer({ minimum: 1, maximum: 32 })),
  gateway: Type.Optional(Type.Union([Ipv4, Type.Null()])),
  dns: Type.Optional(Type.Array(Ipv4, { maxItems: 3 })),
}, { additionalProperties: false });
type NetworkChangeBody = Static<typeof NetworkChange>;

/** Linux interface names: 1-15 bytes, no '/', no spaces (dev_valid_name); ours also start with a letter/digit. */
const IFACE_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;

const ipv4Int = (a: string) => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);

/** Every problem of a static configuration at once, as the UI shows them next to the fields. */
export function staticProblems(body: NetworkChangeBody, known: readonly string[]): Problems {
  const p = new Problems();
  if (body.interface === undefined) p.check('interface', 'is required');
  else if (!IFACE_RE.test(body.interface)) p.check('interface', 'is not an interface name');
  else if (!known.includes(body.interface)) p.check('interface', `does not exist here (interfaces: ${known.join(', ') || 'none'})`);
  if (body.address === undefined) p.check('address', 'is required');
  else if (!isIPv4(body.address)) p.check('address', 'must be an IPv4 address like 192.0.2.10');
  if (body.prefixLength === undefined) p.check('prefixLength', 'is required');
  if (body.address && isIPv4(body.address) && body.prefixLength !== undefined && body.prefixLength <= 30) {
    // RFC 919/922: the all-zeros and all-ones host parts name the network and the broadcast, not a host.
    const host = ipv4Int(body.address) % 2 ** (32 - body.prefixLength);
    if (host === 0 || host === 2 ** (32 - body.prefixLength) - 1) p.check('address', `is the network or broadcast address of /${body.prefixLength}`);
  }
  if (body.gateway) {
    if (!isIPv4(body.gateway)) p.check('gateway', 'must be an IPv4 address');
    else if (body.address && isIPv4(body.address) && body.prefixLength !== undefined) {
      const size = 2 ** (32 - body.prefixLength);
      if (Math.floor(ipv4Int(body.gateway) / size) !== Math.floor(ipv4Int(body.address) / size)) p.check('gateway', `is not in ${body.address}/${body.prefixLength}`);
      else if (body.gateway === body.address) p.check('gateway', "is the appliance's own address");
    }
  }
  (body.dns ?? []).forEach((d, i) => { if (!isIPv4(d)) p.check(`dns[${i}]`, 'must be an IPv4 address'); });
  return p;
}

function hostInterfaces(): NetworkInterfaceInfo[] {
  return Object.entries(networkInterfaces())
    .filter(([, addrs]) => !(addrs ?? []).some((a) => a.internal))
    .map(([name, addrs]) => ({
      name,
      mac: addrs?.find((a) => a.mac && a.mac !== '00:00:00:00:00:00')?.mac ?? null,
      addresses: (addrs ?? []).map((a) => a.cidr ?? a.address),
    }));
}

function runHelper(argv: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(argv[0]!, argv.slice(1), { timeout: 30_000, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' } }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      // The helper's messages start with the field ("address: …"): its own checks back ours up.
      const msg = stderr.trim().replace(/^openlun-netconfig: /, '') || err.message;
      const field = /^(interface|address|prefix|gateway|dns):/.exec(msg)?.[1];
      if (field) return reject(new StoreError('invalid', msg, [{ field: field === 'prefix' ? 'prefixLength' : field, message: msg }]));
      reject(new Error(`openlun-netconfig failed: ${msg}`));
    });
  });
}

export function networkRoutes(o: NetworkOptions = {}) {
  return async (app: FastifyInstance): Promise<void> => {
    const { store } = app.openlun;
    const helper = o.helper ?? [NETCONFIG_HELPER];
    const interfaces = o.interfaces ?? hostInterfaces;
    const available = () => {
      if (!o.helper && !existsSync(NETCONFIG_HELPER)) {
        throw new StoreError('not-found', `network settings are managed on the appliance only (no ${NETCONFIG_HELPER} here)`);
      }
    };
    const current = async () => ({ ...(JSON.parse(await runHelper([...helper, 'show'])) as object), interfaces: interfaces() }) as Static<typeof NetworkState>;

    // Reading is open to every signed-in role (GET /api/system shows the same addresses); changing is admin only.
    app.get('/api/network', {
      schema: { tags: ['system'], summary: 'the management address: DHCP or static, and the interfaces', response: responses({ 200: NetworkState }) },
    }, async () => {
      available();
      return current();
    });

    app.put<{ Body: NetworkChangeBody }>('/api/network', {
      config: { access: 'admin' },
      schema: { tags: ['system'], summary: 'switch to DHCP or set a static IPv4 address (written as a systemd-networkd file and applied)', body: NetworkChange, response: responses({ 200: NetworkState }) },
    }, async (request) => {
      available();
      const body = request.body;
      const ctx = changeContext(request);
      if (body.mode === 'dhcp') {
        await runHelper([...helper, 'dhcp']);
        store.audit(ctx, 'network.update', 'network', { mode: 'dhcp' });
        return current();
      }
      staticProblems(body, interfaces().map((i) => i.name)).throwIfAny();
      const argv = [...helper, 'static', '--interface', body.interface!, '--address', `${body.address}/${body.prefixLength}`];
      if (body.gateway) argv.push('--gateway', body.gateway);
      for (const d of body.dns ?? []) argv.push('--dns', d);
      await runHelper(argv);
      store.audit(ctx, 'network.update', 'network', { mode: 'static', interface: body.interface, address: `${body.address}/${body.prefixLength}`, gateway: body.gateway ?? null, dns: body.dns ?? [] });
      return current();
    });
  };
}
