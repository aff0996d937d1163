/**
 * The numbers of a soak run: latency percentiles and error rates per interval, the
 * server's own figures beside them, and the verdict against a stated error-rate cap.
 *
 * A soak run lasts from seconds (the gate) to half an hour (the real one), so latency
 * samples are not kept: each goes into a {@link LatencyHistogram} whose buckets grow
 * by 1 %, and percentiles are read from the buckets. Memory stays the same whatever
 * the length of the run. Pure: no clock, no I/O.
 * @module
 */

/** Relative width of a histogram bucket: a percentile read back is within 1 % of the true value. */
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
/** Buckets cover 1 µs to about 100 s; slower samples land in the last bucket. */
const BUCKETS = Math.ceil(Math.log(100e6) / LOG_GROWTH) + 2;

// #region latency-histogram
/**
 * Latency samples in log-spaced buckets (each 1 % wider than the one before), from
 * 1 µs to 100 s. Recording is O(1) and the size is fixed (about 2000 counters).
 */
export class LatencyHistogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #max = 0;
  #sum = 0;

  /** Adds one sample, in milliseconds (negative or non-finite samples are a RangeError). */
  record(ms: number): void {
    if (!(ms >= 0 && Number.isFinite(ms))) throw new RangeError(`a latency must be a finite number of ms ≥ 0, got ${ms}`);
    const micros = ms * 1000;
    const index = micros <= 1 ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(micros) / LOG_GROWTH));
    this.#counts[index] = (this.#counts[index] ?? 0) + 1;
    this.#count += 1;
    this.#sum += ms;
    if (ms > this.#max) this.#max = ms;
  }

  /** Adds every sample of `other`. */
  merge(other: LatencyHistogram): void {
    other.#counts.forEach((n, i) => {
      this.#counts[i] = (this.#counts[i] ?? 0) + n;
    });
    this.#count += other.#count;
    this.#sum += other.#sum;
    this.#max = Math.max(this.#max, other.#max);
  }

  /** Samples recorded. */
  get count(): number {
    return this.#count;
  }

  /** The largest sample, exactly. */
  get max(): number {
    return this.#max;
  }

  /** The mean, exactly; undefined without samples. */
  get mean(): number | undefined {
    return this.#count === 0 ? undefined : this.#sum / this.#count;
  }

  /**
   * The value below which `p` percent of the samples fall, within 1 %; never above
   * the largest sample. Undefined without samples.
   * @param p - a percentile from 0 to 100
   */
  percentile(p: number): number | undefined {
    if (!(p >= 0 && p <= 100)) throw new RangeError(`a percentile is from 0 to 100, got ${p}`);
    if (this.#count === 0) return undefined;
    const rank = Math.max(1, Math.ceil((p / 100) * this.#count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i += 1) {
      seen += this.#counts[i] ?? 0;
      if (seen >= rank) return Math.min(this.#max, GROWTH ** i / 1000);
    }
    return this.#max;
  }
}
// #endregion latency-histogram

/** The server's own figures for one interval, read from its `server stats` log line. */
export interface ServerSample {
  /** Open connections. */
  readonly connections: number;
  /** Open descriptors, counted in `/proc/<pid>/fd`. */
  readonly fds?: number;
  /** Resident set size, bytes. */
  readonly rssBytes: number;
  /** V8 heap in use, bytes. */
  readonly heapUsedBytes: number;
  /** Event-loop delay at the 99th percentile over the interval, ms. */
  readonly loopDelayP99Ms: number;
  /** The largest event-loop delay over the interval, ms. */
  readonly loopDelayMaxMs: number;
}

/** One interval of a soak run. */
export interface SoakInterval {
  /** Seconds from the start of the run to the start of the interval. */
  readonly startS: number;
  /** Seconds from the start of the run to its end. */
  readonly endS: number;
  /** Requests answered correctly. */
  readonly ok: number;
  /** Requests that failed: wrong reply, error reply, timeout or broken connection. */
  readonly errors: number;
  /** `errors / (ok + errors)`; 0 for an interval with no requests. */
  readonly errorRate: number;
  /** Median latency of the correct replies, ms (null without any). */
  readonly p50Ms: number | null;
  /** 95th percentile latency, ms (null without any). */
  readonly p95Ms: number | null;
  /** 99th percentile latency, ms (null without any). */
  readonly p99Ms: number | null;
  /** Failures by code, e.g. `{ E_NET_TIMEOUT: 2 }`. */
  readonly errorCodes: Readonly<Record<string, number>>;
  /** The server's figures for the interval, when it logged them. */
  readonly server?: ServerSample;
}

/**
 * Closes one interval: its counts and percentiles.
 * @param span - start and end, in seconds from the start of the run
 * @param latencies - the interval's correct replies
 * @param errorCodes - the interval's failures by code
 * @param server - the server's figures, if any
 */
export function closeInterval(
  span: { startS: number; endS: number },
  latencies: LatencyHistogram,
  errorCodes: Readonly<Record<string, number>>,
  server?: ServerSample,
): SoakInterval {
  const errors = Object.values(errorCodes).reduce((a, b) => a + b, 0);
  const total = latencies.count + errors;
  const round = (ms: number | undefined) => (ms === undefined ? null : Math.round(ms * 1000) / 1000);
  return {
    startS: span.startS,
    endS: span.endS,
    ok: latencies.count,
    errors,
    errorRate: total === 0 ? 0 : errors / total,
    p50Ms: round(latencies.percentile(50)),
    p95Ms: round(latencies.percentile(95)),
    p99Ms: round(latencies.percentile(99)),
    errorCodes: { ...errorCodes },
    ...(server === undefined ? {} : { server }),
  };
}

/** What a soak run must stay within. */
export interface SoakLimits {
  /** The largest acceptable share of failed requests, over the run and in any interval with at least `minRequests`. */
  readonly errorRateCap: number;
  /** Intervals with fewer requests than this are judged on the run's total only (one error in 10 requests is not 10 %). */
  readonly minRequests: number;
}

/** The error-rate cap of the soak drill: at most 1 failed request in 1000. */
export const DEFAULT_SOAK_LIMITS: SoakLimits = { errorRateCap: 0.001, minRequests: 1000 };

/** The verdict on a soak run, with its totals. */
export interface SoakVerdict {
  /** True when no problem was found. */
  pass: boolean;
  /** Requests answered correctly over the run. */
  readonly ok: number;
  /** Requests that failed over the run. */
  readonly errors: number;
  /** `errors / (ok + errors)` over the run. */
  readonly errorRate: number;
  /** Every reason the run fails, in order; empty for a pass. */
  readonly problems: string[];
}

// #region judge-soak
/**
 * Judges a soak run. It fails when the run's error rate is over the cap, when any
 * interval with enough traffic is over the cap, or when an interval answered nothing
 * at all (a stall is a failure even without errors).
 * @param intervals - the run, in order
 * @param limits - the error-rate cap and the smallest interval it applies to
 * @returns the totals and every problem found; `pass` when there are none
 */
export function judgeSoak(intervals: readonly SoakInterval[], limits: SoakLimits = DEFAULT_SOAK_LIMITS): SoakVerdict {
  const ok = intervals.reduce((n, i) => n + i.ok, 0);
  const errors = intervals.reduce((n, i) => n + i.errors, 0);
  const errorRate = ok + errors === 0 ? 0 : errors / (ok + errors);
  const problems: string[] = [];
  const percent = (rate: number) => `${(rate * 100).toFixed(3)} %`;
  if (intervals.length === 0) problems.push('no interval was recorded');
  if (errorRate > limits.errorRateCap) problems.push(`error rate ${percent(errorRate)} is over the cap of ${percent(limits.errorRateCap)}`);
  for (const interval of intervals) {
    const at = `${interval.startS}-${interval.endS} s`;
    if (interval.ok === 0) problems.push(`no request was answered in ${at}`);
    else if (interval.ok + interval.errors >= limits.minRequests && interval.errorRate > limits.errorRateCap) {
      problems.push(`error rate ${percent(interval.errorRate)} in ${at} is over the cap`);
    }
  }
  return { pass: problems.length === 0, ok, errors, errorRate, problems };
}
// #endregion judge-soak
