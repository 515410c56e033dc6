/**
 * Pages load on first visit (esbuild splits each into its own chunk), so the first load is the shell, sign-in and
 * setup only. Lit keeps properties set on an element before its class is defined and applies them on upgrade, so the
 * shell can render `<x-page .api=…>` at once and the page appears when its chunk arrives.
 */
import type { Route } from './router.ts';

type Page = Route['page'];

const LOADERS = {
  dashboard: () => import('./dashboard-page.ts'),
  storage: () => import('./luns-page.ts'),
  pools: () => import('./pools-page.ts'),
  wizard: () => import('./wizard-page.ts'),
  targets: () => import('./targets-page.ts'),
  target: () => import('./target-detail.ts'),
  sessions: () => import('./sessions-page.ts'),
  shell: () => import('./shell-page.ts'),
  admin: () => import('./admin-page.ts'),
} as const satisfies Record<Page, () => Promise<unknown>>;

const loaded = new Map<Page, Promise<unknown>>();

/** Starts loading a page's chunk (once); rejects when the chunk cannot be fetched (the caller shows why). */
export function loadPage(page: Page): Promise<unknown> {
  let p = loaded.get(page);
  if (!p) {
    p = LOADERS[page]();
    // a failed fetch (server restarted with a new bundle, network) may be retried on the next visit
    p.catch(() => loaded.delete(page));
    loaded.set(page, p);
  }
  return p;
}
