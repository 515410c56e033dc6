import { LitElement, css, html, nothing } from 'lit';
import { ApiError, type ApiClient, type Settings } from './api.ts';
import { field, formValues, notify } from './fields.ts';
import { PASSWORD_MIN, passwordProblems } from './forms.ts';
import { sharedStyles } from './shared-styles.ts';


/**
 * First run: step 1 chooses the admin password (there is no default password; the API accepts setup exactly once),
 * step 2 names the appliance (hostname, base IQN for new targets). Fires `setup-done` with the admin user.
 */
export class SetupPage extends LitElement {
  static override properties = {
    api: { attribute: false },
    step: { state: true },
    errors: { state: true },
    formError: { state: true },
    busy: { state: true },
    settings: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      :host {
        max-width: 36rem;
        margin: 4rem auto;
        padding: 0 1rem;
      }
      ol.steps {
        display: flex;
        gap: 1.5rem;
        padding: 0;
        list-style: none;
        color: var(--muted);
        margin: 0 0 1rem;
      }
      ol.steps li[aria-current='step'] {
        color: var(--text);
        font-weight: 600;
      }
    `,
  ];
  declare api: ApiClient;
  declare step: 1 | 2;
  declare errors: Record<string, string>;
  declare formError: string;
  declare busy: boolean;
  declare settings: Settings | undefined;

  constructor() {
    super();
    this.step = 1;
    this.errors = {};
    this.formError = '';
    this.busy = false;
    this.settings = undefined;
  }

  private async choosePassword(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    const v = formValues(ev.target as HTMLFormElement);
    this.errors = passwordProblems(v['password'] ?? '', v['confirm'] ?? '');
    this.formError = '';
    if (Object.keys(this.errors).length > 0) return;
    this.busy = true;
    try {
      await this.api.setup(v['password']!);
      this.settings = await this.api.settings();
      this.step = 2;
      notify(this, 'ok', 'Admin password set. You are signed in as admin.');
    } catch (e) {
      this.showError(e);
    } finally {
      this.busy = false;
    }
  }

  private async saveIdentity(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    const v = formValues(ev.target as HTMLFormElement);
    this.errors = {};
    this.formError = '';
    const patch: Partial<Settings> = {};
    if (v['hostname'] && v['hostname'] !== this.settings?.hostname) patch.hostname = v['hostname'];
    if (v['baseIqn'] && v['baseIqn'] !== this.settings?.baseIqn) patch.baseIqn = v['baseIqn'];
    this.busy = true;
    try {
      if (Object.keys(patch).length > 0) await this.api.updateSettings(patch);
      this.finish();
    } catch (e) {
      this.showError(e);
    } finally {
      this.busy = false;
    }
  }

  private showError(e: unknown): void {
    if (e instanceof ApiError) {
      this.errors = e.byField();
      if (Object.keys(this.errors).length === 0) this.formError = e.message;
    } else {
      this.formError = String(e);
    }
  }

  private finish(): void {
    this.dispatchEvent(new CustomEvent('setup-done', { bubbles: true, composed: true }));
  }

  override render() {
    return html`<section class="card" aria-labelledby="setup-title">
      <h1 id="setup-title">Welcome to openlun</h1>
      <ol class="steps">
        <li aria-current=${this.step === 1 ? 'step' : 'false'}>1. Admin password</li>
        <li aria-current=${this.step === 2 ? 'step' : 'false'}>2. Name this appliance</li>
      </ol>
      ${this.formError ? html`<div class="banner error" role="alert">${this.formError}</div>` : nothing}
      ${this.step === 1 ? this.renderPassword() : this.renderIdentity()}
    </section>`;
  }

  private renderPassword() {
    return html`<p class="muted">Choose the password of the <strong>admin</strong> account. There is no default password; this page works only once.</p>
      <form @submit=${this.choosePassword} novalidate>
        ${field({ name: 'password', label: 'Admin password', type: 'password', autocomplete: 'new-password', hint: `At least ${PASSWORD_MIN} characters.`, error: this.errors['password'], required: true })}
        ${field({ name: 'confirm', label: 'Repeat the password', type: 'password', autocomplete: 'new-password', error: this.errors['confirm'], required: true })}
        <div class="actions"><button class="primary" type="submit" ?disabled=${this.busy}>${this.busy ? 'Setting…' : 'Set password'}</button></div>
      </form>`;
  }

  private renderIdentity() {
    const s = this.settings;
    return html`<p class="muted">The hostname initiators see, and the base name new targets get (RFC 7143 §4.2.7.2: iqn.yyyy-mm.reversed-domain).</p>
      <form @submit=${this.saveIdentity} novalidate>
        ${field({ name: 'hostname', label: 'Hostname', value: s?.hostname ?? '', error: this.errors['hostname'], autocomplete: 'off' })}
        ${field({ name: 'baseIqn', label: 'Base IQN', value: s?.baseIqn ?? '', hint: 'Targets are named <base IQN>:<name>.', error: this.errors['baseIqn'], autocomplete: 'off' })}
        <div class="actions">
          <button class="primary" type="submit" ?disabled=${this.busy}>Save and continue</button>
          <button type="button" @click=${this.finish}>Skip</button>
        </div>
      </form>`;
  }
}
customElements.define('setup-page', SetupPage);
