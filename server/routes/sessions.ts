// POST /api/services/analytics/v1/project/sessions: the project's sessions, paginated.
import type { ListSessionsAnswer } from '../../src/wire.js';
import { MAX_FIELD_ERRORS, validationError } from '../http/errors.js';
import { normalizeDate, rules, toNumber, truthy, validate } from '../http/validate.js';
import { FILTER_KEYS, type FilterKey, type SessionFilters, SORT_KEYS, type SortKey } from '../store/store.js';
import type { Deps, Route } from './context.js';
import { paginate, requestedPage } from './paginate.js';
import { sessionView } from './session-view.js';

const schema = {
  start_date: { required: true, rules: [rules.date()] },
  end_date: { required: true, rules: [rules.date(), rules.afterOrEqual('start_date')] },
  sortKey: { required: true, rules: [rules.oneOf(SORT_KEYS)] },
  sortOrder: { required: true, rules: [rules.oneOf(['asc', 'desc'])] },
  read_status: { nullable: true, rules: [rules.oneOf(['read', 'unread'])] },
  per_page: { nullable: true, rules: [rules.integer(), rules.min(1), rules.max(100)] },
  check_irregular_traffic: { nullable: true, rules: [rules.booleanish()] },
  include_ip_addresses: { nullable: true, rules: [rules.booleanish()] },
  filters: { required: 'present' as const, rules: [rules.object()] },
};

function stringList(value: unknown): string[] | null {
  const list = Array.isArray(value) ? value : [value];
  if (list.length > 50 || !list.every((v) => typeof v === 'string' && v.length <= 256)) return null;
  return list as string[];
}

/** Checks the filters object against the whitelist; unknown keys are a 422, never SQL. */
function readFilters(raw: Record<string, unknown>): {
  filters: SessionFilters;
  errors: Record<string, string[]>;
} {
  const filters: SessionFilters = {};
  const errors: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (Object.keys(errors).length >= MAX_FIELD_ERRORS) break;
    const name = `filters.${key}`;
    if (!(FILTER_KEYS as readonly string[]).includes(key)) {
      errors[name] = [`The ${name} filter is not supported.`];
      continue;
    }
    if (value === null || value === '') continue;
    const k = key as FilterKey;
    if (k === 'browser' || k === 'device' || k === 'platform_os' || k === 'country') {
      const list = stringList(value);
      if (!list) errors[name] = [`The ${name} field must be a string or a list of strings.`];
      else if (k === 'device' && !list.every((d) => ['desktop', 'mobile', 'tablet'].includes(d))) {
        errors[name] = [`The selected ${name} is invalid.`];
      } else filters[k] = list;
    } else if (k === 'url') {
      const msg = rules.string()(value, name, raw) ?? rules.maxLength(2048)(value, name, raw);
      if (msg) errors[name] = [msg];
      else filters.url = value as string;
    } else if (k === 'min_time_spend') {
      const msg = rules.numeric()(value, name, raw) ?? rules.min(0)(value, name, raw);
      if (msg) errors[name] = [msg];
      else filters.min_time_spend = toNumber(value);
    } else {
      // has_conversions and the signal filters (has_rage_clicks, ...): truthy or falsy.
      const msg = rules.booleanish()(value, name, raw);
      if (msg) errors[name] = [msg];
      else filters[k] = truthy(value);
    }
  }
  return { filters, errors };
}

export function sessionsRoute(deps: Deps): Route {
  return async (ctx) => {
    const input = await ctx.json();
    // A PHP client's json_encode of an empty array is `[]`: the same "no filters" as `{}`.
    if (Array.isArray(input.filters) && input.filters.length === 0) input.filters = {};
    const errors = validate(input, schema);
    let filters: SessionFilters = {};
    if (!errors.filters && typeof input.filters === 'object' && input.filters !== null) {
      const read = readFilters(input.filters as Record<string, unknown>);
      filters = read.filters;
      Object.assign(errors, read.errors);
    }
    if (Object.keys(errors).length > 0) throw validationError(errors);

    const project = ctx.project as NonNullable<typeof ctx.project>;
    const perPage =
      input.per_page === undefined || input.per_page === null || input.per_page === ''
        ? 15
        : toNumber(input.per_page);
    const page = requestedPage(ctx.url);
    const { rows, total } = await deps.store.listSessions({
      projectId: project.id,
      start: normalizeDate(input.start_date) as string,
      end: normalizeDate(input.end_date, true) as string,
      sortKey: input.sortKey as SortKey,
      sortOrder: input.sortOrder as 'asc' | 'desc',
      readStatus: (input.read_status as 'read' | 'unread' | null | undefined) || null,
      filters,
      limit: perPage,
      offset: (page - 1) * perPage,
    });
    const opts = {
      includeIp: truthy(input.include_ip_addresses),
      checkIrregular: truthy(input.check_irregular_traffic),
    };
    const data = await Promise.all(rows.map((row) => sessionView(deps.store, row, opts)));
    const body: ListSessionsAnswer = {
      error: false,
      data: paginate(data, total, page, perPage, `${ctx.origin}${ctx.url.pathname}`),
      message: 'Sessions retrieved successfully.',
    };
    return { body };
  };
}
