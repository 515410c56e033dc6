/**
 * Administration: users, API tokens, audit log, settings, self-test — one tab each (#/admin/<tab>). Read-only users
 * see the audit log and the settings without change controls and manage only their own API tokens; users and the
 * self-test are admin-only (the API refuses them too), so those tabs say so instead of failing.
 */
import { LitElement, html } from 'lit';
import type { ApiClient, User } from './api.ts';
import { AdminApi } from './api-admin.ts';
import { ADMIN_TABS, routeHref, type AdminTab } from './router.ts';
import { sharedStyles } from './shared-styles.ts';
import './admin-audit.ts';
import './admin-network.ts';
import './admin-selftest.ts';
import './admin-settings.ts';
import './admin-tokens.ts';
import './admin-users.ts';

const TAB_LABELS: Record<AdminTab, string> = { users: 'Users', tokens: 'API tokens', audit: 'Audit log', settings: 'Settings', network: 'Network', selftest: 'Self-test' };

export class AdminPage extends LitElement {
  static override properties = {
    api: { attribute: false },
    readOnly: { type: Boolean },
    tab: { type: String },
    user: { attribute: false },
  };
  static override styles = [sharedStyles];
  declare api: ApiClient;
  declare readOnly: boolean;
  declare tab: AdminTab;
  declare user: User | undefined;
  private adminApi: AdminApi | undefined;

  constructor() {
    super();
    this.readOnly = false;
    this.tab = 'users';
    this.user = undefined;
  }

  private get admin(): AdminApi {
    this.adminApi ??= new AdminApi(this.api);
    return this.adminApi;
  }

  override render() {
    return html`<h1>Administration</h1>
      <nav class="tabs" aria-label="Administration sections">
        ${ADMIN_TABS.map((t) => html`<a href=${routeHref({ page: 'admin', tab: t })} aria-current=${this.tab === t ? 'page' : 'false'}>${TAB_LABELS[t]}</a>`)}
      </nav>
      ${this.renderTab()}`;
  }

  private renderTab() {
    const adminOnly = (what: string) =>
      html`<section class="card"><h2>${what}</h2><p class="muted">Only administrators can see and manage ${what.toLowerCase()}. You are signed in as ${this.user?.username ?? 'a read-only user'} (read-only).</p></section>`;
    switch (this.tab) {
      case 'users':
        return this.readOnly ? adminOnly('Users') : html`<admin-users .admin=${this.admin} .user=${this.user}></admin-users>`;
      case 'tokens':
        return html`<admin-tokens .admin=${this.admin} .user=${this.user} .readOnly=${this.readOnly}></admin-tokens>`;
      case 'audit':
        return html`<admin-audit .admin=${this.admin}></admin-audit>`;
      case 'settings':
        return html`<admin-settings .admin=${this.admin} .readOnly=${this.readOnly}></admin-settings>`;
      case 'network':
        return html`<admin-network .admin=${this.admin} .readOnly=${this.readOnly}></admin-network>`;
      case 'selftest':
        return html`<admin-selftest .admin=${this.admin} .readOnly=${this.readOnly}></admin-selftest>`;
    }
  }
}
customElements.define('admin-page', AdminPage);
