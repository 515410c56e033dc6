/**
 * A target's portal groups (RFC 7143 §4.4.1) and their portals: each group with its tag, its ALUA access state
 * (SPC-4 §5.16.2.4: one portal group is one target port group) and its portals; add a portal into a chosen group,
 * add and remove groups. Taking I/O away from a group's portals asks first. The API's refusals (a group with
 * portals, the last group) are shown where the admin acted.
 */
import { LitElement, css, html, nothing } from 'lit';
import { ApiError, type Portal } from './api.ts';
import type { AluaState, PortalGroup, TargetsApi } from './api-targets.ts';
import type { ConfirmDialog } from './confirm-dialog.ts';
import './confirm-dialog.ts';
import { field, formValues, notify } from './fields.ts';
import { sharedStyles } from './shared-styles.ts';
import { ALUA_LABELS, ALUA_MEANING, ALUA_SHORT, ALUA_STATES, aluaChangeNeedsConfirm, aluaConfirmText, nextFreeTag, parseTag, portalsByGroup, stopsIo } from './target-logic.ts';

type Section = 'group' | 'portal';
type Errors = Record<string, string> & { _form?: string };
const SHOWN_FIELDS: Record<Section, readonly string[]> = { group: ['tag'], portal: ['address', 'port', 'portalGroupId'] };

