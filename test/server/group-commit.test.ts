// The /track write path: group commit (server/store/writer.ts), the stored body, and checkpoints off the
// request path (server/store/checkpointer.ts). Groups are committed when the test says so (the writer's
// `schedule` option), so nothing here depends on timing; transactions are counted in the WAL itself.
import { readFileSync, statSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, expect, it, vi } from 'vitest';
import type { StoreOptions } from '../../server/store/sqlite.js';
import { tokenHash } from '../../server/store/store.js';
import { type Collector, custom, sqliteDescribe, startCollector, V1, visit } from './harness.js';
import { readAllEvents } from './read-events.js';

const TRACK = `${V1}/track`;
let c: Collector | undefined;

/** The WAL's fdatasync, held while `hold` is set: a group that has committed but is not durable yet. */
const fsyncs = vi.hoisted(() => ({ hold: false, held: [] as (() => void)[] }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return {
    ...fs,
    fdatasync: (fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => {
      if (fsyncs.hold) fsyncs.held.push(() => fs.fdatasync(fd, callback));
      else fs.fdatasync(fd, callback);
    },
  };
});

/** Lets every held fsync run, and those asked for from now on. */
function releaseFsyncs(): void {
  fsyncs.hold = false;
  for (const sync of fsyncs.held.splice(0)) sync();
}

afterEach(async () => {
  releaseFsyncs();
  await c?.close();
  c = undefined;
});

// Event timestamps must fall within their session's lifetime (docs/contract.md, "Limits").
const T0 = Date.now();

/** Group commits wait for `release()`; checkpoints never run (the WAL keeps every transaction). */
async function heldCollector(store: StoreOptions = {}) {
  const held: (() => void)[] = [];
  const collector = await startCollector(
    {},
    {
      store: {
        checkpointIntervalMs: 3_600_000,
        writer: { schedule: (commit) => held.push(commit) },
        ...store,
      },
    },
  );
  c = collector;
  return {
    c: collector,
    release(): void {
      for (const commit of held.splice(0)) commit();
    },
    // Each body is checked in a worker thread first, which takes a while on a busy machine.
    waitForQueued: (n: number) =>
      vi.waitFor(() => expect(collector.sqlite.pendingWrites).toBe(n), { timeout: 10_000 }),
  };
}

/** Committed transactions in the WAL: frames of the current generation that end a transaction. */
function walCommits(collector: Collector): number {
  const wal = readFileSync(`${collector.config.dbFile}-wal`);
  if (wal.length < 32) return 0;
  const pageSize = wal.readUInt32BE(8);
  const salts = wal.subarray(16, 24);
  let commits = 0;
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) {
    if (!wal.subarray(at + 8, at + 16).equals(salts)) break;
    if (wal.readUInt32BE(at + 4) !== 0) commits++;
  }
  return commits;
}

const named = (sessionIdentifier: string, name: string, timestamp: number) => ({
  sessionIdentifier,
  timer: 1,
  events: [custom('event', { name, parameters: {} }, timestamp)],
});

/** A /track body holding one visit, as JSON text: the same bytes each time it is sent. */
const visitBody = (sessionIdentifier: string, timer: number) =>
  JSON.stringify({ sessionIdentifier, timer, events: [visit('https://shop.test/', T0)] });

