// Renders the QA panel's state into its shadow root. Rebuilt from the state on each animation frame
// that follows new debug events: simpler than patching, and cheap at a few dozen rows.
import { h } from '../dom';
import { type BatchRow, formatBytes, type PanelState, shortIdentifier } from './state';

function stat(label: string, value: string, sub: string): HTMLElement {
  return h('div', { class: 'stat' }, [
    h('div', { class: 'label' }, [label]),
    h('div', { class: 'value' }, [value]),
    h('div', { class: 'sub' }, [sub]),
  ]);
}

function time(at: number): string {
  return new Date(at).toLocaleTimeString([], { hour12: false });
}

function statusCell(row: BatchRow): HTMLElement {
  if (row.status === undefined) return h('span', { class: 'status pending' }, ['…']);
  const ok = row.status >= 200 && row.status < 300;
  const warn = row.status === 429 || row.status === 413;
  const label = row.status === 0 ? 'net' : String(row.status);
  const title = [row.error, row.retryAfter !== undefined ? `Retry-After ${row.retryAfter}s` : '']
    .filter(Boolean)
    .join(' · ');
  return h('span', { class: `status ${ok ? 'ok' : warn ? 'warn' : 'bad'}`, title: title || undefined }, [
    label,
  ]);
}

function batchTable(state: PanelState): HTMLElement {
  if (state.batches.length === 0) return h('div', { class: 'empty' }, ['No batch sent yet.']);
  const head = h(
    'tr',
    {},
    ['#', 'time', 'events', 'raw', 'sent', 'via', 'limit', 'status'].map((t) => h('th', {}, [t])),
  );
  const rows = state.batches.map((row) =>
    h('tr', { 'data-batch': String(row.id) }, [
      h('td', {}, [`${row.id}${row.attempts > 1 ? ` ×${row.attempts}` : ''}`]),
      h('td', {}, [time(row.sentAt)]),
      h('td', {}, [String(row.events)]),
      h('td', {}, [formatBytes(row.rawBytes)]),
      h('td', {}, [formatBytes(row.sentBytes), row.compressed ? h('span', { class: 'gz' }, [' gz']) : '']),
      h('td', {}, [row.transport]),
      h('td', {}, [row.rateLimit ? `${row.rateLimit.remaining}/${row.rateLimit.limit}` : '–']),
      h('td', {}, [statusCell(row)]),
    ]),
  );
  return h('table', {}, [h('thead', {}, [head]), h('tbody', {}, rows)]);
}

function dropTable(state: PanelState): HTMLElement {
  if (state.drops.length === 0) return h('div', { class: 'empty' }, ['Nothing dropped.']);
  return h(
    'table',
    {},
    state.drops.map((drop) =>
      h('tr', { class: 'drop' }, [
        h('td', {}, [drop.reason]),
        h('td', { class: 'left muted' }, [drop.detail ?? '']),
        h('td', {}, [`×${drop.count}`]),
        h('td', {}, [time(drop.at)]),
      ]),
    ),
  );
}

function stateChips(state: PanelState): HTMLElement {
  const chips: HTMLElement[] = [];
  if (state.tracking === undefined) chips.push(h('span', { class: 'chip' }, ['starting']));
  else if (!state.tracking)
    chips.push(h('span', { class: 'chip bad' }, [`off: ${state.stateReason ?? 'stopped'}`]));
  else {
    chips.push(h('span', { class: 'chip ok' }, ['tracking']));
    chips.push(
      state.recording
        ? h('span', { class: 'chip ok' }, ['recording'])
        : h('span', { class: 'chip warn' }, [
            `no replay${state.stateReason ? `: ${state.stateReason}` : ''}`,
          ]),
    );
  }
  return h('div', { class: 'chips' }, chips);
}

export function renderBody(state: PanelState, copy: (text: string) => void): HTMLElement[] {
  const session = state.session
    ? h('div', { class: 'session', 'data-qa': 'session' }, [
        h('span', { class: 'muted' }, [
          'Session ',
          h('code', { title: state.session.identifier, 'data-qa': 'session-id' }, [
            shortIdentifier(state.session.identifier),
          ]),
          state.session.minted ? ' · new' : ' · resumed',
        ]),
        h('span', {}, ['Tab ', h('code', { 'data-qa': 'tab' }, [String(state.session.tab ?? '–')])]),
        copyButton(state.session.identifier, copy),
      ])
    : h('div', { class: 'session muted' }, ['No session yet.']);
  const totals = state.totals;
  const ratio = totals.rawBytes > 0 ? Math.round((1 - totals.sentBytes / totals.rawBytes) * 100) : 0;
  const stats = h('div', { class: 'stats' }, [
    stat('Queue', String(state.queue.events), formatBytes(state.queue.bytes)),
    stat('Outbox', String(state.outbox.batches), formatBytes(state.outbox.bytes)),
    stat('Timer', state.timer === undefined ? '–' : `${state.timer.toFixed(1)}s`, 'on this page'),
    stat('Delivered', String(totals.ok), `${totals.failed} failed · −${ratio}%`),
  ]);
  const limit = state.lastRateLimit
    ? `rate limit ${state.lastRateLimit.remaining}/${state.lastRateLimit.limit}`
    : '';
  return [
    session,
    stats,
    h('h3', {}, [h('span', {}, ['Batches']), h('span', {}, [limit])]),
    batchTable(state),
    h('h3', {}, [h('span', {}, ['Dropped'])]),
    dropTable(state),
  ];
}

function copyButton(text: string, copy: (text: string) => void): HTMLElement {
  const button = h('button', { class: 'copy', type: 'button', title: 'Copy the full identifier' }, ['Copy']);
  button.addEventListener('click', () => copy(text));
  return button;
}

export function renderHeader(state: PanelState): HTMLElement[] {
  return [h('h2', {}, ['Spoor QA']), stateChips(state)];
}

/** The toggle's dot: green when delivering, amber while something waits, red when off or failing. */
export function dotClass(state: PanelState): string {
  if (state.tracking === false) return 'dot bad';
  const last = state.batches[0];
  if (last?.status !== undefined && (last.status === 0 || last.status >= 500)) return 'dot bad';
  if (state.outbox.batches > 0 || last?.status === 429) return 'dot warn';
  return state.tracking ? 'dot on' : 'dot';
}
