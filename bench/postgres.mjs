// The collector on PostgreSQL beside SQLite, in the same run (ARCHITECTURE.md, "Beyond this"):
// - ingest: POST /track with the same bodies and the same concurrency on SQLite with one instance, on
//   PostgreSQL with one instance and with two (the load split evenly over both, as a load balancer
//   would); every 200 is a committed batch on either engine;
// - queries: the read endpoints of bench/queries.mjs on the same 1,000,000 sessions, copied row for row
//   from the seeded SQLite database into a PostgreSQL database (cached between runs), median and p95.
// Needs a PostgreSQL at SPOOR_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { makeBodies, measured, mintIdentifiers } from './ingest.mjs';
import { collectorAvailable, startCollector } from './lib/collector.mjs';
import { load } from './lib/load.mjs';
import { formatMs, median, percentile } from './lib/stats.mjs';
import { kinds, warmup } from './queries.mjs';
import { apiToken, projectKey, SESSIONS, seededDatabase } from './seed.mjs';

const ADMIN_URL = process.env.SPOOR_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const levels = [8, 32];
const sliceMs = Number(process.env.BENCH_PG_SLICE_MS ?? 3000);
const reps = 2;
const sessions = 64;
const requestsPerKind = Number(process.env.BENCH_QUERY_REQUESTS ?? 50);
const budgetMsPerKind = Number(process.env.BENCH_QUERY_BUDGET_MS ?? 20_000);
/** Bump when the copy below changes, so that a stale cached database is not reused. */
const COPY_RECIPE = 2;

