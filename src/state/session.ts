// The session identifier: explicit (server-rendered) first, else this tab's identifier from
// sessionStorage, else one minted by `POST /session` that joins the shared session kept in
// localStorage, so that every tab of one browser shares a session until 30 minutes without activity
// or 24 hours in all (docs/contract.md, "Start a session" and "The session identifier").

import { randomId } from '../lib/random';
import { isExpired, SHARED_KEY, type SharedRecord, sharedRecord, TAB_KEY } from './keys';
import type { KeyValue } from './storage';
import { readJson } from './storage';

export { isExpired, SHARED_KEY, type SharedRecord, TAB_KEY };

/** This tab's identifier, in sessionStorage. */
interface TabRecord {
  id: string;
  tab?: number;
  /** `start` of the shared session the identifier belongs to. */
  start: number;
  /**
   * The token of the page load that uses the identifier, or '' once that page is hidden for good.
   * Browsers copy sessionStorage into a duplicated tab (and into windows opened from this one) while
   * the original still runs: a copy that finds a live token there must mint its own identifier.
   */
  live: string;
}

export interface MintAnswer {
  sessionIdentifier: string;
  idleTimeout?: number;
  maxAge?: number;
  tab?: number;
}

export interface SessionInfo {
  sessionIdentifier: string;
  tab?: number;
  minted: boolean;
}

export interface Session {
  /** The identifier held now, if any. */
  current(): string | undefined;
  /** The shared record, started anew when missing or expired. */
  shared(): SharedRecord;
  /** Saves fields of the shared record (sampling decision, external id). */
  update(patch: Partial<SharedRecord>): void;
  /** Resolves to an identifier: held, explicit, this tab's, or minted. Rejects when minting fails. */
  acquire(): Promise<string>;
  /** Records activity. True when the held identifier no longer belongs to the live shared session. */
  touch(): boolean;
  /** Drops the held identifier (after a 422 on it, or when touch() said so) and acquires a new one. */
  renew(rejected?: string): Promise<string>;
  /** The page is hidden for good (pagehide): a duplicate opened later may reuse the identifier. */
  release(): void;
  /** The page is shown again (bfcache restore). */
  claim(): void;
  /** Forgets everything stored (consent withdrawn). */
  clear(): void;
}

export interface SessionOptions {
  explicit?: string | undefined;
  project: string;
  endpoint: string;
  contentType: string;
  local: KeyValue;
  tabStore: KeyValue;
  fetch: typeof fetch;
  page: () => { url: string; referrer: string; userAgent: string };
  onSession: (info: SessionInfo) => void;
  now?: () => number;
}

/** Writing lastActivity on every event would hammer localStorage; a second of slack is harmless. */
const TOUCH_EVERY = 1000;

export function createSession(opts: SessionOptions): Session {
  const now = opts.now ?? Date.now;
  const { local, tabStore } = opts;
  // This page load's claim on the tab identifier.
  const token = randomId();
  // The identifier in use, and the shared session's start it belongs to.
  let held: string | undefined = opts.explicit;
  let heldStart = -1;
  // The mint in flight, shared by concurrent callers.
  let minting: Promise<string> | undefined;

  const readShared = () => readJson<SharedRecord>(local, SHARED_KEY);
  const writeShared = (record: SharedRecord) => local.set(SHARED_KEY, JSON.stringify(record));
  const writeTab = (record: TabRecord) => tabStore.set(TAB_KEY, JSON.stringify(record));

  const shared = () => sharedRecord(local, now());

  const mint = async (joinId: string | undefined): Promise<MintAnswer> => {
    const page = opts.page();
    const response = await opts.fetch(`${opts.endpoint}/services/analytics/v1/session`, {
      method: 'POST',
      // text/plain keeps the request CORS-simple: no preflight.
      headers: { 'Content-Type': opts.contentType },
      body: JSON.stringify({ project: opts.project, sessionIdentifier: joinId, ...page }),
      credentials: 'omit',
    });
    // Read to the end: an unread body can keep its connection and quota busy.
    const text = await response.text();
    // The collector's 403 is readable by the refused page: say the cause, not a bare status.
    if (response.status === 403 && text.includes('origin is not allowed')) {
      throw new Error("spoor: origin not allowed: add this page's origin to the project's allowed origins");
    }
    if (!response.ok) throw new Error(`spoor: /session answered ${response.status}: ${text.slice(0, 200)}`);
    const answer = JSON.parse(text) as MintAnswer;
    if (typeof answer.sessionIdentifier !== 'string') throw new Error('spoor: /session gave no identifier');
    return answer;
  };

  const obtain = async (): Promise<string> => {
    const record = shared();
    const tab = readJson<TabRecord>(tabStore, TAB_KEY);
    if (tab && tab.start === record.start && (tab.live === '' || tab.live === token)) {
      writeTab({ ...tab, live: token });
      held = tab.id;
      heldStart = record.start;
      opts.onSession({
        sessionIdentifier: tab.id,
        ...(tab.tab === undefined ? {} : { tab: tab.tab }),
        minted: false,
      });
      return tab.id;
    }
    let answer: MintAnswer;
    try {
      answer = await mint(record.id);
    } catch (error) {
      // The shared identifier may itself be expired or foreign: start afresh rather than fail.
      if (!record.id) throw error;
      record.id = undefined;
      answer = await mint(undefined);
    }
    const fresh = readShared();
    const base = fresh && fresh.start === record.start ? fresh : record;
    writeShared({
      ...base,
      id: base.id ?? answer.sessionIdentifier,
      idle: answer.idleTimeout ?? base.idle,
      max: answer.maxAge ?? base.max,
      last: now(),
    });
    const mine: TabRecord = { id: answer.sessionIdentifier, start: record.start, live: token };
    if (answer.tab !== undefined) mine.tab = answer.tab;
    writeTab(mine);
    held = answer.sessionIdentifier;
    heldStart = record.start;
    opts.onSession({
      sessionIdentifier: held,
      ...(answer.tab === undefined ? {} : { tab: answer.tab }),
      minted: true,
    });
    return held;
  };

  const acquire = (): Promise<string> => {
    if (held) return Promise.resolve(held);
    minting ??= obtain().finally(() => {
      minting = undefined;
    });
    return minting;
  };

  return {
    current: () => held,
    shared,
    update(patch) {
      writeShared({ ...shared(), ...patch });
    },
    acquire,
    touch() {
      // A server-rendered identifier's lifetime is the server's business.
      if (opts.explicit && held === opts.explicit) return false;
      const t = now();
      const record = readShared();
      if (!record || isExpired(record, t) || (held && record.start !== heldStart)) return !!held;
      if (t - record.last > TOUCH_EVERY) writeShared({ ...record, last: t });
      return false;
    },
    renew(rejected) {
      if (rejected === undefined || held === rejected) {
        held = undefined;
        tabStore.remove(TAB_KEY);
        const record = readShared();
        if (record && rejected !== undefined && record.id === rejected)
          writeShared({ ...record, id: undefined });
      }
      return acquire();
    },
    release() {
      const tab = readJson<TabRecord>(tabStore, TAB_KEY);
      if (tab && tab.live === token) writeTab({ ...tab, live: '' });
    },
    claim() {
      const tab = readJson<TabRecord>(tabStore, TAB_KEY);
      if (tab && tab.id === held) writeTab({ ...tab, live: token });
    },
    clear() {
      held = undefined;
      local.remove(SHARED_KEY);
      tabStore.remove(TAB_KEY);
    },
  };
}
