/**
 * Event-loop delay, measured inside the process that runs the loop.
 *
 * `perf_hooks.monitorEventLoopDelay` arms a libuv timer every `resolution`
 * milliseconds and records how long each period really took. On an idle loop every
 * sample is the resolution itself (about 10 ms); anything above it is time the loop
 * could not get back to its timers because a callback was still running. This module
 * reports that excess, the lateness, so an idle loop reads 0 and a 300 ms busy-wait
 * reads about 300.
 *
 * One trap shaped the design. The perf_hooks histogram skips the first period after
 * every `reset()` (it needs a previous tick to measure from). On a loop blocked for
 * longer than a stats interval, that first period is the only one, so a histogram
 * reset per interval reports no samples at all exactly when the loop is at its worst
 * (measured: 0 samples per 250 ms interval under repeated 300 ms busy-waits). So the
 * totals come from perf_hooks, never reset; the per-interval figures come from a twin
 * sampler of the same design whose previous tick survives the interval boundary.
 * @module
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { LatencyHistogram } from './soak_report.ts';

/** Event-loop lateness over some period, in milliseconds. */
export interface LoopDelaySummary {
  /** Samples taken. */
  readonly samples: number;
  /** Median lateness. */
  readonly p50Ms: number;
  /** 99th percentile lateness. */
  readonly p99Ms: number;
  /** The worst lateness. */
  readonly maxMs: number;
  /** The sampling period the lateness is measured against. */
  readonly resolutionMs: number;
}

/** The default sampling period, ms. */
export const LOOP_DELAY_RESOLUTION_MS = 10;

/** Rounds to 0.01 ms. */
function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

// #region loop-delay
/**
 * Event-loop lateness since {@link LoopDelayMonitor.start} (perf_hooks'
 * `monitorEventLoopDelay`) and since the last {@link LoopDelayMonitor.interval} call
 * (a timer of the same period whose lateness is recorded in a {@link LatencyHistogram}).
 */
export class LoopDelayMonitor {
  readonly #resolutionMs: number;
  readonly #total: IntervalHistogram;
  #interval = new LatencyHistogram();
  #timer: ReturnType<typeof setInterval> | undefined;
  #lastTickMs = 0;

  /** @param resolutionMs - the sampling period (default 10 ms) */
  constructor(resolutionMs = LOOP_DELAY_RESOLUTION_MS) {
    this.#resolutionMs = resolutionMs;
    this.#total = monitorEventLoopDelay({ resolution: resolutionMs });
  }

  /** Starts sampling. */
  start(): void {
    this.#total.enable();
    this.#lastTickMs = performance.now();
    this.#timer = setInterval(() => this.#tick(), this.#resolutionMs);
    this.#timer.unref();
  }

  /** Stops sampling; the summaries keep their values. */
  stop(): void {
    this.#total.disable();
    clearInterval(this.#timer);
  }

  /** Records how late this tick is, measured from the previous one. */
  #tick(): void {
    const now = performance.now();
    this.#interval.record(Math.max(0, now - this.#lastTickMs - this.#resolutionMs));
    this.#lastTickMs = now;
  }

  /** Lateness since {@link LoopDelayMonitor.start}. */
  total(): LoopDelaySummary {
    const h = this.#total;
    // The histogram holds whole periods in nanoseconds; lateness is what exceeds the period.
    const late = (ns: number) => (h.count === 0 ? 0 : round(Math.max(0, ns / 1e6 - this.#resolutionMs)));
    return { samples: h.count, p50Ms: late(h.percentile(50)), p99Ms: late(h.percentile(99)), maxMs: late(h.max), resolutionMs: this.#resolutionMs };
  }

  /** Lateness since the previous call (or the start), then starts a new interval. */
  interval(): LoopDelaySummary {
    // The caller is itself a timer: if the sampler is overdue, what the loop owes it so far belongs to this interval.
    if (this.#timer !== undefined && performance.now() - this.#lastTickMs > this.#resolutionMs) this.#tick();
    const h = this.#interval;
    this.#interval = new LatencyHistogram();
    return {
      samples: h.count,
      p50Ms: round(h.percentile(50) ?? 0),
      p99Ms: round(h.percentile(99) ?? 0),
      maxMs: round(h.max),
      resolutionMs: this.#resolutionMs,
    };
  }
}
// #endregion loop-delay
