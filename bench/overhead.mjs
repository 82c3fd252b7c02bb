// Recording overhead in Chromium and bytes on the wire. The same deterministic workload page runs in
// several variants, interleaved round by round (none, rrweb, rrweb-json, spoor, ..., none, ...) so that a
// noisy neighbour on the shared machine hurts all of them alike:
//   none       — no recorder at all;
//   rrweb      — @rrweb/record bundled alone, emitting into an array, with rrweb's default options
//                (bare rrweb, as a site would record with it);
//   rrweb-json — the same, serializing the events gathered to JSON every 5 s and once at the end (what
//                any recorder that sends its events must do at the least);
//   rrweb-spoor — bare rrweb again, but with the record options Spoor passes (src/observe/recorder.ts):
//                the cost of those options, apart from the cost of Spoor's own code;
//   rrweb:<a>+<b> / rrweb-spoor:-<a> (BENCH_EXTRA_VARIANTS) — rrweb's defaults plus Spoor's options a
//                and b, or Spoor's options less a: what each option costs;
//   spoor      — dist/spoor.min.js fully on: recording, batching, gzip (in a worker), delivery to a real
//                local collector; spoor:worker=false compresses on the main thread;
//   spoor-before — with BENCH_BEFORE_DIST=<folder of another build>, that build, in the same rounds.
// Main-thread cost comes from the DevTools Protocol (Performance.getMetrics) read just before the
// recorder starts and just after the workload (and, for Spoor, its final delivery) ends. Every variant
// gets the same settle time after its recorder starts, and nothing polls the page inside the window:
// waits are promises in the page, resolved by Spoor's debug events.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { bundleRrwebIife } from './lib/bundle.mjs';
import { collectorAvailable, startCollector } from './lib/collector.mjs';
import { benchDir, distDir, resultsDir, resultsFile } from './lib/paths.mjs';
import { buildReadableDist, summariseProfile } from './lib/profile.mjs';
import { startStaticServer } from './lib/static-server.mjs';
import { formatBytes, formatMs, formatRatio, median } from './lib/stats.mjs';
import { mainThreadSelfTime, traceCategories } from './lib/trace.mjs';

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
 * The record options Spoor's recorder passes to rrweb (src/observe/recorder.ts), so that rrweb-spoor differs
 * from Spoor only by Spoor's own code: privacy defaults, mouse-move sampling, slim DOM, no canvas. The
 * rrweb and rrweb-json variants pass none of them (rrweb's defaults).
 */
export const rrwebOptions = {
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
  // Spoor passes an error handler (rrweb then wraps its observers' callbacks in try/catch); a function
  // cannot cross page.evaluate, so `true` stands for one that swallows the error, as Spoor's does.
  errorHandler: true,
};

const metricNames = [
  'ThreadTime',
  'ProcessTime',
  'DevToolsCommandDuration',
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
  const variants = ['none', 'rrweb', 'rrweb-json', 'rrweb-spoor'];
  const beforeDist = process.env.BENCH_BEFORE_DIST;
  const spoorMissing = [
    !existsSync(join(distDir, 'spoor.min.js')) && 'dist/spoor.min.js (run `node build.mjs`)',
    !collectorAvailable() && 'server/main.ts',
  ].filter(Boolean);
  if (spoorMissing.length === 0) {
    variants.push('spoor', 'spoor:worker=false');
    if (beforeDist && existsSync(join(beforeDist, 'spoor.min.js'))) variants.push('spoor-before');
    // Extra Spoor variants to find where its cost goes, e.g. BENCH_EXTRA_VARIANTS=spoor:compress=false,
    // spoor:vitals=false+compress=false (each option becomes a data-* attribute of the script tag).
  } else notes.push(`Spoor variant skipped: missing ${spoorMissing.join(' and ')}.`);
  // Extra variants, Spoor's as above or rrweb's with some of Spoor's options (rrweb:slimDOMOptions,
  // rrweb-spoor:-maskAllInputs): what each option costs.
  for (const extra of (process.env.BENCH_EXTRA_VARIANTS ?? '').split(',').filter(Boolean)) {
    if (!isSpoor(extra) || spoorMissing.length === 0) variants.push(extra);
  }
  // BENCH_VARIANTS=none,rrweb,...: only these (none is always kept: every ratio is taken against it), so
  // that more rounds of the variants in question fit in the same time.
  const only = (process.env.BENCH_VARIANTS ?? '').split(',').filter(Boolean);
  if (only.length > 0) {
    for (let i = variants.length - 1; i >= 0; i--) {
      if (variants[i] !== 'none' && !only.includes(variants[i])) variants.splice(i, 1);
    }
  }

  await bundleRrwebIife();
  const profiling = process.env.BENCH_PROFILE === '1';
  const server = await startStaticServer({
    ...(profiling ? { '/readable/': await buildReadableDist() } : {}),
    '/': join(benchDir, 'workload'),
    '/dist/': distDir,
    '/bundles/': join(resultsDir, 'bundles'),
    ...(beforeDist ? { '/before/': beforeDist } : {}),
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
    const context = { browser, origin: server.origin, collector, profile: false };

    // One unmeasured run of every variant warms Chromium, its code cache for each script, and the
    // collector (first session, prepared statements): else the first round measures compiling.
    for (const variant of variants) await runOnce(context, variant, 'warmup');
    const runs = [];
    for (let round = 0; round < rounds; round++) {
      for (const variant of variants) {
        const result = await runOnce(context, variant, `round${round + 1}`);
        runs.push({ round, variant, ...result });
      }
      log(`round ${round + 1}/${rounds} done`);
    }
    const result = summarise(runs, variants, notes);
    // BENCH_TRACE=<rounds>: more interleaved rounds, each run under a Chromium trace, summarised as the
    // main thread's self time by trace event (script, compiling, GC, layout, loading, ...), median per
    // variant: where the main-thread CPU of each goes. Outside the measured rounds (tracing costs).
    const traceRounds = Number(process.env.BENCH_TRACE ?? 0);
    if (traceRounds > 0) {
      const traced = [];
      for (let round = 0; round < traceRounds; round++) {
        for (const variant of variants) {
          const { trace } = await runOnce({ ...context, trace: true }, variant, `trace${round + 1}`);
          traced.push({ round, variant, self: trace });
        }
        log(`traced round ${round + 1}/${traceRounds} done`);
      }
      result.tables.push(...summariseTraces(traced, variants));
      result.data.traces = traced.map((t) => ({ ...t, self: Object.fromEntries(t.self) }));
    }
    // BENCH_PROFILE=1: one more run of each Spoor variant under the DevTools CPU profiler, on a build
    // whose functions keep their names, outside the measured rounds (the profiler slows the page).
    if (profiling) {
      // rrweb-spoor too: the same rrweb with the same options, alone, to compare rrweb's own time with.
      for (const variant of variants.filter(
        (v) => v === 'spoor' || v === 'spoor:worker=false' || v === 'rrweb-spoor',
      )) {
        const profiled = await runOnce({ ...context, profile: true, src: '/readable' }, variant, 'profile');
        result.tables.push(summariseProfile(profiled.cpuProfile, variant));
      }
    }
    return result;
  } finally {
    await browser?.close();
    await collector?.stop();
    await server.close();
    rmSync(data, { recursive: true, force: true });
  }
}

async function runOnce({ browser, origin, collector, profile, trace, src }, variant, label) {
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
    // Long animation frames with the scripts that ran in them (Chromium 123+), from page load on: the
    // longest task a script of Spoor's own files caused, told apart from rrweb's and the workload's.
    await page.addInitScript(() => {
      window.__loaf = [];
      try {
        new PerformanceObserver((list) => {
          for (const entry of list.getEntries()) {
            window.__loaf.push({
              duration: entry.duration,
              blocking: entry.blockingDuration,
              scripts: entry.scripts.map((s) => ({
                url: s.sourceURL,
                start: s.startTime,
                duration: s.duration,
                invoker: s.invoker,
              })),
            });
          }
        }).observe({ type: 'long-animation-frame', buffered: true });
      } catch {}
    });
    await page.goto(`${origin}/index.html`);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    await cdp.send('HeapProfiler.collectGarbage');
    if (profile) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.start');
    }
    if (trace) await browser.startTracing(page, { categories: traceCategories });
    const cpuBefore = await rendererCpu(browser);
    const before = await metrics(cdp);
    const started = Date.now();

    await startVariant(page, variant, collector, src);
    const [page_] = await Promise.all([
      page.evaluate((options) => window.__bench.run(options), workload),
      driveInput(page),
    ]);
    if (isSpoor(variant)) await finishSpoor(page);
    if (variant === 'rrweb-json') await finishJson(page);

    const windowMs = Date.now() - started;
    const after = await metrics(cdp);
    const cpuAfter = await rendererCpu(browser);
    const traced = trace
      ? mainThreadSelfTime(JSON.parse((await browser.stopTracing()).toString()))
      : undefined;
    let cpuProfile;
    if (profile) {
      ({ profile: cpuProfile } = await cdp.send('Profiler.stop'));
      const file = `${label}-${variant.replace(/\W+/g, '_')}.cpuprofile`;
      writeFileSync(resultsFile('profiles', file), JSON.stringify(cpuProfile));
    }
    await cdp.send('HeapProfiler.collectGarbage');
    const heap = (await metrics(cdp)).JSHeapUsedSize;

    const loaf = await page.evaluate(() => ({
      frames: window.__loaf,
      // rrweb's start (its full snapshot), measured by Spoor's recorder: rrweb's time, not Spoor's.
      snapshots: performance
        .getEntriesByName('spoor: rrweb full snapshot')
        .map((entry) => ({ start: entry.startTime, duration: entry.duration })),
    }));
    const result = {
      windowMs,
      ...(cpuProfile ? { cpuProfile } : {}),
      ...(traced ? { trace: traced } : {}),
      // Main-thread CPU (ThreadTime) and the renderer process's CPU, all threads (ProcessTime): CPU
      // time, fine-grained, so a neighbour taking the core does not inflate it; the DevTools commands
      // the bench itself sends (its evaluate calls) are taken off the main thread's figure.
      mainCpuMs:
        (after.ThreadTime -
          before.ThreadTime -
          (after.DevToolsCommandDuration - before.DevToolsCommandDuration)) *
        1000,
      processCpuMs: (after.ProcessTime - before.ProcessTime) * 1000,
      ...longestScripts(loaf),
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
    if (variant === 'rrweb-spoor') {
      // Counted after the measurement window: serialising is not part of bare rrweb's cost (it is of
      // rrweb-json's).
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
        keepaliveRequests: sent.filter((event) => event.transport === 'keepalive').length,
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

async function startVariant(page, variant, collector, src) {
  if (isRrweb(variant)) {
    await page.evaluate(
      async ({ options, json }) => {
        await window.__bench.loadScript('/bundles/rrweb-record.js');
        window.__events = [];
        window.__stopRecording = window.rrwebRecord({
          ...options,
          ...(options.errorHandler ? { errorHandler: () => true } : {}),
          emit: (event) => window.__events.push(event),
        });
        if (json) {
          // What a recorder that sends must do at the least: serialize what it gathered, every 5 s.
          window.__json = [];
          let from = 0;
          window.__serialize = () => {
            window.__json.push(JSON.stringify(window.__events.slice(from)));
            from = window.__events.length;
          };
          window.__serializer = setInterval(window.__serialize, 5000);
        }
      },
      { options: optionsOf(variant), json: variant === 'rrweb-json' },
    );
  } else if (isSpoor(variant)) {
    const extra = Object.fromEntries(
      (variant.split(':')[1] ?? '')
        .split('+')
        .filter(Boolean)
        .map((option) => option.split('='))
        .map(([name, value]) => [`data-${name}`, value ?? 'true']),
    );
    await page.evaluate(
      async ({ api, projectKey, extra, src }) => {
        // The one-line stub of docs/contract.md, "Installing the snippet", then the debug listener queued through it.
        window.spoor =
          window.spoor ||
          function () {
            window.spoor.q = window.spoor.q || [];
            // biome-ignore lint/complexity/noArguments: the published stub queues `arguments` as is
            window.spoor.q.push(arguments);
          };
        window.__debug = [];
        // Waits of the bench, resolved by the events themselves rather than by polling the page (a poll
        // is script time inside the measured window).
        let recording;
        let settled = () => {};
        window.__recording = new Promise((resolve) => {
          recording = resolve;
        });
        let sent = 0;
        let answered = 0;
        window.__settled = () =>
          new Promise((resolve) => {
            settled = () => sent > 0 && sent === answered && resolve();
            settled();
          });
        // Only what the bench reads (batches, drops, state), so the listener itself costs the page nothing.
        window.spoor('debug', (event) => {
          if (event.kind === 'batch' || event.kind === 'drop' || event.kind === 'state')
            window.__debug.push(event);
          if (
            event.kind === 'state' &&
            (event.recording || (extra['data-record'] === 'false' && event.tracking))
          )
            recording();
          if (event.kind === 'batch') {
            if (event.phase === 'sent') sent += 1;
            else answered += 1;
            settled();
          }
        });
        await window.__bench.loadScript(`${src}/spoor.min.js`, {
          'data-endpoint': api,
          'data-project': projectKey,
          // Playwright sets navigator.webdriver; without this Spoor rightly refuses to track.
          'data-allow-automation': 'true',
          ...extra,
        });
      },
      {
        api: collector.api,
        projectKey: collector.projectKey,
        extra,
        src: src ?? (variant === 'spoor-before' ? '/before' : '/dist'),
      },
    );
    // Spoor mints a session and then loads its recorder file, whose start takes rrweb's full snapshot.
    await page.evaluate(() => window.__recording);
  }
  // The same settle time for every variant, so idle time weighs alike.
  await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 250)));
}

/** Delivers what is still queued and waits for the collector's answers, inside the measured window. */
async function finishSpoor(page) {
  await page.evaluate(async () => {
    const result = window.spoor('flush');
    if (result && typeof result.then === 'function') await result;
    await window.__settled();
  });
}

/** rrweb-json's last serialization, of what the last 5 s gathered, inside the window as Spoor's flush. */
async function finishJson(page) {
  await page.evaluate(() => {
    clearInterval(window.__serializer);
    window.__serialize();
  });
}

/**
 * From the long animation frames: the longest script run of Spoor's own files (bootstrap, core,
 * compressor, vitals), of its recorder file (rrweb, with Spoor's enqueue inside rrweb's callbacks), and
 * how many frames over 50 ms had more than 50 ms of Spoor's own scripts in them. Script entries exist
 * for scripts of 5 ms and more only. The core calls rrweb's record(), whose full snapshot is rrweb's
 * longest task (bare rrweb has it too): the time inside it, which the recorder measures, is rrweb's.
 */
function longestScripts({ frames, snapshots }) {
  const own = (url) => /\/spoor\.(min|core\.min|compress\.min|vitals\.min)\.js/.test(url);
  const recorder = (url) => /\/spoor\.recorder\.min\.js|rrweb-record\.js/.test(url);
  let spoorScriptMs = 0;
  let recorderScriptMs = 0;
  let spoorLongFrames = 0;
  let longestSpoorScript;
  // The part of a script spent inside rrweb's start, which Spoor's core calls.
  const inSnapshot = (script) =>
    sum(
      snapshots.map((snap) =>
        Math.max(
          0,
          Math.min(script.start + script.duration, snap.start + snap.duration) -
            Math.max(script.start, snap.start),
        ),
      ),
    );
  for (const frame of frames ?? []) {
    let mine = 0;
    for (const script of frame.scripts) {
      if (own(script.url)) {
        const duration = script.duration - inSnapshot(script);
        if (duration > spoorScriptMs) {
          spoorScriptMs = duration;
          // Which script it was, and the frame it ran in, so that an outlier can be told apart from a
          // neighbour taking the core (script durations are wall-clock time).
          longestSpoorScript = {
            url: script.url.replace(/^.*\//, ''),
            invoker: script.invoker,
            duration: Math.round(duration * 10) / 10,
            frameMs: Math.round(frame.duration),
          };
        }
        mine += duration;
      }
      if (recorder(script.url)) recorderScriptMs = Math.max(recorderScriptMs, script.duration);
    }
    if (frame.duration > 50 && mine > 50) spoorLongFrames += 1;
  }
  const snapshotMs = Math.max(0, ...snapshots.map((snap) => snap.duration));
  return { spoorScriptMs, longestSpoorScript, recorderScriptMs, spoorLongFrames, snapshotMs };
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
  return variant.startsWith('spoor');
}

function isRrweb(variant) {
  return variant.startsWith('rrweb');
}

/**
 * The record options of an rrweb variant: none (rrweb's defaults) for rrweb and rrweb-json, Spoor's for
 * rrweb-spoor; `rrweb:a+b` adds Spoor's options a and b to the defaults, `rrweb-spoor:-a` takes a away.
 */
function optionsOf(variant) {
  const [base, changes = ''] = variant.split(':');
  const names = changes.split('+').filter(Boolean);
  if (base === 'rrweb-spoor') {
    const removed = new Set(names.map((name) => name.replace(/^-/, '')));
    return Object.fromEntries(Object.entries(rrwebOptions).filter(([name]) => !removed.has(name)));
  }
  if (base === 'rrweb') return Object.fromEntries(names.map((name) => [name, rrwebOptions[name]]));
  return {};
}

/** The traced rounds: main-thread self time by trace event, median per variant, the events that
 *  differ most between the variants first. */
function summariseTraces(traced, variants) {
  const names = new Set(traced.flatMap((t) => [...t.self.keys()]));
  const med = (variant, name) =>
    median(traced.filter((t) => t.variant === variant).map((t) => t.self.get(name) ?? 0));
  const totals = Object.fromEntries(
    variants.map((variant) => [
      variant,
      median(
        traced
          .filter((t) => t.variant === variant)
          .map((t) => [...t.self.values()].reduce((a, b) => a + b, 0)),
      ),
    ]),
  );
  const spread = (name) => {
    const values = variants.map((variant) => med(variant, name));
    return Math.max(...values) - Math.min(...values);
  };
  const rows = [['all traced main-thread events', ...variants.map((variant) => formatMs(totals[variant]))]];
  for (const name of [...names].sort((a, b) => spread(b) - spread(a)).slice(0, 30)) {
    if (spread(name) < 1) break;
    rows.push([name, ...variants.map((variant) => formatMs(med(variant, name)))]);
  }
  const rounds = new Set(traced.map((t) => t.round)).size;
  return [
    {
      title: `Main thread under a Chromium trace: self thread time by trace event, median of ${rounds} traced rounds (the events that differ most between variants)`,
      header: ['trace event', ...variants],
      rows,
    },
    summariseEngineWork(traced, variants),
  ];
}

/** The rendering pipeline's trace events, with the task and animation-frame plumbing that drives each
 *  frame (their self time grows with the number of frames, not with a recorder's work): the workload's
 *  own work, in every variant. */
const RENDERING =
  /^(Layout|PrePaint|Paint|HitTest|Layerize|UpdateLayoutTree|UpdateLayer|Commit|PaintImage|ScrollLayer|IntersectionObserverController::computeIntersections|ThreadControllerImpl::RunTask|FireAnimationFrame|ProxyMain::BeginMainFrame.*)$/;

/**
 * The traced rounds again, without rendering: script, microtasks, compiling, GC, script loading, IPC.
 * The rendering pipeline is the workload's own work and carries most of the noise of main-thread CPU
 * (a run whose frames come later renders more of them); what is left is what a recorder adds. Paired
 * within each traced round: the ratio of each variant to the baselines, and the difference in points
 * of that round's none main-thread total, as the main table counts them.
 */
function summariseEngineWork(traced, variants) {
  const rounds = [...new Set(traced.map((t) => t.round))];
  const work = (round, variant) => {
    const run = traced.find((t) => t.round === round && t.variant === variant);
    let engine = 0;
    let total = 0;
    for (const [name, ms] of run.self) {
      total += ms;
      if (!RENDERING.test(name)) engine += ms;
    }
    return { engine, total };
  };
  const baselines = ['rrweb', 'rrweb-json', 'rrweb-spoor'].filter((b) => variants.includes(b));
  const rows = [];
  for (const variant of variants.filter((v) => v !== 'none')) {
    const row = [variant, formatMs(median(rounds.map((round) => work(round, variant).engine)))];
    for (const baseline of baselines) {
      if (baseline === variant) {
        row.push('—');
        continue;
      }
      const ratios = rounds.map((round) => work(round, variant).engine / work(round, baseline).engine);
      const points = rounds.map(
        (round) =>
          (100 * (work(round, variant).engine - work(round, baseline).engine)) / work(round, 'none').total,
      );
      row.push(
        `${formatRatio(median(ratios))}, ${signed(median(points))} pts (${signed(Math.min(...points))}..${signed(Math.max(...points))})`,
      );
    }
    rows.push(row);
  }
  return {
    title: `Main thread less rendering (script, microtasks, compiling, GC, loading, IPC) under a Chromium trace, median of ${rounds.length} traced rounds: ratio to each baseline and points of none's traced main thread, paired per round (range)`,
    header: ['variant', 'engine work', ...baselines.map((b) => `vs ${b}`)],
    rows,
  };
}

/** A difference in points, with its sign: +1.5, -0.3. */
function signed(value) {
  return `${value >= 0 ? '+' : ''}${value.toFixed(1)}`;
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
    ['mainCpuMs', 'main-thread CPU (ThreadTime, less DevTools commands)', formatMs],
    ['processCpuMs', 'renderer process CPU, all threads (ProcessTime)', formatMs],
    ['scriptMs', 'script (ScriptDuration, wall clock)', formatMs],
    ['taskMs', 'main-thread tasks (TaskDuration, wall clock)', formatMs],
    ['rendererCpuMs', 'renderer CPU time (SystemInfo, 10 ms steps)', formatMs],
    ['longestTaskMs', 'longest task (longtask ≥ 50 ms)', formatMs],
    ['spoorScriptMs', "longest script of Spoor's own files (LoAF)", formatMs],
    ['recorderScriptMs', 'longest script of the recorder file (LoAF)', formatMs],
    ['snapshotMs', "rrweb's start, full snapshot (Spoor's User Timing)", formatMs],
    ['spoorLongFrames', "frames > 50 ms with > 50 ms of Spoor's own scripts", (v) => String(v ?? 0)],
    ['longestFrameMs', 'longest frame gap (rAF)', formatMs],
    ['heapBytes', 'JS heap used after GC', formatBytes],
  ];
  const overheadRows = [];
  for (const [key, label, format] of keys) {
    const row = [label];
    for (const variant of variants) {
      const value = median(byVariant(variant).map((r) => r[key] ?? 0));
      const ratio = pairedRatio(variant, key);
      row.push(
        variant === 'none' || !Number.isFinite(ratio)
          ? format(value)
          : `${format(value)} (${formatRatio(ratio)})`,
      );
    }
    overheadRows.push(row);
  }

  const targets = [];
  const summary = {};
  for (const key of [
    'mainCpuMs',
    'processCpuMs',
    'scriptMs',
    'taskMs',
    'rendererCpuMs',
    'heapBytes',
    'longestTaskMs',
    'spoorScriptMs',
  ]) {
    summary[key] = Object.fromEntries(
      variants.map((variant) => [
        variant,
        { median: median(byVariant(variant).map((r) => r[key] ?? 0)), ratio: pairedRatio(variant, key) },
      ]),
    );
  }
  /** Percentage points of none's main-thread CPU: (variant − baseline) ÷ none × 100, paired within each
   *  round, median over rounds. Script time is put over main-thread CPU too: none runs little script,
   *  and a ratio of two small script times says more about noise than about cost. */
  const points = (variant, baseline, key) => {
    const perRound = rounds.map((round) => {
      const get = (v) => runs.find((r) => r.round === round && r.variant === v)[key];
      const base = runs.find((r) => r.round === round && r.variant === 'none').mainCpuMs;
      return (100 * (get(variant) - get(baseline))) / base;
    });
    return { points: median(perRound), perRound };
  };
  const pointRows = [];
  for (const variant of variants.filter((v) => v !== 'none' && v !== 'rrweb')) {
    for (const [key, label] of [
      ['mainCpuMs', 'main-thread CPU'],
      ['scriptMs', 'script time'],
      ['processCpuMs', 'renderer process CPU'],
    ]) {
      const vsRrweb = variants.includes('rrweb') ? points(variant, 'rrweb', key) : undefined;
      const vsJson = variants.includes('rrweb-json') ? points(variant, 'rrweb-json', key) : undefined;
      const vsOptions =
        variants.includes('rrweb-spoor') && variant !== 'rrweb-spoor'
          ? points(variant, 'rrweb-spoor', key)
          : undefined;
      const range = (p) =>
        `${signed(p.points)} (rounds ${signed(Math.min(...p.perRound))}..${signed(Math.max(...p.perRound))})`;
      pointRows.push([
        variant,
        label,
        vsRrweb ? range(vsRrweb) : '—',
        vsJson ? range(vsJson) : '—',
        vsOptions ? range(vsOptions) : '—',
      ]);
      if (vsRrweb) summary[key][`${variant}PointsVsRrweb`] = vsRrweb;
      if (vsJson) summary[key][`${variant}PointsVsRrwebJson`] = vsJson;
      if (vsOptions) summary[key][`${variant}PointsVsRrwebSpoor`] = vsOptions;
      if (variant === 'spoor' && key !== 'processCpuMs') {
        if (vsRrweb)
          targets.push({
            name: `${label}: Spoor within 2 points of bare rrweb`,
            value: range(vsRrweb),
            met: vsRrweb.points <= 2,
          });
        if (vsJson)
          targets.push({
            name: `${label}: Spoor at or below rrweb serializing JSON every 5 s`,
            value: range(vsJson),
            met: vsJson.points <= 0,
          });
      }
    }
  }
  if (variants.includes('spoor')) {
    const spoor = byVariant('spoor');
    const longest = Math.max(...spoor.map((r) => r.spoorScriptMs ?? 0));
    const which = spoor.find((r) => r.spoorScriptMs === longest)?.longestSpoorScript;
    const frames = sum(spoor.map((r) => r.spoorLongFrames ?? 0));
    targets.push({
      name: "no long task (> 50 ms) caused by Spoor's own scripts",
      value: `${frames} such frames; longest Spoor script ${formatMs(longest)} (every round${which ? `: ${which.url}, ${which.invoker}, in a ${which.frameMs} ms frame` : ''})`,
      met: frames === 0 && longest <= 50,
    });
  }

  const tables = [
    {
      title: `Recording overhead in Chromium: ${workload.frames * workload.perFrame} mutations over ${workload.frames} frames, ${input.moves} mouse moves, ${Math.floor(input.moves / input.wheelEvery)} scrolls; median of ${rounds.length} interleaved rounds (ratio to none, paired per round)`,
      header: ['metric', ...variants],
      rows: overheadRows,
    },
    {
      title:
        "Points of none's main-thread CPU (variant − baseline) ÷ none × 100, paired per round, median (range over rounds)",
      header: ['variant', 'measure', 'vs rrweb', 'vs rrweb-json', "vs rrweb-spoor (Spoor's options)"],
      rows: pointRows,
    },
  ];

  const spoorVariants = variants.filter(isSpoor);
  // The events Spoor records: rrweb with Spoor's options.
  const rrwebRuns = byVariant('rrweb-spoor');
  if (spoorVariants.length > 0) {
    const wire = (variant) => {
      const list = byVariant(variant);
      const m = (key) => median(list.map((r) => r[key]));
      return {
        m,
        list,
        requests: m('requests'),
        perMinute: median(list.map((r) => r.requests / (r.windowMs / 60_000))),
        share: median(list.map((r) => r.sentBytes / r.jsonBytes)),
      };
    };
    const of = Object.fromEntries(spoorVariants.map((variant) => [variant, wire(variant)]));
    const row = (label, fn) => [label, ...spoorVariants.map((variant) => fn(of[variant]))];
    summary.wire = Object.fromEntries(
      spoorVariants.map((variant) => {
        const w = of[variant];
        return [
          variant,
          {
            jsonBytes: w.m('jsonBytes'),
            sentBytes: w.m('sentBytes'),
            requests: w.requests,
            perMinute: w.perMinute,
            share: w.share,
          },
        ];
      }),
    );
    tables.push({
      title: 'Bytes on the wire (same workload; median of the rounds; JSON = decompressed /track bodies)',
      header: ['figure', ...spoorVariants],
      rows: [
        row("rrweb events as JSON (rrweb with Spoor's options)", () =>
          formatBytes(median(rrwebRuns.map((r) => r.jsonBytes))),
        ),
        row(
          '  the same gzipped by Node: all at once / in 50 KB batches',
          () =>
            `1/${median(rrwebRuns.map((r) => r.jsonBytes / r.gzipWhole)).toFixed(1)} / 1/${median(rrwebRuns.map((r) => r.jsonBytes / r.gzipBatched)).toFixed(1)}`,
        ),
        row('JSON produced (request bodies, decompressed)', (w) => formatBytes(w.m('jsonBytes'))),
        row('  per Spoor debug hook (rawBytes of sent batches)', (w) => formatBytes(w.m('debugRawBytes'))),
        row('bytes sent (request bodies)', (w) => formatBytes(w.m('sentBytes'))),
        row('  per Spoor debug hook (sentBytes)', (w) => formatBytes(w.m('debugSentBytes'))),
        row('sent ÷ JSON', (w) => `1/${(1 / w.share).toFixed(1)} (${(w.share * 100).toFixed(1)}%)`),
        row('/track requests', (w) => String(w.requests)),
        row('  of them keepalive', (w) => String(w.m('keepaliveRequests'))),
        row('measured window', (w) => `${(w.m('windowMs') / 1000).toFixed(1)} s`),
        row('requests per minute over the window', (w) => w.perMinute.toFixed(0)),
        row('batches not answered 200', (w) => String(sum(w.list.map((r) => r.failedBatches)))),
      ],
    });
    if (of.spoor) {
      targets.push({
        name: 'bytes sent ≤ 1/8 of the JSON',
        value: `1/${(1 / of.spoor.share).toFixed(1)}`,
        met: of.spoor.share <= 1 / 8,
      });
      targets.push({
        name: '/track requests in the window ≤ 4',
        value: `${of.spoor.requests} (max over rounds ${Math.max(...of.spoor.list.map((r) => r.requests))})`,
        met: of.spoor.requests <= 4,
      });
    }
    const unread = sum(spoorVariants.flatMap((variant) => of[variant].list.map((r) => r.unreadBodies)));
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
