// Hostile input: for a typical snippet batch (the baseline), the largest batches the collector accepts
// and the worst bodies an attacker can send within its limits, the collector's answer time and the
// longest its event loop was held up, measured inside the collector with monitorEventLoopDelay
// (server/lib/loop-delay.ts). No request may hold the loop for more than 50 ms. Runs are interleaved
// across cases so that noise on a shared machine spreads evenly; every figure is a median of runs.
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { collectorAvailable } from './lib/collector.mjs';
import { startProbedCollector } from './lib/probed-collector.mjs';
import { generator, trackBody } from './lib/rrweb-events.mjs';
import { formatBytes, formatMs, formatRatio, median, ratio } from './lib/stats.mjs';

const TRACK = '/api/services/analytics/v1/track';
const SESSION = '/api/services/analytics/v1/session';
// The collector's documented defaults (README, collector section); the bench runs under them.
const MAX_BYTES = 8 * 1024 * 1024;
const MAX_EVENTS = 20_000;
const MAX_CUSTOM_EVENTS = 2_000;
const LOOP_BUDGET_MS = 50;

const runs = Number(process.env.BENCH_HOSTILE_RUNS ?? 5);
/** A request that takes longer has stalled the collector: it is restarted and the case not run again. */
const timeoutMs = Number(process.env.BENCH_HOSTILE_TIMEOUT_MS ?? 30_000);
/** After an answer, the probe needs a few samples to see a block that ended just before it. */
const SETTLE_MS = 50;

const words = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november'.split(
  ' ',
);

export async function run({ log }) {
  if (!collectorAvailable()) return { skipped: 'no collector (server/main.ts missing)' };
  const data = mkdtempSync(join(tmpdir(), 'spoor-hostile-'));
  // Every request comes from one loopback address: the per-IP rate limit would measure itself.
  const env = { SPOOR_TRACK_LIMIT: '1000000000' };
  const notes = [
    'SPOOR_TRACK_LIMIT is raised for this part (every request comes from one address); every other limit is the default.',
    `Loop max is the longest gap between two samples of monitorEventLoopDelay (resolution 5 ms) in the collector, from just before the request until ${SETTLE_MS} ms after its answer; an idle loop shows the "idle" row.`,
  ];
  let collector;
  try {
    collector = await startProbedCollector({ data, env });
    const identifier = await mint(collector);
    const startMs = Date.now();
    log(`building bodies for ${runs} runs`);
    const cases = buildCases(identifier, startMs);

    const results = new Map(cases.map((c) => [c.name, []]));
    const stalled = new Set();
    for (let r = 0; r < runs; r++) {
      results.get('idle').push(await measureIdle(collector));
      for (const c of cases) {
        if (c.name === 'idle' || stalled.has(c.name)) continue;
        const m = await measure(collector, c.body(r));
        results.get(c.name).push(m);
        if (m.error === 'timeout') {
          stalled.add(c.name);
          notes.push(
            `${c.name}: no answer within ${timeoutMs / 1000} s (${m.error}); the collector was restarted and the case not run again.`,
          );
          await collector.kill();
          collector = await startProbedCollector({ data, env });
        }
      }
      log(`run ${r + 1}/${runs} done`);
    }
    return summarise(cases, results, notes);
  } finally {
    await collector?.stop();
    rmSync(data, { recursive: true, force: true });
  }
}

// ---- bodies -------------------------------------------------------------------------------------

/** Text of exactly `length` characters made of words, from `random`. */
function text(random, length) {
  let out = '';
  while (out.length < length) out += `${words[Math.floor(random() * words.length)]} `;
  return out.slice(0, length);
}

/** A batch of MAX_EVENTS mutation events whose JSON is just under the decompressed-bytes cap. */
function largestBatch(sessionIdentifier, seed, startMs) {
  const random = generator(seed);
  const head = `{"sessionIdentifier":${JSON.stringify(sessionIdentifier)},"timer":30,"events":[`;
  const target = MAX_BYTES - 16 * 1024;
  const perEvent = Math.floor((target - head.length - 2) / MAX_EVENTS) - 1;
  const parts = new Array(MAX_EVENTS);
  for (let i = 0; i < MAX_EVENTS; i++) {
    const prefix = `{"type":3,"data":{"source":0,"texts":[{"id":${100 + i},"value":"`;
    const suffix = `"}],"attributes":[],"removes":[],"adds":[]},"timestamp":${startMs + i}}`;
    parts[i] = prefix + text(random, perEvent - prefix.length - suffix.length) + suffix;
  }
  return `${head}${parts.join(',')}]}`;
}

function customEvents(sessionIdentifier, count, seed, startMs) {
  const events = Array.from({ length: count }, (_, i) => ({
    type: 5,
    data: { tag: 'event', payload: { name: `bench_${i % 50}`, parameters: { i, seed } } },
    timestamp: startMs + i,
  }));
  return JSON.stringify({ sessionIdentifier, timer: 30, events });
}

function zeros(sessionIdentifier, n) {
  return `{"sessionIdentifier":${JSON.stringify(sessionIdentifier)},"events":[${'0,'.repeat(n - 1)}0]}`;
}

