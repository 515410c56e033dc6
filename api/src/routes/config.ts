/** Config as code (export, plan), settings, and the audit log. */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { HttpError } from '../auth/principal.ts';
import { applyConfig } from '../config/apply.ts';
import { ConfigDocument, configProblems, exportConfig, planConfig } from '../config/document.ts';
import { verifyPassword } from '../store/passwords.ts';
import { AuditEntry, Settings, responses } from '../schemas.ts';
import type { Store } from '../store/store.ts';
import type { AuditEntry as AuditEntryRecord } from '../store/types.ts';
import { changeContext } from './common.ts';

const ExportWithSecrets = Type.Object({ password: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false });
const FieldChange = Type.Object({ field: Type.String(), from: Type.Unknown(), to: Type.Unknown() });
const PlanBody = Type.Object({
  changes: Type.Array(Type.Object({ op: Type.String(), kind: Type.String(), key: Type.String(), fields: Type.Optional(Type.Array(FieldChange)) })),
  refused: Type.Array(Type.Object({ key: Type.String(), message: Type.String() })),
  summary: Type.Object({ create: Type.Integer(), update: Type.Integer(), delete: Type.Integer() }),
});
const SettingsPatch = Type.Object(
  {
    hostname: Type.Optional(Type.String({ minLength: 1, maxLength: 63 })),
    baseIqn: Type.Optional(Type.String({ minLength: 1, maxLength: 223 })),
    iscsiPort: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  },
  { additionalProperties: false, minProperties: 1 },
);
const AuditQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    offset: Type.Optional(Type.Integer({ minimum: 0 })),
    user: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'who acted (also matches "<user> (token)", "<user> (self-test)")' })),
    action: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'an action or its prefix: "shell" matches shell.start and shell.end' })),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'text anywhere in the object, detail, address, user or action' })),
    from: Type.Optional(Type.Integer({ minimum: 0, description: 'epoch ms, inclusive' })),
    to: Type.Optional(Type.Integer({ minimum: 0, description: 'epoch ms, exclusive' })),
  },
  { additionalProperties: false },
);

/** LIKE with the user's text taken literally ("%" and "_" are not wildcards here). */
function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** The audit log filtered (newest first) and the number of entries the filter matches, for paging. */
function queryAudit(store: Store, q: Static<typeof AuditQuery>): { entries: AuditEntryRecord[]; total: number } {
  const where: string[] = [];
  const args: Array<string | number> = [];
  if (q.user !== undefined) {
    where.push("(actor = ? OR actor LIKE ? ESCAPE '\\')");
    args.push(q.user, `${likeLiteral(q.user)} (%`);
  }
  if (q.action !== undefined) {
    where.push("(action = ? OR action LIKE ? ESCAPE '\\')");
    args.push(q.action, `${likeLiteral(q.action)}.%`);
  }
  if (q.q !== undefined) {
    const pattern = `%${likeLiteral(q.q)}%`;
    where.push(`(${['object', 'detail', 'actor', 'action', 'ip'].map((c) => `${c} LIKE ? ESCAPE '\\'`).join(' OR ')})`);
    args.push(pattern, pattern, pattern, pattern, pattern);
  }
  if (q.from !== undefined) {
    where.push('at >= ?');
    args.push(q.from);
  }
  if (q.to !== undefined) {
    where.push('at < ?');
    args.push(q.to);
  }
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const total = (store.db.prepare(`SELECT count(*) AS n FROM audit_log ${clause}`).get(...args) as { n: number }).n;
  const rows = store.db.prepare(`SELECT * FROM audit_log ${clause} ORDER BY id DESC LIMIT ? OFFSET ?`).all(...args, q.limit ?? 100, q.offset ?? 0) as Array<
    Omit<AuditEntryRecord, 'detail'> & { detail: string }
  >;
  return { entries: rows.map((r) => ({ ...r, detail: JSON.parse(r.detail) as Record<string, unknown> })), total };
}

export async function configRoutes(app: FastifyInstance): Promise<void> {
  const { store } = app.openlun;

  // without secrets: CHAP entries carry user names only
  app.get('/api/config', { schema: { tags: ['config'], response: responses({ 200: ConfigDocument }) } }, async () => exportConfig(store, false));

  // with secrets: admin only, and the admin re-enters the password (a stolen session alone cannot read secrets)
  app.post<{ Body: Static<typeof ExportWithSecrets> }>('/api/config/export', {
    schema: { tags: ['config'], body: ExportWithSecrets, response: responses({ 200: ConfigDocument }) },
  }, async (request) => {
    const principal = request.principal!;
    const user = store.findUserByName(principal.user.username);
    if (!user || !(await verifyPassword(request.body.password, user.passwordHash))) {
      store.audit(changeContext(request), 'config.export-secrets.refused', 'config');
      throw new HttpError(403, 'forbidden', 'password does not match; secrets not exported');
    }
    store.audit(changeContext(request), 'config.export-secrets', 'config');
    return exportConfig(store, true);
  });

  app.post<{ Body: ConfigDocument }>('/api/config/plan', {
    config: { access: 'admin' },
    schema: { tags: ['config'], body: ConfigDocument, response: responses({ 200: PlanBody }) },
  }, async (request) => {
    configProblems(request.body).throwIfAny();
    return planConfig(exportConfig(store, true), request.body);
  });

  // apply: the same diff as plan, executed in one transaction; returns the plan it carried out
  app.post<{ Body: ConfigDocument }>('/api/config/apply', {
    schema: { tags: ['config'], body: ConfigDocument, response: responses({ 200: PlanBody }) },
  }, async (request) => applyConfig(store, changeContext(request), request.body));

  app.get('/api/settings', { schema: { tags: ['system'], response: responses({ 200: Settings }) } }, async () => store.getSettings());
  app.patch<{ Body: Static<typeof SettingsPatch> }>('/api/settings', { schema: { tags: ['system'], body: SettingsPatch, response: responses({ 200: Settings }) } }, async (request) =>
    store.updateSettings(changeContext(request), request.body),
  );

  app.get<{ Querystring: Static<typeof AuditQuery> }>('/api/audit', {
    schema: { tags: ['system'], querystring: AuditQuery, response: responses({ 200: Type.Array(AuditEntry) }) },
  }, async (request, reply) => {
    const { entries, total } = queryAudit(store, request.query);
    // the page is the body; how many entries match the filter in all rides in a header, so the body stays an array
    reply.header('x-total-count', String(total));
    return entries;
  });
}
