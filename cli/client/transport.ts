/**
 * One HTTP exchange with the appliance, over a connection whose server identity was checked before a single byte
 * of the request (and so the token) is written:
 *  - pin:    the server certificate's SHA-256 fingerprint must equal the pinned one (trust on first use at login;
 *            the appliance's certificate is self-signed, so no CA chain can vouch for it — the pin does);
 *  - ca:     the chain must verify against the given CA file and the certificate must name the host;
 *  - system: the chain must verify against node's CA store and name the host;
 *  - plain:  http://, allowed only to a loopback address (serve --no-tls refuses anything else too).
 * The TLS socket is made here and handed to http.request, so the check cannot race the request.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { CliError } from './args.ts';

export type Trust = { kind: 'pin'; fingerprint256: string } | { kind: 'ca'; caFile: string } | { kind: 'system' } | { kind: 'plain' };

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface PeerCertificate {
  fingerprint256: string;
  subject: string;
  issuer: string;
  validTo: string;
  /** whether node's CA store vouches for it under this host name */
  authorized: boolean;
  authorizationError?: string | undefined;
}

/** The server presented a certificate other than the pinned one. */
export class CertificateMismatchError extends CliError {
  constructor(
    readonly url: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      `the server certificate of ${url} does not match the pinned one\n` +
        `  pinned:    SHA256 ${expected}\n  presented: SHA256 ${actual}\n` +
        'Nothing was sent. If the appliance really has a new certificate, check its fingerprint on the appliance ' +
        '(openssl x509 -in DATA_DIR/tls/cert.pem -noout -fingerprint -sha256) and log in again with --fingerprint.',
    );
  }
}

const REQUEST_TIMEOUT_MS = 120_000;
const CONNECT_TIMEOUT_MS = 15_000;

/**
 * "SHA256:ab:cd…", openssl's "sha256 Fingerprint=AB:CD:…", "AB:CD:…" or 64 hex digits → node's form "AB:CD:…";
 * undefined when it is not a SHA-256 digest.
 */
export function normalizeFingerprint(text: string): string | undefined {
  const hex = text.trim().replace(/^sha-?256(?:\s*fingerprint)?\s*[:=]?\s*/i, '').replace(/[:\s]/g, '');
  if (!/^[0-9a-f]{64}$/i.test(hex)) return undefined;
  return hex.toUpperCase().match(/../g)!.join(':');
}

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || (net.isIPv4(h) && h.startsWith('127.'));
}

/** Parses and checks an appliance URL: https://, or http:// to loopback only; no path, query or credentials. */
export function parseApplianceUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliError(`"${text}" is not a URL (example: https://192.0.2.10:8443)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new CliError(`${text}: only https:// (or http:// to this machine) is supported`);
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new CliError(`${text}: plain http:// would send the token in clear text; it is allowed to a loopback address only (use https://)`);
  }
  if (url.username || url.password) throw new CliError(`${text}: put no credentials in the URL (use openlun login)`);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) throw new CliError(`${text}: give the appliance's address only, like https://192.0.2.10:8443`);
  return url;
}

function hostOf(url: URL): { host: string; port: number; servername?: string } {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  // RFC 6066 §3: SNI carries DNS names only, never an IP literal
  return net.isIP(host) ? { host, port } : { host, port, servername: host };
}

function describeSocketError(url: URL, err: NodeJS.ErrnoException): string {
  const where = url.origin;
  switch (err.code) {
    case 'ECONNREFUSED':
      return `cannot reach ${where}: connection refused (is openlun serve running there?)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve ${url.hostname}`;
    case 'ETIMEDOUT':
      return `cannot reach ${where}: timed out`;
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
    case 'CERT_HAS_EXPIRED':
      return `the server certificate of ${where} is not trusted (${err.message}); log in to pin it (openlun login --url ${where}), or pass --fingerprint SHA256 or --ca FILE`;
    default:
      return `cannot reach ${where}: ${err.message}`;
  }
}

