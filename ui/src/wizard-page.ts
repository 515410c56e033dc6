// PLACEHOLDER (session 2 lead): replaced by the helper that owns this page before anything lands.
import { LitElement, html } from 'lit';
import type { ApiClient } from './api.ts';

export class WizardPage extends LitElement {
  static override properties = { api: { attribute: false }, readOnly: { type: Boolean } };
  declare api: ApiClient;
  declare readOnly: boolean;
  override render() {
    return html`<h1>wizard-page</h1>`;
  }
}
customElements.define('wizard-page', WizardPage);
