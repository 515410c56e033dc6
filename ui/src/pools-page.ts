import { LitElement, css, html, nothing } from 'lit';
import { ApiError, type ApiClient } from './api.ts';
import { StorageApi, type Disk, type PhysicalVolume, type StorageOverview, type ThinPool, type VolumeGroup } from './api-storage.ts';
import type { ConfirmDialog } from './confirm-dialog.ts';
import { field, formValues, notify } from './fields.ts';
import { errorText, formatBytes, parseSize, SIZE_UNITS, type SizeUnit } from './format.ts';
import { Refresher } from './refresher.ts';
import { sharedStyles } from './shared-styles.ts';
import { diskOffer, filePoolUsage, freePvDevices, vgNameProblem } from './storage-model.ts';
import { usageBar, usageBarStyles } from './storage-usage-bar.ts';


/**
 * Disks & pools: the storage under the LUNs. In file mode the file pool (path, size, free, usage against the soft
 * threshold); in LVM mode the disk inventory (system disk shown, never offered; "Initialize as PV" with a typed
 * confirmation when the disk has signatures), volume groups (create from free PVs, extend, remove) and thin pools
 * (create, extend, data/metadata usage with the warning threshold marked, overcommit).
 */
export class PoolsPage extends LitElement {
  static override properties = {
    api: { attribute: false },
    readOnly: { type: Boolean },
    overview: { state: true },
    disks: { state: true },
    disksError: { state: true },
    pvs: { state: true },
    pools: { state: true },
    errors: { state: true },
    loadError: { state: true },
    busy: { state: true },
    extending: { state: true },
  };
  static override styles = [
    sharedStyles,
    usageBarStyles,
    css`
      .grid > .card {
        margin: 0;
      }
      .wide {
        grid-column: 1 / -1;
      }
      section > h3 {
        margin-top: 1.25rem;
      }
      dl.facts {
        gap: 0.3rem 1rem;
        margin: 0 0 0.75rem;
      }
      fieldset {
        border: 1px solid var(--border);
        border-radius: var(--radius);
        padding: 0.5rem 0.8rem;
        margin: 0;
        flex: 1 1 100%;
      }
      legend {
        font-weight: 600;
        font-size: 0.9rem;
      }
      fieldset label {
        display: flex;
        gap: 0.4rem;
        align-items: center;
      }
      .tag {
        font-size: 0.75rem;
        border: 1px solid var(--border);
        border-radius: 999px;
        padding: 0 0.45rem;
        white-space: nowrap;
      }
      .tag.bad {
        color: var(--danger);
        border-color: var(--danger);
      }
      .tag.good {
        color: var(--ok);
        border-color: var(--ok);
      }
      tr.system th,
      tr.system td {
        color: var(--muted);
      }
      td .actions {
        justify-content: flex-end;
        flex-wrap: nowrap;
      }
      .pool {
        border: 1px solid var(--border);
        border-radius: var(--radius);
        padding: 0.9rem 1rem;
        margin-bottom: 0.9rem;
        background: var(--bg);
      }
      .pool h3 {
        display: flex;
        justify-content: space-between;
        gap: 1rem;
      }
      .over {
        color: var(--danger);
        font-weight: 600;
      }
      @media (max-width: 1100px) {
        .grid {
          grid-template-columns: minmax(0, 1fr);
        }
      }
    `,
  ];
  declare api: ApiClient;
  declare readOnly: boolean;
  declare overview: StorageOverview | undefined;
  declare disks: Disk[] | undefined;
  declare disksError: string;
  declare pvs: PhysicalVolume[];
  declare pools: ThinPool[];
  declare errors: Record<string, string>;
  declare loadError: string;
  declare busy: string;
  /** the VG or pool whose extend form is open */
  declare extending: string;
  private storage: StorageApi | undefined;

  constructor() {
    super();
    new Refresher(this, () => this.load());
    this.readOnly = false;
    this.overview = undefined;
    this.disks = undefined;
    this.disksError = '';
    this.pvs = [];
    this.pools = [];
    this.errors = {};
    this.loadError = '';
    this.busy = '';
    this.extending = '';
  }

