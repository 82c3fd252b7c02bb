// What every route receives, and the helpers the public and read routes share.
import type { IncomingMessage } from 'node:http';
import type { Config } from '../config.js';
import { type IdentifierClaims, readIdentifier } from '../crypto/identifier.js';
import { originAllowed } from '../http/cors.js';
import { fieldError, httpError, validationError } from '../http/errors.js';
import type { RateLimiter } from '../http/rate-limit.js';
import type { IngestPool } from '../ingest/pool.js';
import type { FlameupRelay } from '../relay/relay.js';
import type { Project, SessionRecord, Store } from '../store/store.js';

export interface Deps {
  config: Config;
  store: Store;
  now: () => number;
  /** Worker threads that check /track bodies off the event loop. */
  ingest: IngestPool;
  /** Forwards named events of identified sessions to Flameup; absent when not wired. */
  flameup?: FlameupRelay;
  /** A rate limiter by budget name: in this process, or shared by every instance through Redis. */
  limiter(name: string, limit: number): RateLimiter;
}

export interface RouteContext {
  req: IncomingMessage;
  url: URL;
  /** e.g. http://localhost:8787 (from the request; X-Forwarded-Proto only with SPOOR_TRUST_PROXY=1) */
  origin: string;
  ip: string;
  nowMs: number;
  /** The read endpoints' authenticated project. */
  project: Project | null;
  /** The decompressed body bytes (read within the configured limits). */
  body(): Promise<Buffer>;
  /** The body gzip-compressed: the bytes as received if they came so, else compressed off the loop. */
  gzipBody(): Promise<Buffer>;
  /** The body as a JSON object (422 on anything else). */
  json(): Promise<Record<string, unknown>>;
}

export interface Reply {
  status?: number;
  body: unknown;
  /** Extra answer headers (the sign-in routes' Set-Cookie and rate headers). */
  headers?: Record<string, string | number>;
}

export type Route = (ctx: RouteContext) => Promise<Reply> | Reply;

/** Sessions end after 30 minutes without activity (plus 5 minutes for batches in flight) or 24 hours. */
export const IDLE_TIMEOUT_S = 1800;
export const MAX_AGE_S = 86400;
const IDLE_GRACE_MS = 5 * 60_000;

export const INVALID_IDENTIFIER = 'The session identifier is invalid or has expired.';

export function isLive(session: SessionRecord, nowMs: number): boolean {
  return (
    nowMs - session.created_ms <= MAX_AGE_S * 1000 &&
    nowMs - session.last_activity_ms <= IDLE_TIMEOUT_S * 1000 + IDLE_GRACE_MS
  );
}

/** The claims and live session an identifier names, or null (tampered, foreign key, unknown, expired). */
export async function liveSession(
  deps: Deps,
  identifier: string,
  nowMs: number,
): Promise<{ claims: IdentifierClaims; session: SessionRecord } | null> {
  const claims = readIdentifier(identifier, deps.config.key);
  return claims ? sessionOfClaims(deps, claims, nowMs) : null;
}

/** The live session that an identifier's claims (already decrypted) name, or null. */
export async function sessionOfClaims(
  deps: Deps,
  claims: IdentifierClaims,
  nowMs: number,
): Promise<{ claims: IdentifierClaims; session: SessionRecord } | null> {
  const session = await deps.store.sessionById(claims.s);
  if (!session || session.project_id !== claims.p || claims.w > session.tabs) return null;
  if (!isLive(session, nowMs)) return null;
  return { claims, session };
}

export function invalidIdentifier(): Error {
  return fieldError('sessionIdentifier', INVALID_IDENTIFIER);
}

/**
 * The sessions among `ids` must exist and belong to the token's project: a session of another project
 * gets the same 422 as one that does not exist, so a token cannot learn which ids other projects hold.
 */
export async function assertOwnSessions(
  deps: Deps,
  project: Project,
  field: string,
  ids: number[],
  single = false,
): Promise<void> {
  const owners = await deps.store.sessionProjects(ids);
  const errors: Record<string, string[]> = {};
  ids.forEach((id, i) => {
    if (owners.get(id) !== project.id) {
      const name = single ? field : `${field}.${i}`;
      errors[name] = [`The selected ${name} is invalid.`];
    }
  });
  if (Object.keys(errors).length > 0) throw validationError(errors);
}

export const ORIGIN_NOT_ALLOWED = 'This origin is not allowed for the project.';

/**
 * 403 when the request carries an Origin the project does not allow. A request without Origin (a
 * server, curl) passes: Origin only says which page a browser calls from. `project` is the project
 * or its id, e.g. an identifier's `p` claim; an id no project has passes, for the identifier check
 * to refuse.
 */
export async function assertOriginAllowed(
  deps: Deps,
  ctx: RouteContext,
  project: Project | number,
): Promise<void> {
  const origin = ctx.req.headers.origin;
  if (!origin) return;
  const record = typeof project === 'number' ? await deps.store.projectById(project) : project;
  if (!record) return;
  if (!originAllowed(origin, record.allowed_origins, new URL(ctx.origin).host)) {
    throw httpError(403, ORIGIN_NOT_ALLOWED);
  }
}
