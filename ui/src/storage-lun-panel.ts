import { LitElement, css, html, nothing } from 'lit';
import { ApiError, type ApiClient, type Lun } from './api.ts';
import { StorageApi, type Snapshot, type SnapshotSchedule } from './api-storage.ts';
import type { ConfirmDialog } from './confirm-dialog.ts';
import './confirm-dialog.ts';
import { field, formValues, notify } from './fields.ts';
import { errorText, formatBytes, parseSize, SIZE_UNITS, type SizeUnit } from './format.ts';
import { Refresher } from './refresher.ts';
import { sharedStyles } from './shared-styles.ts';
import { defaultSnapshotName, extendProblem, extendSuggestion, scheduleFormBody, scheduleLabel, snapshotNameProblem } from './storage-model.ts';

const when = (t: Snapshot['createdAt']) => (t === null || t === undefined ? '—' : new Date(t).toLocaleString());

/**
 * One LUN's storage actions: extend online, snapshots (take, roll back, clone into a new LUN, delete) and snapshot
 * schedules with retention. Opened from a row of the LUNs table; says `lun-changed` when the LUN list should reload.
 */
export class LunManagePanel extends LitElement {
  static override properties = {
    api: { attribute: false },
    lun: { attribute: false },
    readOnly: { type: Boolean },
    snapshots: { state: true },
    schedules: { state: true },
    errors: { state: true },
    cloning: { state: true },
    busy: { state: true },
    loadError: { state: true },
    scheduleEvery: { state: true },
    thick: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      .grid {
        display: grid;
        grid-template-columns: minmax(16rem, 1fr) minmax(0, 2fr);
        gap: 1.25rem;
        align-items: start;
      }
      .box {
        border: 1px solid var(--border);
        border-radius: var(--radius);
        padding: 1rem;
        background: var(--bg);
        min-width: 0;
      }
      .box + .box {
        margin-top: 1rem;
      }
      form.inline {
        margin-top: 0;
      }
      .hint {
        color: var(--muted);
        font-size: 0.85rem;
      }
      td .actions {
        justify-content: flex-end;
        flex-wrap: nowrap;
      }
      td,
      th {
        padding: 0.35rem 0.5rem;
      }
      .tag {
        font-size: 0.75rem;
        border: 1px solid var(--border);
        border-radius: 999px;
        padding: 0 0.45rem;
        color: var(--muted);
      }
      @media (max-width: 1100px) {
        .grid {
          grid-template-columns: minmax(0, 1fr);
        }
      }
    `,
  ];
  declare api: ApiClient;
  declare lun: Lun;
  declare readOnly: boolean;
  declare snapshots: Snapshot[] | undefined;
  declare schedules: SnapshotSchedule[];
  declare errors: Record<string, string>;
  declare cloning: string;
  declare busy: string;
  declare loadError: string;
  declare scheduleEvery: string;
  /** an LV LUN on a linear (thick) LV: its snapshots need their own space for changes (copy-on-write) */
  declare thick: boolean;
  private storage: StorageApi | undefined;

  constructor() {
    super();
    new Refresher(this, () => this.load());
    this.readOnly = false;
    this.snapshots = undefined;
    this.schedules = [];
    this.errors = {};
    this.cloning = '';
    this.busy = '';
    this.loadError = '';
    this.scheduleEvery = 'daily';
    this.thick = false;
  }

  private get sapi(): StorageApi {
    this.storage ??= new StorageApi(this.api);
    return this.storage;
  }

  async load(): Promise<void> {
    try {
      const [snapshots, schedules] = await Promise.all([this.sapi.snapshots(this.lun.id), this.sapi.schedules()]);
      this.snapshots = snapshots;
      this.schedules = schedules.filter((s) => s.lunId === this.lun.id);
      if (this.lun.backing === 'lv') {
        const vg = /^\/dev\/([^/]+)\//.exec(this.lun.path)?.[1];
        const lv = vg ? (await this.sapi.lvs(vg)).find((l) => l.lunId === this.lun.id) : undefined;
        this.thick = lv !== undefined && lv.kind !== 'thin' && lv.kind !== 'thin-snapshot';
      }
      this.loadError = '';
    } catch (e) {
      this.loadError = `Snapshots of ${this.lun.name} could not be read: ${errorText(e)}`;
    }
  }

  private changed(): void {
    this.dispatchEvent(new CustomEvent('lun-changed', { bubbles: true, composed: true }));
  }

  private dialog(): ConfirmDialog {
    return this.renderRoot.querySelector<ConfirmDialog>('confirm-dialog')!;
  }

  /** Runs one action with its button disabled; API field messages go next to `fields` (by API field name). */
  private async act(key: string, fields: Record<string, string>, fn: () => Promise<void>): Promise<void> {
    this.busy = key;
    try {
      await fn();
    } catch (e) {
      const errs: Record<string, string> = {};
      if (e instanceof ApiError) {
        for (const [f, m] of Object.entries(e.byField())) if (fields[f]) errs[fields[f]] = m;
      }
      if (Object.keys(errs).length === 0) errs[`${key}-form`] = errorText(e);
      this.errors = { ...this.errors, ...errs };
    } finally {
      this.busy = '';
    }
  }

  private async extend(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    const v = formValues(ev.target as HTMLFormElement);
    const size = extendProblem(this.lun.sizeBytes, v['newSize'] ?? '', (v['unit'] ?? 'GiB') as SizeUnit);
    this.errors = 'error' in size ? { newSize: size.error } : {};
    if ('error' in size) return;
    await this.act('extend', { sizeBytes: 'newSize' }, async () => {
      const lun = await this.sapi.extendLun(this.lun.id, size.bytes);
      notify(this, 'ok', `LUN ${lun.name} is now ${formatBytes(lun.sizeBytes)}; connected initiators see the new size without reconnecting.`);
      (ev.target as HTMLFormElement).reset();
      this.changed();
    });
  }

  private async take(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    const form = ev.target as HTMLFormElement;
    const v = formValues(form);
    const name = (v['snapName'] ?? '').trim() || defaultSnapshotName(new Date());
    const problem = snapshotNameProblem(name);
    const errors: Record<string, string> = problem ? { snapName: problem } : {};
    let cow: number | undefined;
    if (this.thick) {
      const size = parseSize(v['cowSize'] ?? '', ((v['cowUnit'] ?? 'GiB') in SIZE_UNITS ? v['cowUnit'] : 'GiB') as SizeUnit);
      if ('error' in size) errors['cowSize'] = size.error;
      else cow = size.bytes;
    }
    this.errors = errors;
    if (Object.keys(errors).length) return;
    await this.act('snap', { name: 'snapName', sizeBytes: 'cowSize' }, async () => {
      const s = await this.sapi.takeSnapshot(this.lun.id, name, cow);
      notify(this, 'ok', `Snapshot ${s.name} of LUN ${this.lun.name} taken.`);
      // only the name: the COW space the admin chose stays for the next one
      const nameInput = form.elements.namedItem('snapName');
      if (nameInput instanceof HTMLInputElement) nameInput.value = '';
      await this.load();
    });
  }

  private async rollback(s: Snapshot): Promise<void> {
    const lun = this.lun;
    const answer = await this.dialog().ask({
      title: `Roll LUN ${lun.name} back to ${s.name}?`,
      body: html`<p>LUN <strong>${lun.name}</strong> gets back exactly the data it had when <strong>${s.name}</strong> was taken (${when(s.createdAt)}).</p>
        <p class="error"><strong>Everything written to ${lun.name} since then is lost</strong>; this cannot be undone (take a snapshot first to keep it).</p>
        <p>The LUN goes offline briefly while its data is put back: connected initiators see I/O errors or a path loss for that moment and then the LUN returns with the same identity (serial, NAA id).</p>
        ${s.kind === 'thin' || s.kind === 'thick' ? html`<p>An LVM rollback merges the snapshot into the LUN: the snapshot itself is used up.</p>` : html`<p>The snapshot is kept.</p>`}`,
      confirmLabel: 'Roll back',
      typeToConfirm: lun.name,
    });
    if (!answer) return;
    await this.act('rollback', {}, async () => {
      try {
        await this.sapi.rollback(lun.id, s.name);
      } catch (e) {
        // 409 while initiators are logged in to a target that maps the LUN: say who, then offer to force
        if (!(e instanceof ApiError && e.status === 409 && /session|logged in|connected/i.test(e.message))) throw e;
        const force = await this.dialog().ask({
          title: `Initiators are using LUN ${lun.name}`,
          body: html`<p>${e.message}</p><p>Rolling back under them replaces the data they are reading and writing: file systems and VMs on it will see a sudden jump back in time. Disconnect them first if you can.</p>`,
          confirmLabel: 'Roll back anyway',
        });
        if (!force) return;
        await this.sapi.rollback(lun.id, s.name, true);
      }
      notify(this, 'ok', `LUN ${lun.name} rolled back to ${s.name}.`);
      await this.load();
      this.changed();
    });
  }

  private async clone(ev: SubmitEvent, s: Snapshot): Promise<void> {
    ev.preventDefault();
    const v = formValues(ev.target as HTMLFormElement);
    const name = (v['cloneName'] ?? '').trim();
    const problem = snapshotNameProblem(name);
    this.errors = problem ? { cloneName: problem } : {};
    if (problem) return;
    await this.act('clone', { name: 'cloneName' }, async () => {
      const lun = await this.sapi.clone(this.lun.id, s.name, name);
      notify(this, 'ok', `LUN ${lun.name} created from snapshot ${s.name} (${formatBytes(lun.sizeBytes)}); map it to a target to use it.`);
      this.cloning = '';
      this.changed();
    });
  }

  private async deleteSnapshot(s: Snapshot): Promise<void> {
    const answer = await this.dialog().ask({
      title: `Delete snapshot ${s.name}?`,
      body: html`<p>The point-in-time copy of LUN <strong>${this.lun.name}</strong> taken ${when(s.createdAt)} is destroyed: you can no longer roll back to it or clone it. The LUN itself is not touched.</p>`,
      confirmLabel: 'Delete snapshot',
    });
    if (!answer) return;
    await this.act('snapdel', {}, async () => {
      await this.sapi.deleteSnapshot(this.lun.id, s.name);
      notify(this, 'ok', `Snapshot ${s.name} deleted.`);
      await this.load();
    });
  }

  private async addSchedule(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    const v = formValues(ev.target as HTMLFormElement);
    const { body, errors } = scheduleFormBody({ every: v['every'] ?? '', minutes: v['minutes'] ?? '', keep: v['keep'] ?? '' });
    this.errors = errors;
    if (!body) return;
    await this.act('schedule', { everyMinutes: 'everyMinutes', every: 'everyMinutes', keep: 'keep' }, async () => {
      const s = await this.sapi.createSchedule(this.lun.id, body.every, body.keep);
      notify(this, 'ok', `Snapshots of ${this.lun.name} ${scheduleLabel(s)}, keeping the newest ${s.keep}.`);
      await this.load();
    });
  }

  private async deleteSchedule(s: SnapshotSchedule): Promise<void> {
    const answer = await this.dialog().ask({
      title: `Stop the ${scheduleLabel(s)} snapshots of ${this.lun.name}?`,
      body: html`<p>No more automatic snapshots are taken by this schedule. The snapshots it already made stay until you delete them.</p>`,
      confirmLabel: 'Remove schedule',
    });
    if (!answer) return;
    await this.act('schedule', {}, async () => {
      await this.sapi.deleteSchedule(s.id);
      notify(this, 'ok', `Schedule removed.`);
      await this.load();
    });
  }

  private formError(key: string) {
    const e = this.errors[`${key}-form`];
    return e ? html`<div class="error" role="alert" id=${`lm-${key}-error`}>${e}</div>` : nothing;
  }

  override render() {
    const l = this.lun;
    return html`${this.loadError ? html`<div class="banner error" role="alert">${this.loadError}</div>` : nothing}
      <div class="grid">
        <div>
          ${this.readOnly ? nothing : this.renderExtend()}
          <div class="box">
            <h3>Snapshot schedules</h3>
            ${this.schedules.length === 0
              ? html`<p class="muted">No schedule: snapshots of ${l.name} are taken only by hand.</p>`
              : html`<ul id="lm-schedules">
                  ${this.schedules.map(
                    (s) => html`<li>${scheduleLabel(s)}, keeps the newest ${s.keep}${s.nextRunAt ? html` <span class="muted">(next ${new Date(s.nextRunAt).toLocaleString()})</span>` : nothing}
                      ${this.readOnly ? nothing : html`<button type="button" class="danger" aria-label=${`Remove the ${scheduleLabel(s)} schedule of ${l.name}`} @click=${() => this.deleteSchedule(s)}>Remove</button>`}</li>`,
                  )}
                </ul>`}
            ${this.readOnly ? nothing : this.renderScheduleForm()}
          </div>
        </div>
        <div class="box">
          <h3>Snapshots of ${l.name}</h3>
          ${this.renderSnapshots()}
          ${this.readOnly
            ? nothing
            : html`<form class="inline" @submit=${this.take} novalidate aria-label=${`Take a snapshot of ${l.name}`}>
                ${field({ name: 'snapName', label: 'Snapshot name', placeholder: defaultSnapshotName(new Date()), autocomplete: 'off', error: this.errors['snapName'] }, `lm-${l.id}`)}
                ${this.thick
                  ? html`${field({ name: 'cowSize', label: 'Space for changes', type: 'number', min: 1, step: 'any', value: String(Math.max(1, Math.ceil(l.sizeBytes / 5 / 2 ** 20))), error: this.errors['cowSize'], hint: 'Copy-on-write area; the snapshot is lost if more than this changes.' }, `lm-${l.id}`)}
                      <div class="field narrow">
                        <label for=${`lm-${l.id}-cowUnit`}>COW unit</label>
                        <select id=${`lm-${l.id}-cowUnit`} name="cowUnit">${Object.keys(SIZE_UNITS).map((u) => html`<option ?selected=${u === 'MiB'}>${u}</option>`)}</select>
                      </div>`
                  : nothing}
                <button type="submit" class="primary" ?disabled=${this.busy === 'snap'}>${this.busy === 'snap' ? 'Taking…' : 'Take snapshot'}</button>
              </form>
              <p class="hint">Empty name: one from the clock. A snapshot keeps this moment's data; ${l.backing === 'file' ? 'in the file pool it is a sparse copy that only costs what the LUN holds' : this.thick ? 'on a thick LV it records the old blocks as the LUN changes, in the space given here' : 'in a thin pool it shares blocks with the LUN until they change'}.</p>
              ${this.formError('snap')}${this.formError('rollback')}${this.formError('snapdel')}`}
        </div>
      </div>
      <confirm-dialog></confirm-dialog>`;
  }

  private renderExtend() {
    const l = this.lun;
    const suggest = extendSuggestion(l.sizeBytes);
    return html`<div class="box">
      <h3>Extend</h3>
      <p class="muted">Now ${formatBytes(l.sizeBytes)}. A LUN only grows, online: connected initiators see the new size without reconnecting (they get CAPACITY DATA HAS CHANGED); grow the partition or file system on the host afterwards.</p>
      <form class="inline" @submit=${this.extend} novalidate aria-label=${`Extend ${l.name}`}>
        ${field({ name: 'newSize', label: 'New size', type: 'number', min: 1, step: 'any', error: this.errors['newSize'], placeholder: String(suggest.amount) }, `lm-${l.id}`)}
        <div class="field narrow">
          <label for=${`lm-${l.id}-unit`}>Unit</label>
          <select id=${`lm-${l.id}-unit`} name="unit">
            ${Object.keys(SIZE_UNITS).map((u) => html`<option ?selected=${u === suggest.unit}>${u}</option>`)}
          </select>
        </div>
        <button type="submit" ?disabled=${this.busy === 'extend'}>${this.busy === 'extend' ? 'Extending…' : 'Extend'}</button>
      </form>
      ${this.formError('extend')}
    </div>`;
  }

  private renderScheduleForm() {
    const id = `lm-${this.lun.id}`;
    return html`<form class="inline" @submit=${this.addSchedule} novalidate aria-label=${`Schedule snapshots of ${this.lun.name}`}>
        <div class="field">
          <label for=${`${id}-every`}>Every</label>
          <select id=${`${id}-every`} name="every" @change=${(e: Event) => (this.scheduleEvery = (e.target as HTMLSelectElement).value)}>
            ${[
              ['hourly', 'hour'],
              ['daily', 'day'],
              ['weekly', 'week'],
              ['minutes', 'N minutes…'],
            ].map(([v, label]) => html`<option value=${v!} ?selected=${v === this.scheduleEvery}>${label}</option>`)}
          </select>
        </div>
        ${this.scheduleEvery === 'minutes'
          ? field({ name: 'minutes', label: 'Minutes', type: 'number', min: 5, placeholder: '15', error: this.errors['everyMinutes'] }, id)
          : this.errors['everyMinutes']
            ? html`<div class="error" role="alert">${this.errors['everyMinutes']}</div>`
            : nothing}
        <div class="field narrow">${field({ name: 'keep', label: 'Keep', type: 'number', min: 1, max: 100, value: '7', error: this.errors['keep'] }, id)}</div>
        <button type="submit" ?disabled=${this.busy === 'schedule'}>Add schedule</button>
      </form>
      <p class="hint">Keeps the newest snapshots this schedule made; older ones are deleted. Snapshots you take by hand are never pruned.</p>
      ${this.formError('schedule')}`;
  }

  private renderSnapshots() {
    if (this.snapshots === undefined) return html`<p class="empty" aria-busy="true">Loading…</p>`;
    if (this.snapshots.length === 0) return html`<p class="empty">No snapshots yet.</p>`;
    const l = this.lun;
    return html`<table>
      <thead><tr><th scope="col">Snapshot</th><th scope="col">Taken</th><th scope="col" class="num">Size</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
      <tbody>
        ${this.snapshots.map(
          (s) => html`<tr data-snapshot=${s.name}>
              <th scope="row"><span class="mono">${s.name}</span> ${s.scheduleId ? html`<span class="tag">scheduled</span>` : nothing}</th>
              <td>${when(s.createdAt)}</td>
              <td class="num">${s.sizeBytes ? formatBytes(s.sizeBytes) : '—'}</td>
              <td>
                ${this.readOnly
                  ? nothing
                  : html`<div class="actions">
                      <button type="button" aria-label=${`Roll ${l.name} back to ${s.name}`} ?disabled=${!!this.busy} @click=${() => this.rollback(s)}>Roll back</button>
                      <button type="button" aria-label=${`Clone ${s.name} into a new LUN`} aria-expanded=${this.cloning === s.name ? 'true' : 'false'} @click=${() => ((this.cloning = this.cloning === s.name ? '' : s.name), (this.errors = {}))}>Clone</button>
                      <button type="button" class="danger" aria-label=${`Delete snapshot ${s.name}`} ?disabled=${!!this.busy} @click=${() => this.deleteSnapshot(s)}>Delete</button>
                    </div>`}
              </td>
            </tr>
            ${this.cloning === s.name
              ? html`<tr>
                  <td colspan="4">
                    <form class="inline" @submit=${(e: SubmitEvent) => this.clone(e, s)} novalidate aria-label=${`Clone ${s.name}`}>
                      ${field({ name: 'cloneName', label: 'Name of the new LUN', autocomplete: 'off', placeholder: `${l.name}-clone`, error: this.errors['cloneName'] }, `lm-${l.id}`)}
                      <button type="submit" class="primary" ?disabled=${this.busy === 'clone'}>${this.busy === 'clone' ? 'Cloning…' : 'Create clone'}</button>
                      <button type="button" @click=${() => (this.cloning = '')}>Cancel</button>
                    </form>
                    <p class="hint">A new, independent LUN with the snapshot's data and its own identity; it is not mapped anywhere yet.</p>
                    ${this.formError('clone')}
                  </td>
                </tr>`
              : nothing}`,
        )}
      </tbody>
    </table>`;
  }
}
customElements.define('lun-manage-panel', LunManagePanel);
