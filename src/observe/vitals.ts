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
 * latest when the page is hidden; `reportAllChanges` stays off). A value that cannot be true (not a
 * finite number, negative, or over the limits above) is dropped through `onDrop('implausible-value')`.
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

  for (const observe of [onLCP, onINP, onCLS, onFCP, onTTFB]) {
    try {
      // Each call is independent: a browser lacking one entry type still reports the others.
      observe(onMetric);
    } catch (error) {
      report(error);
    }
  }

  return () => {
    stopped = true;
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
