import { type MetricType, onCLS, onFCP, onINP, onLCP, onTTFB } from 'web-vitals';
import { customEvent, type DropReason, type Enqueue, type ReportError, type Stop } from '../types';

/** The payload of a `web-vital` custom event (docs/contract.md, "Events"). */
export interface VitalPayload {
  name: MetricType['name'];
  value: number;
  rating: MetricType['rating'];
  delta: number;
  id: string;
  navigationType: MetricType['navigationType'];
}

/** Longest believable time metric (LCP, INP, FCP, TTFB): one hour, in milliseconds. */
export const MAX_TIME_MS = 3_600_000;
/**
 * Largest believable CLS. web-vitals reports the worst session window, which lasts at most 5 s, and one
 * layout shift scores at most 1 (the whole viewport moving by its whole size). A CLS over 100 would need
 * more than 100 full-viewport shifts within 5 s, every frame at 20 fps: we treat it as a measurement bug.
 */
export const MAX_CLS = 100;

/**
 * Reports LCP, INP, CLS, FCP and TTFB as `web-vital` events whenever web-vitals reports them (at the
 * latest when the page is hidden; `reportAllChanges` stays off). INP is observed from the page's first
 * interaction on (below). A value that cannot be true (not a finite number, negative, or over the limits
 * above) is dropped through `onDrop('implausible-value')`.
 * web-vitals may report one metric id again with an unchanged value (CLS each time the page is hidden);
 * such repeats are skipped. web-vitals has no unsubscribe, so stop only silences the callbacks.
 */
export function startVitals(opts: {
  enqueue: Enqueue;
  report: ReportError;
  onDrop: (reason: DropReason, detail: string) => void;
}): Stop {
  const { enqueue, report, onDrop } = opts;
  /** `name id value` of every value already handled, to skip repeats. */
  const seen = new Set<string>();
  let stopped = false;

  const onMetric = (metric: MetricType): void => {
    if (stopped) return;
    try {
      const { name, value, rating, delta, id, navigationType } = metric;
      const key = `${name} ${id} ${value}`;
      if (seen.has(key)) return;
      seen.add(key);
      const problem = implausible(name, value, delta);
      if (problem !== null) {
        onDrop('implausible-value', `${name} ${problem}`);
        return;
      }
      const payload: VitalPayload = { name, value, rating, delta, id, navigationType };
      enqueue(customEvent('web-vital', payload));
    } catch (error) {
      report(error);
    }
  };

  const observe = (start: (report: typeof onMetric) => void) => {
    try {
      // Each call is independent: a browser lacking one entry type still reports the others.
      start(onMetric);
    } catch (error) {
      report(error);
    }
  };
  for (const start of [onLCP, onCLS, onFCP, onTTFB]) observe(start);

  // INP measures interactions, and each begins with one of these events. Until the first, web-vitals'
  // INP observers would receive every hover's event-timing entries (pointerover, mouseout, ... on every
  // element the pointer crosses; on a busy page each lasts over their 40 ms threshold) only to drop them
  // for having no interaction: the largest part of this file's time in the bench's CPU profile. Started in
  // a capture listener of the interaction's first event, the observer is there before that event's entry
  // is queued, which happens only after the next paint, so the first interaction is measured too.
  const interactions = ['pointerdown', 'keydown', 'click'];
  // stop() removes these listeners, so they never start INP after it.
  const firstInteraction = (): void => {
    for (const type of interactions) removeEventListener(type, firstInteraction, true);
    observe(onINP);
  };
  for (const type of interactions) addEventListener(type, firstInteraction, { capture: true, passive: true });

  return () => {
    stopped = true;
    for (const type of interactions) removeEventListener(type, firstInteraction, true);
  };
}

/** Why a value cannot be true, or null when it can. */
function implausible(name: MetricType['name'], value: number, delta: number): string | null {
  if (typeof value !== 'number' || !Number.isFinite(value))
    return `value ${String(value)} is not a finite number`;
  if (typeof delta !== 'number' || !Number.isFinite(delta))
    return `delta ${String(delta)} is not a finite number`;
  if (value < 0) return `value ${value} is negative`;
  const max = name === 'CLS' ? MAX_CLS : MAX_TIME_MS;
  if (value > max) return `value ${value} is over ${max}`;
  return null;
}
