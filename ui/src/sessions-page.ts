import { LitElement, css, html, nothing } from 'lit';
import { ApiError, type ApiClient, type Target } from './api.ts';
import { endSession, fetchSessions, type LiveSession } from './api-live.ts';
import type { ConfirmDialog } from './confirm-dialog.ts';
import { notify } from './fields.ts';
import { liveEvents, type LiveEvents } from './live-events.ts';
import { formatIops, formatRate, formatSince, paramRows } from './live-format.ts';
import { Refresher } from './refresher.ts';
import { routeHref } from './router.ts';
import { sharedStyles } from './shared-styles.ts';
import { errorText } from './format.ts';

/** Sessions: who is connected, from where, over which portal, to which target, negotiated what; end one (admin). */
export class SessionsPage extends LitElement {
  static override properties = {
    api: { attribute: false },
    readOnly: { type: Boolean },
    sessions: { state: true },
    targets: { state: true },
    loadError: { state: true },
    actionError: { state: true },
    ending: { state: true },
    tick: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      .table-wrap {
        overflow-x: auto;
      }
      tr.session > * {
        border-bottom: none;
      }
      tr.params > td {
        padding-top: 0;
      }
      .mono {
        font-family: var(--mono);
        font-size: 0.85rem;
        overflow-wrap: anywhere;
      }
      /* address:port and "34 s ago" read as one token: a break inside them is misread */
      td.mono,
      td time {
        white-space: nowrap;
      }
      .sub {
        color: var(--muted);
        font-size: 0.85rem;
        font-weight: 400;
      }
      .kind {
        display: inline-block;
        padding: 0 0.45rem;
        border-radius: 999px;
        background: var(--surface-2);
        color: var(--muted);
        font-size: 0.75rem;
        font-weight: 600;
        margin-left: 0.35rem;
      }
      details summary {
        cursor: pointer;
        color: var(--accent);
        font-size: 0.9rem;
        width: max-content;
      }
      dl.params {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(19rem, 1fr));
        gap: 0.2rem 1.5rem;
        margin: 0.5rem 0 0.25rem;
      }
      dl.params div {
        display: flex;
        justify-content: space-between;
        gap: 0.75rem;
        border-bottom: 1px dotted var(--border);
        padding: 0.15rem 0;
      }
      dl.params dt {
        color: var(--muted);
        font-size: 0.85rem;
      }
      dl.params dd {
        margin: 0;
        white-space: nowrap;
        font-family: var(--mono);
        font-size: 0.85rem;
        text-align: right;
      }
      td .actions {
        justify-content: flex-end;
      }
    `,
  ];
  declare api: ApiClient;
  declare readOnly: boolean;
  declare sessions: LiveSession[] | undefined;
  declare targets: Target[];
  declare loadError: string;
  declare actionError: string;
  declare ending: ReadonlySet<number>;
  declare tick: number;
  private live: LiveEvents | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly onLiveSessions = (e: Event) => {
    this.sessions = (e as CustomEvent<LiveSession[]>).detail;
    this.loadError = '';
  };
  private readonly onStats = () => this.tick++;

  constructor() {
    super();
    new Refresher(this, () => this.load());
    this.readOnly = false;
    this.sessions = undefined;
    this.targets = [];
    this.loadError = '';
    this.actionError = '';
    this.ending = new Set();
    this.tick = 0;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.live = liveEvents();
    if (this.live) {
      this.unsubscribe = this.live.subscribe();
      this.live.addEventListener('sessions', this.onLiveSessions);
      this.live.addEventListener('stats', this.onStats);
    }
  }

  override disconnectedCallback(): void {
    this.live?.removeEventListener('sessions', this.onLiveSessions);
    this.live?.removeEventListener('stats', this.onStats);
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    super.disconnectedCallback();
  }

  async load(): Promise<void> {
    const [sessions, targets] = await Promise.allSettled([fetchSessions(this.api), this.api.targets()]);
    if (targets.status === 'fulfilled') this.targets = targets.value;
    if (sessions.status === 'fulfilled') {
      this.sessions = sessions.value;
      this.loadError = '';
    } else {
      const e = sessions.reason;
      this.loadError = e instanceof ApiError && e.code === 'target-unavailable' ? `The iSCSI target daemon is not answering: ${e.message}` : errorText(e);
    }
  }

  private targetId(iqn: string | undefined): number | undefined {
    if (!iqn) return undefined;
    return this.targets.find((t) => t.iqn.toLowerCase() === iqn.toLowerCase())?.id;
  }

  private rates(iqn: string | undefined): { iops: number; bytes: number; luns: number } | undefined {
    const stats = this.live?.lastStats;
    if (!iqn || !stats) return undefined;
    let iops = 0;
    let bytes = 0;
    let luns = 0;
    for (const l of stats.luns) {
      if (l.target.toLowerCase() !== iqn.toLowerCase()) continue;
      iops += l.readIops + l.writeIops;
      bytes += l.readBytesPerSec + l.writeBytesPerSec;
      luns++;
    }
    return { iops, bytes, luns };
  }

  private async end(s: LiveSession): Promise<void> {
    const dialog = this.renderRoot.querySelector<ConfirmDialog>('confirm-dialog')!;
    const r = this.rates(s.target);
    const ok = await dialog.ask({
      title: `End the session of ${s.initiatorName}?`,
      body: html`<p>The initiator <code>${s.initiatorName}</code> at <code>${s.remote}</code> is asked to log out of
          ${s.target ? html`<code>${s.target}</code>` : 'discovery'} and is disconnected if it does not.</p>
        ${s.kind === 'Normal'
          ? html`<p>Its I/O stops at once${r && r.luns > 0 ? html` (${r.luns} LUN${r.luns === 1 ? '' : 's'}, ${formatIops(r.iops)} now)` : nothing}; ${s.tasks > 0 ? html`<strong>${s.tasks} command${s.tasks === 1 ? '' : 's'} in flight</strong> are aborted and` : 'commands in flight'} are retried by the initiator when it reconnects. A host without multipathing may see its disks go away.</p>`
          : nothing}
        <p>The initiator may log in again: to keep it out, remove it from the target's allowed initiators.</p>`,
      confirmLabel: 'End session',
    });
    if (!ok) return;
    this.actionError = '';
    this.ending = new Set([...this.ending, s.tsih]);
    this.live?.noteEnding(s);
    try {
      await endSession(this.api, s.tsih);
      notify(this, 'ok', `Session of ${s.initiatorName} ended.`);
    } catch (e) {
      const gone = e instanceof ApiError && e.status === 404;
      if (gone) notify(this, 'ok', `The session of ${s.initiatorName} had already ended.`);
      else {
        this.actionError = `The session of ${s.initiatorName} was not ended: ${errorText(e)}`;
        notify(this, 'error', this.actionError);
      }
    } finally {
      const rest = new Set(this.ending);
      rest.delete(s.tsih);
      this.ending = rest;
      await this.load();
    }
  }

  override render() {
    const list = this.sessions;
    const normal = list?.filter((s) => s.kind !== 'Discovery').length ?? 0;
    return html`<div class="head">
        <h1>Sessions</h1>
        ${list ? html`<span class="muted" role="status">${normal} session${normal === 1 ? '' : 's'} to targets${list.length > normal ? `, ${list.length - normal} discovery` : ''}</span>` : nothing}
      </div>
      ${this.loadError ? html`<div class="banner error" role="alert">${this.loadError}</div>` : nothing}
      ${this.actionError ? html`<div class="banner error" role="alert" id="sessions-action-error">${this.actionError}</div>` : nothing}
      <section class="card" aria-labelledby="sessions-title">
        <h2 id="sessions-title" class="visually-hidden">Logged-in initiators</h2>
        ${this.renderTable()}
      </section>
      ${this.readOnly ? html`<p class="muted">You have read-only access: ending sessions needs an administrator.</p>` : nothing}
      <confirm-dialog></confirm-dialog>`;
  }

  private renderTable() {
    const list = this.sessions;
    if (list === undefined) return this.loadError ? html`<p class="empty">No session list.</p>` : html`<p class="empty" aria-busy="true">Loading…</p>`;
    if (list.length === 0) return html`<p class="empty">No initiator is logged in. Hosts appear here as soon as they log in to a target.</p>`;
    const now = Date.now();
    const cols = this.readOnly ? 6 : 7;
    return html`<div class="table-wrap"><table>
      <thead>
        <tr>
          <th scope="col">Initiator</th>
          <th scope="col">From</th>
          <th scope="col">Portal</th>
          <th scope="col">Target</th>
          <th scope="col">Since</th>
          <th scope="col" class="num">Target I/O now</th>
          ${this.readOnly ? nothing : html`<th scope="col"><span class="visually-hidden">Actions</span></th>`}
        </tr>
      </thead>
      <tbody>
        ${list.map((s) => {
          const id = this.targetId(s.target);
          const r = this.rates(s.target);
          const ending = this.ending.has(s.tsih);
          const params = paramRows(s.params ?? {});
          return html`<tr class="session" data-session=${s.initiatorName} data-tsih=${s.tsih} data-remote=${s.remote}>
              <th scope="row">
                <span class="mono">${s.initiatorName}</span>${s.kind === 'Discovery' ? html`<span class="kind">discovery</span>` : nothing}
                <div class="sub">ISID <span class="mono">${s.isid}</span> · TSIH ${s.tsih}</div>
              </th>
              <td class="mono">${s.remote}</td>
              <td class="mono">${s.portal}</td>
              <td>${s.target ? (id ? html`<a class="mono" href=${routeHref({ page: 'target', id, tab: 'overview' })}>${s.target}</a>` : html`<span class="mono">${s.target}</span>`) : html`<span class="muted">—</span>`}</td>
              <td><time datetime=${s.since} title=${new Date(s.since).toLocaleString()}>${formatSince(s.since, now)}</time></td>
              <td class="num">${r ? html`${formatIops(r.iops)}<div class="sub">${formatRate(r.bytes)}</div>` : '—'}<div class="sub">${s.tasks} in flight</div></td>
              ${this.readOnly
                ? nothing
                : html`<td><div class="actions"><button type="button" class="danger" ?disabled=${ending} aria-label=${`End the session of ${s.initiatorName}`} @click=${() => this.end(s)}>${ending ? 'Ending…' : 'End session'}</button></div></td>`}
            </tr>
            <tr class="params">
              <td colspan=${cols}>
                <details>
                  <summary>Negotiated parameters<span class="visually-hidden"> of ${s.initiatorName}</span> (${params.length})</summary>
                  <dl class="params">${params.map((p) => html`<div><dt>${p.key}</dt><dd>${p.value}</dd></div>`)}</dl>
                </details>
              </td>
            </tr>`;
        })}
      </tbody>
    </table></div>`;
  }
}
customElements.define('sessions-page', SessionsPage);
