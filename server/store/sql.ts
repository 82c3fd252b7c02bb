// The one place where a store's SQL meets an engine. Every query and every write is written once, as a
// "program": a generator that yields statements and receives their results. The SQLite engine runs a
// program synchronously (better-sqlite3, inside the writer's group commit), the PostgreSQL engine runs
// the same program asynchronously on one pooled connection. SQL text is shared; where the dialects
// disagree a program asks the engine's Dialect for the fragment, and `?` placeholders become `$n` for
// PostgreSQL here, once per distinct text (ARCHITECTURE.md, "Store engines").

/**
 * One statement: `get` answers the first row, `all` every row, `run` the number of rows changed,
 * `insert` the id of the row it inserted (SQLite's last rowid; PostgreSQL's `RETURNING id`).
 */
export type Op =
  | { kind: 'get'; sql: string; params: readonly unknown[] }
  | { kind: 'all'; sql: string; params: readonly unknown[] }
  | { kind: 'run'; sql: string; params: readonly unknown[] }
  | { kind: 'insert'; sql: string; params: readonly unknown[] };

/** A piece of store work; run it with an engine, compose programs with `yield*`. */
export type Program<T> = Generator<Op, T, unknown>;

/** The first row of a query, or undefined. */
export function* get<T>(sql: string, ...params: unknown[]): Program<T | undefined> {
  return (yield { kind: 'get', sql, params }) as T | undefined;
}

/** Every row of a query. */
export function* all<T>(sql: string, ...params: unknown[]): Program<T[]> {
  return (yield { kind: 'all', sql, params }) as T[];
}

/** Runs a statement; answers the number of rows it changed. */
export function* run(sql: string, ...params: unknown[]): Program<number> {
  return (yield { kind: 'run', sql, params }) as number;
}

/** Inserts one row into a table with an `id` key; answers its id. */
export function* insert(sql: string, ...params: unknown[]): Program<number> {
  return (yield { kind: 'insert', sql, params }) as number;
}

/** SQL fragments that differ between the engines; everything else is written once. */
export interface Dialect {
  readonly name: 'sqlite' | 'postgres';
  /** The larger of two values (SQLite's two-argument MAX, PostgreSQL's GREATEST). */
  greatest(a: string, b: string): string;
  /** `column` equal to one of `n` placeholders, ignoring ASCII case. */
  inNoCase(column: string, n: number): string;
  /** `column` contains the placeholder's LIKE pattern (escaped with `\`), ignoring case. */
  likeNoCase(column: string): string;
  /** Bytes of a blob column. */
  byteLength(column: string): string;
  /** An expression compared byte by byte (SQLite's BINARY, PostgreSQL's "C"), whatever its column's
   *  collation: ORDER BY ties break alike on both engines. */
  bytewise(expr: string): string;
  /** The 1-based position of `needle` in `text`, 0 when absent (two SQL expressions). */
  position(text: string, needle: string): string;
  /**
   * What follows `ASC`/`DESC` in an ORDER BY so that NULLs sort where SQLite puts them (first when
   * ascending): PostgreSQL puts them last by default, and the read endpoints must answer alike.
   */
  nulls(dir: 'ASC' | 'DESC'): string;
  /** Locks the rows a SELECT reads for this transaction, skipping rows another holds (a lease). */
  readonly skipLocked: string;
}

export const sqliteDialect: Dialect = {
  name: 'sqlite',
  greatest: (a, b) => `MAX(${a}, ${b})`,
  inNoCase: (column, n) => `${column} COLLATE NOCASE IN (${placeholders(n)})`,
  likeNoCase: (column) => `${column} LIKE ? ESCAPE '\\'`,
  byteLength: (column) => `length(${column})`,
  position: (text, needle) => `instr(${text}, ${needle})`,
  bytewise: (expr) => expr,
  nulls: () => '',
  // One process holds the database: there is no one to skip.
  skipLocked: '',
};

export const postgresDialect: Dialect = {
  name: 'postgres',
  greatest: (a, b) => `GREATEST(${a}, ${b})`,
  // lower() on both sides: SQLite's NOCASE folds ASCII only; the values compared (browser, device,
  // OS and country names) are ASCII.
  inNoCase: (column, n) => `lower(${column}) IN (${Array.from({ length: n }, () => 'lower(?)').join(', ')})`,
  likeNoCase: (column) => `${column} ILIKE ? ESCAPE '\\'`,
  byteLength: (column) => `octet_length(${column})`,
  position: (text, needle) => `strpos(${text}, ${needle})`,
  bytewise: (expr) => `${expr} COLLATE "C"`,
  nulls: (dir) => (dir === 'ASC' ? ' NULLS FIRST' : ' NULLS LAST'),
  skipLocked: ' FOR UPDATE SKIP LOCKED',
};

/** `?, ?, ?` for n values. */
export function placeholders(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}

/**
 * `?` placeholders as PostgreSQL's `$1, $2, …`. A `?` inside a quoted literal stays as it is; the
 * store's SQL has none, but a LIKE pattern or a JSON path one day might.
 */
export function numbered(sql: string): string {
  let n = 0;
  let quote: string | null = null;
  let out = '';
  for (const c of sql) {
    if (quote) {
      if (c === quote) quote = null;
      out += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      out += c;
    } else if (c === '?') {
      n += 1;
      out += `$${n}`;
    } else out += c;
  }
  return out;
}

/** Drives a program with a synchronous executor (SQLite); an error is thrown into the program. */
export function runSync<T>(program: Program<T>, exec: (op: Op) => unknown): T {
  let step = program.next();
  while (!step.done) {
    let result: unknown;
    try {
      result = exec(step.value);
    } catch (error) {
      step = program.throw(error);
      continue;
    }
    step = program.next(result);
  }
  return step.value;
}

/** Drives a program with an asynchronous executor (PostgreSQL); an error is thrown into the program. */
export async function runAsync<T>(program: Program<T>, exec: (op: Op) => Promise<unknown>): Promise<T> {
  let step = program.next();
  while (!step.done) {
    let result: unknown;
    try {
      result = await exec(step.value);
    } catch (error) {
      step = program.throw(error);
      continue;
    }
    step = program.next(result);
  }
  return step.value;
}

/**
 * How a store runs programs. Both engines promise the same: a program given to `transact` or `group`
 * is all or nothing, and committed durably when the promise resolves.
 */
export interface Engine {
  readonly dialect: Dialect;
  /** Read-only work; each statement sees what is committed. */
  read<T>(program: () => Program<T>): Promise<T>;
  /** Work in a transaction of its own. */
  transact<T>(program: () => Program<T>): Promise<T>;
  /**
   * Work in the next group commit (many requests, one transaction, each in a savepoint of its own):
   * the /track path. The factory may be called again when the group is retried. `key` (the session)
   * orders the group's writes, so that concurrent groups lock rows in the same order.
   */
  group<T>(program: () => Program<T>, key?: number): Promise<T>;
  /** Resolves once everything committed so far is durable. */
  durable(): Promise<void>;
  /**
   * Applies a component's migrations not applied yet, in order, each in a transaction with its record;
   * on PostgreSQL under an advisory lock, so that instances starting together migrate once.
   */
  migrate(component: string, migrations: readonly string[]): Promise<void>;
  /** Whether the database answers a query now. */
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}