  private get sapi(): StorageApi {
    this.storage ??= new StorageApi(this.api);
    return this.storage;
  }

  async load(): Promise<void> {
    try {
      const overview = await this.sapi.overview();
      if (overview.mode === 'lvm') {
        const [disks, pvs, pools] = await Promise.all([this.sapi.disks().catch((e: unknown) => e), this.sapi.pvs(), this.sapi.pools()]);
        this.pvs = pvs;
        this.pools = pools;
        this.setDisks(disks);
      } else {
        // file mode: the API says why disks cannot be managed (and how to switch); show its words
        this.setDisks(await this.sapi.disks().catch((e: unknown) => e));
        this.pvs = [];
        this.pools = [];
      }
      this.overview = overview;
      this.loadError = '';
    } catch (e) {
      this.loadError = errorText(e);
    }
  }

  private setDisks(d: unknown): void {
    if (Array.isArray(d)) {
      this.disks = d as Disk[];
      this.disksError = '';
    } else {
      this.disks = [];
      this.disksError = errorText(d);
    }
  }

  private dialog(): ConfirmDialog {
    return this.renderRoot.querySelector<ConfirmDialog>('confirm-dialog')!;
  }

  /** Runs a change; API field messages land next to the inputs named in `fields`, anything else under `key`. */
  private async act(key: string, fields: Record<string, string>, fn: () => Promise<void>): Promise<void> {
    this.busy = key;
    try {
      await fn();
      await this.load();
    } catch (e) {
      const errs: Record<string, string> = {};
      if (e instanceof ApiError) for (const [f, m] of Object.entries(e.byField())) if (fields[f]) errs[fields[f]] = m;
      if (Object.keys(errs).length === 0) errs[key] = errorText(e);
      this.errors = { ...this.errors, ...errs };
    } finally {
      this.busy = '';
    }
  }

  private async initDisk(d: Disk): Promise<void> {
    const offer = diskOffer(d);
    const answer = await this.dialog().ask({
      title: `Initialize ${d.path} as an LVM physical volume?`,
      body: offer.needsWipe
        ? html`<p class="error"><strong>${d.path}</strong> (${formatBytes(d.size)}${d.model ? `, ${d.model}` : ''}) is not empty: it has ${d.signatures.join(', ')}.</p>
            <p>Initializing <strong>erases those signatures and everything on the disk</strong> (partitions, file systems, data). This cannot be undone.</p>`
        : html`<p><strong>${d.path}</strong> (${formatBytes(d.size)}${d.model ? `, ${d.model}` : ''}) gets an LVM label so a volume group can use it. The disk shows no existing data.</p>`,
      confirmLabel: offer.needsWipe ? 'Erase and initialize' : 'Initialize',
      ...(offer.needsWipe ? { typeToConfirm: d.path } : {}),
    });
    if (!answer) return;
    this.errors = {};
    await this.act(`disk-${d.path}`, {}, async () => {
      await this.sapi.createPv(d.path, offer.needsWipe);
      notify(this, 'ok', `${d.path} is now a physical volume; create or extend a volume group with it.`);
    });
  }

  private async removePv(pv: PhysicalVolume): Promise<void> {
    const answer = await this.dialog().ask({
      title: `Remove the LVM label from ${pv.name}?`,
      body: html`<p>${pv.name} stops being a physical volume; it is in no volume group, so no data is lost.</p>`,
      confirmLabel: 'Remove label',
    });
    if (!answer) return;
    this.errors = {};
    await this.act(`pv-${pv.name}`, {}, async () => {
      await this.sapi.removePv(pv.name);
      notify(this, 'ok', `${pv.name} is no longer a physical volume.`);
    });
  }

