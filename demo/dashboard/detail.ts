// One session: who, how long, the pages in order, the goals reached, web vitals, and the replay.
import { h } from '../dom';
import { type Api, type EventsPage, type Row, toContractDate } from './api';
import { createEventFeed, type EventFeed } from './feed';
import { formatDateTime, formatDuration, pageOf, pathOf, text } from './format';
import { formatVital, type NamedEvent, type Vital } from './insights';
import { errorBox, signalBadges } from './list';
import { createReplayCard, type ReplayCard } from './replay';
import { createTimeline } from './timeline';

export interface DetailView {
  element: HTMLElement;
  destroy(): void;
}

export function createDetailView(api: Api, sessionId: number, back: () => void): DetailView {
  const element = h('section', { class: 'detail-view is-loading', 'data-session-detail': String(sessionId) });
  const backLink = h('a', { href: '#/', class: 'back' }, ['← All sessions']);
  backLink.addEventListener('click', (event) => {
    event.preventDefault();
    back();
  });
  element.append(
    backLink,
    h('h1', {}, [`Session #${sessionId}`]),
    h('div', { class: 'loading-line' }, ['Loading…']),
  );
  let replay: ReplayCard | null = null;
  let feed: EventFeed | null = null;
  let unsubscribe: (() => void) | null = null;
  let destroyed = false;

  void (async () => {
    try {
      // get-events first: it marks the session read, and the list should show that when we go back.
      // Only its first page: the replay starts on it and the feed loads the rest while it plays.
      const events = await api.getEvents(sessionId);
      const [visits, conversions] = await Promise.all([
        api.getVisits(sessionId),
        api.getConversions(sessionId),
      ]);
      if (destroyed) return;
      render(events, visits, conversions);
    } catch (error) {
      if (destroyed) return;
      element.replaceChildren(backLink, h('h1', {}, [`Session #${sessionId}`]), errorBox(error));
    } finally {
      element.classList.remove('is-loading');
    }
  })();

  function render(events: EventsPage, visits: Row[], conversions: Row[]): void {
    const session = events.session;
    // A tab with a recording has visits (a page load starts one): the replay offers those tabs and the
    // first page's, and loads a tab's pages when it is shown.
    const visitTabs = visits
      .map((visit) => Number(visit.tab ?? 1))
      .filter((tab) => Number.isSafeInteger(tab));
    feed = createEventFeed(api, sessionId, visitTabs, events);
    replay = createReplayCard(feed);
    // From the read endpoints' own rows, not from the recording, which may still be loading.
    const vitals = vitalsOfVisits(visits);
    const named: NamedEvent[] = events.named_events.map((event) => ({
      name: event.name,
      parameters: event.parameters,
      tab: event.tab,
      timestamp: event.timestamp,
    }));

    // The timeline: visits and named events from the read endpoints' rows, conversions and signals
    // from the recording as its pages arrive.
    const timeline = createTimeline(visits, events.named_events, (tab, at) => replay?.show(tab, at));
    for (const tab of feed.tabs()) timeline.addEvents(tab.tab, tab.events);
    unsubscribe = feed.subscribe((tab, added) => timeline.addEvents(tab, added));
    const irregular = session.irregular_traffic;

    const chips = [session.browser, session.platform_os, session.device, session.country]
      .filter((value) => value !== null && value !== undefined && value !== '')
      .map((value) => h('span', { class: 'chip' }, [String(value)]));

    const stats = h('div', { class: 'stats' }, [
      stat('Time spent', formatDuration(Number(session.time_spend ?? 0))),
      stat('Visits', String(visits.length)),
      stat('Conversions', String(conversions.length)),
      stat('Tabs', String(feed.tabs().length)),
      stat('Started', formatDateTime(text(session.created_at, ''))),
    ]);

    element.replaceChildren(
      backLink,
      h('div', { class: 'detail-head' }, [
        h('div', {}, [
          h('h1', {}, [`Session #${sessionId}`]),
          h('div', { class: 'chips' }, [
            ...chips,
            irregular?.is_irregular
              ? h(
                  'span',
                  {
                    class: 'chip warn',
                    'data-irregular': 'true',
                    title: `Irregular traffic: ${irregular.reasons.join(', ')}`,
                  },
                  [`Irregular traffic: ${irregular.reasons.map((r) => r.replace(/-/g, ' ')).join(', ')}`],
                )
              : null,
            signalBadges(session),
          ]),
          h('dl', { class: 'facts' }, [
            fact(
              'Entry page',
              session.entry_url ? pageOf(session.entry_url, { query: true }) : '–',
              session.entry_url ?? undefined,
            ),
            fact('Referrer', session.referrer ? session.referrer : 'none (direct)', undefined, 'referrer'),
            fact('External id', session.external_id ?? 'not identified', undefined, 'external-id'),
          ]),
        ]),
      ]),
      stats,
      h('div', { class: 'detail-grid' }, [
        h('div', { class: 'detail-main' }, [replay.element, timeline.element]),
        h('aside', { class: 'detail-side' }, [
          visitsCard(visits, (tab, at) => replay?.show(tab, at)),
          conversionsCard(conversions),
          vitalsCard(vitals),
          named.length > 0 ? namedCard(named, (tab, at) => replay?.show(tab, at)) : null,
        ]),
      ]),
    );
    // The first tab with events, or one whose pages are still to come.
    const first = feed.tabs().find((t) => t.events.length > 0 || !t.done);
    if (first) requestAnimationFrame(() => replay?.show(first.tab));
  }

  return {
    element,
    destroy() {
      destroyed = true;
      unsubscribe?.();
      replay?.destroy();
      feed?.destroy();
    },
  };
}

