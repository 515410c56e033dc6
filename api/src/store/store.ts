/**
 * The desired state: every read and every change of the appliance's configuration goes through here. Each mutation
 * validates all fields first (every problem reported at once), then runs in one transaction together with its
 * audit entry, so a refused or failed change leaves nothing behind.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { openDatabase, type Db } from './db.ts';
import { Problems, StoreError, isConstraintError } from './errors.ts';
import { FilePool } from './file-pool.ts';
import { SecretBox, loadOrCreateMachineKey } from './machine-key.ts';
import {
  addressProblem,
  chapSecretProblem,
  chapUserProblem,
  cidrProblem,
  iscsiNameProblem,
  labelProblem,
  lvPathProblem,
  normalizeIscsiName,
  poolNameProblem,
  usernameProblem,
} from './names.ts';
import { sha256 } from './passwords.ts';
import { ALUA_STATES, LUN_PRESETS } from './types.ts';
import type {
  AluaState,
  ApiToken,
  AuditEntry,
  ChangeContext,
  ChapInfo,
  ChapSecrets,
  InitiatorGroup,
  Lun,
  LunBacking,
  LunMapping,
  LunPreset,
  Portal,
  PortalGroup,
  Role,
  Settings,
  Target,
  TargetAcl,
  User,
  WriteCache,
} from './types.ts';

export const DEFAULT_SETTINGS = {
  hostname: 'openlun',
  baseIqn: 'iqn.2026-11.org.openlun',
  iscsiPort: 3260,
} as const satisfies Settings;

// SPC-4 §7.8.6.6.4 NAA Locally Assigned (NAA 3h): 60 bits of our choosing, no IEEE OUI needed
const NAA_LOCALLY_ASSIGNED = '3';
// SBC-4 §4.4: the largest LUN a 64-bit LBA addresses is far beyond this; 2^53 keeps sizes exact as JS numbers
const MAX_LUN_BYTES = Number.MAX_SAFE_INTEGER;
const MAX_LUN_NUMBER = 1023;

export interface NewLun {
  name: string;
  backing: LunBacking;
  /** LV device path; for 'file' the path is chosen by the file pool */
  lvPath?: string;
  sizeBytes: number;
  blockSize: 512 | 4096;
  readOnly?: boolean;
  writeCache?: WriteCache;
  /** the hypervisor the LUN is set up for (the UI's presets); null/absent = none */
  preset?: LunPreset | null;
  /** only when restoring a LUN from a config document: keep the identity initiators already know */
  identity?: { serial: string; naaId: string };
}

// what a restored identity may look like: our own formats (hex), so a document cannot smuggle odd bytes into VPD pages
const SERIAL_FORMAT = /^[0-9a-f]{16}$/;
const NAA_FORMAT = /^[0-9a-f]{16}$|^[0-9a-f]{32}$/;

export interface NewChap {
  username: string;
  secret: string;
  mutualUsername?: string;
  mutualSecret?: string;
}

interface LunRow {
  id: number;
  name: string;
  backing: LunBacking;
  path: string;
  size_bytes: number;
  block_size: 512 | 4096;
  read_only: number;
  write_cache: WriteCache;
  serial: string;
  naa_id: string;
  created_at: number;
  preset: LunPreset | null;
}

interface UserRow {
  id: number;
  username: string;
  role: Role;
  password_hash: string;
  failed_logins: number;
  locked_until: number;
  created_at: number;
}

interface ChapRow {
  id: number;
  target_id: number | null;
  username: string;
  secret_enc: string;
  mutual_username: string | null;
  mutual_secret_enc: string | null;
}

export interface UserWithSecrets extends User {
  passwordHash: string;
  failedLogins: number;
  lockedUntil: number;
}

export interface StoreOptions {
  dataDir: string;
  /** defaults to <dataDir>/pool */
  poolDir?: string;
  now?: () => number;
}

function lunFromRow(r: LunRow): Lun {
  return {
    id: r.id,
    name: r.name,
    backing: r.backing,
    path: r.path,
    sizeBytes: r.size_bytes,
    blockSize: r.block_size,
    readOnly: r.read_only === 1,
    writeCache: r.write_cache,
    serial: r.serial,
    naaId: r.naa_id,
    createdAt: r.created_at,
    preset: r.preset ?? null,
  };
}

const presetProblem = (v: unknown): string | undefined =>
  v === null || (LUN_PRESETS as readonly unknown[]).includes(v) ? undefined : `must be one of ${LUN_PRESETS.join(', ')} or null`;
const aluaStateProblem = (v: unknown): string | undefined =>
  (ALUA_STATES as readonly unknown[]).includes(v) ? undefined : `must be one of ${ALUA_STATES.join(', ')}`;
// RFC 7143 §13.9 TargetPortalGroupTag: a 16-bit binary value; SPC-4 §7.8.6.8 keeps 0 out of the TPG designator
const tagProblem = (v: unknown): string | undefined => (Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 0xffff ? undefined : 'must be 1-65535');

const PORTAL_SELECT =
  'SELECT p.id, p.target_id AS targetId, p.address, p.port, p.portal_group_id AS portalGroupId, g.tag AS portalGroupTag FROM portals p JOIN portal_groups g ON g.id = p.portal_group_id';
const PORTAL_GROUP_SELECT = 'SELECT id, target_id AS targetId, tag, alua_state AS aluaState FROM portal_groups';

function userFromRow(r: UserRow): User {
  return { id: r.id, username: r.username, role: r.role, createdAt: r.created_at };
}

export class Store {
  readonly db: Db;
  readonly pool: FilePool;
  readonly #box: SecretBox;
  readonly #now: () => number;

  constructor(opts: StoreOptions) {
    this.db = openDatabase(join(opts.dataDir, 'openlun.db'));
    this.#box = new SecretBox(loadOrCreateMachineKey(opts.dataDir));
    this.pool = new FilePool(opts.poolDir ?? join(opts.dataDir, 'pool'));
    this.#now = opts.now ?? Date.now;
  }

