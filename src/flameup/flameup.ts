// Direct mode of the Flameup mirror: named events of an identified visitor go from the page straight to
// Flameup's track API (docs/contract.md, "Flameup"), for sites whose collector cannot relay. The API key is
// then in the page, readable by anyone: the collector's relay is the recommended way (README).
//
// Loaded lazily (spoor.flameup.min.js, or an npm chunk) only when the `flameup` option is set; the core
// hands it the outbox (flameup-outbox.ts), so this file carries no storage code of its own.
//
// A queue of its own: its own outbox namespace and lock, its own requests, never keepalive (keepalive
// bodies share one 64 KiB quota per page with /track's unload requests, fetch spec "keepalive"), so a
// slow or failing Flameup can never hold up /track. Same retry rules as /track (backoff.ts), and
// undelivered events stay in the outbox across reloads. Events mirrored before identify() are kept
// without an external_id and sent once one exists (Flameup requires it).

import { classify } from '../deliver/backoff';
import type { Outbox, OutboxBatch } from '../deliver/outbox';
import { byteLength } from '../lib/bytes';
import { randomId } from '../lib/random';
import type { DropReason, ReportError, Stop } from '../types';

export interface FlameupOptions {
  /** Flameup API key, sent as `Authorization: Bearer`. */
  apiKey: string;
  /** Flameup's track URL, e.g. `https://api.flameup.ai/api/v1/track`. */
  url: string;
  /** Names of events to mirror; all when absent. */
  events?: string[] | undefined;
  /** The id given to identify(), if any yet. */
  getExternalId: () => string | undefined;
  report: ReportError;
  onDrop: (reason: DropReason, detail: string) => void;
  fetch?: typeof fetch;
  /** Where undelivered events wait: `flameupOutbox(url, ...)` (flameup-outbox.ts). */
  outbox: Outbox;
  now?: () => number;
  random?: () => number;
}

export interface Flameup {
  /** Queues one named event; returns at once and never throws. `timestamp`: when it happened (ms). */
  mirror(name: string, parameters: object, timestamp: number): void;
  /** An external id may exist now, or the network is back: send what waits. */
  wake(): void;
  stop: Stop;
}

/** Longest an event waits for identify(): a session lasts at most 24 hours (docs/contract.md, "The session identifier"). */
export const HOLD_MS = 86_400_000;
/** A request unanswered after this is treated as a network error and retried. */
export const REQUEST_TIMEOUT_MS = 30_000;
/** Wait before asking again for the outbox lock that another tab holds. */
const LOCK_RETRY_MS = 5_000;

/** A kept event: Flameup's body, without `external_id` while the visitor is not identified yet. */
interface Mirrored {
  external_id?: string;
  event: string;
  parameters: object;
  timestamp: string;
}

