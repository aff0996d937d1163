/**
 * The bounded worker pool (week 5): CPU work on `node:worker_threads` behind a queue
 * with a hard depth limit, per-task execution budgets, batching, graceful close,
 * per-type metrics, errors carried across threads as data, and the `pool` command group.
 * @module pool
 * @category Week 05
 */
export { POOL_ERRORS, encodeTaskError, rebuildTaskError, PoolCore, PoolMetrics, WorkerPool, BUILTIN_HANDLERS, registerPoolMetrics, POOL_COMMANDS, WEEK5_CLI } from '../weeks/week-05-worker-pool/mod.ts';
export type { PoolErrorCode, TaskErrorData, WireTask, WireResult, ToWorker, FromWorker, PoolLimits, SubmitRequest, PoolAction, SubmitOutcome, PoolStats, PoolTotals, TaskTypeStats, TimeSummary, WorkerPoolOptions, SubmitOptions, TaskHandler, HandlerModule, BuiltinTaskType, StatsSource } from '../weeks/week-05-worker-pool/mod.ts';
