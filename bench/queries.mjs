// Collector queries on a database of 1,000,000 sessions: the read endpoints as a dashboard calls them,
// median and p95 latency over about 50 requests each, one request at a time.
import { collectorAvailable, startCollector } from './lib/collector.mjs';
import { generator } from './lib/rrweb-events.mjs';
import { formatMs, median, percentile } from './lib/stats.mjs';
import { apiToken, firstMs, lastMs, SESSIONS, seededDatabase } from './seed.mjs';

const requestsPerKind = Number(process.env.BENCH_QUERY_REQUESTS ?? 50);
/** A slow kind stops early rather than blow the 10-minute budget of `npm run bench`; it says so. */
const budgetMsPerKind = Number(process.env.BENCH_QUERY_BUDGET_MS ?? 20_000);
export const warmup = 3;

const day = (ms) => new Date(ms).toISOString().slice(0, 10);
const monthStart = (i) => Date.UTC(2025, 6 + (i % 12), 1);
const monthEnd = (i) => Date.UTC(2025, 7 + (i % 12), 1) - 1;

/** Each kind builds its i-th request body (and page); bodies vary so no two requests are identical. */
export const kinds = [
  {
    name: 'sessions: one month, unread, created_at desc (the API example)',
    path: 'project/sessions',
    body: (i) => ({
      start_date: day(monthStart(i)),
      end_date: day(monthEnd(i)),
      sortKey: 'created_at',
      sortOrder: 'desc',
      read_status: 'unread',
      per_page: '15',
      filters: {},
    }),
  },
  {
    name: 'sessions: one month, page 200 of 15 (deep page)',
    path: 'project/sessions',
    page: () => 200,
    body: (i) => ({
      start_date: day(monthStart(i)),
      end_date: day(monthEnd(i)),
      sortKey: 'created_at',
      sortOrder: 'desc',
      filters: {},
    }),
  },
  {
    name: 'sessions: a quarter, browser + device filter, time_spend desc',
    path: 'project/sessions',
    body: (i) => ({
      start_date: day(monthStart(i % 10)),
      end_date: day(monthEnd((i % 10) + 2)),
      sortKey: 'time_spend',
      sortOrder: 'desc',
      per_page: '50',
      filters: { browser: [['Firefox', 'Safari', 'Edge'][i % 3]], device: ['mobile'] },
    }),
  },
  {
    name: 'sessions: whole year, country + url + has_conversions + min time, country asc',
    path: 'project/sessions',
    body: (i) => ({
      start_date: day(firstMs),
      end_date: day(lastMs),
      sortKey: 'country',
      sortOrder: 'asc',
      filters: {
        country: [['DE', 'FR', 'GB', 'NL'][i % 4]],
        url: ['checkout', 'products', 'cart'][i % 3],
        has_conversions: '1',
        min_time_spend: 30,
      },
    }),
  },
  {
    name: 'sessions: one month, check_irregular_traffic, include_ip_addresses',
    path: 'project/sessions',
    body: (i) => ({
      start_date: day(monthStart(i)),
      end_date: day(monthEnd(i)),
      sortKey: 'id',
      sortOrder: 'desc',
      check_irregular_traffic: '1',
      include_ip_addresses: 'true',
      filters: {},
    }),
  },
  {
    name: 'get-visits: 100 sessions, list',
    path: 'sessions/get-visits',
    body: (i) => related(i, { key: 'list' }),
  },
  {
    name: 'get-visits: 100 sessions, count',
    path: 'sessions/get-visits',
    body: (i) => related(i, { key: 'count' }),
  },
  {
    name: 'get-conversions: 100 sessions, click + url',
    path: 'sessions/get-conversions',
    body: (i) => related(i, { key: 'list', conversion_types: ['click', 'url'] }),
  },
];

