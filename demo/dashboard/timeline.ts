// The session's timeline: a marker for each visit, conversion, named event, rage click, dead click,
// error and failed request, placed by time on one track, and the same markers as a list. Each marker
// is a button that plays the replay from its moment, in its tab. The track is one tab stop (a
// toolbar): arrow keys move between markers, Home and End go to the first and last, Enter or Space
// plays from the one with focus. Markers from the recording (conversions and signals) appear as its
// pages arrive.
import type { SignalPayloads } from '../../src/wire';
import { h } from '../dom';
import type { NamedEventRow, Row, StoredEvent } from './api';
import { formatClock, pageOf } from './format';

export type MarkerKind = 'visit' | 'conversion' | 'event' | 'rage' | 'dead' | 'error' | 'request';

export interface Marker {
  kind: MarkerKind;
  tab: number;
  /** Epoch ms, the visitor's clock. */
  at: number;
  /** What a screen reader says and the list shows, e.g. `Rage click on button#pay`. */
  label: string;
}

/** The kinds in the order the legend lists them, with their names. */
export const KINDS: [MarkerKind, string][] = [
  ['visit', 'Visits'],
  ['conversion', 'Conversions'],
  ['event', 'Named events'],
  ['rage', 'Rage clicks'],
  ['dead', 'Dead clicks'],
  ['error', 'Errors'],
  ['request', 'Failed requests'],
];

/** Lanes of the track, how far apart two markers of one lane must be (% of the track), lane height. */
const LANES = 4;
const LANE_GAP = 3;
const LANE_PX = 24;

/** At most this many markers are listed as text (all stay on the track). */
const LIST_MAX = 300;

function payloadOf(event: StoredEvent): { tag: string; payload: Record<string, unknown> } | null {
  if (event.type !== 5 || typeof event.data !== 'object' || event.data === null) return null;
  const data = event.data as { tag?: unknown; payload?: unknown };
  if (typeof data.tag !== 'string') return null;
  const payload =
    typeof data.payload === 'object' && data.payload !== null
      ? (data.payload as Record<string, unknown>)
      : {};
  return { tag: data.tag, payload };
}

const str = (value: unknown, max = 120): string => {
  const s = typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
};

/** The marker a recorded custom event makes, or null for tags the timeline takes from elsewhere. */
export function markerOfEvent(event: StoredEvent, tab: number): Marker | null {
  const custom = payloadOf(event);
  if (!custom) return null;
  const p = custom.payload;
  const at = event.timestamp;
  switch (custom.tag as keyof SignalPayloads | 'conversion') {
    case 'conversion':
      return { kind: 'conversion', tab, at, label: `Conversion: ${str(p.goal) || 'goal'}` };
    case 'rage_click':
      return { kind: 'rage', tab, at, label: `Rage click on ${str(p.selector) || 'the page'}` };
    case 'dead_click':
      return { kind: 'dead', tab, at, label: `Dead click on ${str(p.selector) || 'the page'}` };
    case 'error':
      return { kind: 'error', tab, at, label: `Error: ${str(p.message) || 'unknown'}` };
    case 'request_failed': {
      const status = Number(p.status) > 0 ? String(p.status) : 'network error';
      return {
        kind: 'request',
        tab,
        at,
        label: `Failed request: ${str(p.method, 16)} ${pageOf(p.url)} (${status})`,
      };
    }
  }
  return null;
}

export interface Timeline {
  element: HTMLElement;
  /** Adds the markers of a tab's newly loaded events. */
  addEvents(tab: number, events: StoredEvent[]): void;
  markers(): Marker[];
}

