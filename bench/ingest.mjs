// Collector ingest: /track requests per second and latency at a few concurrency levels, beside a bare
// node:http server that only reads and discards the same bodies, interleaved in the same run. Every
// collector answer counted here is a 200 sent after the batch was durably committed (server/store/writer.ts:
// group commit, answered after the WAL's fdatasync).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChild } from './lib/child.mjs';
import { collectorAvailable, startCollector } from './lib/collector.mjs';
import { processCpuMs } from './lib/cpu.mjs';
import { load } from './lib/load.mjs';
import { benchDir } from './lib/paths.mjs';
import { generator, trackBody } from './lib/rrweb-events.mjs';
import { formatBytes, formatMs, median, percentile } from './lib/stats.mjs';

const levels = [1, 8, 32];
/** Each level runs bare, collector, bare, collector: two slices of this length per server. */
const sliceMs = Number(process.env.BENCH_INGEST_SLICE_MS ?? 2500);
/** Sessions the bodies are spread over (each with its own minted identifier). */
const sessions = 64;
/**
 * Unique bodies for the collector: a body it has already stored is answered from the duplicate check
 * without a write, which would flatter it. When they run out, a slice ends early (and says so).
 */
const poolSize = Number(process.env.BENCH_INGEST_BODIES ?? 24_000);

export async function run({ log }) {
  if (!collectorAvailable()) return { skipped: 'no collector (server/main.ts missing)' };

  const data = mkdtempSync(join(tmpdir(), 'spoor-ingest-'));
  const notes = [
    'SPOOR_TRACK_LIMIT is raised to 1,000,000,000 and the per-address connection cap is off for this part: every request comes from one loopback IP, and the defaults would measure the limiters.',
  ];
  let collector;
  let bare;
  try {
    collector = await startCollector({
      data,
      env: { SPOOR_TRACK_LIMIT: '1000000000', SPOOR_MAX_CONNECTIONS_PER_IP: '0' },
    });
    bare = await startChild([join(benchDir, 'lib', 'bare-server.mjs')], /^Bare server listening on (\S+)/m);
    // The bare server keeps nothing, so it may see a body twice; the collector never does (see poolSize).
    const trackUrl = (base) =>
      `${base.replace('//localhost:', '//127.0.0.1:')}/api/services/analytics/v1/track`;
    const urls = { bare: `${bare.url}/api/services/analytics/v1/track`, collector: trackUrl(collector.url) };

    const identifiers = await mintIdentifiers(collector, sessions);
    log(`minted ${identifiers.length} identifiers; generating ${poolSize} bodies`);
    const { openers, pool, sizes } = makeBodies(identifiers);

    // Warm-up, unmeasured: each session's opening batch (with its visit event) and a short burst on both.
    const opened = await load({ url: urls.collector, bodies: openers, concurrency: 8, durationMs: 60_000 });
    if (opened.statuses[200] !== openers.length) {
      throw new Error(`collector refused opening batches: ${JSON.stringify(opened.statuses)}`);
    }
    await load({ url: urls.bare, bodies: openers, concurrency: 8, durationMs: 60_000 });

    let cursor = 0;
    const results = [];
    for (const concurrency of levels) {
      const slices = { bare: [], collector: [] };
      for (let rep = 0; rep < 2; rep++) {
        slices.bare.push(
          await measured(bare.pid, () =>
            load({ url: urls.bare, bodies: pool, cycle: true, concurrency, durationMs: sliceMs }),
          ),
        );
        const slice = await measured(collector.pid, () =>
          load({ url: urls.collector, bodies: pool, start: cursor, concurrency, durationMs: sliceMs }),
        );
        cursor = slice.next;
        slices.collector.push(slice);
      }
      for (const server of ['bare', 'collector']) {
        const list = slices[server];
        const latencies = list.flatMap((slice) => slice.latencies);
        const requests = latencies.length;
        const seconds = list.reduce((total, slice) => total + slice.seconds, 0);
        const statuses = {};
        for (const slice of list) {
          for (const [status, count] of Object.entries(slice.statuses))
            statuses[status] = (statuses[status] ?? 0) + count;
        }
        results.push({
          server,
          concurrency,
          requests,
          seconds,
          rps: requests / seconds,
          cpuMsPerRequest: list.reduce((total, slice) => total + slice.cpuMs, 0) / requests,
          p50: percentile(latencies, 50),
          p99: percentile(latencies, 99),
          statuses,
        });
      }
      log(`concurrency ${concurrency} done`);
    }
    if (cursor >= pool.length)
      notes.push('The collector used up the pool of unique bodies: raise BENCH_INGEST_BODIES.');

    await collector.stop();
    const stored = countStoredBatches(join(data, 'spoor.sqlite'));
    const answered = results
      .filter((r) => r.server === 'collector')
      .reduce((total, r) => total + (r.statuses[200] ?? 0), 0);
    return summarise(results, { sizes, stored, answered: answered + openers.length, notes });
  } finally {
    await collector?.stop();
    await bare?.stop();
    rmSync(data, { recursive: true, force: true });
  }
}

