// Where a variant's main-thread CPU goes, from a Chromium trace: the renderer main thread's time by
// trace event, as self time (an event's thread time less that of the events nested in it). Comparing
// these per variant tells script from compiling, garbage collection, style and layout, loading and the
// browser's own work around requests and storage — what a JS CPU profile cannot, since it sees only
// (program) for everything native.

/** Trace categories: tasks, the DevTools timeline events (script, compile, GC, layout, parsing,
 *  network), V8's compile and execute events. Broad categories (`blink`, `v8`) slow the page too much. */
export const traceCategories = [
  'toplevel',
  'devtools.timeline',
  'disabled-by-default-devtools.timeline',
  'v8.execute',
  'disabled-by-default-v8.compile',
  'blink.user_timing',
  'loading',
];

/**
 * Self thread time (ms) by event name on the renderer main thread that did the most work.
 * @param {{ traceEvents: Array<Record<string, any>> } | Array<Record<string, any>>} trace
 * @returns {Map<string, number>}
 */
export function mainThreadSelfTime(trace) {
  const events = Array.isArray(trace) ? trace : trace.traceEvents;
  const mains = new Set(
    events
      .filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain')
      .map((e) => `${e.pid}:${e.tid}`),
  );
  // Complete events of each main thread; B/E pairs joined into complete events.
  const byThread = new Map();
  const open = new Map();
  for (const e of events) {
    const key = `${e.pid}:${e.tid}`;
    if (!mains.has(key)) continue;
    let complete;
    if (e.ph === 'X' && typeof e.dur === 'number') complete = e;
    else if (e.ph === 'B') {
      const stack = open.get(key) ?? [];
      stack.push(e);
      open.set(key, stack);
    } else if (e.ph === 'E') {
      const begin = open.get(key)?.pop();
      if (begin)
        complete = {
          ...begin,
          dur: e.ts - begin.ts,
          tdur: typeof e.tts === 'number' && typeof begin.tts === 'number' ? e.tts - begin.tts : undefined,
        };
    }
    if (!complete) continue;
    const list = byThread.get(key) ?? [];
    list.push(complete);
    byThread.set(key, list);
  }
  let busiest = [];
  let busiestTime = -1;
  for (const list of byThread.values()) {
    const time = list.reduce((t, e) => t + (e.tdur ?? e.dur), 0);
    if (time > busiestTime) {
      busiest = list;
      busiestTime = time;
    }
  }
  // Longest first at equal start, so that a parent comes before the children it contains.
  busiest.sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  const self = new Map();
  const stack = [];
  const close = (until) => {
    while (stack.length > 0 && stack[stack.length - 1].end <= until) {
      const done = stack.pop();
      self.set(done.name, (self.get(done.name) ?? 0) + Math.max(0, done.time - done.children) / 1000);
    }
  };
  for (const e of busiest) {
    close(e.ts);
    const time = e.tdur ?? e.dur;
    const parent = stack[stack.length - 1];
    if (parent) parent.children += time;
    stack.push({ name: e.name, end: e.ts + e.dur, time, children: 0 });
  }
  close(Number.POSITIVE_INFINITY);
  return self;
}
