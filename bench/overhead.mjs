// Recording overhead in Chromium and bytes on the wire. The same deterministic workload page runs in
// three variants, interleaved round by round (none, rrweb, spoor, none, rrweb, spoor, ...) so that a noisy
// neighbour on the shared machine hurts all three alike:
//   none  — no recorder at all;
//   rrweb — @rrweb/record bundled alone, emitting into an array, with the options Spoor passes;
//   spoor — dist/spoor.min.js fully on: recording, batching, gzip, delivery to a real local collector.
// Main-thread cost comes from the DevTools Protocol (Performance.getMetrics) read just before the
// recorder starts and just after the workload (and, for Spoor, its final delivery) ends.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { bundleRrwebIife } from './lib/bundle.mjs';
import { collectorAvailable, startCollector } from './lib/collector.mjs';
import { benchDir, distDir, resultsDir, resultsFile } from './lib/paths.mjs';
import { startStaticServer } from './lib/static-server.mjs';
import { formatBytes, formatMs, formatRatio, median } from './lib/stats.mjs';

const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const launchArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Interleaved rounds; each round runs every variant once. BENCH_ROUNDS overrides (at least 5 for figures). */
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));
/** 80 frames × 250 = 20,000 DOM mutations: tens of thousands, in a few seconds even on a loaded machine. */
const workload = { frames: 80, perFrame: 250 };
/** Driven by Playwright while the mutations run: mouse moves along a fixed path, and wheel scrolls. */
const input = { moves: 100, wheelEvery: 10, wheelDelta: 400, pauseMs: 10 };

/**
 * The record options Spoor's recorder passes to rrweb (src/observe/recorder.ts), so that "bare rrweb" differs
 * from Spoor only by Spoor's own code: privacy defaults, 50 ms mouse-move sampling, slim DOM, no canvas.
 */
const rrwebOptions = {
  blockClass: 'spoor-block',
  ignoreClass: 'spoor-ignore',
  ignoreSelector: 'input[type="password" i]',
  maskTextClass: 'spoor-mask',
  maskAllInputs: true,
  maskInputOptions: { password: true },
  sampling: { mousemove: 50 },
  slimDOMOptions: 'all',
  recordCanvas: false,
  inlineImages: false,
  collectFonts: false,
};

const metricNames = [
  'ScriptDuration',
  'TaskDuration',
  'LayoutDuration',
  'RecalcStyleDuration',
  'JSHeapUsedSize',
];

export async function run({ log }) {
  if (!existsSync(chromiumPath)) {
    return { skipped: `no Chromium at ${chromiumPath} (set CHROMIUM_PATH)` };
  }
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch {
    return { skipped: 'playwright-core is not installed' };
  }

  const notes = [];
  const variants = ['none', 'rrweb'];
  const spoorMissing = [
    !existsSync(join(distDir, 'spoor.min.js')) && 'dist/spoor.min.js (run `node build.mjs`)',
    !collectorAvailable() && 'server/main.ts',
  ].filter(Boolean);
  if (spoorMissing.length === 0) {
    variants.push('spoor');
    // Extra Spoor variants to find where its cost goes, e.g. BENCH_EXTRA_VARIANTS=spoor:compress=false,
    // spoor:vitals=false+compress=false (each option becomes a data-* attribute of the script tag).
    for (const extra of (process.env.BENCH_EXTRA_VARIANTS ?? '').split(',').filter(Boolean))
      variants.push(extra);
  } else notes.push(`Spoor variant skipped: missing ${spoorMissing.join(' and ')}.`);

  await bundleRrwebIife();
  const server = await startStaticServer({
    '/': join(benchDir, 'workload'),
    '/dist/': distDir,
    '/bundles/': join(resultsDir, 'bundles'),
  });
  const data = mkdtempSync(join(tmpdir(), 'spoor-bench-'));
  let collector;
  let browser;
  try {
    if (variants.some(isSpoor)) {
      collector = await startCollector({
        data,
        env: {
          SPOOR_ALLOWED_ORIGINS: server.origin,
          // One client IP (loopback) sends every run's batches; the default 3600/min could throttle the
          // heaviest runs and measure the rate limiter instead of the recorder.
          SPOOR_TRACK_LIMIT: '1000000',
        },
      });
      log(`collector ${collector.url} (pid ${collector.pid}), pages from ${server.origin}`);
    }
    browser = await chromium.launch({ executablePath: chromiumPath, args: launchArgs });
    // BENCH_PROFILE=1 saves a CPU profile of each measured run under bench/results/profiles/.
    const context = { browser, origin: server.origin, collector, profile: process.env.BENCH_PROFILE === '1' };

    // One unmeasured run warms Chromium, the disk cache and the collector (first session, prepared statements).
    await runOnce({ ...context, profile: false }, variants.at(-1), 'warmup');
    const runs = [];
    for (let round = 0; round < rounds; round++) {
      for (const variant of variants) {
        const result = await runOnce(context, variant, `round${round + 1}`);
        runs.push({ round, variant, ...result });
      }
      log(`round ${round + 1}/${rounds} done`);
    }
    return summarise(runs, variants, notes);
  } finally {
    await browser?.close();
    await collector?.stop();
    await server.close();
    rmSync(data, { recursive: true, force: true });
  }
}