/** `events:[0,0,…]` as long as fits just under the wire cap, uncompressed: the most JSON one request may carry. */
function zerosAtWireCap(sessionIdentifier) {
  const head = zeros(sessionIdentifier, 1).length - 1;
  return zeros(sessionIdentifier, Math.floor((MAX_BYTES - 1024 - head) / 2));
}

function deepAtWireCap(sessionIdentifier, startMs) {
  const head = `{"sessionIdentifier":${JSON.stringify(sessionIdentifier)},"events":[{"type":3,"timestamp":${startMs},"data":`;
  const depth = Math.floor((MAX_BYTES - 1024 - head.length - 4) / 2);
  return `${head}${'['.repeat(depth)}${']'.repeat(depth)}}]}`;
}

/**
 * @returns {{ name: string; kind: string; expect: number[]; wire: number; inflated: number;
 *   body: (run: number) => { bytes: Buffer } }[]}
 */
function buildCases(identifier, startMs) {
  const cases = [];
  const add = (name, kind, expect, make, { unique = false } = {}) => {
    // Bodies that are stored must differ per run: a body stored once is answered from the duplicate
    // check the second time, which would flatter the collector.
    const bodies = Array.from({ length: unique ? runs : 1 }, (_, r) => make(r));
    const first = bodies[0];
    cases.push({
      name,
      kind,
      expect,
      wire: first.wire.length,
      inflated: first.inflated,
      body: (r) => ({ bytes: bodies[unique ? r : 0].wire }),
    });
  };
  const gz = (json) => ({ wire: gzipSync(json), inflated: Buffer.byteLength(json) });
  const plain = (json) => ({ wire: Buffer.from(json), inflated: Buffer.byteLength(json) });

  cases.push({ name: 'idle', kind: 'no request', expect: [], wire: 0, inflated: 0, body: () => null });
  add(
    'typical batch (baseline)',
    'accepted',
    [200],
    (r) => {
      const b = trackBody({ seed: 900 + r, sessionIdentifier: identifier, startMs, jsonBytes: 50_000 });
      return { wire: b.gzip, inflated: b.json };
    },
    { unique: true },
  );
  add(
    'largest batch: 20,000 events, just under 8 MiB',
    'accepted',
    [200],
    (r) => gz(largestBatch(identifier, 1000 + r, startMs)),
    {
      unique: true,
    },
  );
  add(
    `most custom events: ${MAX_CUSTOM_EVENTS.toLocaleString('en')} named events`,
    'accepted',
    [200],
    (r) => gz(customEvents(identifier, MAX_CUSTOM_EVENTS, 2000 + r, startMs)),
    { unique: true },
  );
  add('events:[0,…] at the wire cap, uncompressed', 'hostile', [413], () =>
    plain(zerosAtWireCap(identifier)),
  );
  add('events:[0,…] at the wire cap, made-up identifier', 'hostile', [413, 422], () =>
    plain(zerosAtWireCap('x')),
  );
  add('events:[0,…] 1 KB gzip, made-up identifier (write-up)', 'hostile', [413, 422], () =>
    gz(zeros('x', 500_000)),
  );
  add('events:[0,…] ×19,999 (422, first 20 errors)', 'hostile', [422], () =>
    gz(zeros(identifier, MAX_EVENTS - 1)),
  );
  add('20,000 events, every timestamp 0 (422)', 'hostile', [422], () =>
    gz(
      JSON.stringify({
        sessionIdentifier: identifier,
        events: Array.from({ length: MAX_EVENTS }, () => ({ type: 3, data: { source: 1 }, timestamp: 0 })),
      }),
    ),
  );
  add('nesting at the wire cap (4 M levels)', 'hostile', [422], () =>
    plain(deepAtWireCap(identifier, startMs)),
  );
  add('gzip bomb: 64 KB inflating to 64 MiB', 'hostile', [413], () => ({
    wire: gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20), { level: 9 }),
    inflated: 64 * 1024 * 1024,
  }));
  add(
    `${MAX_EVENTS.toLocaleString('en')} custom events (cap ${MAX_CUSTOM_EVENTS.toLocaleString('en')})`,
    'hostile',
    [413],
    () => gz(customEvents(identifier, MAX_EVENTS, 3000, startMs)),
  );
  add('350,878 valid events, 20 MB inflated (write-up)', 'hostile', [413], () => {
    const parts = new Array(350_878);
    for (let i = 0; i < parts.length; i++)
      parts[i] = `{"type":3,"data":{"source":1},"timestamp":${startMs + i}}`;
    return gz(`{"sessionIdentifier":${JSON.stringify(identifier)},"timer":1,"events":[${parts.join(',')}]}`);
  });
  return cases;
}

// ---- measuring ----------------------------------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function mint(collector) {
  const answer = await post(
    collector.url,
    SESSION,
    Buffer.from(JSON.stringify({ project: collector.projectKey, url: 'https://shop.example/' })),
  );
  if (answer.status !== 200) throw new Error(`/session answered ${answer.status}: ${answer.text}`);
  return JSON.parse(answer.text).sessionIdentifier;
}

