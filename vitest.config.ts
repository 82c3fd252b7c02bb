import { defineConfig } from 'vitest/config';
import { answers } from './test/support/ports.js';

// Fast tests: the snippet in happy-dom, the package's documents in Node, the collector in Node on real
// SQLite files and (server-pg) the same collector tests again on a real PostgreSQL, with Redis.
// Browser behaviour that happy-dom cannot model is tested in real Chromium under e2e/ instead.

const HOW_TO_GET =
  'PostgreSQL and Redis tests need servers: apt-get install postgresql redis-server (or set SPOOR_TEST_DATABASE_URL / SPOOR_TEST_REDIS_URL)';

export default defineConfig(async () => {
  const servers =
    (await answers(process.env.SPOOR_TEST_DATABASE_URL || 'postgres://127.0.0.1:5432/postgres', 5432)) &&
    (await answers(process.env.SPOOR_TEST_REDIS_URL || 'redis://127.0.0.1:6379', 6379));
  if (!servers) {
    // CI installs and starts both (.ci/run): there a missing server is a failure, not a skip.
    if (process.env.CI) throw new Error(HOW_TO_GET);
    console.warn(`Skipping the server-pg tests. ${HOW_TO_GET}`);
  }
  const server = { include: ['test/server/**/*.test.ts'], environment: 'node' as const, testTimeout: 20000 };
  return {
    test: {
      projects: [
        {
          test: {
            name: 'snippet',
            include: ['test/snippet/**/*.test.ts'],
            environment: 'happy-dom',
          },
        },
        {
          test: {
            // The dashboard's pure view helpers (charts, timeline), in happy-dom.
            name: 'demo',
            include: ['test/demo/**/*.test.ts'],
            environment: 'happy-dom',
          },
        },
        {
          test: {
            name: 'package',
            include: ['test/package/**/*.test.ts'],
            environment: 'node',
          },
        },
        {
          test: {
            name: 'tooling',
            include: ['test/tooling/**/*.test.ts'],
            environment: 'node',
            testTimeout: 60000,
          },
        },
        { test: { name: 'server', ...server, env: { SPOOR_TEST_ENGINE: 'sqlite' } } },
        ...(servers
          ? [
              {
                test: {
                  name: 'server-pg',
                  ...server,
                  // Tests of the SQLite engine's own machinery (its group commit's fsyncs, its WAL,
                  // its query plans, its file) say so with `sqliteIt` and are skipped here; files that
                  // never reach the store (or start their own SQLite collector process) run once, above.
                  exclude: [
                    'test/server/crypto.test.ts',
                    'test/server/ingest-check.test.ts',
                    'test/server/setup-errors.test.ts',
                    'test/server/durability.test.ts',
                    'test/server/sql.test.ts',
                  ],
                  env: { SPOOR_TEST_ENGINE: 'postgres' },
                  // Every database a test file created is dropped after it, closed or not.
                  setupFiles: ['test/support/postgres-setup.ts'],
                },
              },
            ]
          : []),
      ],
    },
  };
});
