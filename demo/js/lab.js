// The delivery lab: a page that produces a known, countable stream of events for the fault tests.
// Each tick is one `track('tick', {n})` and one new line in the page (a recorded mutation).
// `?auto` starts at once; `count`, `every` (ms) and `flush=N` (flush after every Nth tick) shape the
// stream; `pad=B` adds B characters to each line (a large DOM); `leave=/path` navigates there right after
// the last tick, while its events are still pending (the page-hide tests).

const params = new URLSearchParams(location.search);
const count = Number(params.get('count') ?? 60);
const every = Number(params.get('every') ?? 250);
const flushEvery = Number(params.get('flush') ?? 0);
const pad = 'x'.repeat(Number(params.get('pad') ?? 0));
const leaveTo = params.get('leave');
const log = document.querySelector('[data-lab-log]');
const status = document.querySelector('[data-lab-status]');

// The next tick's number; carried across reloads in sessionStorage so a reload continues the count.
let n = Number(sessionStorage.getItem('lab-next') ?? 1);
/** @type {number | undefined} */
let timer;

function spoor(...args) {
  const api = /** @type {any} */ (window).spoor;
  if (typeof api === 'function') api(...args);
}

function tick() {
  if (n > count) {
    stop();
    document.documentElement.dataset.labDone = 'true';
    if (status) status.textContent = `Done: ${count} ticks.`;
    // Only same-site paths: the parameter must not make the lab an open redirect.
    if (leaveTo?.startsWith('/') && !leaveTo.startsWith('//')) location.href = leaveTo;
    return;
  }
  spoor('track', 'tick', { n });
  const item = document.createElement('li');
  item.textContent = `lab-tick-${String(n).padStart(4, '0')}${pad}`;
  log?.prepend(item);
  // Keep the page small: the recording has every line, the page only the latest ones.
  while (log && log.children.length > 20) log.lastElementChild?.remove();
  if (status) status.textContent = `Tick ${n} of ${count}.`;
  document.documentElement.dataset.labTick = String(n);
  n += 1;
  sessionStorage.setItem('lab-next', String(n));
  if (flushEvery > 0 && (n - 1) % flushEvery === 0) spoor('flush');
}

function start() {
  if (timer !== undefined) return;
  timer = window.setInterval(tick, every);
}

function stop() {
  window.clearInterval(timer);
  timer = undefined;
}

document.querySelector('[data-lab-start]')?.addEventListener('click', start);
document.querySelector('[data-lab-stop]')?.addEventListener('click', stop);
if (params.has('auto')) start();
