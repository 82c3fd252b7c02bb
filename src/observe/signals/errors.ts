// error: uncaught errors and unhandled promise rejections (docs/contract.md, "Events"). Each distinct
// error is reported once per visit (same message, source, line and column on the same page); errors
// thrown by Spoor itself, and cross-origin "Script error." that says nothing, are not reported.

import type { Stop } from '../../types';
import { cleanUrl, type Emit } from './shared';

export const STACK_MAX = 4096;
export const MESSAGE_MAX = 512;
/** Distinct errors remembered per visit for deduplication. */
const SEEN_MAX = 200;

/** Spoor's own files (script tag build) and the prefix of the errors it makes. */
const OWN_FILE = /\/spoor(\.[a-z]+)?\.min\.js\b/;
const OWN_MESSAGE = /^(Uncaught )?(Error: )?spoor[:\s]/i;

export function isSpoorError(message: string, source: string, stack: string): boolean {
  return OWN_MESSAGE.test(message) || OWN_FILE.test(source) || OWN_FILE.test(stack.split('\n', 3).join('\n'));
}

/** URLs inside a stack lose their query strings (unless kept), like every other URL the snippet sends. */
function cleanStack(stack: string, keepQuery: boolean): string {
  const text = keepQuery ? stack : stack.replace(/(https?:\/\/[^\s?#)]*)\?[^\s#):]*/g, '$1');
  return text.length > STACK_MAX ? text.slice(0, STACK_MAX) : text;
}

export function startErrors(win: Window, emit: Emit, keepQuery: boolean): Stop {
  let seen = new Set<string>();
  let page = '';

  const report = (
    kind: 'error' | 'rejection',
    message: string,
    source: string,
    line: number,
    column: number,
    stack: string,
  ): void => {
    if (!message || message === 'Script error.' || isSpoorError(message, source, stack)) return;
    const here = win.location.href.split('#')[0] as string;
    if (here !== page) {
      page = here;
      seen = new Set();
    }
    const key = `${message}|${source}|${line}|${column}`;
    if (seen.has(key) || seen.size >= SEEN_MAX) return;
    seen.add(key);
    emit('error', {
      kind,
      message: message.slice(0, MESSAGE_MAX),
      source: source ? cleanUrl(source, here, keepQuery) : '',
      line,
      column,
      stack: cleanStack(stack, keepQuery),
    });
  };

  const onError = (event: ErrorEvent): void => {
    // Resource load failures reach window only in the capture phase; this listener does not see them.
    const error: unknown = event.error;
    const stack = error instanceof Error && typeof error.stack === 'string' ? error.stack : '';
    report(
      'error',
      String(event.message ?? ''),
      String(event.filename ?? ''),
      event.lineno | 0,
      event.colno | 0,
      stack,
    );
  };
  const onRejection = (event: PromiseRejectionEvent): void => {
    const reason: unknown = event.reason;
    const isError = reason instanceof Error;
    const message = isError ? `${reason.name}: ${reason.message}` : describe(reason);
    const stack = isError && typeof reason.stack === 'string' ? reason.stack : '';
    report('rejection', message, '', 0, 0, stack);
  };
  win.addEventListener('error', onError);
  win.addEventListener('unhandledrejection', onRejection);
  return () => {
    win.removeEventListener('error', onError);
    win.removeEventListener('unhandledrejection', onRejection);
  };
}

/** A rejection's reason that is not an Error: its text for primitives, never an object's contents. */
function describe(reason: unknown): string {
  if (reason === undefined || reason === null) return `Unhandled rejection: ${String(reason)}`;
  if (typeof reason === 'object') return `Unhandled rejection: ${Object.prototype.toString.call(reason)}`;
  return `Unhandled rejection: ${String(reason)}`;
}
