/**
 * "Advanced (iSCSI negotiation)": the login parameters of RFC 7143 §13 as this target negotiates them — its own
 * side, the RFC default and how both sides combine (§6.2) — read from GET /api/negotiation, which reads the
 * target's key table. They are fixed in this version, and the section says so instead of offering inputs.
 */
import { LitElement, css, html, nothing } from 'lit';
import type { NegotiationInfo, TargetsApi } from './api-targets.ts';
import { sharedStyles } from './shared-styles.ts';
import { formatKeyValue, resultRule } from './target-logic.ts';
import { errorText } from './format.ts';

export class TargetNegotiation extends LitElement {
  static override properties = {
    tapi: { attribute: false },
    info: { state: true },
    loadError: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
      }
      summary {
        cursor: pointer;
        font-weight: 600;
        font-size: 1.05rem;
      }
      summary:focus-visible {
        outline: 3px solid var(--focus);
        outline-offset: 2px;
      }
      .note {
        margin: 0.75rem 0;
      }
      td.differs {
        font-weight: 600;
      }
      .ref {
        font-size: 0.8rem;
      }
    `,
  ];
  declare tapi: TargetsApi;
  declare info: NegotiationInfo | undefined;
  declare loadError: string;

  constructor() {
    super();
    this.info = undefined;
    this.loadError = '';
  }

  // the values cannot change while the appliance runs: one load, when first opened
  private async load(): Promise<void> {
    if (this.info) return;
    try {
      this.info = await this.tapi.negotiation();
      this.loadError = '';
    } catch (e) {
      this.loadError = `The negotiation parameters could not be read: ${errorText(e)}`;
    }
  }

  override render() {
    return html`<details @toggle=${(e: Event) => (e.target as HTMLDetailsElement).open && this.load()}>
      <summary id="negotiation-summary">Advanced (iSCSI negotiation)</summary>
      <p class="note banner info" id="negotiation-fixed">
        Fixed in this version: every target offers these values and they cannot be changed here. Each login combines them with the
        initiator's offer; what a session ended up with is on the Sessions page.
      </p>
      ${this.loadError ? html`<div class="banner error" role="alert">${this.loadError}</div>` : nothing}
      ${this.info
        ? html`<table id="negotiation-table">
            <thead>
              <tr><th scope="col">Parameter</th><th scope="col">This target</th><th scope="col">RFC default</th><th scope="col">In force after login</th></tr>
            </thead>
            <tbody>
              ${this.info.keys.map(
                (k) => html`<tr data-key=${k.key}>
                  <th scope="row"><span class="mono">${k.key}</span><div class="ref muted">${k.ref}</div></th>
                  <td class=${k.target !== k.default ? 'differs' : ''}>${formatKeyValue(k.key, k.target)}</td>
                  <td>${formatKeyValue(k.key, k.default)}</td>
                  <td class="muted">${resultRule(k)}</td>
                </tr>`,
              )}
            </tbody>
          </table>`
        : this.loadError
          ? nothing
          : html`<p class="muted" aria-busy="true">Loading…</p>`}
    </details>`;
  }
}
customElements.define('target-negotiation', TargetNegotiation);
