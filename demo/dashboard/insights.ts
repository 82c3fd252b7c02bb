// What the dashboard reads out of a session's stored events besides the replay: web vitals and named
// events are custom events (docs/contract.md, "Events") inside the recording.
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

const CUSTOM = 5;

interface Custom {
  tag: string;
  payload: Record<string, unknown>;
}

function custom(event: StoredEvent): Custom | null {
  if (event.type !== CUSTOM || !event.data || typeof event.data !== 'object') return null;
  const data = event.data as Partial<Custom>;
  if (typeof data.tag !== 'string' || !data.payload || typeof data.payload !== 'object') return null;
  return data as Custom;
}

/** Every web-vital report, with the URL of the visit it belongs to. The last report of a metric wins. */
export function vitalsOf(tabs: { tab: number; events: StoredEvent[] }[]): Vital[] {
  const latest = new Map<string, Vital>();
  for (const { tab, events } of tabs) {
    let url = '';
    for (const event of events) {
      const c = custom(event);
      if (!c) continue;
      if (c.tag === 'visit') url = String(c.payload.url ?? '');
      if (c.tag !== 'web-vital') continue;
      const name = String(c.payload.name ?? '');
      const value = Number(c.payload.value);
      if (!name || !Number.isFinite(value)) continue;
      // One card per metric and page: web-vitals reports a metric again as it changes (CLS, INP).
      latest.set(`${tab}|${url}|${name}`, {
        name,
        value,
        rating: String(c.payload.rating ?? ''),
        url,
        tab,
        timestamp: event.timestamp,
      });
    }
  }
  return [...latest.values()].sort((a, b) => a.timestamp - b.timestamp);
}

export function namedEventsOf(tabs: { tab: number; events: StoredEvent[] }[]): NamedEvent[] {
  const out: NamedEvent[] = [];
  for (const { tab, events } of tabs) {
    for (const event of events) {
      const c = custom(event);
      if (c?.tag === 'event') {
        out.push({
          name: String(c.payload.name ?? ''),
          parameters: c.payload.parameters,
          tab,
          timestamp: event.timestamp,
        });
      }
    }
  }
  return out.sort((a, b) => a.timestamp - b.timestamp);
}

export function formatVital(name: string, value: number): string {
  if (name === 'CLS') return value.toFixed(3);
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`;
}

/** Replay needs a full snapshot and at least two events; a tab without them cannot be played. */
export function playable(events: StoredEvent[]): boolean {
  return events.length >= 2 && events.some((event) => event.type === 2);
}