export function startFlameup(opts: FlameupOptions): Flameup {
  const now = opts.now ?? Date.now;
  const fetchFn = opts.fetch ?? ((input, init) => fetch(input, init));
  const { outbox } = opts;
  // Attempts that counted against the backoff, and the earliest next attempt, by event id.
  const attempts = new Map<string, number>();
  const notBefore = new Map<string, number>();
  // A drain is running; `again` asks it to run once more when it ends.
  let busy = false;
  let again = false;
  let stopped = false;
  // Flameup refused the key (401/403): nothing more is sent from this page.
  let refused = false;
  // The wake-up for the next retry.
  let timer: ReturnType<typeof setTimeout> | undefined;

  const schedule = (ms: number) => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(pump, Math.max(0, ms));
  };

  const externalId = (): string | undefined => {
    try {
      const id = opts.getExternalId();
      return typeof id === 'string' && id !== '' ? id : undefined;
    } catch (error) {
      opts.report(error);
      return undefined;
    }
  };

  const post = async (
    body: string,
  ): Promise<{ status?: number; retryAfter: string | null; error?: string }> => {
    const controller = typeof AbortController === 'function' ? new AbortController() : undefined;
    const timeout = setTimeout(() => controller?.abort(), REQUEST_TIMEOUT_MS);
    try {
      const response = await fetchFn(opts.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${opts.apiKey}` },
        body,
        credentials: 'omit',
        ...(controller ? { signal: controller.signal } : {}),
      });
      // Read to the end so the connection is free for the next request.
      await response.text();
      return { status: response.status, retryAfter: response.headers.get('Retry-After') };
    } catch (error) {
      return { retryAfter: null, error: String(error) };
    } finally {
      clearTimeout(timeout);
    }
  };

  /** Sends kept events oldest first; stops at the first that must wait, so the order holds. True once
   *  done (withLock's undefined means another tab holds the lock). */
  const drain = async (): Promise<true> => {
    await send();
    return true;
  };

  const send = async (): Promise<void> => {
    const id = externalId();
    for (const kept of await outbox.list()) {
      if (stopped || refused) return;
      const event = parse(kept.body);
      if (!event) {
        await outbox.remove(kept.id);
        continue;
      }
      const to = event.external_id ?? id;
      if (to === undefined) {
        if (now() - kept.createdAt > HOLD_MS) {
          await outbox.remove(kept.id);
          opts.onDrop(
            'rejected',
            `flameup: "${event.event}" waited 24 h for identify(); Flameup needs an external_id`,
          );
        }
        continue;
      }
      const due = notBefore.get(kept.id) ?? 0;
      if (due > now()) {
        schedule(due - now());
        return;
      }
      const { status, retryAfter, error } = await post(
        JSON.stringify({
          external_id: to,
          event: event.event,
          parameters: event.parameters,
          timestamp: event.timestamp,
        }),
      );
      const verdict = classify(status, attempts.get(kept.id) ?? 0, retryAfter, undefined, opts.random, now());
      if (verdict.kind === 'retry') {
        if (verdict.countsAgainstBudget) attempts.set(kept.id, (attempts.get(kept.id) ?? 0) + 1);
        notBefore.set(kept.id, now() + verdict.delayMs);
        schedule(verdict.delayMs);
        return;
      }
      await outbox.remove(kept.id);
      attempts.delete(kept.id);
      notBefore.delete(kept.id);
      if (verdict.kind === 'done') continue;
      const what = status === undefined ? (error ?? 'network error') : `HTTP ${status}`;
      if (verdict.kind === 'split')
        opts.onDrop('over-size', `flameup: "${event.event}" is too large (${what})`);
      else opts.onDrop('rejected', `flameup: "${event.event}" was rejected (${what})`);
      if (status === 401 || status === 403) {
        // Every other event would meet the same answer: keep them for a page with a working key.
        refused = true;
        opts.report(new Error(`spoor: Flameup refused the API key (${what}); mirroring stops in this page`));
      }
    }
  };

  function pump(): void {
    if (stopped || refused) return;
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    outbox
      .withLock(drain)
      .then((ran) => {
        if (ran === undefined && !stopped) schedule(LOCK_RETRY_MS); // another tab is sending them
      }, opts.report)
      .finally(() => {
        busy = false;
        if (again) {
          again = false;
          pump();
        }
      });
  }

  const keep = async (event: Mirrored): Promise<void> => {
    const body = JSON.stringify(event);
    const batch: OutboxBatch = { id: randomId(), body, createdAt: now(), bytes: byteLength(body) };
    await outbox.put(batch);
    pump();
  };

  // Events an earlier page could not deliver.
  pump();

  return {
    mirror(name, parameters, timestamp) {
      try {
        if (stopped) return;
        if (opts.events && !opts.events.includes(name)) return;
        const at = new Date(timestamp);
        if (Number.isNaN(at.getTime())) {
          opts.onDrop('invalid-call', `flameup: "${name}" has no valid timestamp`);
          return;
        }
        const id = externalId();
        const event: Mirrored = {
          ...(id === undefined ? {} : { external_id: id }),
          event: name,
          parameters,
          timestamp: at.toISOString(),
        };
        keep(event).catch(opts.report);
      } catch (error) {
        opts.report(error);
      }
    },
    wake() {
      pump();
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

function parse(body: string): Mirrored | undefined {
  try {
    const value = JSON.parse(body) as Partial<Mirrored> | null;
    if (!value || typeof value.event !== 'string' || typeof value.timestamp !== 'string') return undefined;
    const event: Mirrored = {
      event: value.event,
      parameters: typeof value.parameters === 'object' && value.parameters !== null ? value.parameters : {},
      timestamp: value.timestamp,
    };
    if (typeof value.external_id === 'string') event.external_id = value.external_id;
    return event;
  } catch {
    return undefined;
  }
}
