// A session row as the read endpoints show it: List sessions pages them, get-events answers with the
// session it reads. Shared by both routes, which do not import each other.
import type { SessionRow } from '../../src/wire.js';
import { irregularVerdict } from '../lib/irregular.js';
import type { SessionListRow, Store } from '../store/store.js';

/**
 * Seconds as the read endpoints answer them: to 0.1 s, the timer's own precision, so that a sum of
 * timers reads 14.2 and not 14.200000000000001 (docs/contract.md, "List sessions"). Stored values keep
 * full precision; rounding happens once, here, where rows leave the collector.
 */
export function roundSeconds(seconds: number): number {
  return Math.round(seconds * 10) / 10;
}

/** A session as the read endpoints show it (docs/contract.md, "List sessions"); IP and
 *  irregular-traffic verdict only when asked for. */
export async function sessionView(
  store: Store,
  row: SessionListRow,
  opts: { includeIp: boolean; checkIrregular: boolean },
): Promise<SessionRow> {
  const view: SessionRow = {
    id: row.id,
    browser: row.browser,
    device: row.device,
    platform_os: row.platform_os,
    country: row.country,
    time_spend: roundSeconds(row.time_spend),
    created_at: row.created_at,
    updated_at: row.updated_at,
    read_status: row.read_status,
    visits_count: row.visits_count,
    conversions_count: row.conversions_count,
    entry_url: row.entry_url,
    referrer: row.referrer,
    tabs: row.tabs,
    external_id: row.external_id,
    rage_clicks: row.rage_clicks ?? 0,
    dead_clicks: row.dead_clicks ?? 0,
    errors: row.errors ?? 0,
    failed_requests: row.failed_requests ?? 0,
  };
  if (opts.includeIp) view.ip_address = row.ip_address;
  if (opts.checkIrregular) view.irregular_traffic = irregularVerdict(await store.interactionSummary(row.id));
  return view;
}
