import { LitElement, css, html, nothing } from 'lit';
import { ApiError, type ApiClient, type ChapInfo, type InitiatorGroup, type Lun, type LunMapping, type Portal, type Settings, type Target, type TargetAcl } from './api.ts';
import type { ConfirmDialog } from './confirm-dialog.ts';
import { reachablePortals, type ConnectInput } from './connect-commands.ts';
import './connect-panel.ts';
import { field, formValues, notify } from './fields.ts';
import { formatBytes } from './format.ts';
import { routeHref } from './router.ts';
import { sharedStyles } from './shared-styles.ts';
import { chapFormBody, nextFreeLun, parseInitiators, type ChapMode } from './forms.ts';
import { Refresher } from './refresher.ts';

type Section = 'map' | 'acl' | 'chap' | 'portal';

/** One target: LUN mappings, who may connect (ACL), CHAP, portals, and the Connect tab. */
export class TargetDetail extends LitElement {
  static override properties = {
    api: { attribute: false },
    readOnly: { type: Boolean },
    targetId: { type: Number },
    tab: { type: String },
    target: { state: true },
    portals: { state: true },
    mappings: { state: true },
    luns: { state: true },
    acls: { state: true },
    groups: { state: true },
    chap: { state: true },
    settings: { state: true },
    errors: { state: true },
    chapMode: { state: true },
    loadError: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      .head {
        display: flex;
        align-items: baseline;
        gap: 1rem;
        flex-wrap: wrap;
        margin-bottom: 1rem;
      }
      .head h1 {
        margin: 0;
        font-family: var(--mono);
        font-size: 1.25rem;
        overflow-wrap: anywhere;
      }
      nav.tabs {
        display: flex;
        gap: 0.25rem;
        margin-bottom: 1.25rem;
        border-bottom: 1px solid var(--border);
      }
      nav.tabs a {
        padding: 0.5rem 0.9rem;
        text-decoration: none;
        color: var(--text);
      }
      nav.tabs a[aria-current='page'] {
        box-shadow: inset 0 -3px 0 var(--accent);
        font-weight: 600;
      }
      .grid {
        display: grid;
        grid-template-columns: repeat(2, minmax(0, 1fr));
        gap: 1.25rem;
        align-items: start;
      }
      .grid .card {
        margin: 0;
      }
      form.inline {
        display: flex;
        gap: 0.75rem;
        align-items: flex-end;
        flex-wrap: wrap;
        margin-top: 1rem;
      }
      form.inline .field {
        flex: 1 1 10rem;
      }
      form.inline .field.narrow {
        flex: 0 0 6rem;
      }
      fieldset {
        border: none;
        padding: 0;
        margin: 0;
        display: flex;
        gap: 1.25rem;
      }
      legend {
        font-weight: 600;
        font-size: 0.9rem;
        margin-bottom: 0.4rem;
      }
      fieldset label {
        display: flex;
        gap: 0.35rem;
        align-items: center;
      }
      textarea {
        font-family: var(--mono);
        font-size: 0.875rem;
        color: var(--text);
        background: var(--bg);
        border: 1px solid var(--border);
        border-radius: var(--radius);
        padding: 0.45rem 0.6rem;
        width: 100%;
        min-height: 3.5rem;
      }
      ul.initiators {
        margin: 0;
        padding-left: 1rem;
      }
    `,
  ];
  declare api: ApiClient;
  declare readOnly: boolean;
  declare targetId: number;
  declare tab: 'overview' | 'connect';
  declare target: Target | undefined;
  declare portals: Portal[];
  declare mappings: LunMapping[];
  declare luns: Lun[];
  declare acls: TargetAcl[];
  declare groups: InitiatorGroup[];
  declare chap: ChapInfo | undefined;
  declare settings: Settings | undefined;
  declare errors: Partial<Record<Section, Record<string, string> & { _form?: string }>>;
  declare chapMode: ChapMode;
  declare loadError: string;
  private chapModeTouched = false;

  constructor() {
    super();
    // loads now, then every few seconds while on screen
    new Refresher(this, () => this.load());
    this.readOnly = false;
    this.tab = 'overview';
    this.target = undefined;
    this.portals = [];
    this.mappings = [];
    this.luns = [];
    this.acls = [];
    this.groups = [];
    this.chap = undefined;
    this.settings = undefined;
    this.errors = {};
    this.chapMode = 'none';
    this.loadError = '';
  }

  override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('targetId') && changed.get('targetId') !== undefined) {
      this.target = undefined;
      this.chapModeTouched = false;
      void this.load();
    }
  }

  async load(): Promise<void> {
    const id = this.targetId;
    try {
      const [target, portals, mappings, luns, acls, groups, chap, settings] = await Promise.all([
        this.api.target(id),
        this.api.portals(id),
        this.api.mappings(id),
        this.api.luns(),
        this.api.acls(id),
        this.api.initiatorGroups(),
        this.api.chap(),
        this.api.settings(),
      ]);
      if (id !== this.targetId) return;
      Object.assign(this, { target, portals, mappings, luns, acls, groups, settings, loadError: '' });
      this.chap = chap.find((c) => c.targetId === id);
      if (!this.chapModeTouched) this.chapMode = this.chap ? (this.chap.mutualUsername ? 'mutual' : 'one-way') : 'none';
    } catch (e) {
      this.loadError = e instanceof ApiError && e.status === 404 ? `Target ${id} does not exist (deleted elsewhere?).` : e instanceof Error ? e.message : String(e);
    }
  }

  /** Runs one change; on failure the API's messages go next to that section's fields. */
  private async act(section: Section, work: () => Promise<string>, form?: HTMLFormElement): Promise<void> {
    this.errors = { ...this.errors, [section]: {} };
    try {
      const message = await work();
      notify(this, 'ok', message);
      form?.reset();
      await this.load();
    } catch (e) {
      if (e instanceof ApiError) {
        const byField: Record<string, string> & { _form?: string } = e.byField();
        if (Object.keys(byField).length === 0) byField._form = e.message;
        this.errors = { ...this.errors, [section]: byField };
      } else {
        this.errors = { ...this.errors, [section]: { _form: String(e) } };
      }
    }
  }

  private sectionError(section: Section) {
    const m = this.errors[section]?._form;
    return m ? html`<div class="banner error" role="alert">${m}</div>` : nothing;
  }

  private connectInput(): ConnectInput | undefined {
    if (!this.target) return undefined;
    const port = this.settings?.iscsiPort ?? 3260;
    return {
      iqn: this.target.iqn,
      portals: reachablePortals(this.portals, location.hostname, port),
      chap: this.chap ? { username: this.chap.username, mutualUsername: this.chap.mutualUsername } : undefined,
      naaIds: this.mappings
        .slice()
        .sort((a, b) => a.lun - b.lun)
        .map((m) => this.luns.find((l) => l.id === m.lunId)?.naaId)
        .filter((x): x is string => Boolean(x)),
    };
  }

  private async deleteTarget(): Promise<void> {
    const t = this.target!;
    const dialog = this.renderRoot.querySelector<ConfirmDialog>('confirm-dialog')!;
    const ok = await dialog.ask({
      title: `Delete target ${t.iqn}?`,
      body: html`<p>Initiators logged in to this target are disconnected and can no longer find it. Its ${this.mappings.length} LUN mapping(s), access list and CHAP settings are removed.</p>
        <p>The LUNs themselves and their data are kept (delete them on the Storage page).</p>`,
      confirmLabel: 'Delete target',
    });
    if (!ok) return;
    try {
      await this.api.deleteTarget(t.id);
      notify(this, 'ok', `Target ${t.iqn} deleted.`);
      location.hash = routeHref({ page: 'targets' });
    } catch (e) {
      this.loadError = `Target ${t.iqn} was not deleted: ${e instanceof Error ? e.message : String(e)}`;
    }
  }

  override render() {
    if (this.loadError && !this.target) return html`<div class="banner error" role="alert">${this.loadError}</div><a href=${routeHref({ page: 'targets' })}>Back to targets</a>`;
    const t = this.target;
    if (!t) return html`<p class="muted" aria-busy="true">Loading…</p>`;
    return html`<div class="head">
        <h1>${t.iqn}</h1>
        ${t.alias ? html`<span class="muted">${t.alias}</span>` : nothing}
        <span class="spacer"></span>
        ${this.readOnly ? nothing : html`<button type="button" class="danger" @click=${this.deleteTarget}>Delete target</button>`}
      </div>
      ${this.loadError ? html`<div class="banner error" role="alert">${this.loadError}</div>` : nothing}
      <nav class="tabs" aria-label="Target sections">
        <a href=${routeHref({ page: 'target', id: t.id, tab: 'overview' })} aria-current=${this.tab === 'overview' ? 'page' : 'false'}>Configuration</a>
        <a href=${routeHref({ page: 'target', id: t.id, tab: 'connect' })} aria-current=${this.tab === 'connect' ? 'page' : 'false'}>Connect</a>
      </nav>
      ${this.tab === 'connect'
        ? html`<section class="card" aria-labelledby="connect-title"><h2 id="connect-title">Connect an initiator</h2><connect-panel .input=${this.connectInput()}></connect-panel></section>`
        : html`<div class="grid">${this.renderMappings()} ${this.renderAcl()} ${this.renderChap()} ${this.renderPortals()}</div>`}
      <confirm-dialog></confirm-dialog>`;
  }

  private renderMappings() {
    const e = this.errors.map ?? {};
    const lunName = (id: number) => this.luns.find((l) => l.id === id);
    const mappedHere = new Set(this.mappings.map((m) => m.lunId));
    const available = this.luns.filter((l) => !mappedHere.has(l.id));
    return html`<section class="card" aria-labelledby="map-title">
      <h2 id="map-title">LUNs</h2>
      ${this.sectionError('map')}
      ${this.mappings.length === 0
        ? html`<p class="empty">No LUN mapped: initiators see no disks.</p>`
        : html`<table>
            <thead><tr><th scope="col" class="num">LUN</th><th scope="col">Name</th><th scope="col" class="num">Size</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
              ${this.mappings.map((m) => {
                const l = lunName(m.lunId);
                return html`<tr>
                  <td class="num">${m.lun}</td><td>${l?.name ?? m.lunId}</td><td class="num">${l ? formatBytes(l.sizeBytes) : ''}</td>
                  <td>${this.readOnly ? nothing : html`<button type="button" class="danger" aria-label=${`Unmap LUN ${m.lun}`} @click=${() => this.act('map', async () => (await this.api.deleteMapping(m.id), `LUN ${m.lun} unmapped.`))}>Unmap</button>`}</td>
                </tr>`;
              })}
            </tbody>
          </table>`}
      ${this.readOnly
        ? nothing
        : html`<form class="inline" novalidate @submit=${(ev: SubmitEvent) => {
            ev.preventDefault();
            const form = ev.target as HTMLFormElement;
            const v = formValues(form);
            const lunId = Number(v['lunId']);
            const lun = Number(v['lun']);
            if (!lunId) {
              this.errors = { ...this.errors, map: { lunId: 'choose a LUN' } };
              return;
            }
            void this.act('map', async () => (await this.api.createMapping(this.targetId, lun, lunId), `Mapped as LUN ${lun}.`), form);
          }}>
            <div class="field">
              <label for="map-lun">LUN to map</label>
              <select id="map-lun" name="lunId" aria-invalid=${e['lunId'] ? 'true' : 'false'}>
                <option value="">— choose —</option>
                ${available.map((l) => html`<option value=${l.id}>${l.name} (${formatBytes(l.sizeBytes)})</option>`)}
              </select>
              ${e['lunId'] ? html`<div class="error" role="alert">${e['lunId']}</div>` : nothing}
            </div>
            <div class="field narrow">${field({ name: 'lun', label: 'As LUN', type: 'number', min: 0, max: 1023, value: String(nextFreeLun(this.mappings)), error: e['lun'] }, 'map')}</div>
            <button type="submit" class="primary">Map</button>
          </form>`}
    </section>`;
  }

  private renderAcl() {
    const e = this.errors.acl ?? {};
    return html`<section class="card" aria-labelledby="acl-title">
      <h2 id="acl-title">Who may connect</h2>
      ${this.sectionError('acl')}
      ${this.acls.length === 0
        ? html`<p class="empty">Nobody: the target refuses every initiator until one is allowed here.</p>`
        : html`<table>
            <thead><tr><th scope="col">Group</th><th scope="col">Initiators / networks</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
              ${this.acls.map((a) => {
                const g = this.groups.find((x) => x.id === a.groupId);
                return html`<tr>
                  <td>${g?.name ?? a.groupId}</td>
                  <td><ul class="initiators">${[...(g?.initiators ?? []), ...(g?.networks ?? [])].map((i) => html`<li class="mono">${i}</li>`)}</ul></td>
                  <td>${this.readOnly ? nothing : html`<button type="button" class="danger" aria-label=${`Remove access for ${g?.name ?? a.groupId}`} @click=${() => this.act('acl', async () => (await this.api.deleteAcl(a.id), `Access for ${g?.name ?? 'the group'} removed.`))}>Remove</button>`}</td>
                </tr>`;
              })}
            </tbody>
          </table>`}
      ${this.readOnly
        ? nothing
        : html`<form novalidate class="acl" @submit=${(ev: SubmitEvent) => {
            ev.preventDefault();
            const form = ev.target as HTMLFormElement;
            const v = formValues(form);
            const initiators = parseInitiators(v['initiators'] ?? '');
            if (initiators.length === 0) {
              this.errors = { ...this.errors, acl: { initiators: 'enter at least one initiator IQN' } };
              return;
            }
            const name = (v['group'] ?? '').trim() || `target${this.targetId}-${Date.now().toString(36)}`;
            void this.act('acl', async () => {
              const g = await this.api.createInitiatorGroup(name, initiators);
              await this.api.createAcl(this.targetId, g.id);
              return `${initiators.length} initiator(s) allowed.`;
            }, form);
          }}>
            <div class="field">
              <label for="acl-initiators">Allow initiators</label>
              <textarea id="acl-initiators" name="initiators" placeholder="iqn.1991-05.com.microsoft:hv01" aria-invalid=${e['initiators'] ? 'true' : 'false'} aria-describedby="acl-initiators-hint"></textarea>
              <div class="hint" id="acl-initiators-hint">One IQN per line.</div>
              ${e['initiators'] ? html`<div class="error" role="alert" id="acl-initiators-error">${e['initiators']}</div>` : nothing}
            </div>
            ${field({ name: 'group', label: 'Group name (optional)', placeholder: 'esxi-hosts', error: e['name'], autocomplete: 'off' }, 'acl')}
            <div class="actions"><button type="submit" class="primary">Allow</button></div>
          </form>`}
    </section>`;
  }

  private renderChap() {
    const e = this.errors.chap ?? {};
    const mode = this.chapMode;
    const setMode = (m: ChapMode) => {
      this.chapModeTouched = true;
      this.chapMode = m;
    };
    return html`<section class="card" aria-labelledby="chap-title">
      <h2 id="chap-title">Authentication (CHAP)</h2>
      ${this.sectionError('chap')}
      <p class="muted" id="chap-state">
        ${this.chap
          ? html`Now: ${this.chap.mutualUsername ? 'mutual' : 'one-way'} CHAP, user <code>${this.chap.username}</code>${this.chap.mutualUsername ? html`, target user <code>${this.chap.mutualUsername}</code>` : nothing}.`
          : 'Now: no CHAP (initiators are checked by name only).'}
      </p>
      ${this.readOnly
        ? nothing
        : html`<form novalidate @submit=${(ev: SubmitEvent) => {
            ev.preventDefault();
            const form = ev.target as HTMLFormElement;
            if (mode === 'none') {
              if (!this.chap) return;
              void this.act('chap', async () => (await this.api.deleteTargetChap(this.targetId), 'CHAP removed.')).then(() => (this.chapModeTouched = false));
              return;
            }
            const { body, errors } = chapFormBody(mode, formValues(form));
            if (!body) {
              this.errors = { ...this.errors, chap: errors };
              return;
            }
            void this.act('chap', async () => {
              await this.api.setTargetChap(this.targetId, body);
              // secrets leave the page as soon as the API has them
              for (const input of form.querySelectorAll<HTMLInputElement>('input[type=password]')) input.value = '';
              return `${mode === 'mutual' ? 'Mutual' : 'One-way'} CHAP saved.`;
            }).then(() => (this.chapModeTouched = false));
          }}>
            <fieldset>
              <legend>Mode</legend>
              ${(['none', 'one-way', 'mutual'] as const).map(
                (m) => html`<label><input type="radio" name="mode" value=${m} .checked=${mode === m} @change=${() => setMode(m)} />${m === 'none' ? 'None' : m === 'one-way' ? 'One-way' : 'Mutual'}</label>`,
              )}
            </fieldset>
            ${mode === 'none'
              ? nothing
              : html`<div class="row">
                    ${field({ name: 'username', label: 'Initiator user', value: this.chap?.username ?? '', error: e['username'], autocomplete: 'off' }, 'chap')}
                    ${field({ name: 'secret', label: 'Initiator secret', type: 'password', error: e['secret'], hint: '12-255 characters; not shown again.', autocomplete: 'new-password' }, 'chap')}
                  </div>
                  ${mode === 'mutual'
                    ? html`<div class="row">
                        ${field({ name: 'mutualUsername', label: 'Target user (mutual)', value: this.chap?.mutualUsername ?? '', error: e['mutualUsername'], autocomplete: 'off' }, 'chap')}
                        ${field({ name: 'mutualSecret', label: 'Target secret (mutual)', type: 'password', error: e['mutualSecret'], hint: 'Must differ from the initiator secret.', autocomplete: 'new-password' }, 'chap')}
                      </div>`
                    : nothing}`}
            <div class="actions"><button type="submit" class="primary" ?disabled=${mode === 'none' && !this.chap}>${mode === 'none' ? 'Remove CHAP' : 'Save CHAP'}</button></div>
          </form>`}
    </section>`;
  }

  private renderPortals() {
    const e = this.errors.portal ?? {};
    return html`<section class="card" aria-labelledby="portal-title">
      <h2 id="portal-title">Portals</h2>
      ${this.sectionError('portal')}
      ${this.portals.length === 0
        ? html`<p class="empty">No portal of its own: the target listens on the appliance's iSCSI port (${this.settings?.iscsiPort ?? 3260}) on every address.</p>`
        : html`<table>
            <thead><tr><th scope="col">Address</th><th scope="col" class="num">Port</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
              ${this.portals.map(
                (p) => html`<tr><td class="mono">${p.address}</td><td class="num">${p.port}</td>
                  <td>${this.readOnly ? nothing : html`<button type="button" class="danger" aria-label=${`Remove portal ${p.address}`} @click=${() => this.act('portal', async () => (await this.api.deletePortal(p.id), `Portal ${p.address}:${p.port} removed.`))}>Remove</button>`}</td></tr>`,
              )}
            </tbody>
          </table>`}
      ${this.readOnly
        ? nothing
        : html`<form class="inline" novalidate @submit=${(ev: SubmitEvent) => {
            ev.preventDefault();
            const form = ev.target as HTMLFormElement;
            const v = formValues(form);
            const port = v['port'] ? Number(v['port']) : undefined;
            void this.act('portal', async () => {
              const p = await this.api.createPortal(this.targetId, (v['address'] ?? '').trim(), port);
              return `Portal ${p.address}:${p.port} added.`;
            }, form);
          }}>
            ${field({ name: 'address', label: 'Address', placeholder: '192.0.2.10', error: e['address'], autocomplete: 'off' }, 'portal')}
            <div class="field narrow">${field({ name: 'port', label: 'Port', type: 'number', placeholder: '3260', min: 1, max: 65535, error: e['port'] }, 'portal')}</div>
            <button type="submit" class="primary">Add portal</button>
          </form>`}
    </section>`;
  }
}
customElements.define('target-detail', TargetDetail);
