// The PostgreSQL engine (node-postgres): any number of collector instances on one database. Programs
// (server/store/sql.ts) run on one pooled connection each; /track's writes are grouped, many requests
// to one transaction, each in a savepoint of its own, as the SQLite writer does, and a group resolves
// once COMMIT has returned (synchronous_commit is on for the engine's connections): what was answered
// 200 is durable. Migrations (migrations/postgres.ts and each component's own) run under an advisory
// lock so that instances starting together migrate once.
import pg from 'pg';
import { MIGRATIONS } from './migrations/postgres.js';
import { createStore } from './queries.js';
import { type Engine, numbered, type Op, type Program, postgresDialect, runAsync } from './sql.js';
import { type Store, sqlDate } from './store.js';

export interface PostgresOptions {
  /** Connections in the pool. @default 10 */
  poolSize?: number;
  /** Most writes per group transaction. @default 64 */
  maxGroup?: number;
  /** Group transactions in flight at once (each on its own connection). @default 2 */
  groupsInFlight?: number;
  /** Where background failures (partition upkeep) are reported. */
  logError?: (message: string, error: unknown) => void;
  /** The clock partitions are made by. */
  now?: () => number;
}

/** int8 and numeric as JS numbers: ids, counts and ms fit well within 2^53. */
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === 20 || oid === 1700) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  }) as typeof pg.types.getTypeParser,
};

/** An advisory lock key of the store's own: migrations and partition upkeep. */
const LOCK_KEY = 0x5_3_0_0_0_4;

/** Errors after which a whole transaction is worth retrying: deadlock, serialization failure. */
function retryable(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === '40P01' || code === '40001';
}

