/**
 * Week 5's public surface: the bounded worker pool over `node:worker_threads`, its
 * pure core, the error catalog, the wire format of errors, the built-in handler
 * module, the Prometheus exposition and the `pool` command group. `lib/pool.ts`
 * re-exports from here and nowhere else in this folder.
 * @module
 */
export { POOL_ERRORS } from './catalog.ts';
export type { PoolErrorCode } from './catalog.ts';
export { encodeTaskError, rebuildTaskError } from './wire.ts';
export type { TaskErrorData, WireTask, WireResult, ToWorker, FromWorker } from './wire.ts';
export { PoolCore } from './pool_core.ts';
export type { PoolLimits, SubmitRequest, PoolAction, SubmitOutcome } from './pool_core.ts';
export { PoolMetrics } from './pool_stats.ts';
export type { PoolStats, PoolTotals, TaskTypeStats, TimeSummary } from './pool_stats.ts';
export { WorkerPool } from './node_pool.ts';
export type { WorkerPoolOptions, SubmitOptions } from './node_pool.ts';
export type { TaskHandler, HandlerModule } from './node_worker_main.ts';
export { BUILTIN_HANDLERS } from './node_handlers.ts';
export type { BuiltinTaskType } from './node_handlers.ts';
export { registerPoolMetrics } from './node_pool_metrics.ts';
export type { StatsSource } from './node_pool_metrics.ts';
export { POOL_COMMANDS } from './node_pool_cli.ts';
export { WEEK5_CLI } from './node_week5_cli.ts';
