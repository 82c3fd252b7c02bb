// The sessions dashboard: a list view and a session view, switched by the URL hash so that the
// browser's Back button and a shared link both work.
import { h } from '../dom';
import { createApi } from './api';
import { createDetailView, type DetailView } from './detail';
import { createListView, defaultListState } from './list';

function meta(name: string): string {
  return document.querySelector(`meta[name="${name}"]`)?.getAttribute('content') ?? '';
}

function start(): void {
  const root = document.getElementById('app');
  if (!root) return;
  const endpoint = meta('spoor-endpoint');
  const token = meta('spoor-api-token');
  if (!endpoint || endpoint.includes('{{') || !token || token.includes('{{')) {
    root.replaceChildren(
      h('div', { class: 'error-box' }, [
        h('strong', {}, ['This page was not served by the Spoor collector.']),
        h('div', {}, ['Run npm start and open http://localhost:8787/dashboard.']),
      ]),
    );
    return;
  }
  const api = createApi(endpoint, token);
  const listState = defaultListState();
  const list = createListView(api, listState, (session) => {
    location.hash = `#/session/${session.id}`;
  });
  let detail: DetailView | null = null;
  let refreshTimer: number | undefined;

  const route = (): void => {
    const match = /^#\/session\/(\d+)$/.exec(location.hash);
    detail?.destroy();
    detail = null;
    window.clearInterval(refreshTimer);
    if (match) {
      detail = createDetailView(api, Number(match[1]), () => {
        location.hash = '#/';
      });
      root.replaceChildren(detail.element);
      document.title = `Session #${match[1]} · Spoor`;
    } else {
      root.replaceChildren(list.element);
      document.title = 'Sessions · Spoor';
      void list.load();
      // New sessions appear without a click; the read endpoints allow 60 requests a minute.
      refreshTimer = window.setInterval(() => {
        if (document.visibilityState === 'visible') void list.load();
      }, 20000);
    }
    window.scrollTo(0, 0);
  };
  window.addEventListener('hashchange', route);
  route();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
else start();
