/**
 * `openlun target …` as a child process for the tests that drive it directly (multipath, ALUA states, the portal-group
 * runs of iscsi-test-cu): started with argv (never a shell string), ready once every listener has said it listens,
 * stopped with SIGTERM (SIGKILL if it has not gone after 5 s).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { trackChild } from './run.ts';

export interface TargetProcess {
  child: ChildProcess;
  /** what it printed on stdout and stderr (the newest 500 KB at least) */
  output(): string;
  stop(): Promise<void>;
}

export interface TargetProcessOptions {
  /** how many "listening on" lines mean it is ready: one per --portal */
  listeners: number;
  startTimeoutMs?: number;
  cwd?: string;
}

export async function startTargetProcess(argv: readonly string[], o: TargetProcessOptions): Promise<TargetProcess> {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error('startTargetProcess: empty argv');
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(o.cwd ? { cwd: o.cwd } : {}) });
  trackChild(child);
  let out = '';
  const append = (b: Buffer) => {
    out += b.toString();
    if (out.length > 1_000_000) out = out.slice(-500_000);
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`target did not start:\n${out}`)), o.startTimeoutMs ?? 60_000);
    child.stdout!.on('data', () => {
      if ((out.match(/listening on /g) ?? []).length >= o.listeners) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`target exited with ${code}:\n${out}`));
    });
  });
  return {
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5_000))]);
      if (!done) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
