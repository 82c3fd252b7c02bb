// The collector as a request handler built from a config and a store. It never listens: main.ts
// does, and tests start it on port 0 over a temporary database (STYLE.md 11).
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Config } from './config.js';
import { type Body, gzippedBody, parseJsonObject, readBody } from './http/body.js';
import { corsHeaders, originAllowed, preflightHeaders } from './http/cors.js';
import { type Headers, HttpError, httpError } from './http/errors.js';
import { NOSNIFF, policyOrigins } from './http/headers.js';
import { hostRefusal, requestOrigin } from './http/host.js';
import { createRateLimiter, type RateDecision, type RateLimiter, rateHeaders } from './http/rate-limit.js';
import { RawJson } from './http/raw-json.js';
import { serveStatic } from './http/static.js';
import { type IngestPool, sharedIngestPool } from './ingest/pool.js';
import { oncePer } from './lib/log.js';
import type { FlameupRelay } from './relay/relay.js';
import { AUTH, assertCsrf, authRoutes, cookieSignIn } from './routes/auth.js';
import { type Deps, ORIGIN_NOT_ALLOWED, type Route, type RouteContext } from './routes/context.js';
import { eraseRoute } from './routes/erase.js';
import { eventsRoute } from './routes/get-events.js';
import { sessionRoute } from './routes/mint-session.js';
import { overviewRoute } from './routes/overview.js';
import { conversionsRoute, visitsRoute } from './routes/related.js';
import { sessionsRoute } from './routes/sessions.js';
import { trackRoute } from './routes/track.js';
import { createEraser, type Eraser } from './store/retention.js';
import type { Project, Store } from './store/store.js';

export interface AppOptions {
  config: Config;
  store: Store;
  /** Clock in ms; tests move it to expire sessions and rate windows. */
  now?: () => number;
  /** Where 5xx details go; never to the client. */
  logError?: (message: string, error: unknown) => void;
  /** The Flameup relay (server/relay/relay.ts); /track hands it each stored batch's custom events. */
  flameup?: FlameupRelay;
  /** The worker threads that check /track bodies; by default one pool per process. */
  ingest?: IngestPool;
  /** Told once per origin that a project refused (a site whose origin is missing from the list). */
  logOriginRefused?: (origin: string, path: string) => void;
  /** Erases sessions for the erase endpoint; by default one over this store (and the relay's queue). */
  eraser?: Eraser;
  /**
   * Makes the rate limiter of a budget (track, session, read, sign-in): by default in this process,
   * on the app's clock; main.ts gives one shared through Redis when SPOOR_REDIS_URL is set.
   */
  limiter?: (name: string, limit: number) => RateLimiter;
  /** Whether Redis answers (GET /readyz); absent when the collector runs without Redis. */
  redisHealthy?: () => Promise<boolean>;
  /** True once the process is stopping: /readyz answers 503 so that a load balancer drains it. */
  draining?: () => boolean;
}

/**
 * How a route is guarded: public routes are limited per client IP, read routes need a token or a
 * dashboard sign-in, sign-in routes keep their own limits (server/routes/auth.ts).
 */
type Guard = 'track' | 'session' | 'read' | 'none';

interface RouteEntry {
  guard: Guard;
  handle: Route;
}

const V1 = '/api/services/analytics/v1';

function clientIp(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = req.headers['x-forwarded-for'];
    const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
    if (first) return first;
  }
  const addr = req.socket.remoteAddress ?? '';
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr;
}

/** Whether `error` is the request's own stream failing because the client went away. */
function clientGone(req: IncomingMessage, error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return req.destroyed && (code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE');
}

function bearer(req: IncomingMessage): string | null {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return m ? (m[1] as string) : null;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Headers): void {
  if (res.headersSent || res.destroyed) return;
  // A RawJson body is JSON text already (get-events splices its pages): sent as it is.
  const payload = body instanceof RawJson ? body.bytes : Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    ...headers,
    ...NOSNIFF,
    'Content-Type': 'application/json',
    'Content-Length': payload.length,
  });
  res.end(payload);
}

