// Bundles third-party entries the same way build.mjs bundles ours (esbuild, minified, browser target),
// so that size and overhead comparisons are like for like.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { resultsFolder, rootDir } from './paths.mjs';

/**
 * @param {{ name: string; contents: string; format: 'iife' | 'esm' }} entry
 * @returns {Promise<string>} the path of the minified bundle under bench/results/bundles/
 */
export async function bundle({ name, contents, format }) {
  const folder = resultsFolder('bundles');
  const outfile = join(folder, `${name}.${format === 'esm' ? 'mjs' : 'js'}`);
  const result = await build({
    stdin: { contents, resolveDir: rootDir, loader: 'js' },
    bundle: true,
    minify: true,
    format,
    target: 'es2019',
    platform: 'browser',
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
  });
  writeFileSync(outfile, result.outputFiles[0].contents);
  return outfile;
}

/** Bare rrweb recording as a classic script: exposes `window.rrwebRecord`. */
export function bundleRrwebIife() {
  return bundle({
    name: 'rrweb-record',
    format: 'iife',
    contents: "import { record } from '@rrweb/record'; window.rrwebRecord = record;",
  });
}
