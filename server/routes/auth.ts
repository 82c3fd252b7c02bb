// Dashboard sign-in (docs/contract.md, "Dashboard sign-in"): an admin password or a project's API token
// buys a server-side session held in an HttpOnly, SameSite=Strict cookie; the read routes then accept
// the cookie as they accept a Bearer token. The browser never sees a token after it was typed.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { MAX_PASSWORD_LENGTH, verifyPassword } from '../crypto/password.js';
import { isLoopbackAddress, isLoopbackHostname, sessionCookie, setSessionCookie } from '../http/cookies.js';
import { type Headers, httpError, validationError } from '../http/errors.js';
import { type RateDecision, rateHeaders } from '../http/rate-limit.js';
import type { DashboardSession, Project } from '../store/store.js';
import type { Deps, Reply, Route, RouteContext } from './context.js';

export const AUTH = '/api/auth';

/** Laravel's words for a failed login: the same whichever part was wrong. */
export const BAD_CREDENTIALS = 'These credentials do not match our records.';
export const CSRF_MISMATCH = 'CSRF token mismatch.';
export const CSRF_HEADER = 'x-csrf-token';

/**
 * Cookie-authenticated POSTs must come from the dashboard itself: their Origin is the collector's own
 * (SameSite=Strict already keeps the cookie off other sites' requests; the Origin check also refuses
 * same-site pages on other origins, e.g. a sibling subdomain), and they carry the session's CSRF token in
 * a header, which a page elsewhere cannot read and a form cannot send.
 */
export function assertSameOrigin(req: IncomingMessage, selfOrigin: string): void {
  if (req.headers.origin !== selfOrigin) throw httpError(403, CSRF_MISMATCH);
}

export function assertCsrf(req: IncomingMessage, selfOrigin: string, signIn: DashboardSession): void {
  assertSameOrigin(req, selfOrigin);
  const sent = Buffer.from(String(req.headers[CSRF_HEADER] ?? ''));
  const expected = Buffer.from(signIn.csrfToken);
  if (sent.length !== expected.length || !timingSafeEqual(sent, expected)) {
    throw httpError(403, CSRF_MISMATCH);
  }
}

/** The live sign-in a request's cookie names, with its project. */
export async function cookieSignIn(
  deps: Deps,
  req: IncomingMessage,
  selfOrigin: string,
  nowMs: number,
): Promise<{ signIn: DashboardSession; project: Project } | null> {
  const value = sessionCookie(req, selfOrigin);
  const signIn = value ? await deps.store.dashboardSession(value, nowMs) : undefined;
  const project = signIn ? await deps.store.projectById(signIn.projectId) : undefined;
  return signIn && project ? { signIn, project } : null;
}

function describe(project: Project, signIn: DashboardSession) {
  return {
    project: { name: project.name, public_key: project.public_key },
    via: signIn.via,
    csrf_token: signIn.csrfToken,
    expires_at: new Date(signIn.expiresMs).toISOString(),
  };
}

function stringField(input: Record<string, unknown>, field: string, max: number, required: boolean) {
  const value = input[field];
  if (value === undefined || value === null || value === '') {
    return required ? { error: `The ${field} field is required.` } : { value: null };
  }
  if (typeof value !== 'string') return { error: `The ${field} field must be a string.` };
  if (value.length > max) return { error: `The ${field} field must not be greater than ${max} characters.` };
  return { value };
}

export interface AuthRoutes {
  signIn: Route;
  signOut: Route;
  session: Route;
  auto: Route;
}

