// What every storage operation gets: a bound exec (runner, time bound, cancellation) and the report format
// the installed lvm2 understands (detected once per runner).
import { execTool } from './exec.ts';
import type { ExecOptions, RunResult, Runner } from './exec.ts';
import { parseLvmVersion, reportArgv, reportFormatFor } from './report.ts';
import type { ReportFormat, ReportKind } from './report.ts';

export interface LvmContext {
  run(argv: readonly string[], opts?: Pick<ExecOptions, 'timeoutMs' | 'okCodes'>): Promise<RunResult>;
  /** Run a report and return its stdout (the JSON). */
  report(kind: ReportKind, selectors?: readonly string[], extra?: readonly string[]): Promise<string>;
  /** The operation's cancellation (caller's signal and deadline), for work done outside a tool (block copies). */
  signal?: AbortSignal;
}

export interface ContextOptions {
  runner?: Runner;
  signal?: AbortSignal;
  /** Per-process bound (each tool invocation). */
  timeoutMs?: number;
  path?: string;
  /** Skip detection (tests with fake binaries). */
  reportFormat?: ReportFormat;
}

/** Detected formats, per runner and PATH (a test's fake lvm2 is not the system's). */
const formats = new WeakMap<object, Map<string, Promise<ReportFormat>>>();
const LOCAL_KEY = {};

export function createContext(opts: ContextOptions = {}): LvmContext {
  const base: ExecOptions = {
    ...(opts.runner ? { runner: opts.runner } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.path ? { path: opts.path } : {}),
  };
  const run: LvmContext['run'] = (argv, o = {}) => execTool(argv, { ...base, ...o });
  const format = (): Promise<ReportFormat> => {
    if (opts.reportFormat) return Promise.resolve(opts.reportFormat);
    const key = opts.runner ?? LOCAL_KEY;
    let byPath = formats.get(key);
    if (!byPath) formats.set(key, byPath = new Map());
    const pathKey = opts.path ?? '';
    let f = byPath.get(pathKey);
    if (!f) {
      f = run(['lvm', 'version']).then((r) => reportFormatFor(parseLvmVersion(r.stdout)));
      f.catch(() => byPath.delete(pathKey));
      byPath.set(pathKey, f);
    }
    return f;
  };
  return {
    run,
    ...(opts.signal ? { signal: opts.signal } : {}),
    async report(kind, selectors = [], extra = []) {
      return (await run(reportArgv(kind, await format(), selectors, extra))).stdout;
    },
  };
}
