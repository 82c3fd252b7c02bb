// POST /api/services/analytics/v1/session (ours): mints a session identifier, or another tab's
// identifier for a live session of the same project (docs/contract.md, "Start a session").
import type { SessionAnswer } from '../../src/wire.js';
import { mintIdentifier } from '../crypto/identifier.js';
import { fieldError, validationError } from '../http/errors.js';
import { rules, validate } from '../http/validate.js';
import { parseUserAgent } from '../lib/useragent.js';
import {
  assertOriginAllowed,
  type Deps,
  IDLE_TIMEOUT_S,
  liveSession,
  MAX_AGE_S,
  type Route,
} from './context.js';

const schema = {
  project: { required: true, rules: [rules.string(), rules.maxLength(128)] },
  sessionIdentifier: { nullable: true, rules: [rules.string(), rules.maxLength(4096)] },
  url: { nullable: true, rules: [rules.string(), rules.maxLength(2048)] },
  referrer: { nullable: true, rules: [rules.string(), rules.maxLength(2048)] },
  userAgent: { nullable: true, rules: [rules.string(), rules.maxLength(1024)] },
};

function country(deps: Deps, ctx: Parameters<Route>[0]): string | null {
  if (!deps.config.countryHeader) return null;
  const raw = ctx.req.headers[deps.config.countryHeader];
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim().toUpperCase();
  // Cloudflare sends XX (unknown) and T1 (Tor): neither is a country.
  return value && /^[A-Z]{2}$/.test(value) && value !== 'XX' && value !== 'T1' ? value : null;
}

export function sessionRoute(deps: Deps): Route {
  return async (ctx) => {
    const input = await ctx.json();
    const errors = validate(input, schema);
    if (Object.keys(errors).length > 0) throw validationError(errors);

    const project = await deps.store.projectByKey(input.project as string);
    if (!project) throw fieldError('project', 'The selected project is invalid.');
    await assertOriginAllowed(deps, ctx, project);

    const iat = Math.floor(ctx.nowMs / 1000);
    const answer = (sessionId: number, tab: number) => {
      const body: SessionAnswer = {
        status: true,
        sessionIdentifier: mintIdentifier({ p: project.id, s: sessionId, w: tab, iat }, deps.config.key),
        idleTimeout: IDLE_TIMEOUT_S,
        maxAge: MAX_AGE_S,
        tab,
      };
      return { body };
    };

    if (typeof input.sessionIdentifier === 'string' && input.sessionIdentifier !== '') {
      const live = await liveSession(deps, input.sessionIdentifier, ctx.nowMs);
      if (live && live.session.project_id === project.id) {
        return answer(live.session.id, await deps.store.openTab(live.session.id, ctx.nowMs));
      }
    }

    const userAgent =
      typeof input.userAgent === 'string' && input.userAgent !== ''
        ? input.userAgent
        : (ctx.req.headers['user-agent'] ?? null);
    const agent = parseUserAgent(userAgent);
    const session = await deps.store.createSession({
      projectId: project.id,
      browser: agent.browser,
      device: agent.device,
      platformOs: agent.platform_os,
      country: country(deps, ctx),
      ipAddress: ctx.ip,
      userAgent,
      entryUrl: typeof input.url === 'string' ? input.url : null,
      referrer: typeof input.referrer === 'string' && input.referrer !== '' ? input.referrer : null,
      nowMs: ctx.nowMs,
    });
    return answer(session.id, 1);
  };
}
