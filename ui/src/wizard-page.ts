import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { ApiError, type ApiClient } from './api.ts';
import { StorageApi, type StorageOverview, type ThinPool, type VolumeGroup } from './api-storage.ts';
import { field, notify } from './fields.ts';
import { errorText, formatBytes, parseSize, SIZE_UNITS, type SizeUnit } from './format.ts';
import { PRESETS, PRESET_IDS, type PresetId } from './presets.ts';
import { routeHref } from './router.ts';
import { sharedStyles } from './shared-styles.ts';
import { locationOptions, type LocationOption } from './storage-model.ts';
import {
  WIZARD_STEPS,
  applyPreset,
  buildPlan,
  fieldOfApiError,
  firstInvalidStep,
  initialValues,
  presetOverrides,
  runPlan,
  undoCreated,
  validateStep,
  wizardIqn,
  type CreatedItem,
  type StepId,
  type WizardContext,
  type WizardValues,
} from './wizard-steps.ts';

type Outcome =
  | { state: 'idle' }
  | { state: 'running' }
  | { state: 'failed'; created: CreatedItem[]; failedKind: CreatedItem['kind']; failedLabel: string; message: string }
  | { state: 'undone'; removed: CreatedItem[]; left: Array<{ item: CreatedItem; error: string }> };

const FAILED_WHAT: Record<CreatedItem['kind'], string> = {
  lun: 'Creating the LUN',
  target: 'Creating the target',
  mapping: 'Mapping the LUN to the target',
  group: 'Creating the initiator group',
  acl: 'Allowing the initiators on the target',
  chap: 'Setting CHAP on the target',
};

/**
 * The iSCSI wizard: LUN → target → who may connect → authentication → summary. Each step checks its fields before
 * Next; Back keeps every value; the summary creates everything through the API in order and, when a later call
 * fails, says exactly what exists and offers to remove it (or to fix the field and continue where it stopped).
 * Ends on the new target's Connect tab.
 */
