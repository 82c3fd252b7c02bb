// The sessions list: date range, filters, read status, sorting by every allowed key, and the
// paginator's own links, all sent to `project/sessions` as the contract spells them.
import { type Child, h } from '../dom';
import {
  type Api,
  ApiError,
  type Paginator,
  type SessionQuery,
  type SessionRow,
  type SortKey,
  toContractDate,
} from './api';
import { formatDateTime, formatDuration, formatRelative, pageOf, paginatorLabel, text } from './format';

export interface ListState {
  /** yyyy-mm-dd, local days, inclusive. */
  from: string;
  to: string;
  sortKey: SortKey;
  sortOrder: 'asc' | 'desc';
  readStatus: 'all' | 'read' | 'unread';
  perPage: string;
  page: number;
  browser: string;
  device: string;
  platformOs: string;
  country: string;
  url: string;
  minTime: string;
  conversions: 'any' | 'with' | 'without';
  /** Only sessions with at least one such signal (docs/contract.md, "Events"). */
  rage: boolean;
  dead: boolean;
  errors: boolean;
  requests: boolean;
}

/** The signal filters: the list state's key, the contract's filter, and what the form calls it. */
export const SIGNAL_FILTERS = [
  ['rage', 'has_rage_clicks', 'Rage clicks'],
  ['dead', 'has_dead_clicks', 'Dead clicks'],
  ['errors', 'has_errors', 'Errors'],
  ['requests', 'has_failed_requests', 'Failed requests'],
] as const;

export function localDay(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

export function daysAgo(days: number): string {
  const date = new Date();
  date.setDate(date.getDate() - days);
  return localDay(date);
}

export function defaultListState(): ListState {
  return {
    from: daysAgo(6),
    to: localDay(new Date()),
    sortKey: 'created_at',
    sortOrder: 'desc',
    readStatus: 'all',
    perPage: '15',
    page: 1,
    browser: '',
    device: '',
    platformOs: '',
    country: '',
    url: '',
    minTime: '',
    conversions: 'any',
    rage: false,
    dead: false,
    errors: false,
    requests: false,
  };
}

/** The list's filters a link can carry, as `#/?rage=1&browser=chrome&from=2026-12-01` (the overview's
 *  links): a fresh state with those set, the rest at their defaults. */
export function listStateFromHash(hash: string): Partial<ListState> | null {
  const at = hash.indexOf('?');
  if (at < 0) return null;
  const params = new URLSearchParams(hash.slice(at + 1));
  const patch: Partial<ListState> = { ...defaultListState() };
  const day = /^\d{4}-\d{2}-\d{2}$/;
  const from = params.get('from');
  const to = params.get('to');
  if (from && day.test(from)) patch.from = from;
  if (to && day.test(to)) patch.to = to;
  for (const [key, name] of [
    ['browser', 'browser'],
    ['device', 'device'],
    ['platformOs', 'os'],
    ['country', 'country'],
    ['url', 'url'],
  ] as const) {
    const value = params.get(name);
    if (value) patch[key] = value.slice(0, 256);
  }
  for (const [key] of SIGNAL_FILTERS) if (params.get(key) === '1') patch[key] = true;
  if (params.get('conversions') === 'with') patch.conversions = 'with';
  return patch;
}

/** The request body for the list state: local days become UTC date-times, empty filters stay out. */
export function toQuery(state: ListState): SessionQuery {
  const start = new Date(`${state.from}T00:00:00`);
  const end = new Date(`${state.to}T23:59:59`);
  const filters: SessionQuery['filters'] = {};
  const list = (value: string) =>
    value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean);
  if (state.browser.trim()) filters.browser = list(state.browser);
  if (state.device.trim()) filters.device = list(state.device);
  if (state.platformOs.trim()) filters.platform_os = list(state.platformOs);
  if (state.country.trim()) filters.country = list(state.country);
  if (state.url.trim()) filters.url = state.url.trim();
  if (state.minTime.trim() && Number.isFinite(Number(state.minTime)))
    filters.min_time_spend = Number(state.minTime);
  if (state.conversions !== 'any') filters.has_conversions = state.conversions === 'with';
  for (const [key, filter] of SIGNAL_FILTERS) if (state[key]) filters[filter] = true;
  return {
    start_date: toContractDate(start),
    end_date: toContractDate(end),
    sortKey: state.sortKey,
    sortOrder: state.sortOrder,
    read_status: state.readStatus === 'all' ? null : state.readStatus,
    per_page: state.perPage,
    filters,
  };
}