export function createTimeline(
  visits: Row[],
  named: NamedEventRow[],
  seek: (tab: number, at: number) => void,
): Timeline {
  const markers: Marker[] = [];
  for (const visit of visits) {
    if (typeof visit.started_at !== 'number') continue;
    markers.push({
      kind: 'visit',
      tab: Number(visit.tab ?? 1),
      at: visit.started_at,
      label: `Visit: ${pageOf(visit.url)}`,
    });
  }
  for (const event of named) {
    markers.push({ kind: 'event', tab: event.tab, at: event.timestamp, label: `Event: ${str(event.name)}` });
  }
  /** Bounds of what is loaded, so that the track spans the recording, not only its markers. */
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;

  const element = h('section', { class: 'card timeline-card', 'aria-labelledby': 'timeline-title' });
  const track = h('div', {
    class: 'marker-track',
    role: 'toolbar',
    'aria-label': 'Timeline markers: arrow keys move, Enter plays from the marker',
  });
  const legend = h('ul', { class: 'marker-legend' });
  const list = h('ol', { class: 'marker-list', 'aria-label': 'Markers in time order' });
  const count = h('span', { class: 'count-badge' });
  element.append(
    h('div', { class: 'card-head' }, [h('h2', { id: 'timeline-title' }, ['Timeline']), count]),
    track,
    legend,
    list,
  );
  /** The marker whose button is the track's tab stop. */
  let focusKey: string | null = null;
  const keyOf = (m: Marker) => `${m.kind}|${m.tab}|${m.at}|${m.label}`;

  const render = (): void => {
    markers.sort((a, b) => a.at - b.at || a.tab - b.tab);
    const start = Math.min(first, ...markers.map((m) => m.at));
    const end = Math.max(last, ...markers.map((m) => m.at));
    const span = Math.max(1, end - start);
    const hadFocus = track.contains(document.activeElement);
    if (!markers.some((m) => keyOf(m) === focusKey)) focusKey = markers[0] ? keyOf(markers[0]) : null;
    count.textContent = String(markers.length);
    // Markers closer than LANE_GAP (a share of the track) go on the next lane down, so that each stays
    // a target of its own; beyond the last lane they share the emptiest one.
    const lanes: number[] = [];
    const laneOf = (left: number): number => {
      let lane = lanes.findIndex((end) => left - end >= LANE_GAP);
      if (lane < 0 && lanes.length < LANES) lane = lanes.length;
      if (lane < 0) lane = lanes.indexOf(Math.min(...lanes));
      lanes[lane] = left;
      return lane;
    };
    const buttons = markers.map((marker) => {
      const key = keyOf(marker);
      const when = `${formatClock(marker.at - start)}, tab ${marker.tab}`;
      const button = h('button', {
        type: 'button',
        class: `marker kind-${marker.kind}`,
        'aria-label': `${marker.label} at ${when}`,
        title: `${marker.label} (${when})`,
        tabindex: key === focusKey ? '0' : '-1',
        'data-kind': marker.kind,
        'data-at': String(marker.at),
        'data-tab': String(marker.tab),
        'data-key': key,
      });
      const left = ((marker.at - start) / span) * 100;
      // CSSOM, not a style attribute: allowed by the CSP's style-src.
      button.style.left = `${left}%`;
      button.style.top = `${6 + laneOf(left) * LANE_PX}px`;
      button.addEventListener('click', () => {
        focusKey = key;
        seek(marker.tab, marker.at);
      });
      button.addEventListener('focus', () => {
        focusKey = key;
        for (const other of track.querySelectorAll('button'))
          other.setAttribute('tabindex', other === button ? '0' : '-1');
      });
      return button;
    });
    track.replaceChildren(...buttons);
    track.style.height = `${12 + Math.max(1, lanes.length) * LANE_PX}px`;
    if (hadFocus) track.querySelector<HTMLElement>('button[tabindex="0"]')?.focus();
    legend.replaceChildren(
      ...KINDS.map(([kind, name]) => {
        const n = markers.filter((m) => m.kind === kind).length;
        return h('li', { class: `legend-item kind-${kind} ${n === 0 ? 'none' : ''}`.trim() }, [
          h('span', { class: 'legend-dot', 'aria-hidden': 'true' }),
          `${name} ${n}`,
        ]);
      }),
    );
    const rows: HTMLElement[] = markers.slice(0, LIST_MAX).map((marker) => {
      const button = h(
        'button',
        { type: 'button', class: `marker-row kind-${marker.kind}`, 'data-kind': marker.kind },
        [
          h('span', { class: 'legend-dot', 'aria-hidden': 'true' }),
          h('span', { class: 'marker-label' }, [marker.label]),
          h('span', { class: 'muted small' }, [`${formatClock(marker.at - start)} · tab ${marker.tab}`]),
        ],
      );
      button.addEventListener('click', () => seek(marker.tab, marker.at));
      return h('li', {}, [button]);
    });
    if (markers.length > LIST_MAX) {
      rows.push(h('li', { class: 'muted small' }, [`and ${markers.length - LIST_MAX} more on the track`]));
    }
    list.replaceChildren(...rows);
  };

  track.addEventListener('keydown', (event) => {
    const buttons = [...track.querySelectorAll<HTMLButtonElement>('button')];
    const index = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (index < 0) return;
    const to: Record<string, number> = {
      ArrowRight: Math.min(buttons.length - 1, index + 1),
      ArrowDown: Math.min(buttons.length - 1, index + 1),
      ArrowLeft: Math.max(0, index - 1),
      ArrowUp: Math.max(0, index - 1),
      Home: 0,
      End: buttons.length - 1,
    };
    const next = to[event.key];
    if (next === undefined) return;
    event.preventDefault();
    buttons[next]?.focus();
  });

  render();
  return {
    element,
    addEvents(tab, events) {
      let added = 0;
      for (const event of events) {
        if (event.timestamp < first) first = event.timestamp;
        if (event.timestamp > last) last = event.timestamp;
        const marker = markerOfEvent(event, tab);
        if (marker) {
          markers.push(marker);
          added++;
        }
      }
      if (added > 0 || events.length > 0) render();
    },
    markers: () => [...markers],
  };
}
