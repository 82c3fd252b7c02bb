// Runs the real collector app over real HTTP, with a clock the test moves, on a temporary SQLite file
// or, in the server-pg test project (SPOOR_TEST_ENGINE=postgres), on a PostgreSQL database created
// for it and dropped after (test/support/postgres.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { type AppOptions, createApp, ensureDemoProject } from '../../server/app.js';
import { type Config, loadConfig } from '../../server/config.js';
import { createCollectorServer } from '../../server/http/server.js';
import type { FlameupRelay } from '../../server/relay/relay.js';
import { openStore, type SqliteStore, type StoreOptions } from '../../server/store/sqlite.js';
import type { Project, Store } from '../../server/store/store.js';
import { freshDatabase, testEngine } from '../support/postgres.js';

export const V1 = '/api/services/analytics/v1';

/** The engine this run of the server tests stores on (the server and server-pg projects). */
export const ENGINE = testEngine();
/**
 * A test of the SQLite engine's own machinery (its group commit's fsync, WAL, query plans, file
 * modes, data written by older versions), skipped where the tests run on PostgreSQL.
 */
export const sqliteIt = it.skipIf(ENGINE !== 'sqlite');
/** A whole block of such tests. */
export const sqliteDescribe = describe.skipIf(ENGINE !== 'sqlite');

export interface Collector {
  url: string;
  /** The HTTP server, for tests that watch answers being written. */
  server: Server;
  config: Config;
  store: Store;
  /** The store as the SQLite engine, for tests of that engine alone (throws on PostgreSQL). */
  readonly sqlite: SqliteStore;
  project: Project;
  /** The test's clock (ms); move it with `clock.now = ...`. */
  clock: { now: number };
  errors: unknown[];
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Answer>;
  /** Reads with the demo project's token. */
  read(path: string, body: unknown, token?: string): Promise<Answer>;
  /** Mints a session through /session and returns its identifier. */
  session(extra?: Record<string, unknown>, headers?: Record<string, string>): Promise<string>;
  close(): Promise<void>;
}

export interface Answer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: assertions walk JSON answers of many shapes
  body: any;
}

export async function answerOf(res: Response): Promise<Answer> {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body };
}

export async function startCollector(
  env: Record<string, string> = {},
  opts: {
    rootDir?: string;
    startAt?: number;
    store?: StoreOptions;
    /** Rate limiters and Redis's health, as main.ts wires them with SPOOR_REDIS_URL. */
    app?: Pick<AppOptions, 'limiter' | 'redisHealthy' | 'draining'>;
    /** The engine, when a test compares both; else the run's (ENGINE). */
    engine?: 'sqlite' | 'postgres';
    /** A Flameup relay wired into /track, as main.ts wires one; stopped on close. */
    flameup?: (store: Store, project: Project) => FlameupRelay;
  } = {},
): Promise<Collector> {
  const dir = mkdtempSync(join(tmpdir(), 'spoor-test-'));
  const config = loadConfig({ SPOOR_DATA: dir, ...env }, opts.rootDir);
  const pg = (opts.engine ?? ENGINE) === 'postgres' ? await freshDatabase() : null;
  const store: Store = pg ? await pg.open() : openStore(config.dbFile, opts.store);
  const project = await ensureDemoProject(config, store);
  const clock = { now: opts.startAt ?? Date.now() };
  const errors: unknown[] = [];
  const flameup = opts.flameup?.(store, project);
  await flameup?.ready;
  // The server main.ts runs, with the same timeouts and connection cap (env overrides them per test).
  const server: Server = createCollectorServer(
    createApp({
      config,
      store,
      now: () => clock.now,
      logError: (_m, e) => errors.push(e),
      ...opts.app,
      ...(flameup ? { flameup } : {}),
    }),
    config.http,
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) =>
    answerOf(
      await fetch(url + path, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...headers },
        body:
          typeof body === 'string'
            ? body
            : body instanceof Uint8Array
              ? new Uint8Array(body)
              : JSON.stringify(body),
      }),
    );

  const c: Omit<Collector, 'sqlite'> = {
    url,
    server,
    config,
    store,
    project,
    clock,
    errors,
    post,
    read: (path, body, token = config.apiToken) => post(path, body, { Authorization: `Bearer ${token}` }),
    async session(extra = {}, headers = {}) {
      const a = await post(
        `${V1}/session`,
        { project: project.public_key, url: 'https://shop.test/', ...extra },
        headers,
      );
      if (a.status !== 200) throw new Error(`session: ${a.status} ${JSON.stringify(a.body)}`);
      return a.body.sessionIdentifier as string;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await flameup?.stop();
      await store.close();
      await pg?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  // Read on use only, and not enumerable: a spread of the collector ({ ...c }) does not touch it.
  Object.defineProperty(c, 'sqlite', {
    get(): SqliteStore {
      if (pg) throw new Error('this test reads the SQLite engine: it runs in the server project only');
      return store as SqliteStore;
    },
  });
  return c as Collector;
}

/** A custom event as the snippet sends it (docs/contract.md, "Events"). */
export function custom(tag: string, payload: unknown, timestamp: number) {
  return { type: 5, data: { tag, payload }, timestamp };
}

export function visit(url: string, timestamp: number, navigation = 'load') {
  return custom('visit', { url, referrer: '', title: 'Page', navigation }, timestamp);
}
