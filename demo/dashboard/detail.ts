// One session: who, how long, the pages in order, the goals reached, web vitals, and the replay.
import { h } from '../dom';
import { type Api, type Row, type SessionEvents, toContractDate } from './api';
import { formatDateTime, formatDuration, pathOf, text } from './format';
import { formatVital, namedEventsOf, vitalsOf } from './insights';
import { errorBox } from './list';
import { createReplayCard, type ReplayCard } from './replay';

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
  let destroyed = false;

  void (async () => {
    try {
      // get-events first: it marks the session read, and the list should show that when we go back.
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

  function render(events: SessionEvents, visits: Row[], conversions: Row[]): void {
    const session = events.session;
    const tabs = [...events.tabs].sort((a, b) => a.tab - b.tab);
    replay = createReplayCard(tabs);
    const vitals = vitalsOf(tabs);
    const named = namedEventsOf(tabs);

    const chips = [session.browser, session.platform_os, session.device, session.country]
      .filter((value) => value !== null && value !== undefined && value !== '')
      .map((value) => h('span', { class: 'chip' }, [String(value)]));

    const stats = h('div', { class: 'stats' }, [
      stat('Time spent', formatDuration(Number(session.time_spend ?? 0))),
      stat('Visits', String(visits.length)),
      stat('Conversions', String(conversions.length)),
      stat('Tabs', String(tabs.length)),
      stat('Started', formatDateTime(text(session.created_at, ''))),
    ]);

    element.replaceChildren(
      backLink,
      h('div', { class: 'detail-head' }, [
        h('div', {}, [
          h('h1', {}, [`Session #${sessionId}`]),
          h('div', { class: 'chips' }, [
            ...chips,
            session.entry_url
              ? h('span', { class: 'chip subtle' }, [`entered at ${pathOf(session.entry_url)}`])
              : null,
          ]),
        ]),
      ]),
      stats,
      h('div', { class: 'detail-grid' }, [
        h('div', { class: 'detail-main' }, [replay.element]),
        h('aside', { class: 'detail-side' }, [
          visitsCard(visits, (tab, at) => replay?.show(tab, at)),
          conversionsCard(conversions),
          vitalsCard(vitals),
          named.length > 0 ? namedCard(named) : null,
        ]),
      ]),
    );
    const first = tabs[0];
    if (first) requestAnimationFrame(() => replay?.show(first.tab));
  }

  return {
    element,
    destroy() {
      destroyed = true;
      replay?.destroy();
    },
  };
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

function vitalsCard(vitals: ReturnType<typeof vitalsOf>): HTMLElement {
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

function namedCard(named: ReturnType<typeof namedEventsOf>): HTMLElement {
  const list = h(
    'ul',
    { class: 'plain-list' },
    named.map((event) =>
      h('li', {}, [
        h('strong', {}, [event.name]),
        h('code', { class: 'muted small truncate' }, [JSON.stringify(event.parameters ?? {})]),
        h('span', { class: 'muted small' }, [toContractDate(new Date(event.timestamp)).slice(11)]),
      ]),
    ),
  );
  return card('Named events', named.length, list, { 'data-card': 'events' });
}
