/**
 * The pool's numbers: per task type, how many tasks were accepted, refused, finished,
 * failed, timed out or expired, and the distribution of two times — queue wait
 * (accepted → handed to a thread) and run time (measured inside the thread around the
 * handler call). Percentiles come from week 3's fixed-size {@link LatencyHistogram},
 * so memory does not grow with the number of tasks. Pure: the caller passes times in.
 * @module
 */
import { LatencyHistogram } from '../../lib/server.ts';

/** Percentiles of one time, in milliseconds; `null` before the first sample. */
export interface TimeSummary {
  /** Samples recorded. */
  readonly count: number;
  /** Median, ms. */
  readonly p50: number | null;
  /** 95th percentile, ms. */
  readonly p95: number | null;
  /** 99th percentile, ms. */
  readonly p99: number | null;
  /** Largest sample, ms. */
  readonly max: number | null;
}

/** The counters and times of one task type. */
export interface TaskTypeStats {
  /** Tasks let into the queue (or straight to a thread). */
  readonly accepted: number;
  /** Tasks refused at submit, by code (`E_QUEUE_FULL`, `E_POOL_CLOSED`, …). */
  readonly rejected: Readonly<Record<string, number>>;
  /** Tasks whose handler returned a value. */
  readonly completed: number;
  /** Tasks whose handler threw, by code. */
  readonly failed: Readonly<Record<string, number>>;
  /** Tasks cancelled for overrunning their budget. */
  readonly timedOut: number;
  /** Tasks dropped in the queue because their deadline passed. */
  readonly expired: number;
  /** Queue wait, accepted → dispatched to a thread. */
  readonly queueWaitMs: TimeSummary;
  /** Handler run time, measured in the worker. */
  readonly runMs: TimeSummary;
}

/** Counts summed over every task type; each is the sum of that counter in {@link TaskTypeStats}. */
export interface PoolTotals {
  /** Tasks let into the queue (or straight onto a thread). */
  readonly accepted: number;
  /** Tasks refused at submit, whatever the code; they never ran. */
  readonly rejected: number;
  /** Tasks whose handler returned a value. */
  readonly completed: number;
  /** Accepted tasks that ended with an error: the handler threw, its thread died, or the pool was stopped. */
  readonly failed: number;
  /** Tasks cancelled for overrunning their budget (their thread was replaced). */
  readonly timedOut: number;
  /** Tasks dropped from the queue because their deadline passed before a thread was free. */
  readonly expired: number;
}

/** A snapshot of the whole pool. */
export interface PoolStats {
  /** Worker threads the pool keeps. */
  readonly workers: number;
  /** The queue's depth limit. */
  readonly maxQueue: number;
  /** Tasks waiting now. */
  readonly depth: number;
  /** The deepest the queue has been. */
  readonly maxDepthSeen: number;
  /** Tasks on threads now: running, or next in a thread's inbox (pipelining). */
  readonly running: number;
  /** Worker threads not yet stopped (0 after a graceful close has joined them all). */
  readonly alive: number;
  /** `postMessage` batches sent to threads. */
  readonly batches: number;
  /** Threads lost to an overrun (terminated) or a crash; each is replaced while work remains. */
  readonly replacedWorkers: number;
  /** True once intake has stopped. */
  readonly closed: boolean;
  /** Totals over every task type. */
  readonly totals: PoolTotals;
  /** Per task type, in the order types were first seen. */
  readonly byType: Readonly<Record<string, TaskTypeStats>>;
}

/** Mutable counters of one task type; {@link PoolMetrics} owns them. */
class TypeCounters {
  accepted = 0;
  completed = 0;
  timedOut = 0;
  expired = 0;
  readonly rejected = new Map<string, number>();
  readonly failed = new Map<string, number>();
  readonly queueWait = new LatencyHistogram();
  readonly run = new LatencyHistogram();
}

/** Reads a histogram as a {@link TimeSummary}. */
function summarize(histogram: LatencyHistogram): TimeSummary {
  return {
    count: histogram.count,
    p50: histogram.percentile(50) ?? null,
    p95: histogram.percentile(95) ?? null,
    p99: histogram.percentile(99) ?? null,
    max: histogram.count === 0 ? null : histogram.max,
  };
}

/** Adds one to a counter keyed by code. */
function bump(map: Map<string, number>, code: string): void {
  map.set(code, (map.get(code) ?? 0) + 1);
}

/** Sums a map's values. */
function total(map: ReadonlyMap<string, number>): number {
  let sum = 0;
  for (const n of map.values()) sum += n;
  return sum;
}

/** The pool's counters and histograms, per task type. Owned by the pool core alone. */
export class PoolMetrics {
  readonly #types = new Map<string, TypeCounters>();

  /** The counters of one type, created on first use. */
  #of(type: string): TypeCounters {
    let counters = this.#types.get(type);
    if (counters === undefined) {
      counters = new TypeCounters();
      this.#types.set(type, counters);
    }
    return counters;
  }

  /** A task was accepted. */
  accepted(type: string): void {
    this.#of(type).accepted += 1;
  }

  /** A task was refused at submit with `code`. */
  rejected(type: string, code: string): void {
    bump(this.#of(type).rejected, code);
  }

  /** A task left the queue for a thread after waiting `waitMs`. */
  dispatched(type: string, waitMs: number): void {
    this.#of(type).queueWait.record(Math.max(0, waitMs));
  }

  /** A task's handler ran for `runMs` and returned (`code` undefined) or threw `code`. */
  finished(type: string, runMs: number, code?: string): void {
    const counters = this.#of(type);
    counters.run.record(Math.max(0, runMs));
    if (code === undefined) counters.completed += 1;
    else bump(counters.failed, code);
  }

  /** A running task was cancelled for overrunning its budget. */
  timedOut(type: string): void {
    this.#of(type).timedOut += 1;
  }

  /** A queued task was dropped because its deadline passed. */
  expired(type: string): void {
    this.#of(type).expired += 1;
  }

  /** A running or queued task ended without a handler result (thread died, hard stop). */
  lost(type: string, code: string): void {
    bump(this.#of(type).failed, code);
  }

  /** Per-type snapshots and totals. */
  snapshot(): Pick<PoolStats, 'totals' | 'byType'> {
    const byType: Record<string, TaskTypeStats> = {};
    const totals = { accepted: 0, rejected: 0, completed: 0, failed: 0, timedOut: 0, expired: 0 };
    for (const [type, c] of this.#types) {
      byType[type] = {
        accepted: c.accepted,
        rejected: Object.fromEntries(c.rejected),
        completed: c.completed,
        failed: Object.fromEntries(c.failed),
        timedOut: c.timedOut,
        expired: c.expired,
        queueWaitMs: summarize(c.queueWait),
        runMs: summarize(c.run),
      };
      totals.accepted += c.accepted;
      totals.rejected += total(c.rejected);
      totals.completed += c.completed;
      totals.failed += total(c.failed);
      totals.timedOut += c.timedOut;
      totals.expired += c.expired;
    }
    return { totals, byType };
  }
}