function databaseUrl(name) {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin(sql) {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function run({ log }) {
  if (!collectorAvailable()) return { skipped: 'no collector (server/main.ts missing)' };
  try {
    await admin('SELECT 1');
  } catch {
    return {
      skipped: 'no PostgreSQL at SPOOR_TEST_DATABASE_URL: apt-get install postgresql (see README)',
    };
  }
  const ingest = await ingestPart(log);
  const queries = await queriesPart(log);
  return {
    tables: [ingest.table, queries.table],
    notes: [...ingest.notes, ...queries.notes],
    targets: queries.targets,
    data: { ingest: ingest.data, queries: queries.data },
  };
}

/** One ingest setup: `instances` collectors on one database, the load split evenly over them. */
async function ingestSetup(name, engine, instances, log) {
  const dirs = [];
  const collectors = [];
  const database = `spoor_bench_ingest_${process.pid}_${name.replace(/\W+/g, '_')}`.toLowerCase();
  const env = { SPOOR_TRACK_LIMIT: '1000000000', SPOOR_MAX_CONNECTIONS_PER_IP: '0' };
  if (engine === 'postgres') {
    await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin(`CREATE DATABASE ${database}`);
    env.SPOOR_DATABASE_URL = databaseUrl(database);
  }
  for (let i = 0; i < instances; i++) {
    const data = mkdtempSync(join(tmpdir(), 'spoor-pg-ingest-'));
    dirs.push(data);
    // Same keys on every instance: an identifier minted by one is valid at the others.
    collectors.push(
      await startCollector({
        data,
        env: {
          ...env,
          SPOOR_APP_KEY: 'base64:c3Bvb3ItYmVuY2gtYXBwLWtleS0zMi1ieXRlcy1vayE=',
          SPOOR_PROJECT_KEY: 'pk_bench_ingest',
          SPOOR_API_TOKEN: 'bench-ingest-token-0123456789abcdef',
        },
      }),
    );
  }
  log(`${name}: ${instances} instance(s) started`);
  return {
    name,
    collectors,
    urls: collectors.map(
      (c) => `${c.url.replace('//localhost:', '//127.0.0.1:')}/api/services/analytics/v1/track`,
    ),
    async close() {
      for (const c of collectors) await c.stop();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
      if (engine === 'postgres') await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    },
  };
}

async function ingestPart(log) {
  const setups = [
    ['SQLite, 1 instance', 'sqlite', 1],
    ['PostgreSQL, 1 instance', 'postgres', 1],
    ['PostgreSQL, 2 instances', 'postgres', 2],
  ];
  const rows = [];
  const data = [];
  const notes = [
    'Same bodies, same concurrency, same machine (2 cores shared by the load generator, the collectors and PostgreSQL): two PostgreSQL instances split the cores with the database and the load, so this measures that the path scales out correctly, not what two machines would give.',
  ];
  for (const [name, engine, instances] of setups) {
    const setup = await ingestSetup(name, engine, instances, log);
    try {
      const identifiers = await mintIdentifiers(
        { api: setup.collectors[0].api, projectKey: 'pk_bench_ingest' },
        sessions,
      );
      const { openers, pool } = makeBodies(identifiers, 16_000);
      const opened = await load({ url: setup.urls[0], bodies: openers, concurrency: 8, durationMs: 60_000 });
      if (opened.statuses[200] !== openers.length)
        throw new Error(`${name}: ${JSON.stringify(opened.statuses)}`);
      let cursor = 0;
      for (const concurrency of levels) {
        const slices = [];
        for (let rep = 0; rep < reps; rep++) {
          // The load split over the instances, each with its share of the clients and of the bodies.
          const share = Math.ceil(pool.length / 2 / levels.length / reps / setup.urls.length);
          const parts = await Promise.all(
            setup.urls.map((url, i) =>
              measured(setup.collectors[i].pid, () =>
                load({
                  url,
                  bodies: pool,
                  start: cursor + i * share,
                  concurrency: Math.max(1, Math.round(concurrency / setup.urls.length)),
                  durationMs: sliceMs,
                }),
              ),
            ),
          );
          cursor += share * setup.urls.length;
          slices.push(...parts);
        }
        const latencies = slices.flatMap((s) => s.latencies);
        const seconds = (sliceMs / 1000) * reps;
        const ok = slices.reduce((n, s) => n + (s.statuses[200] ?? 0), 0);
        const other = latencies.length - ok;
        const result = {
          setup: name,
          concurrency,
          rps: latencies.length / seconds,
          p50: percentile(latencies, 50),
          p99: percentile(latencies, 99),
          cpuMsPerRequest: slices.reduce((n, s) => n + s.cpuMs, 0) / latencies.length,
          non200: other,
        };
        data.push(result);
        rows.push([
          name,
          String(concurrency),
          result.rps.toFixed(0),
          formatMs(result.p50),
          formatMs(result.p99),
          result.cpuMsPerRequest.toFixed(2),
          String(other),
        ]);
        log(`${name}, concurrency ${concurrency}: ${result.rps.toFixed(0)} req/s`);
      }
    } finally {
      await setup.close();
    }
  }
  // Ratios against SQLite with one instance, measured in this run.
  for (const row of rows) {
    const base = data.find((d) => d.setup === 'SQLite, 1 instance' && String(d.concurrency) === row[1]);
    const mine = data.find((d) => d.setup === row[0] && String(d.concurrency) === row[1]);
    row.splice(3, 0, `${((mine.rps / base.rps) * 100).toFixed(0)}%`);
  }
  return {
    table: {
      title: `Ingest on each engine: POST /track, gzip bodies of 4–48 KB of JSON, ${sessions} sessions, ${reps} × ${sliceMs / 1000} s per level; collector CPU is summed over its instances`,
      header: [
        'setup',
        'concurrency',
        'req/s',
        '÷ SQLite 1',
        'p50',
        'p99',
        'collector CPU ms/request',
        'non-200',
      ],
      rows,
    },
    notes,
    data,
  };
}

/** The seeded SQLite database copied into PostgreSQL, once: cached under a name of its recipe. */
async function seededPostgres(sqliteData, log) {
  const name = `spoor_bench_queries_${COPY_RECIPE}_${SESSIONS}`;
  const exists = (await admin(`SELECT 1 FROM pg_database WHERE datname = '${name}'`)).rowCount === 1;
  const url = databaseUrl(name);
  if (exists) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const done = await client
      .query("SELECT 1 FROM pg_class WHERE relname = 'bench_seeded'")
      .catch(() => ({ rowCount: 0 }));
    await client.end();
    if (done.rowCount === 1) return { url, cached: true };
    await admin(`DROP DATABASE ${name} WITH (FORCE)`);
  }
  await admin(`CREATE DATABASE ${name}`);
  // The collector migrates the empty database (its schema, its partitions), then stops.
  const dir = mkdtempSync(join(tmpdir(), 'spoor-pg-seed-'));
  const migrate = await startCollector({
    data: dir,
    env: {
      SPOOR_DATABASE_URL: url,
      SPOOR_PROJECT_KEY: projectKey,
      SPOOR_API_TOKEN: apiToken,
      SPOOR_RETENTION_DAYS: '0',
    },
  });
  await migrate.stop();
  rmSync(dir, { recursive: true, force: true });

  const source = new Database(join(sqliteData, 'spoor.sqlite'), { readonly: true });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const began = performance.now();
  try {
    await client.query('DELETE FROM dashboard_sessions');
    await client.query('DELETE FROM projects');
    for (const table of ['projects', 'sessions', 'visits', 'conversions', 'vitals']) {
      const columns = source
        .prepare(`PRAGMA table_info(${table})`)
        .all()
        .map((c) => c.name);
      const chunk = Math.floor(30_000 / columns.length);
      const select = source.prepare(
        `SELECT ${columns.join(', ')} FROM ${table} WHERE id > ? ORDER BY id LIMIT ?`,
      );
      let after = 0;
      let copied = 0;
      await client.query('BEGIN');
      for (;;) {
        const rows = select.raw().all(after, chunk);
        if (rows.length === 0) break;
        const values = [];
        const tuples = rows.map((row, r) => {
          values.push(...row);
          return `(${row.map((_, c) => `$${r * columns.length + c + 1}`).join(', ')})`;
        });
        await client.query(
          `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')}`,
          values,
        );
        after = rows[rows.length - 1][columns.indexOf('id')];
        copied += rows.length;
      }
      await client.query('COMMIT');
      // Later inserts (none in the bench) would otherwise reuse the copied ids.
      await client.query(
        `SELECT setval(pg_get_serial_sequence('${table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM ${table}))`,
      );
      log(`copied ${copied.toLocaleString('en')} ${table} into PostgreSQL`);
    }
    // What autovacuum does some time after a bulk load: statistics, and the visibility map that lets
    // the sessions list count on its index alone.
    await client.query('VACUUM ANALYZE');
    await client.query('CREATE TABLE bench_seeded (done boolean)');
  } finally {
    await client.end();
    source.close();
  }
  return { url, cached: false, seconds: (performance.now() - began) / 1000 };
}

async function measureKinds(collector) {
  const results = [];
  for (const kind of kinds) {
    const latencies = [];
    const statuses = {};
    const began = performance.now();
    for (let i = 0; i < warmup + requestsPerKind; i++) {
      if (i >= warmup && performance.now() - began > budgetMsPerKind) break;
      const page = kind.page?.(i);
      const url = `${collector.api}/services/analytics/v1/${kind.path}${page ? `?page=${page}` : ''}`;
      const sent = performance.now();
      const response = await fetch(url, {
        method: 'POST',
        headers: { Authorization: `Bearer ${apiToken}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(kind.body(i)),
      });
      await response.arrayBuffer();
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      if (i >= warmup && response.status === 200) latencies.push(performance.now() - sent);
    }
    results.push({
      name: kind.name,
      n: latencies.length,
      median: median(latencies),
      p95: percentile(latencies, 95),
      statuses,
    });
  }
  return results;
}

async function queriesPart(log) {
  const seeded = await seededDatabase(log);
  const postgres = await seededPostgres(seeded.data, log);
  log(`PostgreSQL database ${postgres.cached ? 'cached' : `copied in ${postgres.seconds.toFixed(0)} s`}`);
  // No retention sweep: the seeded year lies in the past, and erasing it would race the measurement.
  const env = { SPOOR_READ_LIMIT: '1000000', SPOOR_RETENTION_DAYS: '0' };
  const sqliteCollector = await startCollector({ data: seeded.data, env });
  let onSqlite;
  try {
    onSqlite = await measureKinds(sqliteCollector);
  } finally {
    await sqliteCollector.stop();
  }
  const dir = mkdtempSync(join(tmpdir(), 'spoor-pg-queries-'));
  const pgCollector = await startCollector({
    data: dir,
    env: {
      ...env,
      SPOOR_DATABASE_URL: postgres.url,
      SPOOR_PROJECT_KEY: projectKey,
      SPOOR_API_TOKEN: apiToken,
    },
  });
  let onPostgres;
  try {
    onPostgres = await measureKinds(pgCollector);
  } finally {
    await pgCollector.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const rows = onSqlite.map((s, i) => {
    const p = onPostgres[i];
    const statuses = (r) =>
      Object.entries(r.statuses)
        .map(([status, count]) => `${count}×${status}`)
        .join(' ');
    return [
      s.name,
      formatMs(s.median),
      formatMs(s.p95),
      formatMs(p.median),
      formatMs(p.p95),
      `${statuses(s)} / ${statuses(p)}`,
    ];
  });
  const list = onPostgres[0];
  return {
    table: {
      title: `Read endpoints on ${seeded.counts.sessions.toLocaleString('en')} sessions, the same rows on both engines; one request at a time, ${requestsPerKind} each after ${warmup} warm-up`,
      header: [
        'request',
        'SQLite median',
        'SQLite p95',
        'PostgreSQL median',
        'PostgreSQL p95',
        'statuses SQLite / PostgreSQL',
      ],
      rows,
    },
    notes: [
      'The PostgreSQL database is a row-for-row copy of the SQLite one (ANALYZEd after the copy), served by one collector instance on the same machine.',
    ],
    targets: [
      {
        name: 'PostgreSQL p95 < 100 ms for the default session list',
        value: formatMs(list.p95),
        met: list.p95 < 100,
      },
    ],
    data: { sqlite: onSqlite, postgres: onPostgres },
  };
}