/** 100 session ids drawn at random over the whole table, and a date window covering them all. */
function related(i, extra) {
  const random = generator(1000 + i);
  const sessionIds = Array.from({ length: 100 }, () => 1 + Math.floor(random() * SESSIONS));
  return { ...extra, start_date: day(firstMs), end_date: day(lastMs + 86_400_000), session_ids: sessionIds };
}

export async function run({ log }) {
  if (!collectorAvailable()) return { skipped: 'no collector (server/main.ts missing)' };
  const seeded = await seededDatabase(log);
  log(
    `${seeded.cached ? 'cached' : 'seeded'} database in ${seeded.seconds.toFixed(1)} s: ${JSON.stringify(seeded.counts)}`,
  );

  // SPOOR_READ_LIMIT is the collector's own setting for the read endpoints' per-token budget (60/min by
  // default); ~400 requests in a minute or two from one token would otherwise measure 429s.
  // No retention sweep either: the seeded year lies in the past, and the sweep would erase the cached
  // database while it is measured.
  const collector = await startCollector({
    data: seeded.data,
    env: { SPOOR_READ_LIMIT: '1000000', SPOOR_RETENTION_DAYS: '0' },
  });
  const rows = [];
  const results = [];
  const notes = [
    'SPOOR_READ_LIMIT is raised to 1,000,000 for this part (the read endpoints allow 60 requests per minute per token by default).',
  ];
  try {
    for (const kind of kinds) {
      const latencies = [];
      const statuses = {};
      let total = null;
      const began = performance.now();
      for (let i = 0; i < warmup + requestsPerKind; i++) {
        if (i >= warmup && performance.now() - began > budgetMsPerKind) break;
        const page = kind.page?.(i);
        const url = `${collector.api}/services/analytics/v1/${kind.path}${page ? `?page=${page}` : ''}`;
        const sent = performance.now();
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            Authorization: `Bearer ${apiToken}`,
            'Content-Type': 'application/json',
            Accept: 'application/json',
          },
          body: JSON.stringify(kind.body(i)),
        });
        const answer = await response.json();
        const ms = performance.now() - sent;
        statuses[response.status] = (statuses[response.status] ?? 0) + 1;
        // Latency figures are of answers that did the work; refusals show in the statuses column.
        if (i >= warmup && response.status === 200) latencies.push(ms);
        if (response.status !== 200 && statuses[response.status] === 1) {
          notes.push(`${kind.name}: HTTP ${response.status} ${JSON.stringify(answer).slice(0, 300)}`);
        }
        total ??=
          typeof answer?.data?.total === 'number'
            ? answer.data.total
            : Array.isArray(answer?.data)
              ? answer.data.length
              : answer?.data;
      }
      const result = {
        name: kind.name,
        requests: latencies.length,
        median: median(latencies),
        p95: percentile(latencies, 95),
        max: Math.max(...latencies),
        statuses,
        firstAnswer: total,
      };
      if (latencies.length < requestsPerKind) {
        notes.push(
          `${kind.name}: stopped after ${latencies.length} requests (${budgetMsPerKind / 1000} s budget per kind).`,
        );
      }
      results.push(result);
      rows.push([
        kind.name,
        String(result.requests),
        formatMs(result.median),
        formatMs(result.p95),
        formatMs(result.max),
        Object.entries(statuses)
          .map(([status, count]) => `${count}×${status}`)
          .join(' '),
      ]);
      log(`${kind.name}: median ${formatMs(result.median)}`);
    }
  } finally {
    await collector.stop();
  }

  return {
    tables: [
      {
        title: `Collector queries: ${seeded.counts.sessions.toLocaleString('en')} sessions, ${seeded.counts.visits.toLocaleString('en')} visits, ${seeded.counts.vitals.toLocaleString('en')} vitals, ${seeded.counts.conversions.toLocaleString('en')} conversions; one request at a time (after ${warmup} warm-up requests)`,
        header: ['request', 'n', 'median', 'p95', 'max', 'statuses'],
        rows,
      },
    ],
    notes,
    data: { seeded, results },
  };
}