const COLUMNS: { label: string; key?: SortKey; className?: string }[] = [
  { label: 'Read', className: 'col-dot' },
  { label: 'Session', key: 'id' },
  { label: 'Started', key: 'created_at' },
  { label: 'Entry page' },
  { label: 'Browser', key: 'browser' },
  { label: 'OS', key: 'platform_os' },
  { label: 'Device', key: 'device' },
  { label: 'Country', key: 'country' },
  { label: 'Time spent', key: 'time_spend', className: 'num' },
  { label: 'Visits', className: 'num' },
  { label: 'Conversions', className: 'num' },
  { label: 'Signals' },
];

export interface ListView {
  element: HTMLElement;
  load(): Promise<void>;
}

export function createListView(api: Api, state: ListState, open: (session: SessionRow) => void): ListView {
  const element = h('section', { class: 'list-view' });
  const toolbar = h('form', { class: 'toolbar', 'aria-label': 'Filter sessions' });
  // Announced when a filter or a page changes the list.
  const summary = h('div', { class: 'list-summary', role: 'status' });
  const tableWrap = h('div', { class: 'table-card' });
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' });
  element.append(
    h('div', { class: 'page-head' }, [h('h1', {}, ['Sessions']), summary]),
    toolbar,
    tableWrap,
    pager,
  );

  let loading = 0;
  /** Whether the viewer opened or closed the filters panel (kept across re-renders). */
  let filtersOpen: boolean | undefined;
  let lastPage: Paginator<SessionRow> | null = null;
  const seen = {
    browser: new Set<string>(),
    device: new Set<string>(),
    platform_os: new Set<string>(),
    country: new Set<string>(),
  };

  const load = async (): Promise<void> => {
    const ticket = ++loading;
    element.classList.add('is-loading');
    try {
      const page = await api.listSessions(toQuery(state), state.page);
      if (ticket !== loading) return;
      lastPage = page;
      for (const row of page.data) {
        for (const key of ['browser', 'platform_os', 'country'] as const) {
          const value = row[key];
          if (value) seen[key].add(value);
        }
      }
      keepFocus(toolbar, renderToolbar);
      keepFocus(tableWrap, () => renderTable(page));
    } catch (error) {
      if (ticket !== loading) return;
      tableWrap.replaceChildren(errorBox(error));
      pager.replaceChildren();
    } finally {
      if (ticket === loading) element.classList.remove('is-loading');
    }
  };

  const update = (patch: Partial<ListState>, resetPage = true): void => {
    Object.assign(state, patch);
    if (resetPage) state.page = 1;
    void load();
  };

  function field(label: string, control: HTMLElement, className = ''): HTMLElement {
    return h('label', { class: `control ${className}` }, [h('span', {}, [label]), control]);
  }

  function input(key: keyof ListState, attrs: Record<string, string>): HTMLInputElement {
    const el = h('input', { ...attrs, value: String(state[key]) }) as HTMLInputElement;
    el.addEventListener('change', () => update({ [key]: el.value } as Partial<ListState>));
    return el;
  }

  function select(key: keyof ListState, options: [string, string][]): HTMLSelectElement {
    const el = h(
      'select',
      {},
      options.map(([value, label]) => {
        const option = h('option', { value }, [label]) as HTMLOptionElement;
        option.selected = String(state[key]) === value;
        return option;
      }),
    ) as HTMLSelectElement;
    el.addEventListener('change', () => update({ [key]: el.value } as Partial<ListState>));
    return el;
  }

  function datalist(id: string, values: Set<string>): HTMLElement {
    return h(
      'datalist',
      { id },
      [...values].sort().map((value) => h('option', { value })),
    );
  }

  function segmented(): HTMLElement {
    const options: [ListState['readStatus'], string][] = [
      ['all', 'All'],
      ['unread', 'Unread'],
      ['read', 'Read'],
    ];
    return h(
      'div',
      { class: 'segmented', role: 'group', 'aria-label': 'Read status' },
      options.map(([value, label]) => {
        const button = h('button', { type: 'button', 'aria-pressed': String(state.readStatus === value) }, [
          label,
        ]);
        button.addEventListener('click', () => update({ readStatus: value }));
        return button;
      }),
    );
  }

  /** The signal filters, as checkboxes: checked, only sessions with such a signal. */
  function signalChecks(): HTMLElement {
    return h('fieldset', { class: 'signal-filters' }, [
      h('legend', {}, ['Has']),
      ...SIGNAL_FILTERS.map(([key, filter, label]) => {
        const box = h('input', { type: 'checkbox', name: filter }) as HTMLInputElement;
        box.checked = state[key];
        box.addEventListener('change', () => update({ [key]: box.checked } as Partial<ListState>));
        return h('label', { class: `check signal-${key}` }, [box, h('span', {}, [label])]);
      }),
    ]);
  }

  /** The filters, folded away on a narrow screen (open while any is set), open on a wide one. */
  function filtersPanel(children: HTMLElement[]): HTMLElement {
    const active = activeFilters();
    const panel = h('details', { class: 'filters-panel' }, [
      h('summary', {}, [active > 0 ? `Filters (${active} set)` : 'Filters']),
      h('div', { class: 'toolbar-row filters' }, children),
    ]) as HTMLDetailsElement;
    panel.open = filtersOpen ?? (active > 0 || window.matchMedia('(min-width: 701px)').matches);
    panel.addEventListener('toggle', () => {
      filtersOpen = panel.open;
    });
    return panel;
  }

  function activeFilters(): number {
    return (
      [state.url, state.browser, state.platformOs, state.device, state.country, state.minTime].filter(
        (v) => v.trim() !== '',
      ).length +
      (state.conversions !== 'any' ? 1 : 0) +
      SIGNAL_FILTERS.filter(([key]) => state[key]).length
    );
  }

  function preset(label: string, days: number): HTMLElement {
    const button = h('button', { type: 'button', class: 'chip-button' }, [label]);
    button.addEventListener('click', () => update({ from: daysAgo(days), to: localDay(new Date()) }));
    return button;
  }

  function renderToolbar(): void {
    const refresh = h('button', { type: 'button', class: 'button ghost', title: 'Load the list again' }, [
      'Refresh',
    ]);
    refresh.addEventListener('click', () => void load());
    const reset = h('button', { type: 'button', class: 'button ghost' }, ['Clear filters']);
    reset.addEventListener('click', () => {
      const fresh = defaultListState();
      update({
        ...fresh,
        from: state.from,
        to: state.to,
        sortKey: state.sortKey,
        sortOrder: state.sortOrder,
      });
    });
    toolbar.replaceChildren(
      h('div', { class: 'toolbar-row' }, [
        field('From', input('from', { type: 'date', name: 'from' })),
        field('To', input('to', { type: 'date', name: 'to' })),
        h('div', { class: 'presets' }, [preset('Today', 0), preset('7 days', 6), preset('30 days', 29)]),
        h('div', { class: 'spacer' }),
        segmented(),
        field(
          'Per page',
          select('perPage', [
            ['15', '15'],
            ['30', '30'],
            ['50', '50'],
            ['100', '100'],
          ]),
          'narrow',
        ),
        refresh,
      ]),
      filtersPanel([
        field(
          'Entry URL contains',
          input('url', { type: 'search', name: 'url', placeholder: '/products' }),
          'wide',
        ),
        field(
          'Browser starts with',
          input('browser', { name: 'browser', list: 'dl-browser', placeholder: 'Any', autocomplete: 'off' }),
        ),
        field(
          'OS starts with',
          input('platformOs', {
            name: 'platform_os',
            list: 'dl-os',
            placeholder: 'Any',
            autocomplete: 'off',
          }),
        ),
        field(
          'Device',
          select('device', [
            ['', 'Any'],
            ['desktop', 'Desktop'],
            ['mobile', 'Mobile'],
            ['tablet', 'Tablet'],
          ]),
        ),
        field(
          'Country starts with',
          input('country', { name: 'country', list: 'dl-country', placeholder: 'Any', autocomplete: 'off' }),
        ),
        field(
          'Min. time (s)',
          input('minTime', { type: 'number', min: '0', step: '1', name: 'min_time', placeholder: '0' }),
        ),
        field(
          'Conversions',
          select('conversions', [
            ['any', 'Any'],
            ['with', 'With conversions'],
            ['without', 'Without'],
          ]),
        ),
        signalChecks(),
        reset,
      ]),
      datalist('dl-browser', seen.browser),
      datalist('dl-os', seen.platform_os),
      datalist('dl-country', seen.country),
    );
    toolbar.onsubmit = (event) => event.preventDefault();
  }

  function header(): HTMLElement {
    return h(
      'tr',
      {},
      COLUMNS.map((column) => {
        if (!column.key) {
          // The read dot's column shows no heading, but a screen reader still says what it holds.
          const label =
            column.className === 'col-dot'
              ? h('span', { class: 'visually-hidden' }, [column.label])
              : column.label;
          return h('th', { class: column.className, scope: 'col' }, [label]);
        }
        const key = column.key;
        const active = state.sortKey === key;
        const button = h('button', { type: 'button', class: 'sort', 'data-sort': key }, [
          column.label,
          h('span', { class: 'arrow' }, [active ? (state.sortOrder === 'asc' ? '↑' : '↓') : '↕']),
        ]);
        button.addEventListener('click', () =>
          update({ sortKey: key, sortOrder: active && state.sortOrder === 'desc' ? 'asc' : 'desc' }),
        );
        return h(
          'th',
          {
            class: `${column.className ?? ''} ${active ? 'sorted' : ''}`.trim(),
            scope: 'col',
            'aria-sort': active ? (state.sortOrder === 'asc' ? 'ascending' : 'descending') : undefined,
          },
          [button],
        );
      }),
    );
  }

  function row(session: SessionRow): HTMLElement {
    const unread = session.read_status !== 'read';
    const href = `#/session/${session.id}`;
    // The session's number is a real link (a tab stop, opens in a new tab, read as a link); the rest of
    // the row is a larger target for the mouse.
    const link = h('a', { href, class: 'session-id', 'data-session-link': String(session.id) }, [
      `#${session.id}`,
    ]);
    const cell = (label: string, children: (Node | string | null)[], attrs: Record<string, string> = {}) =>
      h('td', { 'data-label': label, ...attrs }, children);
    const tr = h('tr', { class: unread ? 'unread' : '', 'data-session': String(session.id) }, [
      h('td', { class: 'col-dot' }, [
        h('span', { class: 'unread-dot', title: unread ? 'Unread' : 'Read' }),
        h('span', { class: 'visually-hidden' }, [unread ? 'Unread' : 'Read']),
      ]),
      cell('Session', [link]),
      cell('Started', [
        h('div', {}, [formatDateTime(session.created_at)]),
        h('div', { class: 'muted small' }, [formatRelative(session.created_at)]),
      ]),
      cell('Entry page', [pageOf(session.entry_url, { query: true })], {
        class: 'url-cell',
        title: text(session.entry_url, ''),
      }),
      cell('Browser', [text(session.browser)]),
      cell('OS', [text(session.platform_os)]),
      cell('Device', [text(session.device)]),
      cell('Country', [text(session.country)]),
      cell('Time spent', [formatDuration(session.time_spend)], { class: 'num' }),
      cell('Visits', [String(session.visits_count ?? 0)], { class: 'num' }),
      cell(
        'Conversions',
        [
          session.conversions_count > 0
            ? h('span', { class: 'pill good' }, [String(session.conversions_count)])
            : h('span', { class: 'muted' }, ['0']),
        ],
        { class: 'num' },
      ),
      cell('Signals', [signalBadges(session)]),
    ]);
    tr.addEventListener('click', (event) => {
      if (event.target instanceof Element && event.target.closest('a')) return;
      open(session);
    });
    return tr;
  }

  function renderTable(page: Paginator<SessionRow>): void {
    summary.replaceChildren(
      h('span', {}, [
        page.total === 1 ? '1 session' : `${page.total} sessions`,
        page.total > 0
          ? h('span', { class: 'muted' }, [` · showing ${page.from ?? 0}–${page.to ?? 0}`])
          : null,
      ]),
    );
    const body: Child[] =
      page.data.length > 0
        ? page.data.map(row)
        : [
            h('tr', {}, [
              h('td', { colspan: String(COLUMNS.length), class: 'empty-cell' }, [
                h('strong', {}, ['No sessions match.']),
                h('div', { class: 'muted' }, [
                  'Open the shop in another tab, click around, then refresh this list.',
                ]),
              ]),
            ]),
          ];
    tableWrap.replaceChildren(
      h('table', { class: 'sessions' }, [h('thead', {}, [header()]), h('tbody', {}, body)]),
    );
    renderPager(page);
  }

  function renderPager(page: Paginator<SessionRow>): void {
    if (page.last_page <= 1) {
      pager.replaceChildren();
      return;
    }
    pager.replaceChildren(
      ...page.links.map((link) => {
        const target = link.page ?? pageFromUrl(link.url);
        const button = h(
          'button',
          {
            type: 'button',
            class: `page ${link.active ? 'active' : ''}`.trim(),
            'aria-current': link.active ? 'page' : undefined,
          },
          [paginatorLabel(link.label)],
        ) as HTMLButtonElement;
        button.disabled = target === null || link.active;
        button.addEventListener('click', () => {
          if (target !== null) update({ page: target }, false);
        });
        return button;
      }),
    );
  }

  renderToolbar();
  return {
    element,
    load,
    get lastPage() {
      return lastPage;
    },
  } as ListView;
}

