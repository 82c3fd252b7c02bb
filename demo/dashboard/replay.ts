// The replay card: rrweb-player over one tab's events, tab by tab. The player is recreated when the
// tab changes: rrweb's Replayer plays one ordered stream, and each tab is its own stream.
import type { eventWithTime } from '@rrweb/types';
import Player from 'rrweb-player';
import { h } from '../dom';
import type { StoredEvent } from './api';
import { playable } from './insights';

export interface ReplayCard {
  element: HTMLElement;
  /** Shows the tab and, when given, jumps to that moment (epoch ms). */
  show(tab: number, at?: number): void;
  destroy(): void;
}

interface PlayerHandle {
  goto(timeOffset: number, play?: boolean): void;
  pause(): void;
  $destroy(): void;
  addEventListener(event: string, handler: (params: unknown) => unknown): void;
}

export function createReplayCard(tabs: { tab: number; events: StoredEvent[] }[]): ReplayCard {
  const element = h('section', { class: 'card replay-card', 'data-replay-state': 'idle' });
  const switcher = h('div', { class: 'tab-switcher', role: 'tablist', 'aria-label': 'Tabs of this session' });
  const stage = h('div', { class: 'replay-stage' });
  const caption = h('div', { class: 'replay-caption muted small' });
  element.append(h('div', { class: 'card-head' }, [h('h2', {}, ['Replay']), switcher]), stage, caption);

  let player: PlayerHandle | null = null;
  let current = -1;

  const destroyPlayer = (): void => {
    player?.$destroy();
    player = null;
    stage.replaceChildren();
  };

  const show = (tab: number, at?: number): void => {
    const entry = tabs.find((candidate) => candidate.tab === tab);
    if (!entry) return;
    if (tab !== current || !player) {
      current = tab;
      destroyPlayer();
      for (const button of switcher.querySelectorAll('button')) {
        button.setAttribute('aria-selected', String(button.dataset.tab === String(tab)));
      }
      if (!playable(entry.events)) {
        element.dataset.replayState = 'empty';
        stage.append(
          h('div', { class: 'replay-empty' }, [
            h('strong', {}, ['Nothing to replay in this tab yet.']),
            h('div', { class: 'muted' }, [
              'Its recording has no full snapshot: recording was off, or its first batch has not arrived.',
            ]),
          ]),
        );
        caption.textContent = `${entry.events.length} events`;
        return;
      }
      const width = Math.max(320, Math.floor(stage.clientWidth || 800));
      const height = Math.round(width * 0.58);
      player = new Player({
        target: stage,
        props: {
          events: entry.events as unknown as eventWithTime[],
          width,
          height,
          autoPlay: true,
          skipInactive: true,
          showController: true,
          speedOption: [1, 2, 4, 8],
          // The snippet's custom events get their own colours on the timeline.
          tags: { visit: '#2f7d6d', conversion: '#d9822b', 'web-vital': '#7a5af8', event: '#3b82f6' },
        },
      }) as unknown as PlayerHandle;
      element.dataset.replayState = 'playing';
      player.addEventListener('finish', () => {
        element.dataset.replayState = 'finished';
      });
      const first = entry.events[0]?.timestamp ?? 0;
      const last = entry.events[entry.events.length - 1]?.timestamp ?? first;
      caption.textContent = `Tab ${tab} · ${entry.events.length} events · ${Math.round((last - first) / 1000)} s recorded`;
    }
    if (at !== undefined && player) {
      const first = entry.events[0]?.timestamp ?? at;
      player.goto(Math.max(0, at - first), true);
    }
  };

  for (const { tab, events } of tabs) {
    const button = h('button', { type: 'button', role: 'tab', 'data-tab': String(tab) }, [
      `Tab ${tab}`,
      h('span', { class: 'count' }, [String(events.length)]),
    ]);
    button.addEventListener('click', () => show(tab));
    switcher.append(button);
  }
  if (tabs.length === 0) {
    element.dataset.replayState = 'empty';
    stage.append(
      h('div', { class: 'replay-empty' }, [h('strong', {}, ['No recording stored for this session.'])]),
    );
  }

  return {
    element,
    show,
    destroy: destroyPlayer,
  };
}
