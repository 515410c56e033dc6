/**
 * The scriptable client of the management API: `openlun login|logout|lun|target <verb>|acl|chap|pool|session|
 * config|disk|pv|vg|snapshot|schedule|user|token`. Exit codes: 0 done, 1 refused or failed (the API's message and each bad field on stderr), 2 bad usage
 * (the command's usage on stderr).
 */
import { ApiError } from './api.ts';
import { CliError, GLOBAL_HELP, HelpRequested, UsageError } from './args.ts';
import { aclCommand, ACL_USAGE } from './commands/acls.ts';
import { chapCommand, CHAP_USAGE } from './commands/chap.ts';
import { configCommand, CONFIG_USAGE } from './commands/config.ts';
import { LOGIN_USAGE, LOGOUT_USAGE, loginCommand, logoutCommand } from './commands/login.ts';
import { lunCommand, LUN_USAGE } from './commands/luns.ts';
import { poolCommand, POOL_USAGE } from './commands/pool.ts';
import { sessionCommand, SESSION_USAGE } from './commands/sessions.ts';
import { targetClientCommand, TARGET_CLIENT_USAGE } from './commands/targets.ts';
import { diskCommand, DISK_USAGE } from './commands/disks.ts';
import { pvCommand, PV_USAGE } from './commands/pvs.ts';
import { vgCommand, VG_USAGE } from './commands/vgs.ts';
import { snapshotCommand, SNAPSHOT_USAGE } from './commands/snapshots.ts';
import { scheduleCommand, SCHEDULE_USAGE } from './commands/schedules.ts';
import { userCommand, USER_USAGE } from './commands/users.ts';
import { tokenCommand, TOKEN_USAGE } from './commands/tokens.ts';

export { TARGET_CLIENT_USAGE };

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; usage: string }> = {
  login: { run: loginCommand, usage: LOGIN_USAGE },
  logout: { run: logoutCommand, usage: LOGOUT_USAGE },
  lun: { run: lunCommand, usage: LUN_USAGE },
  target: { run: targetClientCommand, usage: TARGET_CLIENT_USAGE },
  acl: { run: aclCommand, usage: ACL_USAGE },
  chap: { run: chapCommand, usage: CHAP_USAGE },
  pool: { run: poolCommand, usage: POOL_USAGE },
  session: { run: sessionCommand, usage: SESSION_USAGE },
  config: { run: configCommand, usage: CONFIG_USAGE },
  disk: { run: diskCommand, usage: DISK_USAGE },
  pv: { run: pvCommand, usage: PV_USAGE },
  vg: { run: vgCommand, usage: VG_USAGE },
  snapshot: { run: snapshotCommand, usage: SNAPSHOT_USAGE },
  schedule: { run: scheduleCommand, usage: SCHEDULE_USAGE },
  user: { run: userCommand, usage: USER_USAGE },
  token: { run: tokenCommand, usage: TOKEN_USAGE },
};

/** The usage of one client command (for `openlun help CMD`), or undefined. */
export function clientUsage(command: string): string | undefined {
  const c = COMMANDS[command];
  return c ? `${c.usage}\n\n${GLOBAL_HELP}` : undefined;
}

function describeApiError(err: ApiError): string {
  const lines = [err.code === 'validation' && err.fields.length ? 'the server refused the request:' : err.message];
  for (const f of err.fields) lines.push(`  - ${f.message.startsWith(f.field) ? f.message : `${f.field}: ${f.message}`}`);
  if (err.status === 401) lines.push('  (log in again: openlun login)');
  return lines.join('\n');
}

/** Runs `openlun <command> ...argv`, printing errors; returns the exit code. */
export async function runClient(command: string, argv: string[]): Promise<number> {
  const c = COMMANDS[command];
  const name = `openlun ${command}`;
  if (!c) {
    process.stderr.write(`openlun: unknown command "${command}"\n`);
    return 2;
  }
  try {
    return await c.run(argv);
  } catch (err) {
    if (err instanceof HelpRequested) {
      process.stdout.write(`${err.usage}\n\n${GLOBAL_HELP}\n`);
      return 0;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`${name}: ${err.message}\n${err.usage}\n`);
      return 2;
    }
    if (err instanceof ApiError) {
      process.stderr.write(`${name}: ${describeApiError(err)}\n`);
      return 1;
    }
    if (err instanceof CliError) {
      process.stderr.write(`${name}: ${err.message}\n`);
      return err.message === 'cancelled' ? 130 : 1;
    }
    process.stderr.write(`${name}: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}