export function authRoutes(deps: Deps): AuthRoutes {
  const { config, store } = deps;
  // Per client IP, and per account (the admin password; a named project).
  const perIp = deps.limiter('sign-in-ip', config.signInLimit);
  const perAccount = deps.limiter('sign-in-account', config.signInLimit);

  const startSession = async (
    ctx: RouteContext,
    project: Project,
    via: DashboardSession['via'],
    extra: Headers,
  ) => {
    const value = randomBytes(32).toString('base64url');
    const signIn: DashboardSession = {
      projectId: project.id,
      via,
      csrfToken: randomBytes(32).toString('base64url'),
      expiresMs: ctx.nowMs + config.sessionTtlMs,
    };
    await store.createDashboardSession(value, { ...signIn, nowMs: ctx.nowMs, ttlMs: config.sessionTtlMs });
    return {
      body: { error: false, data: describe(project, signIn), message: 'Signed in.' },
      headers: { ...extra, 'Set-Cookie': setSessionCookie(ctx.origin, value, config.sessionTtlMs / 1000) },
    } satisfies Reply;
  };

  /** The project an admin sign-in reads: the one named, else the demo project, else the first. */
  const adminProject = async (key: string | null): Promise<Project | null> =>
    key !== null
      ? ((await store.projectByKey(key)) ?? null)
      : ((await store.projectByKey(config.projectKey)) ?? (await store.projects())[0] ?? null);

  return {
    async signIn(ctx) {
      assertSameOrigin(ctx.req, ctx.origin);
      let rate: RateDecision = await perIp.hit(ctx.ip);
      const limited = (decision: RateDecision) =>
        httpError(429, 'Too Many Attempts.', rateHeaders(decision) as Headers);
      if (!rate.allowed) throw limited(rate);
      const input = await ctx.json();
      const secret = stringField(input, 'secret', MAX_PASSWORD_LENGTH, true);
      const key = stringField(input, 'project', 128, false);
      const errors: Record<string, string[]> = {};
      if ('error' in secret) errors.secret = [secret.error as string];
      if ('error' in key) errors.project = [key.error as string];
      if ('error' in secret || 'error' in key) throw validationError(errors);
      const projectKey = key.value as string | null;

      // A token is 32 random bytes, out of any guesser's reach: checking one costs a hash lookup and
      // counts against the IP only, so a locked admin account never locks token holders out.
      const byToken = await store.projectByToken(secret.value as string);
      if (byToken && (projectKey === null || byToken.public_key === projectKey)) {
        return startSession(ctx, byToken, 'token', rateHeaders(rate) as Headers);
      }
      // Whatever else is checked counts against its accounts too: the admin password, and the project
      // named (a guesser spread over many addresses still meets these limits).
      const accounts = [
        ...(config.adminPasswordHash ? ['admin'] : []),
        ...(projectKey !== null ? [`project:${projectKey}`] : []),
      ];
      for (const account of accounts) {
        const decision = await perAccount.hit(account);
        if (!decision.allowed) throw limited(decision);
        if (decision.remaining < rate.remaining) rate = decision;
      }
      if (
        config.adminPasswordHash &&
        (await verifyPassword(secret.value as string, config.adminPasswordHash))
      ) {
        const project = await adminProject(projectKey);
        if (!project) {
          if (projectKey !== null) throw validationError({ project: ['The selected project is invalid.'] });
          throw httpError(409, 'There is no project yet: create one with `npm run admin -- project add`.');
        }
        return startSession(ctx, project, 'password', rateHeaders(rate) as Headers);
      }
      throw validationError({ secret: [BAD_CREDENTIALS] });
    },

    async signOut(ctx) {
      const current = await cookieSignIn(deps, ctx.req, ctx.origin, ctx.nowMs);
      if (current) assertCsrf(ctx.req, ctx.origin, current.signIn);
      else assertSameOrigin(ctx.req, ctx.origin);
      const value = sessionCookie(ctx.req, ctx.origin);
      if (value) await store.deleteDashboardSession(value);
      return {
        body: { error: false, message: 'Signed out.' },
        headers: { 'Set-Cookie': setSessionCookie(ctx.origin, '', 0) },
      };
    },

    async session(ctx) {
      // Not signed in is an answer, not an error: a 200 keeps the browser's console free of a 401 on
      // every first visit.
      const current = await cookieSignIn(deps, ctx.req, ctx.origin, ctx.nowMs);
      return {
        body: current
          ? { error: false, data: describe(current.project, current.signIn) }
          : { error: false, data: null, auto_sign_in: autoSignInFor(ctx) },
      };
    },

    async auto(ctx) {
      assertSameOrigin(ctx.req, ctx.origin);
      const project = await store.projectByKey(config.projectKey);
      if (!autoSignInFor(ctx) || !project) throw httpError(403, 'Automatic sign-in is off.');
      return startSession(ctx, project, 'auto', {});
    },
  };

  /**
   * The demo's automatic sign-in, for a viewer on this machine only: the collector was started for it
   * (main.ts allows it only when listening on loopback), the connection comes from loopback, and the
   * page was opened under a loopback name. The last check stops DNS rebinding: a site whose name
   * resolves to 127.0.0.1 reaches this port under its own Host, and is refused.
   */
  function autoSignInFor(ctx: RouteContext): boolean {
    if (!config.autoSignIn) return false;
    if (!isLoopbackAddress(ctx.req.socket.remoteAddress)) return false;
    try {
      return isLoopbackHostname(new URL(ctx.origin).hostname);
    } catch {
      return false;
    }
  }
}
