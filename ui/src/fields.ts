/**
 * One labelled input with its hint and its error: the label names it for screen readers, aria-describedby reads
 * the hint and the API's message, aria-invalid marks it. Every form renders its inputs through this.
 */
import { html, nothing, type TemplateResult } from 'lit';
import { ifDefined } from 'lit/directives/if-defined.js';

export interface FieldSpec {
  name: string;
  label: string;
  type?: 'text' | 'password' | 'number' | 'email';
  value?: string;
  hint?: string;
  error?: string | undefined;
  required?: boolean;
  autocomplete?: string;
  placeholder?: string;
  min?: number;
  max?: number;
  step?: string;
  disabled?: boolean;
  onInput?: (value: string) => void;
}

export function field(f: FieldSpec, idPrefix = 'f'): TemplateResult {
  const id = `${idPrefix}-${f.name}`;
  const described = [f.hint ? `${id}-hint` : '', f.error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return html`<div class="field">
    <label for=${id}>${f.label}</label>
    <input
      id=${id}
      name=${f.name}
      type=${f.type ?? 'text'}
      .value=${f.value ?? ''}
      ?required=${f.required ?? false}
      ?disabled=${f.disabled ?? false}
      autocomplete=${ifDefined(f.autocomplete)}
      placeholder=${ifDefined(f.placeholder)}
      min=${ifDefined(f.min)}
      max=${ifDefined(f.max)}
      step=${ifDefined(f.step)}
      aria-invalid=${f.error ? 'true' : 'false'}
      aria-describedby=${described || nothing}
      @input=${(e: Event) => f.onInput?.((e.target as HTMLInputElement).value)}
    />
    ${f.hint ? html`<div class="hint" id=${`${id}-hint`}>${f.hint}</div>` : nothing}
    ${f.error ? html`<div class="error" id=${`${id}-error`} role="alert">${f.error}</div>` : nothing}
  </div>`;
}

/** Reads a form's named inputs as strings. */
export function formValues(form: HTMLFormElement): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new FormData(form)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** Notifies the app shell (toast region) of an outcome; bubbles out of every shadow root. */
export function notify(from: Element, kind: 'ok' | 'error', text: string): void {
  from.dispatchEvent(new CustomEvent('notify', { detail: { kind, text }, bubbles: true, composed: true }));
}
