// The overview: what happened across sessions in a date range. Sessions per day (with the share that
// struggled), the pages visited and entered (with their site), where visitors came from, what they
// used, how often each goal converted, and how many sessions met rage clicks, dead clicks, errors or
// failed requests: each of those leads to the sessions list, filtered to it.
import { h } from '../dom';
import { type Api, type Overview, toContractDate } from './api';
import { barList, columnChart } from './chart';
import { formatDuration, formatPercent, pageOf } from './format';
import { daysAgo, errorBox, localDay } from './list';

export interface OverviewState {
  /** yyyy-mm-dd, local days, inclusive. */
  from: string;
  to: string;
}

export function defaultOverviewState(): OverviewState {
  return { from: daysAgo(13), to: localDay(new Date()) };
}

export interface OverviewView {
  element: HTMLElement;
  load(): Promise<void>;
}

/** A link to the sessions list over the same days with these filters (list.ts, listStateFromHash). */
function listLink(state: OverviewState, params: Record<string, string>): string {
  return `#/?${new URLSearchParams({ from: state.from, to: state.to, ...params }).toString()}`;
}

export function createOverviewView(api: Api, state: OverviewState): OverviewView {
  const element = h('section', { class: 'overview-view', 'aria-labelledby': 'overview-title' });
  const status = h('div', { class: 'list-summary', role: 'status' });
  const toolbar = h('form', { class: 'toolbar', 'aria-label': 'Date range' });
  const body = h('div', { class: 'overview-body' });
  element.append(
    h('div', { class: 'page-head' }, [h('h1', { id: 'overview-title' }, ['Overview']), status]),
    toolbar,
    body,
  );
  let ticket = 0;

  const load = async (): Promise<void> => {
    const mine = ++ticket;
    element.classList.add('is-loading');
    try {
      const overview = await api.getOverview({
        start_date: toContractDate(new Date(`${state.from}T00:00:00`)),
        end_date: toContractDate(new Date(`${state.to}T23:59:59`)),
        limit: 8,
      });
      if (mine !== ticket) return;
      render(overview);
    } catch (error) {
      if (mine !== ticket) return;
      body.replaceChildren(errorBox(error));
      status.textContent = '';
    } finally {
      if (mine === ticket) element.classList.remove('is-loading');
    }
  };

  const dateInput = (key: keyof OverviewState, label: string): HTMLElement => {
    const input = h('input', { type: 'date', name: key, value: state[key] }) as HTMLInputElement;
    input.addEventListener('change', () => {
      if (!input.value) return;
      state[key] = input.value;
      void load();
    });
    return h('label', { class: 'control' }, [h('span', {}, [label]), input]);
  };
  const preset = (label: string, days: number): HTMLElement => {
    const button = h('button', { type: 'button', class: 'chip-button' }, [label]);
    button.addEventListener('click', () => {
      state.from = daysAgo(days);
      state.to = localDay(new Date());
      renderToolbar();
      void load();
    });
    return button;
  };
  const renderToolbar = (): void => {
    toolbar.replaceChildren(
      h('div', { class: 'toolbar-row' }, [
        dateInput('from', 'From'),
        dateInput('to', 'To'),
        h('div', { class: 'presets' }, [preset('7 days', 6), preset('14 days', 13), preset('30 days', 29)]),
      ]),
    );
    toolbar.onsubmit = (event) => event.preventDefault();
  };

  function render(o: Overview): void {
    const t = o.totals;
    const sessionsWord = (n: number) => `${n} ${n === 1 ? 'session' : 'sessions'}`;
    status.textContent = `${t.sessions} ${t.sessions === 1 ? 'session' : 'sessions'} from ${state.from} to ${state.to}`;
    const f = o.frustration;
    const signal = (key: string, label: string, count: number): HTMLElement =>
      h('li', { class: `signal-stat ${key}` }, [
        h('a', { href: listLink(state, { [key]: '1' }), 'data-signal-link': key }, [
          h('span', { class: 'signal-count' }, [String(count)]),
          h('span', {}, [` ${label}`]),
        ]),
      ]);
    const days = o.per_day.map((d) => ({ label: d.day, value: d.sessions, part: d.frustrated }));
    body.replaceChildren(
      h('div', { class: 'stats' }, [
        stat('Sessions', String(t.sessions)),
        stat('Visits', String(t.visits)),
        stat('Avg. time spent', formatDuration(t.avg_time_spend)),
        stat('Converted', formatPercent(t.conversion_rate), sessionsWord(t.converted_sessions)),
        stat('With frustration', formatPercent(f.rate), sessionsWord(f.sessions)),
      ]),
      h('div', { class: 'overview-grid' }, [
        panel(
          'Sessions per day',
          h('div', {}, [
            columnChart(days, {
              // Drawn in the units it is shown at, so that its labels keep their size on a phone.
              width: Math.max(280, Math.min(900, Math.round(body.clientWidth * (wide() ? 0.62 : 1)) - 40)),
              title: 'Sessions per day',
              valueName: 'sessions',
              partName: 'with frustration',
            }),
            h('p', { class: 'legend muted small' }, [
              h('span', { class: 'swatch all', 'aria-hidden': 'true' }),
              ' all sessions ',
              h('span', { class: 'swatch part', 'aria-hidden': 'true' }),
              ' with rage clicks, dead clicks, errors or failed requests',
            ]),
          ]),
          'wide',
        ),
        panel(
          'Frustration and failures',
          h('div', {}, [
            h('p', { class: 'muted small' }, [
              'Sessions with at least one — open the list filtered to them:',
            ]),
            h('ul', { class: 'signal-stats' }, [
              signal('rage', 'with rage clicks', f.rage_clicks),
              signal('dead', 'with dead clicks', f.dead_clicks),
              signal('errors', 'with errors', f.errors),
              signal('requests', 'with failed requests', f.failed_requests),
            ]),
          ]),
        ),
        panel(
          'Conversion rate per goal',
          barList(
            o.goals.map((g) => ({
              label: g.goal ?? '(no name)',
              value: g.rate,
              display: `${formatPercent(g.rate)} · ${sessionsWord(g.sessions)}`,
            })),
            { empty: 'No goal reached in this range.', max: 1, label: 'Conversion rate per goal' },
          ),
        ),
        panel(
          'Top pages',
          barList(
            o.top_pages.map((p) => ({
              label: pageOf(p.url),
              title: p.url,
              value: p.visits,
              display: `${p.visits} ${p.visits === 1 ? 'visit' : 'visits'}`,
            })),
            { empty: 'No visit in this range.', label: 'Top pages by visits' },
          ),
        ),
        panel(
          'Entry pages',
          barList(
            o.entry_pages.map((p) => ({
              label: pageOf(p.url),
              title: p.url,
              value: p.sessions,
              display: sessionsWord(p.sessions),
              href: listLink(state, { url: p.url }),
            })),
            { empty: 'No session in this range.', label: 'Entry pages by sessions' },
          ),
        ),
        panel(
          'Referrers',
          barList(
            o.referrers.map((r) => ({
              label: r.origin === '' ? 'Direct (no referrer)' : r.origin.replace(/^https?:\/\//, ''),
              title: r.origin,
              value: r.sessions,
              display: sessionsWord(r.sessions),
            })),
            { empty: 'No session in this range.', label: 'Referrers by sessions' },
          ),
        ),
        panel(
          'Devices',
          barList(
            o.devices.map((d) => ({
              label: d.device ?? 'unknown',
              value: d.sessions,
              display: sessionsWord(d.sessions),
              ...(d.device ? { href: listLink(state, { device: d.device }) } : {}),
            })),
            { empty: 'No session in this range.', label: 'Devices by sessions' },
          ),
        ),
        panel(
          'Browsers',
          barList(
            o.browsers.map((b) => ({
              label: b.browser ?? 'unknown',
              value: b.sessions,
              display: sessionsWord(b.sessions),
              ...(b.browser ? { href: listLink(state, { browser: b.browser }) } : {}),
            })),
            { empty: 'No session in this range.', label: 'Browsers by sessions' },
          ),
        ),
      ]),
    );
  }

  renderToolbar();
  return { element, load };
}

/** Whether the overview's grid puts the chart beside other cards (it spans two of three columns). */
function wide(): boolean {
  return window.matchMedia('(min-width: 1101px)').matches;
}

function stat(label: string, value: string, detail?: string): HTMLElement {
  return h('div', { class: 'stat' }, [
    h('div', { class: 'stat-label' }, [label]),
    h('div', { class: 'stat-value' }, [value]),
    detail ? h('div', { class: 'muted small' }, [detail]) : null,
  ]);
}

function panel(title: string, content: HTMLElement, size = ''): HTMLElement {
  return h('section', { class: `card overview-card ${size}`.trim() }, [
    h('div', { class: 'card-head' }, [h('h2', {}, [title])]),
    content,
  ]);
}
