import { LitElement, css, html, nothing } from 'lit';
import { ApiError, type User } from './api.ts';
import type { AdminApi, Role } from './api-admin.ts';
import type { ConfirmDialog } from './confirm-dialog.ts';
import { PASSWORD_MIN, newUserProblems } from './admin-logic.ts';
import { field, formValues, notify } from './fields.ts';
import { Refresher } from './refresher.ts';
import { sharedStyles } from './shared-styles.ts';
import './confirm-dialog.ts';
import { errorText } from './format.ts';

/** Administration → Users: list, create (admin / read-only), reset a password, delete (not yourself, not the last admin). */
export class AdminUsers extends LitElement {
  static override properties = {
    admin: { attribute: false },
    user: { attribute: false },
    users: { state: true },
    errors: { state: true },
    formError: { state: true },
    resetting: { state: true },
    resetError: { state: true },
    actionError: { state: true },
    busy: { state: true },
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
      form.reset {
        margin-top: 1.25rem;
        padding-top: 1rem;
        border-top: 1px solid var(--border);
      }
      .role-admin {
        font-weight: 600;
      }
    `,
  ];
  declare admin: AdminApi;
  declare user: User | undefined;
  declare users: User[] | undefined;
  declare errors: Record<string, string>;
  declare formError: string;
  declare resetting: User | undefined;
  declare resetError: string;
  declare actionError: string;
  declare busy: boolean;

  constructor() {
    super();
    new Refresher(this, () => this.load());
    this.users = undefined;
    this.errors = {};
    this.formError = '';
    this.resetting = undefined;
    this.resetError = '';
    this.actionError = '';
    this.busy = false;
  }

  async load(): Promise<void> {
    try {
      this.users = await this.admin.users();
    } catch (e) {
      this.actionError = errorText(e);
    }
  }

  private async create(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    const form = ev.target as HTMLFormElement;
    const v = formValues(form);
    this.errors = newUserProblems(v);
    this.formError = '';
    if (Object.keys(this.errors).length > 0) return;
    this.busy = true;
    try {
      const u = await this.admin.createUser(v['username']!.trim(), v['password']!, v['role'] as Role);
      notify(this, 'ok', `User ${u.username} created (${u.role}).`);
      form.reset();
      await this.load();
    } catch (e) {
      if (e instanceof ApiError) {
        this.errors = e.byField();
        if (Object.keys(this.errors).length === 0) this.formError = e.message;
      } else this.formError = String(e);
    } finally {
      this.busy = false;
    }
  }

  private async resetPassword(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    const u = this.resetting!;
    const password = formValues(ev.target as HTMLFormElement)['password'] ?? '';
    if (password.length < PASSWORD_MIN) {
      this.resetError = `must be at least ${PASSWORD_MIN} characters`;
      return;
    }
    try {
      await this.admin.setPassword(u.id, password);
      notify(this, 'ok', `Password of ${u.username} changed; their other sessions were signed out.`);
      this.resetting = undefined;
      this.resetError = '';
    } catch (e) {
      this.resetError = e instanceof ApiError ? (e.byField()['password'] ?? e.message) : String(e);
    }
  }

  private async deleteUser(u: User): Promise<void> {
    const answer = await this.renderRoot.querySelector<ConfirmDialog>('confirm-dialog')!.ask({
      title: `Delete user ${u.username}?`,
      body: html`<p><strong>${u.username}</strong> (${u.role}) can no longer sign in; their sessions and <strong>API tokens stop working</strong> at once. The audit log keeps what they did.</p>`,
      confirmLabel: 'Delete user',
    });
    if (!answer) return;
    this.actionError = '';
    try {
      await this.admin.deleteUser(u.id);
      notify(this, 'ok', `User ${u.username} deleted.`);
      await this.load();
    } catch (e) {
      this.actionError = `${u.username} was not deleted: ${errorText(e)}`;
    }
  }

  override render() {
    const admins = (this.users ?? []).filter((u) => u.role === 'admin').length;
    return html`${this.actionError ? html`<div class="banner error" role="alert">${this.actionError}</div>` : nothing}
      <div class="layout">
        <section class="card" aria-labelledby="users-title">
          <h2 id="users-title">Users</h2>
          ${this.users === undefined
            ? html`<p class="empty" aria-busy="true">Loading…</p>`
            : html`<table>
                <thead><tr><th scope="col">User</th><th scope="col">Role</th><th scope="col">Created</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
                <tbody>
                  ${this.users.map((u) => {
                    const self = u.id === this.user?.id;
                    const lastAdmin = u.role === 'admin' && admins <= 1;
                    const why = self ? 'You cannot delete your own account' : lastAdmin ? 'The last admin cannot be deleted' : '';
                    return html`<tr data-user=${u.username}>
                      <th scope="row">${u.username}${self ? html` <span class="muted">(you)</span>` : nothing}</th>
                      <td class=${u.role === 'admin' ? 'role-admin' : ''}>${u.role}</td>
                      <td>${new Date(u.createdAt).toLocaleString()}</td>
                      <td>
                        <div class="actions">
                          <button type="button" aria-label=${`Reset the password of ${u.username}`} @click=${() => {
                            this.resetting = u;
                            this.resetError = '';
                          }}>Reset password</button>
                          <button type="button" class="danger" aria-label=${`Delete user ${u.username}`} ?disabled=${!!why} title=${why} @click=${() => this.deleteUser(u)}>Delete</button>
                        </div>
                      </td>
                    </tr>`;
                  })}
                </tbody>
              </table>`}
          ${this.resetting ? this.renderReset(this.resetting) : nothing}
        </section>
        <section class="card" aria-labelledby="new-user-title">
          <h2 id="new-user-title">New user</h2>
          ${this.formError ? html`<div class="banner error" role="alert">${this.formError}</div>` : nothing}
          <form @submit=${this.create} novalidate aria-labelledby="new-user-title">
            ${field({ name: 'username', label: 'User name', autocomplete: 'off', error: this.errors['username'], required: true }, 'user')}
            ${field({ name: 'password', label: 'Password', type: 'password', autocomplete: 'new-password', hint: `At least ${PASSWORD_MIN} characters.`, error: this.errors['password'], required: true }, 'user')}
            <div class="field">
              <label for="user-role">Role</label>
              <select id="user-role" name="role" aria-describedby="user-role-hint">
                <option value="read-only" selected>read-only</option>
                <option value="admin">admin</option>
              </select>
              <div class="hint" id="user-role-hint">Read-only users see everything (no secrets) and change nothing; admins can change everything and open the shell.</div>
              ${this.errors['role'] ? html`<div class="error" role="alert">${this.errors['role']}</div>` : nothing}
            </div>
            <div class="actions"><button class="primary" type="submit" ?disabled=${this.busy}>${this.busy ? 'Creating…' : 'Create user'}</button></div>
          </form>
        </section>
      </div>
      <confirm-dialog></confirm-dialog>`;
  }

  private renderReset(u: User) {
    return html`<form class="reset" @submit=${this.resetPassword} novalidate aria-labelledby="reset-title">
      <h3 id="reset-title">New password for ${u.username}</h3>
      ${field({ name: 'password', label: 'New password', type: 'password', autocomplete: 'new-password', hint: `At least ${PASSWORD_MIN} characters. ${u.username}'s other sessions end.`, error: this.resetError, required: true }, 'reset')}
      <div class="actions">
        <button class="primary" type="submit">Set password</button>
        <button type="button" @click=${() => (this.resetting = undefined)}>Cancel</button>
      </div>
    </form>`;
  }
}
customElements.define('admin-users', AdminUsers);