  close(): void {
    this.db.close();
  }

  now(): number {
    return this.#now();
  }

  /** Runs fn and its audit entry atomically; constraint races become a 409, not a 500. */
  #change<T>(ctx: ChangeContext, action: string, object: string, detail: Record<string, unknown>, fn: () => T): T {
    const journal = this.pool.beginJournal();
    try {
      return this.db.transaction(() => {
        const result = fn();
        this.db
          .prepare('INSERT INTO audit_log (at, actor, action, object, ip, detail) VALUES (?, ?, ?, ?, ?, ?)')
          .run(this.#now(), ctx.actor, action, object, ctx.ip, JSON.stringify(detail));
        return result;
      })();
    } catch (e) {
      this.pool.rollbackJournal(journal);
      if (isConstraintError(e)) throw new StoreError('conflict', `${object}: conflicts with existing configuration (${e.message})`);
      throw e;
    } finally {
      this.pool.endJournal(journal);
    }
  }

  /**
   * Runs fn (any number of store changes) as one transaction: all of it or none. Store changes nest as savepoints.
   * Pool files created inside are removed again if the whole fails, so a failed apply leaves no orphan files.
   */
  atomically<T>(fn: () => T): T {
    const journal = this.pool.beginJournal();
    try {
      return this.db.transaction(fn)();
    } catch (e) {
      this.pool.rollbackJournal(journal);
      throw e;
    } finally {
      this.pool.endJournal(journal);
    }
  }

