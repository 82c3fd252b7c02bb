// A fixed, deterministic page workload: a few thousand elements at load, then tens of thousands of DOM
// mutations spread over animation frames. Every choice comes from a seeded generator, so each run and each
// variant (no recorder, bare rrweb, Spoor) sees exactly the same DOM changes.
(() => {
  const ROWS = 600;
  const CELLS = 4;

  // mulberry32: small, fast, good enough to pick mutations; the seed fixes the whole sequence.
  function generator(seed) {
    let state = seed >>> 0;
    return () => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  const words =
    'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november'.split(' ');
  const rows = [];
  const cells = [];
  // Elements added by the mutation phase, so that later steps can remove them again.
  const added = [];

  function build() {
    const random = generator(1);
    const main = document.getElementById('rows');
    for (let r = 0; r < ROWS; r++) {
      const row = document.createElement('div');
      row.className = 'row';
      row.dataset.id = String(r);
      for (let c = 0; c < CELLS; c++) {
        const cell = document.createElement('span');
        cell.className = 'cell';
        cell.textContent = `${words[Math.floor(random() * words.length)]} ${r}.${c}`;
        row.appendChild(cell);
        cells.push(cell);
      }
      rows.push(row);
      main.appendChild(row);
    }
  }

  /** One DOM change, chosen by the generator. */
  function mutate(random, step) {
    const pick = random();
    if (pick < 0.4) {
      cells[Math.floor(random() * cells.length)].textContent = `${words[step % words.length]} ${step}`;
    } else if (pick < 0.6) {
      rows[Math.floor(random() * rows.length)].classList.toggle('hot');
    } else if (pick < 0.7) {
      cells[Math.floor(random() * cells.length)].style.color = `hsl(${step % 360} 60% 40%)`;
    } else if (pick < 0.9 || added.length === 0) {
      const tag = document.createElement('b');
      tag.className = 'tag';
      tag.textContent = words[Math.floor(random() * words.length)];
      rows[Math.floor(random() * rows.length)].appendChild(tag);
      added.push(tag);
    } else {
      added.splice(Math.floor(random() * added.length), 1)[0].remove();
    }
  }

  /**
   * Runs `frames` animation frames of `perFrame` mutations each. Resolves with what the page saw: frame
   * gaps, the longest task (PerformanceObserver 'longtask', tasks of 50 ms and more) and the duration.
   */
  function run({ frames, perFrame }) {
    const random = generator(2);
    const longTasks = [];
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) longTasks.push(entry.duration);
    });
    observer.observe({ type: 'longtask' });
    const started = performance.now();
    let last = started;
    let longestFrame = 0;
    let step = 0;
    return new Promise((resolve) => {
      const frame = (now) => {
        longestFrame = Math.max(longestFrame, now - last);
        last = now;
        for (let i = 0; i < perFrame; i++) mutate(random, step++);
        if (step < frames * perFrame) {
          requestAnimationFrame(frame);
          return;
        }
        // Let the recorder's mutation callbacks for the last frame run before reading the long tasks.
        setTimeout(() => {
          for (const entry of observer.takeRecords()) longTasks.push(entry.duration);
          observer.disconnect();
          resolve({
            mutations: step,
            ms: performance.now() - started,
            longestFrame,
            longTasks: longTasks.length,
            longestTask: Math.max(0, ...longTasks),
          });
        }, 100);
      };
      requestAnimationFrame(frame);
    });
  }

  function loadScript(src, attributes = {}) {
    return new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = src;
      for (const [name, value] of Object.entries(attributes)) script.setAttribute(name, value);
      script.onload = resolve;
      script.onerror = () => reject(new Error(`could not load ${src}`));
      document.head.appendChild(script);
    });
  }

  build();
  window.__bench = { run, loadScript, elements: document.getElementsByTagName('*').length };
})();
