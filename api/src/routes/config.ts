/** Config as code (export, plan), settings, and the audit log. */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { HttpError } from '../auth/principal.ts';
import { applyConfig } from '../config/apply.ts';
import { ConfigDocument, configProblems, exportConfig, planConfig } from '../config/document.ts';
import { verifyPassword } from '../store/passwords.ts';
import { AuditEntry, Settings, responses } from '../schemas.ts';
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
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })), offset: Type.Optional(Type.Integer({ minimum: 0 })) },
  { additionalProperties: false },
);

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
  }, async (request) => store.listAudit(request.query.limit ?? 100, request.query.offset ?? 0));
}
