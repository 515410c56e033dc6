import { LitElement, css, html, nothing } from 'lit';
import { ApiError, type ApiClient, type ChapInfo, type ChapSetting, type InitiatorGroup, type Lun, type LunMapping, type Portal, type Settings, type Target, type TargetAcl } from './api.ts';
import { TargetsApi, type PortalGroup } from './api-targets.ts';
import type { ConfirmDialog } from './confirm-dialog.ts';
import { reachablePortals, type ConnectInput } from './connect-commands.ts';
import './connect-panel.ts';
import { field, formValues, notify } from './fields.ts';
import { errorText, formatBytes } from './format.ts';
import { wrappingName } from './name-text.ts';
import { routeHref } from './router.ts';
import { sharedStyles } from './shared-styles.ts';
import { nextFreeLun, parseInitiators } from './forms.ts';
import { Refresher } from './refresher.ts';
import './target-chap-form.ts';
import './target-negotiation.ts';
import './target-portal-groups.ts';

type Section = 'map' | 'acl';

/**
 * One target: LUN mappings, who may connect (ACL), CHAP, portal groups with their ALUA states and portals, the
 * negotiation parameters, and the Connect tab.
 */
export class TargetDetail extends LitElement {
  static override properties = {
    api: { attribute: false },
    readOnly: { type: Boolean },
    targetId: { type: Number },
    tab: { type: String },
    target: { state: true },
    portals: { state: true },
    portalGroups: { state: true },
    mappings: { state: true },
    luns: { state: true },
    acls: { state: true },
    groups: { state: true },
    chap: { state: true },
    settings: { state: true },
    errors: { state: true },
    loadError: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      .head h1 {
        font-family: var(--mono);
        font-size: 1.25rem;
      }
      .grid .card {
        margin: 0;
      }
      form.inline {
        margin-top: 1rem;
      }
      .grid > .wide {
        grid-column: 1 / -1;
      }
      @media (max-width: 900px) {
        .grid {
          grid-template-columns: minmax(0, 1fr);
        }
      }
      textarea {
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
  declare portalGroups: PortalGroup[];
  declare mappings: LunMapping[];
  declare luns: Lun[];
  declare acls: TargetAcl[];
  declare groups: InitiatorGroup[];
  declare chap: ChapInfo | undefined;
  declare settings: Settings | undefined;
  declare errors: Partial<Record<Section, Record<string, string> & { _form?: string }>>;
  declare loadError: string;
  private tapiFor: ApiClient | undefined;
  private tapiCached: TargetsApi | undefined;

  /** the typed target calls over the page's client (made again if the client is replaced) */
  private get tapi(): TargetsApi {
    if (!this.tapiCached || this.tapiFor !== this.api) {
      this.tapiCached = new TargetsApi(this.api);
      this.tapiFor = this.api;
    }
    return this.tapiCached;
  }

  constructor() {
    super();
    // loads now, then every few seconds while on screen
    new Refresher(this, () => this.load());
    this.readOnly = false;
    this.tab = 'overview';
    this.target = undefined;
    this.portals = [];
    this.portalGroups = [];
    this.mappings = [];
    this.luns = [];
    this.acls = [];
    this.groups = [];
    this.chap = undefined;
    this.settings = undefined;
    this.errors = {};
    this.loadError = '';
  }

  override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('targetId') && changed.get('targetId') !== undefined) {
      this.target = undefined;
      void this.load();
    }
  }

  async load(): Promise<void> {
    const id = this.targetId;
    try {
      const [target, portals, portalGroups, mappings, luns, acls, groups, chap, settings] = await Promise.all([
        this.api.target(id),
        this.api.portals(id),
        this.tapi.portalGroups(id),
        this.api.mappings(id),
        this.api.luns(),
        this.api.acls(id),
        this.api.initiatorGroups(),
        this.api.chap(),
        this.api.settings(),
      ]);
      if (id !== this.targetId) return;
      Object.assign(this, { target, portals, portalGroups, mappings, luns, acls, groups, settings, loadError: '' });
      this.chap = chap.find((c) => c.targetId === id);
    } catch (e) {
      this.loadError = e instanceof ApiError && e.status === 404 ? `Target ${id} does not exist (deleted elsewhere?).` : errorText(e);
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
      initiators: this.acls.flatMap((a) => this.groups.find((g) => g.id === a.groupId)?.initiators ?? []),
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
      this.loadError = `Target ${t.iqn} was not deleted: ${errorText(e)}`;
    }
  }

  override render() {
    if (this.loadError && !this.target) return html`<div class="banner error" role="alert">${this.loadError}</div><a href=${routeHref({ page: 'targets' })}>Back to targets</a>`;
    const t = this.target;
    if (!t) return html`<p class="muted" aria-busy="true">Loading…</p>`;
    return html`<div class="head">
        <h1>${wrappingName(t.iqn)}</h1>
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
        : html`<div class="grid">
            ${this.renderMappings()} ${this.renderAcl()} ${this.renderChap()} ${this.renderPortals()}
            <section class="card wide" aria-label="Advanced (iSCSI negotiation)"><target-negotiation .tapi=${this.tapi}></target-negotiation></section>
          </div>`}
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
                  <td><ul class="initiators">${[...(g?.initiators ?? []), ...(g?.networks ?? [])].map((i) => html`<li class="mono">${wrappingName(i)}</li>`)}</ul></td>
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
    const id = this.targetId;
    return html`<section class="card" aria-labelledby="chap-title">
      <h2 id="chap-title">Authentication (CHAP)</h2>
      <chap-form
        .idPrefix=${'chap'}
        .noun=${'CHAP'}
        .noneMeaning=${'initiators are checked by name only'}
        .chap=${this.chap}
        .readOnly=${this.readOnly}
        .save=${(body: ChapSetting) => this.api.setTargetChap(id, body)}
        .remove=${() => this.api.deleteTargetChap(id)}
        @chap-changed=${() => this.load()}
      ></chap-form>
    </section>`;
  }

  private renderPortals() {
    return html`<section class="card" aria-labelledby="portal-title">
      <h2 id="portal-title">Portals and portal groups</h2>
      <target-portal-groups
        .tapi=${this.tapi}
        .targetId=${this.targetId}
        .groups=${this.portalGroups}
        .portals=${this.portals}
        .readOnly=${this.readOnly}
        .iscsiPort=${this.settings?.iscsiPort ?? 3260}
        @portals-changed=${() => this.load()}
      ></target-portal-groups>
    </section>`;
  }
}
customElements.define('target-detail', TargetDetail);
