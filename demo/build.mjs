// Bundles the demo's own code into dist/demo/: the QA panel, the dashboard (with rrweb-player) and
// the replay page of the end-to-end tests. Called by the root build.mjs after the snippet's build.
import { copyFile, mkdir, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const demoDir = dirname(fileURLToPath(import.meta.url));
const rootDir = dirname(demoDir);
const outDir = join(rootDir, 'dist', 'demo');

const common = {
  bundle: true,
  minify: true,
  sourcemap: true,
  target: ['chrome100', 'firefox100', 'safari15'],
  logLevel: 'warning',
  legalComments: 'none',
};

/** Builds everything and returns the files written, relative to the repository root. */
export async function buildDemo() {
  await mkdir(outDir, { recursive: true });
  const script = (entry, out, extra = {}) =>
    build({
      ...common,
      format: 'iife',
      entryPoints: [join(demoDir, entry)],
      outfile: join(outDir, out),
      ...extra,
    });
  await Promise.all([
    // The panel lives in a shadow root and adopts its CSS as a constructed sheet: a strict CSP
    // (style-src 'self') allows that, where an injected <style> would be blocked.
    script('qa-panel.ts', 'qa-panel.js', { loader: { '.css': 'text' } }),
    script('dashboard/app.ts', 'dashboard.js'),
    script('replay-test.ts', 'replay-test.js'),
    build({
      ...common,
      entryPoints: [join(demoDir, 'dashboard', 'dashboard.css')],
      outfile: join(outDir, 'dashboard.css'),
    }),
    copyFile(
      join(rootDir, 'node_modules', 'rrweb-player', 'dist', 'style.css'),
      join(outDir, 'rrweb-player.css'),
    ),
    copyFile(
      join(rootDir, 'node_modules', '@rrweb', 'replay', 'dist', 'style.css'),
      join(outDir, 'replay.css'),
    ),
  ]);
  const files = [
    'qa-panel.js',
    'dashboard.js',
    'replay-test.js',
    'dashboard.css',
    'rrweb-player.css',
    'replay.css',
  ];
  const written = [];
  for (const file of files) {
    const path = join(outDir, file);
    written.push({ file: relative(rootDir, path), bytes: (await stat(path)).size });
  }
  return written;
}

// `node demo/build.mjs` builds the demo alone.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const written = await buildDemo();
  for (const { file, bytes } of written) console.log(`${file.padEnd(32)} ${String(bytes).padStart(8)} B`);
}
