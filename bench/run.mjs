// `npm run bench` (all parts) or `node bench/run.mjs size overhead ingest queries hostile get-events postgres`
// (any of them).
// Each part returns tables and targets, or says why it was skipped; the whole run is written as JSON to
// bench/results/ (git-ignored) so that figures can be compared across commits.
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { resultsFile } from './lib/paths.mjs';
import { renderTable } from './lib/table.mjs';

const parts = {
  size: () => import('./size.mjs'),
  overhead: () => import('./overhead.mjs'),
  ingest: () => import('./ingest.mjs'),
  queries: () => import('./queries.mjs'),
  hostile: () => import('./hostile.mjs'),
  'get-events': () => import('./get-events.mjs'),
  postgres: () => import('./postgres.mjs'),
};
// The bytes on the wire come from the same Chromium runs as the overhead figures.
const aliases = { wire: 'overhead' };

const requested = process.argv.slice(2).map((name) => aliases[name] ?? name);
const unknown = requested.filter((name) => !(name in parts));
if (unknown.length > 0) {
  console.error(
    `Unknown part(s): ${unknown.join(', ')}. Parts: ${[...Object.keys(parts), 'wire'].join(', ')}`,
  );
  process.exit(2);
}
const selected = requested.length > 0 ? [...new Set(requested)] : Object.keys(parts);

const startedAt = new Date();
const report = {
  startedAt: startedAt.toISOString(),
  machine: { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model },
  parts: {},
};
const allTargets = [];

for (const name of selected) {
  const began = performance.now();
  console.log(`\n## ${name}`);
  let result;
  try {
    const part = await parts[name]();
    result = await part.run({ log: (line) => console.log(`  ${line}`) });
  } catch (error) {
    result = { failed: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  result.seconds = Math.round((performance.now() - began) / 100) / 10;
  report.parts[name] = result;

  if (result.skipped) {
    console.log(`SKIPPED ${name}: ${result.skipped}`);
    continue;
  }
  if (result.failed) {
    console.log(`FAILED ${name}: ${result.failed}`);
    continue;
  }
  for (const table of result.tables ?? []) {
    console.log(`\n${table.title}\n`);
    console.log(renderTable(table.header, table.rows));
  }
  for (const note of result.notes ?? []) console.log(`\nNote: ${note}`);
  for (const target of result.targets ?? []) allTargets.push({ part: name, ...target });
  console.log(`\n(${name}: ${result.seconds} s)`);
}

if (allTargets.length > 0) {
  console.log('\n## targets\n');
  console.log(
    renderTable(
      ['target', 'measured', 'verdict'],
      allTargets.map((target) => [
        `${target.part}: ${target.name}`,
        target.value,
        target.met ? 'met' : 'MISSED',
      ]),
    ),
  );
}

report.seconds = Math.round((Date.now() - startedAt.getTime()) / 100) / 10;
report.targets = allTargets;
const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
const json = `${JSON.stringify(report, null, 2)}\n`;
writeFileSync(resultsFile(`bench-${stamp}.json`), json);
writeFileSync(resultsFile('latest.json'), json);
console.log(`\nTotal ${report.seconds} s. Results: bench/results/bench-${stamp}.json (and latest.json)`);
// A missed target is a finding, not a failure; a part that crashed is.
const failed = Object.keys(report.parts).filter((name) => report.parts[name].failed);
if (failed.length > 0) {
  console.error(`Failed: ${failed.join(', ')}`);
  process.exitCode = 1;
}
