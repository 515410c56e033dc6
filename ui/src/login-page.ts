import { LitElement, css, html, nothing } from 'lit';
import { ApiError, type ApiClient } from './api.ts';
import { field, formValues } from './fields.ts';
import { sharedStyles } from './shared-styles.ts';

/** Sign in. `message` explains why we are here (session expired, signed out). Fires `logged-in`. */
export class LoginPage extends LitElement {
  static override properties = {
    api: { attribute: false },
    message: { type: String },
    error: { state: true },
    busy: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      :host {
        max-width: 26rem;
        margin: 5rem auto;
        padding: 0 1rem;
      }
    `,
  ];
  declare api: ApiClient;
  declare message: string;
  declare error: string;
  declare busy: boolean;

  constructor() {
    super();
    this.message = '';
    this.error = '';
    this.busy = false;
  }

  private async submit(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    const v = formValues(ev.target as HTMLFormElement);
    this.error = '';
    if (!v['username'] || !v['password']) {
      this.error = 'Enter a username and a password.';
      return;
    }
    this.busy = true;
    try {
      const user = await this.api.login(v['username'], v['password']);
      this.dispatchEvent(new CustomEvent('logged-in', { detail: user, bubbles: true, composed: true }));
    } catch (e) {
      // 401 wrong password, 429 rate-limited or locked (the API says for how long)
      this.error = e instanceof ApiError ? e.message : String(e);
    } finally {
      this.busy = false;
    }
  }

  override render() {
    return html`<section class="card" aria-labelledby="login-title">
      <h1 id="login-title">Sign in to openlun</h1>
      ${this.message ? html`<div class="banner info" role="status" id="login-message">${this.message}</div>` : nothing}
      ${this.error ? html`<div class="banner error" role="alert" id="login-error">${this.error}</div>` : nothing}
      <form @submit=${this.submit} novalidate>
        ${field({ name: 'username', label: 'Username', value: 'admin', autocomplete: 'username', required: true })}
        ${field({ name: 'password', label: 'Password', type: 'password', autocomplete: 'current-password', required: true })}
        <div class="actions"><button class="primary" type="submit" ?disabled=${this.busy}>${this.busy ? 'Signing in…' : 'Sign in'}</button></div>
      </form>
    </section>`;
  }
}
customElements.define('login-page', LoginPage);
