/**
 * Summary statistics for benchmark samples: median, percentiles, spread, ratio and
 * target checks. Pure functions over arrays of numbers, no I/O and no clock.
 *
 * Methods, stated once so every report means the same thing:
 *
 * - **median**: the middle sample of the sorted list; for an even count, the mean of the
 *   two middle samples. With 5 repeats it is the 3rd fastest.
 * - **percentile p** (0–100): the *nearest-rank* method. Sort ascending; the p-th
 *   percentile is the sample at 1-based rank `ceil(p / 100 × n)`, and the smallest sample
 *   for p = 0. It is always one of the samples, never an interpolation, so
 *   `percentile(xs, 100)` is the maximum.
 * - **quartiles**: q1 = percentile 25 and q3 = percentile 75, by nearest rank; the
 *   interquartile range (IQR) is q3 − q1.
 * @module
 */

/** The summary of one set of samples. */
export interface Summary {
  /** How many samples. */
  readonly n: number;
  /** The median (mean of the two middle samples for an even count). */
  readonly median: number;
  /** The smallest sample. */
  readonly min: number;
  /** The largest sample. */
  readonly max: number;
  /** The 25th percentile, nearest rank. */
  readonly q1: number;
  /** The 75th percentile, nearest rank. */
  readonly q3: number;
}

/** A target on a ratio: met when the ratio is at least, or at most, the bound. */
export type RatioTarget = { readonly atLeast: number } | { readonly atMost: number };

/** Throws a RangeError unless `xs` is a non-empty list of finite numbers. */
function checkSamples(xs: readonly number[], what: string): void {
  if (xs.length === 0) throw new RangeError(`${what}: samples must not be empty`);
  for (const x of xs) {
    if (!Number.isFinite(x)) throw new RangeError(`${what}: samples must be finite numbers, got ${x}`);
  }
}

/** Returns a sorted copy (ascending, numeric). */
function sorted(xs: readonly number[]): number[] {
  return xs.slice().sort((a, b) => a - b);
}

/**
 * The median of the samples.
 * @param xs - at least one finite number, in any order
 * @returns the middle sample, or the mean of the two middle samples for an even count
 * @throws RangeError when `xs` is empty or holds a non-finite number
 */
export function median(xs: readonly number[]): number {
  checkSamples(xs, 'median');
  const s = sorted(xs);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/**
 * The p-th percentile by the nearest-rank method: the sample at 1-based rank
 * `ceil(p / 100 × n)` of the sorted list (rank 1 for p = 0).
 * @param xs - at least one finite number, in any order
 * @param p - the percentile, 0 to 100
 * @returns one of the samples
 * @throws RangeError when `xs` is empty or `p` is outside 0–100
 */
export function percentile(xs: readonly number[], p: number): number {
  checkSamples(xs, 'percentile');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile: p must be within 0-100, got ${p}`);
  const s = sorted(xs);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[rank - 1] as number;
}

/**
 * Summarizes samples: count, median, min, max and the nearest-rank quartiles.
 * @param xs - at least one finite number
 * @returns the summary
 * @throws RangeError when `xs` is empty or holds a non-finite number
 */
export function summarize(xs: readonly number[]): Summary {
  checkSamples(xs, 'summarize');
  const s = sorted(xs);
  return {
    n: s.length,
    median: median(s),
    min: s[0] as number,
    max: s[s.length - 1] as number,
    q1: percentile(s, 25),
    q3: percentile(s, 75),
  };
}

/**
 * The interquartile range of a summary.
 * @param summary - from {@link summarize}
 * @returns q3 − q1 (0 for a single sample)
 */
export function iqr(summary: Summary): number {
  return summary.q3 - summary.q1;
}

/**
 * The relative spread of a summary: (max − min) / median, e.g. 0.04 for ±2 %.
 * @param summary - from {@link summarize}
 * @returns the spread as a fraction of the median (0 when the median is 0)
 */
export function relativeSpread(summary: Summary): number {
  return summary.median === 0 ? 0 : (summary.max - summary.min) / Math.abs(summary.median);
}

/**
 * The ratio of two measurements, subject over peer.
 * @param subject - the subject's median
 * @param peer - the peer's median, positive
 * @returns subject / peer
 * @throws RangeError when `peer` is not a positive finite number
 */
export function ratioOf(subject: number, peer: number): number {
  if (!(peer > 0) || !Number.isFinite(peer)) throw new RangeError(`ratioOf: peer must be a positive number, got ${peer}`);
  return subject / peer;
}

/**
 * Tells whether a ratio meets a target. Compares exactly; callers that print the ratio
 * rounded should judge on the unrounded value, as this does.
 * @param ratio - subject / peer
 * @param target - the bound
 * @returns true when the ratio is on the right side of the bound (inclusive)
 */
export function targetMet(ratio: number, target: RatioTarget): boolean {
  return 'atLeast' in target ? ratio >= target.atLeast : ratio <= target.atMost;
}
