// The session detail's cards: web vitals (from get-visits) and named events (from get-events'
// `named_events`), formatted; and whether a tab's events can be replayed at all.
import type { StoredEvent } from './api';

export interface Vital {
  name: string;
  value: number;
  rating: string;
  url: string;
  tab: number;
  timestamp: number;
}

export interface NamedEvent {
  name: string;
  parameters: unknown;
  tab: number;
  timestamp: number;
}

export function formatVital(name: string, value: number): string {
  if (name === 'CLS') return value.toFixed(3);
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`;
}

/** Replay needs a full snapshot and at least two events; a tab without them cannot be played. */
export function playable(events: StoredEvent[]): boolean {
  return events.length >= 2 && events.some((event) => event.type === 2);
}