  private async createVg(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    const form = ev.target as HTMLFormElement;
    const name = (formValues(form)['vgName'] ?? '').trim();
    const devices = new FormData(form).getAll('devices').map(String);
    const errors: Record<string, string> = {};
    const p = vgNameProblem(name);
    if (p) errors['vgName'] = p;
    if (devices.length === 0) errors['devices'] = 'choose at least one free physical volume';
    this.errors = errors;
    if (Object.keys(errors).length) return;
    await this.act('vg-create', { name: 'vgName', devices: 'devices' }, async () => {
      const vg = await this.sapi.createVg(name, devices);
      notify(this, 'ok', `Volume group ${vg.name} created (${formatBytes(vg.size)}).`);
      form.reset();
    });
  }

  private async extendVg(ev: SubmitEvent, vg: VolumeGroup): Promise<void> {
    ev.preventDefault();
    const devices = new FormData(ev.target as HTMLFormElement).getAll('devices').map(String);
    this.errors = devices.length ? {} : { [`vg-${vg.name}-devices`]: 'choose at least one free physical volume' };
    if (!devices.length) return;
    await this.act(`vg-${vg.name}`, { addDevices: `vg-${vg.name}-devices` }, async () => {
      const out = await this.sapi.updateVg(vg.name, { addDevices: devices });
      notify(this, 'ok', `Volume group ${out.name} is now ${formatBytes(out.size)}.`);
      this.extending = '';
    });
  }

  private async removeVg(vg: VolumeGroup): Promise<void> {
    const answer = await this.dialog().ask({
      title: `Remove volume group ${vg.name}?`,
      body: html`<p>Volume group <strong>${vg.name}</strong> (${formatBytes(vg.size)}, ${vg.pvCount} disk(s)) is removed; its disks stay physical volumes you can reuse.</p>
        ${vg.lvCount ? html`<p class="error">It still holds ${vg.lvCount} logical volume(s): LVM refuses until they are gone.</p>` : nothing}`,
      confirmLabel: 'Remove volume group',
      typeToConfirm: vg.name,
    });
    if (!answer) return;
    this.errors = {};
    await this.act(`vg-${vg.name}`, {}, async () => {
      await this.sapi.removeVg(vg.name);
      notify(this, 'ok', `Volume group ${vg.name} removed.`);
    });
  }

  private sizeFrom(v: Record<string, string>, amount: string, unit: string, optional = false): { bytes?: number; error?: string } {
    if (optional && !(v[amount] ?? '').trim()) return {};
    const s = parseSize(v[amount] ?? '', ((v[unit] ?? 'GiB') in SIZE_UNITS ? v[unit] : 'GiB') as SizeUnit);
    return 'error' in s ? { error: s.error } : { bytes: s.bytes };
  }

  private async createPool(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    const form = ev.target as HTMLFormElement;
    const v = formValues(form);
    const errors: Record<string, string> = {};
    const name = (v['poolName'] ?? '').trim();
    const p = vgNameProblem(name);
    if (p) errors['poolName'] = p;
    if (!v['vg']) errors['poolVg'] = 'choose a volume group';
    const size = this.sizeFrom(v, 'poolSize', 'poolUnit');
    if (size.error) errors['poolSize'] = size.error;
    const meta = this.sizeFrom(v, 'poolMeta', 'poolUnit', true);
    if (meta.error) errors['poolMeta'] = meta.error;
    this.errors = errors;
    if (Object.keys(errors).length) return;
    await this.act('pool-create', { name: 'poolName', vg: 'poolVg', sizeBytes: 'poolSize', metadataBytes: 'poolMeta' }, async () => {
      const pool = await this.sapi.createPool(v['vg']!, name, size.bytes!, meta.bytes);
      notify(this, 'ok', `Thin pool ${pool.vg}/${pool.name} created (${formatBytes(pool.sizeBytes)}).`);
      form.reset();
    });
  }

