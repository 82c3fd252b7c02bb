// The replay card: rrweb-player over one tab's events, tab by tab. The player is recreated when the
// tab changes: rrweb's Replayer plays one ordered stream, and each tab is its own stream. A tab starts
// playing as soon as its first page holds a full snapshot; later pages are added to the running
// player (rrweb's addEvent), and a replay that caught up with the pages loaded so far waits for the
// next one and goes on from where it stopped.
import type { eventWithTime } from '@rrweb/types';
import Player from 'rrweb-player';
import { h } from '../dom';
import type { EventFeed, TabState } from './feed';
import { playable } from './insights';

export interface ReplayCard {
  element: HTMLElement;
  /** Shows the tab and, when given, jumps to that moment (epoch ms). */
  show(tab: number, at?: number): void;
  destroy(): void;
}

interface PlayerHandle {
  goto(timeOffset: number, play?: boolean): void;
  getMetaData(): { totalTime: number };
  pause(): void;
  addEvent(event: eventWithTime): void;
  getReplayer(): { getCurrentTime(): number };
  $destroy(): void;
  addEventListener(event: string, handler: (params: unknown) => unknown): void;
}

export function createReplayCard(feed: EventFeed): ReplayCard {
  const element = h('section', { class: 'card replay-card', 'data-replay-state': 'idle' });
  const switcher = h('div', { class: 'tab-switcher', role: 'tablist', 'aria-label': 'Tabs of this session' });
  // The switcher's tabs control this panel (ARIA tabs): it is named by the selected tab.
  const stage = h('div', { class: 'replay-stage', role: 'tabpanel', id: 'replay-panel' });
  const caption = h('div', { class: 'replay-caption muted small' });
  element.append(h('div', { class: 'card-head' }, [h('h2', {}, ['Replay']), switcher]), stage, caption);

  let player: PlayerHandle | null = null;
  let current = -1;
  /** Where the player stopped for want of events (ms from the tab's first event), else null. */
  let waitingAt: number | null = null;
  /** A moment to jump to once the tab can play (epoch ms). */
  let pendingAt: number | undefined;
  let loadError: string | null = null;

  const setState = (value: string): void => {
    element.dataset.replayState = value;
  };

  const destroyPlayer = (): void => {
    player?.$destroy();
    player = null;
    waitingAt = null;
    stage.replaceChildren();
  };

  // A button per tab that has events or may still have some; a tab whose pages all came empty has none.
  const buttons = new Map<number, { button: HTMLElement; count: HTMLElement }>();
  for (const { tab, events, done } of feed.tabs()) {
    if (done && events.length === 0) continue;
    const count = h('span', { class: 'count' }, [String(events.length)]);
    const button = h(
      'button',
      {
        type: 'button',
        role: 'tab',
        id: `replay-tab-${tab}`,
        'aria-controls': 'replay-panel',
        'aria-selected': 'false',
        tabindex: '-1',
        'data-tab': String(tab),
      },
      [`Tab ${tab}`, h('span', { class: 'visually-hidden' }, [', events: ']), count],
    );
    button.addEventListener('click', () => show(tab));
    buttons.set(tab, { button, count });
    switcher.append(button);
  }

  // ARIA tabs: one tab stop (the selected tab); arrow keys, Home and End move and select.
  switcher.addEventListener('keydown', (event) => {
    const tabs = [...switcher.querySelectorAll<HTMLButtonElement>('[role="tab"]')];
    const index = tabs.indexOf(document.activeElement as HTMLButtonElement);
    if (index < 0 || tabs.length === 0) return;
    const to: Record<string, number> = {
      ArrowRight: (index + 1) % tabs.length,
      ArrowLeft: (index - 1 + tabs.length) % tabs.length,
      Home: 0,
      End: tabs.length - 1,
    };
    const next = tabs[to[event.key] ?? -1];
    if (!next) return;
    event.preventDefault();
    next.focus();
    show(Number(next.dataset.tab));
  });

  const describe = (entry: TabState): void => {
    const first = entry.events[0]?.timestamp ?? 0;
    const last = entry.events[entry.events.length - 1]?.timestamp ?? first;
    const loading = entry.done ? '' : ' · loading the rest…';
    caption.textContent = `Tab ${entry.tab} · ${entry.events.length} events · ${Math.round((last - first) / 1000)} s recorded${loading}`;
    if (loadError) caption.textContent += ` · ${loadError}`;
  };

  const notice = (title: string, detail?: string): void => {
    stage.replaceChildren(
      h('div', { class: 'replay-empty' }, [
        h('strong', {}, [title]),
        detail ? h('div', { class: 'muted' }, [detail]) : null,
      ]),
    );
  };

  /** Builds the player for the current tab once it can play; until then says why it cannot. */
  const mount = (entry: TabState): void => {
    if (!playable(entry.events)) {
      if (!entry.done && !loadError) {
        setState('loading');
        notice('Loading this tab’s recording…');
      } else {
        setState('empty');
        notice(
          'Nothing to replay in this tab yet.',
          'Its recording has no full snapshot: recording was off, or its first batch has not arrived.',
        );
      }
      describe(entry);
      return;
    }
    stage.replaceChildren();
    const width = Math.max(240, Math.floor(stage.clientWidth || 800));
    const height = Math.round(width * 0.58);
    // The player keeps the array it is given and adds to it: it gets a copy of what is loaded so far.
    // A replay is motion: for a viewer who asked for less, it waits for the play button.
    const still = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    const created = new Player({
      target: stage,
      props: {
        events: entry.events.slice() as unknown as eventWithTime[],
        width,
        height,
        autoPlay: !still,
        skipInactive: true,
        showController: true,
        // Replaying a recorded focus would move the viewer's own keyboard focus into the frame, away
        // from the player's controls.
        triggerFocus: false,
        speedOption: [1, 2, 4, 8],
        // The snippet's custom events get their own colours on the timeline.
        tags: {
          visit: '#2f7d6d',
          conversion: '#d9822b',
          'web-vital': '#7a5af8',
          event: '#3b82f6',
          rage_click: '#c0262d',
          dead_click: '#8a6d00',
          error: '#b42318',
          request_failed: '#9e3c8c',
        },
      },
    }) as unknown as PlayerHandle;
    player = created;
    labelControls(stage, created, entry.tab, !still);
    // Where the replay stands, as the visitor's clock (epoch ms): what a timeline marker's seek moved.
    const origin = entry.events[0]?.timestamp ?? 0;
    created.addEventListener('ui-update-current-time', (detail) => {
      const time = payloadOf(detail);
      if (player === created && typeof time === 'number') element.dataset.position = String(origin + time);
    });
    setState(still ? 'paused' : 'playing');
    created.addEventListener('ui-update-player-state', (detail) => {
      if (player === created && payloadOf(detail) === 'playing' && element.dataset.replayState === 'paused') {
        setState('playing');
      }
    });
    created.addEventListener('finish', () => {
      if (player !== created) return;
      const tab = feed.tab(current);
      if (tab && !tab.done && !loadError) {
        // Caught up with the pages loaded so far: go on when the next one arrives.
        waitingAt = created.getReplayer().getCurrentTime();
        setState('waiting');
      } else {
        setState('finished');
      }
    });
    describe(entry);
    if (pendingAt !== undefined) {
      const first = entry.events[0]?.timestamp ?? pendingAt;
      created.goto(Math.max(0, pendingAt - first), true);
      pendingAt = undefined;
      setState('playing');
    }
  };

  const show = (tab: number, at?: number): void => {
    const entry = feed.tab(tab);
    if (!entry) return;
    if (tab !== current || !player) {
      current = tab;
      destroyPlayer();
      for (const button of switcher.querySelectorAll('button')) {
        const selected = button.dataset.tab === String(tab);
        button.setAttribute('aria-selected', String(selected));
        button.setAttribute('tabindex', selected ? '0' : '-1');
      }
      stage.setAttribute('aria-labelledby', `replay-tab-${tab}`);
      feed.focus(tab);
      pendingAt = at;
      mount(entry);
      return;
    }
    if (at !== undefined) {
      const first = entry.events[0]?.timestamp ?? at;
      waitingAt = null;
      player.goto(Math.max(0, at - first), true);
      setState('playing');
    }
  };

  const unsubscribe = feed.subscribe((tab, added, error) => {
    const entry = feed.tab(tab);
    const button = buttons.get(tab);
    if (button && entry) {
      button.count.textContent = String(entry.events.length);
      if (entry.done && entry.events.length === 0 && tab !== current) {
        button.button.remove();
        buttons.delete(tab);
      }
    }
    if (error !== undefined) {
      loadError = `the rest could not be loaded: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (tab !== current || !entry) return;
    if (!player) {
      mount(entry);
      return;
    }
    for (const event of added) player.addEvent(event as unknown as eventWithTime);
    describe(entry);
    if (waitingAt !== null) {
      const at = waitingAt;
      const resumed = player;
      waitingAt = null;
      // addEvent hands each event to the replayer in a microtask: resume once they are all in.
      window.setTimeout(() => {
        if (player !== resumed) return;
        resumed.goto(at, true);
        setState('playing');
      }, 0);
    } else if (entry.done && element.dataset.replayState === 'waiting') {
      setState('finished');
    }
  });

  if (buttons.size === 0) {
    setState('empty');
    stage.append(
      h('div', { class: 'replay-empty' }, [h('strong', {}, ['No recording stored for this session.'])]),
    );
  }

  return {
    element,
    show,
    destroy() {
      unsubscribe();
      destroyPlayer();
    },
  };
}

/** m:ss, as the player's own clock shows time. */
function clock(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

function payloadOf(detail: unknown): unknown {
  return typeof detail === 'object' && detail !== null
    ? (detail as { payload?: unknown }).payload
    : undefined;
}

/** How far the position slider's keys move the replay, in ms. */
const STEP = 5000;
const PAGE_STEP = 30000;

/**
 * rrweb-player draws icon-only buttons, an unlabelled switch, a frame without a title and a timeline
 * only a mouse can use. This names them, tells a screen reader whether it plays, and makes the timeline
 * a slider that the arrow keys, Page Up/Down, Home and End move (the player's own key handler moves
 * it by 5 ms, which a person cannot notice, so ours takes the key first).
 */
function labelControls(stage: HTMLElement, player: PlayerHandle, tab: number, autoPlay: boolean): void {
  const frame = stage.querySelector('iframe');
  frame?.setAttribute('title', `Replay of tab ${tab}`);
  // The recorded page's links and fields are a picture, not controls: Tab must not wander into them.
  frame?.setAttribute('inert', '');
  const buttons = stage.querySelectorAll<HTMLButtonElement>('.rr-controller__btns > button');
  const toggle = buttons[0];
  const fullscreen = buttons.length > 1 ? buttons[buttons.length - 1] : undefined;
  fullscreen?.setAttribute('aria-label', 'Full screen');
  for (const button of buttons) {
    if (button !== toggle && button !== fullscreen) {
      button.setAttribute('aria-label', `Speed ${button.textContent?.trim() ?? ''}`);
    }
  }
  stage
    .querySelector('.rr-controller__btns input[type="checkbox"]')
    ?.setAttribute('aria-label', 'Skip inactive');
  const setPlaying = (playing: boolean): void => {
    toggle?.setAttribute('aria-label', playing ? 'Pause' : 'Play');
  };
  let playing = autoPlay;
  setPlaying(playing);
  // The player's UI events carry their value as { payload }.
  player.addEventListener('ui-update-player-state', (detail) => {
    playing = payloadOf(detail) === 'playing';
    setPlaying(playing);
  });

  const progress = stage.querySelector<HTMLElement>('.rr-progress');
  if (!progress) return;
  let now = 0;
  const total = (): number => Math.max(0, player.getMetaData().totalTime);
  const describePosition = (): void => {
    progress.setAttribute('aria-valuemax', String(Math.round(total())));
    progress.setAttribute('aria-valuenow', String(Math.round(now)));
    progress.setAttribute('aria-valuetext', `${clock(now)} of ${clock(total())}`);
  };
  progress.setAttribute('role', 'slider');
  progress.setAttribute('tabindex', '0');
  progress.setAttribute('aria-label', 'Replay position');
  progress.setAttribute('aria-valuemin', '0');
  describePosition();
  player.addEventListener('ui-update-current-time', (detail) => {
    const time = payloadOf(detail);
    if (typeof time === 'number') now = time;
    describePosition();
  });
  stage.addEventListener(
    'keydown',
    (event) => {
      if (event.target !== progress) return;
      const moves: Record<string, number> = {
        ArrowLeft: now - STEP,
        ArrowDown: now - STEP,
        ArrowRight: now + STEP,
        ArrowUp: now + STEP,
        PageDown: now - PAGE_STEP,
        PageUp: now + PAGE_STEP,
        Home: 0,
        End: total(),
      };
      const to = moves[event.key];
      if (to === undefined) return;
      event.preventDefault();
      event.stopPropagation();
      now = Math.min(total(), Math.max(0, to));
      player.goto(now, playing);
      describePosition();
    },
    true,
  );
}
