import { LitElement, css, html, nothing } from 'lit';
import { ApiError, type User } from './api.ts';
import type { AdminApi, ApiToken } from './api-admin.ts';
import type { ConfirmDialog } from './confirm-dialog.ts';
import { field, formValues, notify } from './fields.ts';
import { Refresher } from './refresher.ts';
import { sharedStyles } from './shared-styles.ts';
import './confirm-dialog.ts';
import { errorText } from './format.ts';

/**
 * Administration → API tokens: create (the secret is shown once, with a copy button), list with last use, revoke.
 * Admins manage everyone's; a read-only user manages their own (the API allows that: such a token is read-only too).
 */
export class AdminTokens extends LitElement {
  static override properties = {
    admin: { attribute: false },
    user: { attribute: false },
    readOnly: { type: Boolean },
    tokens: { state: true },
    users: { state: true },
    errors: { state: true },
    formError: { state: true },
    created: { state: true },
    copied: { state: true },
    actionError: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      .layout {
        display: grid;
        grid-template-columns: minmax(0, 2fr) minmax(18rem, 1fr);
        gap: 1.25rem;
        align-items: start;
      }
      td .actions {
        justify-content: flex-end;
      }
      .secret {
        display: flex;
        gap: 0.5rem;
        align-items: center;
        margin: 0.5rem 0;
      }
      .secret code {
        flex: 1;
        background: var(--code-bg);
        color: var(--code-text);
        padding: 0.5rem 0.6rem;
        border-radius: var(--radius);
        user-select: all;
      }
    `,
  ];
  declare admin: AdminApi;
  declare user: User | undefined;
  declare readOnly: boolean;
  declare tokens: ApiToken[] | undefined;
  declare users: User[];
  declare errors: Record<string, string>;
  declare formError: string;
  declare created: { name: string; secret: string; username: string } | undefined;
  declare copied: boolean;
  declare actionError: string;

  constructor() {
    super();
    new Refresher(this, () => this.load());
    this.readOnly = false;
    this.tokens = undefined;
    this.users = [];
    this.errors = {};
    this.formError = '';
    this.created = undefined;
    this.copied = false;
    this.actionError = '';
  }

  async load(): Promise<void> {
    try {
      // the user list is for admins; a read-only user's tokens are all their own
      [this.tokens, this.users] = await Promise.all([this.admin.tokens(), this.readOnly ? Promise.resolve(this.user ? [this.user] : []) : this.admin.users()]);
    } catch (e) {
      this.actionError = errorText(e);
    }
  }

  private userName(id: number): string {
    return this.users.find((u) => u.id === id)?.username ?? `user ${id}`;
  }

  private async create(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    const form = ev.target as HTMLFormElement;
    const v = formValues(form);
    const name = v['name']?.trim() ?? '';
    this.errors = name ? {} : { name: 'is required' };
    this.formError = '';
    if (!name) return;
    try {
      const userId = Number(v['userId']);
      const r = await this.admin.createToken(name, Number.isInteger(userId) && userId > 0 ? userId : undefined);
      // the only moment the secret exists outside its hash: shown now, gone when the page changes
      this.created = { name: r.token.name, secret: r.secret, username: this.userName(r.token.userId) };
      this.copied = false;
      form.reset();
      await this.load();
    } catch (e) {
      if (e instanceof ApiError) {
        this.errors = e.byField();
        if (Object.keys(this.errors).length === 0) this.formError = e.message;
      } else this.formError = String(e);
    }
  }

  private async copy(text: string): Promise<void> {
    try {
      await navigator.clipboard.writeText(text);
      this.copied = true;
    } catch {
      // no clipboard permission (plain http): select it so Ctrl+C works
      const code = this.renderRoot.querySelector('.secret code');
      if (code) getSelection()?.selectAllChildren(code);
    }
  }

  private async revoke(t: ApiToken): Promise<void> {
    const answer = await this.renderRoot.querySelector<ConfirmDialog>('confirm-dialog')!.ask({
      title: `Revoke token ${t.name}?`,
      body: html`<p>Scripts and monitoring that use <strong>${t.name}</strong> (acting as ${this.userName(t.userId)}) get “401 invalid API token” from now on. A revoked token cannot be restored; create a new one instead.</p>`,
      confirmLabel: 'Revoke token',
    });
    if (!answer) return;
    this.actionError = '';
    try {
      await this.admin.deleteToken(t.id);
      notify(this, 'ok', `Token ${t.name} revoked.`);
      if (this.created?.name === t.name) this.created = undefined;
      await this.load();
    } catch (e) {
      this.actionError = `${t.name} was not revoked: ${errorText(e)}`;
    }
  }

  override render() {
    return html`${this.actionError ? html`<div class="banner error" role="alert">${this.actionError}</div>` : nothing}
      ${this.created
        ? html`<div class="banner ok" role="status" id="token-created">
            <strong>Token ${this.created.name} created</strong> (acts as ${this.created.username}). Copy it now: this is the only time it is shown.
            <div class="secret">
              <code aria-label="The new token">${this.created.secret}</code>
              <button type="button" @click=${() => this.copy(this.created!.secret)}>${this.copied ? 'Copied ✓' : 'Copy'}</button>
              <button type="button" @click=${() => (this.created = undefined)}>Done</button>
            </div>
            <span class="muted">Use it as <code>Authorization: Bearer …</code>.</span>
          </div>`
        : nothing}
      <div class="layout">
        <section class="card" aria-labelledby="tokens-title">
          <h2 id="tokens-title">API tokens</h2>
          ${this.tokens === undefined
            ? html`<p class="empty" aria-busy="true">Loading…</p>`
            : this.tokens.length === 0
              ? html`<p class="empty">No tokens. Scripts and monitoring authenticate with one instead of a password.</p>`
              : html`<table>
                  <thead><tr><th scope="col">Name</th><th scope="col">Acts as</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
                  <tbody>
                    ${this.tokens.map(
                      (t) => html`<tr data-token=${t.name}>
                        <th scope="row">${t.name}</th>
                        <td>${this.userName(t.userId)}</td>
                        <td>${new Date(t.createdAt).toLocaleString()}</td>
                        <td>${t.lastUsed ? new Date(t.lastUsed).toLocaleString() : html`<span class="muted">never</span>`}</td>
                        <td><div class="actions"><button type="button" class="danger" aria-label=${`Revoke token ${t.name}`} @click=${() => this.revoke(t)}>Revoke</button></div></td>
                      </tr>`,
                    )}
                  </tbody>
                </table>`}
        </section>
        <section class="card" aria-labelledby="new-token-title">
          <h2 id="new-token-title">New token</h2>
          ${this.formError ? html`<div class="banner error" role="alert">${this.formError}</div>` : nothing}
          <form @submit=${this.create} novalidate aria-labelledby="new-token-title">
            ${field({ name: 'name', label: 'Token name', placeholder: 'prometheus', hint: 'What uses it, so you know what breaks when it is revoked.', autocomplete: 'off', error: this.errors['name'], required: true }, 'token')}
            <div class="field">
              <label for="token-userId">Acts as</label>
              <select id="token-userId" name="userId" aria-describedby="token-userId-hint">
                ${this.users.map((u) => html`<option value=${u.id} ?selected=${u.id === this.user?.id}>${u.username} (${u.role})</option>`)}
              </select>
              <div class="hint" id="token-userId-hint">${this.readOnly ? 'Your tokens act as you, with your read-only role.' : "The token has this user's role: pick a read-only user for monitoring."}</div>
              ${this.errors['userId'] ? html`<div class="error" role="alert">${this.errors['userId']}</div>` : nothing}
            </div>
            <div class="actions"><button class="primary" type="submit">Create token</button></div>
          </form>
        </section>
      </div>
      <confirm-dialog></confirm-dialog>`;
  }
}
customElements.define('admin-tokens', AdminTokens);
