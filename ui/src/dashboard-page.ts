import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import type { ApiClient, Lun, LunMapping, Target } from './api.ts';
import { fetchStorage, fetchSystem, poolUsages, type LiveSession, type PoolUsage, type StorageSummary, type SystemInfo, type ThinPool } from './api-live.ts';
import type { ChartKind } from './charts/series.ts';
import { CRITICAL_FRACTION, deriveAlerts, type DashboardAlert } from './dashboard-alerts.ts';
import { cssProps } from './css-props.ts';
import { errorText, formatBytes } from './format.ts';
import { liveEvents, type LiveEvents, type LunRates, type StatsPoint } from './live-events.ts';
import { formatDuration, formatIops, formatLatency, formatPercent, formatRate } from './live-format.ts';
import { Refresher } from './refresher.ts';
import { routeHref } from './router.ts';
import { sharedStyles } from './shared-styles.ts';

type Loaded<T> = { ok: true; value: T } | { ok: false; error: string } | undefined;

const settle = <T>(r: PromiseSettledResult<T>): Loaded<T> =>
  r.status === 'fulfilled' ? { ok: true, value: r.value } : { ok: false, error: r.reason instanceof Error ? r.reason.message : String(r.reason) };

/** how many LUN rows the live table lists (the busiest first) */
const TOP_LUNS = 8;

/**
 * The dashboard: alerts, system (CPU, memory, load, uptime, network, disks), storage pools against their
 * thresholds, targets with their sessions, and live IOPS / throughput / latency from the event stream. The charts
 * (uPlot) load on demand; the same numbers are always shown as text beside them.
 */
