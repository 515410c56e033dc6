/**
 * The CHAP form (none / one-way / mutual), shared by a target's page and the discovery authentication panel: same
 * fields, same checks before the round trip (forms.ts chapFormBody, RFC 7143 §12.1.3), the API's messages next to
 * their fields, secrets cleared from the page once saved. The owner passes what to call; the element says what is
 * set now, never a secret (the API never returns one).
 */
import { LitElement, css, html, nothing } from 'lit';
import { ApiError, type ChapInfo, type ChapSetting } from './api.ts';
import { field, formValues, notify } from './fields.ts';
import { chapFormBody, type ChapMode } from './forms.ts';
import { sharedStyles } from './shared-styles.ts';

export class ChapForm extends LitElement {
  static override properties = {
    chap: { attribute: false },
    readOnly: { type: Boolean },
    idPrefix: { type: String },
    /** "CHAP" or "Discovery CHAP": starts the messages */
    noun: { type: String },
    /** what "none" means here, said in the state line */
    noneMeaning: { type: String },
    save: { attribute: false },
    remove: { attribute: false },
    mode: { state: true },
    errors: { state: true },
    busy: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
      }
      fieldset {
        border: none;
        padding: 0;
        margin: 0;
        display: flex;
        gap: 1.25rem;
        flex-wrap: wrap;
      }
      legend {
        font-weight: 600;
        font-size: 0.9rem;
        margin-bottom: 0.4rem;
      }
      fieldset label {
        display: flex;
        gap: 0.35rem;
        align-items: center;
      }
    `,
  ];
  declare chap: ChapInfo | undefined;
  declare readOnly: boolean;
  declare idPrefix: string;
  declare noun: string;
  declare noneMeaning: string;
  declare save: (body: ChapSetting) => Promise<unknown>;
  declare remove: () => Promise<unknown>;
  declare mode: ChapMode;
  declare errors: Record<string, string> & { _form?: string };
  declare busy: boolean;
  private touched = false;

  constructor() {
    super();
    this.chap = undefined;
    this.readOnly = false;
    this.idPrefix = 'chap';
    this.noun = 'CHAP';
    this.noneMeaning = 'initiators are checked by name only';
    this.mode = 'none';
    this.errors = {};
    this.busy = false;
  }

  override willUpdate(changed: Map<string, unknown>): void {
    // follow what the API says is set, unless the admin is choosing a mode right now
    if (changed.has('chap') && !this.touched) this.mode = this.chap ? (this.chap.mutualUsername ? 'mutual' : 'one-way') : 'none';
  }

  private async run(work: () => Promise<unknown>, done: string, form: HTMLFormElement): Promise<void> {
    this.errors = {};
    this.busy = true;
    try {
      await work();
      // secrets leave the page as soon as the API has them
      for (const input of form.querySelectorAll<HTMLInputElement>('input[type=password]')) input.value = '';
      this.touched = false;
      notify(this, 'ok', done);
      this.dispatchEvent(new CustomEvent('chap-changed', { bubbles: true, composed: true }));
    } catch (e) {
      if (e instanceof ApiError) {
        const byField: Record<string, string> & { _form?: string } = e.byField();
        if (Object.keys(byField).length === 0) byField._form = e.message;
        this.errors = byField;
      } else this.errors = { _form: String(e) };
    } finally {
      this.busy = false;
    }
  }

  private submit(ev: SubmitEvent): void {
    ev.preventDefault();
    const form = ev.target as HTMLFormElement;
    const mode = this.mode;
    if (mode === 'none') {
      if (this.chap) void this.run(() => this.remove(), `${this.noun} removed.`, form);
      return;
    }
    const { body, errors } = chapFormBody(mode, formValues(form));
    if (!body) {
      this.errors = errors;
      return;
    }
    void this.run(() => this.save(body), `${mode === 'mutual' ? 'Mutual' : 'One-way'} ${this.noun} saved.`, form);
  }

  override render() {
    const e = this.errors;
    const mode = this.mode;
    const p = this.idPrefix;
    const c = this.chap;
    return html`<p class="muted" id=${`${p}-state`}>
        ${c
          ? html`Now: ${c.mutualUsername ? 'mutual' : 'one-way'} ${this.noun}, user <code>${c.username}</code>${c.mutualUsername ? html`, target user <code>${c.mutualUsername}</code>` : nothing}.`
          : `Now: no ${this.noun} (${this.noneMeaning}).`}
      </p>
      ${e._form ? html`<div class="banner error" role="alert">${e._form}</div>` : nothing}
      ${this.readOnly
        ? nothing
        : html`<form novalidate @submit=${this.submit}>
            <fieldset>
              <legend>Mode</legend>
              ${(['none', 'one-way', 'mutual'] as const).map(
                (m) =>
                  html`<label><input type="radio" name="mode" value=${m} .checked=${mode === m} @change=${() => ((this.touched = true), (this.mode = m))} />${m === 'none' ? 'None' : m === 'one-way' ? 'One-way' : 'Mutual'}</label>`,
              )}
            </fieldset>
            ${mode === 'none'
              ? nothing
              : html`<div class="row">
                    ${field({ name: 'username', label: 'Initiator user', value: c?.username ?? '', error: e['username'], autocomplete: 'off' }, p)}
                    ${field({ name: 'secret', label: 'Initiator secret', type: 'password', error: e['secret'], hint: '12-255 characters; not shown again.', autocomplete: 'new-password' }, p)}
                  </div>
                  ${mode === 'mutual'
                    ? html`<div class="row">
                        ${field({ name: 'mutualUsername', label: 'Target user (mutual)', value: c?.mutualUsername ?? '', error: e['mutualUsername'], autocomplete: 'off' }, p)}
                        ${field({ name: 'mutualSecret', label: 'Target secret (mutual)', type: 'password', error: e['mutualSecret'], hint: 'Must differ from the initiator secret.', autocomplete: 'new-password' }, p)}
                      </div>`
                    : nothing}`}
            ${mode === 'none' && !c
              ? nothing
              : html`<div class="actions">
                  <button type="submit" class="primary" ?disabled=${this.busy}>${mode === 'none' ? `Remove ${this.noun}` : `Save ${this.noun}`}</button>
                </div>`}
          </form>`}`;
  }
}
customElements.define('chap-form', ChapForm);
