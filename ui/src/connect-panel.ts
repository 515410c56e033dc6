import { LitElement, css, html, nothing } from 'lit';
import { connectCommands, type CommandBlock, type ConnectInput, type InitiatorOs } from './connect-commands.ts';
import { sharedStyles } from './shared-styles.ts';

/**
 * Copy-ready initiator commands for one target, one tab per initiator OS (WAI-ARIA tabs pattern: arrow keys move
 * between tabs). The commands come from connect-commands.ts; this element only shows and copies them.
 */
export class ConnectPanel extends LitElement {
  static override properties = {
    input: { attribute: false },
    os: { state: true },
    copied: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      [role='tablist'] {
        display: flex;
        flex-wrap: wrap;
        gap: 0.25rem;
        border-bottom: 1px solid var(--border);
        margin-bottom: 1rem;
      }
      [role='tab'] {
        border: none;
        border-radius: var(--radius) var(--radius) 0 0;
        background: transparent;
        padding: 0.5rem 0.9rem;
      }
      [role='tab'][aria-selected='true'] {
        background: var(--surface-2);
        box-shadow: inset 0 -3px 0 var(--accent);
        font-weight: 600;
      }
      pre {
        background: var(--code-bg);
        color: var(--code-text);
        padding: 1rem;
        border-radius: var(--radius);
        overflow-x: auto;
        font-family: var(--mono);
        font-size: 0.85rem;
        line-height: 1.55;
        margin: 0 0 0.75rem;
        white-space: pre-wrap;
        overflow-wrap: anywhere;
      }
      ul.notes {
        margin: 0.5rem 0 0;
        padding-left: 1.25rem;
        color: var(--muted);
      }
      .copyrow {
        display: flex;
        justify-content: space-between;
        align-items: center;
        margin-bottom: 0.5rem;
      }
    `,
  ];
  declare input: ConnectInput | undefined;
  declare os: InitiatorOs;
  declare copied: boolean;

  constructor() {
    super();
    this.input = undefined;
    this.os = 'esxi';
    this.copied = false;
  }

  private blocks(): CommandBlock[] {
    return this.input && this.input.portals.length > 0 ? connectCommands(this.input) : [];
  }

  private async copy(text: string): Promise<void> {
    try {
      await navigator.clipboard.writeText(text);
      this.copied = true;
      setTimeout(() => (this.copied = false), 2000);
    } catch {
      // no clipboard permission (plain http, old browser): select the text so Ctrl+C works
      const pre = this.renderRoot.querySelector('pre');
      if (pre) getSelection()?.selectAllChildren(pre);
    }
  }

  private onTabKey(e: KeyboardEvent, blocks: CommandBlock[]): void {
    const i = blocks.findIndex((b) => b.os === this.os);
    let next = i;
    if (e.key === 'ArrowRight') next = (i + 1) % blocks.length;
    else if (e.key === 'ArrowLeft') next = (i - 1 + blocks.length) % blocks.length;
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = blocks.length - 1;
    else return;
    e.preventDefault();
    this.os = blocks[next]!.os;
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>(`#tab-${this.os}`)?.focus());
  }

  override render() {
    const blocks = this.blocks();
    if (blocks.length === 0) return html`<p class="empty">No portal to connect to yet.</p>`;
    const b = blocks.find((x) => x.os === this.os) ?? blocks[0]!;
    const text = b.lines.join('\n');
    return html`<div role="tablist" aria-label="Initiator operating system" @keydown=${(e: KeyboardEvent) => this.onTabKey(e, blocks)}>
        ${blocks.map(
          (x) => html`<button
            role="tab"
            type="button"
            id=${`tab-${x.os}`}
            aria-selected=${x.os === b.os ? 'true' : 'false'}
            aria-controls="connect-tabpanel"
            tabindex=${x.os === b.os ? '0' : '-1'}
            @click=${() => (this.os = x.os)}
          >${x.title}</button>`,
        )}
      </div>
      <div role="tabpanel" id="connect-tabpanel" aria-labelledby=${`tab-${b.os}`} data-os=${b.os}>
        <div class="copyrow">
          <span class="muted">Replace <code>&lt;CHAP secret&gt;</code> placeholders; secrets are never shown again after they are set.</span>
          <button type="button" @click=${() => this.copy(text)}>${this.copied ? 'Copied ✓' : 'Copy commands'}</button>
        </div>
        <pre tabindex="0" aria-label=${`${b.title} commands`}><code>${text}</code></pre>
        ${b.notes.length ? html`<ul class="notes">${b.notes.map((n) => html`<li>${n}</li>`)}</ul>` : nothing}
      </div>`;
  }
}
customElements.define('connect-panel', ConnectPanel);
