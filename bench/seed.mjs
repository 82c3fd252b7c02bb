// A collector database with 1,000,000 sessions for the query benchmark. The schema is the real one: the
// collector itself starts once on an empty data folder so that its migrations run, then rows go in with
// prepared statements in a few large transactions (indexes dropped during the load, rebuilt after, with
// the collector's own CREATE INDEX statements). The result is cached under bench/results/ keyed by a hash
// of the schema and of this seeding recipe, so reruns skip it.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startCollector } from './lib/collector.mjs';
import { resultsFolder } from './lib/paths.mjs';
import { generator } from './lib/rrweb-events.mjs';

/** Bump when the seeded data below changes, so that a stale cache is not reused. */
const RECIPE = 1;
export const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 1_000_000);
/** Fixed demo project credentials, so the cached database keeps working across runs. */
export const projectKey = 'pk_bench_queries';
export const apiToken = 'bench-queries-token-0123456789abcdef';
/** Sessions are spread evenly over this year (UTC), ids in time order as the collector assigns them. */
export const firstMs = Date.UTC(2025, 6, 1);
export const lastMs = Date.UTC(2026, 6, 1) - 1;

const browsers = [
  'Chrome',
  'Chrome',
  'Chrome',
  'Safari',
  'Safari',
  'Firefox',
  'Edge',
  'Samsung Internet',
  'Opera',
];
const devices = ['desktop', 'desktop', 'mobile', 'mobile', 'tablet'];
const systems = ['Windows', 'Mac OS', 'Linux', 'Android', 'iOS'];
const countries = ['US', 'US', 'DE', 'FR', 'GB', 'NL', 'IN', 'BR', 'JP', null];
const paths = [
  '/',
  '/products',
  '/products/42',
  '/cart',
  '/checkout',
  '/thank-you',
  '/blog/spring-sale',
  '/about',
];
const vitalNames = ['TTFB', 'FCP', 'LCP', 'CLS', 'INP'];

/**
 * @param {(line: string) => void} log
 * @returns {Promise<{ data: string; cached: boolean; seconds: number; counts: Record<string, number> }>}
 *   the data folder to start the collector on
 */
export async function seededDatabase(log) {
  const began = performance.now();
  // Beside the cache, not in the system temp folder: the finished folder is renamed into place.
  const fresh = mkdtempSync(join(resultsFolder('queries-db'), 'seeding-'));
  try {
    const collector = await startCollector({
      data: fresh,
      env: { SPOOR_PROJECT_KEY: projectKey, SPOOR_API_TOKEN: apiToken },
    });
    await collector.stop();
    const file = join(fresh, 'spoor.sqlite');
    const key = schemaKey(file);
    const folder = resultsFolder('queries-db');
    const cached = join(folder, `${key}-${SESSIONS}`);
    if (existsSync(join(cached, 'seeded'))) {
      return {
        data: cached,
        cached: true,
        seconds: (performance.now() - began) / 1000,
        counts: readCounts(cached),
      };
    }
    log(`seeding ${SESSIONS.toLocaleString('en')} sessions (schema ${key}); cached for later runs`);
    seed(file);
    // A database seeded for an older schema would never be used again: it only fills the disk (~1 GB).
    for (const stale of readdirSync(folder)) {
      if (stale.endsWith(`-${SESSIONS}`)) rmSync(join(folder, stale), { recursive: true, force: true });
    }
    renameSync(fresh, cached);
    writeFileSync(join(cached, 'seeded'), `${new Date().toISOString()}\n`);
    return {
      data: cached,
      cached: false,
      seconds: (performance.now() - began) / 1000,
      counts: readCounts(cached),
    };
  } finally {
    rmSync(fresh, { recursive: true, force: true });
  }
}

function schemaKey(file) {
  const db = new Database(file, { readonly: true });
  try {
    const version = db.pragma('user_version', { simple: true });
    const sql = db
      .prepare('SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type, name')
      .all()
      .map((row) => `${row.type} ${row.name} ${row.sql}`)
      .join('\n');
    return `v${version}-${createHash('sha256').update(`${RECIPE}\n${sql}`).digest('hex').slice(0, 12)}`;
  } finally {
    db.close();
  }
}