sqliteDescribe('group commit', () => {
  it('commits concurrent /track requests in one transaction and answers none of them before it', async () => {
    const h = await heldCollector();
    const id = await h.c.session();
    const commitsBefore = walCommits(h.c);
    let answered = 0;
    const posts = Array.from({ length: 6 }, (_, i) =>
      h.c.post(TRACK, named(id, `e${i}`, T0 + i)).then((a) => {
        answered++;
        return a;
      }),
    );
    await h.waitForQueued(6);
    expect(answered).toBe(0);
    expect((await h.c.store.counts()).batches).toBe(0);

    h.release();
    const answers = await Promise.all(posts);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(walCommits(h.c) - commitsBefore).toBe(1);
    expect(h.c.sqlite.commitGroups).toBe(1);
    expect(await h.c.store.counts()).toMatchObject({ batches: 6, named_events: 6 });
  });

  it('rolls back only the request that fails in a group: its neighbours are stored and answered 200', async () => {
    const h = await heldCollector();
    const kept = await h.c.session();
    const doomed = await h.c.session();
    const posts = [
      h.c.post(TRACK, named(kept, 'before', T0)),
      h.c.post(TRACK, named(doomed, 'doomed', T0 + 1)),
      h.c.post(TRACK, named(kept, 'after', T0 + 2)),
    ];
    await h.waitForQueued(3);
    // The second request passed its checks; its session disappears before the group commits, so its
    // insert breaks a foreign key inside the group.
    h.c.sqlite.db.prepare('DELETE FROM sessions WHERE id = 2').run();
    const commitsBefore = walCommits(h.c);

    h.release();
    const answers = await Promise.all(posts);
    expect(answers.map((a) => a.status)).toEqual([200, 500, 200]);
    expect(String(h.c.errors[0])).toContain('FOREIGN KEY');
    expect(walCommits(h.c) - commitsBefore).toBe(1);
    expect((await h.c.store.namedEvents(1)).map((e) => e.name)).toEqual(['before', 'after']);
    // Its body hash went with it, so a retry is stored rather than taken for a duplicate.
    expect(await h.c.store.counts()).toMatchObject({ batches: 2, named_events: 2 });
    expect(h.c.sqlite.db.prepare('SELECT COUNT(*) AS n FROM batch_hashes').get()).toEqual({ n: 2 });
  });

  it('undoes every statement of a failing write and none of the writes beside it', async () => {
    const h = await heldCollector();
    // A project row written synchronously, inside the group's transaction.
    const project = (key: string, token = `token-${key}`) =>
      h.c.sqlite.db
        .prepare(
          `INSERT INTO projects (public_key, api_token_hash, name, created_at) VALUES (?, ?, ?, '2026-01-01 00:00:00')
           RETURNING id`,
        )
        .get(key, tokenHash(token), key) as { id: number };
    const first = h.c.sqlite.write(() => project('first').id);
    const failing = h.c.sqlite.write(() => {
      project('partial');
      project('clash', h.c.config.apiToken); // the token's hash is UNIQUE
    });
    const last = h.c.sqlite.write(() => project('last').id);
    h.release();
    await expect(failing).rejects.toThrow(/UNIQUE/);
    expect(typeof (await first)).toBe('number');
    expect(typeof (await last)).toBe('number');
    expect(h.c.sqlite.commitGroups).toBe(1);
    expect(await h.c.store.projectByKey('partial')).toBeUndefined();
    expect(await h.c.store.projectByKey('first')).toBeDefined();
    expect(await h.c.store.projectByKey('last')).toBeDefined();
  });

  it('stores a body that arrives twice in one group once and answers 200 to both', async () => {
    const h = await heldCollector();
    const id = await h.c.session();
    const body = visitBody(id, 2);
    const posts = [h.c.post(TRACK, body), h.c.post(TRACK, gzipSync(body), { 'Content-Type': 'text/plain' })];
    await h.waitForQueued(2);
    h.release();
    expect((await Promise.all(posts)).map((a) => a.status)).toEqual([200, 200]);
    expect(await h.c.store.counts()).toMatchObject({ batches: 1, visits: 1 });
  });

  it('makes a group visible when it commits but answers it only after the WAL is fsynced', async () => {
    const h = await heldCollector();
    let answered = false;
    const write = h.c.sqlite
      .write(() =>
        h.c.sqlite.db
          .prepare(
            `INSERT INTO projects (public_key, api_token_hash, name, created_at) VALUES ('pk-x', 'h-x', 'x', '2026-01-01 00:00:00')`,
          )
          .run(),
      )
      .then(() => {
        answered = true;
      });
    h.release(); // COMMIT runs here, synchronously; the fsync goes to the thread pool
    expect(await h.c.store.projectByKey('pk-x')).toBeDefined();
    const durable = h.c.store.durable();
    await Promise.resolve();
    await Promise.resolve();
    expect(answered).toBe(false);
    await durable;
    await write;
    expect(answered).toBe(true);
  });
});