export function createApp(options: AppOptions): RequestListener {
  const { config, store } = options;
  const now = options.now ?? Date.now;
  const logError = options.logError ?? ((message, error) => console.error(message, error));
  const refusedOnce = oncePer();
  const logOriginRefused =
    options.logOriginRefused ??
    ((origin: string, path: string) =>
      console.error(`Origin ${origin} is not allowed for the project (${path}); add it to its origins`));
  const eraser =
    options.eraser ??
    createEraser({
      store,
      ...(options.flameup ? { forget: options.flameup.store.forgetProgram } : {}),
    });
  const limiter = options.limiter ?? ((_name: string, limit: number) => createRateLimiter({ limit, now }));
  const deps: Deps = {
    config,
    store,
    now,
    ingest: options.ingest ?? sharedIngestPool(),
    ...(options.flameup ? { flameup: options.flameup } : {}),
    limiter,
  };
  const limiters = {
    track: limiter('track', config.trackLimit),
    session: limiter('session', config.trackLimit),
    read: limiter('read', config.readLimit),
  };

  const auth = authRoutes(deps);
  const routes = new Map<string, RouteEntry>([
    [`${AUTH}/sign-in`, { guard: 'none', handle: auth.signIn }],
    [`${AUTH}/sign-out`, { guard: 'none', handle: auth.signOut }],
    [`${AUTH}/session`, { guard: 'none', handle: auth.session }],
    [`${AUTH}/auto`, { guard: 'none', handle: auth.auto }],
    [`${V1}/track`, { guard: 'track', handle: trackRoute(deps) }],
    [`${V1}/session`, { guard: 'session', handle: sessionRoute(deps) }],
    [`${V1}/project/sessions`, { guard: 'read', handle: sessionsRoute(deps) }],
    [`${V1}/project/overview`, { guard: 'read', handle: overviewRoute(deps) }],
    [`${V1}/sessions/get-visits`, { guard: 'read', handle: visitsRoute(deps) }],
    [`${V1}/sessions/get-conversions`, { guard: 'read', handle: conversionsRoute(deps) }],
    [`${V1}/sessions/get-events`, { guard: 'read', handle: eventsRoute(deps) }],
    [`${V1}/sessions/erase`, { guard: 'read', handle: eraseRoute(deps, eraser) }],
  ]);

  const demoProject = (): Promise<Project | undefined> => store.projectByKey(config.projectKey);

  async function handleApi(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    selfOrigin: string,
  ): Promise<void> {
    const origin = req.headers.origin;
    const selfHost = new URL(selfOrigin).host;
    const allowed =
      origin !== undefined &&
      (await store.projects()).some((p) => originAllowed(origin, p.allowed_origins, selfHost));
    if (req.method === 'OPTIONS') {
      res.writeHead(204, preflightHeaders(origin, allowed));
      res.end();
      return;
    }
    const headers: Headers = corsHeaders(origin, allowed);
    let rate: RateDecision | null = null;
    try {
      const entry = routes.get(url.pathname);
      if (!entry) throw httpError(404, 'Not Found.');
      if (req.method !== 'POST')
        throw httpError(405, 'The method is not supported for this route.', { Allow: 'POST, OPTIONS' });

      const nowMs = now();
      const ip = clientIp(req, config.trustProxy);
      let project: Project | null = null;
      let signedIn: Awaited<ReturnType<typeof cookieSignIn>> = null;
      if (entry.guard === 'read') {
        // A Bearer token when there is one (API clients), else the dashboard's sign-in cookie.
        const token = bearer(req);
        if (token) project = (await store.projectByToken(token)) ?? null;
        else {
          signedIn = await cookieSignIn(deps, req, selfOrigin, nowMs);
          project = signedIn?.project ?? null;
        }
        // Valid tokens share their budget wherever they come from; guesses are limited per IP.
        rate = await limiters.read.hit(project ? `token:${project.id}` : `ip:${ip}`);
      } else if (entry.guard === 'track' || entry.guard === 'session') {
        rate = await limiters[entry.guard].hit(ip);
      }
      if (rate) Object.assign(headers, rateHeaders(rate));
      if (rate && !rate.allowed) throw httpError(429, 'Too Many Attempts.');
      if (entry.guard === 'read' && !project) throw httpError(401, 'Unauthenticated.');
      // A cookie rides along with any request the browser makes: only the dashboard's own count.
      if (signedIn) assertCsrf(req, selfOrigin, signedIn.signIn);

      // Only /track carries recordings; every other body is a small form, parsed on the event loop,
      // so its limit is small too (docs/contract.md, "Limits").
      const limits =
        entry.guard === 'track'
          ? config.limits
          : {
              ...config.limits,
              maxBytes: config.limits.maxFormBytes,
              maxDecompressedBytes: config.limits.maxFormBytes,
            };
      let read: Promise<Body> | null = null;
      const body = () => {
        read ??= readBody(req, limits);
        return read;
      };
      const ctx: RouteContext = {
        req,
        url,
        origin: selfOrigin,
        ip,
        nowMs,
        project,
        body: async () => (await body()).bytes,
        gzipBody: async () => gzippedBody(await body()),
        json: async () => parseJsonObject((await body()).bytes, config.limits.maxDepth),
      };
      const reply = await entry.handle(ctx);
      send(res, reply.status ?? 200, reply.body, { ...headers, ...reply.headers });
    } catch (error) {
      if (error instanceof HttpError) {
        // A refused upload goes on being read and discarded (body.ts) while this answer goes out:
        // closing the connection now would show a client that is still sending a reset, not the 413
        // that tells the snippet to split its batch. One too large even to drain was cut off there.
        if (error.status === 403 && error.message === ORIGIN_NOT_ALLOWED && origin !== undefined) {
          // The refusal is readable by the page it refuses, so that the snippet's onError can say why
          // instead of "Failed to fetch"; it carries nothing but this message.
          Object.assign(headers, corsHeaders(origin, true));
          refusedOnce(origin, () => logOriginRefused(origin, url.pathname));
        }
        send(res, error.status, error.body, { ...headers, ...error.headers });
        return;
      }
      // The client left (or a timeout cut its upload off with a 408): there is no one to answer,
      // and nothing went wrong on this side.
      if (clientGone(req, error)) return;
      logError(`Server Error on ${req.method} ${url.pathname}`, error);
      send(res, 500, { error: true, message: 'Server Error' }, headers);
    }
  }

  return (req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      send(res, 400, { error: true, message: 'Bad Request.' }, {});
      return;
    }
    const done = (error: unknown) => {
      logError(`Server Error on ${req.method} ${req.url}`, error);
      send(res, 500, { error: true, message: 'Server Error' }, {});
    };
    // Before anything reads the Host: the origin built from it is echoed in pages and answers.
    const refusal = hostRefusal(req.headers.host, config.publicUrl);
    if (refusal !== null) {
      const message = refusal === 421 ? 'Misdirected Request.' : 'Bad Request.';
      send(res, refusal, { error: true, message }, { Connection: 'close' });
      return;
    }
    if (url.pathname === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      // For a container's liveness check: 200 while the database answers.
      store
        .healthy()
        .then((ok) =>
          send(res, ok ? 200 : 503, { status: ok ? 'ok' : 'unavailable' }, { 'Cache-Control': 'no-store' }),
        )
        .catch(done);
      return;
    }
    if (url.pathname === '/readyz' && (req.method === 'GET' || req.method === 'HEAD')) {
      // For a load balancer (docs/contract.md, "Health"): 503 while the database does not answer or
      // the process is stopping. Redis is reported but does not make the instance unready: without it
      // the rate limits fall back to each instance's own (server/http/rate-limit.ts), and taking every
      // instance out of the pool for it would turn a degraded limit into an outage.
      void (async () => {
        const [database, redis] = await Promise.all([
          store.healthy(),
          options.redisHealthy ? options.redisHealthy() : Promise.resolve(null),
        ]);
        const draining = options.draining?.() ?? false;
        const ok = database && !draining;
        const body = {
          status: ok ? 'ok' : 'unavailable',
          database: database ? 'ok' : 'unavailable',
          redis: redis === null ? 'none' : redis ? 'ok' : 'unavailable',
          draining,
        };
        send(res, ok ? 200 : 503, body, { 'Cache-Control': 'no-store' });
      })().catch(done);
      return;
    }
    if (url.pathname === '/qa/fail') {
      // QA only: the demo shop's "failing request" button calls this, so that a recording holds a
      // request_failed signal to find (README, "The demo"). It reads nothing and always answers 503.
      send(
        res,
        503,
        { error: true, message: 'QA: this request always fails.' },
        { 'Cache-Control': 'no-store' },
      );
      return;
    }
    const selfOrigin = requestOrigin(req, config.publicUrl, config.trustProxy);
    if (url.pathname === '/api' || url.pathname.startsWith('/api/')) {
      handleApi(req, res, url, selfOrigin).catch(done);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(
        res,
        405,
        { error: true, message: 'The method is not supported for this route.' },
        { Allow: 'GET, HEAD' },
      );
      return;
    }
    void (async () => {
      const project = await demoProject();
      // The dashboard replays the signed-in project's recordings (else the demo project's): their
      // assets come from its origins.
      const viewed = (await cookieSignIn(deps, req, selfOrigin, now()))?.project ?? project;
      return serveStatic(req, res, {
        rootDir: config.rootDir,
        origin: selfOrigin,
        projectKey: project?.public_key ?? config.projectKey,
        replayOrigins: policyOrigins(viewed ? viewed.allowed_origins : config.allowedOrigins),
      });
    })()
      .then((served) => {
        if (!served) {
          res.writeHead(404, { ...NOSNIFF, 'Content-Type': 'text/plain; charset=utf-8' });
          res.end('Not Found');
        }
      })
      .catch(done);
  };
}

/** Creates or updates the demo project from the configuration. */
export function ensureDemoProject(config: Config, store: Store): Promise<Project> {
  return store.ensureProject({
    publicKey: config.projectKey,
    apiToken: config.apiToken,
    name: 'Demo',
    allowedOrigins: config.allowedOrigins,
  });
}
