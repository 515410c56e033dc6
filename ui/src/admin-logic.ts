/** The administration pages' logic without DOM (tested in ui/test/admin-logic.test.ts). */

export const PASSWORD_MIN = 10;

/** The checks the API makes too, before the round trip (the API's messages still land next to the fields). */
export function newUserProblems(v: { username?: string; password?: string; role?: string }): Record<string, string> {
  const e: Record<string, string> = {};
  if (!v.username?.trim()) e['username'] = 'is required';
  // the API's rule (api/src/store/names.ts USERNAME; that module needs node:net, so it is not bundled here)
  else if (!/^[a-z_][a-z0-9_.-]{0,31}$/.test(v.username.trim())) e['username'] = 'must be 1-32 characters: lower-case letters, digits, "_", ".", "-", starting with a letter or "_"';
  if ((v.password ?? '').length < PASSWORD_MIN) e['password'] = `must be at least ${PASSWORD_MIN} characters`;
  if (v.role !== 'admin' && v.role !== 'read-only') e['role'] = 'must be admin or read-only';
  return e;
}

/** An audit entry's detail as one short line: key=value pairs, objects as JSON. */
export function detailText(detail: Record<string, unknown>): string {
  return Object.entries(detail)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}

/** "+01:00" from minutes east of UTC. */
export function utcOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const m = Math.abs(minutes);
  return `${sign}${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

/** Why the shell's socket closed, in words (close codes from api/src/shell/shell-session.ts). */
export function shellCloseMessage(code: number, reason: string): string {
  if (code === 4403) return 'The session was refused: its security token did not match. Reload the page and sign in again.';
  if (code === 4408) return reason ? `The shell was closed: ${reason}.` : 'The shell was closed after being idle.';
  if (code === 4400) return `The shell was closed: ${reason || 'a message it did not understand'}.`;
  if (code === 1000) return reason ? `The shell ended (${reason}).` : 'The shell ended.';
  // 1006: the handshake itself was refused (401/403/409 never reach a page's WebSocket as a status)
  return 'The shell could not be opened: you may have been signed out, or the maximum number of shells is open. Sign in again or close another shell, then reconnect.';
}
