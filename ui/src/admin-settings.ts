import { LitElement, css, html, nothing } from 'lit';
import { utcOffset } from './admin-logic.ts';
import { ApiError, type Settings } from './api.ts';
import type { AdminApi, ApplianceInfo } from './api-admin.ts';
import { field, formValues, notify } from './fields.ts';
import { Refresher } from './refresher.ts';
import { sharedStyles } from './shared-styles.ts';
import { errorText } from './format.ts';

/** Administration → Settings: identity (hostname, base IQN, iSCSI port), the web UI's TLS certificate, ports, time. */
export class AdminSettings extends LitElement {
  static override properties = {
    admin: { attribute: false },
    readOnly: { type: Boolean },
    settings: { state: true },
    appliance: { state: true },
    errors: { state: true },
    tlsErrors: { state: true },
    formError: { state: true },
    tlsError: { state: true },
    loadError: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      textarea {
        font-size: 0.8rem;
        min-height: 7rem;
      }
      input[type='file'] {
        width: auto;
        border: none;
        padding: 0;
        background: transparent;
        font-size: 0.85rem;
      }
    `,
  ];
  declare admin: AdminApi;
  declare readOnly: boolean;
  declare settings: Settings | undefined;
  declare appliance: ApplianceInfo | undefined;
  declare errors: Record<string, string>;
  declare tlsErrors: Record<string, string>;
  declare formError: string;
  declare tlsError: string;
  declare loadError: string;

  constructor() {
    super();
    new Refresher(this, () => this.load());
    this.readOnly = false;
    this.settings = undefined;
    this.appliance = undefined;
    this.errors = {};
    this.tlsErrors = {};
    this.formError = '';
    this.tlsError = '';
    this.loadError = '';
  }

  async load(): Promise<void> {
    try {
      const [settings, appliance] = await Promise.all([this.admin.settings(), this.admin.appliance()]);
      // keep what the admin is typing: the identity form is filled once
      this.settings ??= settings;
      this.appliance = appliance;
      this.loadError = '';
    } catch (e) {
      this.loadError = errorText(e);
    }
  }

  private async saveIdentity(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    const v = formValues(ev.target as HTMLFormElement);
    const port = Number(v['iscsiPort']);
    const e: Record<string, string> = {};
    if (!v['hostname']?.trim()) e['hostname'] = 'is required';
    if (!v['baseIqn']?.trim()) e['baseIqn'] = 'is required';
    if (!Number.isInteger(port) || port < 1 || port > 65535) e['iscsiPort'] = 'must be 1-65535';
    this.errors = e;
    this.formError = '';
    if (Object.keys(e).length) return;
    try {
      this.settings = await this.admin.updateSettings({ hostname: v['hostname']!.trim(), baseIqn: v['baseIqn']!.trim(), iscsiPort: port });
      notify(this, 'ok', 'Settings saved. Targets listening on the default port move to the new one now.');
    } catch (err) {
      if (err instanceof ApiError) {
        this.errors = err.byField();
        if (Object.keys(this.errors).length === 0) this.formError = err.message;
      } else this.formError = String(err);
    }
  }

  private async readFileInto(ev: Event, target: string): Promise<void> {
    const file = (ev.target as HTMLInputElement).files?.[0];
    if (!file) return;
    const area = this.renderRoot.querySelector<HTMLTextAreaElement>(`#${target}`);
    if (area) area.value = await file.text();
  }

  private async uploadTls(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    const form = ev.target as HTMLFormElement;
    const v = formValues(form);
    const e: Record<string, string> = {};
    if (!v['certificate']?.trim()) e['certificate'] = 'is required';
    if (!v['key']?.trim()) e['key'] = 'is required';
    this.tlsErrors = e;
    this.tlsError = '';
    if (Object.keys(e).length) return;
    try {
      const info = await this.admin.replaceTls(v['certificate']!, v['key']!);
      notify(this, 'ok', `Certificate for ${info.subject} stored. Restart the API (systemctl restart openlun-api) to serve it.`);
      form.reset();
      await this.load();
    } catch (err) {
      if (err instanceof ApiError) {
        this.tlsErrors = err.byField();
        if (Object.keys(this.tlsErrors).length === 0) this.tlsError = err.message;
      } else this.tlsError = String(err);
    }
  }

