// Which origin a request reached: the configured public URL when there is one (then a request for any
// other host is refused), else the request's own Host, checked for shape first because the origin is
// written into every HTML page the collector serves.
import type { IncomingMessage } from 'node:http';

// A DNS name or IPv4 address (RFC 3986 unreserved characters only) or a bracketed IPv6 literal, and
// an optional port. RFC 3986 would also allow sub-delimiters such as `'` and `&` in a name; no real
// host uses them, and refusing them keeps quotes and brackets out of the pages.
const HOST = /^(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** Why a request's Host is refused: 400 (not a host at all) or 421 (not the public host); null: served. */
export function hostRefusal(host: string | undefined, publicUrl: URL | null): 400 | 421 | null {
  if (host === undefined) return null;
  if (!HOST.test(host)) return 400;
  if (!publicUrl) return null;
  let asked: string;
  try {
    // Through URL so `Collector.Example.com:443` and `collector.example.com` compare equal on https.
    asked = new URL(`${publicUrl.protocol}//${host}`).host;
  } catch {
    return 400;
  }
  return asked === publicUrl.host ? null : 421;
}

/** The scheme X-Forwarded-Proto names, when it names one we serve; anything else is ignored. */
function forwardedProto(req: IncomingMessage): string | null {
  const raw = String(req.headers['x-forwarded-proto'] ?? '')
    .split(',')[0]
    ?.trim()
    .toLowerCase();
  return raw === 'http' || raw === 'https' ? raw : null;
}

/**
 * The collector's origin as this request reached it, e.g. http://localhost:8787: the public URL when
 * set, else the scheme (X-Forwarded-Proto only behind a trusted proxy) and the Host, which the caller
 * has checked with `hostRefusal`.
 */
export function requestOrigin(req: IncomingMessage, publicUrl: URL | null, trustProxy: boolean): string {
  if (publicUrl) return publicUrl.origin;
  const proto =
    (trustProxy ? forwardedProto(req) : null) ??
    ('encrypted' in req.socket && req.socket.encrypted ? 'https' : 'http');
  return `${proto}://${req.headers.host ?? 'localhost'}`;
}
