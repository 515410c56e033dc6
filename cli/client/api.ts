/**
 * The management API as the command line uses it: JSON in and out, a Bearer token (or, during login only, the
 * session cookie and its CSRF token), the API's error body turned into an ApiError, and the target daemon's
 * "saved but not applied" header turned into a warning.
 */
import { CliError } from './args.ts';
import { exchange } from './transport.ts';
import type { HttpResponse, Trust } from './transport.ts';

export interface FieldProblem {
  field: string;
  message: string;
}

/** The API refused (4xx/5xx): its `message` and per-field problems. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: FieldProblem[] = [],
  ) {
    super(message);
  }

  /** The server has no such route at all (an older server), as opposed to "no such object". */
  get routeMissing(): boolean {
    return this.status === 404 && this.message.startsWith('no route ');
  }
}

export interface ApiAuth {
  token?: string;
  cookie?: string;
  csrfToken?: string;
}

export class Api {
  constructor(
    readonly url: URL,
    readonly trust: Trust,
    public auth: ApiAuth,
  ) {}

  async raw(method: string, path: string, body?: unknown): Promise<HttpResponse> {
    const headers: Record<string, string> = {};
    if (this.auth.token) headers['authorization'] = `Bearer ${this.auth.token}`;
    if (this.auth.cookie) headers['cookie'] = this.auth.cookie;
    if (this.auth.csrfToken && method !== 'GET') headers['x-csrf-token'] = this.auth.csrfToken;
    return exchange(this.url, this.trust, method, path, headers, body === undefined ? undefined : JSON.stringify(body));
  }

  /** The parsed JSON answer (undefined for 204); throws ApiError for an error status. */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.raw(method, path, body);
    let data: unknown;
    if (res.body) {
      try {
        data = JSON.parse(res.body);
      } catch {
        if (res.status >= 400) throw new ApiError(res.status, 'http', `${method} ${path}: HTTP ${res.status} ${res.body.slice(0, 200)}`);
        throw new CliError(`${method} ${path}: the server answered with something other than JSON (is ${this.url.origin} an openlun appliance?)`);
      }
    }
    if (res.status >= 400) {
      const e = (data ?? {}) as { error?: string; message?: string; fields?: FieldProblem[] };
      throw new ApiError(res.status, e.error ?? 'http', e.message ?? `${method} ${path}: HTTP ${res.status}`, Array.isArray(e.fields) ? e.fields : []);
    }
    const applied = res.headers['x-openlun-target'];
    if (typeof applied === 'string') {
      process.stderr.write(`warning: the change is saved, but the target daemon did not apply it (${applied.replace(/^apply-failed;\s*/, '')}); it is sent again with the next change or when serve restarts\n`);
    }
    return data as T;
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }
}