  private async extendPool(ev: SubmitEvent, pool: ThinPool): Promise<void> {
    ev.preventDefault();
    const key = `pool-${pool.vg}/${pool.name}`;
    const v = formValues(ev.target as HTMLFormElement);
    const data = this.sizeFrom(v, 'size', 'unit', true);
    const meta = this.sizeFrom(v, 'meta', 'unit', true);
    const errors: Record<string, string> = {};
    if (data.error) errors[`${key}-size`] = data.error;
    else if (data.bytes !== undefined && data.bytes <= pool.sizeBytes) errors[`${key}-size`] = `must be larger than the current ${formatBytes(pool.sizeBytes)}`;
    if (meta.error) errors[`${key}-meta`] = meta.error;
    else if (meta.bytes !== undefined && pool.metadataBytes !== null && meta.bytes <= pool.metadataBytes) errors[`${key}-meta`] = `must be larger than the current ${formatBytes(pool.metadataBytes)}`;
    if (!errors[`${key}-size`] && !errors[`${key}-meta`] && data.bytes === undefined && meta.bytes === undefined) errors[`${key}-size`] = 'give a new data size, a new metadata size, or both';
    this.errors = errors;
    if (Object.keys(errors).length) return;
    await this.act(key, { sizeBytes: `${key}-size`, metadataBytes: `${key}-meta` }, async () => {
      const out = await this.sapi.extendPool(pool.vg, pool.name, { ...(data.bytes ? { sizeBytes: data.bytes } : {}), ...(meta.bytes ? { metadataBytes: meta.bytes } : {}) });
      notify(this, 'ok', `Thin pool ${out.vg}/${out.name} is now ${formatBytes(out.sizeBytes)}${out.metadataBytes ? ` with ${formatBytes(out.metadataBytes)} of metadata` : ''}.`);
      this.extending = '';
    });
  }

  private err(key: string) {
    return this.errors[key] ? html`<div class="error" role="alert" id=${`err-${key.replace(/[^A-Za-z0-9-]/g, '-')}`}>${this.errors[key]}</div>` : nothing;
  }

  override render() {
    const o = this.overview;
    return html`<h1>Disks &amp; pools</h1>
      ${this.loadError ? html`<div class="banner error" role="alert">${this.loadError}</div>` : nothing}
      ${o === undefined
        ? this.loadError
          ? nothing
          : html`<p class="empty" aria-busy="true">Loading…</p>`
        : o.mode === 'lvm'
          ? html`<div class="grid">${this.renderVgs(o)}${this.renderPools(o)}${this.renderDisks(o)}${this.renderFilePool(o)}</div>`
          : html`<div class="grid">${this.renderFilePool(o)}${this.renderDisks(o)}</div>`}
      <confirm-dialog></confirm-dialog>`;
  }

  private renderFilePool(o: StorageOverview) {
    const fp = o.filePool;
    const u = filePoolUsage(fp);
    return html`<section class="card wide" aria-labelledby="fp-title" id="file-pool">
      <h2 id="fp-title">File pool</h2>
      ${o.mode === 'file'
        ? html`<div class="banner info" id="storage-mode-note">
            LUNs are stored as sparse files in this pool (a LUN only uses the space written to it). <strong>LVM — volume groups and thin pools — appears here when disks are initialized</strong> as physical volumes: the service uses LVM when a volume group exists at start (or when started with <code>--storage lvm</code>).
          </div>`
        : html`<p class="muted">Storage is in LVM mode; LUNs made before stay in this pool and keep working.</p>`}
      <dl class="facts">
        <dt>Path</dt><dd><code id="fp-path">${fp.path}</code></dd>
        <dt>Size</dt><dd id="fp-size">${formatBytes(fp.sizeBytes)}</dd>
        <dt>Free</dt><dd id="fp-free">${formatBytes(fp.freeBytes)}</dd>
      </dl>
      ${usageBar({ id: 'fp-usage', label: 'Used', percent: u.percent, threshold: o.softThresholdPercent, detail: `${formatBytes(u.usedBytes)} of ${formatBytes(fp.sizeBytes)}` })}
      <p class="muted">From ${o.softThresholdPercent} % full, initiators get a thin-provisioning warning (SBC-4 soft threshold unit attention) so they can act before writes fail.</p>
    </section>`;
  }

