// The one error boundary between the snippet and the host page: every callback the browser or the
// page calls into runs inside it, and what it catches goes to `onError` and, with `debug`, to the
// console, never back to the page (STYLE.md 5).

import type { ReportError } from '../types';

export interface Boundary {
  report: ReportError;
  /** Runs fn and returns its result, or undefined when it threw. */
  run<T>(fn: () => T): T | undefined;
  /** Wraps fn so that it never throws and a rejected promise it returns is reported too. */
  guard<A extends unknown[]>(fn: (...args: A) => unknown): (...args: A) => void;
}

export function createBoundary(onError: ((error: unknown) => void) | undefined, log: boolean): Boundary {
  const report: ReportError = (error) => {
    try {
      if (log) console.error('[spoor]', error);
      onError?.(error);
    } catch {
      // The page's own onError threw: nothing safe is left to tell.
    }
  };
  const run = <T>(fn: () => T): T | undefined => {
    try {
      const result = fn();
      if (result instanceof Promise) result.catch(report);
      return result;
    } catch (error) {
      report(error);
      return undefined;
    }
  };
  return {
    report,
    run,
    guard:
      (fn) =>
      (...args) => {
        run(() => fn(...args));
      },
  };
}
