/** Which `openlun` words belong to the API client — kept apart from the client itself so that the dispatch in
 *  cli/openlun.ts does not load it for `openlun target --portal …` (the standalone target). */
export const CLIENT_COMMAND_NAMES = new Set([
  'login', 'logout', 'lun', 'acl', 'chap', 'pool', 'session', 'config',
  'disk', 'pv', 'vg', 'snapshot', 'schedule', 'user', 'token',
]);
/** `openlun target <verb>` is the API client; `openlun target --option …` the standalone target. */
export const TARGET_CLIENT_VERBS = new Set(['list', 'show', 'create', 'delete', 'map', 'unmap', 'portal']);