  private renderDisks(o: StorageOverview) {
    const disks = this.disks;
    return html`<section class="card wide" aria-labelledby="disks-title">
      <h2 id="disks-title">Disks</h2>
      ${o.mode === 'file' && !this.disksError
        ? html`<p class="muted" id="disks-unavailable">Disks are initialized and grouped in LVM mode: start the service with <code>openlun serve --storage lvm</code> (it also starts in LVM mode by itself once a volume group exists). Until then LUNs live in the file pool above.</p>`
        : nothing}
      ${this.disksError
        ? html`<p class="muted" id="disks-unavailable">${this.disksError}</p>`
        : disks === undefined
          ? html`<p class="empty" aria-busy="true">Loading…</p>`
          : disks.length === 0
            ? o.mode === 'file'
              ? nothing
              : html`<p class="empty">No disks found.</p>`
            : html`<table id="disks">
                <thead>
                  <tr><th scope="col">Device</th><th scope="col" class="num">Size</th><th scope="col">Model</th><th scope="col">Type</th><th scope="col">Signatures</th><th scope="col">SMART</th><th scope="col">State</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr>
                </thead>
                <tbody>
                  ${disks.map((d) => this.renderDisk(d, o))}
                </tbody>
              </table>`}
      ${this.renderFreePvs()}
    </section>`;
  }

  private renderDisk(d: Disk, o: StorageOverview) {
    const offer = diskOffer(d);
    const state = d.system
      ? html`<span class="tag">system disk</span>`
      : d.isPv
        ? html`<span class="tag good">physical volume${this.pvs.find((p) => p.name === d.path)?.vg ? ` in ${this.pvs.find((p) => p.name === d.path)!.vg}` : ''}</span>`
        : offer.selectable
          ? html`<span class="tag good">free</span>`
          : html`<span class="tag bad">in use</span>`;
    const smart = d.smart ? (d.smart.passed === false ? html`<span class="tag bad">FAILING</span>` : d.smart.passed ? html`<span class="tag good">passed</span>` : html`<span class="muted">unknown</span>`) : html`<span class="muted">—</span>`;
    return html`<tr data-disk=${d.path} class=${d.system ? 'system' : ''}>
      <th scope="row"><span class="mono">${d.path}</span></th>
      <td class="num">${formatBytes(d.size)}</td>
      <td>${d.model ?? html`<span class="muted">—</span>`}${d.serial ? html`<div class="muted mono">${d.serial}</div>` : nothing}</td>
      <td>${d.rotational ? 'HDD' : 'SSD'}${d.transport ? html` <span class="muted">(${d.transport})</span>` : nothing}</td>
      <td>${d.signatures.length ? d.signatures.join(', ') : html`<span class="muted">none</span>`}</td>
      <td>${smart}${d.smart?.temperatureC != null ? html` <span class="muted">${d.smart.temperatureC} °C</span>` : nothing}</td>
      <td>${state}${!offer.selectable && offer.reason && !d.isPv ? html`<div class="muted">${offer.reason}</div>` : nothing}${this.err(`disk-${d.path}`)}</td>
      <td><div class="actions">
        ${this.readOnly || o.mode !== 'lvm' || !offer.selectable
          ? nothing
          : html`<button type="button" aria-label=${`Initialize ${d.path} as PV`} ?disabled=${this.busy === `disk-${d.path}`} @click=${() => this.initDisk(d)}>Initialize as PV</button>`}
      </div></td>
    </tr>`;
  }

  private renderFreePvs() {
    const free = this.pvs.filter((p) => !p.vg);
    if (!free.length || this.readOnly) return nothing;
    return html`<h3>Free physical volumes</h3>
      <ul>${free.map((p) => html`<li><span class="mono">${p.name}</span> (${formatBytes(p.size)}) <button type="button" class="danger" aria-label=${`Remove the LVM label from ${p.name}`} @click=${() => this.removePv(p)}>Remove label</button>${this.err(`pv-${p.name}`)}</li>`)}</ul>`;
  }

