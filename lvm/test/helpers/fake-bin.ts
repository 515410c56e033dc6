// Fake storage tools for the error-path tests: a temp dir of small sh scripts put on PATH (the exec point's
// `path` option), each logging its argv to calls.log so a test can assert what ran — and what never did.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures');

export interface Recorded { argv: string[]; code: number; stdout: string; stderr: string }
export const fixture = (name: string): Recorded => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as Recorded;

export interface FakeSpec {
  stdout?: string;
  stderr?: string;
  code?: number;
  /** Raw sh lines run before printing (e.g. 'sleep 30', 'echo $$ > pidfile'). */
  before?: string;
  /** Replace the whole body (after the logging line). */
  body?: string;
}

export class FakeBin {
  readonly dir = mkdtempSync(join(tmpdir(), 'openlun-fakebin-'));
  readonly log = join(this.dir, 'calls.log');
  private n = 0;

  /** PATH with only the fakes: a tool not faked is "not installed" (ENOENT). */
  get path(): string { return this.dir; }

  add(name: string, spec: FakeSpec = {}): this {
    const out = join(this.dir, `.${name}.${++this.n}.out`);
    const err = join(this.dir, `.${name}.${this.n}.err`);
    writeFileSync(out, spec.stdout ?? '');
    writeFileSync(err, spec.stderr ?? '');
    const body = spec.body ?? `${spec.before ?? ''}\n/bin/cat '${out}'\n/bin/cat '${err}' >&2\nexit ${spec.code ?? 0}\n`;
    const script = join(this.dir, name);
    writeFileSync(script, `#!/bin/sh\necho "${name} $*" >> '${this.log}'\n${body}`);
    chmodSync(script, 0o755);
    return this;
  }

  /** `lvm version` answering as the given lvm2 release. */
  lvmVersion(v = '2.03.31(2) (2025-02-27)'): this {
    return this.add('lvm', { stdout: `  LVM version:     ${v}\n  Library version: 1.02.205\n` });
  }

  calls(): string[] {
    return existsSync(this.log) ? readFileSync(this.log, 'utf8').trim().split('\n').filter(Boolean) : [];
  }

  cleanup(): void { rmSync(this.dir, { recursive: true, force: true }); }
}
