/**
 * `openlun login` / `openlun logout`. Login signs in with the password once, creates an API token for this machine
 * (POST /api/tokens), signs the cookie session out again, and stores URL + token + the server's certificate pin.
 * The password is never stored, the token never printed unless --show-token.
 */
import { hostname } from 'node:os';
import { Api, ApiError } from '../api.ts';
import { CliError, parseCommand } from '../args.ts';
import { credentialsPath, loadLogin, removeLogin, saveLogin } from '../credentials.ts';
import type { StoredLogin } from '../credentials.ts';
import { explicitTrust, sameOrigin } from '../context.ts';
import { json } from '../output.ts';
import { askHidden, askYesNo, hasTerminal, secretFromStdin } from '../prompt.ts';
import { CertificateMismatchError, parseApplianceUrl, probeCertificate } from '../transport.ts';
import type { Trust } from '../transport.ts';

export const LOGIN_USAGE = `usage: openlun login [--url URL] [--user NAME] [--password-stdin] [--fingerprint SHA256 | --ca FILE]
                     [--token-name NAME] [--show-token] [--json]

Signs in to the appliance (default URL: the last login, OPENLUN_URL, or https://127.0.0.1:8443), creates an API
token for this machine and stores URL, token and certificate trust in ${credentialsPath()} (mode 0600).
The password is asked on the terminal without echo, or read from the first line of standard input with
--password-stdin; it is not stored. Read-only users log in the same way (their token is read-only; a server
older than that refuses, and an admin creates the token instead: then set OPENLUN_TOKEN).

Certificate: the appliance's certificate is self-signed. login shows its SHA-256 fingerprint and asks before
pinning it (trust on first use); compare it with the one on the appliance's console or with
  openssl x509 -in DATA_DIR/tls/cert.pem -noout -fingerprint -sha256
--fingerprint SHA256 pins a known fingerprint without asking (scripts); --ca FILE trusts a CA instead. Every later
command refuses a server whose certificate no longer matches. http:// is accepted for loopback addresses only.`;

export const LOGOUT_USAGE = `usage: openlun logout

Revokes the stored API token on the appliance and removes ${credentialsPath()}.`;

const DEFAULT_URL = 'https://127.0.0.1:8443';

interface Created {
  token: { id: number; name: string };
  secret: string;
}

function tokenName(given: string | undefined): string {
  if (given) return given;
  // a label (letters, digits, space, "_", ".", ":", "@", "-"; at most 64): what the web UI's token list shows
  const host = hostname().replace(/[^A-Za-z0-9_.:@-]/g, '-').slice(0, 40) || 'host';
  return `openlun-cli@${host}`.slice(0, 64);
}

/** How to trust this server: explicit choice, system CAs, the stored pin, or a pin the user confirms now. */
async function establishTrust(url: URL, values: { fingerprint?: string | undefined; ca?: string | undefined; json: boolean }, stored: StoredLogin | undefined): Promise<Trust> {
  if (url.protocol === 'http:') return { kind: 'plain' };
  const chosen = explicitTrust(values, LOGIN_USAGE);
  if (chosen?.kind === 'ca') return chosen;
  const cert = await probeCertificate(url);
  if (chosen?.kind === 'pin') {
    if (cert.fingerprint256 !== chosen.fingerprint256) throw new CertificateMismatchError(url.origin, chosen.fingerprint256, cert.fingerprint256);
    return chosen;
  }
  if (cert.authorized) return { kind: 'system' };
  const pinned = stored && sameOrigin(stored.url, url.origin) && stored.trust.kind === 'pin' ? stored.trust.fingerprint256 : undefined;
  if (pinned) {
    if (pinned !== cert.fingerprint256) throw new CertificateMismatchError(url.origin, pinned, cert.fingerprint256);
    return stored!.trust;
  }
  process.stderr.write(
    `The certificate of ${url.origin} is not signed by a CA this machine trusts (${cert.authorizationError ?? 'unknown issuer'}).\n` +
      `  subject:     ${cert.subject}\n  valid until: ${cert.validTo}\n  SHA256:      ${cert.fingerprint256}\n` +
      'Compare the fingerprint with the one the appliance shows (console, or: openssl x509 -in DATA_DIR/tls/cert.pem -noout -fingerprint -sha256).\n',
  );
  if (!hasTerminal()) {
    throw new CliError('no terminal to confirm the certificate on; after checking the fingerprint above, run login again with --fingerprint SHA256 (or --ca FILE)');
  }
  if (!(await askYesNo('Trust this certificate and pin it? [y/N] '))) throw new CliError('certificate not trusted; nothing was sent');
  return { kind: 'pin', fingerprint256: cert.fingerprint256 };
}