  private pvChoices(name: string, errKey: string) {
    const free = freePvDevices(this.pvs);
    return html`<fieldset aria-describedby=${this.errors[errKey] ? `err-${errKey.replace(/[^A-Za-z0-9-]/g, '-')}` : nothing}>
      <legend>Physical volumes</legend>
      ${free.length
        ? free.map((dev) => html`<label><input type="checkbox" name=${name} value=${dev} />${dev} (${formatBytes(this.pvs.find((p) => p.name === dev)?.size ?? 0)})</label>`)
        : html`<p class="muted">No free physical volume: initialize a disk first.</p>`}
      ${this.err(errKey)}
    </fieldset>`;
  }

  private renderVgs(o: StorageOverview) {
    return html`<section class="card" aria-labelledby="vgs-title">
      <h2 id="vgs-title">Volume groups</h2>
      ${o.vgs.length === 0
        ? html`<p class="empty">No volume group yet.</p>`
        : html`<table id="vgs">
            <thead><tr><th scope="col">Name</th><th scope="col" class="num">Size</th><th scope="col" class="num">Free</th><th scope="col" class="num">Disks</th><th scope="col">LUNs</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
              ${o.vgs.map(
                (vg) => html`<tr data-vg=${vg.name}>
                    <th scope="row">${vg.name}${vg.partial ? html` <span class="tag bad">missing disk</span>` : nothing}</th>
                    <td class="num">${formatBytes(vg.size)}</td>
                    <td class="num">${formatBytes(vg.free)}</td>
                    <td class="num">${vg.pvCount}</td>
                    <td>${vg.luns.length ? vg.luns.join(', ') : html`<span class="muted">none</span>`}</td>
                    <td><div class="actions">
                      ${this.readOnly
                        ? nothing
                        : html`<button type="button" aria-expanded=${this.extending === `vg-${vg.name}` ? 'true' : 'false'} aria-label=${`Extend volume group ${vg.name}`} @click=${() => (this.extending = this.extending === `vg-${vg.name}` ? '' : `vg-${vg.name}`)}>Extend</button>
                            <button type="button" class="danger" aria-label=${`Remove volume group ${vg.name}`} ?disabled=${vg.luns.length > 0} title=${vg.luns.length ? `holds LUNs: ${vg.luns.join(', ')}` : ''} @click=${() => this.removeVg(vg)}>Remove</button>`}
                    </div></td>
                  </tr>
                  ${this.extending === `vg-${vg.name}`
                    ? html`<tr><td colspan="6"><form class="inline" @submit=${(e: SubmitEvent) => this.extendVg(e, vg)} novalidate aria-label=${`Extend ${vg.name}`}>
                        ${this.pvChoices('devices', `vg-${vg.name}-devices`)}
                        <button type="submit" class="primary" ?disabled=${this.busy === `vg-${vg.name}`}>Add to ${vg.name}</button>
                      </form></td></tr>`
                    : nothing}
                  ${this.errors[`vg-${vg.name}`] ? html`<tr><td colspan="6">${this.err(`vg-${vg.name}`)}</td></tr>` : nothing}`,
              )}
            </tbody>
          </table>`}
      ${this.readOnly
        ? nothing
        : html`<h3>New volume group</h3>
            <form class="inline" @submit=${this.createVg} novalidate aria-label="New volume group">
              ${field({ name: 'vgName', label: 'Volume group name', placeholder: 'vg0', autocomplete: 'off', error: this.errors['vgName'] }, 'vg')}
              ${this.pvChoices('devices', 'devices')}
              <button type="submit" class="primary" ?disabled=${this.busy === 'vg-create' || freePvDevices(this.pvs).length === 0}>Create volume group</button>
            </form>
            ${this.err('vg-create')}`}
    </section>`;
  }

