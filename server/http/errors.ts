// One error type for every answer that is not a success; app.ts turns it into the contract's bodies
// (docs/contract.md, "Conventions").
import type { ErrorBody, FailureBody, ValidationErrorBody } from '../../src/wire.js';

export type Headers = Record<string, string | number>;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: FailureBody,
    readonly headers: Headers = {},
  ) {
    super(body.message);
  }
}

/** `{"error": true, "message": ...}`: the contract's shape for 401, 403, 404, 413, 429 and 5xx. */
export function httpError(status: number, message: string, headers: Headers = {}): HttpError {
  const body: ErrorBody = { error: true, message };
  return new HttpError(status, body, headers);
}

/** A 422 lists at most this many fields (Laravel's shape, the first ones): its size and the work of
 *  finding them stay bounded however wrong a body is (docs/contract.md, "Limits"). */
export const MAX_FIELD_ERRORS = 20;

/** Laravel's 422: the first message, plus how many more, and the messages of the first fields. */
export function validationError(errors: Record<string, string[]>): HttpError {
  const fields = Object.keys(errors);
  if (fields.length > MAX_FIELD_ERRORS) {
    errors = Object.fromEntries(fields.slice(0, MAX_FIELD_ERRORS).map((f) => [f, errors[f] as string[]]));
  }
  const all = Object.values(errors).flat();
  const rest = all.length - 1;
  const message =
    rest > 0 ? `${all[0]} (and ${rest} more ${rest === 1 ? 'error' : 'errors'})` : (all[0] ?? '');
  const body: ValidationErrorBody = { message, errors };
  return new HttpError(422, body);
}

/** A 422 on one field. */
export function fieldError(field: string, message: string): HttpError {
  return validationError({ [field]: [message] });
}