/**
 * Web vitals per page from get-visits' rows (visits and their reports in time order): the last report
 * of a metric on a page wins, as web-vitals reports a metric again as it changes (CLS, INP).
 */
function vitalsOfVisits(visits: Row[]): Vital[] {
  const latest = new Map<string, Vital>();
  for (const visit of visits) {
    const url = String(visit.url ?? '');
    const tab = Number(visit.tab ?? 1);
    const reports = Array.isArray(visit.vitals) ? (visit.vitals as Row[]) : [];
    for (const report of reports) {
      const name = String(report.name ?? '');
      const value = Number(report.value);
      if (!name || !Number.isFinite(value)) continue;
      latest.set(`${tab}|${url}|${name}`, {
        name,
        value,
        rating: String(report.rating ?? ''),
        url,
        tab,
        timestamp: typeof visit.started_at === 'number' ? visit.started_at : 0,
      });
    }
  }
  return [...latest.values()].sort((a, b) => a.timestamp - b.timestamp);
}

function fact(label: string, value: string, title?: string, key?: string): HTMLElement {
  return h('div', { class: 'fact', 'data-fact': key }, [
    h('dt', {}, [label]),
    h('dd', { title: title ?? value }, [value]),
  ]);
}

function stat(label: string, value: string): HTMLElement {
  return h('div', { class: 'stat' }, [
    h('div', { class: 'stat-label' }, [label]),
    h('div', { class: 'stat-value' }, [value]),
  ]);
}

function card(
  title: string,
  count: number,
  body: HTMLElement,
  attrs: Record<string, string> = {},
): HTMLElement {
  return h('section', { class: 'card', ...attrs }, [
    h('div', { class: 'card-head' }, [
      h('h2', {}, [title]),
      h('span', { class: 'count-badge' }, [String(count)]),
    ]),
    body,
  ]);
}

