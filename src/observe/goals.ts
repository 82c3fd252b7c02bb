import { customEvent, type Enqueue, type ReportError, type Stop } from '../types';

/**
 * A conversion goal from the options. `match` is a path pattern (exact, `*` matches any run of
 * characters, e.g. `/thank-you*`) or a RegExp. The `goals` option (src/config.ts) takes this shape.
 */
export type Goal =
  | { type: 'click'; name: string; selector: string }
  | { type: 'url'; name: string; match: string | RegExp };

/** The payload of a `conversion` custom event (docs/contract.md, "Events"). */
export interface ConversionPayload {
  type: 'click' | 'url';
  goal: string;
  target: string;
}

/** The markup attribute that makes any element a click goal: `data-spoor-goal="name"`. */
export const GOAL_ATTRIBUTE = 'data-spoor-goal';

/** Longest `target` description, in characters. */
const MAX_TARGET_LENGTH = 200;

type UrlMatcher = { name: string; test: (url: URL) => boolean };

/**
 * Counts conversions. Click goals (configured selectors and `data-spoor-goal` markup) are counted by
 * one capture-phase click listener on the document, so a page handler that stops propagation cannot
 * hide them, and they are enqueued before a link navigates away; `onClickConversion` then lets the
 * core flush at once. A click that reaches several goals counts each goal once.
 *
 * URL goals are checked by `checkUrl(url)` at each new visit. A string pattern is compared with the
 * path, with path and query when the pattern has a `?`, and with path, query and fragment when it has
 * a `#` (hash routes). A RegExp may match the path, path and query, or path, query and fragment.
 * Each goal counts at most once per visit.
 *
 * Invalid goals (unknown type, empty name, a selector that does not parse) are reported and skipped.
 * The `target` describes the element (`a#buy.btn.primary[href=/checkout]`) or the URL path, never text.
 */
export function startGoals(opts: {
  goals: Goal[];
  enqueue: Enqueue;
  report: ReportError;
  onClickConversion: () => void;
}): { checkUrl(url: string): void; stop: Stop } {
  const { enqueue, report, onClickConversion } = opts;
  const clickGoals: { name: string; selector: string }[] = [];
  const urlGoals: UrlMatcher[] = [];
  for (const goal of Array.isArray(opts.goals) ? (opts.goals as unknown[]) : []) {
    const checked = checkGoal(goal);
    if (typeof checked === 'string') report(new TypeError(`spoor goals: ${checked}`));
    else if ('selector' in checked) clickGoals.push(checked);
    else urlGoals.push(checked);
  }
  if (!Array.isArray(opts.goals) && opts.goals !== undefined)
    report(new TypeError('spoor goals: not an array'));
  let stopped = false;

  const onClick = (event: MouseEvent): void => {
    try {
      const start =
        event.target instanceof Element ? event.target : (event.target as Node | null)?.parentElement;
      if (!start) return;
      const reached = new Map<string, Element>();
      const marked = start.closest(`[${GOAL_ATTRIBUTE}]`);
      const markedName = marked?.getAttribute(GOAL_ATTRIBUTE)?.trim();
      if (marked && markedName) reached.set(markedName, marked);
      for (const goal of clickGoals) {
        const el = start.closest(goal.selector);
        if (el && !reached.has(goal.name)) reached.set(goal.name, el);
      }
      if (reached.size === 0) return;
      for (const [goal, el] of reached) {
        enqueue(
          customEvent('conversion', {
            type: 'click',
            goal,
            target: describeElement(el),
          } satisfies ConversionPayload),
        );
      }
      onClickConversion();
    } catch (error) {
      report(error);
    }
  };
  document.addEventListener('click', onClick, true);

  return {
    checkUrl(url: string): void {
      if (stopped) return;
      try {
        const parsed = new URL(url, location.href);
        // Names already counted for this visit: two goals configured with one name count once.
        const counted = new Set<string>();
        for (const goal of urlGoals) {
          if (counted.has(goal.name) || !goal.test(parsed)) continue;
          counted.add(goal.name);
          enqueue(
            customEvent('conversion', {
              type: 'url',
              goal: goal.name,
              target: parsed.pathname,
            } satisfies ConversionPayload),
          );
        }
      } catch (error) {
        report(error);
      }
    },
    stop(): void {
      stopped = true;
      document.removeEventListener('click', onClick, true);
    },
  };
}

/** Returns a usable goal, or why the goal is skipped. */
function checkGoal(goal: unknown): { name: string; selector: string } | UrlMatcher | string {
  if (typeof goal !== 'object' || goal === null) return 'a goal must be an object';
  const { type, name } = goal as { type?: unknown; name?: unknown };
  if (typeof name !== 'string' || name.trim() === '') return 'a goal needs a non-empty name';
  if (type === 'click') {
    const { selector } = goal as { selector?: unknown };
    if (typeof selector !== 'string' || selector.trim() === '') return `goal "${name}" needs a selector`;
    try {
      // Parse once here, so that a typo is reported once instead of on every click.
      document.createElement('div').matches(selector);
    } catch {
      return `goal "${name}" has a selector that does not parse: ${selector}`;
    }
    return { name: name.trim(), selector };
  }
  if (type === 'url') {
    const { match } = goal as { match?: unknown };
    if (match instanceof RegExp) return { name: name.trim(), test: regExpTest(match) };
    if (typeof match === 'string' && match !== '') return { name: name.trim(), test: patternTest(match) };
    return `goal "${name}" needs a match: a path pattern or a RegExp`;
  }
  return `goal "${name}" has an unknown type; use 'click' or 'url'`;
}

/** The parts of a URL a pattern is compared with: path, path and query, path, query and fragment. */
function candidates(url: URL): [string, string, string] {
  return [url.pathname, url.pathname + url.search, url.pathname + url.search + url.hash];
}

function patternTest(pattern: string): (url: URL) => boolean {
  const re = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`);
  const part = pattern.includes('#') ? 2 : pattern.includes('?') ? 1 : 0;
  return (url) => re.test(candidates(url)[part]);
}

function regExpTest(re: RegExp): (url: URL) => boolean {
  return (url) =>
    candidates(url).some((text) => {
      // A /g or /y RegExp keeps lastIndex between calls and would miss every other match.
      re.lastIndex = 0;
      return re.test(text);
    });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Describes the element that was clicked as `tag#id.class1.class2[href=...]`: enough to tell goal
 * targets apart, with nothing typed by the visitor (no text content, no values). Link targets keep only
 * their path (plus host when on another site), since queries and fragments can carry tokens; other
 * schemes (mailto:, tel:) keep only the scheme.
 */
export function describeElement(el: Element): string {
  let text = el.tagName.toLowerCase();
  if (el.id) text += `#${el.id}`;
  const classes = Array.from(el.classList).slice(0, 3);
  if (classes.length > 0) text += `.${classes.join('.')}`;
  const href = el.getAttribute('href');
  if (href !== null && (el instanceof HTMLAnchorElement || el instanceof HTMLAreaElement)) {
    text += `[href=${describeHref(href)}]`;
  }
  return text.length > MAX_TARGET_LENGTH ? text.slice(0, MAX_TARGET_LENGTH) : text;
}

function describeHref(href: string): string {
  try {
    const url = new URL(href, location.href);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return url.protocol;
    return url.origin === location.origin ? url.pathname : url.host + url.pathname;
  } catch {
    return '';
  }
}
