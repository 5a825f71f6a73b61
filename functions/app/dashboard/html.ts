/**
 * Server-rendered HTML: a tagged template that escapes every interpolated value unless it is
 * already markup built by this same tag. Markup can only be made from literal template text, so
 * a partner name, a driver label or a query value can never become a tag or an attribute.
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export type Child = Html | string | number | boolean | null | undefined | readonly Child[];

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (ch) => ENTITIES[ch] as string);

function render(child: Child): string {
  if (child instanceof Html) return child.text;
  if (Array.isArray(child)) return (child as readonly Child[]).map(render).join('');
  if (typeof child === 'string') return escapeHtml(child);
  if (typeof child === 'number') return Number.isFinite(child) ? String(child) : '';
  return ''; // false, true, null, undefined: `cond && html\`…\`` renders nothing when cond is false
}

export function html(strings: TemplateStringsArray, ...values: Child[]): Html {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i += 1) out += render(values[i]) + (strings[i + 1] ?? '');
  return new Html(out);
}

/** Markup from a trusted constant (the stylesheet); never pass request or stored data. */
export const trusted = (text: string): Html => new Html(text);

/** A URL path with query parameters; empty values are left out. */
export function href(path: string, query: Record<string, string | number | undefined | null> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}
