// The account section: a single-page app with history.pushState routes, the way routers do it.
// The collector serves app/index.html for every /app/* path, so a reload lands on the same view.

const views = /** @type {HTMLElement[]} */ ([...document.querySelectorAll('[data-view]')]);
const links = /** @type {HTMLAnchorElement[]} */ ([...document.querySelectorAll('[data-route]')]);

/** @param {string} path */
function normalise(path) {
  return path === '/app' ? '/app/' : path.replace(/\/+$/, '') || '/app/';
}

function render() {
  const path = normalise(location.pathname);
  const known = views.some((view) => view.dataset.view === path);
  const current = known ? path : '/app/';
  for (const view of views) view.hidden = view.dataset.view !== current;
  for (const link of links) {
    if (link.dataset.route === current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const heading = views.find((view) => view.dataset.view === current)?.querySelector('h1');
  document.title = `${heading?.textContent ?? 'Your account'} · Fernwood Supply`;
  applyStatusFilter();
}

function applyStatusFilter() {
  const status = new URLSearchParams(location.search).get('status') ?? 'all';
  for (const button of document.querySelectorAll('[data-status]')) {
    button.setAttribute('aria-pressed', String(button.getAttribute('data-status') === status));
  }
  for (const row of /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll('[data-row]'))) {
    row.hidden = status !== 'all' && row.dataset.row !== status;
  }
}

for (const link of links) {
  link.addEventListener('click', (event) => {
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    const target = link.dataset.route ?? '/app/';
    if (target === location.pathname) return;
    history.pushState({ route: target }, '', target);
    render();
  });
}

// Filters live in the query, replaced rather than pushed so that Back leaves the page.
for (const button of document.querySelectorAll('[data-status]')) {
  button.addEventListener('click', () => {
    const status = button.getAttribute('data-status') ?? 'all';
    history.replaceState(history.state, '', status === 'all' ? location.pathname : `?status=${status}`);
    applyStatusFilter();
  });
}

// Routers call replaceState with the same URL all the time (to keep scroll or form state); that is no
// page view, and the snippet must not count one.
document.querySelector('[data-save]')?.addEventListener('click', () => {
  history.replaceState({ route: location.pathname, saved: Date.now() }, '', location.href);
  const saved = document.querySelector('[data-saved]');
  if (saved) saved.textContent = 'Settings saved';
});

window.addEventListener('popstate', render);
render();