/** Runs a load slice and adds the CPU milliseconds the server process used meanwhile. */
export async function measured(pid, slice) {
  const before = processCpuMs(pid);
  const result = await slice();
  return { ...result, cpuMs: processCpuMs(pid) - before };
}

export async function mintIdentifiers(collector, count) {
  const identifiers = [];
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${collector.api}/services/analytics/v1/session`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      body: JSON.stringify({
        project: collector.projectKey,
        url: `https://shop.example/products/${i}`,
        referrer: '',
        userAgent:
          'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36',
      }),
    });
    const body = await response.json();
    if (!response.ok || typeof body.sessionIdentifier !== 'string') {
      throw new Error(`/session answered ${response.status}: ${JSON.stringify(body)}`);
    }
    identifiers.push(body.sessionIdentifier);
  }
  return identifiers;
}

export function makeBodies(identifiers, size = poolSize) {
  const random = generator(7);
  const start = Date.now();
  const openers = identifiers.map((sessionIdentifier, i) => {
    const url = `https://shop.example/products/${i}`;
    return trackBody({
      seed: 1_000_000 + i,
      sessionIdentifier,
      startMs: start,
      jsonBytes: 20_000,
      visit: { url, referrer: '', title: 'Products', navigation: 'load' },
    }).gzip;
  });
  const pool = [];
  const json = [];
  const gzip = [];
  for (let i = 0; i < size; i++) {
    // Batches of 4–48 KB of JSON: a quiet five seconds up to the 50 KB flush threshold.
    const body = trackBody({
      seed: i,
      sessionIdentifier: identifiers[i % identifiers.length],
      startMs: start + 1000 + Math.floor(i / identifiers.length) * 5000,
      jsonBytes: 4000 + Math.floor(random() * 44_000),
    });
    pool.push(body.gzip);
    json.push(body.json);
    gzip.push(body.gzip.length);
  }
  return { openers, pool, sizes: { json: median(json), gzip: median(gzip) } };
}

/** What the collector committed, read from its database file after it stopped. */
function countStoredBatches(file) {
  return import('better-sqlite3')
    .then(({ default: Database }) => {
      const db = new Database(file, { readonly: true });
      try {
        return db.prepare('SELECT COUNT(*) AS n FROM batches').get().n;
      } finally {
        db.close();
      }
    })
    .catch(() => null);
}

async function summarise(results, { sizes, stored, answered, notes }) {
  const storedCount = await stored;
  const rows = [];
  const targets = [];
  for (const concurrency of levels) {
    const bare = results.find((r) => r.server === 'bare' && r.concurrency === concurrency);
    const collector = results.find((r) => r.server === 'collector' && r.concurrency === concurrency);
    const share = collector.rps / bare.rps;
    const refused = Object.entries(collector.statuses).filter(([status]) => status !== '200');
    rows.push([
      String(concurrency),
      bare.rps.toFixed(0),
      formatMs(bare.p50),
      formatMs(bare.p99),
      collector.rps.toFixed(0),
      formatMs(collector.p50),
      formatMs(collector.p99),
      `${(share * 100).toFixed(0)}%`,
      `${bare.cpuMsPerRequest.toFixed(2)} / ${collector.cpuMsPerRequest.toFixed(2)}`,
      refused.length === 0 ? '0' : refused.map(([status, count]) => `${count}×${status}`).join(' '),
    ]);
    targets.push({
      name: `/track rate ≥ 50% of bare at concurrency ${concurrency}`,
      value: `${(share * 100).toFixed(0)}%`,
      met: share >= 0.5,
    });
  }
  if (storedCount !== null && storedCount !== answered) {
    notes.push(`The collector answered 200 to ${answered} batches but its database holds ${storedCount}.`);
  } else if (storedCount !== null) {
    notes.push(`Every batch answered 200 (${answered}) is in the collector's database after it stopped.`);
  }
  return {
    tables: [
      {
        title: `Collector ingest: POST /track, gzip bodies (median ${formatBytes(sizes.gzip)} on the wire, ${formatBytes(sizes.json)} of JSON), ${sessions} sessions, 2 × ${sliceMs / 1000} s per server and level, interleaved`,
        header: [
          'concurrency',
          'bare req/s',
          'bare p50',
          'bare p99',
          'collector req/s',
          'collector p50',
          'collector p99',
          'collector ÷ bare',
          'CPU ms per request: bare / collector',
          'non-200',
        ],
        rows,
      },
    ],
    targets,
    notes,
    data: { levels, sliceMs, sessions, sizes, results, storedBatches: storedCount, answered },
  };
}
