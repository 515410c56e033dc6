import { LitElement, css, html } from 'lit';
import { sharedStyles } from './shared-styles.ts';
import { effectiveTheme, setTheme, storedTheme, type Theme } from './theme.ts';

/** A switch between light and dark; aria-pressed tells a screen reader which one is on. */
export class ThemeToggle extends LitElement {
  static override properties = { theme: { state: true } };
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: inline-block;
      }
      button {
        padding: 0.35rem 0.7rem;
      }
    `,
  ];
  declare theme: Theme;
  private readonly osScheme = matchMedia('(prefers-color-scheme: dark)');
  // with no theme picked, the page follows the OS (global.css); the label and aria-pressed must follow it too
  private readonly onOsChange = () => {
    if (!storedTheme()) this.theme = effectiveTheme();
  };

  constructor() {
    super();
    this.theme = effectiveTheme();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.osScheme.addEventListener('change', this.onOsChange);
    this.onOsChange();
  }

  override disconnectedCallback(): void {
    this.osScheme.removeEventListener('change', this.onOsChange);
    super.disconnectedCallback();
  }

  private toggle(): void {
    this.theme = this.theme === 'dark' ? 'light' : 'dark';
    setTheme(this.theme);
  }

  override render() {
    const dark = this.theme === 'dark';
    return html`<button type="button" aria-pressed=${dark ? 'true' : 'false'} title="Switch between light and dark theme" @click=${this.toggle}>
      ${dark ? '☾ Dark' : '☀ Light'}<span class="visually-hidden"> theme</span>
    </button>`;
  }
}
customElements.define('theme-toggle', ThemeToggle);
