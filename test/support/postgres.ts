// PostgreSQL for the tests: each collector a test starts gets a database of its own, created here and
// dropped when it closes, on the server at SPOOR_TEST_DATABASE_URL (default: the local postgres user).
import pg from 'pg';
import { openPostgresStore, type PostgresStore } from '../../server/store/postgres.js';

export const TEST_DATABASE_URL =
  process.env.SPOOR_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.SPOOR_TEST_REDIS_URL || 'redis://127.0.0.1:6379';

/** What the tests say when a server is missing: one line, how to get it. */
export const HOW_TO_GET =
  'PostgreSQL and Redis tests need servers: apt-get install postgresql redis-server (or set SPOOR_TEST_DATABASE_URL / SPOOR_TEST_REDIS_URL)';

/** The engine the server tests run on: the server-pg project sets SPOOR_TEST_ENGINE=postgres. */
export function testEngine(): 'sqlite' | 'postgres' {
  return process.env.SPOOR_TEST_ENGINE === 'postgres' ? 'postgres' : 'sqlite';
}

let counter = 0;
/** Databases this process created and has not dropped yet. */
const created = new Set<string>();

/** The URL of another database on the test server. */
export function databaseUrl(name: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export interface FreshDatabase {
  name: string;
  url: string;
  open(options?: Parameters<typeof openPostgresStore>[1]): Promise<PostgresStore>;
  drop(): Promise<void>;
}

/** Creates an empty database for one test's collector; `drop` removes it (ending its connections). */
export async function freshDatabase(): Promise<FreshDatabase> {
  counter += 1;
  const name = `spoor_test_${process.pid}_${Date.now().toString(36)}_${counter}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  created.add(name);
  const url = databaseUrl(name);
  return {
    name,
    url,
    // drop() ends the connections of a store a test left open: that is no failure worth a log line.
    open: (options) => openPostgresStore(url, { logError: () => undefined, ...options }),
    drop: async () => {
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      created.delete(name);
    },
  };
}

/**
 * Drops every database this process created and a test left behind (a collector it never closed):
 * the server-pg project runs it after each test file (test/support/postgres-setup.ts).
 */
export async function dropLeftovers(): Promise<void> {
  if (created.size === 0) return;
  const names = [...created];
  created.clear();
  await admin(async (c) => {
    for (const name of names) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
}

/** Whether the test PostgreSQL answers (for a one-line hint instead of a wall of errors). */
export async function postgresAnswers(): Promise<boolean> {
  try {
    await admin((c) => c.query('SELECT 1'));
    return true;
  } catch {
    return false;
  }
}
