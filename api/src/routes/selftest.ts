/**
 * The self-test (admin): POST /api/selftest starts libiscsi's iscsi-test-cu against a scratch LUN; GET
 * /api/selftest/:id follows it (poll about once a second); GET /api/selftest says whether the suite is installed,
 * which families can run and what ran last. Registered by serve, which owns the target daemon the scratch LUN needs.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { HttpError } from '../auth/principal.ts';
import { ErrorBody, IdParams, StringEnum, responses } from '../schemas.ts';
import { NOT_INSTALLED, QUICK_FAMILIES, SELFTEST_FAMILIES, SelfTestRunner, type RunnerOptions } from '../selftest/runner.ts';
import { changeContext } from './common.ts';

const Family = StringEnum(SELFTEST_FAMILIES as readonly string[]);
const Counts = Type.Object({ passed: Type.Integer(), failed: Type.Integer(), skippedNotApplicable: Type.Integer(), skippedUnsupported: Type.Integer() });
const Run = Type.Object({
  id: Type.Integer(),
  state: StringEnum(['preparing', 'running', 'cleaning', 'done', 'error']),
  verdict: Type.Optional(StringEnum(['passed', 'failed'])),
  families: Type.Array(Type.String()),
  startedAt: Type.Integer(),
  finishedAt: Type.Optional(Type.Integer()),
  startedBy: Type.String(),
  target: Type.Optional(Type.String()),
  progress: Type.Object({ done: Type.Integer(), total: Type.Integer(), current: Type.Optional(Type.String()) }),
  counts: Type.Optional(Counts),
  cases: Type.Array(Type.Object({
    suite: Type.String(),
    name: Type.String(),
    status: StringEnum(['passed', 'failed', 'skipped-not-applicable', 'skipped-unsupported']),
    failures: Type.Array(Type.String()),
    skipReasons: Type.Array(Type.String()),
  })),
  message: Type.Optional(Type.String()),
  logTail: Type.Array(Type.String()),
  cleanup: Type.Array(Type.String()),
});
const Overview = Type.Object({
  available: Type.Boolean(),
  unavailableReason: Type.Optional(Type.String()),
  families: Type.Array(Type.String()),
  defaultFamilies: Type.Array(Type.String()),
  runs: Type.Array(Run),
});
const StartBody = Type.Object(
  { families: Type.Optional(Type.Array(Family, { minItems: 1, maxItems: SELFTEST_FAMILIES.length, uniqueItems: true })) },
  { additionalProperties: false },
);

export function selftestRoutes(o: RunnerOptions & { runner?: SelfTestRunner }) {
  return async function registerSelftest(app: FastifyInstance): Promise<void> {
    const runner = o.runner ?? new SelfTestRunner(o);
    // shutting down: a run in progress is stopped and cleans up before the store closes
    app.addHook('onClose', async () => {
      runner.abort();
      await runner.idle();
    });

    app.get('/api/selftest', { config: { access: 'admin' }, schema: { tags: ['system'], summary: 'self-test availability and recent runs', response: responses({ 200: Overview }) } }, async () => {
      const available = runner.executable() !== undefined;
      return { available, ...(available ? {} : { unavailableReason: NOT_INSTALLED }), families: [...SELFTEST_FAMILIES], defaultFamilies: [...QUICK_FAMILIES], runs: runner.list() };
    });

    app.get<{ Params: Static<typeof IdParams> }>('/api/selftest/:id', { config: { access: 'admin' }, schema: { tags: ['system'], params: IdParams, response: responses({ 200: Run }) } }, async (request) => {
      const run = runner.get(request.params.id);
      if (!run) throw new HttpError(404, 'not-found', `self-test run ${request.params.id} not found (only the last few are kept)`);
      return run;
    });

    app.post<{ Body: Static<typeof StartBody> }>('/api/selftest', {
      schema: { tags: ['system'], summary: 'start a self-test (iscsi-test-cu against a scratch LUN)', body: StartBody, response: { ...responses({ 202: Run }), 503: ErrorBody } },
    }, async (request, reply) => {
      if (!runner.executable()) throw new HttpError(503, 'unavailable', NOT_INSTALLED);
      const busy = runner.running();
      if (busy) throw new HttpError(409, 'conflict', `self-test ${busy.id} is still running (started by ${busy.startedBy}); wait for it to finish`);
      const run = runner.start(changeContext(request), request.body?.families ?? [...QUICK_FAMILIES]);
      return reply.status(202).send(run);
    });
  };
}
