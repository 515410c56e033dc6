/**
 * `openlun serve`: the API process. It makes sure the target daemon runs (design.md: "the data path is its own
 * process" — in production systemd starts it; here it is spawned only when its control socket does not answer),
 * and after every committed change that affects the target it sends `apply` with the desired state
 * ("the database holds the desired state; the target reconciles to it"). If this process dies, targetd keeps serving.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import { desiredState, readSnapshot } from './desired-state.ts';
import type { DesiredState } from './desired-state.ts';
import { HttpError } from './auth/principal.ts';
import { eventRoutes } from './routes/events.ts';
import type { AlertSource } from './routes/events.ts';
import { liveRoutes } from './routes/live.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { applianceSettingsRoutes } from './routes/appliance-settings.ts';
import { selftestRoutes } from './routes/selftest.ts';
import { shellRoutes } from './routes/shell.ts';
import { registerUi } from './ui-static.ts';
import type { Store } from './store/store.ts';
import { chooseStorage, startStorageRuntime, storageTransform } from './storage/serve-storage.ts';
import type { StorageChoice, StorageRuntime } from './storage/serve-storage.ts';
import { TargetClient, TargetControlError } from './target-client.ts';
import { parseCommandArgs } from '../../target/src/command-args.ts';

const USAGE = `usage: openlun serve --data-dir DIR [--listen ADDR:PORT] [--no-spawn-target] [--control SOCKET]
         [--state FILE] [--no-tls] [--log-level debug|info|warn|error] [--storage auto|lvm|file]

Runs the management API (HTTPS with a self-signed certificate created in DIR/tls on first start; --no-tls serves
HTTP, on a loopback address only). Unless --no-spawn-target, starts 'openlun targetd' when nothing answers on
the control socket (default DIR/target.sock; state file DIR/target-state.json) and leaves it running on exit.
--storage: LUNs on LVM (disks, volume groups, thin pools) or in the file pool DIR/pool; auto (the default) picks
LVM when a volume group exists.`;

const DEFAULT_LISTEN = '127.0.0.1:8443';
// sockaddr_un.sun_path is 108 bytes on Linux, including the terminating NUL
const MAX_SOCKET_PATH = 107;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface ServeOptions {
  dataDir: string;
  host: string;
  port: number;
  spawnTarget: boolean;
  controlPath: string;
  stateFile: string;
  tls: boolean;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** argv prefix that runs this program (targetd is started as `<prefix> targetd ...`) */
  selfArgv: string[];
  /** LVM or the file pool behind LUNs (default auto: LVM when a volume group exists) */
  storage?: StorageChoice;
}

export interface ServeHandle {
  app: FastifyInstance;
  url: string;
  target: TargetClient;
  close(): Promise<void>;
}

/**
 * Sends the store's desired state to targetd after changes, one apply at a time and only when it differs from
 * the last one targetd accepted.
 */
export class Reconciler {
  #last: string | undefined;
  #chain: Promise<unknown> = Promise.resolve();

  constructor(
    readonly store: Store,
    readonly target: TargetClient,
    /** storage's additions (LUNs offline during a rollback, soft thresholds): storage/serve-storage.ts */
    readonly transform: (s: DesiredState) => DesiredState = (s) => s,
  ) {}

  sync(opts: { force?: boolean } = {}): Promise<{ applied: boolean; result?: unknown }> {
    const run = this.#chain.then(async () => {
      const state: DesiredState = this.transform(desiredState(readSnapshot(this.store)));
      const json = JSON.stringify(state);
      if (json === this.#last && !opts.force) return { applied: false };
      const result = await this.target.request('apply', { state, ...(opts.force ? { force: true } : {}) });
      this.#last = json;
      return { applied: true, result };
    });
    this.#chain = run.catch(() => undefined);
    return run;
  }
}

/** The LUN mappings a DELETE would take away from the target, by route (undefined: the route removes none). */
function mappingsRemovedBy(store: Store, routeUrl: string | undefined, id: number): Array<{ iqn: string; lun: number }> | undefined {
  const withIqn = (ms: Array<{ targetId: number; lun: number }>) => ms.map((m) => ({ iqn: store.getTarget(m.targetId).iqn, lun: m.lun }));
  if (routeUrl === '/api/mappings/:id') return withIqn([store.getMapping(id)]);
  if (routeUrl === '/api/luns/:id') return withIqn(store.listMappings().filter((m) => m.lunId === id));
  if (routeUrl === '/api/targets/:id') return withIqn(store.listMappings(id));
  return undefined;
}

/**
 * Refuses, before anything is committed, a DELETE that would take a LUN from a target with live sessions or
 * commands in flight (issue 4: "a LUN in use cannot be deleted without an explicit force"). Without an answer
 * from targetd nothing is known to be in use; targetd itself refuses the apply then.
 */
