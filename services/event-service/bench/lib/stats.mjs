/** Small statistics helpers for the benchmark: medians across runs and percentiles of latency samples. */

/**
 * The median of `values` (mean of the two middle values for an even count).
 * @param {readonly number[]} values
 * @returns {number} `NaN` for an empty list
 */
export function median(values) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * The `p`-th percentile (nearest rank) of `samples`.
 * @param {readonly number[]} samples
 * @param {number} p - between 0 and 100
 * @returns {number} `NaN` for an empty list
 */
export function percentile(samples, p) {
  if (samples.length === 0) return Number.NaN;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}
