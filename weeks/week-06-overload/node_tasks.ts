/**
 * The handler module the overload server's worker pool loads (week 5's
 * `WorkerPool.start({ handlers: TASK_HANDLERS })`): the three tasks of the task protocol,
 * each behind the pool stage of the deadline check. A worker looks at the request's
 * deadline before it spends any CPU on it; a task found expired is not run, and the
 * answer says how late it was.
 *
 * Worker clocks and the server's clock agree: both read `performance.timeOrigin +
 * performance.now()` (week 2's `preciseClock`), an absolute time in ms.
 * @module
 */
import { createHash } from 'node:crypto';
import type { TaskInput, TaskOutput } from './controller.ts';

/** The URL of this module, for the pool's `handlers` option. */
export const TASK_HANDLERS: URL = new URL(import.meta.url);

/** Now, on the same absolute clock as the server's. */
function now(): number {
  return performance.timeOrigin + performance.now();
}

// #region pool-stage
/** Runs `work` unless the pool stage's time has passed (the deadline, or the end of its share): the pool stage of the deadline check. */
function beforeRunning(input: TaskInput, work: () => Uint8Array): TaskOutput {
  const late = now() - input.deadlineMs;
  if (late >= 0) return { dropped: true, lateMs: late };
  return { dropped: false, body: work() };
}
// #endregion pool-stage

/** Busy CPU for `ms`: the stand-in for a heavy task. */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* burn */ }
}

/** The task handlers, by task name. */
export const handlers = {
  /** SHA-256 over the body repeated `arg` times: 32 bytes out. */
  sha256: (input: TaskInput): TaskOutput => beforeRunning(input, () => {
    const hash = createHash('sha256');
    for (let i = 0; i < input.arg; i += 1) hash.update(input.body);
    return new Uint8Array(hash.digest());
  }),
  /** Keeps the worker busy for `arg` ms; an empty result. */
  spin: (input: TaskInput): TaskOutput => beforeRunning(input, () => {
    spin(input.arg);
    return new Uint8Array(0);
  }),
  /** `arg` bytes of `a`: a large reply for egress tests. */
  fill: (input: TaskInput): TaskOutput => beforeRunning(input, () => new Uint8Array(input.arg).fill(0x61)),
};
