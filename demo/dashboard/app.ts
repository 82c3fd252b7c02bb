// The sessions dashboard: a list view and a session view, switched by the URL hash so that the
// browser's Back button and a shared link both work.
import { h } from '../dom';
import { createApi } from './api';
import { currentSignIn, type SignedIn, signInForm, signOut } from './auth';
import { createDetailView, type DetailView } from './detail';
import { createListView, defaultListState, listStateFromHash } from './list';
import { createOverviewView, defaultOverviewState } from './overview';

/** Set when a read found the sign-in gone, so that the form says why it is back. */
const ENDED = 'spoor-sign-in-ended';

/** The signed-in project's name in the top bar, and a sign-out button. */
function showProject(endpoint: string, signedIn: SignedIn): void {
  const name = document.getElementById('project-name');
  if (name && signedIn.project.name !== 'Demo') {
    name.textContent = signedIn.project.name;
    name.nextElementSibling?.remove();
  }
  const button = document.getElementById('sign-out');
  if (!button) return;
  button.hidden = false;
  button.addEventListener('click', () => {
    void signOut(endpoint, signedIn.csrf_token).finally(() => location.reload());
  });
}

function meta(name: string): string {
  return document.querySelector(`meta[name="${name}"]`)?.getAttribute('content') ?? '';
}

async function start(): Promise<void> {
  const root = document.getElementById('app');
  if (!root) return;
  const endpoint = meta('spoor-endpoint');
  if (!endpoint || endpoint.includes('{{')) {
    root.replaceChildren(
      h('div', { class: 'error-box' }, [
        h('strong', {}, ['This page was not served by the Spoor collector.']),
        h('div', {}, ['Run npm start and open http://localhost:8787/dashboard.']),
      ]),
    );
    return;
  }
  let signedIn: SignedIn | null = null;
  try {
    signedIn = await currentSignIn(endpoint);
  } catch {
    root.replaceChildren(
      h('div', { class: 'error-box', role: 'alert' }, [
        h('strong', {}, ['The collector could not be reached.']),
      ]),
    );
    return;
  }
  if (!signedIn) {
    const note = sessionStorage.getItem(ENDED) === '1' ? 'Your sign-in has ended. Sign in again.' : null;
    sessionStorage.removeItem(ENDED);
    const form = signInForm(endpoint, note);
    root.replaceChildren(form.element);
    document.title = 'Sign in · Spoor';
    (form.element.querySelector('input') as HTMLInputElement | null)?.focus();
    signedIn = await form.done;
  }
  showProject(endpoint, signedIn);
  // Ended on the collector's side (expiry, sign-out in another tab, a rotated token): start over at the form.
  const api = createApi(endpoint, signedIn.csrf_token, () => {
    sessionStorage.setItem(ENDED, '1');
    location.reload();
  });
  const listState = defaultListState();
  const list = createListView(api, listState, (session) => {
    location.hash = `#/session/${session.id}`;
  });
  const overview = createOverviewView(api, defaultOverviewState());
  let detail: DetailView | null = null;
  let refreshTimer: number | undefined;

  /** Marks the top bar's link of the view on screen. */
  const markNav = (view: 'overview' | 'sessions'): void => {
    for (const link of document.querySelectorAll<HTMLElement>('[data-nav]')) {
      if (link.dataset.nav === view) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
  };

  const route = (): void => {
    const match = /^#\/session\/(\d+)$/.exec(location.hash);
    detail?.destroy();
    detail = null;
    window.clearInterval(refreshTimer);
    if (location.hash === '#/overview') {
      markNav('overview');
      root.replaceChildren(overview.element);
      document.title = 'Overview · Spoor';
      void overview.load();
    } else if (match) {
      markNav('sessions');
      detail = createDetailView(api, Number(match[1]), () => {
        location.hash = '#/';
      });
      root.replaceChildren(detail.element);
      document.title = `Session #${match[1]} · Spoor`;
    } else {
      markNav('sessions');
      // A link with filters (the overview's) starts the list from them.
      const patch = listStateFromHash(location.hash);
      if (patch) Object.assign(listState, patch, { page: 1 });
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
  window.addEventListener('hashchange', () => {
    route();
    // The view changed under the keyboard: start it from the new view, not from the old one's control.
    root.focus({ preventScroll: true });
  });
  route();
}

const run = (): void => {
  void start();
};
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', run, { once: true });
else run();
