// Starts the collector: reads the environment, listens, prints where, and on SIGINT/SIGTERM stops
// accepting, lets requests in flight finish (their batches commit), then closes the database.
import type { AddressInfo } from 'node:net';
import { createApp, ensureDemoProject } from './app.js';
import { loadConfig } from './config.js';
import { isLoopbackHostname } from './http/cookies.js';
import { createCollectorServer } from './http/server.js';
import { createFlameupRelay } from './relay/relay.js';
import { openStore } from './store/store.js';

const config = loadConfig(process.env);
// `npm start` (the demo) asks for the dashboard to sign its viewer in by itself. Only a collector that
// listens on loopback, answers under no public name elsewhere and sits behind no proxy (whose requests
// would all come from loopback) may do that: then only someone on this machine can reach it.
const demoSignIn = process.argv.includes('--demo-sign-in');
const loopbackOnly =
  isLoopbackHostname(config.host) &&
  !config.trustProxy &&
  (config.publicUrl === null || isLoopbackHostname(config.publicUrl.hostname));
config.autoSignIn = demoSignIn && loopbackOnly;
const store = openStore(config.dbFile);
const project = ensureDemoProject(config, store);
// The demo project's Flameup setting follows the environment; the key never leaves this process.
const flameup = createFlameupRelay({ db: store.db, durable: () => store.durable() });
flameup.configure(
  project.id,
  config.flameupApiKey ? { apiKey: config.flameupApiKey, url: config.flameupUrl } : null,
);
flameup.start();
// Header, body and keep-alive timeouts and the per-address connection cap (server/http/server.ts).
const server = createCollectorServer(createApp({ config, store, flameup }), config.http);

server.listen(config.port, config.host, () => {
  const { port } = server.address() as AddressInfo;
  // The first three lines are parsed by the e2e harness, tests and benches: keep them exact. The token
  // printed is the demo project's, from the environment or secrets.json: the store keeps only its hash.
  console.log(`Spoor collector listening on http://localhost:${port}`);
  console.log(`Project key: ${project.public_key}`);
  console.log(`API token: ${config.apiToken}`);
  if (config.autoSignIn) {
    console.log(
      `Dashboard: http://localhost:${port}/dashboard signs in whoever opens it on this machine (demo mode, listening on ${config.host} only)`,
    );
  } else {
    if (demoSignIn) {
      console.log(
        'Dashboard: automatic sign-in is off: the collector listens beyond loopback (SPOOR_HOST), trusts a proxy or has a public URL',
      );
    }
    console.log(
      `Dashboard: sign in at /dashboard with ${config.adminPasswordHash ? 'the admin password or ' : ''}a project's API token`,
    );
  }
});

let stopping = false;
function stop(signal: string): void {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: finishing requests in flight`);
  // A stuck client must not keep the process alive forever.
  const force = setTimeout(() => {
    server.closeAllConnections();
  }, 10_000);
  force.unref();
  server.close(() => {
    // Forwards in flight finish (or stay queued) before the database closes; the store commits what
    // is still queued and waits for its checkpointer, so the WAL is folded into the file on exit.
    void flameup
      .stop()
      .finally(() => store.close())
      .finally(() => process.exit(0));
  });
  // Idle keep-alive sockets would otherwise hold close() open until they time out.
  server.closeIdleConnections();
}

process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
