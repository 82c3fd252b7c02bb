// Serves the demo and the built snippet next to the API, replacing the demo's placeholders in every
// HTML file with this collector's public project key and endpoint (never a secret: the dashboard signs
// in instead), and sending each page the security headers of its kind (server/http/headers.ts).
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { NOSNIFF, pageHeaders, replayPolicy, SHOP_POLICY } from './headers.js';
import { fillTemplate } from './template.js';

export interface StaticContext {
  rootDir: string;
  /** e.g. http://localhost:8787 */
  origin: string;
  projectKey: string;
  /** Origins (canonical, checked) the replay pages may load a recording's assets from, besides 'self'. */
  replayOrigins: string[];
}

/** The pages that replay recordings (under demo/): the dashboard and the end-to-end replay check. */
const REPLAY_PAGES = [join('dashboard', 'index.html'), 'replay-test.html'];

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
  '.ts': 'text/plain; charset=utf-8',
};

/** A path under `base`, or null when the request tries to leave it. */
function inside(base: string, relative: string): string | null {
  const full = resolve(base, `.${sep}${relative}`);
  return full === base || full.startsWith(base + sep) ? full : null;
}

async function fileAt(path: string | null): Promise<string | null> {
  if (!path) return null;
  try {
    const s = await stat(path);
    if (s.isFile()) return path;
    if (s.isDirectory()) {
      const index = join(path, 'index.html');
      return (await stat(index).catch(() => null))?.isFile() ? index : null;
    }
  } catch {
    // missing: fall through
  }
  return null;
}

async function resolvePath(rootDir: string, pathname: string): Promise<string | null> {
  const dist = resolve(rootDir, 'dist');
  const demo = resolve(rootDir, 'demo');
  if (pathname === '/dist' || pathname.startsWith('/dist/')) return fileAt(inside(dist, pathname.slice(5)));
  if (pathname === '/dashboard' || pathname === '/dashboard/')
    return fileAt(join(demo, 'dashboard', 'index.html'));
  if (pathname === '/app' || pathname.startsWith('/app/')) {
    // The SPA section: real files first, every other path is a client-side route.
    return (await fileAt(inside(demo, pathname))) ?? fileAt(join(demo, 'app', 'index.html'));
  }
  return fileAt(inside(demo, pathname));
}

/** Answers a GET/HEAD for a static file; false when there is no such file. */
export async function serveStatic(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: StaticContext,
): Promise<boolean> {
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  } catch {
    return false;
  }
  if (pathname.includes('\0')) return false;
  const file = await resolvePath(ctx.rootDir, pathname);
  if (!file) return false;
  const type = TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
  let body = await readFile(file);
  let security: Record<string, string> = NOSNIFF;
  if (extname(file).toLowerCase() === '.html') {
    body = Buffer.from(
      fillTemplate(body.toString('utf8'), {
        SPOOR_PROJECT_KEY: ctx.projectKey,
        SPOOR_ENDPOINT: `${ctx.origin}/api`,
      }),
    );
    const demo = resolve(ctx.rootDir, 'demo');
    security = REPLAY_PAGES.some((page) => file === join(demo, page))
      ? // Nothing the dashboard links to or loads learns which session was being viewed.
        pageHeaders(replayPolicy(ctx.replayOrigins), 'no-referrer')
      : // The shop keeps same-origin referrers: they are the data its visits demonstrate.
        pageHeaders(SHOP_POLICY, 'strict-origin-when-cross-origin');
  }
  res.writeHead(200, {
    ...security,
    'Content-Type': type,
    'Content-Length': body.length,
    'Cache-Control': 'no-cache',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}