/** POSTs `body`; the answer is counted in full but only its start kept. */
function post(base, path, body) {
  return new Promise((resolve) => {
    const began = performance.now();
    let settled = false;
    let text = '';
    let bytes = 0;
    let status = 0;
    const done = (error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ status, bytes, text, ms: performance.now() - began, ...(error ? { error } : {}) });
    };
    const req = request(base + path, {
      method: 'POST',
      agent: false,
      headers: { 'Content-Type': 'text/plain;charset=UTF-8', 'Content-Length': body.length },
    });
    req.on('response', (res) => {
      status = res.statusCode ?? 0;
      res.on('data', (chunk) => {
        bytes += chunk.length;
        if (text.length < 4096) text += chunk.toString('utf8', 0, Math.min(chunk.length, 4096));
      });
      res.on('end', () => done());
      res.on('error', (e) => done(e.message));
      res.on('close', () => done(res.complete ? undefined : 'answer cut short'));
    });
    req.on('error', (e) => {
      // The collector may close a refused upload (413) before reading it all: the answer still counts.
      if (status === 0) done(e.code ?? e.message);
    });
    const timer = setTimeout(() => {
      status = 0;
      done('timeout');
    }, timeoutMs);
    req.end(body);
  });
}

async function measureIdle(collector) {
  await collector.loopDelay('reset');
  await sleep(20 + SETTLE_MS);
  const reading = await collector.loopDelay('read');
  return { status: 0, ms: 0, bytes: 0, loopMaxMs: reading.maxMs };
}

async function measure(collector, body) {
  await collector.loopDelay('reset');
  // A sample already under way when the reset came lands in the new window: let it pass.
  await sleep(20);
  const answer = await post(collector.url, TRACK, body.bytes);
  if (answer.error === 'timeout') return { ...answer, loopMaxMs: Number.NaN };
  await sleep(SETTLE_MS);
  const reading = await collector.loopDelay('read');
  return { ...answer, loopMaxMs: reading.maxMs };
}

// ---- report -------------------------------------------------------------------------------------

function summarise(cases, results, notes) {
  const figures = cases.map((c) => {
    const list = results.get(c.name);
    const answered = list.filter((m) => m.error !== 'timeout');
    return {
      ...c,
      runs: list.length,
      // A connection closed without an answer shows as its error (EPIPE, ECONNRESET), a stall as "timeout".
      statuses: [...new Set(list.map((m) => (m.status === 0 && c.name !== 'idle' ? m.error : m.status)))],
      ms: median(answered.map((m) => m.ms)),
      loopMaxMs: median(answered.map((m) => m.loopMaxMs)),
      worstLoopMs: Math.max(...answered.map((m) => m.loopMaxMs)),
      answerBytes: median(answered.map((m) => m.bytes)),
      stalled: list.some((m) => m.error === 'timeout'),
    };
  });
  const base = figures.find((f) => f.name === 'typical batch (baseline)');
  const rows = figures.map((f) => [
    f.name,
    f.kind,
    f.wire ? formatBytes(f.wire) : '—',
    f.inflated ? formatBytes(f.inflated) : '—',
    f.name === 'idle' ? '—' : f.statuses.join(' '),
    f.name === 'idle' ? '—' : f.stalled ? `> ${timeoutMs / 1000} s` : formatMs(f.ms),
    f.name === 'idle' || f.stalled ? '—' : formatRatio(ratio(f.ms, base.ms)),
    f.stalled ? '—' : formatMs(f.loopMaxMs),
    f.stalled ? '—' : formatMs(f.worstLoopMs),
    f.stalled ? '—' : formatRatio(ratio(f.loopMaxMs, base.loopMaxMs)),
    f.name === 'idle' ? '—' : formatBytes(f.answerBytes),
  ]);
  const targets = [];
  for (const f of figures) {
    if (f.name === 'idle') continue;
    targets.push({
      name: `${f.name}: answered ${f.expect.join(' or ')}`,
      value: f.statuses.join(' '),
      met: f.statuses.every((s) => f.expect.includes(s)),
    });
    targets.push({
      name: `${f.name}: loop held ≤ ${LOOP_BUDGET_MS} ms (median of runs)`,
      value: f.stalled ? 'stalled' : formatMs(f.loopMaxMs),
      met: !f.stalled && f.loopMaxMs <= LOOP_BUDGET_MS,
    });
  }
  return {
    tables: [
      {
        title: `Hostile input: POST /track, one request at a time, median of ${runs} runs (ratios against the typical batch)`,
        header: [
          'body',
          'kind',
          'wire',
          'inflated',
          'status',
          'answer time',
          '× typical',
          'loop max',
          'loop max, worst run',
          '× typical',
          'answer',
        ],
        rows,
      },
    ],
    targets,
    notes,
    data: {
      runs,
      timeoutMs,
      cases: figures.map(({ body: _body, ...f }) => f),
      raw: Object.fromEntries(
        [...results].map(([name, list]) => [name, list.map(({ text: _t, ...m }) => m)]),
      ),
    },
  };
}
