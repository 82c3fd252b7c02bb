// POST .../sessions/get-events (ours): a session's rrweb events per tab, for replay; marks it read.
import { validationError } from '../errors.js';
import { rules, validate } from '../validate.js';
import { assertOwnSessions, type Deps, type Route } from './context.js';
import { sessionView } from './sessions.js';

const schema = { session_id: { required: true, rules: [rules.integer()] } };

export function eventsRoute(deps: Deps): Route {
  return async (ctx) => {
    const input = await ctx.json();
    const errors = validate(input, schema);
    if (Object.keys(errors).length > 0) throw validationError(errors);
    const id = Number(input.session_id);
    assertOwnSessions(deps, ctx.project as NonNullable<typeof ctx.project>, 'session_id', [id], true);
    deps.store.markRead(id);
    const session = deps.store.sessionById(id) as NonNullable<ReturnType<typeof deps.store.sessionById>>;
    const q = { sessionIds: [id], start: null, end: null, only: null };
    const row = {
      ...session,
      visits_count: deps.store.countVisits(q),
      conversions_count: deps.store.countConversions(q),
    };
    return {
      body: {
        error: false,
        data: {
          session: sessionView(deps.store, row, { includeIp: false, checkIrregular: false }),
          tabs: deps.store.eventsOf(id),
          named_events: deps.store.namedEvents(id),
        },
      },
    };
  };
}