export class TargetPortalGroups extends LitElement {
  static override properties = {
    tapi: { attribute: false },
    targetId: { type: Number },
    groups: { attribute: false },
    portals: { attribute: false },
    readOnly: { type: Boolean },
    iscsiPort: { type: Number },
    errors: { state: true },
    busy: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
      }
      .group {
        border: 1px solid var(--border);
        border-radius: var(--radius);
        padding: 0.75rem 0.9rem;
        margin-bottom: 0.9rem;
      }
      .group[data-stops-io] {
        border-left: 4px solid var(--danger);
      }
      .group-head {
        display: flex;
        gap: 0.75rem;
        align-items: center;
        flex-wrap: wrap;
      }
      .group-head h3 {
        margin: 0;
        font-size: 1rem;
      }
      .group-head select {
        width: auto;
      }
      .meaning {
        font-size: 0.85rem;
        margin: 0.35rem 0 0.5rem;
      }
      .state {
        font-weight: 600;
      }
      form.inline {
        margin-top: 1rem;
      }
      h3.sub {
        font-size: 0.95rem;
        margin: 1.1rem 0 0;
      }
    `,
  ];
  declare tapi: TargetsApi;
  declare targetId: number;
  declare groups: PortalGroup[];
  declare portals: Portal[];
  declare readOnly: boolean;
  declare iscsiPort: number;
  declare errors: Partial<Record<Section, Errors>>;
  declare busy: boolean;

  constructor() {
    super();
    this.groups = [];
    this.portals = [];
    this.readOnly = false;
    this.iscsiPort = 3260;
    this.errors = {};
    this.busy = false;
  }

  /** One change; the parent reloads on `portals-changed`; failures go next to the section's fields. */
  private async act(section: Section, work: () => Promise<string>, form?: HTMLFormElement): Promise<boolean> {
    this.errors = { ...this.errors, [section]: {} };
    this.busy = true;
    try {
      const message = await work();
      notify(this, 'ok', message);
      form?.reset();
      this.dispatchEvent(new CustomEvent('portals-changed', { bubbles: true, composed: true }));
      return true;
    } catch (e) {
      let byField: Errors = { _form: String(e) };
      if (e instanceof ApiError) {
        byField = e.byField();
        // a message about a field this form has no input for is said above the form
        if (!Object.keys(byField).some((k) => SHOWN_FIELDS[section].includes(k))) byField._form = e.message;
      }
      this.errors = { ...this.errors, [section]: byField };
      return false;
    } finally {
      this.busy = false;
    }
  }

  private async changeState(group: PortalGroup, select: HTMLSelectElement): Promise<void> {
    const to = select.value as AluaState;
    if (aluaChangeNeedsConfirm(group.aluaState, to)) {
      const text = aluaConfirmText(group, this.portals, to, this.groups);
      const dialog = this.renderRoot.querySelector<ConfirmDialog>('confirm-dialog')!;
      const ok = await dialog.ask({ title: text.title, body: html`<p>${text.body}</p>`, confirmLabel: text.confirmLabel });
      if (!ok) {
        select.value = group.aluaState;
        return;
      }
    }
    const done = await this.act('group', async () => {
      const g = await this.tapi.setAluaState(group.id, to);
      return `Portal group ${g.tag} is now ${ALUA_LABELS[g.aluaState].toLowerCase()}.`;
    });
    if (!done) select.value = group.aluaState;
  }

  private addGroup(ev: SubmitEvent): void {
    ev.preventDefault();
    const form = ev.target as HTMLFormElement;
    const v = formValues(form);
    const parsed = parseTag(v['tag'] ?? '', this.groups);
    if ('error' in parsed) {
      this.errors = { ...this.errors, group: { tag: parsed.error } };
      return;
    }
    const state = (v['aluaState'] ?? 'active-optimized') as AluaState;
    void this.act('group', async () => {
      const g = await this.tapi.createPortalGroup(this.targetId, parsed.tag, state);
      return `Portal group ${g.tag} added (${ALUA_LABELS[g.aluaState].toLowerCase()}).`;
    }, form);
  }

  private addPortal(ev: SubmitEvent): void {
    ev.preventDefault();
    const form = ev.target as HTMLFormElement;
    const v = formValues(form);
    const port = v['port'] ? Number(v['port']) : undefined;
    const groupId = v['portalGroupId'] ? Number(v['portalGroupId']) : undefined;
    void this.act('portal', async () => {
      const p = await this.tapi.createPortal(this.targetId, (v['address'] ?? '').trim(), port, groupId);
      return `Portal ${p.address}:${p.port} added to portal group ${p.portalGroupTag}.`;
    }, form);
  }

  private formError(section: Section) {
    const m = this.errors[section]?._form;
    return m ? html`<div class="banner error" role="alert" id=${`${section}-refusal`}>${m}</div>` : nothing;
  }

  override render() {
    const byGroup = portalsByGroup(this.groups, this.portals);
    return html`${this.formError('group')}
      ${this.portals.length === 0
        ? html`<p class="empty">No portal of its own: the target listens on the appliance's iSCSI port (${this.iscsiPort}) on every address, in portal group ${byGroup[0]?.group.tag ?? 1}.</p>`
        : nothing}
      ${byGroup.map(({ group, portals }) => this.renderGroup(group, portals))}
      ${this.readOnly ? nothing : html`${this.renderAddPortal()} ${this.renderAddGroup()}`}
      <confirm-dialog></confirm-dialog>`;
  }

  private renderGroup(g: PortalGroup, portals: Portal[]) {
    const selectId = `alua-${g.id}`;
    return html`<div class="group" data-tag=${g.tag} ?data-stops-io=${stopsIo(g.aluaState)} role="group" aria-labelledby=${`pg-${g.id}-title`}>
      <div class="group-head">
        <h3 id=${`pg-${g.id}-title`}>Portal group ${g.tag}</h3>
        ${this.readOnly
          ? html`<span class="state">${ALUA_LABELS[g.aluaState]}</span>`
          : html`<label class="visually-hidden" for=${selectId}>ALUA state of portal group ${g.tag}</label>
              <select id=${selectId} .value=${g.aluaState} ?disabled=${this.busy} aria-describedby=${`${selectId}-meaning`} @change=${(e: Event) => this.changeState(g, e.target as HTMLSelectElement)}>
                ${ALUA_STATES.map((s) => html`<option value=${s} ?selected=${s === g.aluaState}>${ALUA_LABELS[s]}</option>`)}
              </select>`}
        <span class="spacer"></span>
        ${this.readOnly || this.groups.length <= 1
          ? nothing /* a target needs one portal group (the API refuses removing the last) */
          : html`<button type="button" class="danger" aria-label=${`Remove portal group ${g.tag}`} ?disabled=${this.busy}
              @click=${() => this.act('group', async () => (await this.tapi.deletePortalGroup(g.id), `Portal group ${g.tag} removed.`))}>Remove group</button>`}
      </div>
      <p class="meaning muted" id=${`${selectId}-meaning`}>ALUA: ${ALUA_MEANING[g.aluaState]}.</p>
      ${portals.length === 0
        ? html`<p class="empty">No portal in this group.</p>`
        : html`<table>
            <thead><tr><th scope="col">Portal</th><th scope="col" class="num">Port</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
              ${portals.map(
                (p) => html`<tr data-portal=${`${p.address}:${p.port}`}><td class="mono">${p.address}</td><td class="num">${p.port}</td>
                  <td>${this.readOnly
                    ? nothing
                    : html`<button type="button" class="danger" aria-label=${`Remove portal ${p.address}`} ?disabled=${this.busy}
                        @click=${() => this.act('portal', async () => (await this.tapi.deletePortal(p.id), `Portal ${p.address}:${p.port} removed.`))}>Remove</button>`}</td></tr>`,
              )}
            </tbody>
          </table>`}
    </div>`;
  }

  private renderAddPortal() {
    const e = this.errors.portal ?? {};
    const sorted = [...this.groups].sort((a, b) => a.tag - b.tag);
    return html`<h3 class="sub" id="add-portal-title">Add a portal</h3>
      ${this.formError('portal')}
      <form class="inline" novalidate aria-labelledby="add-portal-title" @submit=${this.addPortal}>
        ${field({ name: 'address', label: 'Address', placeholder: '192.0.2.10', error: e['address'], autocomplete: 'off' }, 'portal')}
        <div class="field narrow">${field({ name: 'port', label: 'Port', type: 'number', placeholder: String(this.iscsiPort), min: 1, max: 65535, error: e['port'] }, 'portal')}</div>
        <div class="field">
          <label for="portal-group">Into portal group</label>
          <select id="portal-group" name="portalGroupId" aria-invalid=${e['portalGroupId'] ? 'true' : 'false'}>
            ${sorted.map((g) => html`<option value=${g.id}>${g.tag} (${ALUA_SHORT[g.aluaState]})</option>`)}
          </select>
          ${e['portalGroupId'] ? html`<div class="error" role="alert">${e['portalGroupId']}</div>` : nothing}
        </div>
        <button type="submit" class="primary" ?disabled=${this.busy}>Add portal</button>
      </form>`;
  }

  private renderAddGroup() {
    const e = this.errors.group ?? {};
    return html`<h3 class="sub" id="add-group-title">New portal group</h3>
      <form class="inline" novalidate aria-labelledby="add-group-title" @submit=${this.addGroup}>
        <div class="field narrow">${field({ name: 'tag', label: 'Tag', type: 'number', min: 1, max: 65535, value: String(nextFreeTag(this.groups)), error: e['tag'] }, 'pg')}</div>
        <div class="field">
          <label for="pg-state">ALUA state</label>
          <select id="pg-state" name="aluaState">
            ${ALUA_STATES.map((s) => html`<option value=${s}>${ALUA_LABELS[s]}</option>`)}
          </select>
        </div>
        <button type="submit" class="primary" ?disabled=${this.busy}>Create portal group</button>
      </form>`;
  }
}
customElements.define('target-portal-groups', TargetPortalGroups);
