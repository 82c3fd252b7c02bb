// POST .../sessions/erase (ours): erases visitors' data on request, by session ids or by the id given
// to identify(). Token-authenticated like the read endpoints; only the token's own project is touched
// (docs/contract.md, "Retention and erasure").
import { validationError } from '../http/errors.js';
import { rules, type Schema, validate } from '../http/validate.js';
import type { Eraser } from '../store/retention.js';
import { assertOwnSessions, type Deps, type Route } from './context.js';

/** Most sessions one call names or erases: the rest waits for the next call (`remaining`). */
export const ERASE_LIMIT = 500;

const schema: Schema = {
  session_ids: {
    nullable: true,
    rules: [
      rules.array(),
      (v, a) =>
        Array.isArray(v) && v.length > ERASE_LIMIT
          ? `The ${a} field must not have more than ${ERASE_LIMIT} items.`
          : null,
    ],
    each: [rules.integer()],
  },
  external_id: { nullable: true, rules: [rules.string(), rules.maxLength(256)] },
};

export function eraseRoute(deps: Deps, eraser: Eraser): Route {
  return async (ctx) => {
    const input = await ctx.json();
    const errors = validate(input, schema);
    const byIds = Array.isArray(input.session_ids);
    const byExternal = typeof input.external_id === 'string' && input.external_id !== '';
    if (Object.keys(errors).length === 0 && byIds === byExternal) {
      errors[byIds ? 'external_id' : 'session_ids'] = [
        'Exactly one of the session_ids and external_id fields is required.',
      ];
    }
    if (Object.keys(errors).length > 0) throw validationError(errors);
    const project = ctx.project as NonNullable<typeof ctx.project>;
    let ids: number[];
    let remaining = false;
    if (byIds) {
      ids = [...new Set((input.session_ids as unknown[]).map(Number))];
      // Another project's session is refused like one that does not exist (as the read endpoints do).
      await assertOwnSessions(deps, project, 'session_ids', ids);
    } else {
      ids = await deps.store.sessionsByExternalId(project.id, input.external_id as string, ERASE_LIMIT + 1);
      remaining = ids.length > ERASE_LIMIT;
      ids = ids.slice(0, ERASE_LIMIT);
    }
    const erased = await eraser.erase(ids);
    return { body: { status: true, erased, remaining } };
  };
}
