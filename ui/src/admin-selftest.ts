import { LitElement, css, html, nothing } from 'lit';
import { ApiError } from './api.ts';
import { SELFTEST_POLL_MS, type AdminApi, type SelfTestOverview, type SelfTestRun } from './api-admin.ts';
import { notify } from './fields.ts';
import { sharedStyles } from './shared-styles.ts';
import { errorText } from './format.ts';

const STATE_TEXT: Record<SelfTestRun['state'], string> = {
  preparing: 'Creating the scratch LUN and target…',
  running: 'Running iscsi-test-cu…',
  cleaning: 'Removing the scratch LUN and target…',
  done: 'Finished',
  error: 'Could not complete',
};

/** Administration → Self-test: libiscsi's conformance suite against a scratch LUN, with progress and the report. */
export class AdminSelftest extends LitElement {
  static override properties = {
    admin: { attribute: false },
    readOnly: { type: Boolean },
    overview: { state: true },
    run: { state: true },
    chosen: { state: true },
    error: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      fieldset {
        border: 1px solid var(--border);
        border-radius: var(--radius);
        padding: 0.75rem 1rem;
        margin: 0 0 1rem;
      }
      legend {
        font-weight: 600;
        padding: 0 0.25rem;
      }
      .families {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(13rem, 1fr));
        gap: 0.35rem 1rem;
      }
      .families label {
        display: flex;
        gap: 0.4rem;
        align-items: center;
        font-family: var(--mono);
        font-size: 0.85rem;
      }
      progress {
        width: 100%;
        height: 0.9rem;
      }
      .totals {
        display: flex;
        gap: 1.5rem;
        flex-wrap: wrap;
        margin: 0.75rem 0;
      }
      .totals div {
        display: grid;
      }
      .totals strong {
        font-size: 1.6rem;
        font-variant-numeric: tabular-nums;
      }
      .ok {
        color: var(--ok);
      }
      .bad {
        color: var(--danger);
      }
      pre {
        background: var(--code-bg);
        color: var(--code-text);
        padding: 0.75rem;
        border-radius: var(--radius);
        overflow: auto;
        max-height: 20rem;
        font-size: 0.8rem;
      }
      details {
        margin-top: 0.75rem;
      }
    `,
  ];
  declare admin: AdminApi;
  declare readOnly: boolean;
  declare overview: SelfTestOverview | undefined;
  declare run: SelfTestRun | undefined;
  declare chosen: Set<string>;
  declare error: string;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    super();
    this.readOnly = false;
    this.overview = undefined;
    this.run = undefined;
    this.chosen = new Set();
    this.error = '';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (!this.readOnly) void this.load();
  }

  override disconnectedCallback(): void {
    clearTimeout(this.timer);
    super.disconnectedCallback();
  }

  async load(): Promise<void> {
    try {
      this.overview = await this.admin.selftest();
      if (this.chosen.size === 0) this.chosen = new Set(this.overview.defaultFamilies);
      const latest = this.overview.runs[0];
      if (latest) {
        this.run = latest;
        if (latest.state !== 'done' && latest.state !== 'error') this.poll(latest.id);
      }
    } catch (e) {
      this.error = errorText(e);
    }
  }

  private poll(id: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(async () => {
      try {
        this.run = await this.admin.selftestRun(id);
        if (this.run.state === 'done' || this.run.state === 'error') {
          notify(this, this.run.verdict === 'passed' ? 'ok' : 'error', `Self-test ${this.run.verdict === 'passed' ? 'passed' : 'failed'}.`);
          this.overview = await this.admin.selftest();
          return;
        }
      } catch (e) {
        this.error = errorText(e);
      }
      if (this.isConnected) this.poll(id);
    }, SELFTEST_POLL_MS);
  }

  private async start(): Promise<void> {
    this.error = '';
    try {
      const order = this.overview?.families ?? [];
      this.run = await this.admin.startSelftest(order.filter((f) => this.chosen.has(f)));
      this.poll(this.run.id);
    } catch (e) {
      this.error = e instanceof ApiError ? e.message : String(e);
    }
  }

  private toggle(family: string, on: boolean): void {
    const next = new Set(this.chosen);
    if (on) next.add(family);
    else next.delete(family);
    this.chosen = next;
  }

  override render() {
    if (this.readOnly) {
      return html`<section class="card"><h2>Self-test</h2><p class="muted">Only administrators can run the self-test: it creates and removes a scratch LUN and target.</p></section>`;
    }
    const o = this.overview;
    const busy = this.run !== undefined && this.run.state !== 'done' && this.run.state !== 'error';
    return html`<section class="card" aria-labelledby="selftest-title">
        <h2 id="selftest-title">Self-test</h2>
        <p>Runs libiscsi's conformance suite (<code>iscsi-test-cu</code>, the one LIO, tgt and SCST are tested with) against a 64 MiB scratch LUN that this appliance's own target serves on a loopback portal. The scratch LUN and target are removed when the run ends. Existing LUNs and sessions are not touched.</p>
        ${this.error ? html`<div class="banner error" role="alert">${this.error}</div>` : nothing}
        ${o && !o.available ? html`<div class="banner error" role="alert">${o.unavailableReason}</div>` : nothing}
        ${o
          ? html`<fieldset ?disabled=${busy || !o.available}>
                <legend>Test families</legend>
                <div class="families">
                  ${o.families.map(
                    (f) => html`<label><input type="checkbox" name="family" value=${f} .checked=${this.chosen.has(f)} @change=${(e: Event) => this.toggle(f, (e.target as HTMLInputElement).checked)} />${f}${o.defaultFamilies.includes(f) ? nothing : html` <span class="muted">(slow)</span>`}</label>`,
                  )}
                </div>
              </fieldset>
              <div class="actions">
                <button class="primary" type="button" ?disabled=${busy || !o.available || this.chosen.size === 0} @click=${this.start}>${busy ? 'Running…' : 'Run self-test'}</button>
                <span class="muted">${this.chosen.size} famil${this.chosen.size === 1 ? 'y' : 'ies'} chosen; the default set takes a few seconds.</span>
                <span class="spacer"></span>
                <button type="button" ?disabled=${busy} @click=${() => (this.chosen = new Set(o.defaultFamilies))}>Default set</button>
                <button type="button" ?disabled=${busy} @click=${() => (this.chosen = new Set())}>None</button>
              </div>`
          : html`<p class="empty" aria-busy="true">Loading…</p>`}
      </section>
      ${this.run ? this.renderRun(this.run) : nothing}`;
  }

  private renderRun(r: SelfTestRun) {
    const done = r.state === 'done' || r.state === 'error';
    const c = r.counts;
    const notPassed = r.cases.filter((x) => x.status !== 'passed');
    return html`<section class="card" aria-labelledby="run-title" aria-busy=${done ? 'false' : 'true'}>
      <h2 id="run-title">Run ${r.id} <span class="muted">— started ${new Date(r.startedAt).toLocaleString()} by ${r.startedBy}</span></h2>
      <p role="status" id="selftest-state">
        <strong class=${done ? (r.verdict === 'passed' ? 'ok' : 'bad') : ''}>${done ? (r.verdict === 'passed' ? 'Passed' : 'Failed') : STATE_TEXT[r.state]}</strong>
        ${done && r.finishedAt ? html` in ${((r.finishedAt - r.startedAt) / 1000).toFixed(1)} s` : nothing}
        ${!done && r.progress.current ? html` — ${r.progress.current}` : nothing}
      </p>
      ${!done ? html`<progress max=${Math.max(r.progress.total, 1)} .value=${r.progress.done} aria-label="Tests run">${r.progress.done} of ${r.progress.total}</progress>
        <p class="muted">${r.progress.done} of ${r.progress.total} tests</p>` : nothing}
      ${r.message ? html`<div class="banner error" role="alert">${r.message}</div>` : nothing}
      ${c
        ? html`<div class="totals" aria-label="Totals">
            <div><strong class="ok" data-count="passed">${c.passed}</strong><span>passed</span></div>
            <div><strong class=${c.failed ? 'bad' : ''} data-count="failed">${c.failed}</strong><span>failed</span></div>
            <div><strong class=${c.skippedUnsupported ? 'bad' : ''} data-count="unsupported">${c.skippedUnsupported}</strong><span>skipped: not supported</span></div>
            <div><strong data-count="not-applicable">${c.skippedNotApplicable}</strong><span>skipped: not applicable</span></div>
          </div>`
        : nothing}
      ${done && notPassed.length
        ? html`<table>
            <thead><tr><th scope="col">Test</th><th scope="col">Result</th><th scope="col">Why</th></tr></thead>
            <tbody>
              ${notPassed.map((x) => html`<tr><th scope="row" class="mono">${x.suite}.${x.name}</th><td class=${x.status === 'failed' || x.status === 'skipped-unsupported' ? 'bad' : ''}>${x.status}</td><td class="mono">${[...x.failures, ...x.skipReasons].join('; ')}</td></tr>`)}
            </tbody>
          </table>`
        : nothing}
      ${done && r.cases.length
        ? html`<details>
            <summary>All ${r.cases.length} tests</summary>
            <pre>${r.cases.map((x) => `${x.status.padEnd(24)} ${x.suite}.${x.name}`).join('\n')}</pre>
          </details>`
        : nothing}
      ${r.logTail.length ? html`<details><summary>Output of iscsi-test-cu (last lines)</summary><pre>${r.logTail.join('\n')}</pre></details>` : nothing}
      ${done ? html`<p class="muted">Cleanup: ${r.cleanup.length ? r.cleanup.join(', ') + ' removed' : 'nothing to remove'}.</p>` : nothing}
    </section>`;
  }
}
customElements.define('admin-selftest', AdminSelftest);
