// Starts the collector: reads the environment, listens, prints where, and on SIGINT/SIGTERM stops
// accepting, lets requests in flight finish (their batches commit), then closes the database.
import type { AddressInfo } from 'node:net';
import { createApp, ensureDemoProject } from './app.js';
import { loadConfig } from './config.js';
import { createCollectorServer } from './http/server.js';
import { createFlameupRelay } from './relay/relay.js';
import { openStore } from './store/store.js';

const config = loadConfig(process.env);
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

server.listen(config.port, () => {
  const { port } = server.address() as AddressInfo;
  // The first line is parsed by the e2e harness, the tests and the benches: keep it exact.
  console.log(`Spoor collector listening on http://localhost:${port}`);
  console.log(`Project key: ${project.public_key}`);
  console.log(`API token: ${project.api_token}`);
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
