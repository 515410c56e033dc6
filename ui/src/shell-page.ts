/**
 * Shell: an xterm.js terminal on a login shell of the appliance, over the API's WebSocket (api/src/routes/shell.ts
 * describes the protocol). Admins only — the API refuses everyone else before a shell exists; the page says so too.
 * xterm.js, its fit addon and its stylesheet are loaded with import() the first time the page opens, so the first
 * load of the UI does not carry them.
 *
 * The page runs under `style-src 'self'` (no inline styles): xterm.js writes its computed styles (cell size, theme
 * colours) into <style> elements it creates, which that policy blocks. So xterm gets a document whose
 * createElement('style') returns an inert, hidden element, and each such element's text is mirrored into a
 * constructable stylesheet adopted by this shadow root (constructable sheets are not inline styles under CSP).
 */
import { LitElement, css, html, nothing } from 'lit';
import { shellCloseMessage } from './admin-logic.ts';
import type { ApiClient } from './api.ts';
import { sharedStyles } from './shared-styles.ts';
import { errorText } from './format.ts';

type Phase = 'loading' | 'connecting' | 'connected' | 'ended';

interface XtermLike {
  cols: number;
  rows: number;
  open(el: HTMLElement): void;
  write(data: Uint8Array | string): void;
  focus(): void;
  dispose(): void;
  loadAddon(a: unknown): void;
  onData(l: (d: string) => void): unknown;
  onResize(l: (s: { cols: number; rows: number }) => void): unknown;
}

