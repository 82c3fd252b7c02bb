// Security headers for what the collector serves. Every answer: nosniff. HTML pages: a
// Content-Security-Policy, no framing, and a referrer policy. The replay pages (the dashboard and the
// replay check) rebuild recorded pages in an about:blank iframe, which inherits their policy: so the
// policy is what stops a recording that names https://evil.example/x.png from making the viewer's
// browser fetch it. Recorded assets may come only from this collector and the project's allowed
// origins (the recorded sites).

/** On every answer: a browser must not guess a type other than the one sent. */
export const NOSNIFF = { 'X-Content-Type-Options': 'nosniff' } as const;

/**
 * The origins a project lists that may appear in a policy: http(s) origins in canonical form only.
 * `*` (any origin may send) is left out: a policy naming every host would let a recording call out.
 */
export function policyOrigins(allowed: readonly string[] | null): string[] {
  const out = new Set<string>();
  for (const candidate of allowed ?? []) {
    let url: URL;
    try {
      url = new URL(candidate);
    } catch {
      continue;
    }
    // Compared with the canonical origin, so nothing (a path, a `;`, a space) can add a directive.
    if ((url.protocol === 'http:' || url.protocol === 'https:') && url.origin === candidate)
      out.add(url.origin);
  }
  return [...out];
}

function policy(directives: [string, ...string[]][]): string {
  return directives.map((d) => d.join(' ')).join('; ');
}

/**
 * The replay pages' policy. Styles allow 'unsafe-inline': rrweb rebuilds a recording's <style>
 * elements and style attributes, and the player sets its own; scripts never do (rrweb does not run a
 * recording's scripts, and the player's iframe is sandboxed without allow-scripts).
 */
export function replayPolicy(assetOrigins: readonly string[]): string {
  const assets = ["'self'", ...assetOrigins];
  return policy([
    ['default-src', "'self'"],
    ['script-src', "'self'"],
    ['connect-src', "'self'"],
    ['style-src', ...assets, "'unsafe-inline'"],
    ['img-src', ...assets, 'data:', 'blob:'],
    ['font-src', ...assets, 'data:'],
    ['media-src', ...assets, 'blob:'],
    ['frame-ancestors', "'none'"],
    ['base-uri', "'none'"],
    ['object-src', "'none'"],
    ['form-action', "'none'"],
  ]);
}

/**
 * The demo shop's policy: the same as the <meta> each shop page carries, plus what a <meta> cannot
 * say (frame-ancestors). Sent as a header, it also covers a page whose <meta> is missing.
 */
export const SHOP_POLICY = policy([
  ['default-src', "'self'"],
  ['img-src', "'self'", 'data:'],
  ['style-src', "'self'"],
  ['script-src', "'self'"],
  ['connect-src', "'self'"],
  ['base-uri', "'none'"],
  ['form-action', "'self'"],
  ['object-src', "'none'"],
  ['frame-ancestors', "'none'"],
]);

/** Headers for an HTML page under `csp`. */
export function pageHeaders(csp: string, referrerPolicy: string): Record<string, string> {
  return {
    ...NOSNIFF,
    'Content-Security-Policy': csp,
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': referrerPolicy,
  };
}
