/**
 * The pool's numbers in the Prometheus text exposition format, through prom-client's
 * `Registry`, so a later `/metrics` endpoint can serve them unchanged. Each metric
 * reads {@link WorkerPool.stats} when scraped (prom-client's `collect` hook): the pool
 * keeps one set of counters and the exposition never keeps a second copy.
 * @module
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { PoolStats } from './pool_stats.ts';

/** Anything with a `stats()` snapshot: the pool, or a fixed snapshot in a test. */
export interface StatsSource {
  /** The snapshot to expose. */
  stats(): PoolStats;
}

const SECONDS = 1000;

// #region prometheus
/**
 * Registers the pool metrics on `registry` (a new one by default) and returns it;
 * `await registry.metrics()` is the exposition text. Names carry `prefix`
 * (default `civictrust_pool_`).
 */
export function registerPoolMetrics(source: StatsSource, options: { registry?: Registry; prefix?: string } = {}): Registry {
  const registry = options.registry ?? new Registry();
  const prefix = options.prefix ?? 'civictrust_pool_';
  const registers = [registry];
  new Gauge({
    name: `${prefix}queue_depth`, help: 'Tasks waiting for a worker thread', registers,
    collect() { this.set(source.stats().depth); },
  });
  new Gauge({
    name: `${prefix}queue_limit`, help: 'The queue depth limit; one more task is refused with E_QUEUE_FULL', registers,
    collect() { this.set(source.stats().maxQueue); },
  });
  new Gauge({
    name: `${prefix}running`, help: 'Tasks running on worker threads', registers,
    collect() { this.set(source.stats().running); },
  });
  new Counter({
    name: `${prefix}workers_replaced_total`, help: 'Worker threads terminated and started again (budget overrun or crash)', registers,
    collect() { this.reset(); this.inc(source.stats().replacedWorkers); },
  });
  new Counter({
    name: `${prefix}tasks_total`, help: 'Tasks by type and outcome', labelNames: ['type', 'outcome'], registers,
    collect() {
      this.reset();
      for (const [type, t] of Object.entries(source.stats().byType)) {
        this.inc({ type, outcome: 'accepted' }, t.accepted);
        this.inc({ type, outcome: 'completed' }, t.completed);
        this.inc({ type, outcome: 'timed_out' }, t.timedOut);
        this.inc({ type, outcome: 'expired' }, t.expired);
      }
    },
  });
  new Counter({
    name: `${prefix}rejections_total`, help: 'Tasks refused at submit, by type and code', labelNames: ['type', 'code'], registers,
    collect() {
      this.reset();
      for (const [type, t] of Object.entries(source.stats().byType)) {
        for (const [code, n] of Object.entries(t.rejected)) this.inc({ type, code }, n);
      }
    },
  });
  new Counter({
    name: `${prefix}failures_total`, help: 'Accepted tasks that ended in an error, by type and code', labelNames: ['type', 'code'], registers,
    collect() {
      this.reset();
      for (const [type, t] of Object.entries(source.stats().byType)) {
        for (const [code, n] of Object.entries(t.failed)) this.inc({ type, code }, n);
      }
    },
  });
  for (const [metric, help, pick] of [
    ['queue_wait_seconds', 'Queue wait per task type (accepted to dispatched), by quantile', 'queueWaitMs'],
    ['run_seconds', 'Handler run time per task type, measured in the worker, by quantile', 'runMs'],
  ] as const) {
    new Gauge({
      name: `${prefix}${metric}`, help, labelNames: ['type', 'quantile'], registers,
      collect() {
        this.reset();
        for (const [type, t] of Object.entries(source.stats().byType)) {
          const summary = t[pick];
          for (const [quantile, value] of [['0.5', summary.p50], ['0.95', summary.p95], ['0.99', summary.p99]] as const) {
            if (value !== null) this.set({ type, quantile }, value / SECONDS);
          }
        }
      },
    });
  }
  return registry;
}
// #endregion prometheus
