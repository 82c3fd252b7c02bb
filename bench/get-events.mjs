// get-events pages: the answer time and the collector's longest event-loop stall while it answers one
// page, for a typical session (batches of ~50 KB), for a session whose only batch is as large as /track
// accepts (8 MiB of JSON), and for a batch of 400,000 tiny events stored before batches were limited.
// Beside them: what the answer cost before paging, measured as the work it did on the event loop
// (gunzip, JSON.parse, sort and JSON.stringify of the whole batch).
//
// The collector runs in a child process (it is TypeScript, loaded through tsx) that measures itself with
// perf_hooks.monitorEventLoopDelay around each request; the client in that process reads the answer's
// bytes without parsing them, so the stall measured is the collector's own.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { formatBytes, formatMs, formatRatio, median, ratio } from './lib/stats.mjs';

const RUNS = Number(process.env.BENCH_GET_EVENTS_RUNS ?? 7);
const STALL_TARGET_MS = 50;

export async function run({ log }) {
  log(`${RUNS} runs of each case after a warm-up; medians`);
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child'], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const messages = [];
  let wake = null;
  child.on('message', (m) => {
    messages.push(m);
    wake?.();
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const next = async () => {
    while (messages.length === 0) {
      const woken = new Promise((resolve) => {
        wake = resolve;
      });
      const code = await Promise.race([woken, exited.then((c) => ({ exited: c }))]);
      if (code?.exited !== undefined) throw new Error(`the collector child exited with ${code.exited}`);
    }
    return messages.shift();
  };
  const ask = async (message) => {
    child.send(message);
    return next();
  };

  try {
    const { url, token, cases } = await next();
    const results = [];
    for (const c of cases) {
      const answerMs = [];
      const stallMs = [];
      let bytes = 0;
      let events = 0;
      for (let r = 0; r <= RUNS; r++) {
        await ask({ start: true });
        const began = performance.now();
        const res = await fetch(url, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ session_id: c.id }),
        });
        const text = await res.text();
        const took = performance.now() - began;
        const { maxMs } = await ask({ stop: true });
        if (res.status !== 200) throw new Error(`${c.name}: ${res.status} ${text.slice(0, 300)}`);
        // The first run starts the page worker thread: a warm-up, not counted.
        if (r === 0) {
          const answer = JSON.parse(text);
          events = answer.data.tabs.reduce((n, t) => n + t.events.length, 0);
          bytes = Buffer.byteLength(text);
          continue;
        }
        answerMs.push(took);
        stallMs.push(maxMs);
      }
      results.push({ ...c, bytes, events, answerMs: median(answerMs), stallMs: median(stallMs) });
    }
    const base = results[0];
    const rows = results.map((c) => [
      c.name,
      formatBytes(c.bytes),
      String(c.events),
      formatMs(c.answerMs),
      formatMs(c.stallMs),
      formatRatio(ratio(c.stallMs, base.stallMs)),
      formatMs(c.beforeMs),
    ]);
    const worst = Math.max(...results.map((c) => c.stallMs));
    return {
      tables: [
        {
          title: 'get-events: one page, the collector in its own process (medians)',
          header: [
            'case',
            'answer',
            'events',
            'answer time',
            'max event-loop delay',
            'delay vs typical',
            'before paging: loop blocked',
          ],
          rows,
        },
      ],
      targets: [
        {
          name: `no get-events page blocks the event loop over ${STALL_TARGET_MS} ms`,
          value: formatMs(worst),
          met: worst <= STALL_TARGET_MS,
        },
      ],
    };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

async function measure() {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { createServer } = await import('node:http');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { monitorEventLoopDelay } = await import('node:perf_hooks');
  const { gunzipSync, gzipSync } = await import('node:zlib');
  // An absolute path: tsx loads these TypeScript modules for this .mjs file.
  const server_ = join(fileURLToPath(new URL('..', import.meta.url)), 'server');
  const { createApp, ensureDemoProject } = await import(join(server_, 'app.ts'));
  const { loadConfig } = await import(join(server_, 'config.ts'));
  const { openStore } = await import(join(server_, 'store', 'sqlite.ts'));
  const { trackBody } = await import('./lib/rrweb-events.mjs');

  const dir = mkdtempSync(join(tmpdir(), 'spoor-bench-events-'));
  const config = loadConfig({ SPOOR_DATA: dir, SPOOR_READ_LIMIT: '100000' });
  const store = openStore(config.dbFile);
  const project = await ensureDemoProject(config, store);
  const server = createServer(createApp({ config, store }));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));

  const t0 = Date.UTC(2026, 0, 5);
  const insert = store.db.prepare(
    `INSERT INTO batches (session_id, tab, first_ts, last_ts, event_count, events, interaction_count,
       input_times, created_at) VALUES (?, 1, ?, ?, ?, ?, 0, '[]', '2026-01-05 00:00:00')`,
  );
  const session = async () =>
    (
      await store.createSession({
        projectId: project.id,
        browser: null,
        device: null,
        platformOs: null,
        country: null,
        ipAddress: null,
        userAgent: null,
        entryUrl: null,
        referrer: null,
        nowMs: t0,
      })
    ).id;
  const stored = (id, gzip) => {
    const body = JSON.parse(gunzipSync(gzip).toString('utf8'));
    const events = Array.isArray(body) ? body : body.events;
    insert.run(id, events[0].timestamp, events.at(-1).timestamp, events.length, gzip);
  };
  // Before paging, the route did this on the event loop for every batch of the session.
  const before = (blobs) => {
    const runs = [];
    for (let r = 0; r < RUNS; r++) {
      const began = performance.now();
      for (const blob of blobs) {
        const parsed = JSON.parse(gunzipSync(blob).toString('utf8'));
        const list = Array.isArray(parsed) ? parsed : parsed.events;
        list.sort((a, b) => a.timestamp - b.timestamp);
        JSON.stringify({ tabs: [{ tab: 1, events: list }] });
      }
      runs.push(performance.now() - began);
    }
    return median(runs);
  };

  const cases = [];
  {
    // A typical session: 40 batches of ~50 KB of JSON, as the snippet sends them.
    const id = await session();
    const blobs = [];
    for (let i = 0; i < 40; i++) {
      const { gzip } = trackBody({
        seed: i + 1,
        sessionIdentifier: 'x',
        startMs: t0 + i * 60_000,
        jsonBytes: 50_000,
      });
      stored(id, gzip);
      blobs.push(gzip);
    }
    cases.push({ name: 'typical session (40 × 50 KB batches), first page', id, beforeMs: before(blobs) });
  }
  {
    // The largest batch /track accepts: 8 MiB of JSON after gunzip.
    const id = await session();
    const { gzip } = trackBody({
      seed: 99,
      sessionIdentifier: 'x',
      startMs: t0,
      jsonBytes: 8 * 1024 * 1024 - 4096,
    });
    stored(id, gzip);
    cases.push({ name: 'one 8 MiB batch (the largest /track accepts)', id, beforeMs: before([gzip]) });
  }
  {
    // A batch stored before batches were limited: 400,000 tiny events (~15 MB of JSON).
    const id = await session();
    const events = Array.from({ length: 400_000 }, (_, i) => ({ type: 3, data: {}, timestamp: t0 + i }));
    const gzip = gzipSync(JSON.stringify({ sessionIdentifier: 'x', timer: 1, events }));
    stored(id, gzip);
    cases.push({ name: 'one legacy batch of 400,000 events', id, beforeMs: before([gzip]) });
  }

  let histogram = null;
  process.on('message', (m) => {
    if (m.start) {
      histogram = monitorEventLoopDelay({ resolution: 1 });
      histogram.enable();
      process.send({ ready: true });
    } else if (m.stop) {
      histogram?.disable();
      process.send({ maxMs: (histogram?.max ?? 0) / 1e6 });
    }
  });
  const shutdown = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    // The store's checkpointer thread is unreferenced: bound the wait for it to close.
    await Promise.race([store.close(), new Promise((resolve) => setTimeout(resolve, 2000))]);
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  process.once('SIGTERM', shutdown);
  process.once('disconnect', shutdown);
  const { port } = server.address();
  process.send({
    url: `http://127.0.0.1:${port}/api/services/analytics/v1/sessions/get-events`,
    token: config.apiToken,
    cases,
  });
}

if (process.argv.includes('--child')) {
  await measure();
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // Run alone: `node bench/get-events.mjs`.
  const { renderTable } = await import('./lib/table.mjs');
  const result = await run({ log: (line) => console.log(line) });
  for (const table of result.tables)
    console.log(`\n${table.title}\n\n${renderTable(table.header, table.rows)}`);
  for (const target of result.targets)
    console.log(`\n${target.name}: ${target.value} (${target.met ? 'met' : 'MISSED'})`);
}