function visitsCard(visits: Row[], seek: (tab: number, at?: number) => void): HTMLElement {
  if (visits.length === 0)
    return card('Visits', 0, h('p', { class: 'muted' }, ['No visit stored yet.']), { 'data-card': 'visits' });
  const list = h(
    'ol',
    { class: 'timeline' },
    visits.map((visit) => {
      const tab = Number(visit.tab ?? 1);
      const at = typeof visit.started_at === 'number' ? visit.started_at : undefined;
      const item = h('li', { 'data-visit': text(visit.id, '') }, [
        h('button', { type: 'button', class: 'timeline-item', title: 'Play from this visit' }, [
          h('div', { class: 'timeline-main' }, [
            h('span', { class: 'path' }, [pathOf(visit.url)]),
            h('span', { class: 'muted small' }, [text(visit.title, '')]),
          ]),
          h('div', { class: 'timeline-meta' }, [
            h('span', { class: 'pill' }, [`tab ${tab}`]),
            visit.navigation && visit.navigation !== 'load'
              ? h('span', { class: 'pill subtle' }, [String(visit.navigation)])
              : null,
            h('span', { class: 'muted small' }, [formatDuration(Number(visit.time_spend ?? 0))]),
          ]),
        ]),
      ]);
      item.querySelector('button')?.addEventListener('click', () => seek(tab, at));
      return item;
    }),
  );
  return card('Visits', visits.length, list, { 'data-card': 'visits' });
}

function conversionsCard(conversions: Row[]): HTMLElement {
  if (conversions.length === 0) {
    return card('Conversions', 0, h('p', { class: 'muted' }, ['No goal reached in this session.']), {
      'data-card': 'conversions',
    });
  }
  const list = h(
    'ul',
    { class: 'plain-list' },
    conversions.map((conversion) =>
      h('li', {}, [
        h('span', { class: `pill ${conversion.type === 'click' ? 'accent' : 'good'}` }, [
          text(conversion.type),
        ]),
        h('strong', {}, [text(conversion.goal ?? conversion.name)]),
        h('span', { class: 'muted small truncate' }, [
          conversion.type === 'url' ? pathOf(conversion.target) : text(conversion.target, ''),
        ]),
      ]),
    ),
  );
  return card('Conversions', conversions.length, list, { 'data-card': 'conversions' });
}

function vitalsCard(vitals: Vital[]): HTMLElement {
  if (vitals.length === 0) {
    return card('Web vitals', 0, h('p', { class: 'muted' }, ['No web vital reported yet.']), {
      'data-card': 'vitals',
    });
  }
  const byPage = new Map<string, typeof vitals>();
  for (const vital of vitals) {
    const key = `${vital.tab} ${vital.url}`;
    byPage.set(key, [...(byPage.get(key) ?? []), vital]);
  }
  const order = ['LCP', 'INP', 'CLS', 'FCP', 'TTFB'];
  const body = h(
    'div',
    { class: 'vitals' },
    [...byPage.values()].map((group) =>
      h('div', { class: 'vital-page' }, [
        h('div', { class: 'muted small' }, [pathOf(group[0]?.url)]),
        h(
          'div',
          { class: 'vital-grid' },
          [...group]
            .sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name))
            .map((vital) =>
              h('div', { class: `vital ${vital.rating}`, 'data-vital': vital.name }, [
                h('span', { class: 'vital-name' }, [vital.name]),
                h('span', { class: 'vital-value' }, [formatVital(vital.name, vital.value)]),
              ]),
            ),
        ),
      ]),
    ),
  );
  return card('Web vitals', vitals.length, body, { 'data-card': 'vitals' });
}

function namedCard(named: NamedEvent[], seek: (tab: number, at: number) => void): HTMLElement {
  const list = h(
    'ul',
    { class: 'plain-list' },
    named.map((event) => {
      const button = h('button', { type: 'button', class: 'row-button', title: 'Play from this event' }, [
        h('strong', {}, [event.name]),
        h('code', { class: 'muted small truncate' }, [JSON.stringify(event.parameters ?? {})]),
        h('span', { class: 'muted small' }, [toContractDate(new Date(event.timestamp)).slice(11)]),
      ]);
      button.addEventListener('click', () => seek(event.tab, event.timestamp));
      return h('li', {}, [button]);
    }),
  );
  return card('Named events', named.length, list, { 'data-card': 'events' });
}