  override render() {
    const s = this.settings;
    const a = this.appliance;
    return html`${this.loadError ? html`<div class="banner error" role="alert">${this.loadError}</div>` : nothing}
      <div class="grid">
        <section class="card" aria-labelledby="identity-title">
          <h2 id="identity-title">Identity</h2>
          ${this.formError ? html`<div class="banner error" role="alert">${this.formError}</div>` : nothing}
          ${this.readOnly ? html`<p class="muted">You have read-only access.</p>` : nothing}
          ${s
            ? html`<form @submit=${this.saveIdentity} novalidate aria-labelledby="identity-title">
                ${field({ name: 'hostname', label: 'Hostname', value: s.hostname, error: this.errors['hostname'], disabled: this.readOnly, hint: 'Announced to initiators (RFC 1123 host name).' }, 'settings')}
                ${field({ name: 'baseIqn', label: 'Base IQN', value: s.baseIqn, error: this.errors['baseIqn'], disabled: this.readOnly, hint: 'New targets are named <base IQN>:<name>.' }, 'settings')}
                ${field({ name: 'iscsiPort', label: 'Default iSCSI port', type: 'number', min: 1, max: 65535, value: String(s.iscsiPort), error: this.errors['iscsiPort'], disabled: this.readOnly, hint: 'Targets without portals of their own listen on every address at this port.' }, 'settings')}
                ${this.readOnly ? nothing : html`<div class="actions"><button class="primary" type="submit">Save</button></div>`}
              </form>`
            : html`<p class="empty" aria-busy="true">Loading…</p>`}
        </section>
        <section class="card" aria-labelledby="system-title">
          <h2 id="system-title">Ports and time</h2>
          ${a
            ? html`<dl class="facts">
                <dt>Web UI and API</dt><dd class="mono">${a.ports.web.tls ? 'https' : 'http'}://${a.ports.web.host.includes(':') ? `[${a.ports.web.host}]` : a.ports.web.host}:${a.ports.web.port}</dd>
                <dt>iSCSI (default)</dt><dd class="mono">TCP ${a.ports.iscsiDefault}</dd>
                <dt>iSCSI portals</dt><dd class="mono">${a.ports.iscsiPortals.length ? a.ports.iscsiPortals.map((p) => `${p.address.includes(':') ? `[${p.address}]` : p.address}:${p.port}`).join(', ') : html`<span class="muted">none of their own</span>`}</dd>
                <dt>Server time</dt><dd id="server-time">${new Date(a.time.now).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}</dd>
                <dt>Time zone</dt><dd>${a.time.timezone} (UTC${utcOffset(a.time.utcOffsetMinutes)})</dd>
                <dt>Clock synchronized</dt><dd>${a.time.ntpSynchronized === null ? html`<span class="muted">unknown (no systemd-timesyncd)</span>` : a.time.ntpSynchronized ? 'yes (NTP)' : html`<span class="error">no</span>`}</dd>
              </dl>
              <p class="muted">Ports change with <code>openlun serve --listen</code> (web) and the default iSCSI port above or per-target portals.</p>`
            : html`<p class="empty" aria-busy="true">Loading…</p>`}
        </section>
      </div>
      <section class="card" aria-labelledby="tls-title">
        <h2 id="tls-title">TLS certificate of the web UI</h2>
        ${a?.tls.restartPending ? html`<div class="banner info" role="status">A new certificate is stored. The API serves it after a restart: <code>systemctl restart openlun-api</code> (iSCSI sessions are not affected).</div>` : nothing}
        ${a && !a.tls.enabled ? html`<div class="banner info" role="status">This API serves plain HTTP on a loopback address (--no-tls); a certificate stored here is used once it runs with TLS.</div>` : nothing}
        ${a?.tls.certificate
          ? html`<dl class="facts">
              <dt>Subject</dt><dd>${a.tls.certificate.subject}</dd>
              <dt>Issuer</dt><dd>${a.tls.certificate.selfSigned ? html`self-signed` : a.tls.certificate.issuer}</dd>
              <dt>Names</dt><dd class="mono">${a.tls.certificate.subjectAltName ?? '—'}</dd>
              <dt>Valid</dt><dd>${new Date(a.tls.certificate.validFrom).toLocaleDateString()} – ${new Date(a.tls.certificate.validTo).toLocaleDateString()}</dd>
              <dt>SHA-256</dt><dd class="mono">${a.tls.certificate.fingerprint256}</dd>
            </dl>`
          : a
            ? html`<p class="muted">No certificate file yet (one is created at the first start with TLS).</p>`
            : nothing}
        ${this.readOnly ? nothing : this.renderUpload()}
      </section>`;
  }

  private renderUpload() {
    const e = this.tlsErrors;
    const area = (name: 'certificate' | 'key', label: string, hint: string) => html`<div class="field">
      <label for=${`tls-${name}`}>${label}</label>
      <textarea id=${`tls-${name}`} name=${name} spellcheck="false" autocomplete="off" aria-invalid=${e[name] ? 'true' : 'false'} aria-describedby=${`tls-${name}-hint${e[name] ? ` tls-${name}-error` : ''}`}></textarea>
      <div class="hint" id=${`tls-${name}-hint`}>${hint} Or read it from a file: <input type="file" accept=".pem,.crt,.cer,.key,text/plain" aria-label=${`${label} file`} @change=${(ev: Event) => this.readFileInto(ev, `tls-${name}`)} /></div>
      ${e[name] ? html`<div class="error" id=${`tls-${name}-error`} role="alert">${e[name]}</div>` : nothing}
    </div>`;
    return html`<h3>Replace the certificate</h3>
      ${this.tlsError ? html`<div class="banner error" role="alert">${this.tlsError}</div>` : nothing}
      <form @submit=${this.uploadTls} novalidate aria-label="Replace the certificate">
        <div class="grid">
          ${area('certificate', 'Certificate (PEM)', 'The server certificate first, then any intermediates.')}
          ${area('key', 'Private key (PEM)', 'Unencrypted; it must belong to the certificate. Stored 0600, never shown again.')}
        </div>
        <div class="actions"><button class="primary" type="submit">Store certificate</button><span class="muted">Takes effect when the API restarts.</span></div>
      </form>`;
  }
}
customElements.define('admin-settings', AdminSettings);
