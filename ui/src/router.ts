/**
 * Hash routes (#/storage, #/targets/3): the server serves one index.html, so the route lives in the fragment and a
 * reload or a bookmark lands on the same page without any server-side fallback.
 */
export const ADMIN_TABS = ['users', 'tokens', 'audit', 'settings', 'network', 'selftest'] as const;
export type AdminTab = (typeof ADMIN_TABS)[number];

export type Route =
  | { page: 'dashboard' }
  | { page: 'storage' }
  | { page: 'pools' }
  | { page: 'wizard' }
  | { page: 'targets' }
  | { page: 'target'; id: number; tab: 'overview' | 'connect' }
  | { page: 'sessions' }
  | { page: 'shell' }
  | { page: 'admin'; tab: AdminTab };

export const DEFAULT_ROUTE: Route = { page: 'dashboard' };

const SIMPLE = ['dashboard', 'storage', 'pools', 'wizard', 'targets', 'sessions', 'shell'] as const;

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  if (parts.length === 0) return DEFAULT_ROUTE;
  if (parts[0] === 'targets' && parts.length > 1) {
    const id = Number(parts[1]);
    if (Number.isInteger(id) && id > 0) return { page: 'target', id, tab: parts[2] === 'connect' ? 'connect' : 'overview' };
    return { page: 'targets' };
  }
  if (parts[0] === 'admin') {
    const tab = (ADMIN_TABS as readonly string[]).includes(parts[1] ?? '') ? (parts[1] as AdminTab) : 'users';
    return { page: 'admin', tab };
  }
  const simple = SIMPLE.find((p) => p === parts[0]);
  return simple ? { page: simple } : DEFAULT_ROUTE;
}

export function routeHref(r: Route): string {
  switch (r.page) {
    case 'target':
      return `#/targets/${r.id}${r.tab === 'connect' ? '/connect' : ''}`;
    case 'admin':
      return `#/admin/${r.tab}`;
    default:
      return `#/${r.page}`;
  }
}
