// The CPU profile of a Spoor run, summarised: self time by function, for Spoor's own files and for the
// recorder file (rrweb, with Spoor's enqueue inside its callbacks). The profile is taken on a build whose
// functions keep their names (buildReadableDist), else every row would read `a` or `Qe`.
import { join } from 'node:path';
import { build } from 'esbuild';
import { resultsFolder, rootDir } from './paths.mjs';
import { formatMs } from './stats.mjs';

const entries = {
  'spoor.min.js': 'src/entry/script.ts',
  'spoor.core.min.js': 'src/entry/core.ts',
  'spoor.recorder.min.js': 'src/entry/recorder.ts',
  'spoor.vitals.min.js': 'src/entry/vitals.ts',
  'spoor.compress.min.js': 'src/entry/compress.ts',
  'spoor.worker.min.js': 'src/entry/worker.ts',
};

/** The script-tag files as build.mjs makes them, but with whitespace and syntax minified only (names kept). */
export async function buildReadableDist() {
  const folder = resultsFolder('profile-dist');
  await Promise.all(
    Object.entries(entries).map(([file, entry]) =>
      build({
        entryPoints: [join(rootDir, entry)],
        outfile: join(folder, file),
        bundle: true,
        format: 'iife',
        platform: 'browser',
        target: 'es2019',
        minifyWhitespace: true,
        minifySyntax: true,
        // Identifiers are not minified, so functions keep their names; `keepNames` would add a
        // `__name(fn, ...)` call at every function's creation, which the profile then showed among
        // rrweb's top functions (27 ms in one run), work the real build never does.
        logLevel: 'silent',
      }),
    ),
  );
  return folder;
}

/**
 * A table of the top self-time functions of Spoor's own files and of the recorder file, from a
 * DevTools CPU profile (nodes with call frames, samples and their time deltas).
 */
export function summariseProfile(profile, variant) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    total += ms;
    if (!node) continue;
    const { url, functionName, lineNumber } = node.callFrame;
    const file = url.split('/').pop() ?? '';
    const key = `${file}\t${functionName || '(anonymous)'}:${lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + ms);
  }
  const rows = [];
  const sumOf = (test) =>
    [...self].filter(([key]) => test(key.split('\t')[0])).reduce((a, [, ms]) => a + ms, 0);
  const own = (file) => /^spoor\.(min|core\.min|compress\.min|vitals\.min)\.js$/.test(file);
  const recorder = (file) => file === 'spoor.recorder.min.js' || file === 'rrweb-record.js';
  const top = (test, n) =>
    [...self]
      .filter(([key]) => test(key.split('\t')[0]))
      .sort((a, b) => b[1] - a[1])
      .slice(0, n);
  rows.push(['all of the page (profiled run)', '', formatMs(total)]);
  rows.push(["Spoor's own files", '', formatMs(sumOf(own))]);
  for (const [key, ms] of top(own, 12)) rows.push(['', key.replace('\t', ' '), formatMs(ms)]);
  rows.push(['the recorder file (rrweb)', '', formatMs(sumOf(recorder))]);
  for (const [key, ms] of top(recorder, 6)) rows.push(['', key.replace('\t', ' '), formatMs(ms)]);
  for (const name of ['(garbage collector)', '(program)'])
    rows.push([name, '', formatMs(self.get(`\t${name}:0`) ?? 0)]);
  // Tasks, roughly: runs of samples between idle ones. For each, its length and how much of it was
  // Spoor's own code (self time): a long task in which Spoor's share is small is rrweb's or the page's.
  let task = { ms: 0, own: 0, recorder: 0 };
  let longest = task;
  let mostOwn = task;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const name = node?.callFrame.functionName ?? '';
    if (name === '(idle)') {
      task = { ms: 0, own: 0, recorder: 0 };
      continue;
    }
    const file = node?.callFrame.url.split('/').pop() ?? '';
    task.ms += ms;
    if (own(file)) task.own += ms;
    if (recorder(file)) task.recorder += ms;
    if (task.ms > longest.ms) longest = task;
    if (task.own > mostOwn.own) mostOwn = task;
  }
  const describe = (t) =>
    `${formatMs(t.ms)}: Spoor's own ${formatMs(t.own)}, recorder file ${formatMs(t.recorder)}`;
  rows.push(['longest busy stretch (samples between idle)', '', describe(longest)]);
  rows.push(["busy stretch with the most of Spoor's own time", '', describe(mostOwn)]);
  return {
    title: `CPU profile of one ${variant} run (main thread; a worker's time is not in it): top self time`,
    header: ['part', 'function (file:line of the readable build)', 'self time'],
    rows,
  };
}
