/**
 * `<div data-style=${cssProps({ width: '40%' })}>`: sets inline style properties through the CSSOM
 * (element.style.setProperty) on every render, including the first. Lit's own styleMap writes a `style` attribute
 * string on the first render, which the page's CSP (style-src 'self', no 'unsafe-inline') blocks; CSSOM changes
 * are not subject to it (CSP3 §6.1.3: only the style attribute and <style> are inline style).
 * Bind it to any attribute name except `style`: the attribute itself is never written.
 */
import { noChange } from 'lit';
import { Directive, PartType, directive, type AttributePart, type PartInfo } from 'lit/directive.js';

class CssProps extends Directive {
  private previous = new Set<string>();

  constructor(info: PartInfo) {
    super(info);
    if (info.type !== PartType.ATTRIBUTE) throw new Error('cssProps belongs in an attribute position');
  }

  render(_props: Readonly<Record<string, string>>): typeof noChange {
    return noChange;
  }

  override update(part: AttributePart, [props]: [Readonly<Record<string, string>>]): typeof noChange {
    const style = part.element.style;
    for (const name of this.previous) if (!(name in props)) style.removeProperty(name);
    for (const [name, value] of Object.entries(props)) style.setProperty(name, value);
    this.previous = new Set(Object.keys(props));
    return noChange;
  }
}

export const cssProps = directive(CssProps);