async function refuseInUse(store: Store, target: TargetClient, routeUrl: string | undefined, id: number): Promise<void> {
  let affected: Array<{ iqn: string; lun: number }> | undefined;
  try {
    affected = mappingsRemovedBy(store, routeUrl, id);
  } catch {
    return; // not found: the route answers 404 itself
  }
  if (!affected?.length) return;
  let sessions: Array<{ kind: string; target?: string }>;
  let stats: Array<{ target: string; luns: Array<{ lun: number; inFlight: number }> }>;
  try {
    sessions = (await target.request<{ sessions: typeof sessions }>('sessions')).sessions;
    stats = (await target.request<{ targets: typeof stats }>('stats')).targets;
  } catch {
    return;
  }
  const busy: string[] = [];
  for (const a of affected) {
    const n = sessions.filter((s) => s.kind === 'Normal' && s.target?.toLowerCase() === a.iqn.toLowerCase()).length;
    const inFlight = stats.find((t) => t.target.toLowerCase() === a.iqn.toLowerCase())?.luns.find((l) => l.lun === a.lun)?.inFlight ?? 0;
    if (n > 0 || inFlight > 0) busy.push(`${a.iqn} LUN ${a.lun} (${n} session(s), ${inFlight} command(s) in flight)`);
  }
  if (busy.length > 0) throw new HttpError(409, 'in-use', `in use: ${busy.join(', ')}; repeat with force=true to remove it anyway`);
}

/** A self-signed certificate for the first start (replace the two files to use your own). */
async function ensureCertificate(dataDir: string): Promise<{ key: Buffer; cert: Buffer }> {
  const dir = join(dataDir, 'tls');
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  if (!existsSync(keyPath) || !existsSync(certPath)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const oldMask = process.umask(0o077);
    try {
      await promisify(execFile)('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', keyPath, '-out', certPath, '-days', '3650', '-subj', '/CN=openlun',
        '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
      ], { timeout: 30_000 });
    } catch (err) {
      throw new Error(`cannot create a self-signed certificate with openssl: ${(err as Error).message.split('\n')[0]}`);
    } finally {
      process.umask(oldMask);
    }
  }
  return { key: readFileSync(keyPath), cert: readFileSync(certPath) };
}

/** Starts targetd detached (its own process group: a signal to the API's group does not reach it). */
async function spawnTargetd(o: ServeOptions, target: TargetClient, log: (m: string) => void): Promise<void> {
  const logFile = join(o.dataDir, 'targetd.log');
  const fd = openSync(logFile, 'a', 0o600);
  try {
    const child = spawn(o.selfArgv[0]!, [...o.selfArgv.slice(1), 'targetd', '--state', o.stateFile, '--control', o.controlPath, '--allow-missing-state', '--log-level', o.logLevel], {
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    child.unref();
    log(`started targetd (pid ${child.pid}), log in ${logFile}`);
  } finally {
    closeSync(fd);
  }
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (await target.ping(500)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`targetd did not come up on ${o.controlPath} (see ${logFile})`);
}

export async function startServe(o: ServeOptions): Promise<ServeHandle> {
  if (o.controlPath.length > MAX_SOCKET_PATH) throw new Error(`control socket path is longer than ${MAX_SOCKET_PATH} bytes: ${o.controlPath}`);
  if (!o.tls && !isLoopback(o.host)) throw new Error('--no-tls serves plain HTTP, which is allowed on a loopback address only');
  mkdirSync(o.dataDir, { recursive: true, mode: 0o750 });
  const target = new TargetClient(o.controlPath);
  const say = (m: string): void => void process.stderr.write(`${new Date().toISOString()} info serve: ${m}\n`);
  if (!(await target.ping())) {
    if (o.spawnTarget) await spawnTargetd(o, target, say);
    else say(`no target daemon answers on ${o.controlPath}; changes are applied once it runs`);
  }
  const tls = o.tls ? await ensureCertificate(o.dataDir) : undefined;

  let reconciler: Reconciler | undefined;
  let storageRuntime: StorageRuntime | undefined;
  const storage = await chooseStorage(o.storage ?? 'auto', o.dataDir, say);
  // what the settings page shows; the port is filled in once listening (--listen may ask for port 0)
  const web = { host: o.host, port: o.port, tls: o.tls };
  const app = await buildApp({
    dataDir: o.dataDir,
    secureCookies: o.tls,
    logger: { level: o.logLevel },
    storage: (store) => storage.backend(store),
    extend: async (a) => {
      // the web UI's bundle (scripts/build-ui.mjs; bin/openlun builds it when the sources are newer). Without one the
      // API still serves — an appliance must stay manageable through the API and keep its target running.
      try {
        await registerUi(a, { distDir: uiDistDir() });
      } catch (err) {
        say(`web UI not served: ${(err as Error).message}`);
      }
      reconciler = new Reconciler(a.openlun.store, target, storageTransform(a.openlun.storage));
      storageRuntime = startStorageRuntime(a, target, (r) => reconciler!.sync(r));
      // the single place every committed change passes: a successful state-changing request. The answer waits
      // for the apply, so a client that gets 2xx can use the target right away.
      a.addHook('preHandler', async (request) => {
        if (request.method !== 'DELETE') return;
        const force = (request.query as Record<string, unknown> | undefined)?.['force'];
        if (force === true || force === 'true') return;
        const id = Number((request.params as Record<string, unknown> | undefined)?.['id']);
        if (Number.isInteger(id)) await refuseInUse(a.openlun.store, target, request.routeOptions.url, id);
      });
      a.addHook('onSend', async (request, reply, payload) => {
        if (SAFE_METHODS.has(request.method) || reply.statusCode >= 400) return payload;
        const force = (request.query as Record<string, unknown> | undefined)?.['force'];
        try {
          await reconciler!.sync({ force: force === true || force === 'true' });
        } catch (err) {
          const code = err instanceof TargetControlError ? err.code : 'internal';
          request.log.warn(`target apply failed: ${code}: ${(err as Error).message}`);
          reply.header('x-openlun-target', `apply-failed; ${code}`);
        }
        return payload;
      });
      await a.register(liveRoutes(target));
      for (const routes of [metricsRoutes(target), eventRoutes(target, {}, storageRuntime.alerts as AlertSource)]) await a.register(routes);
      // the web shell (WebSocket, registers @fastify/websocket) and the self-test, which needs targetd to serve its LUN
      await a.register(shellRoutes({ dataDir: o.dataDir }));
      await a.register(selftestRoutes({ store: a.openlun.store, sync: () => reconciler!.sync() }));
      await a.register(applianceSettingsRoutes({ dataDir: o.dataDir, web, ...(tls ? { activeCertificate: tls.cert } : {}) }));
    },
  });
  try {
    await reconciler!.sync();
  } catch (err) {
    app.log.warn(`initial target apply failed: ${(err as Error).message}`);
  }

  const forward = (req: http.IncomingMessage, res: http.ServerResponse): void => void app.server.emit('request', req, res);
  const server = tls ? https.createServer({ key: tls.key, cert: tls.cert }, forward) : http.createServer(forward);
  // WebSocket handshakes (the web shell) arrive as 'upgrade'; closeAllConnections() does not see upgraded sockets, so
  // they are kept here and ended on close (a shell's session then ends and is audited)
  const upgraded = new Set<Duplex>();
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    app.server.emit('upgrade', req, socket, head);
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen({ host: o.host, port: o.port }, () => resolveListen());
  });
  const port = (server.address() as { port: number }).port;
  web.port = port;
  const url = `${tls ? 'https' : 'http'}://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`;
  return {
    app,
    url,
    target,
    async close() {
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
        for (const s of upgraded) s.destroy();
      });
      await storageRuntime?.stop();
      await app.close();
    },
  };
}

