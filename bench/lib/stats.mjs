// Small statistics helpers. The machines running the bench are shared and noisy, so every figure we
// quote is a median (or a percentile) of several runs, never a single run.

/** @param {number[]} values */
export function median(values) {
  return percentile(values, 50);
}

/**
 * Nearest-rank percentile: the smallest value with at least p% of the values at or below it.
 * @param {number[]} values
 * @param {number} p 0..100
 */
export function percentile(values, p) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

/** A ratio that stays readable when the denominator is zero. */
export function ratio(value, base) {
  return base > 0 ? value / base : Number.NaN;
}

/** Bytes as a short human figure: 1234 → "1.2 KB" (KB = 1000 bytes, as size reports usually do). */
export function formatBytes(bytes) {
  if (!Number.isFinite(bytes)) return '—';
  if (bytes < 1000) return `${Math.round(bytes)} B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)} KB`;
  return `${(bytes / 1e6).toFixed(2)} MB`;
}

export function formatRatio(value) {
  return Number.isFinite(value) ? `${value.toFixed(3)}×` : '—';
}

export function formatMs(ms) {
  if (!Number.isFinite(ms)) return '—';
  return ms < 10 ? `${ms.toFixed(2)} ms` : `${ms.toFixed(1)} ms`;
}
