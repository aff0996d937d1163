/**
 * Week 5's error catalog: every way a task handed to the worker pool can fail, each
 * with one stable code and a `definite` verdict the caller can act on.
 *
 * The line between definite and indefinite is drawn by one question: could the
 * handler have started? A task refused at the door (`E_QUEUE_FULL`, `E_POOL_CLOSED`,
 * `E_TASK_UNKNOWN`), dropped before it reached a thread (`E_TASK_EXPIRED`) or whose
 * input cannot be copied to a thread (`E_TASK_UNCLONEABLE`) certainly never ran:
 * definite, safe to retry. A task that was running when its thread was stopped
 * (`E_TASK_TIMEOUT`, `E_TASK_ABORTED`, `E_WORKER_EXITED`) may have done part or all
 * of its work, and a handler may have side effects the pool cannot see: indefinite.
 * @module
 */
import { defineErrors } from '../../lib/errors.ts';

// #region catalog
/** The error codes of the worker pool. */
export const POOL_ERRORS = defineErrors({
  E_QUEUE_FULL: {
    exit: 'unavailable', http: 503, definite: true,
    summary: 'The task queue is at its depth limit, so the task was refused without running',
    action: 'Retry after a short pause, or raise --queue if the load is expected',
  },
  E_POOL_CLOSED: {
    exit: 'unavailable', http: 503, definite: true,
    summary: 'The pool is shutting down (or shut down) and accepts no new task; this one never ran',
    action: 'Submit the task to a pool that is running',
  },
  E_TASK_UNKNOWN: {
    exit: 'usage', http: 400, definite: true,
    summary: 'No handler of that task type exists in the handler module',
    action: 'Use one of the task types the handler module exports (see pool run --help)',
  },
  E_TASK_UNCLONEABLE: {
    exit: 'data', http: 400, definite: true,
    summary: 'The task input or result cannot cross the thread boundary (structured clone refused it)',
    action: 'Pass plain data: objects, arrays, strings, numbers, Uint8Array; no functions or class instances',
  },
  E_TASK_BAD_INPUT: {
    exit: 'data', http: 400, definite: true,
    summary: 'A built-in handler refused its input before doing any work (wrong type or length)',
    action: 'Pass the input the handler documents, such as a 32-byte key',
  },
  E_TASK_EXPIRED: {
    exit: 'unavailable', http: 504, definite: true,
    summary: 'The task deadline passed while it waited in the queue, so it was dropped before it ran',
    action: 'Give the task a later deadline, or lower the load so the queue wait shrinks',
  },
  E_TASK_TIMEOUT: {
    exit: 'unavailable', http: 504, definite: false,
    summary: 'The task overran its execution budget; its worker was stopped and replaced',
    action: 'Raise --budget-ms if the work is legitimately long; the task may have partly run',
  },
  E_TASK_ABORTED: {
    exit: 'unavailable', http: 503, definite: false,
    summary: 'The pool was stopped hard while the task was running',
    action: 'Use a graceful close to let running tasks finish; the task may have partly run',
  },
  E_TASK_FAILED: {
    exit: 'internal', http: 500, definite: false,
    summary: 'The task handler threw an error that carries no code',
    action: 'Fix the handler so that every failure it expects throws a coded error',
  },
  E_WORKER_EXITED: {
    exit: 'unavailable', http: 503, definite: false,
    summary: 'The worker thread running the task died (crash or exit); it was replaced',
    action: 'Retry if the task is safe to repeat; read the cause to see why the thread died',
  },
  E_WORKER_LOAD: {
    exit: 'data', http: 500, definite: true,
    summary: 'A worker thread could not load the handler module',
    action: 'Check the module URL and that it exports `handlers`, an object of functions',
  },
});
// #endregion catalog

/** One code of {@link POOL_ERRORS}. */
export type PoolErrorCode = keyof typeof POOL_ERRORS;
