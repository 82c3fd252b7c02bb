// POST .../sessions/get-visits and .../sessions/get-conversions: rows extracted at ingest, so these
// never decompress a batch. `key: count` answers the number of rows instead of the rows
// (docs/contract.md, "Session visits" and "Session conversions").
import type { ConversionRow, CountAnswer, ListAnswer, VisitRow, VitalRow } from '../../src/wire.js';
import { validationError } from '../http/errors.js';
import { type Check, normalizeDate, rules, type Schema, validate } from '../http/validate.js';
import type { RelatedQuery } from '../store/store.js';
import { assertOwnSessions, type Deps, type Route } from './context.js';
import { roundSeconds } from './session-view.js';

const common: Schema = {
  key: { nullable: true, rules: [rules.oneOf(['list', 'count'])] },
  start_date: { nullable: true, rules: [rules.date()] },
  end_date: { nullable: true, rules: [rules.date(), rules.afterOrEqual('start_date')] },
  session_ids: { required: true, rules: [rules.array()], each: [rules.integer()] },
};

const maxItems =
  (n: number): Check =>
  (v, a) =>
    Array.isArray(v) && v.length > n ? `The ${a} field must not have more than ${n} items.` : null;

async function query(
  deps: Deps,
  ctx: Parameters<Route>[0],
  input: Record<string, unknown>,
  only: (number | string)[] | null,
): Promise<RelatedQuery> {
  const sessionIds = [...new Set((input.session_ids as unknown[]).map(Number))];
  await assertOwnSessions(deps, ctx.project as NonNullable<typeof ctx.project>, 'session_ids', sessionIds);
  return {
    sessionIds,
    start: input.start_date ? normalizeDate(input.start_date) : null,
    end: input.end_date ? normalizeDate(input.end_date, true) : null,
    only,
  };
}

export function visitsRoute(deps: Deps): Route {
  const schema: Schema = {
    ...common,
    session_ids: { ...common.session_ids, rules: [rules.array(), maxItems(500)] },
    visit_ids: { nullable: true, rules: [rules.array(), maxItems(1000)], each: [rules.integer()] },
  };
  return async (ctx) => {
    const input = await ctx.json();
    const errors = validate(input, schema);
    if (Object.keys(errors).length > 0) throw validationError(errors);
    const q = await query(
      deps,
      ctx,
      input,
      Array.isArray(input.visit_ids) ? input.visit_ids.map(Number) : null,
    );
    if (input.key === 'count') {
      const body: CountAnswer = { error: false, data: await deps.store.countVisits(q) };
      return { body };
    }
    const visits = await deps.store.visits(q);
    const vitals = await deps.store.vitalsOfVisits(visits.map((v) => v.id));
    const byVisit = new Map<number, VitalRow[]>();
    for (const v of vitals) {
      const list = byVisit.get(v.visit_id as number) ?? [];
      list.push({
        name: v.name,
        value: v.value,
        rating: v.rating,
        delta: v.delta,
        id: v.metric_id,
        navigation_type: v.navigation_type,
        created_at: v.created_at,
      });
      byVisit.set(v.visit_id as number, list);
    }
    const data = visits.map(
      (v): VisitRow => ({ ...v, time_spend: roundSeconds(v.time_spend), vitals: byVisit.get(v.id) ?? [] }),
    );
    const body: ListAnswer<VisitRow> = { error: false, data };
    return { body };
  };
}

export function conversionsRoute(deps: Deps): Route {
  const schema: Schema = {
    ...common,
    session_ids: { ...common.session_ids, rules: [rules.array(), maxItems(500)] },
    conversion_types: { nullable: true, rules: [rules.array(), maxItems(20)], each: [rules.string()] },
  };
  return async (ctx) => {
    const input = await ctx.json();
    const errors = validate(input, schema);
    if (Object.keys(errors).length > 0) throw validationError(errors);
    const q = await query(
      deps,
      ctx,
      input,
      Array.isArray(input.conversion_types) ? (input.conversion_types as string[]) : null,
    );
    if (input.key === 'count') {
      const body: CountAnswer = { error: false, data: await deps.store.countConversions(q) };
      return { body };
    }
    const body: ListAnswer<ConversionRow> = { error: false, data: await deps.store.conversions(q) };
    return { body };
  };
}
