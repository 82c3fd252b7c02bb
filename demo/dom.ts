// The demo's one DOM helper: elements from data, text always through textContent, never HTML.

export type Child = Node | string | null | undefined | false;

export function h(
  tag: string,
  attrs: Record<string, string | undefined> = {},
  children: Child[] = [],
): HTMLElement {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) if (value !== undefined) el.setAttribute(name, value);
  for (const child of children)
    if (child !== null && child !== undefined && child !== false) el.append(child);
  return el;
}