function certificateInfo(socket: tls.TLSSocket): PeerCertificate {
  const c = socket.getPeerCertificate();
  const name = (x: unknown): string => {
    if (!x || typeof x !== 'object') return '';
    return Object.entries(x as Record<string, unknown>).map(([k, v]) => `${k}=${String(v)}`).join(', ');
  };
  return {
    fingerprint256: c.fingerprint256,
    subject: name(c.subject),
    issuer: name(c.issuer),
    validTo: c.valid_to,
    authorized: socket.authorized,
    authorizationError: socket.authorizationError ? String(socket.authorizationError) : undefined,
  };
}

/** Connects and checks the server's identity per `trust`; resolves with a socket nothing has been written to. */
export function connect(url: URL, trust: Trust): Promise<net.Socket> {
  const { host, port, servername } = hostOf(url);
  return new Promise((resolve, reject) => {
    const fail = (err: Error): void => {
      socket.destroy();
      reject(err instanceof CliError ? err : new CliError(describeSocketError(url, err as NodeJS.ErrnoException)));
    };
    let socket: net.Socket;
    if (url.protocol === 'http:') {
      if (!isLoopbackHost(url.hostname) || trust.kind !== 'plain') return reject(new CliError(`plain http:// is allowed to a loopback address only`));
      socket = net.connect({ host, port, timeout: CONNECT_TIMEOUT_MS }, () => {
        socket.setTimeout(0);
        resolve(socket);
      });
    } else {
      let options: tls.ConnectionOptions = { host, port, timeout: CONNECT_TIMEOUT_MS, ...(servername ? { servername } : {}) };
      if (trust.kind === 'pin') {
        // the pin replaces chain and name checks: it is compared below before the socket is handed out
        options = { ...options, rejectUnauthorized: false };
      } else if (trust.kind === 'ca') {
        let ca: Buffer;
        try {
          ca = readFileSync(trust.caFile);
        } catch (err) {
          return reject(new CliError(`cannot read the CA file ${trust.caFile}: ${(err as Error).message}`));
        }
        options = { ...options, ca, rejectUnauthorized: true };
      } else if (trust.kind === 'system') {
        options = { ...options, rejectUnauthorized: true };
      } else {
        return reject(new CliError(`${url.origin}: https:// needs a trusted certificate`));
      }
      const t = tls.connect(options, () => {
        t.setTimeout(0);
        if (trust.kind === 'pin') {
          const actual = t.getPeerCertificate().fingerprint256;
          if (actual !== trust.fingerprint256) return fail(new CertificateMismatchError(url.origin, trust.fingerprint256, actual));
        }
        resolve(t);
      });
      socket = t;
    }
    socket.once('error', fail);
    socket.once('timeout', () => fail(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
  });
}

/** The server's certificate, read without trusting it and without sending anything (login shows it before pinning). */
export function probeCertificate(url: URL): Promise<PeerCertificate> {
  const { host, port, servername } = hostOf(url);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port, timeout: CONNECT_TIMEOUT_MS, rejectUnauthorized: false, ...(servername ? { servername } : {}) }, () => {
      const info = certificateInfo(socket);
      socket.end();
      resolve(info);
    });
    socket.once('error', (err) => reject(new CliError(describeSocketError(url, err as NodeJS.ErrnoException))));
    socket.once('timeout', () => {
      socket.destroy();
      reject(new CliError(`cannot reach ${url.origin}: timed out`));
    });
  });
}

/** One request on its own connection (Connection: close). */
export async function exchange(url: URL, trust: Trust, method: string, path: string, headers: Record<string, string>, body?: string): Promise<HttpResponse> {
  const socket = await connect(url, trust);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        createConnection: () => socket,
        method,
        path,
        headers: {
          host: url.host,
          connection: 'close',
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}),
          ...headers,
        },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (err) => reject(new CliError(`${method} ${path}: ${err.message}`)));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)));
    req.on('error', (err) => reject(err instanceof CliError ? err : new CliError(`${method} ${url.origin}${path}: ${err.message}`)));
    req.end(body);
  });
}
