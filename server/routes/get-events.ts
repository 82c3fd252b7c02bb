// POST .../sessions/get-events (ours): a session's rrweb events per tab, for replay, one page at a time;
// the first page marks the session read. A page holds whole stored batches in (tab, first_ts, id)
// order until about PAGE_BYTES of decompressed body (at least one batch), so an answer's size and the
// work behind it are bounded whatever the session holds. The batches are decompressed, parsed, merged
// and serialised in a worker thread (server/read/page.ts); this thread reads rows and splices the
// page's JSON text into the answer without parsing it (docs/contract.md, "Session events").
import type { EventsAnswer, EventsSessionRow, NamedEventRow } from '../../src/wire.js';
import { fieldError, validationError } from '../http/errors.js';
import { RawJson } from '../http/raw-json.js';
import { rules, validate } from '../http/validate.js';
import { decodeCursor, encodeCursor, MAX_CURSOR_LENGTH } from '../read/cursor.js';
import { type PagePool, sharedPagePool } from '../read/pool.js';
import type { BatchKey, EventBatch, SessionRecord } from '../store/store.js';
import { assertOwnSessions, type Deps, type Route } from './context.js';
import { sessionView } from './session-view.js';

/** Decompressed bytes of events after which a page takes no further batch. */
export const PAGE_BYTES = 1024 * 1024;
/** Batches one page may hold at most, however small: bounds the rows read for it. */
export const MAX_BATCHES_PER_PAGE = 500;
/** Named events on a first page: at most this many... */
export const MAX_NAMED_EVENTS = 1000;
/** ...and no more once their names and parameters reach this many characters. */
export const MAX_NAMED_EVENTS_CHARS = 1024 * 1024;
/**
 * The most one stored blob may inflate to when read. Ingest refuses bodies past its decompressed limit,
 * but batches stored under an older, larger limit stay readable up to this.
 */
const MAX_STORED_BATCH_BYTES = 256 * 1024 * 1024;

const schema = {
  session_id: { required: true, rules: [rules.integer()] },
  tab: { nullable: true, rules: [rules.integer(), rules.min(1)] },
  cursor: { nullable: true, rules: [rules.string(), rules.maxLength(MAX_CURSOR_LENGTH)] },
};

export interface EventsRouteOptions {
  /** The worker pool that builds pages; the process's shared one when not given. */
  pool?: PagePool;
}

export function eventsRoute(deps: Deps, options: EventsRouteOptions = {}): Route {
  const pool = options.pool ?? sharedPagePool();
  return async (ctx) => {
    const input = await ctx.json();
    const errors = validate(input, schema);
    if (Object.keys(errors).length > 0) throw validationError(errors);
    const id = Number(input.session_id);
    const tab = input.tab === undefined || input.tab === null || input.tab === '' ? null : Number(input.tab);
    const cursorText = typeof input.cursor === 'string' && input.cursor !== '' ? input.cursor : null;
    const after = cursorText === null ? null : decodeCursor(cursorText, id);
    if (cursorText !== null && after === null) throw fieldError('cursor', 'The selected cursor is invalid.');
    await assertOwnSessions(deps, ctx.project as NonNullable<typeof ctx.project>, 'session_id', [id], true);

    const first = after === null;
    if (first) await deps.store.markRead(id);
    const session = (await deps.store.sessionById(id)) as SessionRecord;
    const q = { sessionIds: [id], start: null, end: null, only: null };
    const row = {
      ...session,
      visits_count: await deps.store.countVisits(q),
      conversions_count: await deps.store.countConversions(q),
    };
    const named: NamedEventRow[] = first
      ? await deps.store.namedEvents(id, { tab, limit: MAX_NAMED_EVENTS, maxChars: MAX_NAMED_EVENTS_CHARS })
      : [];

    const batches = await deps.store.eventBatches(id, tab, after, MAX_BATCHES_PER_PAGE);
    // A blob inflates to at least its own size (less gzip's few bytes of framing), so batches past the
    // budget counted in compressed bytes would not join the page either: their blobs are not read.
    const candidates: EventBatch[] = [];
    let compressed = 0;
    for (const batch of batches) {
      if (candidates.length > 0 && compressed >= PAGE_BYTES) break;
      candidates.push(batch);
      compressed += batch.bytes;
    }
    let tabsJson: Buffer = Buffer.from('[]');
    let last: BatchKey | null = null;
    let more = false;
    if (candidates.length > 0) {
      const page = await pool.run({
        // Batches are never deleted; were one gone, it would read as a batch without events.
        batches: await Promise.all(
          candidates.map(async (b) => ({
            tab: b.tab,
            blob: (await deps.store.batchBlob(b.id)) ?? Buffer.alloc(0),
          })),
        ),
        budgetBytes: PAGE_BYTES,
        maxBatchBytes: MAX_STORED_BATCH_BYTES,
      });
      tabsJson = Buffer.from(page.json.buffer, page.json.byteOffset, page.json.byteLength);
      last = candidates[page.consumed - 1] as BatchKey;
      more =
        page.consumed < batches.length ||
        (batches.length === MAX_BATCHES_PER_PAGE &&
          (await deps.store.eventBatches(id, tab, last, 1)).length > 0);
    }
    const nextCursor: EventsAnswer['data']['next_cursor'] =
      more && last ? encodeCursor(id, { tab: last.tab, firstTs: last.firstTs, id: last.id }) : null;

    // The first page carries the irregular-traffic verdict, which the dashboard's detail shows; later
    // pages skip it (it reads every batch's interaction summary).
    const view: EventsSessionRow = await sessionView(deps.store, row, {
      includeIp: false,
      checkIrregular: first,
    });
    // An EventsAnswer, written as text around the page's tabs, which are JSON text already: the keys
    // below are the contract's, in its order.
    const head = `{"error":false,"data":{"session":${JSON.stringify(view)},"named_events":${JSON.stringify(named)},"tabs":`;
    const tail = `,"next_cursor":${JSON.stringify(nextCursor)}}}`;
    return { body: new RawJson(Buffer.concat([Buffer.from(head), tabsJson, Buffer.from(tail)])) };
  };
}
