// POST /api/services/analytics/v1/track: one batch of a tab's events, durably stored before the 200.
import { createHash } from 'node:crypto';
import { httpError, validationError } from '../errors.js';
import { customEventsOf } from '../flameup.js';
import type { IncomingEvent } from '../store.js';
import { rules, toNumber, validate } from '../validate.js';
import { type Deps, invalidIdentifier, liveSession, type Route } from './context.js';

const schema = {
  sessionIdentifier: { required: true, rules: [rules.string(), rules.maxLength(4096)] },
  timer: { nullable: true, rules: [rules.numeric(), rules.min(0)] },
  events: { nullable: true, rules: [rules.array()] },
  userAgent: { nullable: true, rules: [rules.string(), rules.maxLength(1024)] },
};

/** Each event needs an integer type and an integer millisecond timestamp; data is kept as sent. */
function checkEvents(events: unknown[]): Record<string, string[]> {
  const errors: Record<string, string[]> = {};
  events.forEach((e, i) => {
    if (typeof e !== 'object' || e === null || Array.isArray(e)) {
      errors[`events.${i}`] = [`The events.${i} field must be an array.`];
      return;
    }
    const ev = e as Record<string, unknown>;
    for (const field of ['type', 'timestamp'] as const) {
      const name = `events.${i}.${field}`;
      if (ev[field] === undefined || ev[field] === null) errors[name] = [`The ${name} field is required.`];
      else if (typeof ev[field] !== 'number' || !Number.isSafeInteger(ev[field])) {
        errors[name] = [`The ${name} field must be an integer.`];
      }
    }
  });
  return errors;
}

export function trackRoute(deps: Deps): Route {
  return async (ctx) => {
    if (deps.faults.until > ctx.nowMs) {
      const retry = Math.ceil((deps.faults.until - ctx.nowMs) / 1000);
      throw httpError(
        deps.faults.status,
        'Injected fault (SPOOR_TEST_FAULTS).',
        deps.faults.status === 429 ? { 'Retry-After': retry } : {},
      );
    }
    const bytes = await ctx.body();
    // The decompressed bytes: a retry is recognised however it was compressed (interfaces.md).
    const hash = createHash('sha256').update(bytes).digest();
    const input = await ctx.json();
    const errors = validate(input, schema);
    if (Array.isArray(input.events)) Object.assign(errors, checkEvents(input.events));
    if (Object.keys(errors).length > 0) throw validationError(errors);

    // A retry of a stored body is a success even if the session has expired since. Only committed
    // groups are visible here (a group's transaction never stays open across turns of the loop), but
    // the last one may still be waiting for its fsync: this answer makes the same promise as the first.
    if (deps.store.hasBatch(hash)) {
      await deps.store.durable();
      return { body: { status: true } };
    }
    const live = liveSession(deps, input.sessionIdentifier as string, ctx.nowMs);
    if (!live) throw invalidIdentifier();

    const events = (input.events ?? []) as IncomingEvent[];
    // Usually the bytes as they came: the snippet compresses, and storing its gzip costs no CPU.
    const body = await ctx.gzipBody();
    // One savepoint in the next group commit: the relay's rows commit with the batch or not at all,
    // and a body that came twice in one group is stored once (its hash is claimed in the group). The
    // relay only writes here; it sends to Flameup after the commit, off the request path.
    await deps.store.write(() => {
      const stored = deps.store.insertBatch({
        hash,
        sessionId: live.session.id,
        tab: live.claims.w,
        timer: input.timer === undefined || input.timer === null ? null : toNumber(input.timer),
        events,
        body,
        userAgent: typeof input.userAgent === 'string' ? input.userAgent : null,
        nowMs: ctx.nowMs,
      });
      if (!stored.duplicate) {
        deps.flameup?.ingest(
          live.session.project_id,
          live.session.id,
          customEventsOf(events),
          hash.toString('hex'),
        );
      }
    });
    return { body: { status: true } };
  };
}