export class DashboardPage extends LitElement {
  static override properties = {
    api: { attribute: false },
    readOnly: { type: Boolean },
    system: { state: true },
    storage: { state: true },
    targets: { state: true },
    mappings: { state: true },
    luns: { state: true },
    chartsReady: { state: true },
    chartsError: { state: true },
    tick: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      .stream {
        display: inline-flex;
        align-items: center;
        gap: 0.4rem;
        color: var(--muted);
        font-size: 0.9rem;
      }
      .dot {
        width: 0.6rem;
        height: 0.6rem;
        border-radius: 50%;
        background: var(--muted);
      }
      .stream[data-state='open'] .dot {
        background: var(--ok);
      }
      .stream[data-state='retrying'] .dot,
      .stream[data-state='closed'] .dot {
        background: var(--danger);
      }
      .grid3,
      .grid2,
      .charts {
        display: grid;
        gap: 1.25rem;
        align-items: start;
        margin-bottom: 1.25rem;
      }
      .grid3 {
        grid-template-columns: repeat(3, minmax(0, 1fr));
      }
      .grid2 {
        grid-template-columns: repeat(2, minmax(0, 1fr));
      }
      .charts {
        grid-template-columns: repeat(3, minmax(0, 1fr));
        margin: 0 0 1rem;
      }
      @media (max-width: 1100px) {
        .grid3,
        .charts {
          grid-template-columns: repeat(2, minmax(0, 1fr));
        }
      }
      .grid3 .card,
      .grid2 .card {
        margin: 0;
        min-width: 0;
      }
      ul.alerts {
        list-style: none;
        margin: 0;
        padding: 0;
        display: grid;
        gap: 0.4rem;
      }
      ul.alerts li {
        padding: 0.5rem 0.75rem;
        border-radius: var(--radius);
        border-left: 4px solid var(--muted);
        background: var(--surface-2);
      }
      ul.alerts li[data-level='critical'] {
        border-left-color: var(--danger);
        background: var(--danger-bg);
      }
      ul.alerts li[data-level='warning'] {
        border-left-color: var(--focus);
      }
      .level {
        font-weight: 700;
        margin-right: 0.4rem;
      }
      li[data-level='critical'] .level {
        color: var(--danger);
      }
      dl.facts {
        gap: 0.35rem 1rem;
        margin: 0;
      }
      .meter {
        display: grid;
        gap: 0.25rem;
        margin-bottom: 0.8rem;
      }
      .meter .label {
        display: flex;
        justify-content: space-between;
        gap: 0.75rem;
        font-size: 0.9rem;
      }
      .meter .label span:last-child {
        font-variant-numeric: tabular-nums;
        color: var(--muted);
        text-align: right;
      }
      .bar {
        position: relative;
        height: 0.7rem;
        border-radius: 999px;
        background: var(--surface-2);
        border: 1px solid var(--border);
        overflow: hidden;
      }
      .fill {
        height: 100%;
        background: var(--accent);
      }
      .bar[data-level='warning'] .fill {
        background: var(--focus);
      }
      .bar[data-level='critical'] .fill {
        background: var(--danger);
      }
      .mark {
        position: absolute;
        top: 0;
        bottom: 0;
        width: 2px;
        background: var(--text);
        opacity: 0.6;
      }
      .badge {
        display: inline-block;
        padding: 0.05rem 0.5rem;
        border-radius: 999px;
        font-size: 0.8rem;
        font-weight: 600;
        background: var(--surface-2);
        color: var(--muted);
      }
      .badge[data-health='ok'],
      .badge[data-health='passed'] {
        background: var(--ok-bg);
        color: var(--ok);
      }
      .badge[data-health='bad'] {
        background: var(--danger-bg);
        color: var(--danger);
      }
      figure {
        margin: 0;
        min-width: 0;
        border: 1px solid var(--border);
        border-radius: var(--radius);
        padding: 0.75rem;
        background: var(--bg);
      }
      figcaption {
        display: grid;
        gap: 0.15rem;
        margin-bottom: 0.5rem;
      }
      figcaption h3 {
        margin: 0;
      }
      .now {
        display: flex;
        gap: 1rem;
        font-variant-numeric: tabular-nums;
        font-size: 0.95rem;
      }
      /* the chart colours (live-chart reads them): the accent, and an orange / a teal that keep their contrast on
         both themes' surfaces */
      :host {
        --chart-read: var(--accent);
        --chart-write: #d9480f;
        --chart-latency: #0b7285;
      }
      :host-context([data-theme='dark']) {
        --chart-write: #ff8c42;
        --chart-latency: #3bc9db;
      }
      @media (prefers-color-scheme: dark) {
        :host-context(:root:not([data-theme='light'])) {
          --chart-write: #ff8c42;
          --chart-latency: #3bc9db;
        }
      }
      .swatch {
        display: inline-block;
        width: 0.8rem;
        height: 0.25rem;
        border-radius: 2px;
        vertical-align: middle;
        margin-right: 0.3rem;
        background: var(--chart-read);
      }
      .swatch.write {
        background: var(--chart-write);
      }
      .swatch.latency {
        background: var(--chart-latency);
      }
      .chart-slot {
        height: 170px;
        display: grid;
        place-items: center;
      }
      td.mono,
      th.mono {
        font-family: var(--mono);
        font-size: 0.85rem;
        overflow-wrap: anywhere;
      }
      .table-wrap {
        overflow-x: auto;
      }
      td.num {
        white-space: nowrap;
      }
      th .sub {
        font-weight: 400;
        font-size: 0.85rem;
        color: var(--muted);
      }
      .card-head {
        display: flex;
        justify-content: space-between;
        align-items: baseline;
        gap: 1rem;
      }
    `,
  ];
  declare api: ApiClient;
  declare readOnly: boolean;
  declare system: Loaded<SystemInfo | undefined>;
  declare storage: Loaded<{ summary: StorageSummary; thinPools: ThinPool[] } | undefined>;
  declare targets: Loaded<Target[]>;
  declare mappings: LunMapping[];
  declare luns: Lun[];
  declare chartsReady: boolean;
  declare chartsError: string;
  declare tick: number;
  private live: LiveEvents | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly redraw = () => this.tick++;

  constructor() {
    super();
    new Refresher(this, () => this.load());
    this.readOnly = false;
    this.system = undefined;
    this.storage = undefined;
    this.targets = undefined;
    this.mappings = [];
    this.luns = [];
    this.chartsReady = false;
    this.chartsError = '';
    this.tick = 0;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.live = liveEvents();
    if (this.live) {
      this.unsubscribe = this.live.subscribe();
      for (const t of ['stats', 'sessions', 'target', 'alert', 'state']) this.live.addEventListener(t, this.redraw);
    }
    // uPlot (~50 KB) comes with the charts' own chunk, after the page is up
    import('./charts/live-chart.ts').then(
      () => (this.chartsReady = true),
      (e: unknown) => (this.chartsError = `charts unavailable: ${errorText(e)}`),
    );
  }

  override disconnectedCallback(): void {
    if (this.live) for (const t of ['stats', 'sessions', 'target', 'alert', 'state']) this.live.removeEventListener(t, this.redraw);
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    super.disconnectedCallback();
  }

  async load(): Promise<void> {
    // sessions and I/O come from the event stream (sent on connect, then on every change), not from polling
    const [system, storage, targets, mappings, luns] = await Promise.allSettled([
      fetchSystem(this.api),
      fetchStorage(this.api),
      this.api.targets(),
      this.api.mappings(),
      this.api.luns(),
    ]);
    this.system = settle(system);
    this.storage = settle(storage);
    this.targets = settle(targets);
    if (mappings.status === 'fulfilled') this.mappings = mappings.value;
    if (luns.status === 'fulfilled') this.luns = luns.value;
  }

  /** the stream's session list; undefined until it has sent one */
  private sessions(): LiveSession[] | undefined {
    return this.live?.sessions;
  }

  private pools(): PoolUsage[] {
    return this.storage?.ok && this.storage.value ? poolUsages(this.storage.value.summary, this.storage.value.thinPools) : [];
  }

  private alerts(): DashboardAlert[] {
    return deriveAlerts({
      pools: this.pools(),
      system: this.system?.ok ? this.system.value : undefined,
      target: this.live?.target,
      ended: this.live?.ended ?? [],
      serverAlerts: this.live?.alerts ?? [],
      now: Date.now(),
    });
  }

  override render() {
    const state = this.live?.state ?? 'idle';
    const stateText = state === 'open' ? 'Live' : state === 'connecting' ? 'Connecting…' : state === 'retrying' ? 'Reconnecting… (refreshing every 5 s meanwhile)' : 'Live updates off (refreshing every 5 s)';
    return html`<div class="head">
        <h1>Dashboard</h1>
        <span class="stream" data-state=${state} role="status"><span class="dot" aria-hidden="true"></span>${stateText}</span>
      </div>
      ${this.renderAlerts()}
      <div class="grid3">${this.renderSystem()} ${this.renderNetwork()} ${this.renderDisks()}</div>
      <div class="grid2">${this.renderPools()} ${this.renderTargets()}</div>
      ${this.renderLive()}`;
  }

  private renderAlerts() {
    const alerts = this.alerts();
    return html`<section class="card" aria-labelledby="alerts-title" id="alerts">
      <h2 id="alerts-title">Alerts${alerts.length ? html` <span class="muted">(${alerts.length})</span>` : nothing}</h2>
      ${alerts.length === 0
        ? html`<p class="muted">No alerts: pools are below their thresholds, disks report no failure, no session has dropped.</p>`
        : html`<ul class="alerts" role="list">
            ${alerts.map((a) => html`<li data-level=${a.level} data-alert=${a.id}><span class="level">${a.level === 'critical' ? 'Critical' : a.level === 'warning' ? 'Warning' : 'Note'}:</span>${a.text}</li>`)}
          </ul>`}
    </section>`;
  }

  private loadState<T>(l: Loaded<T>, what: string): TemplateResult | undefined {
    if (l === undefined) return html`<p class="empty" aria-busy="true">Loading…</p>`;
    if (!l.ok) return html`<div class="banner error" role="alert">${what}: ${l.error}</div>`;
    return undefined;
  }

  private meter(label: string, fraction: number, detail: string, opts: { warnAt?: number; id: string }): TemplateResult {
    const f = Math.min(1, Math.max(0, fraction));
    const level = f >= CRITICAL_FRACTION ? 'critical' : opts.warnAt !== undefined && f >= opts.warnAt ? 'warning' : 'ok';
    return html`<div class="meter" data-meter=${opts.id}>
      <div class="label"><span id=${`${opts.id}-label`}>${label}</span><span>${detail}</span></div>
      <div
        class="bar"
        data-level=${level}
        role="meter"
        aria-labelledby=${`${opts.id}-label`}
        aria-valuemin="0"
        aria-valuemax="100"
        aria-valuenow=${Math.round(f * 100)}
        aria-valuetext=${`${formatPercent(f)}, ${detail}${opts.warnAt !== undefined ? `, threshold ${formatPercent(opts.warnAt)}` : ''}`}
      >
        <div class="fill" data-style=${cssProps({ width: `${(f * 100).toFixed(1)}%` })}></div>
        ${opts.warnAt !== undefined ? html`<div class="mark" title=${`threshold ${formatPercent(opts.warnAt)}`} data-style=${cssProps({ left: `calc(${(opts.warnAt * 100).toFixed(1)}% - 1px)` })}></div>` : nothing}
      </div>
    </div>`;
  }

  private renderSystem() {
    const s = this.system;
    const body = (() => {
      const pending = this.loadState(s, 'System information');
      if (pending) return pending;
      const sys = (s as { ok: true; value: SystemInfo | undefined }).value;
      if (!sys) return html`<p class="muted">This appliance's API reports no system information.</p>`;
      const mem = sys.memory;
      const cpu = sys.cpu.percent;
      return html`${cpu === null
          ? html`<p class="muted">CPU use: measuring…</p>`
          : this.meter('CPU', cpu / 100, `${formatPercent(cpu / 100)} of ${sys.cpu.cores} core${sys.cpu.cores === 1 ? '' : 's'}`, { id: 'cpu' })}
        ${mem && mem.totalBytes > 0
          ? this.meter('Memory', (mem.totalBytes - mem.availableBytes) / mem.totalBytes, `${formatBytes(mem.totalBytes - mem.availableBytes)} of ${formatBytes(mem.totalBytes)}`, { id: 'mem' })
          : nothing}
        <dl class="facts">
          <dt>Host</dt>
          <dd>${sys.hostname}</dd>
          <dt>System</dt>
          <dd>${sys.os.distro} ${sys.os.release} <span class="muted">(Linux ${sys.os.kernel}, ${sys.os.arch})</span></dd>
          <dt>CPU</dt>
          <dd>${sys.cpu.model || '—'}</dd>
          <dt>Load</dt>
          <dd><span aria-label="load average over 1, 5 and 15 minutes">${[sys.load.one, sys.load.five, sys.load.fifteen].map((l) => l.toFixed(2)).join(' · ')}</span> <span class="muted">(1 · 5 · 15 min)</span></dd>
          <dt>Up</dt>
          <dd>${formatDuration(sys.uptimeSeconds)}</dd>
        </dl>`;
    })();
    return html`<section class="card" aria-labelledby="system-title"><h2 id="system-title">System</h2>${body}</section>`;
  }

  private renderNetwork() {
    const s = this.system;
    const body = (() => {
      if (s === undefined || !s.ok || !s.value) return html`<p class="muted">${s === undefined ? 'Loading…' : 'No network information.'}</p>`;
      // the loopback carries the appliance's own traffic (API ↔ target): not what an admin looks for here
      const nics = s.value.interfaces.filter((n) => !n.internal);
      if (nics.length === 0) return html`<p class="empty">No network interfaces reported.</p>`;
      return html`<div class="table-wrap"><table>
        <thead><tr><th scope="col">Interface</th><th scope="col" class="num">Receive</th><th scope="col" class="num">Send</th></tr></thead>
        <tbody>
          ${nics.map(
            (n) => html`<tr data-nic=${n.name}>
              <th scope="row">${n.name}${n.state && n.state !== 'up' ? html` <span class="muted">(${n.state})</span>` : nothing}
                <div class="sub mono">${n.addresses.map((a) => a.cidr ?? a.address).join(', ') || 'no address'}${n.speedMbps ? ` · ${n.speedMbps} Mb/s` : ''}</div></th>
              <td class="num">${formatRate(n.rxBytesPerSec)}</td>
              <td class="num">${formatRate(n.txBytesPerSec)}</td>
            </tr>`,
          )}
        </tbody>
      </table></div>`;
    })();
    return html`<section class="card" aria-labelledby="net-title"><h2 id="net-title">Network</h2>${body}</section>`;
  }

  private renderDisks() {
    const s = this.system;
    const body = (() => {
      if (s === undefined || !s.ok || !s.value) return html`<p class="muted">${s === undefined ? 'Loading…' : 'No disk information.'}</p>`;
      const disks = s.value.disks ?? [];
      if (disks.length === 0) return html`<p class="empty">No disks reported.</p>`;
      return html`<div class="table-wrap"><table>
        <thead><tr><th scope="col">Disk</th><th scope="col" class="num">Size</th><th scope="col">Health</th></tr></thead>
        <tbody>
          ${disks.map((d) => {
            const cls = d.health === 'passed' ? 'ok' : d.health === 'unknown' ? 'unknown' : 'bad';
            return html`<tr data-disk=${d.name}>
              <th scope="row"><span class="mono">${d.name}</span><div class="sub">${[d.kind, d.model].filter(Boolean).join(' · ') || '—'}</div></th>
              <td class="num">${formatBytes(d.sizeBytes)}</td>
              <td><span class="badge" data-health=${cls} title=${d.health === 'unknown' ? 'no SMART data (smartctl missing, or a virtual disk)' : 'SMART overall health'}>${d.health === 'passed' ? 'healthy' : d.health}</span>${d.temperatureC !== null ? html` <span class="muted">${d.temperatureC} °C</span>` : nothing}</td>
            </tr>`;
          })}
        </tbody>
      </table></div>`;
    })();
    return html`<section class="card" aria-labelledby="disks-title"><h2 id="disks-title">Disks</h2>${body}</section>`;
  }

  private renderPools() {
    const body = (() => {
      const st = this.storage;
      if (st === undefined) return html`<p class="empty" aria-busy="true">Loading…</p>`;
      if (!st.ok) return html`<div class="banner error" role="alert">Storage: ${st.error}</div>`;
      if (st.value === undefined) return html`<p class="muted">This appliance's API reports no storage pools.</p>`;
      const pools = this.pools();
      const mode = st.value.summary.mode;
      if (pools.length === 0) return html`<p class="empty">No pools${mode === 'lvm' ? ' yet: create a volume group or thin pool under Disks & pools' : ''}.</p>`;
      return html`<p class="muted">${mode === 'lvm' ? 'LVM volume groups and thin pools' : 'File pool: LUNs are files in this directory'}</p>
        ${pools.map((p, n) =>
          this.meter(
            `${p.name}${p.measure === 'space' ? '' : ` (${p.measure})`}${p.overcommit ? ` · overcommitted ${p.overcommit.toFixed(1)}×` : ''}`,
            p.usedFraction,
            `${formatPercent(p.usedFraction)}${p.sizeBytes ? ` of ${formatBytes(p.sizeBytes)}` : ''}`,
            { warnAt: p.warnAt, id: `pool-${n}` },
          ),
        )}
        <p class="muted">The line on each bar is its threshold: initiators are warned (thin provisioning soft threshold) when a pool passes it.</p>`;
    })();
    return html`<section class="card" aria-labelledby="pools-title">
      <div class="card-head"><h2 id="pools-title">Storage pools</h2><a href=${routeHref({ page: 'pools' })}>Disks &amp; pools</a></div>
      ${body}
    </section>`;
  }

  private targetRates(iqn: string): { iops: number; bytes: number } {
    let iops = 0;
    let bytes = 0;
    for (const l of this.live?.lastStats?.luns ?? []) {
      if (l.target.toLowerCase() !== iqn.toLowerCase()) continue;
      iops += l.readIops + l.writeIops;
      bytes += l.readBytesPerSec + l.writeBytesPerSec;
    }
    return { iops, bytes };
  }

  private renderTargets() {
    const body = (() => {
      const pending = this.loadState(this.targets, 'Targets');
      if (pending) return pending;
      const targets = (this.targets as { ok: true; value: Target[] }).value;
      const known = this.sessions();
      const normal = (known ?? []).filter((s) => s.kind !== 'Discovery');
      return html`<p>
          <strong>${targets.length}</strong> target${targets.length === 1 ? '' : 's'}, <strong>${this.luns.length}</strong> LUN${this.luns.length === 1 ? '' : 's'},
          ${known
            ? html`<strong id="session-count">${normal.length}</strong> live session${normal.length === 1 ? '' : 's'}`
            : html`<span class="muted">sessions not known yet (waiting for the live stream)</span>`}
        </p>
        ${targets.length === 0
          ? html`<p class="empty">No targets yet. <a href=${routeHref({ page: 'wizard' })}>Create one with the wizard</a>.</p>`
          : html`<div class="table-wrap"><table>
              <thead><tr><th scope="col">Target</th><th scope="col" class="num">LUNs</th><th scope="col" class="num">Sessions</th><th scope="col" class="num">I/O now</th></tr></thead>
              <tbody>
                ${targets.map((t) => {
                  const n = normal.filter((s) => s.target?.toLowerCase() === t.iqn.toLowerCase());
                  const r = this.targetRates(t.iqn);
                  return html`<tr data-target=${t.iqn}>
                    <th scope="row" class="mono"><a href=${routeHref({ page: 'target', id: t.id, tab: 'overview' })}>${t.iqn}</a>
                      ${n.length ? html`<div class="sub">${n.map((s, i) => html`${i ? ', ' : ''}<span title=${`from ${s.remote}`} data-remote=${s.remote}>${s.initiatorName}</span>`)}</div>` : nothing}</th>
                    <td class="num">${this.mappings.filter((m) => m.targetId === t.id).length}</td>
                    <td class="num">${known ? n.length : '—'}</td>
                    <td class="num">${formatIops(r.iops)}<div class="muted">${formatRate(r.bytes)}</div></td>
                  </tr>`;
                })}
              </tbody>
            </table></div>`}`;
    })();
    return html`<section class="card" aria-labelledby="targets-title">
      <div class="card-head"><h2 id="targets-title">Targets and sessions</h2><a href=${routeHref({ page: 'sessions' })}>All sessions</a></div>
      ${body}
    </section>`;
  }

  private renderLive() {
    // a copy: the stream appends to its history in place, and the chart redraws when it gets a new array
    const points: readonly StatsPoint[] = [...(this.live?.history ?? [])];
    const last = points[points.length - 1];
    const target = this.live?.target;
    const chart = (kind: ChartKind, title: string, now: TemplateResult, label: string) => html`<figure data-chart=${kind} aria-labelledby=${`chart-${kind}-title`}>
      <figcaption><h3 id=${`chart-${kind}-title`}>${title}</h3><div class="now" aria-label=${label}>${now}</div></figcaption>
      ${this.chartsReady
        ? html`<live-chart kind=${kind} .points=${points}></live-chart>`
        : html`<div class="chart-slot muted">${this.chartsError || 'Loading chart…'}</div>`}
    </figure>`;
    const v = (x: number | undefined, f: (n: number) => string) => (x === undefined ? '—' : f(x));
    return html`<section class="card" aria-labelledby="live-title" id="live">
      <h2 id="live-title">Live I/O <span class="muted">(all LUNs, last ${Math.round((points.length * 2) / 60) || 1} min)</span></h2>
      ${target && !target.available ? html`<div class="banner error" role="alert">No live counters: the target daemon is not answering${target.message ? ` (${target.message})` : ''}.</div>` : nothing}
      ${!this.live ? html`<p class="muted">Live updates need a browser with server-sent events.</p>` : nothing}
      <div class="charts">
        ${chart(
          'iops',
          'IOPS',
          html`<span><span class="swatch" aria-hidden="true"></span>read <strong id="iops-read">${v(last?.readIops, formatIops)}</strong></span>
            <span><span class="swatch write" aria-hidden="true"></span>write <strong id="iops-write">${v(last?.writeIops, formatIops)}</strong></span>`,
          'IOPS now',
        )}
        ${chart(
          'throughput',
          'Throughput',
          html`<span><span class="swatch" aria-hidden="true"></span>read <strong>${formatRate(last?.readBytesPerSec)}</strong></span>
            <span><span class="swatch write" aria-hidden="true"></span>write <strong>${formatRate(last?.writeBytesPerSec)}</strong></span>`,
          'throughput now',
        )}
        ${chart('latency', 'Latency', html`<span><span class="swatch latency" aria-hidden="true"></span>average <strong>${formatLatency(last?.latencyUs)}</strong></span>`, 'latency now')}
      </div>
      ${this.renderLunTable(this.live?.lastStats?.luns ?? [])}
    </section>`;
  }

  private renderLunTable(luns: LunRates[]) {
    if (luns.length === 0) return html`<p class="empty">No LUN is mapped to a running target yet.</p>`;
    const busy = (l: LunRates) => l.readIops + l.writeIops;
    const top = [...luns].sort((a, b) => busy(b) - busy(a)).slice(0, TOP_LUNS);
    return html`<div class="table-wrap"><table aria-label="I/O per LUN now">
      <thead><tr><th scope="col">Target</th><th scope="col" class="num">LUN</th><th scope="col" class="num">Read</th><th scope="col" class="num">Write</th><th scope="col" class="num">Throughput</th><th scope="col" class="num">Latency</th><th scope="col" class="num">In flight</th></tr></thead>
      <tbody>
        ${top.map(
          (l) => html`<tr data-lun-rates=${`${l.target}/${l.lun}`}>
            <th scope="row" class="mono">${l.target}</th>
            <td class="num">${l.lun}</td>
            <td class="num">${formatIops(l.readIops)}</td>
            <td class="num">${formatIops(l.writeIops)}</td>
            <td class="num">${formatRate(l.readBytesPerSec + l.writeBytesPerSec)}</td>
            <td class="num">${formatLatency(l.avgLatencyUs)}</td>
            <td class="num">${l.inFlight}</td>
          </tr>`,
        )}
      </tbody>
    </table>
    ${luns.length > TOP_LUNS ? html`<p class="muted">The ${TOP_LUNS} busiest of ${luns.length} LUNs.</p>` : nothing}</div>`;
  }
}
customElements.define('dashboard-page', DashboardPage);
