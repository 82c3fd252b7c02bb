// Starts the collector: reads the environment, listens, prints where, and on SIGINT/SIGTERM stops
// accepting, lets requests in flight finish (their batches commit), then closes the database and exits
// 0. A setup mistake (a bad variable, a data folder it cannot write, a port in use) ends it at once
// with one line on stderr and exit code 1, no stack.
import type { AddressInfo } from 'node:net';
import { createApp, ensureDemoProject } from './app.js';
import { type Config, loadConfig } from './config.js';
import { isLoopbackHostname } from './http/cookies.js';
import { connectRedis, createSharedRateLimiter, redisAnswers } from './http/rate-limit.js';
import { createCollectorServer } from './http/server.js';
import { createLogger } from './lib/log.js';
import { createFlameupRelay } from './relay/relay.js';
import { openConfiguredStore } from './store/open.js';
import { createEraser, startRetention } from './store/retention.js';
import type { Store } from './store/store.js';

function fail(message: string): never {
  process.stderr.write(`spoor: ${message}\n`);
  process.exit(1);
}

let config: Config;
try {
  config = loadConfig(process.env);
} catch (error) {
  // Every error loadConfig throws names the variable or folder at fault.
  fail(error instanceof Error ? error.message : String(error));
}
// `npm start` (the demo) asks for the dashboard to sign its viewer in by itself. Only a collector that
// listens on loopback, answers under no public name elsewhere and sits behind no proxy (whose requests
// would all come from loopback) may do that: then only someone on this machine can reach it.
const demoSignIn = process.argv.includes('--demo-sign-in');
const loopbackOnly =
  isLoopbackHostname(config.host) &&
  !config.trustProxy &&
  (config.publicUrl === null || isLoopbackHostname(config.publicUrl.hostname));
config.autoSignIn = demoSignIn && loopbackOnly;
const log = createLogger({ level: config.logLevel });

let store: Store;
try {
  store = await openConfiguredStore(config, {
    logError: (message, error) => log.error({ err: error }, message),
  });
} catch (error) {
  const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  if (config.databaseUrl) {
    // The URL may hold a password: it is not printed.
    fail(`cannot open the PostgreSQL database of SPOOR_DATABASE_URL (${code}): check that it answers`);
  }
  fail(`cannot open the database ${config.dbFile} (${code}): check SPOOR_DATA and its permissions`);
}
const project = await ensureDemoProject(config, store);
// The demo project's Flameup setting follows the environment; the key never leaves this process.
const flameup = createFlameupRelay({
  engine: store.engine,
  durable: () => store.durable(),
  log: (message) => log.warn({ component: 'flameup' }, message),
});
await flameup.configure(
  project.id,
  config.flameupApiKey ? { apiKey: config.flameupApiKey, url: config.flameupUrl } : null,
);
flameup.start();
const eraser = createEraser({ store, forget: flameup.store.forgetProgram });
// Rate limits shared by every instance when Redis is configured; an outage is logged once, not per
// reconnection attempt.
let redisDown = false;
const redis = config.redisUrl
  ? connectRedis(config.redisUrl, (error) => {
      if (redisDown) return;
      redisDown = true;
      log.warn(
        { err: error },
        'Redis does not answer: rate limits fall back to this instance alone until it does',
      );
    })
  : null;
redis?.on('ready', () => {
  if (redisDown) log.info('Redis answers again: rate limits are shared again');
  redisDown = false;
});
let draining = false;
const retention = startRetention({
  store,
  eraser,
  days: config.retentionDays,
  onSweep: (erased) => log.info({ erased, days: config.retentionDays }, 'retention: old sessions erased'),
  onError: (error) => log.error({ err: error }, 'retention sweep failed'),
});
// Header, body and keep-alive timeouts and the per-address connection cap (server/http/server.ts).
const server = createCollectorServer(
  createApp({
    config,
    store,
    flameup,
    eraser,
    ...(redis
      ? {
          limiter: (name: string, limit: number) =>
            createSharedRateLimiter({ redis, prefix: config.redisPrefix, name, limit }),
          redisHealthy: () => redisAnswers(redis),
        }
      : {}),
    draining: () => draining,
    logError: (message, error) => log.error({ err: error }, message),
    logOriginRefused: (origin, path) =>
      log.warn(
        { origin, path },
        'origin not allowed: a page on this origin called the collector; add the origin to the project (SPOOR_ALLOWED_ORIGINS) if it is yours',
      ),
  }),
  config.http,
);

server.once('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EADDRINUSE')
    fail(`port ${config.port} is already in use: stop what holds it or set PORT`);
  if (error.code === 'EACCES')
    fail(`port ${config.port} needs privileges: use a port above 1023 and a proxy`);
  fail(`cannot listen on port ${config.port}: ${error.message}`);
});

server.listen(config.port, config.host, () => {
  const { port } = server.address() as AddressInfo;
  // The first three lines are parsed by the e2e harness, tests and benches: keep them exact. The token
  // printed is the demo project's, from the environment or secrets.json: the store keeps only its hash.
  console.log(`Spoor collector listening on http://localhost:${port}`);
  console.log(`Project key: ${project.public_key}`);
  console.log(`API token: ${config.apiToken}`);
  // After the three lines above, stdout is JSON lines only (pino): the dashboard's sign-in says how.
  const dashboard = `http://localhost:${port}/dashboard`;
  if (config.autoSignIn) {
    log.info(
      { dashboard, autoSignIn: true, host: config.host },
      'the dashboard signs in whoever opens it on this machine (demo mode, listening on loopback only)',
    );
  } else {
    log.info(
      { dashboard, autoSignIn: false, asked: demoSignIn },
      demoSignIn
        ? 'automatic sign-in is off: the collector listens beyond loopback (SPOOR_HOST), trusts a proxy or has a public URL'
        : `sign in with ${config.adminPasswordHash ? 'the admin password or ' : ''}a project's API token`,
    );
  }
  log.info({ port, retentionDays: config.retentionDays, trustProxy: config.trustProxy }, 'listening');
});

let stopping = false;
function stop(signal: string): void {
  if (stopping) return;
  stopping = true;
  // /readyz answers 503 from now on, so a load balancer sends no new requests here.
  draining = true;
  // The checkpointer and the pools hold no reference on the loop: without this, the process could
  // end on an empty loop while the database is still closing, before its last log line.
  setInterval(() => undefined, 1000);
  log.info({ signal }, 'stopping: finishing requests in flight');
  // A stuck client must not keep the process alive forever.
  const force = setTimeout(() => {
    server.closeAllConnections();
  }, 10_000);
  force.unref();
  server.close(() => {
    // Forwards in flight finish (or stay queued) and a retention sweep finishes its piece before the
    // database closes; the store commits what is still queued and waits for its checkpointer, so the
    // WAL is folded into the file on exit.
    void Promise.allSettled([flameup.stop(), retention.stop()])
      .then(() => store.close())
      .then(() => redis?.quit().catch(() => undefined))
      .then(
        () => {
          log.info('stopped');
          process.exit(0);
        },
        (error: unknown) => {
          log.error({ err: error }, 'closing the database failed');
          process.exit(1);
        },
      );
  });
  // Idle keep-alive sockets would otherwise hold close() open until they time out.
  server.closeIdleConnections();
}

process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
