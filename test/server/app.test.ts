import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pageWindow, paginate } from '../../server/routes/paginate.js';
import { type Collector, startCollector, V1 } from './harness.js';

const root = mkdtempSync(join(tmpdir(), 'spoor-root-'));
let c: Collector;

beforeAll(() => {
  mkdirSync(join(root, 'demo', 'dashboard'), { recursive: true });
  mkdirSync(join(root, 'demo', 'app'), { recursive: true });
  mkdirSync(join(root, 'dist'), { recursive: true });
  writeFileSync(
    join(root, 'demo', 'index.html'),
    '<script data-endpoint="{{SPOOR_ENDPOINT}}" data-project="{{SPOOR_PROJECT_KEY}}"></script>',
  );
  writeFileSync(join(root, 'demo', 'products.html'), 'products');
  writeFileSync(join(root, 'demo', 'dashboard', 'index.html'), 'dashboard {{SPOOR_API_TOKEN}}');
  writeFileSync(join(root, 'demo', 'app', 'index.html'), 'spa');
  writeFileSync(join(root, 'dist', 'spoor.min.js'), 'console.log("{{SPOOR_PROJECT_KEY}}")');
  writeFileSync(join(root, 'secret.txt'), 'secret');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(async () => {
  await c.close();
});

/** GET with the path sent exactly as written (fetch would normalise `..` away). */
function rawGet(
  url: string,
  path: string,
): Promise<{ status: number; type: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/`, { path }, (res) => {
      let body = '';
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('static files', () => {
  it('serves the demo with its placeholders replaced, the dashboard, the SPA section and dist', async () => {
    c = await startCollector({}, { rootDir: root });
    const index = await rawGet(c.url, '/');
    expect(index).toMatchObject({ status: 200, type: 'text/html; charset=utf-8' });
    expect(index.body).toBe(
      `<script data-endpoint="${c.url}/api" data-project="${c.project.public_key}"></script>`,
    );
    expect((await rawGet(c.url, '/products.html')).body).toBe('products');
    // The token placeholder is not filled: no page carries a secret (the dashboard signs in).
    expect((await rawGet(c.url, '/dashboard')).body).toBe('dashboard {{SPOOR_API_TOKEN}}');
    expect((await rawGet(c.url, '/dashboard/')).body).toBe('dashboard {{SPOOR_API_TOKEN}}');
    expect((await rawGet(c.url, '/app/orders/7')).body).toBe('spa');
    const js = await rawGet(c.url, '/dist/spoor.min.js');
    expect(js).toMatchObject({ status: 200, type: 'text/javascript; charset=utf-8' });
    expect(js.body).toContain('{{SPOOR_PROJECT_KEY}}'); // only HTML gets placeholders
  });

  it.each([
    ['/../secret.txt', 404, 'Not Found'],
    ['/dist/../secret.txt', 404, 'Not Found'],
    ['/%2e%2e/secret.txt', 404, 'Not Found'],
    ['/dist/%2e%2e%2fsecret.txt', 404, 'Not Found'],
    ['/dist/..%5c..%5csecret.txt', 404, 'Not Found'],
    ['/%2e%2e%2fsecret.txt%00.html', 404, 'Not Found'],
    // The SPA section answers every path it has no file for with its page, never with the file outside.
    ['/app/..%2f..%2fsecret.txt', 200, 'spa'],
    ['/missing.html', 404, 'Not Found'],
  ])('never serves a file outside demo/ and dist/: GET %s is %i', async (path, status, body) => {
    c = await startCollector({}, { rootDir: root });
    expect(await rawGet(c.url, path)).toMatchObject({ status, body });
  });
});

describe('errors', () => {
  it('answers unknown API paths with 404 and other methods with 405 in the error shape', async () => {
    c = await startCollector();
    const missing = await c.post('/api/nope', {});
    expect(missing).toMatchObject({ status: 404, body: { error: true, message: 'Not Found.' } });
    const get = await fetch(`${c.url}${V1}/track`);
    expect(get.status).toBe(405);
    expect(await get.json()).toEqual({ error: true, message: 'The method is not supported for this route.' });
  });

  it('hides the details of a server error and logs them', async () => {
    c = await startCollector();
    const id = await c.session();
    void c.store.close(); // the database is gone: every write throws
    const a = await c.post(`${V1}/track`, { sessionIdentifier: id, timer: 1 });
    expect(a.status).toBe(500);
    expect(a.body).toEqual({ error: true, message: 'Server Error' });
    expect(c.errors).toHaveLength(1);
  });
});

describe('paginator', () => {
  it("shows Laravel's window of page links with separators on long lists", () => {
    expect(pageWindow(1, 5)).toEqual([1, 2, 3, 4, 5]);
    expect(pageWindow(1, 20)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, null, 19, 20]);
    expect(pageWindow(10, 20)).toEqual([1, 2, null, 7, 8, 9, 10, 11, 12, 13, null, 19, 20]);
    expect(pageWindow(18, 20)).toEqual([1, 2, null, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    const empty = paginate([], 0, 1, 15, 'http://x/p');
    expect(empty).toMatchObject({ from: null, to: null, last_page: 1, total: 0, next_page_url: null });
  });
});