sqliteDescribe('a retried body', () => {
  it('is answered only once the group that stored its first copy is fsynced', async () => {
    const h = await heldCollector();
    const id = await h.c.session();
    const body = visitBody(id, 1);
    const answers: ServerResponse[] = [];
    h.c.server.on('request', (_req, res: ServerResponse) => answers.push(res));
    fsyncs.hold = true;
    const first = h.c.post(TRACK, body);
    await h.waitForQueued(1);
    h.release(); // COMMIT runs: the batch is visible to the next request; its fsync is held
    expect(fsyncs.held).toHaveLength(1);
    expect((await h.c.store.counts()).batches).toBe(1);

    // The snippet's retry after a timeout: the same bytes, while the first copy is not durable yet.
    const found = vi.spyOn(h.c.store, 'hasBatch');
    let retryAnswered = false;
    const retry = h.c.post(TRACK, body).finally(() => {
      retryAnswered = true;
    });
    await vi.waitFor(() => expect(found).toHaveResolvedWith(true), { timeout: 10_000 });
    // From the duplicate check on, an answer that did not wait would be written within this turn of the
    // loop: nothing else on that path waits for I/O.
    await new Promise((resolve) => setImmediate(resolve));
    expect(answers.map((res) => res.headersSent)).toEqual([false, false]);
    expect(retryAnswered).toBe(false);

    releaseFsyncs();
    expect([(await first).status, (await retry).status]).toEqual([200, 200]);
    expect(await h.c.store.counts()).toMatchObject({ batches: 1, visits: 1 });
  });
});

sqliteDescribe('stored batches', () => {
  it('keeps a gzip body as the bytes that arrived and compresses a plain one, replaying both', async () => {
    c = await startCollector();
    const id = await c.session();
    const gz = gzipSync(
      JSON.stringify({ sessionIdentifier: id, timer: 1, events: [visit('https://shop.test/', T0)] }),
    );
    const plain = JSON.stringify({
      sessionIdentifier: id,
      timer: 2,
      events: [custom('event', { name: 'n' }, T0 + 1000)],
    });
    expect((await c.post(TRACK, gz, { 'Content-Type': 'text/plain' })).status).toBe(200);
    expect((await c.post(TRACK, plain)).status).toBe(200);
    const blobs = c.sqlite.db.prepare('SELECT events FROM batches ORDER BY id').all() as { events: Buffer }[];
    expect(blobs[0]?.events.equals(gz)).toBe(true);
    expect(gunzipSync(blobs[1]?.events as Buffer).toString()).toBe(plain);
    expect((await readAllEvents(c, 1)).tabs).toEqual([
      { tab: 1, events: [visit('https://shop.test/', T0), custom('event', { name: 'n' }, T0 + 1000)] },
    ]);
  });

  it('replays batches stored before migration 2, whose blob is the events array alone', async () => {
    c = await startCollector();
    await c.session();
    const events = [visit('https://shop.test/old', 500), { type: 3, data: { source: 1 }, timestamp: 600 }];
    c.sqlite.db
      .prepare(
        `INSERT INTO batches (session_id, tab, first_ts, last_ts, event_count, events, interaction_count,
           input_times, created_at) VALUES (1, 1, 500, 600, 2, ?, 1, '[]', '2026-01-01 00:00:00')`,
      )
      .run(gzipSync(JSON.stringify(events)));
    expect((await readAllEvents(c, 1)).tabs).toEqual([{ tab: 1, events }]);
  });
});

sqliteDescribe('checkpoints', () => {
  it('folds the WAL into the database file on a timer, with no request doing it', async () => {
    c = await startCollector({}, { store: { checkpointIntervalMs: 50 } });
    const id = await c.session();
    const size = statSync(c.config.dbFile).size;
    for (let i = 0; i < 5; i++) {
      const events = [custom('event', { name: `e${i}`, parameters: { pad: 'x'.repeat(3000) } }, T0 + i)];
      expect((await c.post(TRACK, { sessionIdentifier: id, timer: i, events })).status).toBe(200);
    }
    const dbFile = c.config.dbFile;
    await vi.waitFor(() => expect(statSync(dbFile).size).toBeGreaterThan(size), { timeout: 5000 });
  });
});
