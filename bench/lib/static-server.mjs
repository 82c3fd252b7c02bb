// A tiny static file server for the workload page and the scripts it loads. Only the mapped folders are
// served, and only files directly inside them or below, never outside (paths are normalised first).
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.css': 'text/css',
};

/**
 * @param {Record<string, string>} mounts URL prefix ('/', '/dist/') → folder
 * @returns {Promise<{ origin: string; close: () => Promise<void> }>}
 */
export async function startStaticServer(mounts) {
  // Longest prefix first, so '/dist/' wins over '/'.
  const entries = Object.entries(mounts).sort((a, b) => b[0].length - a[0].length);
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    const mount = entries.find(([prefix]) => path.startsWith(prefix));
    const relative = mount ? normalize(path.slice(mount[0].length) || 'index.html') : '';
    if (!mount || relative.startsWith('..') || relative.startsWith(sep)) {
      response.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(join(mount[1], relative));
      response.writeHead(200, {
        'Content-Type': types[extname(relative)] ?? 'application/octet-stream',
        'Cache-Control': 'no-store',
      });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