export class ShellPage extends LitElement {
  static override properties = {
    api: { attribute: false },
    readOnly: { type: Boolean },
    phase: { state: true },
    message: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      .bar {
        display: flex;
        align-items: center;
        gap: 0.75rem;
        margin-bottom: 0.75rem;
        flex-wrap: wrap;
      }
      .status {
        color: var(--muted);
      }
      .status.ok {
        color: var(--ok);
      }
      .term {
        background: var(--code-bg);
        border: 1px solid var(--border);
        border-radius: var(--radius);
        padding: 0.5rem;
        height: calc(100vh - 13rem);
        min-height: 18rem;
      }
      .term-inner {
        width: 100%;
        height: 100%;
      }
    `,
  ];
  declare api: ApiClient;
  declare readOnly: boolean;
  declare phase: Phase;
  declare message: string;
  private term: XtermLike | undefined;
  private socket: WebSocket | undefined;
  private resizeObserver: ResizeObserver | undefined;
  private fit: { fit(): void } | undefined;

  constructor() {
    super();
    this.readOnly = false;
    this.phase = 'loading';
    this.message = '';
  }

  override disconnectedCallback(): void {
    this.teardown();
    super.disconnectedCallback();
  }

  override firstUpdated(): void {
    if (!this.readOnly) void this.start();
  }

  private teardown(): void {
    this.resizeObserver?.disconnect();
    this.resizeObserver = undefined;
    if (this.socket && this.socket.readyState <= WebSocket.OPEN) this.socket.close(1000, 'page closed');
    this.socket = undefined;
    this.term?.dispose();
    this.term = undefined;
  }

  /** An inert, hidden stand-in for a <style> element; its text feeds a stylesheet adopted by this shadow root. */
  private inertStyle(): HTMLElement {
    const root = this.shadowRoot!;
    const holder = document.createElement('xterm-style');
    holder.hidden = true;
    const sheet = new CSSStyleSheet();
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
    new MutationObserver(() => sheet.replaceSync(holder.textContent ?? '')).observe(holder, { childList: true, characterData: true, subtree: true });
    return holder;
  }

  /** A document for xterm (its documentOverride option) whose <style> elements are inert. */
  private styleSafeDocument(): Document {
    return new Proxy(document, {
      get: (target, prop) => {
        if (prop === 'createElement') {
          return (tag: string, options?: ElementCreationOptions) => (tag.toLowerCase() === 'style' ? this.inertStyle() : target.createElement(tag, options));
        }
        const v = Reflect.get(target, prop) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  }

  /**
   * Runs xterm's open(): some of its parts create elements on the page's document rather than documentOverride
   * (xterm 6.0 hands its browser service `window.document` whatever the option says), so for this synchronous call
   * document.createElement('style') yields an inert element too. Restored before anything else runs.
   */
  private openTerminal(term: XtermLike, host: HTMLElement): void {
    const original = document.createElement;
    document.createElement = ((tag: string, options?: ElementCreationOptions) =>
      tag.toLowerCase() === 'style' ? this.inertStyle() : original.call(document, tag, options)) as typeof document.createElement;
    try {
      term.open(host);
    } finally {
      document.createElement = original;
    }
  }

  private async start(): Promise<void> {
    this.teardown();
    this.phase = 'loading';
    this.message = '';
    try {
      const [xterm, fitMod, cssMod] = await Promise.all([
        import('@xterm/xterm'),
        import('@xterm/addon-fit'),
        // esbuild's text loader: the stylesheet as a string, in its own lazy chunk ('as string' keeps tsc from
        // resolving a .css module it has no types for)
        import('@xterm/xterm/css/xterm.css' as string, { with: { type: 'text' } }) as Promise<{ default: string }>,
      ]);
      const root = this.shadowRoot!;
      const base = new CSSStyleSheet();
      base.replaceSync(cssMod.default);
      root.adoptedStyleSheets = [...root.adoptedStyleSheets, base];
      const styles = getComputedStyle(this);
      const v = (name: string, fallback: string) => styles.getPropertyValue(name).trim() || fallback;
      const term = new xterm.Terminal({
        cursorBlink: true,
        fontFamily: v('--mono', 'monospace'),
        fontSize: 14,
        scrollback: 5000,
        documentOverride: this.styleSafeDocument(),
        theme: { background: v('--code-bg', '#0f172a'), foreground: v('--code-text', '#e2e8f0'), cursor: v('--code-text', '#e2e8f0') },
      }) as unknown as XtermLike;
      const fit = new fitMod.FitAddon();
      term.loadAddon(fit);
      this.term = term;
      this.fit = fit;
      const host = root.querySelector<HTMLElement>('.term-inner')!;
      this.openTerminal(term, host);
      fit.fit();
      this.resizeObserver = new ResizeObserver(() => this.fit?.fit());
      this.resizeObserver.observe(host);
      this.connect(term);
    } catch (e) {
      this.phase = 'ended';
      this.message = `The terminal could not be loaded: ${errorText(e)}`;
    }
  }

  private connect(term: XtermLike): void {
    this.phase = 'connecting';
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/api/shell`);
    ws.binaryType = 'arraybuffer';
    this.socket = ws;
    const send = (m: object): void => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m));
    };
    ws.addEventListener('open', () => send({ type: 'hello', csrf: this.api.csrfToken() ?? '', cols: term.cols, rows: term.rows }));
    ws.addEventListener('message', (e: MessageEvent<ArrayBuffer | string>) => {
      if (typeof e.data !== 'string') return term.write(new Uint8Array(e.data));
      const m = JSON.parse(e.data) as { type: string; idleTimeoutMs?: number };
      if (m.type === 'ready') {
        this.phase = 'connected';
        this.message = `idle sessions end after ${Math.round((m.idleTimeoutMs ?? 0) / 60000)} min; every session is recorded in the audit log.`;
        term.focus();
      }
    });
    ws.addEventListener('close', (e) => {
      if (this.socket !== ws) return;
      this.phase = 'ended';
      this.message = shellCloseMessage(e.code, e.reason);
      term.write(`\r\n\x1b[2m[${this.message}]\x1b[0m\r\n`);
    });
    term.onData((data) => send({ type: 'input', data }));
    term.onResize(({ cols, rows }) => send({ type: 'resize', cols, rows }));
  }

  override render() {
    if (this.readOnly) {
      return html`<h1>Shell</h1>
        <div class="banner error" role="alert">Only administrators can open a shell on the appliance.</div>`;
    }
    const label = { loading: 'Loading the terminal…', connecting: 'Connecting…', connected: 'Connected', ended: 'Disconnected' }[this.phase];
    return html`<h1>Shell</h1>
      <div class="bar">
        <span class="status ${this.phase === 'connected' ? 'ok' : ''}" role="status" aria-live="polite" id="shell-status"><strong>${label}</strong>${this.message ? html` — ${this.message}` : nothing}</span>
        <span class="spacer"></span>
        ${this.phase === 'ended'
          ? html`<button type="button" class="primary" @click=${() => void this.start()}>Reconnect</button>`
          : html`<button type="button" ?disabled=${this.phase !== 'connected'} @click=${() => this.socket?.close(1000, 'closed by the user')}>Disconnect</button>`}
      </div>
      <div class="term"><div class="term-inner" role="application" aria-label="Terminal: a login shell on the appliance" aria-describedby="shell-status"></div></div>`;
  }
}
customElements.define('shell-page', ShellPage);