async function runOnce({ browser, origin, collector, profile }, variant, label) {
  // A fresh context per run: empty storage, so Spoor mints a new session every time.
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const track = { requests: 0, sentBytes: 0, jsonBytes: 0, unread: 0 };
  page.on('request', (request) => {
    if (!request.url().endsWith('/services/analytics/v1/track')) return;
    track.requests += 1;
    const body = request.postDataBuffer();
    if (!body) {
      track.unread += 1;
      return;
    }
    track.sentBytes += body.length;
    track.jsonBytes += body[0] === 0x1f && body[1] === 0x8b ? gunzipSync(body).length : body.length;
  });
  try {
    await page.goto(`${origin}/index.html`);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    await cdp.send('HeapProfiler.collectGarbage');
    if (profile) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.start');
    }
    const cpuBefore = await rendererCpu(browser);
    const before = await metrics(cdp);
    const started = Date.now();

    await startVariant(page, variant, collector);
    const [page_] = await Promise.all([
      page.evaluate((options) => window.__bench.run(options), workload),
      driveInput(page),
    ]);
    if (isSpoor(variant)) await finishSpoor(page);

    const windowMs = Date.now() - started;
    const after = await metrics(cdp);
    const cpuAfter = await rendererCpu(browser);
    if (profile) {
      const { profile: cpuProfile } = await cdp.send('Profiler.stop');
      const file = `${label}-${variant.replace(/\W+/g, '_')}.cpuprofile`;
      writeFileSync(resultsFile('profiles', file), JSON.stringify(cpuProfile));
    }
    await cdp.send('HeapProfiler.collectGarbage');
    const heap = (await metrics(cdp)).JSHeapUsedSize;

    const result = {
      windowMs,
      scriptMs: (after.ScriptDuration - before.ScriptDuration) * 1000,
      rendererCpuMs: (cpuAfter - cpuBefore) * 1000,
      taskMs: (after.TaskDuration - before.TaskDuration) * 1000,
      layoutMs: (after.LayoutDuration - before.LayoutDuration) * 1000,
      styleMs: (after.RecalcStyleDuration - before.RecalcStyleDuration) * 1000,
      heapBytes: heap,
      longestTaskMs: page_.longestTask,
      longTasks: page_.longTasks,
      longestFrameMs: page_.longestFrame,
      workloadMs: page_.ms,
      mutations: page_.mutations,
    };
    if (variant === 'rrweb') {
      // Counted after the measurement window: serialising is not part of bare rrweb's cost.
      Object.assign(
        result,
        compressibility(await page.evaluate(() => window.__events.map((e) => JSON.stringify(e)))),
      );
    }
    if (isSpoor(variant)) {
      const debug = await page.evaluate(() => window.__debug);
      const sent = debug.filter((event) => event.kind === 'batch' && event.phase === 'sent');
      const answered = debug.filter((event) => event.kind === 'batch' && event.phase === 'answered');
      Object.assign(result, {
        requests: track.requests,
        sentBytes: track.sentBytes,
        jsonBytes: track.jsonBytes,
        unreadBodies: track.unread,
        debugBatches: sent.length,
        debugRawBytes: sum(sent.map((event) => event.rawBytes)),
        debugSentBytes: sum(sent.map((event) => event.sentBytes)),
        debugEvents: sum(sent.map((event) => event.events)),
        failedBatches: answered.filter((event) => event.status !== 200).length,
        drops: debug.filter((event) => event.kind === 'drop'),
      });
    }
    return result;
  } finally {
    await context.close();
  }
}

