/**
 * Test harness: the management API with the UI registered through buildApp's `extend` hook (so the UI's routes
 * live under the API's own auth hook, security headers and route rules, as `openlun serve` will run them), listening
 * on a free 127.0.0.1 port over plain HTTP (secureCookies off).
 */
import type { FastifyInstance } from 'fastify';
import { execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp, type AppOptions } from '../../api/src/app.ts';
import { registerUi } from '../../api/src/ui-static.ts';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Builds the bundle into `outDir` (esbuild: well under a second). */
export function buildUi(outDir: string): string {
  return execFileSync(process.execPath, [join(repoRoot, 'scripts/build-ui.mjs'), '--out', outDir], { encoding: 'utf8' });
}

export interface UiServer {
  url: string;
  api: FastifyInstance;
  close(): Promise<void>;
}

/** `network` is passed to buildApp as is (tests point openlun-netconfig at a scratch dir); default: none. */
export async function startUiServer(opts: { distDir: string; dataDir: string; network?: AppOptions['network'] }): Promise<UiServer> {
  const api = await buildApp({ dataDir: opts.dataDir, secureCookies: false, ...(opts.network ? { network: opts.network } : {}), extend: (app) => registerUi(app, { distDir: opts.distDir }) });
  await api.listen({ host: '127.0.0.1', port: 0 });
  const { port } = api.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    api,
    async close() {
      await api.close();
    },
  };
}
