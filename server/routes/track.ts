// POST /api/services/analytics/v1/track: one batch of a tab's events, durably stored before the 200
// (docs/contract.md, "Store session recording data"). The body is checked and summarised in a worker
// thread (server/ingest/); the event loop only looks the summary up and writes it.
import type { TrackAnswer } from '../../src/wire.js';
import { httpError, validationError } from '../http/errors.js';
import { assertOriginAllowed, type Deps, invalidIdentifier, type Route, sessionOfClaims } from './context.js';

/** The one success answer: stored and durable. */
const STORED: TrackAnswer = { status: true };

export function trackRoute(deps: Deps): Route {
  return async (ctx) => {
    const bytes = await ctx.body();
    const result = await deps.ingest.run({
      bytes,
      key: deps.config.key,
      nowMs: ctx.nowMs,
      limits: deps.config.limits,
    });
    if (!result.ok) {
      if (result.status === 413) throw httpError(413, result.message);
      throw validationError(result.errors);
    }
    const summary = result.summary;
    // Before the duplicate shortcut: a retried body from an origin not allowed must not get its 200.
    await assertOriginAllowed(deps, ctx, summary.claims.p);
    // The decompressed bytes' hash: a retry is recognised however it was compressed.
    const hash = Buffer.from(summary.hash);

    // A retry of a stored body is a success even if the session has expired since. Only committed
    // groups are visible here (a group's transaction never stays open across turns of the loop), but
    // the last one may still be waiting for its fsync: this answer makes the same promise as the first.
    if (await deps.store.hasBatch(hash)) {
      await deps.store.durable();
      return { body: STORED };
    }
    const live = await sessionOfClaims(deps, summary.claims, ctx.nowMs);
    if (!live) throw invalidIdentifier();

    // Usually the bytes as they came: the snippet compresses, and storing its gzip costs no CPU.
    const body = await ctx.gzipBody();
    // One savepoint in the next group commit: the relay's rows commit with the batch or not at all,
    // and a body that came twice, to this instance or another, is stored once (its hash is a unique
    // key). The relay only writes here; it sends to Flameup after the commit, off the request path.
    const relay = deps.flameup;
    const stored = await deps.store.storeBatch(
      { hash, sessionId: live.session.id, tab: live.claims.w, summary, body, nowMs: ctx.nowMs },
      relay
        ? () =>
            relay.ingestProgram(
              live.session.project_id,
              live.session.id,
              summary.custom,
              hash.toString('hex'),
            )
        : undefined,
    );
    if (!stored.duplicate) relay?.notify();
    return { body: STORED };
  };
}