/**
 * CPU time of all renderer processes (seconds, 10 ms resolution). Unlike the DevTools durations, which are
 * wall-clock time spent in tasks, CPU time does not grow when a neighbour takes the core away; only one page
 * is open at a time, so the other renderers stay idle.
 */
async function rendererCpu(browser) {
  const session = await browser.newBrowserCDPSession();
  try {
    const { processInfo } = await session.send('SystemInfo.getProcessInfo');
    return sum(processInfo.filter((p) => p.type === 'renderer').map((p) => p.cpuTime));
  } finally {
    await session.detach();
  }
}

async function metrics(cdp) {
  const { metrics: list } = await cdp.send('Performance.getMetrics');
  return Object.fromEntries(list.filter((m) => metricNames.includes(m.name)).map((m) => [m.name, m.value]));
}

async function startVariant(page, variant, collector) {
  if (variant === 'rrweb') {
    await page.evaluate(async (options) => {
      await window.__bench.loadScript('/bundles/rrweb-record.js');
      window.__events = [];
      window.__stopRecording = window.rrwebRecord({
        ...options,
        emit: (event) => window.__events.push(event),
      });
    }, rrwebOptions);
  } else if (isSpoor(variant)) {
    const extra = Object.fromEntries(
      (variant.split(':')[1] ?? '')
        .split('+')
        .filter(Boolean)
        .map((option) => option.split('='))
        .map(([name, value]) => [`data-${name}`, value ?? 'true']),
    );
    await page.evaluate(
      async ({ api, projectKey, extra }) => {
        // The one-line stub of docs/contract.md, "Installing the snippet", then the debug listener queued through it.
        window.spoor =
          window.spoor ||
          function () {
            window.spoor.q = window.spoor.q || [];
            // biome-ignore lint/complexity/noArguments: the published stub queues `arguments` as is
            window.spoor.q.push(arguments);
          };
        window.__debug = [];
        // Only what the bench reads (batches, drops, state), so the listener itself costs the page nothing.
        window.spoor('debug', (event) => {
          if (event.kind === 'batch' || event.kind === 'drop' || event.kind === 'state')
            window.__debug.push(event);
        });
        await window.__bench.loadScript('/dist/spoor.min.js', {
          'data-endpoint': api,
          'data-project': projectKey,
          // Playwright sets navigator.webdriver; without this Spoor rightly refuses to track.
          'data-allow-automation': 'true',
          ...extra,
        });
      },
      { api: collector.api, projectKey: collector.projectKey, extra },
    );
    await waitForSpoor(page, extra['data-record'] !== 'false');
  }
}

/**
 * Spoor mints a session and then loads its recorder file, whose load event starts rrweb; rrweb takes its
 * full snapshot synchronously inside record(). So recording is on a few tasks after the file has loaded
 * (or, with data-record="false", once Spoor says it is tracking).
 */
async function waitForSpoor(page, recording) {
  await page.waitForFunction(
    recording
      ? () =>
          performance
            .getEntriesByType('resource')
            .some((entry) => entry.name.endsWith('/spoor.recorder.min.js'))
      : () => window.__debug.some((event) => event.kind === 'state' && event.tracking),
    undefined,
    { timeout: 15_000, polling: 20 },
  );
  await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 250)));
}

/** Delivers what is still queued and waits for the collector's answers, inside the measured window. */
async function finishSpoor(page) {
  await page.evaluate(async () => {
    const result = window.spoor('flush');
    if (result && typeof result.then === 'function') await result;
  });
  await page.waitForFunction(
    () => {
      const debug = window.__debug;
      const sent = debug.filter((event) => event.kind === 'batch' && event.phase === 'sent').length;
      const answered = debug.filter((event) => event.kind === 'batch' && event.phase === 'answered').length;
      return sent > 0 && sent === answered;
    },
    undefined,
    { timeout: 30_000, polling: 50 },
  );
}

