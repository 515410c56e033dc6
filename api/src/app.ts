/**
 * The management API: `buildApp({ dataDir })` returns a fastify instance ready for `listen()` or `inject()`.
 * Schemas on every route validate (all errors at once) and document (OpenAPI at /api/docs); authentication and
 * CSRF run before every handler (auth/principal.ts); store errors map to HTTP statuses in one place.
 */
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { mkdirSync } from 'node:fs';
import { ajvFormats, formatHint } from './formats.ts';
import { LoginLimiter } from './auth/login-limiter.ts';
import { AUTH_POLICY } from './auth/policy.ts';
import { HttpError, makeAuthHook } from './auth/principal.ts';
import { authRoutes } from './routes/auth.ts';
import { configRoutes } from './routes/config.ts';
import { systemRoutes } from './routes/system.ts';
import { initiatorGroupRoutes } from './routes/initiator-groups.ts';
import { lunRoutes } from './routes/luns.ts';
import { networkRoutes, type NetworkOptions } from './routes/network.ts';
import { snapshotRoutes } from './routes/snapshots.ts';
import { storageRoutes } from './routes/storage.ts';
import { StorageBackend } from './storage/backend.ts';
import { StorageError, storageErrorReply } from './storage/errors.ts';
import { ScheduleStore } from './storage/schedules.ts';
import { targetRoutes } from './routes/targets.ts';
import { portalGroupRoutes } from './routes/portal-groups.ts';
import { negotiationRoutes } from './routes/negotiation.ts';
import { userRoutes } from './routes/users.ts';
import { StoreError, type StoreErrorKind } from './store/errors.ts';
import { Store } from './store/store.ts';

export interface AppOptions {
  dataDir: string;
  /** defaults to <dataDir>/pool */
  poolDir?: string;
  /** fastify logger option: false (default), true, pino options, or a logger instance */
  logger?: FastifyServerOptions['logger'] | FastifyBaseLogger;
  /** Secure attribute on cookies; default true (HTTPS). Tests over inject() may turn it off. */
  secureCookies?: boolean;
  /** clock, for lockout tests */
  now?: () => number;
  /** Called before the resource routes are registered: hooks added here apply to every route (serve.ts wires the
   *  target daemon in here), and routes added here get the same auth and schema rules. */
  extend?: (app: FastifyInstance) => Promise<void> | void;
  /** The storage behind LUNs (serve picks LVM or the file pool); default: file mode on the store's pool. */
  storage?: (store: Store) => StorageBackend;
  /** GET/PUT /api/network: how to run openlun-netconfig (tests point it at a scratch dir). */
  network?: NetworkOptions;
}

export interface AppContext {
  store: Store;
  limiter: LoginLimiter;
  secureCookies: boolean;
  storage: StorageBackend;
  schedules: ScheduleStore;
}

declare module 'fastify' {
  interface FastifyInstance {
    openlun: AppContext;
  }
}

// API answers are JSON for scripts and the UI's fetch(): nothing to frame, sniff, cache or leak in a Referer
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'cross-origin-resource-policy': 'same-origin',
} as const satisfies Record<string, string>;

const STORE_STATUS = { invalid: 400, 'not-found': 404, conflict: 409, 'in-use': 409 } as const satisfies Record<StoreErrorKind, number>;

// secrets and credentials never reach a log line, whatever a future serializer adds
const REDACT = ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-csrf-token"]', 'req.body', 'res.headers["set-cookie"]'];

function loggerOptions(logger: AppOptions['logger']): Pick<FastifyServerOptions, 'logger' | 'loggerInstance'> {
  if (logger === undefined || logger === false) return { logger: false };
  if (logger === true) return { logger: { redact: REDACT } };
  if (typeof (logger as FastifyBaseLogger).child === 'function') return { loggerInstance: logger as FastifyBaseLogger };
  return { logger: { ...(logger as object), redact: REDACT } };
}

