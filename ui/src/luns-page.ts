import { LitElement, css, html, nothing } from 'lit';
import { ApiError, type ApiClient, type Lun, type LunMapping, type Target } from './api.ts';
import type { ConfirmDialog } from './confirm-dialog.ts';
import { field, formValues, notify } from './fields.ts';
import { errorText, formatBytes, SIZE_UNITS } from './format.ts';
import { lunFormBody } from './forms.ts';
import { PRESETS, PRESET_IDS, type PresetId } from './presets.ts';
import { sharedStyles } from './shared-styles.ts';
import { Refresher } from './refresher.ts';
import { StorageApi, type NewStorageLun, type StorageOverview } from './api-storage.ts';
import './storage-lun-panel.ts';
import { locationOptions, type LocationOption } from './storage-model.ts';

// the UI follows changes made elsewhere (CLI, another browser) within a few seconds

/**
 * Storage → LUNs: list, create (size + preset; in LVM mode in a VG or a thin pool), delete with a confirmation naming
 * what is lost; per LUN a Manage panel (storage-lun-panel.ts) for extend, snapshots, clone and schedules.
 */
export class LunsPage extends LitElement {
  static override properties = {
    api: { attribute: false },
    readOnly: { type: Boolean },
    luns: { state: true },
    mappings: { state: true },
    targets: { state: true },
    errors: { state: true },
    formError: { state: true },
    busy: { state: true },
    preset: { state: true },
    loadError: { state: true },
    actionError: { state: true },
    open: { state: true },
    locations: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      .layout {
        display: grid;
        grid-template-columns: minmax(0, 2fr) minmax(20rem, 1fr);
        gap: 1.25rem;
        align-items: start;
      }
      .size {
        display: grid;
        grid-template-columns: minmax(0, 1fr) 6rem;
        gap: 0.5rem;
        align-items: end;
      }
      .preset-why {
        font-size: 0.85rem;
        color: var(--muted);
      }
      .badge {
        display: inline-block;
        margin-left: 0.4rem;
        padding: 0.05rem 0.5rem;
        border-radius: 999px;
        font-size: 0.75rem;
        font-weight: 600;
        background: var(--surface-2);
        color: var(--muted);
        white-space: nowrap;
      }
      td .actions {
        justify-content: flex-end;
        flex-wrap: nowrap;
      }
      /* a LUN's Manage panel needs the full width: the create form moves below the table meanwhile */
      .layout.managing {
        grid-template-columns: minmax(0, 1fr);
      }
      tr.manage > td {
        background: var(--surface-2);
        padding: 1rem;
      }
    `,
  ];
  declare api: ApiClient;
  declare readOnly: boolean;
  declare luns: Lun[] | undefined;
  declare mappings: LunMapping[];
  declare targets: Target[];
  declare errors: Record<string, string>;
  declare formError: string;
  declare busy: boolean;
  declare preset: PresetId;
  declare loadError: string;
  declare actionError: string;
  /** the LUN whose Manage panel is open */
  declare open: number | undefined;
  /** where a LUN may be created: only offered when LVM is in use (file mode has the one pool) */
  declare locations: LocationOption[];
  private storage: StorageApi | undefined;

  constructor() {
    super();
    // loads now, then every few seconds while on screen
    new Refresher(this, () => this.load());
    this.readOnly = false;
    this.luns = undefined;
    this.mappings = [];
    this.targets = [];
    this.errors = {};
    this.formError = '';
    this.busy = false;
    this.preset = 'esxi';
    this.loadError = '';
    this.actionError = '';
    this.open = undefined;
    this.locations = [];
  }

  private get sapi(): StorageApi {
    this.storage ??= new StorageApi(this.api);
    return this.storage;
  }

  /** LVM's VGs and thin pools as places for a new LUN; the file pool alone needs no choice. */
  private async loadLocations(): Promise<void> {
    let overview: StorageOverview;
    try {
      overview = await this.sapi.overview();
    } catch {
      return; // an API without the storage routes: file pool only, as before
    }
    if (overview.mode !== 'lvm') {
      this.locations = [];
      return;
    }
    const [vgs, pools] = await Promise.all([this.sapi.vgs(), this.sapi.pools()]);
    this.locations = locationOptions(overview, vgs, pools);
  }

  async load(): Promise<void> {
    try {
      const [luns, mappings, targets] = await Promise.all([this.api.luns(), this.api.mappings(), this.api.targets()]);
      this.luns = luns;
      this.mappings = mappings;
      this.targets = targets;
      this.loadError = '';
      await this.loadLocations();
    } catch (e) {
      this.loadError = errorText(e);
    }
  }

  private async create(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    const form = ev.target as HTMLFormElement;
    const { body, errors } = lunFormBody(formValues(form));
    this.errors = errors;
    this.formError = '';
    if (!body) return;
    const where = formValues(form)['location'] ?? 'file';
    let full: NewStorageLun = body;
    if (where.startsWith('pool:')) {
      const [vg, pool] = where.slice(5).split('/');
      full = { ...body, backing: 'lv', vg: vg!, pool: pool! };
    } else if (where.startsWith('vg:')) full = { ...body, backing: 'lv', vg: where.slice(3) };
    this.busy = true;
    try {
      // the preset is stored with the LUN so the list can say what it was made for
      const withPreset: NewStorageLun & { preset: PresetId } = { ...full, preset: this.preset };
      const lun = await this.sapi.createStorageLun(withPreset);
      notify(this, 'ok', `LUN ${lun.name} created (${formatBytes(lun.sizeBytes)}, ${lun.blockSize}-byte blocks).`);
      form.reset();
      this.preset = 'esxi';
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

  private async deleteLun(lun: Lun): Promise<void> {
    const dialog = this.renderRoot.querySelector<ConfirmDialog>('confirm-dialog')!;
    const maps = this.mappings.filter((m) => m.lunId === lun.id);
    const targetName = (id: number) => this.targets.find((t) => t.id === id)?.iqn ?? `target ${id}`;
    const what = lun.backing === 'lv' ? 'logical volume' : 'backing file';
    const answer = await dialog.ask({
      title: `Delete LUN ${lun.name}?`,
      body: html`<p>LUN <strong>${lun.name}</strong> (${formatBytes(lun.sizeBytes)}) stops being offered to initiators.</p>
        ${maps.length > 0
          ? html`<p class="error">It is mapped to ${maps.map((m) => html`<code>${targetName(m.targetId)}</code> as LUN ${m.lun} `)}— initiators using it lose the disk immediately. Remove the mapping first.</p>`
          : nothing}
        <p>With “delete the data” checked, the ${what} <code>${lun.path}</code> and <strong>everything stored on it</strong> are destroyed${lun.backing === 'file' ? ', with its snapshots' : ''}; this cannot be undone. Unchecked, the ${what} stays.</p>`,
      confirmLabel: 'Delete LUN',
      option: { label: `Also delete the data (the ${what})`, checked: true },
      typeToConfirm: lun.name,
    });
    if (!answer) return;
    this.actionError = '';
    try {
      await this.api.deleteLun(lun.id, answer.option);
      notify(this, 'ok', `LUN ${lun.name} deleted${answer.option ? ' with its data' : `; its ${what} was kept`}.`);
      await this.load();
    } catch (e) {
      this.actionError = `LUN ${lun.name} was not deleted: ${errorText(e)}`;
    }
  }

  override render() {
    return html`<h1>Storage</h1>
      ${this.loadError ? html`<div class="banner error" role="alert">${this.loadError}</div>` : nothing}
      ${this.actionError ? html`<div class="banner error" role="alert" id="luns-action-error">${this.actionError}</div>` : nothing}
      <div class="layout ${this.open !== undefined && this.luns?.some((l) => l.id === this.open) ? 'managing' : ''}">
        <section class="card" aria-labelledby="luns-title">
          <h2 id="luns-title">LUNs</h2>
          ${this.renderTable()}
        </section>
        ${this.readOnly ? html`<section class="card"><p class="muted">You have read-only access.</p></section>` : this.renderForm()}
      </div>
      <confirm-dialog></confirm-dialog>`;
  }

  private renderTable() {
    if (this.luns === undefined) return html`<p class="empty" aria-busy="true">Loading…</p>`;
    if (this.luns.length === 0) return html`<p class="empty">No LUNs yet. Create one with the form.</p>`;
    const mapped = (id: number) => this.mappings.filter((m) => m.lunId === id).length;
    return html`<table>
      <thead>
        <tr><th scope="col">Name</th><th scope="col" class="num">Size</th><th scope="col" class="num">Block</th><th scope="col">Backing</th><th scope="col">Targets</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr>
      </thead>
      <tbody>
        ${this.luns.map(
          (l) => html`<tr data-lun=${l.name}>
            <th scope="row">${l.name}${l.preset ? html`<span class="badge" data-preset=${l.preset} title="Set up for this initiator (preset)">${PRESETS[l.preset].label}</span>` : nothing}</th>
            <td class="num">${formatBytes(l.sizeBytes)}</td>
            <td class="num">${l.blockSize}</td>
            <td><span class="mono" title=${l.path}>${l.backing === 'lv' ? `LV ${l.path.replace(/^\/dev\//, '')}` : l.backing}</span>${l.readOnly ? html` <span class="muted">(read-only)</span>` : nothing}</td>
            <td>${mapped(l.id) || html`<span class="muted">not mapped</span>`}</td>
            <td><div class="actions">
              <button type="button" aria-expanded=${this.open === l.id ? 'true' : 'false'} aria-controls=${`manage-${l.id}`} aria-label=${`${this.readOnly ? 'Snapshots of' : 'Manage'} LUN ${l.name}`} @click=${() => (this.open = this.open === l.id ? undefined : l.id)}>${this.readOnly ? 'Snapshots' : 'Manage'}</button>
              ${this.readOnly ? nothing : html`<button type="button" class="danger" aria-label=${`Delete LUN ${l.name}`} @click=${() => this.deleteLun(l)}>Delete</button>`}
            </div></td>
          </tr>
          ${this.open === l.id
            ? html`<tr class="manage" id=${`manage-${l.id}`}><td colspan="6"><lun-manage-panel .api=${this.api} .lun=${l} .readOnly=${this.readOnly} @lun-changed=${() => this.load()}></lun-manage-panel></td></tr>`
            : nothing}`,
        )}
      </tbody>
    </table>`;
  }

  private renderForm() {
    const p = PRESETS[this.preset];
    return html`<section class="card" aria-labelledby="new-lun-title">
      <h2 id="new-lun-title">New LUN</h2>
      ${this.formError ? html`<div class="banner error" role="alert">${this.formError}</div>` : nothing}
      <form @submit=${this.create} novalidate aria-labelledby="new-lun-title">
        ${field({ name: 'name', label: 'Name', placeholder: 'vmfs01', hint: 'A file of this name in the storage pool.', error: this.errors['name'], autocomplete: 'off', required: true }, 'lun')}
        <div class="size">
          ${field({ name: 'size', label: 'Size', type: 'number', min: 1, step: 'any', placeholder: '100', error: this.errors['sizeBytes'], required: true }, 'lun')}
          <div class="field">
            <label for="lun-unit">Unit</label>
            <select id="lun-unit" name="unit">
              ${Object.keys(SIZE_UNITS).map((u) => html`<option ?selected=${u === 'GiB'}>${u}</option>`)}
            </select>
          </div>
        </div>
        <div class="field">
          <label for="lun-preset">Used by</label>
          <select id="lun-preset" name="preset" aria-describedby="lun-preset-why" @change=${(e: Event) => (this.preset = (e.target as HTMLSelectElement).value as PresetId)}>
            ${PRESET_IDS.map((id) => html`<option value=${id} ?selected=${id === this.preset}>${PRESETS[id].label}</option>`)}
          </select>
          <div class="preset-why" id="lun-preset-why">${p.blockSize}-byte blocks, ${p.writeCache}. ${p.why}</div>
        </div>
        ${this.errors['blockSize'] ? html`<div class="error" role="alert">${this.errors['blockSize']}</div>` : nothing}
        ${this.locations.length
          ? html`<div class="field">
              <label for="lun-location">Stored in</label>
              <select id="lun-location" name="location" aria-describedby="lun-location-hint">
                ${this.locations.map((o) => html`<option value=${o.key}>${o.label}</option>`)}
              </select>
              <div class="hint" id="lun-location-hint">A thin pool allocates space as it is written; a volume group reserves the full size now.</div>
              ${this.errors['vg'] || this.errors['pool'] ? html`<div class="error" role="alert">${this.errors['vg'] ?? this.errors['pool']}</div>` : nothing}
            </div>`
          : nothing}
        <div class="actions"><button class="primary" type="submit" ?disabled=${this.busy}>${this.busy ? 'Creating…' : 'Create LUN'}</button></div>
      </form>
    </section>`;
  }
}
customElements.define('luns-page', LunsPage);