const FOCUSABLE = 'input, select, button, summary, a[href], [tabindex="0"]';

/**
 * Re-renders a part of the list without losing the keyboard's place: a filter, a sort button or a row
 * that had focus has it again afterwards (the same session's row, the same sort key, else the control
 * at the same position), instead of focus falling back to the page's start.
 */
function keepFocus(root: HTMLElement, render: () => void): void {
  const active = document.activeElement;
  if (!(active instanceof HTMLElement) || !root.contains(active)) {
    render();
    return;
  }
  const index = [...root.querySelectorAll(FOCUSABLE)].indexOf(active);
  const { sessionLink, sort } = active.dataset;
  render();
  const again =
    (sessionLink
      ? root.querySelector<HTMLElement>(`a[data-session-link="${CSS.escape(sessionLink)}"]`)
      : null) ??
    (sort ? root.querySelector<HTMLElement>(`button[data-sort="${CSS.escape(sort)}"]`) : null) ??
    root.querySelectorAll<HTMLElement>(FOCUSABLE)[index] ??
    null;
  again?.focus();
}

function pageFromUrl(url: string | null): number | null {
  if (!url) return null;
  try {
    const page = Number(new URL(url, location.href).searchParams.get('page'));
    return Number.isInteger(page) && page > 0 ? page : null;
  } catch {
    return null;
  }
}

