import { LitElement, css, html, nothing } from 'lit';
import { detailText } from './admin-logic.ts';
import { ApiError } from './api.ts';
import type { AdminApi, AuditEntry, AuditFilter } from './api-admin.ts';
import { formValues } from './fields.ts';
import { Refresher } from './refresher.ts';
import { sharedStyles } from './shared-styles.ts';

export const AUDIT_PAGE_SIZE = 50;

/** Administration → Audit log: every change, sign-in and shell session; filters by user, action, text and dates; pages. */
export class AdminAudit extends LitElement {
  static override properties = {
    admin: { attribute: false },
    entries: { state: true },
    more: { state: true },
    page: { state: true },
    filter: { state: true },
    error: { state: true },
    fieldErrors: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      form.filters {
        display: grid;
        grid-template-columns: repeat(5, minmax(0, 1fr)) auto;
        gap: 0.75rem;
        align-items: end;
        margin-bottom: 1rem;
      }
      td.detail {
        font-family: var(--mono);
        font-size: 0.8rem;
        color: var(--muted);
        max-width: 28rem;
        overflow-wrap: anywhere;
      }
      td.when,
      td.mono {
        white-space: nowrap;
        font-variant-numeric: tabular-nums;
      }
      .pager {
        display: flex;
        gap: 0.75rem;
        align-items: center;
        justify-content: flex-end;
        margin-top: 0.75rem;
      }
    `,
  ];
  declare admin: AdminApi;
  declare entries: AuditEntry[] | undefined;
  declare more: boolean;
  declare page: number;
  declare filter: AuditFilter;
  declare error: string;
  declare fieldErrors: Record<string, string>;

  constructor() {
    super();
    // the first page follows new entries as they happen; older pages stay put while being read
    new Refresher(this, async () => {
      if (this.page === 0) await this.load();
    });
    this.entries = undefined;
    this.more = false;
    this.page = 0;
    this.filter = {};
    this.error = '';
    this.fieldErrors = {};
  }

  async load(): Promise<void> {
    try {
      const r = await this.admin.audit(this.filter, this.page, AUDIT_PAGE_SIZE);
      this.entries = r.entries;
      this.more = r.more;
      this.error = '';
      this.fieldErrors = {};
    } catch (e) {
      if (e instanceof ApiError) {
        this.fieldErrors = e.byField();
        this.error = e.message;
      } else this.error = String(e);
    }
  }

  private async apply(ev: SubmitEvent): Promise<void> {
    ev.preventDefault();
    const v = formValues(ev.target as HTMLFormElement);
    if (v['fromDate'] && v['toDate'] && v['fromDate'] > v['toDate']) {
      this.fieldErrors = { to: 'must not be before “From”' };
      return;
    }
    this.filter = { user: v['user'] ?? '', action: v['action'] ?? '', q: v['q'] ?? '', fromDate: v['fromDate'] ?? '', toDate: v['toDate'] ?? '' };
    this.page = 0;
    await this.load();
  }

  private async clear(): Promise<void> {
    this.renderRoot.querySelector<HTMLFormElement>('form.filters')?.reset();
    this.filter = {};
    this.page = 0;
    await this.load();
  }

  private async go(page: number): Promise<void> {
    this.page = page;
    await this.load();
  }

  override render() {
    const e = this.fieldErrors;
    return html`<section class="card" aria-labelledby="audit-title">
      <h2 id="audit-title">Audit log</h2>
      <form class="filters" @submit=${this.apply} aria-label="Filter the audit log">
        <div class="field"><label for="audit-user">User</label><input id="audit-user" name="user" placeholder="admin" autocomplete="off" /></div>
        <div class="field">
          <label for="audit-action">Action</label>
          <input id="audit-action" name="action" list="audit-actions" placeholder="shell" autocomplete="off" aria-describedby="audit-action-hint" />
          <datalist id="audit-actions">
            ${['shell', 'login', 'user', 'token', 'lun', 'target', 'settings', 'selftest', 'tls', 'config'].map((a) => html`<option value=${a}></option>`)}
          </datalist>
          <span class="visually-hidden" id="audit-action-hint">An action or its first part: shell matches shell.start and shell.end</span>
        </div>
        <div class="field"><label for="audit-q">Text</label><input id="audit-q" name="q" type="search" placeholder="vmfs01, 10.0.0.5…" autocomplete="off" /></div>
        <div class="field"><label for="audit-from">From</label><input id="audit-from" name="fromDate" type="date" /></div>
        <div class="field">
          <label for="audit-to">To</label><input id="audit-to" name="toDate" type="date" aria-invalid=${e['to'] ? 'true' : 'false'} aria-describedby=${e['to'] ? 'audit-to-error' : nothing} />
          ${e['to'] ? html`<div class="error" id="audit-to-error" role="alert">${e['to']}</div>` : nothing}
        </div>
        <div class="actions"><button class="primary" type="submit">Filter</button><button type="button" @click=${this.clear}>Clear</button></div>
      </form>
      ${this.error ? html`<div class="banner error" role="alert">${this.error}</div>` : nothing}
      ${this.renderTable()}
      <div class="pager">
        <span class="muted" aria-live="polite">Page ${this.page + 1}</span>
        <button type="button" ?disabled=${this.page === 0} @click=${() => this.go(this.page - 1)}>Newer</button>
        <button type="button" ?disabled=${!this.more} @click=${() => this.go(this.page + 1)}>Older</button>
      </div>
    </section>`;
  }

  private renderTable() {
    if (this.entries === undefined) return html`<p class="empty" aria-busy="true">Loading…</p>`;
    if (this.entries.length === 0) return html`<p class="empty">No entries match.</p>`;
    return html`<table>
      <thead><tr><th scope="col">When</th><th scope="col">User</th><th scope="col">Action</th><th scope="col">Object</th><th scope="col">Address</th><th scope="col">Detail</th></tr></thead>
      <tbody>
        ${this.entries.map(
          (a) => html`<tr data-action=${a.action}>
            <td class="when">${new Date(a.at).toLocaleString()}</td>
            <td>${a.actor}</td>
            <td><code>${a.action}</code></td>
            <td>${a.object}</td>
            <td class="mono">${a.ip}</td>
            <td class="detail">${detailText(a.detail)}</td>
          </tr>`,
        )}
      </tbody>
    </table>`;
  }
}
customElements.define('admin-audit', AdminAudit);
