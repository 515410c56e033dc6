/**
 * The appliance's own settings beyond hostname and base IQN: the web UI's TLS certificate (shown; replaced by
 * uploading a PEM certificate and its key, effective when the API restarts), the ports it serves on, and the
 * server's clock and time zone. Registered by serve, which knows the address it listens on and the certificate
 * it loaded.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Problems } from '../store/errors.ts';
import { responses } from '../schemas.ts';
import { changeContext } from './common.ts';

export interface ApplianceSettingsOptions {
  dataDir: string;
  web: { host: string; port: number; tls: boolean };
  /** the certificate this process serves (PEM), to tell whether a replacement awaits a restart */
  activeCertificate?: Buffer;
}

const CertInfo = Type.Object({
  subject: Type.String(),
  issuer: Type.String(),
  subjectAltName: Type.Union([Type.String(), Type.Null()]),
  validFrom: Type.String(),
  validTo: Type.String(),
  fingerprint256: Type.String(),
  selfSigned: Type.Boolean(),
});
const Appliance = Type.Object({
  tls: Type.Object({
    enabled: Type.Boolean(),
    certificate: Type.Union([CertInfo, Type.Null()]),
    restartPending: Type.Boolean({ description: 'a new certificate was stored; the API serves it after a restart' }),
  }),
  ports: Type.Object({
    web: Type.Object({ host: Type.String(), port: Type.Integer(), tls: Type.Boolean() }),
    iscsiDefault: Type.Integer(),
    iscsiPortals: Type.Array(Type.Object({ address: Type.String(), port: Type.Integer() })),
  }),
  time: Type.Object({ now: Type.String(), timezone: Type.String(), utcOffsetMinutes: Type.Integer(), ntpSynchronized: Type.Union([Type.Boolean(), Type.Null()]) }),
});
// PEM text; a chain is fine (leaf first). 64 KiB holds any sane chain.
const TlsUpload = Type.Object(
  { certificate: Type.String({ minLength: 1, maxLength: 65536 }), key: Type.String({ minLength: 1, maxLength: 65536 }) },
  { additionalProperties: false },
);

function certInfo(pem: string | Buffer): Static<typeof CertInfo> {
  const c = new X509Certificate(pem);
  return {
    subject: c.subject.replace(/\n/g, ', '),
    issuer: c.issuer.replace(/\n/g, ', '),
    subjectAltName: c.subjectAltName ?? null,
    validFrom: new Date(c.validFrom).toISOString(),
    validTo: new Date(c.validTo).toISOString(),
    fingerprint256: c.fingerprint256,
    selfSigned: c.checkIssued(c),
  };
}

/**
 * Checks an uploaded certificate and key; every problem at once, per field. The leaf must parse (RFC 5280), be
 * valid now, and belong to the key (X509Certificate.checkPrivateKey compares the public halves).
 */
export function tlsProblems(certificate: string, key: string, now = Date.now()): { problems: Problems; leaf?: X509Certificate; keyObject?: KeyObject } {
  const p = new Problems();
  let leaf: X509Certificate | undefined;
  let keyObject: KeyObject | undefined;
  if (!/-----BEGIN CERTIFICATE-----/.test(certificate)) p.check('certificate', 'must be PEM text starting with -----BEGIN CERTIFICATE-----');
  else {
    try {
      leaf = new X509Certificate(certificate);
    } catch (e) {
      p.check('certificate', `is not a readable X.509 certificate (${(e as Error).message})`);
    }
  }
  if (/ENCRYPTED/.test(key)) p.check('key', 'is encrypted; upload the key without a passphrase (the appliance starts unattended)');
  else {
    try {
      keyObject = createPrivateKey(key);
    } catch (e) {
      p.check('key', `is not a readable PEM private key (${(e as Error).message})`);
    }
  }
  if (leaf) {
    if (Date.parse(leaf.validTo) <= now) p.check('certificate', `expired on ${new Date(leaf.validTo).toISOString()}`);
    else if (Date.parse(leaf.validFrom) > now) p.check('certificate', `is not valid before ${new Date(leaf.validFrom).toISOString()}`);
  }
  if (leaf && keyObject && !leaf.checkPrivateKey(keyObject)) p.check('key', 'does not belong to the certificate (their public keys differ)');
  return { problems: p, ...(leaf ? { leaf } : {}), ...(keyObject ? { keyObject } : {}) };
}

/** Writes a file 0600 via a temporary name and a rename, so a crash never leaves half a key. */
function writePrivate(path: string, data: string): void {
  const tmp = `${path}.new-${process.pid}`;
  writeFileSync(tmp, data, { mode: 0o600 });
  renameSync(tmp, path);
}

function ntpSynchronized(): boolean | null {
  // systemd-timesyncd creates this file once the clock is synchronized (systemd-timesyncd.service(8))
  if (existsSync('/run/systemd/timesync/synchronized')) return true;
  return existsSync('/run/systemd/timesync') ? false : null;
}

export function applianceSettingsRoutes(o: ApplianceSettingsOptions) {
  const tlsDir = join(o.dataDir, 'tls');
  const certPath = join(tlsDir, 'cert.pem');
  const keyPath = join(tlsDir, 'key.pem');
  const active = o.activeCertificate ? new X509Certificate(o.activeCertificate).fingerprint256 : undefined;

  return async function registerApplianceSettings(app: FastifyInstance): Promise<void> {
    const { store } = app.openlun;

    app.get('/api/settings/appliance', { schema: { tags: ['system'], summary: 'TLS certificate, ports, server time', response: responses({ 200: Appliance }) } }, async () => {
      let certificate: Static<typeof CertInfo> | null = null;
      try {
        certificate = existsSync(certPath) ? certInfo(readFileSync(certPath)) : null;
      } catch {
        certificate = null;
      }
      const portals = new Map<string, { address: string; port: number }>();
      for (const p of store.listPortals()) portals.set(`${p.address}|${p.port}`, { address: p.address, port: p.port });
      const now = new Date();
      return {
        tls: { enabled: o.web.tls, certificate, restartPending: !!certificate && active !== undefined && certificate.fingerprint256 !== active },
        ports: { web: o.web, iscsiDefault: store.getSettings().iscsiPort, iscsiPortals: [...portals.values()] },
        time: { now: now.toISOString(), timezone: Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC', utcOffsetMinutes: -now.getTimezoneOffset(), ntpSynchronized: ntpSynchronized() },
      };
    });

    app.put<{ Body: Static<typeof TlsUpload> }>('/api/settings/tls', {
      schema: { tags: ['system'], summary: 'replace the web UI certificate (PEM certificate + unencrypted key); used after a restart', body: TlsUpload, response: responses({ 200: CertInfo }) },
    }, async (request) => {
      tlsProblems(request.body.certificate, request.body.key).problems.throwIfAny();
      const info = certInfo(request.body.certificate);
      mkdirSync(tlsDir, { recursive: true, mode: 0o700 });
      writePrivate(keyPath, request.body.key.trim() + '\n');
      writePrivate(certPath, request.body.certificate.trim() + '\n');
      // never the key: who, which certificate, until when
      store.audit(changeContext(request), 'tls.replace', 'tls certificate', { subject: info.subject, fingerprint256: info.fingerprint256, validTo: info.validTo });
      return info;
    });
  };
}
