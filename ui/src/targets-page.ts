import { LitElement, css, html, nothing } from 'lit';
import { ApiError, type ApiClient, type ChapInfo, type ChapSetting, type Lun, type LunMapping, type Target } from './api.ts';
import { TargetsApi } from './api-targets.ts';
import { field, formValues, notify } from './fields.ts';
import { errorText, targetIqn } from './format.ts';
import { parseInitiators } from './forms.ts';
import { wrappingName } from './name-text.ts';
import { routeHref } from './router.ts';
import { sharedStyles } from './shared-styles.ts';
import { Refresher } from './refresher.ts';
import './target-chap-form.ts';

/**
 * iSCSI targets: the list, discovery authentication (CHAP on SendTargets sessions, RFC 7143 §12.1.3 and
 * Appendix C), and a create form that can also map a LUN and allow initiators in one go (targets are
 * deny-by-default: without an ACL nobody may log in, api/README.md "Desired state").
 */
export class TargetsPage extends LitElement {
  static override properties = {
    api: { attribute: false },
    readOnly: { type: Boolean },
    targets: { state: true },
    luns: { state: true },
    mappings: { state: true },
    chap: { state: true },
    baseIqn: { state: true },
    shortName: { state: true },
    errors: { state: true },
    formError: { state: true },
    busy: { state: true },
    loadError: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      .layout {
        display: grid;
        grid-template-columns: minmax(0, 2fr) minmax(22rem, 1fr);
        gap: 1.25rem;
        align-items: start;
      }
      .preview {
        font-size: 0.85rem;
      }
      /* what the typed name will stand for, not part of the IQN yet */
      .preview .placeholder {
        font-style: italic;
        border-bottom: 1px dashed currentColor;
      }
      .stack > .card:last-child {
        margin-bottom: 0;
      }
    `,
  ];
  declare api: ApiClient;
  declare readOnly: boolean;
  declare targets: Target[] | undefined;
  declare luns: Lun[];
  declare mappings: LunMapping[];
  declare chap: ChapInfo[];
  declare baseIqn: string;
  declare shortName: string;
  declare errors: Record<string, string>;
  declare formError: string;
  declare busy: boolean;
  declare loadError: string;

  constructor() {
    super();
    // loads now, then every few seconds while on screen
    new Refresher(this, () => this.load());
    this.readOnly = false;
    this.targets = undefined;
    this.luns = [];
    this.mappings = [];
    this.chap = [];
    this.baseIqn = '';
    this.shortName = '';
    this.errors = {};
    this.formError = '';
    this.busy = false;
    this.loadError = '';
  }

  async load(): Promise<void> {
    try {
      const [targets, luns, mappings, chap, settings] = await Promise.all([this.api.targets(), this.api.luns(), this.api.mappings(), this.api.chap(), this.api.settings()]);
      Object.assign(this, { targets, luns, mappings, chap, baseIqn: settings.baseIqn, loadError: '' });
    } catch (e) {
      this.loadError = errorText(e);
    }
  }

  private async create(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    const form = ev.target as HTMLFormElement;
    const v = formValues(form);
    const iqn = (v['iqn'] ?? '').trim() || targetIqn(this.baseIqn, v['name'] ?? '');
    const errors: Record<string, string> = {};
    if (!iqn || iqn === this.baseIqn) errors['name'] = 'give the target a name (or a full IQN)';
    const initiators = parseInitiators(v['initiators'] ?? '');
    this.errors = errors;
    this.formError = '';
    if (Object.keys(errors).length > 0) return;
    this.busy = true;
    let target: Target | undefined;
    try {
      target = await this.api.createTarget(iqn, v['alias']?.trim() || null);
      const lunId = Number(v['lunId']);
      if (lunId > 0) await this.api.createMapping(target.id, 0, lunId);
      if (initiators.length > 0) {
        const group = await this.api.createInitiatorGroup(`${(v['name'] || `target-${target.id}`).slice(0, 48)}-hosts`, initiators);
        await this.api.createAcl(target.id, group.id);
      }
      notify(this, 'ok', `Target ${target.iqn} created${lunId > 0 ? ' with LUN 0 mapped' : ''}${initiators.length ? `; ${initiators.length} initiator(s) allowed` : ''}.`);
      form.reset();
      this.shortName = '';
      await this.load();
    } catch (e) {
      if (e instanceof ApiError) {
        const byField = e.byField();
        // the target's iqn is derived from the name field when no full IQN was typed
        if (byField['iqn'] && !(v['iqn'] ?? '').trim()) {
          byField['name'] = `gives the IQN ${iqn}, which ${byField['iqn']}`;
          delete byField['iqn'];
        }
        this.errors = byField;
        const partial = target ? `Target ${target.iqn} was created, but: ` : '';
        if (Object.keys(byField).length === 0 || target) this.formError = partial + e.message;
      } else this.formError = String(e);
      if (target) await this.load();
    } finally {
      this.busy = false;
    }
  }

  override render() {
    return html`<h1>iSCSI targets</h1>
      ${this.loadError ? html`<div class="banner error" role="alert">${this.loadError}</div>` : nothing}
      <div class="layout">
        <div class="stack">
          <section class="card" aria-labelledby="targets-title">
            <h2 id="targets-title">Targets</h2>
            ${this.renderTable()}
          </section>
          ${this.renderDiscovery()}
        </div>
        ${this.readOnly ? html`<section class="card"><p class="muted">You have read-only access.</p></section>` : this.targets === undefined ? nothing : this.renderForm()}
      </div>`;
  }

  private renderTable() {
    if (this.targets === undefined) return html`<p class="empty" aria-busy="true">Loading…</p>`;
    if (this.targets.length === 0) return html`<p class="empty">No targets yet.</p>`;
    return html`<table>
      <thead><tr><th scope="col">IQN</th><th scope="col">Alias</th><th scope="col" class="num">LUNs</th><th scope="col">CHAP</th><th scope="col"><span class="visually-hidden">Links</span></th></tr></thead>
      <tbody>
        ${this.targets.map((t) => {
          const c = this.chap.find((x) => x.targetId === t.id);
          return html`<tr data-target=${t.iqn}>
            <th scope="row"><a class="mono" href=${routeHref({ page: 'target', id: t.id, tab: 'overview' })}>${wrappingName(t.iqn)}</a></th>
            <td>${t.alias ?? html`<span class="muted">—</span>`}</td>
            <td class="num">${this.mappings.filter((m) => m.targetId === t.id).length}</td>
            <td>${c ? (c.mutualUsername ? 'mutual' : 'one-way') : html`<span class="muted">none</span>`}</td>
            <td><a href=${routeHref({ page: 'target', id: t.id, tab: 'connect' })} aria-label=${`Connect instructions for ${t.iqn}`}>Connect</a></td>
          </tr>`;
        })}
      </tbody>
    </table>`;
  }

  private renderDiscovery() {
    if (this.targets === undefined) return nothing;
    const tapi = new TargetsApi(this.api);
    return html`<section class="card" aria-labelledby="discovery-title">
      <h2 id="discovery-title">Discovery authentication</h2>
      <p class="muted">
        CHAP for SendTargets discovery sessions, before an initiator learns which targets exist. Each target's own CHAP (on its page) still
        applies when it logs in to a target.
      </p>
      <chap-form
        .idPrefix=${'dchap'}
        .noun=${'discovery CHAP'}
        .noneMeaning=${'discovery sessions need no password'}
        .chap=${this.chap.find((c) => c.targetId === null)}
        .readOnly=${this.readOnly}
        .save=${(body: ChapSetting) => tapi.setDiscoveryChap(body)}
        .remove=${() => tapi.deleteDiscoveryChap()}
        @chap-changed=${() => this.load()}
      ></chap-form>
    </section>`;
  }

  private renderForm() {
    const mapped = new Set(this.mappings.map((m) => m.lunId));
    const preview = targetIqn(this.baseIqn, this.shortName);
    return html`<section class="card" aria-labelledby="new-target-title">
      <h2 id="new-target-title">New target</h2>
      ${this.formError ? html`<div class="banner error" role="alert">${this.formError}</div>` : nothing}
      <form @submit=${this.create} novalidate>
        ${field({ name: 'name', label: 'Name', placeholder: 'esxi-cluster', autocomplete: 'off', error: this.errors['name'], onInput: (s) => (this.shortName = s) }, 'tgt')}
        <div class="preview muted">IQN: <code id="tgt-iqn-preview">${this.shortName.trim() && preview !== this.baseIqn ? preview : html`${this.baseIqn}:<span class="placeholder">name</span>`}</code></div>
        ${field({ name: 'iqn', label: 'Or a full IQN', placeholder: 'iqn.2026-01.com.example:storage', hint: 'Overrides the name above.', autocomplete: 'off', error: this.errors['iqn'] }, 'tgt')}
        ${field({ name: 'alias', label: 'Alias (optional)', autocomplete: 'off', error: this.errors['alias'] }, 'tgt')}
        <div class="field">
          <label for="tgt-lun">Map a LUN as LUN 0</label>
          <select id="tgt-lun" name="lunId">
            <option value="">— none —</option>
            ${this.luns.map((l) => html`<option value=${l.id}>${l.name}${mapped.has(l.id) ? ' (already mapped elsewhere)' : ''}</option>`)}
          </select>
          ${this.errors['lunId'] ? html`<div class="error" role="alert">${this.errors['lunId']}</div>` : nothing}
        </div>
        <div class="field">
          <label for="tgt-initiators">Initiators allowed to connect</label>
          <textarea id="tgt-initiators" name="initiators" placeholder="iqn.1998-01.com.vmware:esx01-1a2b3c4d" aria-describedby="tgt-initiators-hint${this.errors['initiators'] ? ' tgt-initiators-error' : ''}" aria-invalid=${this.errors['initiators'] ? 'true' : 'false'}></textarea>
          <div class="hint" id="tgt-initiators-hint">One IQN per line. Targets refuse everyone until an initiator is allowed.</div>
          ${this.errors['initiators'] ? html`<div class="error" id="tgt-initiators-error" role="alert">${this.errors['initiators']}</div>` : nothing}
        </div>
        <div class="actions"><button class="primary" type="submit" ?disabled=${this.busy}>${this.busy ? 'Creating…' : 'Create target'}</button></div>
      </form>
    </section>`;
  }
}
customElements.define('targets-page', TargetsPage);
