// How the dashboard writes times, durations and URLs.
import { fromContractDate } from './api';

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round(seconds % 60);
  if (minutes < 60) return `${minutes} min ${rest} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function formatDateTime(value: string | null | undefined): string {
  if (!value) return '–';
  const date = fromContractDate(value);
  if (Number.isNaN(date.getTime())) return value;
  return date.toLocaleString([], { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

export function formatRelative(value: string | null | undefined, now = Date.now()): string {
  if (!value) return '';
  const date = fromContractDate(value);
  const seconds = Math.round((now - date.getTime()) / 1000);
  if (Number.isNaN(seconds)) return '';
  if (seconds < 45) return 'just now';
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} d ago`;
}

/** The path and query of a URL, which is what tells a shop's pages apart. */
export function pathOf(url: unknown): string {
  if (typeof url !== 'string' || url === '') return '–';
  try {
    const parsed = new URL(url);
    return `${parsed.pathname}${parsed.search}`;
  } catch {
    return url;
  }
}

/**
 * Host and path of a URL, and its query with `query`: what tells pages of several sites apart, where
 * the path alone reads "/" for each (`shop.test/products?utm=x`). The fragment is left out.
 */
export function pageOf(url: unknown, { query = false } = {}): string {
  if (typeof url !== 'string' || url === '') return '–';
  try {
    const parsed = new URL(url);
    return `${parsed.host}${parsed.pathname}${query ? parsed.search : ''}`;
  } catch {
    return url;
  }
}

/** m:ss of a span in ms, as the replay's clock shows it. */
export function formatClock(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

/** A share 0..1 as a percentage with one decimal. */
export function formatPercent(rate: number): string {
  return `${(Math.round(rate * 1000) / 10).toFixed(1)} %`;
}

/** Laravel's paginator labels come HTML-escaped ("&laquo; Previous"); the dashboard writes text. */
export function paginatorLabel(label: string): string {
  return label
    .replace(/&laquo;/g, '«')
    .replace(/&raquo;/g, '»')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#0?39;/g, "'");
}

export function text(value: unknown, fallback = '–'): string {
  if (value === null || value === undefined || value === '') return fallback;
  return String(value);
}