function isLoopback(host: string): boolean {
  return host === '::1' || host === 'localhost' || (isIP(host) === 4 && host.startsWith('127.'));
}

function parseListen(text: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!m || Number(m[2]) > 65535) throw new Error(`--listen wants ADDR:PORT or [V6ADDR]:PORT, got ${text}`);
  return { host: m[1]!, port: Number(m[2]) };
}

export async function runServeCommand(argv: string[], selfArgv: string[]): Promise<number> {
  const values = parseCommandArgs('serve', USAGE, argv, {
    'data-dir': { type: 'string' },
    listen: { type: 'string', default: DEFAULT_LISTEN },
    'spawn-target': { type: 'boolean', default: true },
    'no-spawn-target': { type: 'boolean', default: false },
    control: { type: 'string' },
    state: { type: 'string' },
    'no-tls': { type: 'boolean', default: false },
    'log-level': { type: 'string', default: 'info' },
    storage: { type: 'string', default: 'auto' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (typeof values === 'number') return values;
  let handle: ServeHandle;
  try {
    if (!values['data-dir']) throw new Error('--data-dir is required');
    const level = values['log-level']!;
    if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new Error('bad --log-level');
    if (!['auto', 'lvm', 'file'].includes(values.storage!)) throw new Error('--storage must be auto, lvm or file');
    const dataDir = resolve(values['data-dir']);
    const { host, port } = parseListen(values.listen!);
    handle = await startServe({
      dataDir,
      host,
      port,
      spawnTarget: values['spawn-target']! && !values['no-spawn-target'],
      controlPath: resolve(values.control ?? join(dataDir, 'target.sock')),
      stateFile: resolve(values.state ?? join(dataDir, 'target-state.json')),
      tls: !values['no-tls'],
      logLevel: level as ServeOptions['logLevel'],
      selfArgv,
      storage: values.storage as StorageChoice,
    });
  } catch (err) {
    process.stderr.write(`openlun serve: ${(err as Error).message}\n`);
    return 1;
  }
  process.stdout.write(`API listening on ${handle.url}\n`);
  await new Promise<void>((done) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await handle.close();
  return 0;
}

/**
 * ui/dist of this installation: the nearest folder above this module (the sources, or the bundle in dist/) whose
 * package.json is openlun's. OPENLUN_UI_DIR overrides it.
 */
function uiDistDir(): string {
  const override = process.env['OPENLUN_UI_DIR'];
  if (override) return override;
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'openlun') return join(dir, 'ui', 'dist');
    if (dirname(dir) === dir) throw new Error('cannot find the openlun installation (package.json) for the web UI');
  }
}