async function driveInput(page) {
  for (let i = 0; i < input.moves; i++) {
    // A Lissajous path over the viewport: deterministic, and never two identical positions in a row.
    const x = 640 + 560 * Math.sin(i / 7);
    const y = 400 + 320 * Math.sin(i / 11);
    await page.mouse.move(x, y);
    if (i % input.wheelEvery === input.wheelEvery - 1) {
      await page.mouse.wheel(0, (i / input.wheelEvery) % 2 < 1 ? input.wheelDelta : -input.wheelDelta);
    }
    await new Promise((resolve) => setTimeout(resolve, input.pauseMs));
  }
}

/**
 * How well this workload's rrweb events compress, computed in Node from the bare rrweb run: gzip of all the
 * JSON at once (the best any batching could do) and gzip of batches cut at Spoor's 50 KB the way its queue
 * cuts them (each batch compressed alone, as each /track body is).
 */
function compressibility(events) {
  const jsonBytes = sum(events.map((json) => Buffer.byteLength(json))) + Math.max(0, events.length - 1) + 2;
  const whole = gzipSync(`[${events.join(',')}]`).length;
  let batched = 0;
  let batch = [];
  let bytes = 0;
  for (const json of events) {
    const size = Buffer.byteLength(json) + 1;
    if (batch.length > 0 && bytes + size > 50_000) {
      batched += gzipSync(`[${batch.join(',')}]`).length;
      batch = [];
      bytes = 0;
    }
    batch.push(json);
    bytes += size;
  }
  if (batch.length > 0) batched += gzipSync(`[${batch.join(',')}]`).length;
  return { events: events.length, jsonBytes, gzipWhole: whole, gzipBatched: batched };
}

function isSpoor(variant) {
  return variant === 'spoor' || variant.startsWith('spoor:');
}

function sum(values) {
  return values.reduce((total, value) => total + (value ?? 0), 0);
}