  private renderPools(o: StorageOverview) {
    return html`<section class="card" aria-labelledby="pools-title">
      <h2 id="pools-title">Thin pools</h2>
      ${this.pools.length === 0 ? html`<p class="empty">No thin pool yet. A thin pool lets LUNs take space only as it is written (and be larger, together, than the pool).</p>` : nothing}
      ${this.pools.map((p) => this.renderPool(p))}
      ${this.readOnly || o.vgs.length === 0
        ? nothing
        : html`<h3>New thin pool</h3>
            <form class="inline" @submit=${this.createPool} novalidate aria-label="New thin pool">
              <div class="field">
                <label for="pool-vg">In volume group</label>
                <select id="pool-vg" name="vg">${o.vgs.map((vg) => html`<option value=${vg.name}>${vg.name} (${formatBytes(vg.free)} free)</option>`)}</select>
                ${this.err('poolVg')}
              </div>
              ${field({ name: 'poolName', label: 'Pool name', placeholder: 'thin0', autocomplete: 'off', error: this.errors['poolName'] }, 'pool')}
              ${field({ name: 'poolSize', label: 'Data size', type: 'number', min: 1, step: 'any', placeholder: '500', error: this.errors['poolSize'] }, 'pool')}
              ${field({ name: 'poolMeta', label: 'Metadata (optional)', type: 'number', min: 0, step: 'any', placeholder: 'auto', error: this.errors['poolMeta'] }, 'pool')}
              <div class="field narrow"><label for="pool-unit">Unit</label><select id="pool-unit" name="poolUnit">${Object.keys(SIZE_UNITS).map((u) => html`<option ?selected=${u === 'GiB'}>${u}</option>`)}</select></div>
              <button type="submit" class="primary" ?disabled=${this.busy === 'pool-create'}>Create thin pool</button>
            </form>
            ${this.err('pool-create')}`}
    </section>`;
  }

  private renderPool(p: ThinPool) {
    const key = `pool-${p.vg}/${p.name}`;
    const over = p.overcommit > 1;
    return html`<div class="pool" data-pool=${`${p.vg}/${p.name}`}>
      <h3><span>${p.vg}/${p.name}</span><span class="muted">${formatBytes(p.sizeBytes)}</span></h3>
      ${usageBar({ id: `${p.vg}-${p.name}-data`, label: 'Data', percent: p.dataPercent, threshold: p.thresholds.data, detail: `${formatBytes(p.usedBytes)} of ${formatBytes(p.sizeBytes)}` })}
      ${usageBar({ id: `${p.vg}-${p.name}-meta`, label: 'Metadata', percent: p.metadataPercent, threshold: p.thresholds.metadata, detail: p.metadataBytes ? formatBytes(p.metadataBytes) : '' })}
      <p class=${over ? 'over' : 'muted'}>
        ${p.thinVolumes.length} thin LUN(s) promise ${formatBytes(p.virtualBytes)}: ${(p.overcommit * 100).toFixed(0)} % of the pool${over ? ' — overcommitted: writes fail for every LUN in it if the pool fills; extend it before it does.' : '.'}
      </p>
      ${this.readOnly
        ? nothing
        : this.extending === key
          ? html`<form class="inline" @submit=${(e: SubmitEvent) => this.extendPool(e, p)} novalidate aria-label=${`Extend thin pool ${p.vg}/${p.name}`}>
              ${field({ name: 'size', label: 'New data size', type: 'number', min: 1, step: 'any', error: this.errors[`${key}-size`] }, key.replace(/[^A-Za-z0-9-]/g, '-'))}
              ${field({ name: 'meta', label: 'New metadata size', type: 'number', min: 1, step: 'any', error: this.errors[`${key}-meta`] }, key.replace(/[^A-Za-z0-9-]/g, '-'))}
              <div class="field narrow"><label for=${`${key.replace(/[^A-Za-z0-9-]/g, '-')}-unit`}>Unit</label><select id=${`${key.replace(/[^A-Za-z0-9-]/g, '-')}-unit`} name="unit">${Object.keys(SIZE_UNITS).map((u) => html`<option ?selected=${u === 'GiB'}>${u}</option>`)}</select></div>
              <button type="submit" class="primary" ?disabled=${this.busy === key}>Extend</button>
              <button type="button" @click=${() => (this.extending = '')}>Cancel</button>
            </form>`
          : html`<button type="button" aria-label=${`Extend thin pool ${p.vg}/${p.name}`} @click=${() => ((this.extending = key), (this.errors = {}))}>Extend…</button>`}
      ${this.err(key)}
    </div>`;
  }
}
customElements.define('pools-page', PoolsPage);
