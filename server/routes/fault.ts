// POST /api/__test/fault (only with SPOOR_TEST_FAULTS=1): makes /track answer a given status for a
// while, so e2e tests can meet a 500 or a 429 storm as a user would. `{"status": 0}` clears it.
import { validationError } from '../http/errors.js';
import { type Check, rules, validate } from '../http/validate.js';
import type { Deps, Route } from './context.js';

/** 0 clears the fault; anything else must be an error status. */
const errorStatus: Check = (v, a) => {
  const n = Number(v);
  return n === 0 || (n >= 400 && n <= 599) ? null : `The ${a} field must be 0 or between 400 and 599.`;
};

const schema = {
  status: { required: 'present' as const, rules: [rules.integer(), errorStatus] },
  ms: { nullable: true, rules: [rules.integer(), rules.min(0), rules.max(3_600_000)] },
};

export function faultRoute(deps: Deps): Route {
  return async (ctx) => {
    const input = await ctx.json();
    const errors = validate(input, schema);
    if (Object.keys(errors).length > 0) throw validationError(errors);
    const status = Number(input.status);
    const ms = input.ms === undefined || input.ms === null ? 60_000 : Number(input.ms);
    deps.faults.status = status;
    deps.faults.until = status === 0 ? 0 : ctx.nowMs + ms;
    return { body: { status: true, fault: { status, until: deps.faults.until } } };
  };
}