interface Job {
  program: () => Program<unknown>;
  key: number;
  tries: number;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** `batches_yYYYYmMM` and its bounds, for the month holding `ms`. */
function monthPartition(ms: number): { name: string; from: string; to: string; endMs: number } {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const start = Date.UTC(y, m, 1);
  const end = Date.UTC(y, m + 1, 1);
  return {
    name: `batches_y${y}m${String(m + 1).padStart(2, '0')}`,
    from: sqlDate(start),
    to: sqlDate(end),
    endMs: end,
  };
}

export interface PostgresStore extends Store {
  readonly pool: pg.Pool;
  /** Creates the monthly partitions around `ms` (this month, the one before, the next two). */
  ensurePartitions(ms: number): Promise<void>;
}

export async function openPostgresStore(url: string, options: PostgresOptions = {}): Promise<PostgresStore> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    types: TYPES,
    // A commit is on disk before COMMIT returns, whatever the server's default says.
    options: '-c synchronous_commit=on',
    application_name: 'spoor-collector',
  });
  const logError = options.logError ?? ((message, error) => console.error(message, error));
  // An idle connection that fails (the server restarted) is dropped from the pool; without a
  // listener the error would end the process.
  pool.on('error', (error) => logError('PostgreSQL connection lost', error));

  // Statement text, numbered once per distinct text; a name makes pg prepare it once per connection.
  const texts = new Map<string, { text: string; name: string }>();
  const statement = (sql: string) => {
    let s = texts.get(sql);
    if (!s) {
      s = { text: numbered(sql), name: `spoor_${texts.size + 1}` };
      texts.set(sql, s);
    }
    return s;
  };
  const exec = async (client: pg.Pool | pg.PoolClient, op: Op): Promise<unknown> => {
    const s = statement(op.kind === 'insert' ? `${op.sql} RETURNING id` : op.sql);
    const result = await client.query({ text: s.text, name: s.name, values: op.params as unknown[] });
    if (op.kind === 'insert') return (result.rows[0] as { id: number }).id;
    if (op.kind === 'get') return result.rows[0];
    if (op.kind === 'all') return result.rows;
    return result.rowCount ?? 0;
  };

  /** Runs a program in a transaction on a connection of its own; retried on deadlock. */
  const transact = async <T>(program: () => Program<T>, tries = 3): Promise<T> => {
    const client = await pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const value = await runAsync(program(), (op) => exec(client, op));
      await client.query('COMMIT');
      return value;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
      if (retryable(error) && tries > 1) {
        client.release(broken);
        broken = true;
        return transact(program, tries - 1);
      }
      throw error;
    } finally {
      if (!broken) client.release();
    }
  };

  // ---- group commit
  const maxGroup = options.maxGroup ?? 64;
  const groupsInFlight = options.groupsInFlight ?? 2;
  const queue: Job[] = [];
  let running = 0;
  let scheduled = false;
  let closing: Promise<void> | null = null;

  const commitGroup = async (jobs: Job[], careful = false): Promise<void> => {
    // Rows are locked in session order in every group, on every instance: two groups cannot each
    // hold a session the other waits for.
    jobs.sort((a, b) => a.key - b.key);
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      for (const job of jobs) job.reject(error);
      return;
    }
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    let broken = false;
    try {
      await client.query('BEGIN');
      for (const job of jobs) {
        // A write almost never fails: the group first runs without a savepoint per write (two round
        // trips fewer each); if one does fail, the group is undone and run again carefully, each write
        // in a savepoint of its own, so that only the failing one is refused.
        if (!careful) {
          outcomes.push({ ok: true, value: await runAsync(job.program(), (op) => exec(client, op)) });
          continue;
        }
        await client.query('SAVEPOINT job');
        try {
          const value = await runAsync(job.program(), (op) => exec(client, op));
          await client.query('RELEASE SAVEPOINT job');
          outcomes.push({ ok: true, value });
        } catch (error) {
          if (retryable(error)) throw error;
          // This write's rows are undone; its neighbours' stay.
          await client.query('ROLLBACK TO SAVEPOINT job');
          outcomes.push({ ok: false, error });
        }
      }
      await client.query('COMMIT');
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
      client.release(broken);
      if (!careful && !retryable(error) && !broken) {
        // A write failed (or COMMIT did): nothing of the group is kept; find out which, write by write.
        return commitGroup(jobs, true);
      }
      // A deadlock or a serialization failure undid the whole group: its writes go again, in a new one.
      const again = jobs.filter((job) => retryable(error) && ++job.tries < 4);
      for (const job of jobs) if (!again.includes(job)) job.reject(error);
      queue.unshift(...again);
      return;
    }
    client.release();
    jobs.forEach((job, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok) job.resolve(outcome.value);
      else job.reject(outcome?.error);
    });
  };

  const next = (): void => {
    if (scheduled || queue.length === 0 || running >= groupsInFlight) return;
    scheduled = true;
    // Every request whose body was read in this turn of the loop joins the group.
    setImmediate(() => {
      scheduled = false;
      const jobs = queue.splice(0, maxGroup);
      if (jobs.length === 0) return;
      running++;
      void commitGroup(jobs).finally(() => {
        running--;
        next();
      });
      next();
    });
  };

  const engine: Engine = {
    dialect: postgresDialect,
    read: (program) => runAsync(program(), (op) => exec(pool, op)),
    transact: (program) => transact(program),
    group: <T>(program: () => Program<T>, key = 0): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        queue.push({
          program: program as () => Program<unknown>,
          key,
          tries: 0,
          resolve: resolve as (value: unknown) => void,
          reject,
        });
        next();
      }),
    // COMMIT has returned, with synchronous_commit on: whatever a program wrote is durable.
    durable: () => Promise.resolve(),
    async migrate(component, migrations) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        // Every instance starting takes the same lock: the first migrates, the others then find
        // nothing left to do.
        await client.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
        await client.query(
          `CREATE TABLE IF NOT EXISTS spoor_migrations (
             component TEXT NOT NULL, version INTEGER NOT NULL, applied_ms BIGINT NOT NULL,
             PRIMARY KEY (component, version))`,
        );
        const { rows } = await client.query<{ v: number }>(
          'SELECT COALESCE(MAX(version), 0) AS v FROM spoor_migrations WHERE component = $1',
          [component],
        );
        for (let v = rows[0]?.v ?? 0; v < migrations.length; v++) {
          await client.query(migrations[v] as string);
          await client.query(
            'INSERT INTO spoor_migrations (component, version, applied_ms) VALUES ($1, $2, $3)',
            [component, v + 1, Date.now()],
          );
        }
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    async healthy() {
      try {
        const { rows } = await pool.query<{ ok: number }>('SELECT 1 AS ok');
        return rows[0]?.ok === 1;
      } catch {
        return false;
      }
    },
    close() {
      closing ??= (async () => {
        // Writes queued or in flight commit (or fail) before the connections go.
        while (queue.length > 0 || running > 0) {
          next();
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        await pool.end();
      })();
      return closing;
    },
  };

  const ensurePartitions = async (ms: number): Promise<void> => {
    const months = [-1, 0, 1, 2].map((k) => {
      const d = new Date(ms);
      return monthPartition(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + k, 1));
    });
    for (const p of months) {
      try {
        await transact(function* () {
          yield { kind: 'get', sql: `SELECT pg_advisory_xact_lock(${LOCK_KEY})`, params: [] } as Op;
          yield {
            kind: 'run',
            sql: `CREATE TABLE IF NOT EXISTS ${p.name} PARTITION OF batches FOR VALUES FROM ('${p.from}') TO ('${p.to}')`,
            params: [],
          } as Op;
        });
      } catch (error) {
        // Rows of that month in the default partition (a clock far off) keep the month there; the
        // retention sweep still erases them row by row.
        logError(`cannot create the partition ${p.name}`, error);
      }
    }
  };

  await engine.migrate('store', MIGRATIONS);
  await ensurePartitions((options.now ?? Date.now)());

  const store = createStore(engine, {
    upkeep: ensurePartitions,
    /** Drops each monthly partition of batches that ends before `beforeMs`, with its rows' hashes. */
    async dropExpired(beforeMs) {
      const rows = await engine.read(function* () {
        return (yield {
          kind: 'all',
          sql: `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = 'batches'::regclass AND c.relname ~ '^batches_y[0-9]{4}m[0-9]{2}$'`,
          params: [],
        }) as { name: string }[];
      });
      let dropped = 0;
      for (const { name } of rows) {
        const y = Number(name.slice(9, 13));
        const m = Number(name.slice(14, 16));
        if (Date.UTC(y, m, 1) > beforeMs) continue;
        await transact(function* () {
          yield {
            kind: 'run',
            sql: `DELETE FROM batch_hashes WHERE batch_id IN (SELECT id FROM ${name})`,
            params: [],
          } as Op;
          yield { kind: 'run', sql: `DROP TABLE ${name}`, params: [] } as Op;
        });
        dropped++;
      }
      return dropped;
    },
  });
  return Object.assign(store, { pool, ensurePartitions });
}
