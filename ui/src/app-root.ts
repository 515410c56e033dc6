import { LitElement, css, html, nothing } from 'lit';
import { ApiClient, ApiError, type User } from './api.ts';
import { loadPage } from './page-loader.ts';
import { parseRoute, routeHref, type Route } from './router.ts';
import { sharedStyles } from './shared-styles.ts';
import type { ToastRegion } from './toast-region.ts';
import './confirm-dialog.ts';
import './login-page.ts';
import './setup-page.ts';
import './theme-toggle.ts';
import './toast-region.ts';
import { errorText } from './format.ts';

type Phase = 'loading' | 'setup' | 'login' | 'ready' | 'offline';

/**
 * The shell: decides between first-run setup, sign-in and the app; owns the API client; routes by URL hash; shows
 * outcome messages. A 401 from any call (session expired or ended elsewhere) lands back on sign-in with a message.
 */
export class AppRoot extends LitElement {
  static override properties = {
    phase: { state: true },
    user: { state: true },
    route: { state: true },
    loginMessage: { state: true },
    offlineMessage: { state: true },
    pagesLoaded: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
        min-height: 100vh;
      }
      .skip {
        position: absolute;
        left: -999px;
        top: 0.5rem;
        z-index: 20;
        background: var(--surface);
        padding: 0.5rem 1rem;
      }
      .skip:focus {
        left: 0.5rem;
      }
      header {
        position: sticky;
        top: 0;
        z-index: 5;
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        column-gap: 0.75rem;
        row-gap: 0.25rem;
        padding: 0.4rem 1.25rem;
        min-height: 3.5rem;
        box-sizing: border-box;
        background: var(--surface);
        border-bottom: 1px solid var(--border);
      }
      header .tools {
        display: flex;
        align-items: center;
        gap: 0.6rem;
        margin-left: auto;
      }
      .brand {
        font-weight: 700;
        font-size: 1.1rem;
        letter-spacing: 0.02em;
        color: var(--text);
        text-decoration: none;
      }
      nav ul {
        display: flex;
        flex-wrap: wrap;
        gap: 0.15rem;
        list-style: none;
        margin: 0;
        padding: 0;
      }
      nav a {
        display: block;
        white-space: nowrap;
        padding: 0.45rem 0.6rem;
        border-radius: var(--radius);
        color: var(--text);
        text-decoration: none;
      }
      nav a[aria-current='page'] {
        background: var(--surface-2);
        font-weight: 600;
        box-shadow: inset 0 -3px 0 var(--accent);
      }
      .who {
        color: var(--muted);
        font-size: 0.9rem;
        white-space: nowrap;
      }
      main {
        max-width: 1400px;
        margin: 0 auto;
        padding: 1.5rem;
      }
      main:focus {
        outline: none;
      }
    `,
  ];
  declare phase: Phase;
  declare user: User | undefined;
  declare route: Route;
  declare loginMessage: string;
  declare offlineMessage: string;
  declare pagesLoaded: ReadonlySet<Route['page']>;
  readonly api = new ApiClient();
  private readonly onHash = () => {
    this.route = parseRoute(location.hash);
  };

  constructor() {
    super();
    this.phase = 'loading';
    this.user = undefined;
    this.route = parseRoute(location.hash);
    this.loginMessage = '';
    this.offlineMessage = '';
    this.pagesLoaded = new Set();
    this.api.addEventListener('unauthenticated', () => {
      if (this.phase !== 'ready') return;
      this.user = undefined;
      this.toasts()?.clear();
      this.loginMessage = 'Your session has ended (expired or signed out elsewhere). Sign in again to continue.';
      this.phase = 'login';
    });
    this.addEventListener('notify', (e) => {
      const d = (e as CustomEvent<{ kind: 'ok' | 'error'; text: string }>).detail;
      this.toasts()?.show(d.kind, d.text);
    });
  }

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('hashchange', this.onHash);
    void this.start();
  }

  override disconnectedCallback(): void {
    window.removeEventListener('hashchange', this.onHash);
    super.disconnectedCallback();
  }

  override willUpdate(): void {
    if (this.phase !== 'ready') return;
    const page = this.route.page;
    if (this.pagesLoaded.has(page)) return;
    // the page element is rendered only once its class is defined: controllers (Refresher) run in connectedCallback,
    // before an upgraded element would get the properties set on it while it was unknown
    loadPage(page).then(
      () => {
        this.pagesLoaded = new Set([...this.pagesLoaded, page]);
      },
      (e: unknown) => {
        this.toasts()?.show('error', `This page could not be loaded (${errorText(e)}). Reload the browser tab.`);
      },
    );
  }

  private toasts(): ToastRegion | null {
    return this.renderRoot.querySelector('toast-region');
  }

  async start(): Promise<void> {
    try {
      if (await this.api.setupRequired()) {
        this.phase = 'setup';
        return;
      }
      this.user = await this.api.me();
      this.phase = 'ready';
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        this.phase = 'login';
      } else {
        this.offlineMessage = errorText(e);
        this.phase = 'offline';
      }
    }
  }

  private async logout(): Promise<void> {
    try {
      await this.api.logout();
    } catch {
      // the session may already be gone: signing out still ends here
    }
    this.user = undefined;
    this.toasts()?.clear();
    this.loginMessage = 'You have signed out.';
    this.phase = 'login';
  }

  override render() {
    return html`${this.renderPhase()}<toast-region></toast-region>`;
  }

  private renderPhase() {
    switch (this.phase) {
      case 'loading':
        return html`<main aria-busy="true"><p class="muted">Loading…</p></main>`;
      case 'offline':
        return html`<main><div class="banner error" role="alert">${this.offlineMessage}</div><button @click=${() => this.start()}>Retry</button></main>`;
      case 'setup':
        return html`<setup-page .api=${this.api} @setup-done=${() => void this.start()}></setup-page>`;
      case 'login':
        return html`<login-page
          .api=${this.api}
          .message=${this.loginMessage}
          @logged-in=${(e: CustomEvent<User>) => {
            this.user = e.detail;
            this.loginMessage = '';
            this.phase = 'ready';
          }}
        ></login-page>`;
      case 'ready':
        return this.renderApp();
    }
  }

  private renderApp() {
    const r = this.route;
    const current = (page: string) => ((r.page === 'target' ? 'targets' : r.page) === page ? 'page' : 'false');
    const readOnly = this.user?.role !== 'admin';
    return html`<a class="skip" href="#main" @click=${(e: Event) => {
        e.preventDefault();
        this.renderRoot.querySelector<HTMLElement>('main')?.focus();
      }}>Skip to content</a>
      <header>
        <a class="brand" href=${routeHref({ page: 'dashboard' })}>openlun</a>
        <nav aria-label="Main">
          <ul>
            <li><a href=${routeHref({ page: 'dashboard' })} aria-current=${current('dashboard')}>Dashboard</a></li>
            <li><a href=${routeHref({ page: 'storage' })} aria-current=${current('storage')}>Storage</a></li>
            <li><a href=${routeHref({ page: 'pools' })} aria-current=${current('pools')}>Disks &amp; pools</a></li>
            <li><a href=${routeHref({ page: 'targets' })} aria-current=${current('targets')}>iSCSI targets</a></li>
            <li><a href=${routeHref({ page: 'sessions' })} aria-current=${current('sessions')}>Sessions</a></li>
            ${readOnly ? nothing : html`<li><a href=${routeHref({ page: 'shell' })} aria-current=${current('shell')}>Shell</a></li>`}
            <li><a href=${routeHref({ page: 'admin', tab: 'users' })} aria-current=${current('admin')}>Administration</a></li>
          </ul>
        </nav>
        <div class="tools">
          ${readOnly ? nothing : html`<a class="button primary" href=${routeHref({ page: 'wizard' })} aria-current=${current('wizard')}>New LUN wizard</a>`}
          <theme-toggle></theme-toggle>
          <span class="who" title=${`signed in as ${this.user?.username} (${this.user?.role})`}>${this.user?.username}${readOnly ? html` <span class="muted">(read-only)</span>` : nothing}</span>
          <button type="button" @click=${this.logout}>Sign out</button>
        </div>
      </header>
      <main id="main" tabindex="-1" aria-busy=${this.pagesLoaded.has(r.page) ? 'false' : 'true'}>
        ${this.pagesLoaded.has(r.page) ? this.renderPage(r, readOnly) : html`<p class="muted">Loading…</p>`}
      </main>`;
  }

  private renderPage(r: Route, readOnly: boolean) {
    return html`
        ${r.page === 'dashboard' ? html`<dashboard-page .api=${this.api} .readOnly=${readOnly}></dashboard-page>` : nothing}
        ${r.page === 'pools' ? html`<pools-page .api=${this.api} .readOnly=${readOnly}></pools-page>` : nothing}
        ${r.page === 'wizard' ? html`<wizard-page .api=${this.api} .readOnly=${readOnly}></wizard-page>` : nothing}
        ${r.page === 'sessions' ? html`<sessions-page .api=${this.api} .readOnly=${readOnly}></sessions-page>` : nothing}
        ${r.page === 'shell' ? html`<shell-page .api=${this.api} .readOnly=${readOnly}></shell-page>` : nothing}
        ${r.page === 'admin' ? html`<admin-page .api=${this.api} .readOnly=${readOnly} .tab=${r.tab} .user=${this.user}></admin-page>` : nothing}
        ${r.page === 'storage' ? html`<luns-page .api=${this.api} .readOnly=${readOnly}></luns-page>` : nothing}
        ${r.page === 'targets' ? html`<targets-page .api=${this.api} .readOnly=${readOnly}></targets-page>` : nothing}
        ${r.page === 'target' ? html`<target-detail .api=${this.api} .readOnly=${readOnly} .targetId=${r.id} .tab=${r.tab}></target-detail>` : nothing}`;
  }
}
customElements.define('app-root', AppRoot);
