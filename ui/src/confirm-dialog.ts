import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { sharedStyles } from './shared-styles.ts';

export interface ConfirmRequest {
  title: string;
  /** what will be lost, said plainly */
  body: TemplateResult | string;
  confirmLabel: string;
  /** an optional extra choice, e.g. "also delete the data" */
  option?: { label: string; checked: boolean };
  /** the admin must type this to enable the button (for the most destructive actions) */
  typeToConfirm?: string;
}

/**
 * A modal confirmation on the native <dialog> (focus trapped, Escape cancels, focus returns to the opener).
 * `ask()` resolves to undefined when cancelled, else to the option's state.
 */
export class ConfirmDialog extends LitElement {
  static override properties = { request: { state: true }, typed: { state: true }, optionChecked: { state: true } };
  static override styles = [
    sharedStyles,
    css`
      dialog {
        border: 1px solid var(--border);
        border-radius: var(--radius);
        background: var(--surface);
        color: var(--text);
        padding: 1.5rem;
        width: min(34rem, 92vw);
      }
      dialog::backdrop {
        background: rgb(0 0 0 / 0.45);
      }
      .actions {
        justify-content: flex-end;
        margin-top: 1rem;
      }
      label.check {
        display: flex;
        gap: 0.5rem;
        align-items: center;
        margin: 0.75rem 0;
      }
    `,
  ];
  declare request: ConfirmRequest | undefined;
  declare typed: string;
  declare optionChecked: boolean;
  private resolve: ((v: { option: boolean } | undefined) => void) | undefined;

  constructor() {
    super();
    this.request = undefined;
    this.typed = '';
    this.optionChecked = false;
  }

  async ask(request: ConfirmRequest): Promise<{ option: boolean } | undefined> {
    this.resolve?.(undefined);
    this.request = request;
    this.typed = '';
    this.optionChecked = request.option?.checked ?? false;
    await this.updateComplete;
    this.renderRoot.querySelector('dialog')!.showModal();
    return new Promise((resolve) => (this.resolve = resolve));
  }

  private finish(ok: boolean): void {
    const dialog = this.renderRoot.querySelector('dialog');
    if (dialog?.open) dialog.close();
    const resolve = this.resolve;
    this.resolve = undefined;
    resolve?.(ok ? { option: this.optionChecked } : undefined);
  }

  override render() {
    const r = this.request;
    const blocked = r?.typeToConfirm !== undefined && this.typed !== r.typeToConfirm;
    return html`<dialog aria-labelledby="confirm-title" @close=${() => this.finish(false)}>
      ${r
        ? html`<h2 id="confirm-title">${r.title}</h2>
            <div class="body">${r.body}</div>
            ${r.option
              ? html`<label class="check"
                  ><input type="checkbox" name="option" .checked=${this.optionChecked} @change=${(e: Event) => (this.optionChecked = (e.target as HTMLInputElement).checked)} />
                  ${r.option.label}</label
                >`
              : nothing}
            ${r.typeToConfirm !== undefined
              ? html`<div class="field">
                  <label for="confirm-typed">Type <code>${r.typeToConfirm}</code> to confirm</label>
                  <input id="confirm-typed" autocomplete="off" .value=${this.typed} @input=${(e: Event) => (this.typed = (e.target as HTMLInputElement).value)} />
                </div>`
              : nothing}
            <div class="actions">
              <button type="button" @click=${() => this.finish(false)}>Cancel</button>
              <button type="button" class="danger solid" ?disabled=${blocked} @click=${() => this.finish(true)}>${r.confirmLabel}</button>
            </div>`
        : nothing}
    </dialog>`;
  }
}
customElements.define('confirm-dialog', ConfirmDialog);
