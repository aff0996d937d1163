/**
 * What crosses the thread boundary between the pool and its workers, and how an error
 * crosses it.
 *
 * `postMessage` copies its argument with the structured clone algorithm. Clone keeps
 * plain data (objects, arrays, strings, numbers, typed arrays, `Map`, `Date`) and a
 * few built-in error types, but not classes: an instance of an `Error` subclass
 * arrives as a plain `Error` with its own fields dropped, so a `CivicError`'s `code`
 * and `definite` are lost on the way. The pool therefore never sends an error object.
 * It sends {@link TaskErrorData}, three plain fields, and rebuilds a
 * {@link CivicError} from them on arrival ({@link rebuildTaskError}). Pure: no Node.
 * @module
 */
import { CivicError } from '../../lib/errors.ts';
import { POOL_ERRORS } from './catalog.ts';

// #region wire-error
/** An error as data: what survives `postMessage` unchanged. */
export interface TaskErrorData {
  /** The stable `E_*` code; `E_TASK_FAILED` for an error that had none. */
  readonly code: string;
  /** The message, as thrown. */
  readonly message: string;
  /** True when the failed task certainly had no effect. */
  readonly definite: boolean;
}

/**
 * Turns anything a handler threw into {@link TaskErrorData}. A thrown value with a
 * string `code` keeps it (and its boolean `definite`, else false: when in doubt,
 * indefinite); anything else becomes `E_TASK_FAILED`.
 */
export function encodeTaskError(thrown: unknown): TaskErrorData {
  const fields = (typeof thrown === 'object' && thrown !== null ? thrown : {}) as { code?: unknown; message?: unknown; definite?: unknown };
  const message = typeof fields.message === 'string' ? fields.message : String(thrown);
  if (typeof fields.code === 'string' && /^E_[A-Z0-9_]+$/.test(fields.code)) {
    return { code: fields.code, message, definite: fields.definite === true };
  }
  return { code: 'E_TASK_FAILED', message: `Task handler failed: ${message}`, definite: POOL_ERRORS.E_TASK_FAILED.definite };
}

/** Rebuilds the {@link CivicError} that {@link encodeTaskError} took apart. */
export function rebuildTaskError(data: TaskErrorData): CivicError {
  return new CivicError(data.code, data.message, { definite: data.definite });
}
// #endregion wire-error

/** One task as a worker receives it. */
export interface WireTask {
  /** The pool's id of the task, unique for the pool's life. */
  readonly id: number;
  /** The handler name. */
  readonly type: string;
  /** The handler's argument (structured-cloned). */
  readonly input: unknown;
}

/** The outcome of one task as a worker reports it. */
export type WireResult =
  | { readonly id: number; readonly ok: true; readonly value: unknown; readonly runMs: number }
  | { readonly id: number; readonly ok: false; readonly error: TaskErrorData; readonly runMs: number };

/** Pool → worker: run these tasks in order, or leave. */
export type ToWorker =
  | { readonly kind: 'batch'; readonly batch: number; readonly tasks: readonly WireTask[] }
  | { readonly kind: 'stop' };

/** Worker → pool: loaded (with the task types it serves), could not load, or a batch's outcomes. */
export type FromWorker =
  | { readonly kind: 'ready'; readonly types: readonly string[] }
  | { readonly kind: 'load-failed'; readonly error: TaskErrorData }
  | { readonly kind: 'done'; readonly batch: number; readonly results: readonly WireResult[] };
