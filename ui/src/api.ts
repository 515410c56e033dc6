/**
 * The data layer: every call the UI makes to the management API goes through here, never through an element.
 * Same-origin fetch with the session cookie; state-changing calls echo the CSRF token (api/README.md
 * "Authentication and CSRF"); failures become ApiError objects that keep the API's per-field messages so a form can
 * show each one next to its own input.
 */

export interface FieldError {
  field: string;
  message: string;
}

// The records as the API returns them: one definition, shared with the server (type-only, nothing of the server
// reaches the bundle).
export type {
  ChapInfo,
  InitiatorGroup,
  Lun,
  LunMapping,
  Portal,
  Settings,
  Target,
  TargetAcl,
  User,
} from '../../api/src/store/types.ts';
import type { ChapInfo, InitiatorGroup, Lun, LunMapping, Portal, Settings, Target, TargetAcl, User } from '../../api/src/store/types.ts';
import { errorText } from './format.ts';

export interface NewLun {
  name: string;
  backing: 'file';
  sizeBytes: number;
  blockSize: 512 | 4096;
  writeCache?: 'write-back' | 'write-through';
  readOnly?: boolean;
}
export interface ChapSetting {
  username: string;
  secret: string;
  mutualUsername?: string;
  mutualSecret?: string;
}

/** The field a message belongs to, as the form names it: "body/initiators/1" → "initiators", "iqn" → "iqn". */
export function formField(apiField: string): string {
  const parts = apiField.split('/');
  if (parts.length > 1 && (parts[0] === 'body' || parts[0] === 'querystring' || parts[0] === 'params')) parts.shift();
  return parts[0] ?? apiField;
}

/** Both the schema and the store prefix each message with its field path; next to the input that is noise. */
function bareMessage(e: FieldError): string {
  return e.message.startsWith(`${e.field} `) ? e.message.slice(e.field.length + 1) : e.message;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields: FieldError[];

  constructor(status: number, code: string, message: string, fields: FieldError[] = []) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.fields = fields;
  }

  /** Messages per form field, ready to show next to the inputs. */
  byField(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const f of this.fields) {
      const name = formField(f.field);
      out[name] = out[name] ? `${out[name]}; ${bareMessage(f)}` : bareMessage(f);
    }
    return out;
  }

  /** The message for the form as a whole: the API's own when no field took it. */
  get summary(): string {
    return this.message;
  }
}

/** `path` filtered to one target when `targetId` is given (the list routes' ?targetId= query). */
export const forTarget = (path: string, targetId?: number): string => (targetId ? `${path}?targetId=${targetId}` : path);

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

const CSRF_COOKIE = 'openlun_csrf';

export interface ApiClientOptions {
  fetch?: FetchLike;
  /** reads document.cookie by default */
  cookies?: () => string;
  /** base URL, '' (same origin) in the browser */
  base?: string;
}

/** Everything the UI calls, as typed methods. One instance per page (app-root owns it). */
export class ApiClient extends EventTarget {
  private readonly fetchImpl: FetchLike;
  private readonly cookies: () => string;
  private readonly base: string;
  private csrf: string | undefined;

  constructor(opts: ApiClientOptions = {}) {
    super();
    this.fetchImpl = opts.fetch ?? ((input, init) => fetch(input, init));
    this.cookies = opts.cookies ?? (() => (typeof document === 'undefined' ? '' : document.cookie));
    this.base = opts.base ?? '';
  }

  /** The CSRF token: the one login/setup returned, or (after a reload) the readable cookie the API set. */
  csrfToken(): string | undefined {
    if (this.csrf) return this.csrf;
    for (const part of this.cookies().split(';')) {
      const [k, ...v] = part.trim().split('=');
      if (k === CSRF_COOKIE) return decodeURIComponent(v.join('='));
    }
    return undefined;
  }

  async request<T>(method: string, path: string, body?: unknown, opts: { authFailureIsExpiry?: boolean } = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && method !== 'HEAD') {
      const token = this.csrfToken();
      if (token) headers['x-csrf-token'] = token;
    }
    let res: Response;
    try {
      res = await this.fetchImpl(this.base + path, {
        method,
        headers,
        credentials: 'same-origin',
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (e) {
      throw new ApiError(0, 'network', `cannot reach the appliance (${errorText(e)})`);
    }
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let data: unknown = undefined;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = undefined;
      }
    }
    if (!res.ok) {
      const d = (data ?? {}) as { error?: string; message?: string; fields?: FieldError[] };
      const err = new ApiError(res.status, d.error ?? 'http', d.message ?? `${res.status} ${res.statusText}`, Array.isArray(d.fields) ? d.fields : []);
      // a 401 on anything but the login itself means the session is gone (expired, logged out elsewhere)
      if (res.status === 401 && opts.authFailureIsExpiry !== false) {
        this.csrf = undefined;
        this.dispatchEvent(new CustomEvent('unauthenticated', { detail: err }));
      }
      throw err;
    }
    return data as T;
  }

