/**
 * SMART health of one disk through smartmontools' `smartctl --json` (argv only, a timeout, never a shell).
 * Anything short of a clear verdict — no smartctl installed, a device without SMART (virtio, loop), a timeout,
 * output that is not the JSON we expect — is `unknown`, never an error: the system page must always answer.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

export type SmartHealth = 'passed' | 'failed' | 'unknown';

export interface SmartReport {
  health: SmartHealth;
  /** current drive temperature in °C when the drive reports one */
  temperatureC: number | null;
}

const UNKNOWN: SmartReport = { health: 'unknown', temperatureC: null };
/** Only plain device nodes reach smartctl's argv: a name starting with '-' would be read as an option. */
const DEVICE_PATH = /^\/dev\/[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const CANDIDATES = ['/usr/sbin/smartctl', '/sbin/smartctl', '/usr/bin/smartctl', '/usr/local/sbin/smartctl'];

/** Where smartctl is installed, or undefined (Debian puts it in /usr/sbin, which a non-root PATH may lack). */
export function findSmartctl(): string | undefined {
  return CANDIDATES.find((p) => existsSync(p));
}

/** Reads smartctl's JSON (smartmontools ≥ 7.0: `smart_status.passed`, `temperature.current`). */
export function parseSmartctlJson(stdout: string): SmartReport {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    return UNKNOWN;
  }
  if (typeof doc !== 'object' || doc === null) return UNKNOWN;
  const d = doc as { smart_status?: { passed?: unknown }; temperature?: { current?: unknown } };
  const passed = d.smart_status?.passed;
  const temp = d.temperature?.current;
  return {
    health: passed === true ? 'passed' : passed === false ? 'failed' : 'unknown',
    temperatureC: typeof temp === 'number' && Number.isFinite(temp) ? temp : null,
  };
}

export function smartReport(smartctl: string | undefined, device: string, timeoutMs = 5000): Promise<SmartReport> {
  if (!smartctl || !DEVICE_PATH.test(device)) return Promise.resolve(UNKNOWN);
  return new Promise((resolve) => {
    // -H health verdict, -A attributes (temperature); -n standby: do not spin up a sleeping disk to ask it
    execFile(smartctl, ['--json', '-H', '-A', '-n', 'standby', device], { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } }, (err, stdout) => {
      // smartctl's exit status is a bit mask (bit 3: "disk failing") that comes with valid JSON; only its output counts
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') return resolve(UNKNOWN);
      if (err && err.killed) return resolve(UNKNOWN);
      resolve(parseSmartctlJson(String(stdout)));
    });
  });
}
