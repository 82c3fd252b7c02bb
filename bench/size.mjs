// Size: raw, gzip and brotli bytes of what a site downloads, beside rrweb's record entry and
// web-vitals bundled alone the same way (esbuild, minified) in the same run.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { bundle } from './lib/bundle.mjs';
import { distDir } from './lib/paths.mjs';
import { formatBytes } from './lib/stats.mjs';

/** The budget of the script-tag loader (6 KB gzip). */
const LOADER_BUDGET_GZIP = 6 * 1024;
/** The recorder file may cost at most this much more than @rrweb/record bundled alone. */
const RECORDER_SLACK = 0.1;

const vitals = 'onCLS, onFCP, onINP, onLCP, onTTFB';
const references = [
  {
    name: '@rrweb/record (IIFE)',
    format: 'iife',
    contents: "import { record } from '@rrweb/record'; window.rrwebRecord = record;",
  },
  { name: '@rrweb/record (ESM)', format: 'esm', contents: "export { record } from '@rrweb/record';" },
  {
    name: 'web-vitals (IIFE)',
    format: 'iife',
    contents: `import { ${vitals} } from 'web-vitals'; window.webVitals = { ${vitals} };`,
  },
  { name: 'web-vitals (ESM)', format: 'esm', contents: `export { ${vitals} } from 'web-vitals';` },
];

const ours = ['spoor.min.js', 'spoor.recorder.min.js', 'spoor.vitals.min.js', 'index.js'];
/** Files of the script-tag build that a tracked, recording page downloads, when the build has them. */
const scriptTag = ['spoor.min.js', 'spoor.core.min.js', 'spoor.recorder.min.js', 'spoor.vitals.min.js'];

export function measure(bytes) {
  return {
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
    }).length,
  };
}

export async function run() {
  const missing = ours.filter((file) => !existsSync(join(distDir, file)));
  if (missing.length === ours.length) {
    return { skipped: `no dist/ build (${missing.join(', ')} missing): run \`node build.mjs\` first` };
  }

  const rows = [];
  for (const file of ours) {
    const path = join(distDir, file);
    rows.push(
      existsSync(path)
        ? { name: `dist/${file}`, ...measure(readFileSync(path)) }
        : { name: `dist/${file}`, missing: true },
    );
  }
  // Every other file: what the script tag loads later (e.g. its core) and the chunks the npm entry splits
  // off behind dynamic imports. Listed so that no entry's figure is mistaken for all a page downloads.
  for (const folder of ['', 'chunks']) {
    const dir = join(distDir, folder);
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir).sort()) {
      const name = folder ? `${folder}/${file}` : file;
      if (file.endsWith('.js') && !ours.includes(name)) {
        rows.push({
          name: `dist/${name}`,
          chunk: folder ? 'npm chunk' : 'loaded later',
          ...measure(readFileSync(join(dir, file))),
        });
      }
    }
  }
  for (const reference of references) {
    const path = await bundle({ ...reference, name: basename(reference.name.replace(/\W+/g, '-')) });
    rows.push({ name: reference.name, reference: true, ...measure(readFileSync(path)) });
  }

  // Every file is compressed on its own on the wire, so the totals are sums of the separate figures.
  const total = (name, members) => {
    const found = members
      .map((member) => rows.find((row) => row.name === member))
      .filter((row) => row && !row.missing);
    const add = (key) => found.reduce((sum, row) => sum + row[key], 0);
    return { name, total: true, raw: add('raw'), gzip: add('gzip'), brotli: add('brotli') };
  };
  rows.push(
    total(
      'total: script tag, tracked and recording',
      scriptTag.map((file) => `dist/${file}`),
    ),
    total('total: @rrweb/record + web-vitals alone (IIFE)', ['@rrweb/record (IIFE)', 'web-vitals (IIFE)']),
  );

  const loader = rows.find((row) => row.name === 'dist/spoor.min.js');
  const recorder = rows.find((row) => row.name === 'dist/spoor.recorder.min.js');
  const rrweb = rows.find((row) => row.name === '@rrweb/record (IIFE)');
  const targets = [];
  if (loader && !loader.missing) {
    targets.push({
      name: 'spoor.min.js gzip ≤ 6 KB (6144 B)',
      value: `${loader.gzip} B`,
      met: loader.gzip <= LOADER_BUDGET_GZIP,
    });
  }
  if (recorder && !recorder.missing) {
    const limit = Math.floor(rrweb.gzip * (1 + RECORDER_SLACK));
    targets.push({
      name: `spoor.recorder.min.js gzip ≤ @rrweb/record gzip + 10% (${limit} B)`,
      value: `${recorder.gzip} B (${((recorder.gzip / rrweb.gzip - 1) * 100).toFixed(1)}%)`,
      met: recorder.gzip <= limit,
    });
  }

  return {
    tables: [
      {
        title: 'Size (bytes; gzip level 9, brotli quality 11; references bundled with esbuild, minified)',
        header: ['file', 'raw', 'gzip', 'brotli', 'raw B', 'gzip B', 'brotli B'],
        rows: rows.map((row) =>
          row.missing
            ? [row.name, 'missing', '', '', '', '', '']
            : [
                row.chunk ? `${row.name} (${row.chunk})` : row.name,
                formatBytes(row.raw),
                formatBytes(row.gzip),
                formatBytes(row.brotli),
                row.raw,
                row.gzip,
                row.brotli,
              ],
        ),
      },
    ],
    targets,
    data: { files: rows },
  };
}