export async function loginCommand(argv: string[]): Promise<number> {
  const { values } = parseCommand(LOGIN_USAGE, argv, {
    user: { type: 'string' },
    'password-stdin': { type: 'boolean', default: false },
    'show-token': { type: 'boolean', default: false },
    'token-name': { type: 'string' },
  });
  let stored: StoredLogin | undefined;
  try {
    stored = loadLogin();
  } catch {
    stored = undefined; // an unreadable old login is simply replaced
  }
  const url = parseApplianceUrl(values.url ?? process.env['OPENLUN_URL'] ?? stored?.url ?? DEFAULT_URL);
  const username = values.user ?? (stored && sameOrigin(stored.url, url.origin) ? stored.username : 'admin');
  const trust = await establishTrust(url, values, stored);
  const password = values['password-stdin'] ? await secretFromStdin(0, 'password') : await askHidden(`Password for ${username} at ${url.host}: `);

  const api = new Api(url, trust, {});
  const res = await api.raw('POST', '/api/login', { username, password });
  if (res.status !== 200) {
    let message = `login failed: HTTP ${res.status}`;
    try {
      message = (JSON.parse(res.body) as { message?: string }).message ?? message;
    } catch {
      /* not JSON: keep the status */
    }
    throw new CliError(`login to ${url.origin} as ${username} failed: ${message}`);
  }
  const cookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]!).join('; ');
  const { csrfToken } = JSON.parse(res.body) as { csrfToken: string };
  api.auth = { cookie, csrfToken };
  let created: Created;
  try {
    created = await api.call<Created>('POST', '/api/tokens', { name: tokenName(values['token-name']) });
  } catch (err) {
    if (err instanceof ApiError && err.status === 403) {
      throw new CliError(`${username} may not create API tokens (${err.message}); an admin can create one for this user in the web UI (Administration → API tokens); then set OPENLUN_TOKEN`);
    }
    throw err;
  } finally {
    // the cookie session was only the way to the token
    await api.call('POST', '/api/logout').catch(() => undefined);
  }

  // the previous token for this appliance is no longer needed: revoke it with the new one
  if (stored && sameOrigin(stored.url, url.origin) && stored.tokenId !== created.token.id) {
    await new Api(url, trust, { token: created.secret }).call('DELETE', `/api/tokens/${stored.tokenId}`).catch(() => undefined);
  }
  const login: StoredLogin = { url: url.origin, username, token: created.secret, tokenId: created.token.id, trust, savedAt: new Date().toISOString() };
  saveLogin(login);
  const shown = { url: login.url, username, tokenId: login.tokenId, tokenName: created.token.name, trust, credentials: credentialsPath(), ...(values['show-token'] ? { token: created.secret } : {}) };
  if (values.json) process.stdout.write(json(shown));
  else {
    const how = trust.kind === 'pin' ? `certificate pinned (SHA256 ${trust.fingerprint256})` : trust.kind === 'ca' ? `certificate checked against ${trust.caFile}` : trust.kind === 'plain' ? 'plain HTTP on loopback' : 'certificate trusted by the system CAs';
    process.stdout.write(`Logged in to ${login.url} as ${username}; API token ${created.token.name} (id ${login.tokenId}) stored in ${credentialsPath()}; ${how}.\n`);
    if (values['show-token']) process.stdout.write(`${created.secret}\n`);
  }
  return 0;
}

export async function logoutCommand(argv: string[]): Promise<number> {
  const { values } = parseCommand(LOGOUT_USAGE, argv, {});
  const stored = loadLogin();
  if (!stored) {
    process.stdout.write(values.json ? json({ loggedOut: false }) : 'not logged in\n');
    return 0;
  }
  let problem: string | undefined;
  try {
    await new Api(parseApplianceUrl(stored.url), stored.trust, { token: stored.token }).call('DELETE', `/api/tokens/${stored.tokenId}`);
  } catch (err) {
    // 401: the token is already gone (revoked in the web UI): nothing left to revoke
    if (!(err instanceof ApiError && err.status === 401)) problem = (err as Error).message;
  }
  removeLogin();
  if (problem) throw new CliError(`removed the stored login, but token id ${stored.tokenId} could not be revoked on ${stored.url}: ${problem}; revoke it in the web UI (Administration → API tokens)`);
  process.stdout.write(values.json ? json({ loggedOut: true, url: stored.url, tokenId: stored.tokenId }) : `Logged out of ${stored.url}; token id ${stored.tokenId} revoked.\n`);
  return 0;
}
