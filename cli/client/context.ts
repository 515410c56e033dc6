/**
 * What a command runs with: where to print, whether to print JSON, and a lazily made Api for the appliance chosen
 * by --url / OPENLUN_URL / the stored login, authenticated by OPENLUN_TOKEN or the stored token, and trusted by
 * --ca / --fingerprint / OPENLUN_CA / OPENLUN_FINGERPRINT / the stored pin (for that same URL only).
 */
import { Api } from './api.ts';
import { CliError, UsageError } from './args.ts';
import type { GlobalValues } from './args.ts';
import { credentialsPath, loadLogin } from './credentials.ts';
import { normalizeFingerprint, parseApplianceUrl } from './transport.ts';
import type { Trust } from './transport.ts';
import { json } from './output.ts';

export interface Context {
  json: boolean;
  out(text: string): void;
  /** JSON for --json, else the readable text */
  print(data: unknown, text: () => string): void;
  api(): Api;
}

export function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

/** Trust chosen on the command line or in the environment, if any. */
export function explicitTrust(g: GlobalValues, usage: string, env: NodeJS.ProcessEnv = process.env): Trust | undefined {
  const ca = g.ca ?? env['OPENLUN_CA'];
  const fp = g.fingerprint ?? env['OPENLUN_FINGERPRINT'];
  if (ca && fp) throw new UsageError('give either --ca or --fingerprint, not both', usage);
  if (ca) return { kind: 'ca', caFile: ca };
  if (fp) {
    const f = normalizeFingerprint(fp);
    if (!f) throw new UsageError(`--fingerprint wants a SHA-256 fingerprint (64 hex digits, colons optional), got "${fp}"`, usage);
    return { kind: 'pin', fingerprint256: f };
  }
  return undefined;
}

export function makeContext(g: GlobalValues, usage: string, env: NodeJS.ProcessEnv = process.env): Context {
  let api: Api | undefined;
  const ctx: Context = {
    json: g.json,
    out: (text) => void process.stdout.write(text),
    print(data, text) {
      ctx.out(g.json ? json(data) : text());
    },
    api() {
      if (api) return api;
      const stored = loadLogin();
      const urlText = g.url ?? env['OPENLUN_URL'] ?? stored?.url;
      if (!urlText) throw new CliError(`not logged in: run openlun login --url https://APPLIANCE:8443 (or set OPENLUN_URL and OPENLUN_TOKEN)`);
      const url = parseApplianceUrl(urlText);
      const storedHere = stored && sameOrigin(stored.url, url.origin) ? stored : undefined;
      const token = env['OPENLUN_TOKEN'] || storedHere?.token;
      if (!token) throw new CliError(`not logged in to ${url.origin}: run openlun login --url ${url.origin} (or set OPENLUN_TOKEN); ${credentialsPath()} has ${stored ? `a login for ${stored.url}` : 'no login'}`);
      const trust: Trust = url.protocol === 'http:' ? { kind: 'plain' } : (explicitTrust(g, usage, env) ?? storedHere?.trust ?? { kind: 'system' });
      api = new Api(url, trust, { token });
      return api;
    },
  };
  return ctx;
}
