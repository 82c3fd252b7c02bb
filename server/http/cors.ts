// CORS for the API: allowed origins are echoed (with Vary: Origin), the rate-limit headers are exposed
// so the snippet can read them, and preflights are cached for a day.

/** Whether `origin` may call the API for a project with these allowed origins. */
export function originAllowed(origin: string, allowed: string[] | null, host: string | undefined): boolean {
  if (allowed === null) {
    // Default: the collector's own origin (the demo). A page elsewhere sends its own Origin, which
    // never matches the Host it is calling.
    try {
      return host !== undefined && new URL(origin).host === host;
    } catch {
      return false;
    }
  }
  return allowed.includes('*') || allowed.includes(origin);
}

const EXPOSED = 'Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset';

/** Headers for an actual (non-preflight) answer. */
export function corsHeaders(origin: string | undefined, allowed: boolean): Record<string, string> {
  const headers: Record<string, string> = { Vary: 'Origin' };
  if (origin && allowed) {
    headers['Access-Control-Allow-Origin'] = origin;
    headers['Access-Control-Expose-Headers'] = EXPOSED;
  }
  return headers;
}

/** Headers for a 204 preflight answer. */
export function preflightHeaders(origin: string | undefined, allowed: boolean): Record<string, string> {
  const headers = corsHeaders(origin, allowed);
  if (origin && allowed) {
    headers['Access-Control-Allow-Methods'] = 'POST, OPTIONS';
    headers['Access-Control-Allow-Headers'] = 'Content-Type, Content-Encoding, Authorization';
    headers['Access-Control-Max-Age'] = '86400';
  }
  return headers;
}