export class WizardPage extends LitElement {
  static override properties = {
    api: { attribute: false },
    readOnly: { type: Boolean },
    step: { state: true },
    values: { state: true },
    errors: { state: true },
    ctx: { state: true },
    options: { state: true },
    loadError: { state: true },
    outcome: { state: true },
    created: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      ol.steps {
        display: flex;
        gap: 0.25rem;
        list-style: none;
        padding: 0;
        margin: 0 0 1.25rem;
        counter-reset: step;
        flex-wrap: wrap;
      }
      ol.steps button {
        border: none;
        background: transparent;
        padding: 0.5rem 0.9rem;
        border-radius: var(--radius) var(--radius) 0 0;
        color: var(--muted);
      }
      ol.steps button[aria-current='step'] {
        color: var(--text);
        font-weight: 600;
        background: var(--surface-2);
        box-shadow: inset 0 -3px 0 var(--accent);
      }
      ol.steps button.done {
        color: var(--text);
      }
      ol.steps .n {
        display: inline-block;
        width: 1.5rem;
        height: 1.5rem;
        line-height: 1.5rem;
        border-radius: 50%;
        background: var(--surface-2);
        border: 1px solid var(--border);
        text-align: center;
        margin-right: 0.4rem;
        font-size: 0.85rem;
      }
      .layout {
        display: grid;
        grid-template-columns: minmax(0, 3fr) minmax(18rem, 2fr);
        gap: 1.25rem;
        align-items: start;
      }
      fieldset {
        border: 1px solid var(--border);
        border-radius: var(--radius);
        padding: 0.75rem 1rem 1rem;
        margin: 0;
        min-width: 0;
      }
      legend {
        font-weight: 600;
        font-size: 0.9rem;
        padding: 0 0.3rem;
      }
      .presets {
        display: grid;
        grid-template-columns: repeat(2, minmax(0, 1fr));
        gap: 0.5rem;
      }
      .presets label {
        display: flex;
        gap: 0.5rem;
        align-items: center;
        border: 1px solid var(--border);
        border-radius: var(--radius);
        padding: 0.5rem 0.7rem;
        cursor: pointer;
      }
      .presets label:has(input:checked) {
        border-color: var(--accent);
        box-shadow: inset 0 0 0 1px var(--accent);
      }
      .size {
        display: grid;
        grid-template-columns: minmax(0, 1fr) 6rem;
        gap: 0.5rem;
        align-items: start;
      }
      .three {
        display: grid;
        grid-template-columns: repeat(3, minmax(0, 1fr));
        gap: 0.75rem;
        align-items: start;
      }
      table.sets td,
      table.sets th {
        font-size: 0.875rem;
        vertical-align: top;
      }
      .fixed {
        font-size: 0.75rem;
        color: var(--muted);
        border: 1px solid var(--border);
        border-radius: 999px;
        padding: 0 0.4rem;
        margin-left: 0.3rem;
        white-space: nowrap;
      }
      textarea {
        min-height: 5rem;
      }
      .radios {
        display: flex;
        gap: 1.25rem;
        flex-wrap: wrap;
      }
      .radios label {
        display: flex;
        gap: 0.4rem;
        align-items: center;
      }
      dl.summary {
        display: grid;
        grid-template-columns: max-content minmax(0, 1fr);
        gap: 0.4rem 1rem;
        margin: 0 0 1rem;
      }
      dl.summary dt {
        color: var(--muted);
        font-weight: 600;
        font-size: 0.9rem;
      }
      dl.summary dd {
        margin: 0;
        overflow-wrap: anywhere;
      }
      ol.plan {
        margin: 0 0 1rem;
        padding-left: 1.25rem;
      }
      .nav {
        display: flex;
        gap: 0.6rem;
        justify-content: space-between;
        margin-top: 0.5rem;
      }
      .step-title:focus {
        outline: none;
      }
      .why {
        font-size: 0.85rem;
        color: var(--muted);
      }
      .secret-row {
        display: grid;
        grid-template-columns: minmax(0, 1fr) auto;
        gap: 0.5rem;
        align-items: end;
      }
      @media (max-width: 1100px) {
        .layout {
          grid-template-columns: minmax(0, 1fr);
        }
      }
    `,
  ];
  declare api: ApiClient;
  declare readOnly: boolean;
  declare step: number;
  declare values: WizardValues;
  declare errors: Record<string, string>;
  declare ctx: WizardContext | undefined;
  declare options: LocationOption[];
  declare loadError: string;
  declare outcome: Outcome;
  /** what an earlier attempt of the final step created (kept so a retry continues instead of duplicating) */
  declare created: CreatedItem[];
  private storage: StorageApi | undefined;

  constructor() {
    super();
    this.readOnly = false;
    this.step = 0;
    this.values = initialValues('esxi');
    this.errors = {};
    this.ctx = undefined;
    this.options = [];
    this.loadError = '';
    this.outcome = { state: 'idle' };
    this.created = [];
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private get sapi(): StorageApi {
    this.storage ??= new StorageApi(this.api);
    return this.storage;
  }

  /** What validation needs to know (names in use, where LUNs can live); read once, again before Create. */
  async load(): Promise<void> {
    try {
      const [settings, luns, targets, groups, overview] = await Promise.all([
        this.api.settings(),
        this.api.luns(),
        this.api.targets(),
        this.api.initiatorGroups(),
        this.sapi.overview().catch((): StorageOverview | undefined => undefined),
      ]);
      let vgs: VolumeGroup[] = [];
      let pools: ThinPool[] = [];
      if (overview?.mode === 'lvm') [vgs, pools] = await Promise.all([this.sapi.vgs(), this.sapi.pools()]);
      this.options = locationOptions(overview, vgs, pools);
      this.ctx = {
        baseIqn: settings.baseIqn,
        lunNames: luns.map((l) => l.name),
        targetIqns: targets.map((t) => t.iqn),
        groupNames: groups.map((g) => g.name),
        locations: this.options.map((o) => o.key),
      };
      // a fresh wizard starts where LUNs can live (the first thin pool in LVM mode)
      if (!this.ctx.locations.includes(this.values.location) && this.options[0]) this.values = { ...this.values, location: this.options[0].key };
      this.loadError = '';
    } catch (e) {
      this.loadError = errorText(e);
    }
  }

  private set<K extends keyof WizardValues>(key: K, value: WizardValues[K]): void {
    this.values = { ...this.values, [key]: value };
    if (this.errors[key]) {
      const { [key]: _, ...rest } = this.errors;
      this.errors = rest;
    }
  }

  private get stepId(): StepId {
    return WIZARD_STEPS[this.step]!.id;
  }

  private async go(to: number): Promise<void> {
    if (to > this.step && this.ctx) {
      // forward only through steps that validate (the step indicator is no way around the checks)
      for (let i = this.step; i < to; i++) {
        const errors = validateStep(WIZARD_STEPS[i]!.id, this.values, this.ctx);
        if (Object.keys(errors).length > 0) {
          this.step = i;
          this.errors = errors;
          await this.focusFirstError();
          return;
        }
      }
    }
    this.errors = {};
    this.step = to;
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLElement>('.step-title')?.focus();
  }

  private async focusFirstError(): Promise<void> {
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }

  private async next(ev: Event): Promise<void> {
    ev.preventDefault();
    if (!this.ctx) return;
    if (this.stepId === 'summary') return this.create();
    const errors = validateStep(this.stepId, this.values, this.ctx);
    this.errors = errors;
    if (Object.keys(errors).length > 0) return this.focusFirstError();
    await this.go(this.step + 1);
  }

  private async create(): Promise<void> {
    // names may have been taken meanwhile (CLI, another browser): check against fresh lists
    await this.load();
    if (!this.ctx) return;
    const ctx = this.created.length ? this.ctxWithoutOwn(this.ctx) : this.ctx;
    const bad = firstInvalidStep(this.values, ctx);
    if (bad) {
      this.step = bad.step;
      this.errors = bad.errors;
      return this.focusFirstError();
    }
    this.outcome = { state: 'running' };
    const result = await runPlan(this.sapi, buildPlan(this.values, ctx), this.created);
    this.created = result.created;
    if (!result.failed) {
      const lun = result.created.find((c) => c.kind === 'lun');
      notify(this, 'ok', `${lun?.label ?? 'LUN'} is ready on ${wizardIqn(this.values, ctx)}. Connect an initiator with these commands.`);
      this.outcome = { state: 'idle' };
      location.hash = routeHref({ page: 'target', id: result.targetId!, tab: 'connect' });
      return;
    }
    const err = result.failed.error;
    const message = err instanceof Error ? err.message : String(err);
    // a field the admin can fix: show it next to its input on its step
    if (err instanceof ApiError && err.fields.length > 0) {
      const placed: Record<string, string> = {};
      let step: StepId | undefined;
      for (const [apiField, msg] of Object.entries(err.byField())) {
        const where = fieldOfApiError(result.failed.kind, apiField, this.values);
        if (where) {
          placed[where.field] = msg;
          step ??= where.step;
        }
      }
      if (step && result.created.length === 0) {
        this.outcome = { state: 'idle' };
        this.step = WIZARD_STEPS.findIndex((s) => s.id === step);
        this.errors = placed;
        return this.focusFirstError();
      }
      if (step) this.errors = placed;
    }
    this.outcome = { state: 'failed', created: result.created, failedKind: result.failed.kind, failedLabel: FAILED_WHAT[result.failed.kind], message };
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLElement>('#wizard-failure')?.focus();
  }

  /** After a partial run, our own LUN/target/group are "taken" names that must not block the retry. */
  private ctxWithoutOwn(ctx: WizardContext): WizardContext {
    const plan = buildPlan(this.values, ctx);
    const own = (kind: CreatedItem['kind']) => this.created.some((c) => c.kind === kind);
    return {
      ...ctx,
      lunNames: own('lun') ? ctx.lunNames.filter((n) => n !== plan.lun.name) : ctx.lunNames,
      targetIqns: own('target') ? ctx.targetIqns.filter((n) => n !== plan.target.iqn) : ctx.targetIqns,
      groupNames: own('group') ? ctx.groupNames.filter((n) => n !== plan.group.name) : ctx.groupNames,
    };
  }

  private async undo(): Promise<void> {
    this.outcome = { state: 'running' };
    const r = await undoCreated(this.sapi, this.created);
    this.created = r.left.map((l) => l.item);
    this.outcome = { state: 'undone', removed: r.removed, left: r.left };
    if (r.left.length === 0) notify(this, 'ok', `Removed ${r.removed.length} item(s) the wizard had created.`);
    await this.load();
  }

  /** Back to the step whose field the API named, else the step whose values the failed call used. */
  private fixStep(): void {
    const o = this.outcome;
    let step = Object.keys(this.errors).length ? WIZARD_STEPS.findIndex((s) => STEP_FIELDS[s.id].some((f) => f in this.errors)) : -1;
    if (step < 0 && o.state === 'failed') step = WIZARD_STEPS.findIndex((s) => s.id === STEP_OF_ACTION[o.failedKind]);
    this.outcome = { state: 'idle' };
    const errors = this.errors;
    void this.go(step >= 0 ? step : 0).then(() => (this.errors = errors));
  }

  override render() {
    if (this.readOnly) {
      return html`<h1>New LUN wizard</h1>
        <section class="card"><p class="muted">You have read-only access: the wizard creates LUNs and targets, which needs an administrator.</p></section>`;
    }
    return html`<h1>New LUN wizard</h1>
      ${this.loadError ? html`<div class="banner error" role="alert">${this.loadError}</div>` : nothing}
      <nav aria-label="Wizard steps">
        <ol class="steps">
          ${WIZARD_STEPS.map(
            (s, i) => html`<li>
              <button
                type="button"
                class=${i < this.step ? 'done' : ''}
                aria-current=${i === this.step ? 'step' : 'false'}
                ?disabled=${this.outcome.state === 'running'}
                @click=${() => this.go(i)}
              ><span class="n" aria-hidden="true">${i < this.step ? '✓' : i + 1}</span>${s.title}</button>
            </li>`,
          )}
        </ol>
      </nav>
      ${this.ctx === undefined && !this.loadError ? html`<p class="empty" aria-busy="true">Loading…</p>` : this.ctx ? this.renderStep() : nothing}`;
  }

  private renderStep() {
    const s = WIZARD_STEPS[this.step]!;
    const last = s.id === 'summary';
    const running = this.outcome.state === 'running';
    return html`<div class="layout">
      <section class="card" aria-labelledby="wizard-step-title">
        <h2 id="wizard-step-title" class="step-title" tabindex="-1">Step ${this.step + 1} of ${WIZARD_STEPS.length}: ${s.title}</h2>
        <form @submit=${this.next} novalidate aria-labelledby="wizard-step-title">
          ${this.renderFields(s.id)}
          ${this.renderOutcome()}
          <div class="nav">
            <button type="button" ?disabled=${this.step === 0 || running} @click=${() => this.go(this.step - 1)}>Back</button>
            ${this.outcome.state === 'failed'
              ? nothing
              : html`<button class="primary" type="submit" ?disabled=${running}>${last ? (running ? 'Creating…' : this.created.length ? 'Continue creating' : 'Create everything') : 'Next'}</button>`}
          </div>
        </form>
      </section>
      ${this.renderPresetCard()}
    </div>`;
  }

  private renderFields(step: StepId): TemplateResult {
    switch (step) {
      case 'lun':
        return this.renderLunStep();
      case 'target':
        return this.renderTargetStep();
      case 'access':
        return this.renderAccessStep();
      case 'auth':
        return this.renderAuthStep();
      case 'summary':
        return this.renderSummary();
    }
  }

  private renderLunStep() {
    const v = this.values;
    const e = this.errors;
    const overrides = presetOverrides(v);
    return html`<fieldset>
        <legend>Used by</legend>
        <div class="presets" role="radiogroup" aria-label="Used by">
          ${PRESET_IDS.map(
            (id) => html`<label><input type="radio" name="preset" value=${id} .checked=${v.preset === id} @change=${() => (this.values = applyPreset(this.values, id))} />${PRESETS[id].label}</label>`,
          )}
        </div>
      </fieldset>
      ${field({ name: 'lunName', label: 'LUN name', value: v.lunName, placeholder: 'vmfs01', autocomplete: 'off', required: true, error: e['lunName'], hint: 'Letters, digits, "_", "-", "."; the file or LV gets this name.', onInput: (x) => this.set('lunName', x) }, 'wz')}
      <div class="size">
        ${field({ name: 'size', label: 'Size', type: 'number', min: 1, step: 'any', value: v.size, placeholder: '100', required: true, error: e['size'], onInput: (x) => this.set('size', x) }, 'wz')}
        <div class="field">
          <label for="wz-unit">Unit</label>
          <select id="wz-unit" @change=${(ev: Event) => this.set('unit', (ev.target as HTMLSelectElement).value as SizeUnit)}>
            ${Object.keys(SIZE_UNITS).map((u) => html`<option ?selected=${u === v.unit}>${u}</option>`)}
          </select>
        </div>
      </div>
      <div class="field">
        <label for="wz-location">Stored in</label>
        <select id="wz-location" aria-invalid=${e['location'] ? 'true' : 'false'} aria-describedby=${e['location'] ? 'wz-location-error' : nothing} @change=${(ev: Event) => this.set('location', (ev.target as HTMLSelectElement).value)}>
          ${this.options.map((o) => html`<option value=${o.key} ?selected=${o.key === v.location}>${o.label}</option>`)}
        </select>
        ${e['location'] ? html`<div class="error" id="wz-location-error" role="alert">${e['location']}</div>` : nothing}
      </div>
      <details ?open=${overrides.length > 0 || !!(e['blockSize'] || e['lunNumber'])}>
        <summary>Block size, write cache, LUN number (set by the preset)</summary>
        <div class="three">
          <div class="field">
            <label for="wz-blockSize">Block size</label>
            <select id="wz-blockSize" @change=${(ev: Event) => this.set('blockSize', (ev.target as HTMLSelectElement).value as '512' | '4096')}>
              ${['512', '4096'].map((b) => html`<option value=${b} ?selected=${b === v.blockSize}>${b} bytes</option>`)}
            </select>
            ${e['blockSize'] ? html`<div class="error" role="alert">${e['blockSize']}</div>` : nothing}
          </div>
          <div class="field">
            <label for="wz-writeCache">Write cache</label>
            <select id="wz-writeCache" @change=${(ev: Event) => this.set('writeCache', (ev.target as HTMLSelectElement).value as WizardValues['writeCache'])}>
              ${(['write-back', 'write-through'] as const).map((w) => html`<option value=${w} ?selected=${w === v.writeCache}>${w}</option>`)}
            </select>
          </div>
          ${field({ name: 'lunNumber', label: 'LUN number', type: 'number', min: 0, max: 16383, value: v.lunNumber, error: e['lunNumber'], onInput: (x) => this.set('lunNumber', x) }, 'wz')}
        </div>
      </details>
      ${overrides.length ? html`<p class="why" id="wz-overrides">Changed from the preset: ${overrides.join('; ')}.</p>` : nothing}`;
  }

  private renderTargetStep() {
    const v = this.values;
    const e = this.errors;
    return html`${field({ name: 'targetName', label: 'Target name', value: v.targetName, placeholder: 'esxi-cluster', autocomplete: 'off', error: e['targetName'], onInput: (x) => this.set('targetName', x) }, 'wz')}
      <div class="why">IQN: <code id="wz-iqn-preview">${wizardIqn(v, this.ctx!)}</code></div>
      ${field({ name: 'targetIqn', label: 'Or a full IQN', value: v.targetIqn, placeholder: 'iqn.2026-01.com.example:storage', hint: 'Overrides the name above.', autocomplete: 'off', error: e['targetIqn'], onInput: (x) => this.set('targetIqn', x) }, 'wz')}
      ${field({ name: 'alias', label: 'Alias (optional)', value: v.alias, autocomplete: 'off', error: e['alias'], hint: 'Shown by initiators next to the IQN (RFC 7143 TargetAlias).', onInput: (x) => this.set('alias', x) }, 'wz')}`;
  }

  private textarea(name: 'initiators' | 'networks', label: string, hint: string, placeholder: string) {
    const err = this.errors[name];
    return html`<div class="field">
      <label for=${`wz-${name}`}>${label}</label>
      <textarea id=${`wz-${name}`} .value=${this.values[name]} placeholder=${placeholder} aria-invalid=${err ? 'true' : 'false'} aria-describedby=${`wz-${name}-hint${err ? ` wz-${name}-error` : ''}`} @input=${(ev: Event) => this.set(name, (ev.target as HTMLTextAreaElement).value)}></textarea>
      <div class="hint" id=${`wz-${name}-hint`}>${hint}</div>
      ${err ? html`<div class="error" id=${`wz-${name}-error`} role="alert">${err}</div>` : nothing}
    </div>`;
  }

  private renderAccessStep() {
    const p = PRESETS[this.values.preset];
    return html`<p class="why">Targets refuse every initiator that is not allowed here (deny by default).</p>
      ${this.textarea('initiators', 'Initiator IQNs', `One per line. ${p.label} shows its IQN in ${p.connectOs === 'esxi' ? 'Storage → Adapters → iSCSI Software Adapter' : p.connectOs === 'windows' ? 'iSCSI Initiator → Configuration' : p.connectOs === 'xenserver' ? 'the host\'s General tab (iSCSI IQN)' : '/etc/iscsi/initiatorname.iscsi'}.`, p.initiatorExample)}
      ${this.textarea('networks', 'Networks (optional)', 'One CIDR per line, e.g. 192.0.2.0/24: any initiator connecting from there is let in.', '192.0.2.0/24')}`;
  }

  private generateSecret(key: 'chapSecret' | 'mutualSecret'): void {
    // 16 characters: within the 12-16 that every initiator (Windows caps at 16) accepts, ~95 bits of entropy
    const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    this.set(key, Array.from(bytes, (b) => alphabet[b % alphabet.length]).join(''));
  }

  private renderAuthStep() {
    const v = this.values;
    const e = this.errors;
    const modes = [
      ['none', 'No CHAP'],
      ['one-way', 'One-way'],
      ['mutual', 'Mutual'],
    ] as const;
    return html`<fieldset>
        <legend>CHAP authentication</legend>
        <div class="radios">
          ${modes.map(([m, label]) => html`<label><input type="radio" name="chapMode" value=${m} .checked=${v.chapMode === m} @change=${() => this.set('chapMode', m)} />${label}</label>`)}
        </div>
      </fieldset>
      ${v.chapMode === 'none'
        ? html`<p class="why">Without CHAP, anyone who can use an allowed initiator name (or network) may connect.</p>`
        : html`${field({ name: 'chapUser', label: 'Initiator user', value: v.chapUser, autocomplete: 'off', error: e['chapUser'], onInput: (x) => this.set('chapUser', x) }, 'wz')}
            <div class="secret-row">
              ${field({ name: 'chapSecret', label: 'Initiator secret', value: v.chapSecret, autocomplete: 'off', error: e['chapSecret'], hint: '12-16 characters work with every initiator; it is never shown again once saved.', onInput: (x) => this.set('chapSecret', x) }, 'wz')}
              <button type="button" @click=${() => this.generateSecret('chapSecret')}>Generate</button>
            </div>
            ${v.chapMode === 'mutual'
              ? html`${field({ name: 'mutualUser', label: 'Target user (mutual)', value: v.mutualUser, autocomplete: 'off', error: e['mutualUser'], onInput: (x) => this.set('mutualUser', x) }, 'wz')}
                  <div class="secret-row">
                    ${field({ name: 'mutualSecret', label: 'Target secret (mutual)', value: v.mutualSecret, autocomplete: 'off', error: e['mutualSecret'], hint: 'Must differ from the initiator secret.', onInput: (x) => this.set('mutualSecret', x) }, 'wz')}
                    <button type="button" @click=${() => this.generateSecret('mutualSecret')}>Generate mutual</button>
                  </div>`
              : nothing}`}`;
  }

  private renderSummary() {
    const v = this.values;
    const ctx = this.ctx!;
    const size = parseSize(v.size, v.unit);
    const plan = buildPlan(v, ctx);
    const loc = this.options.find((o) => o.key === v.location)?.label ?? v.location;
    return html`<dl class="summary" id="wz-summary">
        <dt>Preset</dt><dd>${PRESETS[v.preset].label}</dd>
        <dt>LUN</dt><dd><strong>${plan.lun.name}</strong>, ${'bytes' in size ? formatBytes(size.bytes) : v.size}, ${v.blockSize}-byte blocks, ${v.writeCache}</dd>
        <dt>Stored in</dt><dd>${loc}</dd>
        <dt>Target</dt><dd><code>${plan.target.iqn}</code>${plan.target.alias ? html` (${plan.target.alias})` : nothing}</dd>
        <dt>LUN number</dt><dd>${plan.lunNumber}</dd>
        <dt>Who may connect</dt><dd>${[...plan.group.initiators, ...plan.group.networks].map((x) => html`<code>${x}</code><br />`)}</dd>
        <dt>Authentication</dt><dd>${plan.chap ? `${plan.chap.mutualUsername ? 'mutual' : 'one-way'} CHAP, user ${plan.chap.username}` : 'none'}</dd>
      </dl>
      <p class="why">Create makes these, in order (each shown in the audit log):</p>
      <ol class="plan">
        <li>the LUN ${plan.lun.name}</li>
        <li>the target ${plan.target.iqn}</li>
        <li>the mapping as LUN ${plan.lunNumber}</li>
        <li>the initiator group ${plan.group.name} and the rule letting it in</li>
        ${plan.chap ? html`<li>CHAP for user ${plan.chap.username}</li>` : nothing}
      </ol>
      ${this.created.length && this.outcome.state !== 'failed' ? html`<p class="why" id="wz-already">Made by the last attempt and kept: ${this.created.map((c) => c.label).join(', ')}; Create continues after them.</p>` : nothing}`;
  }

  private renderOutcome() {
    const o = this.outcome;
    if (o.state === 'failed') {
      return html`<div class="banner error" role="alert" id="wizard-failure" tabindex="-1">
        <p><strong>${o.failedLabel} failed:</strong> ${o.message}</p>
        ${o.created.length
          ? html`<p>Already created (still there):</p>
              <ul id="wizard-created">${o.created.map((c) => html`<li>${c.label}</li>`)}</ul>`
          : html`<p>Nothing was created.</p>`}
        <div class="actions">
          ${o.created.length ? html`<button type="button" class="danger solid" @click=${this.undo}>Remove what was created</button>` : nothing}
          <button type="button" @click=${this.fixStep}>Fix and retry</button>
        </div>
      </div>`;
    }
    if (o.state === 'undone') {
      return html`<div class="banner ${o.left.length ? 'error' : 'ok'}" role="status" id="wizard-undone">
        ${o.removed.length ? html`<p>Removed: ${o.removed.map((c) => c.label).join(', ')}.</p>` : nothing}
        ${o.left.length ? html`<p>Could not remove: ${o.left.map((l) => `${l.item.label} (${l.error})`).join('; ')}.</p>` : html`<p>Nothing the wizard made is left. Fix the values and create again.</p>`}
      </div>`;
    }
    return nothing;
  }

  private renderPresetCard() {
    const id: PresetId = this.values.preset;
    const p = PRESETS[id];
    return html`<aside class="card" aria-labelledby="wz-preset-title">
      <h2 id="wz-preset-title">What “${p.label}” sets</h2>
      <p class="why">${p.why}</p>
      <table class="sets" id="wz-preset-settings">
        <thead><tr><th scope="col">Setting</th><th scope="col">Value</th><th scope="col">Why</th></tr></thead>
        <tbody>
          ${p.settings.map(
            (s) => html`<tr>
              <th scope="row">${s.name}</th>
              <td>${s.value}${'fixed' in s && s.fixed ? html`<span class="fixed" title="The target always does this">always</span>` : nothing}</td>
              <td>${s.why}</td>
            </tr>`,
          )}
        </tbody>
      </table>
    </aside>`;
  }
}

const STEP_OF_ACTION: Record<CreatedItem['kind'], StepId> = { lun: 'lun', target: 'target', mapping: 'lun', group: 'access', acl: 'access', chap: 'auth' };

/** The fields each step owns (to find the step an error belongs to). */
const STEP_FIELDS: Record<StepId, readonly (keyof WizardValues)[]> = {
  lun: ['lunName', 'size', 'location', 'blockSize', 'lunNumber'],
  target: ['targetName', 'targetIqn', 'alias'],
  access: ['initiators', 'networks'],
  auth: ['chapUser', 'chapSecret', 'mutualUser', 'mutualSecret'],
  summary: [],
};

customElements.define('wizard-page', WizardPage);