  /** A GET of a route this appliance version may not have: undefined on 404 (other errors still throw). */
  async getOptional<T>(path: string): Promise<T | undefined> {
    try {
      return await this.request<T>('GET', path);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return undefined;
      throw e;
    }
  }

  // auth
  setupRequired = async () => (await this.request<{ setupRequired: boolean }>('GET', '/api/setup', undefined, { authFailureIsExpiry: false })).setupRequired;
  async setup(password: string, username?: string): Promise<User> {
    const r = await this.request<{ user: User; csrfToken: string }>('POST', '/api/setup', { password, ...(username ? { username } : {}) }, { authFailureIsExpiry: false });
    this.csrf = r.csrfToken;
    return r.user;
  }
  async login(username: string, password: string): Promise<User> {
    const r = await this.request<{ user: User; csrfToken: string }>('POST', '/api/login', { username, password }, { authFailureIsExpiry: false });
    this.csrf = r.csrfToken;
    return r.user;
  }
  async logout(): Promise<void> {
    try {
      await this.request<void>('POST', '/api/logout', undefined, { authFailureIsExpiry: false });
    } finally {
      this.csrf = undefined;
    }
  }
  me = async () => (await this.request<{ user: User }>('GET', '/api/me', undefined, { authFailureIsExpiry: false })).user;

  // settings
  settings = () => this.request<Settings>('GET', '/api/settings');
  updateSettings = (patch: Partial<Settings>) => this.request<Settings>('PATCH', '/api/settings', patch);

  // LUNs
  luns = () => this.request<Lun[]>('GET', '/api/luns');
  createLun = (l: NewLun) => this.request<Lun>('POST', '/api/luns', l);
  deleteLun = (id: number, deleteData: boolean) => this.request<void>('DELETE', `/api/luns/${id}?deleteData=${deleteData}`);

  // targets and what hangs off them
  targets = () => this.request<Target[]>('GET', '/api/targets');
  target = (id: number) => this.request<Target>('GET', `/api/targets/${id}`);
  createTarget = (iqn: string, alias: string | null) => this.request<Target>('POST', '/api/targets', { iqn, ...(alias ? { alias } : {}) });
  deleteTarget = (id: number) => this.request<void>('DELETE', `/api/targets/${id}`);
  portals = (targetId?: number) => this.request<Portal[]>('GET', forTarget('/api/portals', targetId));
  createPortal = (targetId: number, address: string, port?: number) => this.request<Portal>('POST', '/api/portals', { targetId, address, ...(port ? { port } : {}) });
  deletePortal = (id: number) => this.request<void>('DELETE', `/api/portals/${id}`);
  mappings = (targetId?: number) => this.request<LunMapping[]>('GET', forTarget('/api/mappings', targetId));
  createMapping = (targetId: number, lun: number, lunId: number) => this.request<LunMapping>('POST', '/api/mappings', { targetId, lun, lunId });
  deleteMapping = (id: number) => this.request<void>('DELETE', `/api/mappings/${id}`);
  initiatorGroups = () => this.request<InitiatorGroup[]>('GET', '/api/initiator-groups');
  createInitiatorGroup = (name: string, initiators: string[], networks: string[] = []) =>
    this.request<InitiatorGroup>('POST', '/api/initiator-groups', { name, initiators, networks });
  acls = (targetId?: number) => this.request<TargetAcl[]>('GET', forTarget('/api/acls', targetId));
  createAcl = (targetId: number, groupId: number) => this.request<TargetAcl>('POST', '/api/acls', { targetId, groupId });
  deleteAcl = (id: number) => this.request<void>('DELETE', `/api/acls/${id}`);
  chap = () => this.request<ChapInfo[]>('GET', '/api/chap');
  setTargetChap = (targetId: number, c: ChapSetting) => this.request<ChapInfo>('PUT', `/api/chap/targets/${targetId}`, c);
  deleteTargetChap = (targetId: number) => this.request<void>('DELETE', `/api/chap/targets/${targetId}`);
}
