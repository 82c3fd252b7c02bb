// Flameup's `POST /api/v1/track` as the published document describes it (shared/seeds/004_*.txt), as a
// pure function of the request, so the same checks run behind a real HTTP server (flameup-standin.ts,
// for the collector's relay) and behind a fake fetch (for the snippet's direct mode under happy-dom,
// where node:http is not in the browser type program).
//
// The document shows only the success body `{"success": true, "event_id": "..."}`. Its error bodies
// and which of 400/422 it uses are not published: the `{"success": false, "error": ...}` shapes below
// are our stand-in's guess, and neither the relay nor the snippet reads them beyond the status.

/** A request as the model sees it; header names in lower case. */
export interface FlameupRequest {
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
  body: string;
}

/** What the model answers: an HTTP answer, a dropped connection, or no answer at all. */
export type FlameupAnswer =
  | { kind: 'answer'; status: number; headers: Record<string, string>; body: string }
  | { kind: 'drop' }
  | { kind: 'stall' };

/** An outage or a throttle to simulate. */
export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string }
  | { kind: 'drop' }
  | { kind: 'stall' };

/** One accepted event, as Flameup would store it. */
export interface Accepted {
  eventId: string;
  /** The parsed request body, exactly as sent. */
  body: Record<string, unknown>;
  headers: Record<string, string | undefined>;
  /** When it arrived (ms since the epoch). */
  at: number;
}

export interface FlameupApiOptions {
  apiKey: string;
  /** A fault active from the start, for `times` requests (every request when absent). */
  failFor?: Fault & { times?: number };
  now?: () => number;
}

export interface FlameupApi {
  answer(request: FlameupRequest): FlameupAnswer;
  /** Every request that reached the model, answered or not. */
  readonly requests: (FlameupRequest & { at: number })[];
  /** Every event accepted, in order of arrival. */
  readonly accepted: Accepted[];
  /** Starts a fault for the next `times` requests (every request until `recover()` when absent). */
  fail(fault: Fault, times?: number): void;
  recover(): void;
}

export const TRACK_PATH = '/api/v1/track';

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

export function createFlameupApi(opts: FlameupApiOptions): FlameupApi {
  const now = opts.now ?? Date.now;
  const requests: (FlameupRequest & { at: number })[] = [];
  const accepted: Accepted[] = [];
  // The active fault and how many more requests it hits (Infinity: until recover()).
  let fault: Fault | undefined = opts.failFor;
  let remaining = opts.failFor?.times ?? Number.POSITIVE_INFINITY;
  let nextId = 1;

  const json = (status: number, body: unknown, headers: Record<string, string> = {}): FlameupAnswer => ({
    kind: 'answer',
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const error = (status: number, message: string, errors?: Record<string, string[]>) =>
    json(status, { success: false, error: message, ...(errors ? { errors } : {}) });

  const check = (request: FlameupRequest): FlameupAnswer => {
    if (request.path !== TRACK_PATH) return error(404, 'Not found');
    if (request.method !== 'POST') return error(405, 'Method not allowed');
    const auth = /^Bearer (.+)$/.exec(request.headers.authorization ?? '');
    if (!auth || auth[1] !== opts.apiKey) return error(401, 'Invalid or missing API key');
    if (!(request.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
      return error(400, 'Content-Type must be application/json');
    }
    let body: unknown;
    try {
      body = JSON.parse(request.body);
    } catch {
      return error(400, 'The body is not valid JSON');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return error(400, 'The body must be a JSON object');
    }
    const fields = body as Record<string, unknown>;
    const errors: Record<string, string[]> = {};
    // userId and properties are the document's deprecated aliases: accepted, as Flameup does.
    const externalId = fields.external_id ?? fields.userId;
    if (typeof externalId !== 'string' || externalId === '') errors.external_id = ['external_id is required'];
    if (typeof fields.event !== 'string' || fields.event === '') errors.event = ['event is required'];
    for (const name of ['parameters', 'properties'] as const) {
      const value = fields[name];
      if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
        errors[name] = [`${name} must be an object`];
      }
    }
    if (fields.timestamp !== undefined) {
      const t = fields.timestamp;
      if (typeof t !== 'string' || !ISO_8601.test(t) || Number.isNaN(Date.parse(t))) {
        errors.timestamp = ['timestamp must be an ISO 8601 date-time'];
      }
    }
    if (Object.keys(errors).length > 0) return error(422, 'Validation failed', errors);
    const eventId = `evt_${nextId++}`;
    accepted.push({ eventId, body: fields, headers: request.headers, at: now() });
    return json(200, { success: true, event_id: eventId });
  };

  return {
    requests,
    accepted,
    answer(request) {
      requests.push({ ...request, at: now() });
      if (fault && remaining > 0) {
        remaining -= 1;
        const active = fault;
        if (remaining === 0) fault = undefined;
        if (active.kind !== 'status') return { kind: active.kind };
        const answer = error(
          active.status,
          active.status === 429 ? 'Too many requests' : 'Service unavailable',
        );
        if (answer.kind === 'answer' && active.retryAfter !== undefined)
          answer.headers['retry-after'] = active.retryAfter;
        return answer;
      }
      return check(request);
    },
    fail(next, times) {
      fault = next;
      remaining = times ?? Number.POSITIVE_INFINITY;
    },
    recover() {
      fault = undefined;
    },
  };
}

/** A `fetch` over the model, for tests that cannot open sockets' types (the snippet's happy-dom tests).
 *  `drop` rejects like a network error; `stall` never settles unless the request's signal aborts. */
export function fetchOverApi(api: FlameupApi): typeof fetch {
  return (async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input));
    const headers: Record<string, string | undefined> = {};
    new Headers(init.headers).forEach((value, name) => {
      headers[name.toLowerCase()] = value;
    });
    const body = typeof init.body === 'string' ? init.body : '';
    const answer = api.answer({ method: init.method ?? 'GET', path: url.pathname, headers, body });
    if (answer.kind === 'drop') throw new TypeError('Failed to fetch');
    if (answer.kind === 'stall') {
      return new Promise<Response>((_resolve, reject) => {
        init.signal?.addEventListener('abort', () => reject(new DOMException('Aborted', 'AbortError')));
      });
    }
    return {
      status: answer.status,
      ok: answer.status >= 200 && answer.status < 300,
      headers: new Headers(answer.headers),
      text: async () => answer.body,
      json: async () => JSON.parse(answer.body),
    } as Response;
  }) as typeof fetch;
}
