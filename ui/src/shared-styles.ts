/** Styles every page shares: controls, forms, tables, cards. Colours come only from the theme tokens (global.css). */
import { css } from 'lit';

export const sharedStyles = css`
  :host {
    display: block;
    color: var(--text);
    font-family: var(--font);
  }
  *, *::before, *::after {
    box-sizing: border-box;
  }
  h1 {
    font-size: 1.5rem;
    margin: 0 0 1rem;
  }
  h2 {
    font-size: 1.15rem;
    margin: 0 0 0.75rem;
  }
  h3 {
    font-size: 1rem;
    margin: 0 0 0.5rem;
  }
  p {
    margin: 0 0 0.75rem;
  }
  a {
    color: var(--accent);
  }
  .card {
    background: var(--surface);
    border: 1px solid var(--border);
    border-radius: var(--radius);
    padding: 1.25rem;
    margin-bottom: 1.25rem;
  }
  .muted {
    color: var(--muted);
  }
  button,
  .button {
    font: inherit;
    border-radius: var(--radius);
    border: 1px solid var(--border);
    background: var(--surface-2);
    color: var(--text);
    padding: 0.45rem 0.9rem;
    cursor: pointer;
    white-space: nowrap;
  }
  button.primary,
  a.button.primary {
    text-decoration: none;
    background: var(--accent);
    border-color: var(--accent);
    color: var(--accent-text);
    font-weight: 600;
  }
  button.danger {
    background: transparent;
    border-color: var(--danger);
    color: var(--danger);
  }
  button.danger.solid {
    background: var(--danger);
    color: var(--surface);
  }
  button:disabled {
    opacity: 0.55;
    cursor: not-allowed;
  }
  button:focus-visible,
  input:focus-visible,
  select:focus-visible,
  textarea:focus-visible,
  a:focus-visible,
  [tabindex]:focus-visible {
    outline: 3px solid var(--focus);
    outline-offset: 2px;
  }
  form {
    display: grid;
    gap: 0.9rem;
  }
  .row {
    display: flex;
    flex-wrap: wrap;
    gap: 1rem;
    align-items: flex-start;
  }
  .row > .field {
    flex: 1 1 12rem;
  }
  .field {
    display: grid;
    gap: 0.25rem;
  }
  .field label {
    font-weight: 600;
    font-size: 0.9rem;
  }
  .field .hint {
    color: var(--muted);
    font-size: 0.85rem;
  }
  input,
  select,
  textarea {
    font: inherit;
    color: var(--text);
    background: var(--bg);
    border: 1px solid var(--border);
    border-radius: var(--radius);
    padding: 0.45rem 0.6rem;
    width: 100%;
    min-width: 0;
  }
  /* multi-line lists (IQNs, networks, PEM): one item a line, in the code font */
  textarea {
    font-family: var(--mono);
    font-size: 0.875rem;
    min-height: 4.5rem;
    resize: vertical;
  }
  input[aria-invalid='true'],
  textarea[aria-invalid='true'] {
    border-color: var(--danger);
  }
  input[type='checkbox'],
  input[type='radio'] {
    width: auto;
  }
  .error {
    color: var(--danger);
    font-size: 0.875rem;
  }
  .banner {
    padding: 0.6rem 0.8rem;
    border-radius: var(--radius);
    margin-bottom: 0.75rem;
  }
  .banner.error {
    background: var(--danger-bg);
    color: var(--danger);
    font-size: inherit;
  }
  .banner.info {
    background: var(--surface-2);
    border-left: 4px solid var(--accent);
  }
  .spacer {
    flex: 1;
  }
  .banner.ok {
    background: var(--ok-bg);
    color: var(--ok);
  }
  /* a one-line form (extend, map, add a portal): fields side by side, the button level with the inputs (under
     the labels); it wraps on narrow screens */
  form.inline {
    display: flex;
    gap: 0.6rem 0.75rem;
    align-items: flex-start;
    flex-wrap: wrap;
    margin-top: 0.75rem;
  }
  form.inline .field {
    flex: 1 1 9rem;
  }
  form.inline .field.narrow {
    flex: 0 0 6.5rem;
  }
  form.inline > button {
    margin-top: 1.55rem;
  }
  /* a page's title row: the title, then status or actions on the same baseline */
  .head {
    display: flex;
    align-items: baseline;
    gap: 1rem;
    flex-wrap: wrap;
    margin-bottom: 1rem;
  }
  .head h1 {
    margin: 0;
    overflow-wrap: anywhere;
  }
  /* tabs inside a page (a target, administration): links, the current one underlined */
  nav.tabs {
    display: flex;
    gap: 0.25rem;
    margin-bottom: 1.25rem;
    border-bottom: 1px solid var(--border);
  }
  nav.tabs a {
    padding: 0.5rem 0.9rem;
    text-decoration: none;
    color: var(--text);
  }
  nav.tabs a[aria-current='page'] {
    box-shadow: inset 0 -3px 0 var(--accent);
    font-weight: 600;
  }
  .actions {
    display: flex;
    gap: 0.6rem;
    align-items: center;
    flex-wrap: wrap;
  }
  table {
    width: 100%;
    border-collapse: collapse;
  }
  th,
  td {
    text-align: left;
    padding: 0.5rem 0.6rem;
    border-bottom: 1px solid var(--border);
    vertical-align: middle;
  }
  th {
    font-size: 0.85rem;
    color: var(--muted);
    font-weight: 600;
  }
  tbody th {
    color: var(--text);
    font-size: inherit;
  }
  td.num,
  th.num {
    text-align: right;
    font-variant-numeric: tabular-nums;
  }
  code,
  .mono {
    font-family: var(--mono);
    font-size: 0.875rem;
    overflow-wrap: anywhere;
  }
  /* a part of a long name (name-text.ts): the name wraps between parts only, never inside "iscsi-inq" */
  .seg {
    white-space: nowrap;
  }
  .empty {
    color: var(--muted);
    padding: 1rem 0;
  }
  /* two equal columns of cards (a page may redefine the columns or collapse them in a media query) */
  .grid {
    display: grid;
    grid-template-columns: repeat(2, minmax(0, 1fr));
    gap: 1.25rem;
    align-items: start;
  }
  /* label / value lists */
  dl.facts {
    display: grid;
    grid-template-columns: max-content minmax(0, 1fr);
    gap: 0.4rem 1rem;
    margin: 0 0 1rem;
  }
  dl.facts dt {
    color: var(--muted);
    font-size: 0.9rem;
  }
  dl.facts dd {
    margin: 0;
    overflow-wrap: anywhere;
  }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
  }
`;
