/**
 * <live-chart kind="iops|throughput|latency" .points=${StatsPoint[]}>: one uPlot time series chart. Loaded only
 * when the dashboard shows its charts (dynamic import: uPlot stays out of the first load). The canvas is hidden
 * from screen readers: the page shows the same numbers as text beside it.
 *
 * Colours come from the theme tokens (read from the computed style); the chart is rebuilt when the theme changes
 * and resized with its container.
 */
import { LitElement, css, html, unsafeCSS, type PropertyValues } from 'lit';
import uPlot from 'uplot';
import uplotCss from 'uplot/dist/uPlot.min.css' with { type: 'text' };
import type { StatsPoint } from '../live-events.ts';
import { CHARTS, toColumns, translucent, yRange, type ChartKind } from './series.ts';

const HEIGHT = 170;
const X_INCREMENTS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];
const two = (n: number): string => String(n).padStart(2, '0');
const clock = (seconds: number): string => {
  const d = new Date(seconds * 1000);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
};

export class LiveChart extends LitElement {
  static override properties = { kind: { type: String }, points: { attribute: false } };
  static override styles = [
    unsafeCSS(uplotCss),
    css`
      /* line colours: --chart-read / --chart-write / --chart-latency from the page (series.ts has fallbacks) */
      :host {
        display: block;
        min-width: 0;
      }
      .plot {
        width: 100%;
        height: ${HEIGHT}px;
      }
      .uplot {
        font-family: var(--font);
        width: 100%;
      }
    `,
  ];
  declare kind: ChartKind;
  declare points: readonly StatsPoint[];
  private plot: uPlot | undefined;
  private resize: ResizeObserver | undefined;
  private themeWatch: MutationObserver | undefined;
  private readonly media = matchMedia('(prefers-color-scheme: dark)');
  private readonly rebuild = () => {
    this.plot?.destroy();
    this.plot = undefined;
    this.draw();
  };

  constructor() {
    super();
    this.kind = 'iops';
    this.points = [];
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.themeWatch = new MutationObserver(this.rebuild);
    this.themeWatch.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
    this.media.addEventListener('change', this.rebuild);
  }

  override disconnectedCallback(): void {
    this.themeWatch?.disconnect();
    this.media.removeEventListener('change', this.rebuild);
    this.resize?.disconnect();
    this.resize = undefined;
    this.plot?.destroy();
    this.plot = undefined;
    super.disconnectedCallback();
  }

  override render() {
    return html`<div class="plot" aria-hidden="true"></div>`;
  }

  protected override firstUpdated(): void {
    const box = this.renderRoot.querySelector<HTMLElement>('.plot')!;
    this.resize = new ResizeObserver(() => {
      const w = Math.floor(box.clientWidth);
      if (this.plot && w > 0 && w !== this.plot.width) this.plot.setSize({ width: w, height: HEIGHT });
    });
    this.resize.observe(box);
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('kind') && this.plot) this.rebuild();
    else this.draw();
    this.dataset['points'] = String(this.points.length);
  }

  private token(name: string, fallback: string): string {
    return getComputedStyle(this).getPropertyValue(name).trim() || fallback;
  }

  private draw(): void {
    const box = this.renderRoot.querySelector<HTMLElement>('.plot');
    if (!box) return;
    const data = toColumns(this.kind, this.points) as uPlot.AlignedData;
    if (this.plot) {
      this.plot.setData(data);
      return;
    }
    const spec = CHARTS[this.kind];
    const muted = this.token('--muted', '#5a6678');
    const grid = this.token('--border', '#d5dbe3');
    const font = `12px ${this.token('--font', 'sans-serif')}`;
    const axis = { stroke: muted, font, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const opts: uPlot.Options = {
      width: Math.max(200, Math.floor(box.clientWidth)),
      height: HEIGHT,
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => yRange(this.kind, max) } },
      axes: [
        // wall-clock ticks in whole seconds (HH:MM:SS, no date line): the window is minutes long
        { ...axis, space: 70, incrs: X_INCREMENTS, values: (_u, splits) => splits.map(clock) },
        // wide enough for the longest label ("976.6K/s" at 12 px needs ~60 px of text plus the tick and a gap)
        { ...axis, size: (_u, values) => Math.max(48, 22 + 7 * Math.max(0, ...(values ?? []).map((v) => v.length))), values: (_u, splits) => splits.map((v) => spec.axis(v)) },
      ],
      series: [
        {},
        ...spec.series.map((s) => {
          const color = this.token(s.colorVar, s.fallback);
          const fill = translucent(color, 0.12);
          return { label: s.label, stroke: color, width: 2, spanGaps: false, points: { show: false }, ...(fill ? { fill } : {}) };
        }),
      ],
    };
    this.plot = new uPlot(opts, data, box);
  }
}
customElements.define('live-chart', LiveChart);

declare global {
  interface HTMLElementTagNameMap {
    'live-chart': LiveChart;
  }
}
