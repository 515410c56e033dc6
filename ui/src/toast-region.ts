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
      /* bottom-right of the viewport, above the fold whatever the scroll: never over the (sticky) header's navigation
         or the page title; the newest message only, wrapped in full (the live region announces it) */
      :host {
        position: fixed;
        right: 1rem;
        bottom: 1rem;
        z-index: 10;
        width: min(28rem, calc(100vw - 2rem));
      }
      .toast {
        border: 1px solid var(--border);
        box-shadow: 0 4px 14px rgb(0 0 0 / 0.18);
        margin: 0;
        padding: 0.5rem 0.7rem;
        display: flex;
        gap: 0.75rem;
        align-items: flex-start;
        justify-content: space-between;
      }
      .toast span {
        overflow-wrap: anywhere;
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
          <span>${t.text}</span><button type="button" aria-label="Dismiss" @click=${() => this.dismiss(t.id)}>×</button>
        </p>`,
      )}
    </div>`;
  }
}
customElements.define('toast-region', ToastRegion);
