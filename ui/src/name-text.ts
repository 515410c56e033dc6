import { html, nothing } from 'lit';
import { nameSegments } from './format.ts';

/**
 * A long name (IQN, network) that wraps only after ':' or '.': each part keeps together (shared-styles `.seg`,
 * white-space: nowrap) and a <wbr> between parts is the only wrap opportunity. Plain inline text, so the
 * accessible name and what a copy gets are the name unchanged.
 */
export const wrappingName = (name: string) =>
  html`${nameSegments(name).map((s, i) => html`${i > 0 ? html`<wbr />` : nothing}<span class="seg">${s}</span>`)}`;
