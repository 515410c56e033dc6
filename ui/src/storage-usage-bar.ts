/**
 * A usage bar with its warning threshold marked (widths are set through CSSOM from a ref callback: the strict CSP
 * blocks style attributes, and lit's styleMap writes one on first render): a role="meter" (read by screen readers as a value in a range),
 * coloured by usageLevel, with the threshold drawn as a tick so "how far from the warning" is visible at a glance.
 */
import { css, html, nothing } from 'lit';
import { ref } from 'lit/directives/ref.js';
import { usageLevel } from './storage-model.ts';

export const usageBarStyles = css`
  .meter {
    position: relative;
    height: 0.85rem;
    border-radius: 999px;
    background: var(--surface-2);
    border: 1px solid var(--border);
    overflow: visible;
    margin: 0.3rem 0 0.2rem;
  }
  .meter .fill {
    height: 100%;
    border-radius: 999px;
    background: var(--ok);
  }
  .meter .fill.warn {
    background: var(--focus);
  }
  .meter .fill.full {
    background: var(--danger);
  }
  .meter .tick {
    position: absolute;
    top: -0.25rem;
    bottom: -0.25rem;
    width: 2px;
    background: var(--text);
  }
  .meter-label {
    display: flex;
    justify-content: space-between;
    gap: 0.5rem;
    font-size: 0.85rem;
  }
  .meter-label .muted {
    text-align: right;
  }
`;

/** A ref callback that sets one style property through CSSOM (allowed by style-src 'self'). */
function cssom(prop: 'width' | 'left', value: string) {
  return (el: Element | undefined) => {
    if (el instanceof HTMLElement) el.style.setProperty(prop, value);
  };
}

export function usageBar(o: { id: string; label: string; percent: number; threshold?: number; detail?: string }) {
  const pct = Math.max(0, Math.min(100, o.percent));
  const level = o.threshold === undefined ? usageLevel(pct, 100) : usageLevel(pct, o.threshold);
  const text = `${o.label}: ${pct.toFixed(1)} % used${o.threshold !== undefined ? `, warning at ${o.threshold} %` : ''}`;
  return html`<div class="meter-label"><span id=${`${o.id}-label`}>${o.label} <strong>${pct.toFixed(1)} %</strong></span><span class="muted">${o.detail ?? ''}${o.threshold !== undefined ? ` · warns at ${o.threshold} %` : ''}</span></div>
    <div class="meter" id=${o.id} role="meter" aria-valuemin="0" aria-valuemax="100" aria-valuenow=${pct.toFixed(1)} aria-valuetext=${text} aria-labelledby=${`${o.id}-label`} data-level=${level}>
      <div class="fill ${level}" ${ref(cssom('width', `${pct}%`))}></div>
      ${o.threshold !== undefined ? html`<div class="tick" ${ref(cssom('left', `calc(${o.threshold}% - 1px)`))} title=${`warning threshold ${o.threshold} %`}></div>` : nothing}
    </div>`;
}
