// The dashboard's session cookie. HttpOnly: no script (not even one injected into the dashboard) can
// read it. SameSite=Strict: a browser never sends it with a request that another site started.
// Secure, under the `__Host-` prefix, when the collector is reached over https: the browser then
// refuses it over plain http and refuses a cookie of that name set by a sibling subdomain.
import type { IncomingMessage } from 'node:http';

const PLAIN = 'spoor_session';
const SECURE = '__Host-spoor_session';

function isHttps(selfOrigin: string): boolean {
  return selfOrigin.startsWith('https:');
}

/** The session cookie's value in this request, or null. */
export function sessionCookie(req: IncomingMessage, selfOrigin: string): string | null {
  const name = isHttps(selfOrigin) ? SECURE : PLAIN;
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    // Our values are base64url; anything else was not set by us.
    return /^[A-Za-z0-9_-]{16,128}$/.test(value) ? value : null;
  }
  return null;
}

/** A Set-Cookie value that stores `value` for `maxAgeS` seconds (0 with an empty value: deletes it). */
export function setSessionCookie(selfOrigin: string, value: string, maxAgeS: number): string {
  const secure = isHttps(selfOrigin);
  return [
    `${secure ? SECURE : PLAIN}=${value}`,
    'Path=/',
    `Max-Age=${Math.max(0, Math.floor(maxAgeS))}`,
    'HttpOnly',
    'SameSite=Strict',
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}

/** Whether `host` (a Host header, checked for shape) names this machine's loopback interface. */
export function isLoopbackHostname(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(?:\.\d{1,3}){3}$/.test(h);
}

/** Whether a socket's peer address is on the loopback interface. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || /^127(?:\.\d{1,3}){3}$/.test(a);
}
