// POST /api/services/analytics/v1/project/overview (ours): the dashboard's overview of the sessions
// created within a date range: sessions per day, top pages, entry pages, referrers, devices, browsers,
// conversion rate per goal, sessions with frustration (docs/contract.md, "Overview").
import type { OverviewAnswer } from '../../src/wire.js';
import { validationError } from '../http/errors.js';
import { normalizeDate, rules, toNumber, validate } from '../http/validate.js';
import type { Deps, Route } from './context.js';
import { roundSeconds } from './session-view.js';

/** The longest range one request may cover, in days: the work grows with the sessions in it. */
export const MAX_RANGE_DAYS = 366;
const DAY_MS = 86_400_000;

const schema = {
  start_date: { required: true, rules: [rules.date()] },
  end_date: { required: true, rules: [rules.date(), rules.afterOrEqual('start_date')] },
  limit: { nullable: true, rules: [rules.integer(), rules.min(1), rules.max(50)] },
};

function ms(date: string): number {
  return Date.parse(`${date.replace(' ', 'T')}Z`);
}

/** Every UTC day from start to end, both included: the chart shows the days without sessions too. */
function daysOf(start: string, end: string): string[] {
  const days: string[] = [];
  for (let t = ms(start.slice(0, 10)); t <= ms(end); t += DAY_MS) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}

/** A share of a whole, 0 to 1, to three decimals (0 of nothing is 0). */
function rate(part: number, whole: number): number {
  return whole > 0 ? Math.round((part / whole) * 1000) / 1000 : 0;
}

export function overviewRoute(deps: Deps): Route {
  return async (ctx) => {
    const input = await ctx.json();
    const errors = validate(input, schema);
    const start = normalizeDate(input.start_date);
    const end = normalizeDate(input.end_date, true);
    if (
      !errors.start_date &&
      !errors.end_date &&
      start &&
      end &&
      ms(end) - ms(start) >= MAX_RANGE_DAYS * DAY_MS
    ) {
      errors.end_date = [`The end_date field must be at most ${MAX_RANGE_DAYS} days after start_date.`];
    }
    if (Object.keys(errors).length > 0) throw validationError(errors);
    const project = ctx.project as NonNullable<typeof ctx.project>;
    const limit =
      input.limit === undefined || input.limit === null || input.limit === '' ? 10 : toNumber(input.limit);
    const rows = await deps.store.overview({
      projectId: project.id,
      start: start as string,
      end: end as string,
      limit,
    });
    const total = rows.totals.sessions;
    const byDay = new Map(rows.per_day.map((d) => [d.day, d]));
    const body: OverviewAnswer = {
      error: false,
      data: {
        start_date: start as string,
        end_date: end as string,
        totals: {
          sessions: total,
          visits: rows.totals.visits,
          avg_time_spend: roundSeconds(rows.totals.avg_time_spend),
          converted_sessions: rows.totals.converted_sessions,
          conversion_rate: rate(rows.totals.converted_sessions, total),
        },
        per_day: daysOf(start as string, end as string).map((day) => ({
          day,
          sessions: byDay.get(day)?.sessions ?? 0,
          frustrated: byDay.get(day)?.frustrated ?? 0,
        })),
        top_pages: rows.top_pages,
        entry_pages: rows.entry_pages,
        referrers: rows.referrers,
        devices: rows.devices,
        browsers: rows.browsers,
        goals: rows.goals.map((g) => ({ ...g, rate: rate(g.sessions, total) })),
        frustration: {
          sessions: rows.totals.frustrated,
          rate: rate(rows.totals.frustrated, total),
          rage_clicks: rows.totals.rage_clicks,
          dead_clicks: rows.totals.dead_clicks,
          errors: rows.totals.errors,
          failed_requests: rows.totals.failed_requests,
        },
      },
      message: 'Overview retrieved successfully.',
    };
    return { body };
  };
}
