import { LitElement, css, html, nothing } from 'lit';
import { ApiError } from './api.ts';
import type { AdminApi } from './api-admin.ts';
import {
  MAX_DNS,
  formFromState,
  networkBody,
  networkFieldErrors,
  newUiUrl,
  validateNetworkForm,
  type NetworkForm,
  type NetworkMode,
  type NetworkState,
} from './admin-network-logic.ts';
import type { ConfirmDialog } from './confirm-dialog.ts';
import './confirm-dialog.ts';
import { field, notify } from './fields.ts';
import { sharedStyles } from './shared-styles.ts';
import { errorText } from './format.ts';

/**
 * Administration → Network: the management address (DHCP or a static IPv4 address) and the interfaces with their
 * addresses. The change goes through PUT /api/network (the same helper the console uses); a confirmation names the
 * URL the UI will answer at, since the browser may lose this one. Read-only users see the state only.
 */
export class AdminNetwork extends LitElement {
  static override properties = {
    admin: { attribute: false },
    readOnly: { type: Boolean },
    state: { state: true },
    form: { state: true },
    errors: { state: true },
    formError: { state: true },
    loadError: { state: true },
    busy: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      fieldset {
        border: none;
        padding: 0;
        margin: 0 0 1rem;
        display: flex;
        gap: 1.25rem;
      }
      fieldset label {
        display: flex;
        gap: 0.4rem;
        align-items: center;
      }
      fieldset input {
        width: auto;
      }
      .row {
        display: grid;
        grid-template-columns: minmax(0, 3fr) minmax(0, 1fr);
        gap: 0.75rem;
      }
      .dns {
        display: grid;
        grid-template-columns: repeat(3, minmax(0, 1fr));
        gap: 0.75rem;
      }
    `,
  ];
  declare admin: AdminApi;
  declare readOnly: boolean;
  declare state: NetworkState | undefined;
  declare form: NetworkForm | undefined;
  declare errors: Record<string, string>;
  declare formError: string;
  declare loadError: string;
  declare busy: boolean;

  constructor() {
    super();
    this.readOnly = false;
    this.state = undefined;
    this.form = undefined;
    this.errors = {};
    this.formError = '';
    this.loadError = '';
    this.busy = false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  async load(): Promise<void> {
    try {
      this.state = await this.admin.network();
      // keep what the admin is typing: the form is filled once (and again after a successful change)
      this.form ??= formFromState(this.state);
      this.loadError = '';
    } catch (e) {
      this.loadError = errorText(e);
    }
  }

  private set<K extends keyof NetworkForm>(key: K, value: NetworkForm[K]): void {
    if (this.form) this.form = { ...this.form, [key]: value };
  }

  private setDns(i: number, value: string): void {
    if (!this.form) return;
    const dns = [...this.form.dns] as NetworkForm['dns'];
    dns[i] = value;
    this.form = { ...this.form, dns };
  }

  private async apply(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    const f = this.form;
    if (!f || !this.state) return;
    this.errors = validateNetworkForm(f, this.state.interfaces.map((i) => i.name));
    this.formError = '';
    if (Object.keys(this.errors).length) return;
    const body = networkBody(f);
    const dialog = this.renderRoot.querySelector<ConfirmDialog>('confirm-dialog')!;
    const { protocol, hostname, port } = window.location;
    const answer = await dialog.ask(
      body.mode === 'static'
        ? {
            title: `Use the static address ${body.address}/${body.prefixLength}?`,
            body: html`<p>Interface <code>${body.interface}</code> is set to <strong>${body.address}/${body.prefixLength}</strong>${body.gateway ? html` with gateway <code>${body.gateway}</code>` : ' without a gateway'} and applied at once.</p>
              <p class="error">The web UI may become unreachable at <code>${hostname}</code>: iSCSI initiators and browsers using the old address lose the connection.</p>
              <p>Afterwards, open <a class="mono" href=${newUiUrl(protocol, port, body.address)}>${newUiUrl(protocol, port, body.address)}</a>.</p>`,
            confirmLabel: 'Apply static address',
          }
        : {
            title: 'Switch to DHCP?',
            body: html`<p>The static configuration is removed and the appliance asks the network's DHCP server for an address.</p>
              <p class="error">The web UI may become unreachable at <code>${hostname}</code>: the new address is whatever the DHCP server hands out (see the appliance's console or your DHCP server's leases), then open <span class="mono">${newUiUrl(protocol, port, '<new address>')}</span>.</p>`,
            confirmLabel: 'Switch to DHCP',
          },
    );
    if (!answer) return;
    this.busy = true;
    try {
      this.state = await this.admin.updateNetwork(body);
      this.form = formFromState(this.state);
      notify(this, 'ok', body.mode === 'static' ? `Static address ${body.address}/${body.prefixLength} applied on ${body.interface}.` : 'DHCP configured.');
    } catch (err) {
      if (err instanceof ApiError) {
        this.errors = networkFieldErrors(err.byField());
        if (Object.keys(this.errors).length === 0) this.formError = err.message;
      } else this.formError = String(err);
    } finally {
      this.busy = false;
    }
  }

  override render() {
    const s = this.state;
    return html`${this.loadError ? html`<div class="banner error" role="alert">${this.loadError}</div>` : nothing}
      <div class="grid">
        <section class="card" aria-labelledby="net-state-title">
          <h2 id="net-state-title">Current configuration</h2>
          ${s
            ? html`<dl class="facts" id="net-state">
                  <dt>Mode</dt><dd id="net-mode">${s.mode === 'dhcp' ? 'DHCP' : 'Static'}</dd>
                  ${s.mode === 'static'
                    ? html`<dt>Interface</dt><dd class="mono">${s.interface}</dd>
                        <dt>Address</dt><dd class="mono">${s.address}/${s.prefixLength}</dd>
                        <dt>Gateway</dt><dd class="mono">${s.gateway || html`<span class="muted">none</span>`}</dd>
                        <dt>DNS servers</dt><dd class="mono">${s.dns?.length ? s.dns.join(', ') : html`<span class="muted">none</span>`}</dd>`
                    : nothing}
                </dl>
                <h3>Interfaces</h3>
                ${s.interfaces.length
                  ? html`<table>
                      <thead><tr><th scope="col">Name</th><th scope="col">MAC</th><th scope="col">Addresses</th></tr></thead>
                      <tbody>
                        ${s.interfaces.map(
                          (i) => html`<tr data-interface=${i.name}>
                            <td class="mono">${i.name}</td>
                            <td class="mono">${i.mac ?? html`<span class="muted">—</span>`}</td>
                            <td class="mono">${i.addresses.length ? i.addresses.join(', ') : html`<span class="muted">none</span>`}</td>
                          </tr>`,
                        )}
                      </tbody>
                    </table>`
                  : html`<p class="empty">No wired interfaces found.</p>`}`
            : this.loadError
              ? nothing
              : html`<p class="empty" aria-busy="true">Loading…</p>`}
        </section>
        ${this.readOnly ? html`<section class="card"><h2>Change the address</h2><p class="muted">You have read-only access.</p></section>` : this.renderForm()}
      </div>
      <confirm-dialog></confirm-dialog>`;
  }

  private renderForm() {
    const f = this.form;
    const s = this.state;
    if (!f || !s) return html`<section class="card"><p class="empty" aria-busy="true">Loading…</p></section>`;
    const e = this.errors;
    const radio = (mode: NetworkMode, label: string) =>
      html`<label><input type="radio" name="mode" value=${mode} .checked=${f.mode === mode} @change=${() => this.set('mode', mode)} />${label}</label>`;
    return html`<section class="card" aria-labelledby="net-form-title">
      <h2 id="net-form-title">Change the address</h2>
      ${this.formError ? html`<div class="banner error" role="alert">${this.formError}</div>` : nothing}
      <form @submit=${this.apply} novalidate aria-labelledby="net-form-title">
        <fieldset aria-label="Address assignment">
          ${radio('dhcp', 'DHCP')} ${radio('static', 'Static address')}
        </fieldset>
        ${f.mode === 'static'
          ? html`<div class="field">
                <label for="net-interface">Interface</label>
                <select id="net-interface" name="interface" aria-invalid=${e['interface'] ? 'true' : 'false'} aria-describedby=${e['interface'] ? 'net-interface-error' : nothing} @change=${(ev: Event) => this.set('interface', (ev.target as HTMLSelectElement).value)}>
                  ${s.interfaces.map((i) => html`<option value=${i.name} ?selected=${f.interface === i.name}>${i.name}${i.addresses.length ? ` (${i.addresses.join(', ')})` : ''}</option>`)}
                </select>
                ${e['interface'] ? html`<div class="error" id="net-interface-error" role="alert">${e['interface']}</div>` : nothing}
              </div>
              <div class="row">
                ${field({ name: 'address', label: 'IPv4 address', value: f.address, error: e['address'], placeholder: '192.0.2.10', hint: 'The appliance\u2019s own address on this interface.', onInput: (v) => this.set('address', v) }, 'net')}
                ${field({ name: 'prefixLength', label: 'Prefix length', type: 'number', min: 1, max: 32, value: f.prefixLength, error: e['prefixLength'], hint: '24 = 255.255.255.0', onInput: (v) => this.set('prefixLength', v) }, 'net')}
              </div>
              ${field({ name: 'gateway', label: 'Gateway (optional)', value: f.gateway, error: e['gateway'], placeholder: '192.0.2.1', hint: 'Must be inside the network above.', onInput: (v) => this.set('gateway', v) }, 'net')}
              <div class="dns">
                ${Array.from({ length: MAX_DNS }, (_, i) => field({ name: `dns${i}`, label: `DNS server ${i + 1} (optional)`, value: f.dns[i] ?? '', error: e[`dns${i}`], onInput: (v) => this.setDns(i, v) }, 'net'))}
              </div>`
          : html`<p class="muted">The appliance takes its address, gateway and DNS servers from the network's DHCP server.</p>`}
        <div class="actions"><button class="primary" type="submit" ?disabled=${this.busy}>Apply</button><span class="muted">You are asked to confirm first.</span></div>
      </form>
    </section>`;
  }
}
customElements.define('admin-network', AdminNetwork);
