/** Small statistics helpers for the benchmark reports. */

export interface Percentiles {
  readonly n: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/** Nearest-rank percentile of an ascending array (NaN when empty). */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

export function percentiles(xs: readonly number[], digits = 1): Percentiles {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const r = (x: number) => (Number.isNaN(x) ? Number.NaN : round(x, digits));
  return {
    n: s.length,
    p50: r(percentile(s, 0.5)),
    p95: r(percentile(s, 0.95)),
    p99: r(percentile(s, 0.99)),
    max: r(s.at(-1) ?? Number.NaN),
  };
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function median(xs: readonly number[]): number {
  return percentile(
    xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b),
    0.5,
  );
}

/**
 * Zipf-like choice among `n` ranked options (rank 0 most popular): P(k) ∝ 1 / (k + 1)^s. A flash
 * sale's demand piles onto the best sections and front rows first; s ≈ 1 is the classic skew.
 */
export function zipfPick(weights: readonly number[], random: () => number): number {
  let total = 0;
  for (const w of weights) total += w;
  if (total <= 0) return -1;
  let x = random() * total;
  for (const [i, w] of weights.entries()) {
    x -= w;
    if (x < 0 && w > 0) return i;
  }
  for (let i = weights.length - 1; i >= 0; i--) if ((weights[i] ?? 0) > 0) return i;
  return -1;
}

export const zipfWeight = (rank: number, s: number): number => 1 / (rank + 1) ** s;