  /** Audit entries for things that change no table (logins, failed logins). */
  audit(ctx: ChangeContext, action: string, object: string, detail: Record<string, unknown> = {}): void {
    this.db
      .prepare('INSERT INTO audit_log (at, actor, action, object, ip, detail) VALUES (?, ?, ?, ?, ?, ?)')
      .run(this.#now(), ctx.actor, action, object, ctx.ip, JSON.stringify(detail));
  }

  listAudit(limit = 100, offset = 0): AuditEntry[] {
    const rows = this.db.prepare('SELECT * FROM audit_log ORDER BY id DESC LIMIT ? OFFSET ?').all(limit, offset) as Array<
      Omit<AuditEntry, 'detail'> & { detail: string }
    >;
    return rows.map((r) => ({ ...r, detail: JSON.parse(r.detail) as Record<string, unknown> }));
  }

  // ---- settings

  getSettings(): Settings {
    const rows = this.db.prepare('SELECT key, value FROM settings').all() as Array<{ key: string; value: string }>;
    const stored = Object.fromEntries(rows.map((r) => [r.key, JSON.parse(r.value) as unknown]));
    return { ...DEFAULT_SETTINGS, ...stored } as Settings;
  }

  updateSettings(ctx: ChangeContext, patch: Partial<Settings>): Settings {
    const p = new Problems();
    if (patch.baseIqn !== undefined) p.check('baseIqn', iscsiNameProblem(patch.baseIqn));
    if (patch.hostname !== undefined) p.check('hostname', /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(patch.hostname) ? undefined : 'must be a host name (RFC 1123)');
    if (patch.iscsiPort !== undefined) p.check('iscsiPort', Number.isInteger(patch.iscsiPort) && patch.iscsiPort >= 1 && patch.iscsiPort <= 65535 ? undefined : 'must be 1-65535');
    p.throwIfAny();
    const clean = { ...patch, ...(patch.baseIqn !== undefined ? { baseIqn: normalizeIscsiName(patch.baseIqn) } : {}) };
    return this.#change(ctx, 'settings.update', 'settings', clean, () => {
      const put = this.db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
      for (const [k, v] of Object.entries(clean)) if (v !== undefined) put.run(k, JSON.stringify(v));
      return this.getSettings();
    });
  }

  // ---- users, sessions, tokens

  userCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n;
  }

  listUsers(): User[] {
    return (this.db.prepare('SELECT * FROM users ORDER BY id').all() as UserRow[]).map(userFromRow);
  }

  findUserByName(username: string): UserWithSecrets | undefined {
    const r = this.db.prepare('SELECT * FROM users WHERE username = ?').get(username) as UserRow | undefined;
    return r && { ...userFromRow(r), passwordHash: r.password_hash, failedLogins: r.failed_logins, lockedUntil: r.locked_until };
  }

  getUser(id: number): User {
    const r = this.db.prepare('SELECT * FROM users WHERE id = ?').get(id) as UserRow | undefined;
    if (!r) throw new StoreError('not-found', `user ${id} not found`);
    return userFromRow(r);
  }

  /** passwordHash is computed by the caller (async scrypt) before the transaction. */
  createUser(ctx: ChangeContext, username: string, role: Role, passwordHash: string, opts: { onlyIfNoUsers?: boolean } = {}): User {
    const p = new Problems();
    p.check('username', usernameProblem(username));
    p.throwIfAny();
    return this.#change(ctx, 'user.create', `user ${username}`, { role }, () => {
      // first-run setup: checked inside the transaction, so two racing setups cannot both create an admin
      if (opts.onlyIfNoUsers && this.userCount() > 0) throw new StoreError('conflict', 'setup is already complete');
      if (this.findUserByName(username)) throw new StoreError('conflict', `user ${username} already exists`, [{ field: 'username', message: 'username already exists' }]);
      const id = this.db
        .prepare('INSERT INTO users (username, role, password_hash, created_at) VALUES (?, ?, ?, ?)')
        .run(username, role, passwordHash, this.#now()).lastInsertRowid;
      return this.getUser(Number(id));
    });
  }

  setPassword(ctx: ChangeContext, id: number, passwordHash: string): void {
    const user = this.getUser(id);
    this.#change(ctx, 'user.password', `user ${user.username}`, {}, () => {
      this.db.prepare('UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = 0 WHERE id = ?').run(passwordHash, id);
      // a password change ends every other session of that user
      this.db.prepare('DELETE FROM sessions WHERE user_id = ?').run(id);
    });
  }

  deleteUser(ctx: ChangeContext, id: number): void {
    const user = this.getUser(id);
    this.#change(ctx, 'user.delete', `user ${user.username}`, {}, () => {
      if (user.role === 'admin') {
        const admins = (this.db.prepare("SELECT count(*) AS n FROM users WHERE role = 'admin'").get() as { n: number }).n;
        if (admins <= 1) throw new StoreError('conflict', 'cannot delete the last admin');
      }
      this.db.prepare('DELETE FROM users WHERE id = ?').run(id);
    });
  }

  recordLoginFailure(userId: number, lockAfter: number, lockMs: number): { lockedUntil: number } {
    return this.db.transaction(() => {
      const r = this.db.prepare('UPDATE users SET failed_logins = failed_logins + 1 WHERE id = ? RETURNING failed_logins').get(userId) as { failed_logins: number };
      let lockedUntil = 0;
      if (r.failed_logins >= lockAfter) {
        lockedUntil = this.#now() + lockMs;
        this.db.prepare('UPDATE users SET locked_until = ?, failed_logins = 0 WHERE id = ?').run(lockedUntil, userId);
      }
      return { lockedUntil };
    })();
  }

  recordLoginSuccess(userId: number): void {
    this.db.prepare('UPDATE users SET failed_logins = 0, locked_until = 0 WHERE id = ?').run(userId);
  }

  createSession(userId: number, ip: string, ttlMs: number): { sessionId: string; csrfToken: string; expiresAt: number } {
    const sessionId = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(32).toString('base64url');
    const now = this.#now();
    this.db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(now);
    this.db
      .prepare('INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at, ip) VALUES (?, ?, ?, ?, ?, ?)')
      .run(sha256(sessionId), userId, csrfToken, now, now + ttlMs, ip);
    return { sessionId, csrfToken, expiresAt: now + ttlMs };
  }

  findSession(sessionId: string): { user: User; csrfToken: string } | undefined {
    const r = this.db
      .prepare('SELECT u.*, s.csrf_token FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ? AND s.expires_at > ?')
      .get(sha256(sessionId), this.#now()) as (UserRow & { csrf_token: string }) | undefined;
    return r && { user: userFromRow(r), csrfToken: r.csrf_token };
  }

  deleteSession(sessionId: string): void {
    this.db.prepare('DELETE FROM sessions WHERE id_hash = ?').run(sha256(sessionId));
  }

  /** Returns the token text once; only its hash is kept. Format: olt_<random> (prefix lets secret scanners find leaks). */
  createToken(ctx: ChangeContext, userId: number, name: string): { token: ApiToken; secret: string } {
    const p = new Problems();
    p.check('name', labelProblem(name));
    p.throwIfAny();
    const user = this.getUser(userId);
    const secret = `olt_${randomBytes(32).toString('base64url')}`;
    return this.#change(ctx, 'token.create', `token ${name}`, { user: user.username }, () => {
      const id = this.db
        .prepare('INSERT INTO api_tokens (name, user_id, secret_hash, created_at) VALUES (?, ?, ?, ?)')
        .run(name, userId, sha256(secret), this.#now()).lastInsertRowid;
      return { token: this.getToken(Number(id)), secret };
    });
  }

  getToken(id: number): ApiToken {
    const r = this.db.prepare('SELECT id, name, user_id AS userId, created_at AS createdAt, last_used AS lastUsed FROM api_tokens WHERE id = ?').get(id) as ApiToken | undefined;
    if (!r) throw new StoreError('not-found', `token ${id} not found`);
    return r;
  }

  listTokens(): ApiToken[] {
    return this.db.prepare('SELECT id, name, user_id AS userId, created_at AS createdAt, last_used AS lastUsed FROM api_tokens ORDER BY id').all() as ApiToken[];
  }

  deleteToken(ctx: ChangeContext, id: number): void {
    const t = this.getToken(id);
    this.#change(ctx, 'token.delete', `token ${t.name}`, {}, () => {
      this.db.prepare('DELETE FROM api_tokens WHERE id = ?').run(id);
    });
  }

  findUserByToken(secret: string): User | undefined {
    const r = this.db
      .prepare('SELECT u.*, t.id AS token_id FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.secret_hash = ?')
      .get(sha256(secret)) as (UserRow & { token_id: number }) | undefined;
    if (!r) return undefined;
    this.db.prepare('UPDATE api_tokens SET last_used = ? WHERE id = ?').run(this.#now(), r.token_id);
    return userFromRow(r);
  }

  // ---- targets

  listTargets(): Target[] {
    return this.db.prepare('SELECT id, iqn, alias FROM targets ORDER BY id').all() as Target[];
  }

  getTarget(id: number): Target {
    const t = this.db.prepare('SELECT id, iqn, alias FROM targets WHERE id = ?').get(id) as Target | undefined;
    if (!t) throw new StoreError('not-found', `target ${id} not found`);
    return t;
  }

  createTarget(ctx: ChangeContext, iqn: string, alias?: string | null): Target {
    const p = new Problems();
    p.check('iqn', iscsiNameProblem(iqn));
    if (alias != null) p.check('alias', labelProblem(alias));
    p.throwIfAny();
    const name = normalizeIscsiName(iqn);
    return this.#change(ctx, 'target.create', `target ${name}`, { alias: alias ?? null }, () => {
      if (this.db.prepare('SELECT 1 FROM targets WHERE iqn = ?').get(name)) {
        throw new StoreError('conflict', `target ${name} already exists`, [{ field: 'iqn', message: 'iqn already exists' }]);
      }
      const id = this.db.prepare('INSERT INTO targets (iqn, alias) VALUES (?, ?)').run(name, alias ?? null).lastInsertRowid;
      return this.getTarget(Number(id));
    });
  }

  updateTarget(ctx: ChangeContext, id: number, patch: { alias?: string | null }): Target {
    const t = this.getTarget(id);
    const p = new Problems();
    if (patch.alias != null) p.check('alias', labelProblem(patch.alias));
    p.throwIfAny();
    return this.#change(ctx, 'target.update', `target ${t.iqn}`, { alias: patch.alias ?? null }, () => {
      if (patch.alias !== undefined) this.db.prepare('UPDATE targets SET alias = ? WHERE id = ?').run(patch.alias, id);
      return this.getTarget(id);
    });
  }

  deleteTarget(ctx: ChangeContext, id: number): void {
    const t = this.getTarget(id);
    this.#change(ctx, 'target.delete', `target ${t.iqn}`, {}, () => {
      this.db.prepare('DELETE FROM targets WHERE id = ?').run(id);
    });
  }

  // ---- portals

  listPortals(targetId?: number): Portal[] {
    return (targetId === undefined
      ? this.db.prepare(`${PORTAL_SELECT} ORDER BY p.id`).all()
      : this.db.prepare(`${PORTAL_SELECT} WHERE p.target_id = ? ORDER BY p.id`).all(targetId)) as Portal[];
  }

  getPortal(id: number): Portal {
    const r = this.db.prepare(`${PORTAL_SELECT} WHERE p.id = ?`).get(id) as Portal | undefined;
    if (!r) throw new StoreError('not-found', `portal ${id} not found`);
    return r;
  }

  /** In portalGroupId's group (a group of the same target), or the target's lowest-tag group (group 1 unless removed). */
  createPortal(ctx: ChangeContext, targetId: number, address: string, port: number, portalGroupId?: number): Portal {
    const p = new Problems();
    p.check('address', addressProblem(address));
    p.check('port', Number.isInteger(port) && port >= 1 && port <= 65535 ? undefined : 'must be 1-65535');
    p.throwIfAny();
    const t = this.getTarget(targetId);
    const group = portalGroupId === undefined ? this.listPortalGroups(targetId)[0] : this.getPortalGroup(portalGroupId);
    if (!group) throw new StoreError('conflict', `${t.iqn} has no portal group; create one first`, [{ field: 'portalGroupId', message: 'the target has no portal group' }]);
    if (group.targetId !== targetId) {
      throw new StoreError('invalid', `portal group ${group.id} belongs to another target`, [{ field: 'portalGroupId', message: `is a portal group of another target, not of ${t.iqn}` }]);
    }
    return this.#change(ctx, 'portal.create', `portal ${address}:${port} of ${t.iqn}`, { portalGroupTag: group.tag }, () => {
      if (this.db.prepare('SELECT 1 FROM portals WHERE target_id = ? AND address = ? AND port = ?').get(targetId, address, port)) {
        throw new StoreError('conflict', `portal ${address}:${port} already exists on ${t.iqn}`, [{ field: 'address', message: 'portal already exists' }]);
      }
      // the target daemon listens once per address:port and gives a connection there one TPGT (RFC 7143 §4.4.1),
      // so targets sharing a portal must put it in portal groups with the same tag
      const other = this.db
        .prepare(`SELECT g.tag, t.iqn FROM portals p JOIN portal_groups g ON g.id = p.portal_group_id JOIN targets t ON t.id = p.target_id
                  WHERE p.address = ? AND p.port = ? AND p.target_id <> ? AND g.tag <> ? LIMIT 1`)
        .get(address, port, targetId, group.tag) as { tag: number; iqn: string } | undefined;
      if (other) {
        throw new StoreError('conflict', `${address}:${port} is in portal group ${other.tag} of ${other.iqn}; a shared portal has the same tag on every target`, [
          { field: 'portalGroupId', message: `must be a group with tag ${other.tag} (the portal's tag on ${other.iqn})` },
        ]);
      }
      const id = this.db
        .prepare('INSERT INTO portals (target_id, portal_group_id, address, port) VALUES (?, ?, ?, ?)')
        .run(targetId, group.id, address, port).lastInsertRowid;
      return this.getPortal(Number(id));
    });
  }

  // ---- portal groups (RFC 7143 §4.4.1; SPC-4 §5.16: one ALUA target port group each)

  listPortalGroups(targetId?: number): PortalGroup[] {
    return (targetId === undefined
      ? this.db.prepare(`${PORTAL_GROUP_SELECT} ORDER BY target_id, tag`).all()
      : this.db.prepare(`${PORTAL_GROUP_SELECT} WHERE target_id = ? ORDER BY tag`).all(targetId)) as PortalGroup[];
  }

  getPortalGroup(id: number): PortalGroup {
    const r = this.db.prepare(`${PORTAL_GROUP_SELECT} WHERE id = ?`).get(id) as PortalGroup | undefined;
    if (!r) throw new StoreError('not-found', `portal group ${id} not found`);
    return r;
  }

  createPortalGroup(ctx: ChangeContext, targetId: number, tag: number, aluaState: AluaState = 'active-optimized'): PortalGroup {
    const p = new Problems();
    p.check('tag', tagProblem(tag));
    p.check('aluaState', aluaStateProblem(aluaState));
    p.throwIfAny();
    const t = this.getTarget(targetId);
    return this.#change(ctx, 'portal-group.create', `portal group ${tag} of ${t.iqn}`, { aluaState }, () => {
      if (this.db.prepare('SELECT 1 FROM portal_groups WHERE target_id = ? AND tag = ?').get(targetId, tag)) {
        throw new StoreError('conflict', `${t.iqn} already has portal group ${tag}`, [{ field: 'tag', message: `tag ${tag} is already used on this target` }]);
      }
      const id = this.db.prepare('INSERT INTO portal_groups (target_id, tag, alua_state) VALUES (?, ?, ?)').run(targetId, tag, aluaState).lastInsertRowid;
      return this.getPortalGroup(Number(id));
    });
  }

  /** SPC-4 §5.16.2.5: the new state is an implicit ALUA transition the target applies live. */
  updatePortalGroup(ctx: ChangeContext, id: number, patch: { aluaState: AluaState }): PortalGroup {
    const g = this.getPortalGroup(id);
    const p = new Problems();
    p.check('aluaState', aluaStateProblem(patch.aluaState));
    p.throwIfAny();
    const t = this.getTarget(g.targetId);
    return this.#change(ctx, 'portal-group.update', `portal group ${g.tag} of ${t.iqn}`, { aluaState: { from: g.aluaState, to: patch.aluaState } }, () => {
      this.db.prepare('UPDATE portal_groups SET alua_state = ? WHERE id = ?').run(patch.aluaState, id);
      return this.getPortalGroup(id);
    });
  }

  /** Refused while the group has portals (they would lose their TPGT) or when it is the target's last group. */
  deletePortalGroup(ctx: ChangeContext, id: number): void {
    const g = this.getPortalGroup(id);
    const t = this.getTarget(g.targetId);
    const portals = this.listPortals(g.targetId).filter((x) => x.portalGroupId === id);
    if (portals.length > 0) {
      throw new StoreError('in-use', `portal group ${g.tag} of ${t.iqn} has portals (${portals.map((x) => `${x.address}:${x.port}`).join(', ')}); delete them first`);
    }
    this.#change(ctx, 'portal-group.delete', `portal group ${g.tag} of ${t.iqn}`, {}, () => {
      const n = (this.db.prepare('SELECT count(*) AS n FROM portal_groups WHERE target_id = ?').get(g.targetId) as { n: number }).n;
      if (n <= 1) throw new StoreError('conflict', `portal group ${g.tag} is the last portal group of ${t.iqn}; a target needs one`);
      this.db.prepare('DELETE FROM portal_groups WHERE id = ?').run(id);
    });
  }

  deletePortal(ctx: ChangeContext, id: number): void {
    const portal = this.getPortal(id);
    this.#change(ctx, 'portal.delete', `portal ${portal.address}:${portal.port}`, { targetId: portal.targetId }, () => {
      this.db.prepare('DELETE FROM portals WHERE id = ?').run(id);
    });
  }

  // ---- LUNs

  listLuns(): Lun[] {
    return (this.db.prepare('SELECT * FROM luns ORDER BY id').all() as LunRow[]).map(lunFromRow);
  }

  getLun(id: number): Lun {
    const r = this.db.prepare('SELECT * FROM luns WHERE id = ?').get(id) as LunRow | undefined;
    if (!r) throw new StoreError('not-found', `lun ${id} not found`);
    return lunFromRow(r);
  }

  #lunProblems(l: Partial<NewLun>, p: Problems): void {
    if (l.sizeBytes !== undefined) {
      p.check('sizeBytes', Number.isSafeInteger(l.sizeBytes) && l.sizeBytes > 0 && l.sizeBytes <= MAX_LUN_BYTES ? undefined : 'must be a positive integer');
      if (l.blockSize !== undefined && l.sizeBytes % l.blockSize !== 0) p.check('sizeBytes', `must be a multiple of blockSize (${l.blockSize})`);
    }
  }

  createLun(ctx: ChangeContext, l: NewLun): Lun {
    const p = new Problems();
    p.check('name', poolNameProblem(l.name));
    p.check('blockSize', l.blockSize === 512 || l.blockSize === 4096 ? undefined : 'must be 512 or 4096');
    if (l.preset !== undefined) p.check('preset', presetProblem(l.preset));
    this.#lunProblems(l, p);
    if (l.backing === 'lv') {
      if (l.lvPath === undefined) p.check('lvPath', 'is required for an lv-backed LUN');
      else p.check('lvPath', lvPathProblem(l.lvPath));
    } else if (l.backing === 'file') {
      if (l.lvPath !== undefined) p.check('lvPath', 'is only for lv-backed LUNs');
    } else {
      p.check('backing', 'must be "file" or "lv"');
    }
    if (l.identity) {
      p.check('serial', SERIAL_FORMAT.test(l.identity.serial) ? undefined : 'must be 16 lower-case hex digits');
      p.check('naaId', NAA_FORMAT.test(l.identity.naaId) ? undefined : 'must be 16 or 32 lower-case hex digits');
    }
    p.throwIfAny();
    // SPC-4 §7.8.5 (unit serial number VPD) and §7.8.6.6 (NAA designator): assigned once, here, and never changed
    const serial = l.identity?.serial ?? randomBytes(8).toString('hex');
    const naaId = l.identity?.naaId ?? NAA_LOCALLY_ASSIGNED + randomBytes(8).toString('hex').slice(1);
    return this.#change(ctx, 'lun.create', `lun ${l.name}`, { backing: l.backing, sizeBytes: l.sizeBytes, blockSize: l.blockSize, preset: l.preset ?? null }, () => {
      if (this.db.prepare('SELECT 1 FROM luns WHERE name = ?').get(l.name)) {
        throw new StoreError('conflict', `lun ${l.name} already exists`, [{ field: 'name', message: 'name already exists' }]);
      }
      if (l.identity && this.db.prepare('SELECT 1 FROM luns WHERE serial = ? OR naa_id = ?').get(l.identity.serial, l.identity.naaId)) {
        throw new StoreError('conflict', `another LUN already has serial ${l.identity.serial} or NAA id ${l.identity.naaId}`, [{ field: 'naaId', message: 'already used' }]);
      }
      if (l.backing === 'lv' && this.db.prepare('SELECT 1 FROM luns WHERE path = ?').get(l.lvPath)) {
        throw new StoreError('conflict', `${l.lvPath} already backs a LUN`, [{ field: 'lvPath', message: 'already backs a LUN' }]);
      }
      const path = l.backing === 'file' ? this.pool.pathFor(l.name) : l.lvPath!;
      const id = this.db
        .prepare(
          `INSERT INTO luns (name, backing, path, size_bytes, block_size, read_only, write_cache, serial, naa_id, created_at, preset)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(l.name, l.backing, path, l.sizeBytes, l.blockSize, l.readOnly ? 1 : 0, l.writeCache ?? 'write-through', serial, naaId, this.#now(), l.preset ?? null).lastInsertRowid;
      // the file is created last inside the transaction: if it fails the row rolls back; 'wx' never reuses a file
      if (l.backing === 'file') {
        try {
          this.pool.createSparse(l.name, l.sizeBytes);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
            throw new StoreError('conflict', `file pool already holds a file named ${l.name}; refusing to reuse it`, [{ field: 'name', message: 'file exists in the pool' }]);
          }
          throw e;
        }
      }
      return this.getLun(Number(id));
    });
  }

  /** Size may only grow (shrinking under a live initiator loses data); serial and NAA id are never touched. */
  updateLun(ctx: ChangeContext, id: number, patch: { sizeBytes?: number; readOnly?: boolean; writeCache?: WriteCache; preset?: LunPreset | null }, opts: { lvExtended?: boolean } = {}): Lun {
    const lun = this.getLun(id);
    const p = new Problems();
    if (patch.preset !== undefined) p.check('preset', presetProblem(patch.preset));
    if (patch.sizeBytes !== undefined) {
      this.#lunProblems({ sizeBytes: patch.sizeBytes, blockSize: lun.blockSize }, p);
      if (patch.sizeBytes < lun.sizeBytes) p.check('sizeBytes', `must not shrink the LUN (now ${lun.sizeBytes})`);
      // the storage backend (api/src/storage/backend.ts) has run lvextend first and passes the LV's new size
      if (lun.backing === 'lv' && patch.sizeBytes !== lun.sizeBytes && !opts.lvExtended) p.check('sizeBytes', 'of an lv-backed LUN changes with the LV (lvextend), not here');
    }
    p.throwIfAny();
    return this.#change(ctx, 'lun.update', `lun ${lun.name}`, patch, () => {
      if (patch.readOnly !== undefined) this.db.prepare('UPDATE luns SET read_only = ? WHERE id = ?').run(patch.readOnly ? 1 : 0, id);
      if (patch.writeCache !== undefined) this.db.prepare('UPDATE luns SET write_cache = ? WHERE id = ?').run(patch.writeCache, id);
      if (patch.preset !== undefined) this.db.prepare('UPDATE luns SET preset = ? WHERE id = ?').run(patch.preset, id);
      if (patch.sizeBytes !== undefined && patch.sizeBytes !== lun.sizeBytes) {
        this.db.prepare('UPDATE luns SET size_bytes = ? WHERE id = ?').run(patch.sizeBytes, id);
        if (lun.backing === 'file') this.pool.grow(lun.name, patch.sizeBytes);
      }
      return this.getLun(id);
    });
  }

  /** A mapped LUN is refused unless force (then its mappings go too); the pool file is removed only on request. */
  deleteLun(ctx: ChangeContext, id: number, opts: { force?: boolean; deleteData?: boolean } = {}): void {
    const lun = this.getLun(id);
    const mapped = this.db
      .prepare('SELECT t.iqn, m.lun FROM lun_mappings m JOIN targets t ON t.id = m.target_id WHERE m.lun_id = ?')
      .all(id) as Array<{ iqn: string; lun: number }>;
    if (mapped.length > 0 && !opts.force) {
      throw new StoreError('in-use', `lun ${lun.name} is mapped (${mapped.map((m) => `${m.iqn} LUN ${m.lun}`).join(', ')}); unmap it or delete with force`);
    }
    this.#change(ctx, 'lun.delete', `lun ${lun.name}`, { force: !!opts.force, deleteData: !!opts.deleteData, unmapped: mapped }, () => {
      this.db.prepare('DELETE FROM lun_mappings WHERE lun_id = ?').run(id);
      this.db.prepare('DELETE FROM luns WHERE id = ?').run(id);
      if (opts.deleteData && lun.backing === 'file') this.pool.remove(lun.name);
    });
  }

  // ---- LUN mappings

  listMappings(targetId?: number): LunMapping[] {
    const sql = 'SELECT id, target_id AS targetId, lun, lun_id AS lunId FROM lun_mappings';
    return (targetId === undefined
      ? this.db.prepare(`${sql} ORDER BY target_id, lun`).all()
      : this.db.prepare(`${sql} WHERE target_id = ? ORDER BY lun`).all(targetId)) as LunMapping[];
  }

  getMapping(id: number): LunMapping {
    const r = this.db.prepare('SELECT id, target_id AS targetId, lun, lun_id AS lunId FROM lun_mappings WHERE id = ?').get(id) as LunMapping | undefined;
    if (!r) throw new StoreError('not-found', `mapping ${id} not found`);
    return r;
  }

  createMapping(ctx: ChangeContext, targetId: number, lun: number, lunId: number): LunMapping {
    const p = new Problems();
    // SAM-5 §4.7.3: single-level LUN structure; 0-1023 keeps within peripheral (0-255) and flat (0-16383) addressing
    p.check('lun', Number.isInteger(lun) && lun >= 0 && lun <= MAX_LUN_NUMBER ? undefined : `must be 0-${MAX_LUN_NUMBER}`);
    p.throwIfAny();
    const t = this.getTarget(targetId);
    const l = this.getLun(lunId);
    return this.#change(ctx, 'mapping.create', `${t.iqn} LUN ${lun}`, { lun: l.name }, () => {
      if (this.db.prepare('SELECT 1 FROM lun_mappings WHERE target_id = ? AND lun = ?').get(targetId, lun)) {
        throw new StoreError('conflict', `${t.iqn} already has a LUN ${lun}`, [{ field: 'lun', message: `LUN ${lun} is already used on this target` }]);
      }
      if (this.db.prepare('SELECT 1 FROM lun_mappings WHERE target_id = ? AND lun_id = ?').get(targetId, lunId)) {
        throw new StoreError('conflict', `${l.name} is already mapped on ${t.iqn}`, [{ field: 'lunId', message: 'already mapped on this target' }]);
      }
      const id = this.db.prepare('INSERT INTO lun_mappings (target_id, lun, lun_id) VALUES (?, ?, ?)').run(targetId, lun, lunId).lastInsertRowid;
      return this.getMapping(Number(id));
    });
  }

  deleteMapping(ctx: ChangeContext, id: number): void {
    const m = this.getMapping(id);
    const t = this.getTarget(m.targetId);
    this.#change(ctx, 'mapping.delete', `${t.iqn} LUN ${m.lun}`, {}, () => {
      this.db.prepare('DELETE FROM lun_mappings WHERE id = ?').run(id);
    });
  }

  // ---- initiator groups and ACLs

  listInitiatorGroups(): InitiatorGroup[] {
    const groups = this.db.prepare('SELECT id, name FROM initiator_groups ORDER BY id').all() as Array<{ id: number; name: string }>;
    return groups.map((g) => this.#groupWithMembers(g));
  }

  #groupWithMembers(g: { id: number; name: string }): InitiatorGroup {
    const initiators = (this.db.prepare('SELECT iqn FROM initiator_group_members WHERE group_id = ? ORDER BY iqn').all(g.id) as Array<{ iqn: string }>).map((r) => r.iqn);
    const networks = (this.db.prepare('SELECT cidr FROM initiator_group_networks WHERE group_id = ? ORDER BY cidr').all(g.id) as Array<{ cidr: string }>).map((r) => r.cidr);
    return { ...g, initiators, networks };
  }

  getInitiatorGroup(id: number): InitiatorGroup {
    const g = this.db.prepare('SELECT id, name FROM initiator_groups WHERE id = ?').get(id) as { id: number; name: string } | undefined;
    if (!g) throw new StoreError('not-found', `initiator group ${id} not found`);
    return this.#groupWithMembers(g);
  }

  #groupProblems(p: Problems, g: { name?: string; initiators?: string[]; networks?: string[] }): void {
    if (g.name !== undefined) p.check('name', labelProblem(g.name));
    g.initiators?.forEach((iqn, i) => p.check(`initiators/${i}`, iscsiNameProblem(iqn)));
    g.networks?.forEach((cidr, i) => p.check(`networks/${i}`, cidrProblem(cidr)));
  }

  #setMembers(id: number, initiators?: string[], networks?: string[]): void {
    if (initiators !== undefined) {
      this.db.prepare('DELETE FROM initiator_group_members WHERE group_id = ?').run(id);
      const ins = this.db.prepare('INSERT OR IGNORE INTO initiator_group_members (group_id, iqn) VALUES (?, ?)');
      for (const iqn of initiators) ins.run(id, normalizeIscsiName(iqn));
    }
    if (networks !== undefined) {
      this.db.prepare('DELETE FROM initiator_group_networks WHERE group_id = ?').run(id);
      const ins = this.db.prepare('INSERT OR IGNORE INTO initiator_group_networks (group_id, cidr) VALUES (?, ?)');
      for (const cidr of networks) ins.run(id, cidr.toLowerCase());
    }
  }

  createInitiatorGroup(ctx: ChangeContext, g: { name: string; initiators: string[]; networks?: string[] }): InitiatorGroup {
    const p = new Problems();
    this.#groupProblems(p, g);
    p.throwIfAny();
    return this.#change(ctx, 'initiator-group.create', `initiator group ${g.name}`, { initiators: g.initiators, networks: g.networks ?? [] }, () => {
      if (this.db.prepare('SELECT 1 FROM initiator_groups WHERE name = ?').get(g.name)) {
        throw new StoreError('conflict', `initiator group ${g.name} already exists`, [{ field: 'name', message: 'name already exists' }]);
      }
      const id = Number(this.db.prepare('INSERT INTO initiator_groups (name) VALUES (?)').run(g.name).lastInsertRowid);
      this.#setMembers(id, g.initiators, g.networks ?? []);
      return this.getInitiatorGroup(id);
    });
  }

  updateInitiatorGroup(ctx: ChangeContext, id: number, patch: { initiators?: string[]; networks?: string[] }): InitiatorGroup {
    const g = this.getInitiatorGroup(id);
    const p = new Problems();
    this.#groupProblems(p, patch);
    p.throwIfAny();
    return this.#change(ctx, 'initiator-group.update', `initiator group ${g.name}`, patch, () => {
      this.#setMembers(id, patch.initiators, patch.networks);
      return this.getInitiatorGroup(id);
    });
  }

  deleteInitiatorGroup(ctx: ChangeContext, id: number, opts: { force?: boolean } = {}): void {
    const g = this.getInitiatorGroup(id);
    const used = this.db.prepare('SELECT t.iqn FROM target_acls a JOIN targets t ON t.id = a.target_id WHERE a.group_id = ?').all(id) as Array<{ iqn: string }>;
    if (used.length > 0 && !opts.force) {
      throw new StoreError('in-use', `initiator group ${g.name} is allowed on ${used.map((u) => u.iqn).join(', ')}; remove those ACLs or delete with force`);
    }
    this.#change(ctx, 'initiator-group.delete', `initiator group ${g.name}`, { force: !!opts.force }, () => {
      this.db.prepare('DELETE FROM target_acls WHERE group_id = ?').run(id);
      this.db.prepare('DELETE FROM initiator_groups WHERE id = ?').run(id);
    });
  }

  listAcls(targetId?: number): TargetAcl[] {
    const sql = 'SELECT id, target_id AS targetId, group_id AS groupId FROM target_acls';
    return (targetId === undefined
      ? this.db.prepare(`${sql} ORDER BY id`).all()
      : this.db.prepare(`${sql} WHERE target_id = ? ORDER BY id`).all(targetId)) as TargetAcl[];
  }

  getAcl(id: number): TargetAcl {
    const r = this.db.prepare('SELECT id, target_id AS targetId, group_id AS groupId FROM target_acls WHERE id = ?').get(id) as TargetAcl | undefined;
    if (!r) throw new StoreError('not-found', `acl ${id} not found`);
    return r;
  }

  createAcl(ctx: ChangeContext, targetId: number, groupId: number): TargetAcl {
    const t = this.getTarget(targetId);
    const g = this.getInitiatorGroup(groupId);
    return this.#change(ctx, 'acl.create', `acl ${g.name} on ${t.iqn}`, {}, () => {
      if (this.db.prepare('SELECT 1 FROM target_acls WHERE target_id = ? AND group_id = ?').get(targetId, groupId)) {
        throw new StoreError('conflict', `${g.name} is already allowed on ${t.iqn}`, [{ field: 'groupId', message: 'already allowed on this target' }]);
      }
      const id = this.db.prepare('INSERT INTO target_acls (target_id, group_id) VALUES (?, ?)').run(targetId, groupId).lastInsertRowid;
      return this.getAcl(Number(id));
    });
  }

  deleteAcl(ctx: ChangeContext, id: number): void {
    const a = this.getAcl(id);
    const t = this.getTarget(a.targetId);
    const g = this.getInitiatorGroup(a.groupId);
    this.#change(ctx, 'acl.delete', `acl ${g.name} on ${t.iqn}`, {}, () => {
      this.db.prepare('DELETE FROM target_acls WHERE id = ?').run(id);
    });
  }

  // ---- CHAP (secrets sealed with the machine key; the API only ever sees ChapInfo)

  listChap(): ChapInfo[] {
    return this.db
      .prepare('SELECT id, target_id AS targetId, username, mutual_username AS mutualUsername FROM chap_credentials ORDER BY id')
      .all() as ChapInfo[];
  }

  #chapRow(targetId: number | null): ChapRow | undefined {
    return (targetId === null
      ? this.db.prepare('SELECT * FROM chap_credentials WHERE target_id IS NULL').get()
      : this.db.prepare('SELECT * FROM chap_credentials WHERE target_id = ?').get(targetId)) as ChapRow | undefined;
  }

  getChap(targetId: number | null): ChapInfo | undefined {
    const r = this.#chapRow(targetId);
    return r && { id: r.id, targetId: r.target_id, username: r.username, mutualUsername: r.mutual_username };
  }

  /** Decrypted secrets: for the target daemon's desired state and the password-confirmed export only. */
  chapSecrets(targetId: number | null): ChapSecrets | undefined {
    const r = this.#chapRow(targetId);
    if (!r) return undefined;
    const out: ChapSecrets = { username: r.username, secret: this.#box.open(r.secret_enc) };
    if (r.mutual_username !== null && r.mutual_secret_enc !== null) out.mutual = { username: r.mutual_username, secret: this.#box.open(r.mutual_secret_enc) };
    return out;
  }

  /** Sets (replaces) the CHAP credentials of a target, or of discovery sessions when targetId is null. */
  setChap(ctx: ChangeContext, targetId: number | null, c: NewChap): ChapInfo {
    const p = new Problems();
    p.check('username', chapUserProblem(c.username));
    p.check('secret', chapSecretProblem(c.secret));
    if ((c.mutualUsername === undefined) !== (c.mutualSecret === undefined)) {
      p.check(c.mutualUsername === undefined ? 'mutualUsername' : 'mutualSecret', 'is required for mutual CHAP (give both or neither)');
    }
    if (c.mutualUsername !== undefined) p.check('mutualUsername', chapUserProblem(c.mutualUsername));
    if (c.mutualSecret !== undefined) {
      p.check('mutualSecret', chapSecretProblem(c.mutualSecret));
      // RFC 7143 §12.1.3: a secret used to authenticate the initiator must not also authenticate the target
      if (c.mutualSecret === c.secret) p.check('mutualSecret', 'must differ from secret (RFC 7143 §12.1.3)');
    }
    p.throwIfAny();
    const object = targetId === null ? 'discovery chap' : `chap of ${this.getTarget(targetId).iqn}`;
    // detail names the user names only: secrets never reach the audit log
    return this.#change(ctx, 'chap.set', object, { username: c.username, mutualUsername: c.mutualUsername ?? null }, () => {
      if (targetId === null) this.db.prepare('DELETE FROM chap_credentials WHERE target_id IS NULL').run();
      else this.db.prepare('DELETE FROM chap_credentials WHERE target_id = ?').run(targetId);
      this.db
        .prepare('INSERT INTO chap_credentials (target_id, username, secret_enc, mutual_username, mutual_secret_enc) VALUES (?, ?, ?, ?, ?)')
        .run(targetId, c.username, this.#box.seal(c.secret), c.mutualUsername ?? null, c.mutualSecret !== undefined ? this.#box.seal(c.mutualSecret) : null);
      return this.getChap(targetId)!;
    });
  }

  deleteChap(ctx: ChangeContext, targetId: number | null): void {
    const existing = this.getChap(targetId);
    if (!existing) throw new StoreError('not-found', targetId === null ? 'no discovery CHAP is set' : `target ${targetId} has no CHAP`);
    const object = targetId === null ? 'discovery chap' : `chap of ${this.getTarget(targetId).iqn}`;
    this.#change(ctx, 'chap.delete', object, {}, () => {
      this.db.prepare('DELETE FROM chap_credentials WHERE id = ?').run(existing.id);
    });
  }
}