/** Ajv's errors → one entry per field: "body/name", "body/initiators/1", "querystring/force". */
function validationFields(error: FastifyError): Array<{ field: string; message: string }> {
  const where = error.validationContext ?? 'body';
  const byField = new Map<string, string[]>();
  for (const v of error.validation ?? []) {
    const params = v.params as { missingProperty?: string; additionalProperty?: string; allowedValues?: unknown[]; format?: string };
    let path = v.instancePath.replace(/^\//, '');
    if (params.missingProperty) path = path ? `${path}/${params.missingProperty}` : params.missingProperty;
    if (params.additionalProperty) path = path ? `${path}/${params.additionalProperty}` : params.additionalProperty;
    const field = path ? `${where}/${path}` : where;
    let message = v.message ?? 'is invalid';
    if (params.missingProperty) message = 'is required';
    else if (params.additionalProperty) message = 'is not a known field';
    else if (v.keyword === 'enum' && params.allowedValues) message = `must be one of ${params.allowedValues.map((a) => JSON.stringify(a)).join(', ')}`;
    else if (v.keyword === 'format' && params.format) message = formatHint(params.format) ?? message;
    const list = byField.get(field) ?? [];
    if (!list.includes(message)) list.push(message);
    byField.set(field, list);
  }
  // nullable fields (anyOf [x, null]) add "must be null" and "must match a schema in anyOf": noise when x's own error says why
  const noise = new Set(['must be null', 'must match a schema in anyOf']);
  return [...byField].map(([field, all]) => {
    const messages = all.some((m) => !noise.has(m)) ? all.filter((m) => !noise.has(m)) : all;
    return { field, message: `${field} ${messages.join('; ')}` };
  });
}

export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o750 });
  const now = opts.now ?? Date.now;
  const store = new Store({ dataDir: opts.dataDir, ...(opts.poolDir ? { poolDir: opts.poolDir } : {}), now });
  const app = Fastify({
    ...loggerOptions(opts.logger),
    bodyLimit: 1024 * 1024,
    ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: 'array', formats: ajvFormats() } },
  });
  app.decorate('openlun', {
    store,
    limiter: new LoginLimiter({ maxAttempts: AUTH_POLICY.loginMaxAttemptsPerIp, windowMs: AUTH_POLICY.loginWindowMs, now }),
    secureCookies: opts.secureCookies ?? true,
    storage: opts.storage ? opts.storage(store) : new StorageBackend(store, 'file'),
    schedules: new ScheduleStore(store),
  });
  app.addHook('onClose', async () => store.close());

  app.setErrorHandler((error: FastifyError | StoreError | HttpError, request, reply) => {
    if (error instanceof StoreError) {
      return reply.status(STORE_STATUS[error.kind]).send({ error: error.kind, message: error.message, ...(error.fields.length ? { fields: error.fields } : {}) });
    }
    if (error instanceof StorageError) {
      const r = storageErrorReply(error);
      return reply.status(r.status).send(r.body);
    }
    if (error instanceof HttpError) {
      return reply.status(error.statusCode).headers(error.headers).send({ error: error.code, message: error.message });
    }
    if ('validation' in error && error.validation) {
      const fields = validationFields(error);
      return reply.status(400).send({ error: 'validation', message: fields.map((f) => f.message).join('; '), fields });
    }
    const status = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      return reply.status(500).send({ error: 'internal', message: 'internal error (see the server log)' });
    }
    return reply.status(status).send({ error: 'bad-request', message: error.message });
  });
  app.setNotFoundHandler((request, reply) => reply.status(404).send({ error: 'not-found', message: `no route ${request.method} ${request.url}` }));

  await app.register(cookie);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'openlun management API', version: '0.1.0' },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: AUTH_POLICY.sessionCookie },
          token: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ session: [] }, { token: [] }],
    },
  });
  app.addHook('onRequest', async (_request, reply) => {
    reply.headers(SECURITY_HEADERS);
  });
  app.addHook('onRequest', makeAuthHook(store));
  // every route declares a schema (it validates and documents); a route without one fails the build, not review
  app.addHook('onRoute', (route) => {
    const s = route.schema as { response?: unknown } | undefined;
    if (!s?.response) throw new Error(`route ${String(route.method)} ${route.url} has no schema with responses`);
  });

  if (opts.extend) await opts.extend(app);
  await app.register(authRoutes);
  await app.register(userRoutes);
  await app.register(targetRoutes);
  await app.register(portalGroupRoutes);
  await app.register(negotiationRoutes);
  await app.register(lunRoutes);
  await app.register(initiatorGroupRoutes);
  await app.register(configRoutes);
  await app.register(storageRoutes);
  await app.register(snapshotRoutes);
  await app.register(systemRoutes());
  await app.register(networkRoutes(opts.network));

  app.get('/api/docs', {
    schema: { tags: ['system'], summary: 'this OpenAPI document', response: { 200: { type: 'object', additionalProperties: true } } },
  }, async () => app.swagger());
  await app.ready();
  return app;
}
