// Fills `{{NAME}}` placeholders in the demo's HTML, each value escaped for where its placeholder
// stands: in an inline script's text as the content of a JavaScript string literal, anywhere else
// (attribute values, text) as HTML. A value can then never close its attribute, string or element.

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string);
}

/**
 * `value` as the inside of a JavaScript string literal (either quote) within a `<script>` element:
 * JSON's escapes, plus `<`, `>`, `&`, `'` and the line separators as \u escapes, so neither
 * `</script>` nor `<!--` can appear and no quote can end the literal.
 */
export function escapeScriptString(value: string): string {
  return JSON.stringify(value)
    .slice(1, -1)
    .replace(/[<>&'\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const PLACEHOLDER = /\{\{([A-Z0-9_]+)\}\}/g;
// An inline script element: its start tag (attributes may hold quoted `>`), its text, its end tag.
const SCRIPT = /(<script\b(?:[^>"']|"[^"]*"|'[^']*')*>)([\s\S]*?)(<\/script\s*>)/gi;

function fill(text: string, values: Record<string, string>, escapeFor: (value: string) => string): string {
  return text.replace(PLACEHOLDER, (whole, name: string) =>
    Object.hasOwn(values, name) ? escapeFor(values[name] as string) : whole,
  );
}

/** `html` with every known placeholder replaced; unknown ones are left as they are. */
export function fillTemplate(html: string, values: Record<string, string>): string {
  let out = '';
  let last = 0;
  for (const match of html.matchAll(SCRIPT)) {
    const [, open = '', body = '', close = ''] = match;
    out += fill(html.slice(last, match.index), values, escapeHtml);
    out += fill(open, values, escapeHtml) + fill(body, values, escapeScriptString) + close;
    last = match.index + match[0].length;
  }
  return out + fill(html.slice(last), values, escapeHtml);
}