/** Small badges of a session's signals, e.g. "2 rage", or a muted dash when it has none. */
export function signalBadges(session: Partial<SessionRow>): HTMLElement {
  // Short words on the badge, the whole phrase for a screen reader and a pointer's title.
  const kinds = [
    ['rage', session.rage_clicks, 'rage', 'rage click', 'rage clicks'],
    ['dead', session.dead_clicks, 'dead', 'dead click', 'dead clicks'],
    ['error', session.errors, 'error', 'error', 'errors'],
    ['request', session.failed_requests, 'failed', 'failed request', 'failed requests'],
  ] as const;
  const badges = kinds
    .filter(([, count]) => typeof count === 'number' && count > 0)
    .map(([kind, count, short, one, many]) => {
      const phrase = `${count} ${count === 1 ? one : many}`;
      return h('span', { class: `signal-badge ${kind}`, title: phrase }, [
        h('span', { 'aria-hidden': 'true' }, [`${count} ${short}`]),
        h('span', { class: 'visually-hidden' }, [phrase]),
      ]);
    });
  return badges.length > 0
    ? h('span', { class: 'signal-badges' }, badges)
    : h('span', { class: 'muted' }, ['–']);
}

export function errorBox(error: unknown): HTMLElement {
  const message = error instanceof Error ? error.message : String(error);
  const hint =
    error instanceof ApiError && error.status === 401
      ? 'Your sign-in has ended. Sign in again.'
      : 'Is the collector running? Start it with npm start.';
  return h('div', { class: 'error-box', role: 'alert' }, [h('strong', {}, [message]), h('div', {}, [hint])]);
}
