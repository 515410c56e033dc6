/**
 * Hash routes (#/storage, #/targets/3): the server serves one index.html, so the route lives in the fragment and a
 * reload or a bookmark lands on the same page without any server-side fallback.
 */
export type Route =
  | { page: 'storage' }
  | { page: 'targets' }
  | { page: 'target'; id: number; tab: 'overview' | 'connect' };

export const DEFAULT_ROUTE: Route = { page: 'storage' };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  if (parts[0] === 'storage' || parts.length === 0) return { page: 'storage' };
  if (parts[0] === 'targets') {
    if (parts.length === 1) return { page: 'targets' };
    const id = Number(parts[1]);
    if (Number.isInteger(id) && id > 0) return { page: 'target', id, tab: parts[2] === 'connect' ? 'connect' : 'overview' };
    return { page: 'targets' };
  }
  return DEFAULT_ROUTE;
}

export function routeHref(r: Route): string {
  switch (r.page) {
    case 'storage':
      return '#/storage';
    case 'targets':
      return '#/targets';
    case 'target':
      return `#/targets/${r.id}${r.tab === 'connect' ? '/connect' : ''}`;
  }
}
