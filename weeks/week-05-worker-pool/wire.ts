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
  /** The handler returned. */
  | {
      /** The id of the {@link WireTask} this answers. */
      readonly id: number;
      /** Always `true` here: the handler returned without throwing. */
      readonly ok: true;
      /** What the handler returned (or its promise settled to), structured-cloned back. */
      readonly value: unknown;
      /** Time spent in the handler call, measured inside the thread, ms. */
      readonly runMs: number;
    }
  /** The task failed: its handler threw or was missing, or its input or result could not be cloned. */
  | {
      /** The id of the {@link WireTask} this answers. */
      readonly id: number;
      /** Always `false` here: the task failed. */
      readonly ok: false;
      /** The failure as plain data; the pool turns it back into a {@link CivicError}. */
      readonly error: TaskErrorData;
      /** Time spent in the handler call, ms; 0 when the task never reached the thread. */
      readonly runMs: number;
    };

/** Pool → worker: run these tasks in order, or leave. */
export type ToWorker =
  /** Run a batch and answer it with one `done` message. */
  | {
      /** Tells the worker this message carries work. */
      readonly kind: 'batch';
      /** The pool's number for this batch; the `done` reply quotes it back. */
      readonly batch: number;
      /** The tasks, run one after another in this order. */
      readonly tasks: readonly WireTask[];
    }
  /** Close the port and let the thread end on its own. */
  | {
      /** Tells an idle worker to exit: the pool has no more work for it. */
      readonly kind: 'stop';
    };

/** Worker → pool: loaded (with the task types it serves), could not load, or a batch's outcomes. */
export type FromWorker =
  /** The handler module loaded; the worker waits for batches. */
  | {
      /** Tells the pool this thread can take work. */
      readonly kind: 'ready';
      /** The task types the module serves: the names in its `handlers` whose values are functions. */
      readonly types: readonly string[];
    }
  /** The handler module could not be imported or exports no `handlers`; the thread ends. */
  | {
      /** Tells the pool this thread will never take work. */
      readonly kind: 'load-failed';
      /** Why loading failed, as `E_WORKER_LOAD` data. */
      readonly error: TaskErrorData;
    }
  /** A batch has finished. */
  | {
      /** Tells the pool this message answers a `batch` message. */
      readonly kind: 'done';
      /** The number of the batch this answers, so the pool can ignore a stale reply. */
      readonly batch: number;
      /** One outcome per task of the batch, in the order they ran. */
      readonly results: readonly WireResult[];
    };