function readCounts(folder) {
  const db = new Database(join(folder, 'spoor.sqlite'), { readonly: true });
  try {
    const count = (table) => db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get().n;
    return {
      sessions: count('sessions'),
      visits: count('visits'),
      vitals: count('vitals'),
      conversions: count('conversions'),
    };
  } finally {
    db.close();
  }
}

const sqlDate = (ms) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

function seed(file) {
  const db = new Database(file);
  // Bulk load: no journal and no fsync (a crash only costs a re-seed), indexes rebuilt at the end.
  db.pragma('journal_mode = DELETE');
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('foreign_keys = OFF');
  const indexes = db
    .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
    .all();
  for (const index of indexes) db.exec(`DROP INDEX ${index.name}`);

  const project = db.prepare('SELECT id FROM projects WHERE public_key = ?').get(projectKey).id;
  const insertSession = db.prepare(
    `INSERT INTO sessions (id, project_id, browser, device, platform_os, country, ip_address, user_agent, entry_url,
       referrer, time_spend, tabs, read_status, created_at, updated_at, created_ms, last_activity_ms)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)`,
  );
  const insertVisit = db.prepare(
    `INSERT INTO visits (id, session_id, tab, url, title, referrer, navigation, time_spend, started_ts, created_at)
     VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertVital = db.prepare(
    `INSERT INTO vitals (session_id, tab, visit_id, name, value, rating, delta, metric_id, navigation_type, ts, created_at)
     VALUES (?, 1, ?, ?, ?, ?, ?, ?, 'navigate', ?, ?)`,
  );
  const insertConversion = db.prepare(
    `INSERT INTO conversions (session_id, tab, visit_id, type, goal, target, ts, created_at)
     VALUES (?, 1, ?, ?, ?, ?, ?, ?)`,
  );

  const random = generator(42);
  const pick = (list) => list[Math.floor(random() * list.length)];
  const step = (lastMs - firstMs) / SESSIONS;
  let visitId = 0;
  const chunk = 100_000;
  for (let from = 1; from <= SESSIONS; from += chunk) {
    db.transaction(() => {
      for (let id = from; id < Math.min(from + chunk, SESSIONS + 1); id++) {
        const created = Math.floor(firstMs + (id - 1) * step);
        const visits = 1 + Math.floor(random() * random() * 5);
        let spent = 0;
        let at = created;
        const entry = `https://shop.example${pick(paths)}`;
        for (let v = 0; v < visits; v++) {
          visitId += 1;
          const seconds = Math.round(random() * random() * 3000) / 10;
          spent += seconds;
          const url = v === 0 ? entry : `https://shop.example${pick(paths)}`;
          insertVisit.run(
            visitId,
            id,
            url,
            'Shop',
            v === 0 ? '' : entry,
            v === 0 ? 'load' : 'push',
            seconds,
            at,
            sqlDate(at),
          );
          // Hard navigations report TTFB, FCP and LCP; CLS and INP come when the visitor stays and acts.
          const reported = v === 0 ? 3 + Math.floor(random() * 3) : Math.floor(random() * 3);
          for (let n = 0; n < reported; n++) {
            const name = vitalNames[v === 0 ? n : 2 + n];
            const value = name === 'CLS' ? Math.round(random() * 30) / 100 : Math.round(random() * 4000);
            insertVital.run(
              id,
              visitId,
              name,
              value,
              value < 2500 ? 'good' : 'needs-improvement',
              value,
              `v5-${id}-${n}`,
              at + 500,
              sqlDate(at + 500),
            );
          }
          if (random() < 0.08) {
            const click = random() < 0.5;
            insertConversion.run(
              id,
              visitId,
              click ? 'click' : 'url',
              click ? 'add-to-cart' : 'checkout-done',
              click ? 'button#add' : url,
              at + 1000,
              sqlDate(at + 1000),
            );
          }
          at += seconds * 1000 + 2000;
        }
        insertSession.run(
          id,
          project,
          pick(browsers),
          pick(devices),
          pick(systems),
          pick(countries),
          `203.0.113.${id % 250}`,
          'Mozilla/5.0',
          entry,
          random() < 0.5 ? 'https://search.example/' : null,
          Math.round(spent * 10) / 10,
          random() < 0.3 ? 'read' : 'unread',
          sqlDate(created),
          sqlDate(at),
          created,
          at,
        );
      }
    })();
  }
  for (const index of indexes) db.exec(index.sql);
  db.pragma('journal_mode = WAL');
  db.close();
}
