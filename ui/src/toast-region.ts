import { LitElement, css, html } from 'lit';
import { sharedStyles } from './shared-styles.ts';

interface Toast {
  id: number;
  kind: 'ok' | 'error';
  text: string;
}

/** Outcome messages, announced by screen readers (a polite live region; errors assertive). */
export class ToastRegion extends LitElement {
  static override properties = { toasts: { state: true } };
  static override styles = [
    sharedStyles,
    css`
      /* in the empty middle of the (sticky) header, between the navigation and the theme switch: it never covers
         a control; one line, the newest message only (the full text is in the live region and the tooltip) */
      :host {
        position: fixed;
        top: 0.45rem;
        left: 50%;
        transform: translateX(-50%);
        z-index: 10;
        width: min(32rem, calc(100vw - 50rem));
      }
      .toast {
        border: 1px solid var(--border);
        margin: 0;
        padding: 0.4rem 0.7rem;
        display: flex;
        gap: 0.75rem;
        align-items: center;
        justify-content: space-between;
      }
      .toast span {
        white-space: nowrap;
        overflow: hidden;
        text-overflow: ellipsis;
      }
      button {
        padding: 0 0.4rem;
        background: transparent;
        border: none;
        color: inherit;
      }
    `,
  ];
  declare toasts: Toast[];
  private next = 1;

  constructor() {
    super();
    this.toasts = [];
  }

  show(kind: 'ok' | 'error', text: string): void {
    const id = this.next++;
    this.toasts = [{ id, kind, text }];
    setTimeout(() => this.dismiss(id), kind === 'error' ? 10000 : 4000);
  }

  /** A new user (or nobody) should not read what the last one did. */
  clear(): void {
    this.toasts = [];
  }

  dismiss(id: number): void {
    this.toasts = this.toasts.filter((t) => t.id !== id);
  }

  override render() {
    return html`<div role="status" aria-live="polite">
      ${this.toasts.map(
        (t) => html`<p class="toast banner ${t.kind}" data-kind=${t.kind}>
          <span title=${t.text}>${t.text}</span><button type="button" aria-label="Dismiss" @click=${() => this.dismiss(t.id)}>×</button>
        </p>`,
      )}
    </div>`;
  }
}
customElements.define('toast-region', ToastRegion);