function summarise(runs, variants, notes) {
  const byVariant = (variant) => runs.filter((r) => r.variant === variant);
  const rounds = [...new Set(runs.map((r) => r.round))];
  // Ratios are taken within a round (variant ÷ the none run of that round), then the median over rounds.
  const pairedRatio = (variant, key) =>
    median(
      rounds.map((round) => {
        const base = runs.find((r) => r.round === round && r.variant === 'none')[key];
        const value = runs.find((r) => r.round === round && r.variant === variant)[key];
        return base > 0 ? value / base : Number.NaN;
      }),
    );
  const keys = [
    ['scriptMs', 'script (ScriptDuration, wall clock)', formatMs],
    ['taskMs', 'main-thread tasks (TaskDuration, wall clock)', formatMs],
    ['rendererCpuMs', 'renderer CPU time (all threads)', formatMs],
    ['longestTaskMs', 'longest task (longtask ≥ 50 ms)', formatMs],
    ['longestFrameMs', 'longest frame gap (rAF)', formatMs],
    ['heapBytes', 'JS heap used after GC', formatBytes],
  ];
  const overheadRows = [];
  for (const [key, label, format] of keys) {
    const row = [label];
    for (const variant of variants) {
      const value = median(byVariant(variant).map((r) => r[key]));
      row.push(
        variant === 'none' ? format(value) : `${format(value)} (${formatRatio(pairedRatio(variant, key))})`,
      );
    }
    overheadRows.push(row);
  }

  const targets = [];
  const summary = {};
  for (const key of ['scriptMs', 'taskMs', 'rendererCpuMs', 'heapBytes', 'longestTaskMs']) {
    summary[key] = Object.fromEntries(
      variants.map((variant) => [
        variant,
        { median: median(byVariant(variant).map((r) => r[key])), ratio: pairedRatio(variant, key) },
      ]),
    );
  }
  if (variants.includes('spoor')) {
    for (const [key, label] of [
      ['rendererCpuMs', 'renderer CPU time'],
      ['taskMs', 'main-thread task time (wall clock)'],
      ['scriptMs', 'script time (wall clock)'],
    ]) {
      // Percentage points: (spoor/none − rrweb/none) × 100, paired within each round, median over rounds.
      const perRound = rounds.map((round) => {
        const get = (variant) => runs.find((r) => r.round === round && r.variant === variant)[key];
        return (100 * (get('spoor') - get('rrweb'))) / get('none');
      });
      const points = median(perRound);
      const signed = (value) => `${value >= 0 ? '+' : ''}${value.toFixed(1)}`;
      summary[key].spoorMinusRrwebPoints = points;
      summary[key].pointsPerRound = perRound;
      targets.push({
        name: `${label}: Spoor/none within 2 points of rrweb/none`,
        value: `${formatRatio(summary[key].spoor.ratio)} vs ${formatRatio(summary[key].rrweb.ratio)}: ${signed(points)} points (rounds ${signed(Math.min(...perRound))}..${signed(Math.max(...perRound))})`,
        met: points <= 2,
      });
    }
  }

  const tables = [
    {
      title: `Recording overhead in Chromium: ${workload.frames * workload.perFrame} mutations over ${workload.frames} frames, ${input.moves} mouse moves, ${Math.floor(input.moves / input.wheelEvery)} scrolls; median of ${rounds.length} interleaved rounds (ratio to none, paired per round)`,
      header: ['metric', ...variants],
      rows: overheadRows,
    },
  ];

  const spoorRuns = byVariant('spoor');
  const rrwebRuns = byVariant('rrweb');
  if (spoorRuns.length > 0) {
    const m = (key) => median(spoorRuns.map((r) => r[key]));
    const jsonBytes = m('jsonBytes');
    const sentBytes = m('sentBytes');
    const requests = m('requests');
    const perMinute = median(spoorRuns.map((r) => r.requests / (r.windowMs / 60_000)));
    const share = median(spoorRuns.map((r) => r.sentBytes / r.jsonBytes));
    summary.wire = { jsonBytes, sentBytes, requests, perMinute, share };
    tables.push({
      title:
        'Bytes on the wire (Spoor, same workload; median of the rounds; JSON = decompressed /track bodies)',
      header: ['figure', 'value'],
      rows: [
        ['rrweb events as JSON (bare rrweb run)', formatBytes(median(rrwebRuns.map((r) => r.jsonBytes)))],
        [
          '  the same gzipped by Node: all at once / in 50 KB batches',
          `1/${median(rrwebRuns.map((r) => r.jsonBytes / r.gzipWhole)).toFixed(1)} / 1/${median(rrwebRuns.map((r) => r.jsonBytes / r.gzipBatched)).toFixed(1)}`,
        ],
        ['JSON produced by Spoor (request bodies, decompressed)', formatBytes(jsonBytes)],
        ['  per Spoor debug hook (rawBytes of sent batches)', formatBytes(m('debugRawBytes'))],
        ['bytes sent (request bodies)', formatBytes(sentBytes)],
        ['  per Spoor debug hook (sentBytes)', formatBytes(m('debugSentBytes'))],
        ['sent ÷ JSON', `1/${(1 / share).toFixed(1)} (${(share * 100).toFixed(1)}%)`],
        ['/track requests', String(requests)],
        ['measured window', `${(m('windowMs') / 1000).toFixed(1)} s`],
        ['requests per minute over the window', perMinute.toFixed(0)],
        ['batches not answered 200', String(sum(spoorRuns.map((r) => r.failedBatches)))],
      ],
    });
    targets.push({
      name: 'bytes sent ≤ 1/8 of the JSON',
      value: `1/${(1 / share).toFixed(1)}`,
      met: share <= 1 / 8,
    });
    const unread = sum(spoorRuns.map((r) => r.unreadBodies));
    if (unread > 0)
      notes.push(`${unread} /track bodies were not visible to Playwright (beacons?): sent bytes undercount.`);
  }

  return {
    tables,
    targets,
    notes,
    data: { workload, input, rrwebOptions, rounds: rounds.length, summary, runs },
  };
}
