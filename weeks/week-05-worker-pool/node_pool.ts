/**
 * `WorkerPool`: the pool core ({@link PoolCore}) driven by real `node:worker_threads`.
 *
 * Everything here runs on the main thread's event loop, so the queue, the slots and
 * the metrics need no lock: one thread owns them. Worker threads own only their
 * handler module's state; the two sides share nothing and talk by `postMessage`
 * (structured clone, a copy each way).
 *
 * The adapter does three things: it runs what the core decides (post a batch, settle
 * a promise, terminate and restart a thread), it feeds the core what the threads say
 * (`ready`, `done`, `exit`), and it keeps exactly one timer armed at the earliest
 * budget deadline of a running batch.
 * @module
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { systemClock, type Clock } from '../../lib/clock.ts';
import { CivicError } from '../../lib/errors.ts';
import { PoolCore, type PoolAction } from './pool_core.ts';
import type { PoolStats } from './pool_stats.ts';
import { rebuildTaskError, type FromWorker, type TaskErrorData, type ToWorker } from './wire.ts';

const BOOTSTRAP = new URL('./worker_bootstrap.mjs', import.meta.url);
const RUNTIME = new URL('./node_worker_main.ts', import.meta.url);

/** Options of {@link WorkerPool.start}. */
export interface WorkerPoolOptions {
  /** Worker threads, at least 1. */
  readonly workers: number;
  /** Tasks that may wait for a thread; one more is refused with `E_QUEUE_FULL`. */
  readonly maxQueue: number;
  /** Execution budget of one task, ms (a task may ask for its own). */
  readonly taskBudgetMs: number;
  /** The module exporting `handlers: Record<string, (input) => output>` (`.ts` works). */
  readonly handlers: URL;
  /** Tasks per `postMessage`, at most (default 1). */
  readonly batchSize?: number;
  /** Time source for queue waits, budgets and deadlines (default: the system clock). */
  readonly clock?: Clock;
}

/** Per-task options of {@link WorkerPool.submit}. */
export interface SubmitOptions {
  /** This task's execution budget, ms. */
  readonly budgetMs?: number;
  /** Drop the task with `E_TASK_EXPIRED` if it has not started by this time (pool clock, ms). */
  readonly deadline?: number;
}

/** The promise callbacks of one accepted task. */
interface Waiter {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: CivicError) => void;
}

/** A worker pool over `node:worker_threads`, with handlers from a module URL. */
export class WorkerPool {
  readonly #core: PoolCore;
  readonly #clock: Clock;
  readonly #handlers: URL;
  readonly #threads: (Worker | undefined)[];
  readonly #waiters = new Map<number, Waiter>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  #closed: Promise<void> | undefined;
  #onDrained: (() => void) | undefined;

  /** Use {@link WorkerPool.start}. */
  private constructor(options: WorkerPoolOptions) {
    this.#core = new PoolCore(options);
    this.#clock = options.clock ?? systemClock;
    this.#handlers = options.handlers;
    this.#threads = Array.from({ length: options.workers }, () => undefined);
  }

  // #region start
  /**
   * Starts the threads and waits until each has loaded the handler module.
   * @throws {@link CivicError} `E_WORKER_LOAD` when the module cannot be loaded
   *   (every thread started so far is terminated first)
   */
  static async start(options: WorkerPoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(options);
    const loads = pool.#threads.map((_, slot) => pool.#spawn(slot));
    const outcomes = await Promise.allSettled(loads);
    const failed = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failed !== undefined) {
      await pool.#terminateAll();
      throw failed.reason;
    }
    return pool;
  }
  // #endregion start

  /** Tasks waiting for a thread (not yet running). */
  get depth(): number {
    return this.#core.depth;
  }

  /** Tasks running on threads now. */
  get running(): number {
    return this.#core.running;
  }

  // #region submit
  /**
   * Runs one task on a worker thread.
   * @param type - a handler name of the handler module
   * @param input - the handler's argument, structured-cloned to the thread
   * @throws {@link CivicError} (as a rejected promise) `E_QUEUE_FULL` at once when
   *   `maxQueue` tasks are waiting, `E_POOL_CLOSED` after {@link WorkerPool.close},
   *   `E_TASK_UNKNOWN`, `E_TASK_UNCLONEABLE` (all definite); later `E_TASK_TIMEOUT`,
   *   `E_WORKER_EXITED`, `E_TASK_EXPIRED` or the handler's own coded error
   */
  submit<I, O>(type: string, input: I, options: SubmitOptions = {}): Promise<O> {
    const outcome = this.#core.submit({ type, input, budgetMs: options.budgetMs, deadline: options.deadline }, this.#clock.now());
    if (!outcome.ok) return Promise.reject(rebuildTaskError(outcome.error));
    const settled = new Promise<O>((resolve, reject) => {
      this.#waiters.set(outcome.id, { resolve: resolve as (value: unknown) => void, reject });
    });
    this.#apply(outcome.actions);
    return settled;
  }
  // #endregion submit

  /** Counters and percentiles, per task type. */
  stats(): PoolStats {
    return this.#core.stats();
  }

  // #region close
  /**
   * Graceful shutdown: stops intake at once (`E_POOL_CLOSED` for new tasks), lets
   * every queued and running task finish, then asks each thread to exit and waits for
   * it. Resolves when every thread has exited. Calling it again returns the same promise.
   */
  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      this.#onDrained = resolve;
      this.#apply(this.#core.close(this.#clock.now()));
    });
    return this.#closed;
  }
  // #endregion close

  /**
   * Hard stop: queued tasks fail with `E_POOL_CLOSED`, running ones with
   * `E_TASK_ABORTED`, and every thread is terminated mid-task. For a shutdown whose
   * grace period ran out; prefer {@link WorkerPool.close}.
   */
  async terminate(): Promise<void> {
    const threads = [...this.#threads];
    this.#apply(this.#core.abort());
    await Promise.all(threads.map((worker) => worker?.terminate()));
    this.#onDrained?.();
  }

  /** Starts the thread of one slot; resolves once it has loaded the handlers. */
  #spawn(slot: number): Promise<void> {
    const worker = new Worker(BOOTSTRAP, {
      workerData: { runtime: RUNTIME.href, handlers: this.#handlers.href },
      // The bootstrap loads tsx itself; the parent's flags (vitest's, the CLI's) stay out.
      execArgv: [],
      name: `civictrust-pool-${slot}`,
    });
    this.#threads[slot] = worker;
    return new Promise<void>((resolve, reject) => {
      let loaded = false;
      let lastError: string | undefined;
      worker.on('message', (message: FromWorker) => {
        if (this.#threads[slot] !== worker) return; // a replaced thread's late words
        if (message.kind === 'ready') {
          loaded = true;
          this.#core.setTypes(message.types);
          resolve();
          this.#apply(this.#core.ready(slot, this.#clock.now()));
        } else if (message.kind === 'load-failed') {
          reject(rebuildTaskError(message.error));
        } else {
          this.#apply(this.#core.done(slot, message.batch, message.results, this.#clock.now()));
        }
      });
      worker.on('error', (error) => {
        if (!loaded) reject(rebuildTaskError({ code: 'E_WORKER_LOAD', message: `Cannot start worker ${slot}: ${error.message}`, definite: true }));
        lastError = error.message;
      });
      worker.on('exit', (code) => {
        if (!loaded) reject(rebuildTaskError({ code: 'E_WORKER_LOAD', message: `Cannot start worker ${slot}: it exited with code ${code} before loading ${fileURLToPath(this.#handlers)}`, definite: true }));
        if (this.#threads[slot] !== worker) return;
        this.#threads[slot] = undefined;
        this.#apply(this.#core.exited(slot, lastError ?? `exit code ${code}`, this.#clock.now()));
      });
    });
  }

  /** Does what the core decided, then re-arms the budget timer. */
  #apply(actions: readonly PoolAction[]): void {
    for (const action of actions) {
      switch (action.kind) {
        case 'dispatch': this.#post(action.slot, { kind: 'batch', batch: action.batch, tasks: action.tasks }, action.tasks.map((task) => task.id)); break;
        case 'resolve': this.#settle(action.id, (waiter) => waiter.resolve(action.value)); break;
        case 'reject': this.#settle(action.id, (waiter) => waiter.reject(rebuildTaskError(action.error))); break;
        case 'replace': this.#replace(action.slot); break;
        case 'terminate': this.#kill(action.slot); break;
        case 'stop': this.#threads[action.slot]?.postMessage({ kind: 'stop' } satisfies ToWorker); break;
      }
    }
    this.#arm();
    if (this.#core.drained) this.#onDrained?.();
  }

  /** Posts a batch; input that structured clone refuses fails its tasks with `E_TASK_UNCLONEABLE`. */
  #post(slot: number, message: ToWorker, ids: readonly number[]): void {
    try {
      this.#threads[slot]?.postMessage(message);
    } catch (error) {
      // Nothing reached the thread: answer the batch as the thread would have.
      const reason: TaskErrorData = { code: 'E_TASK_UNCLONEABLE', message: `Cannot send the task to a worker: ${(error as Error).message}`, definite: true };
      const batch = message.kind === 'batch' ? message.batch : 0;
      queueMicrotask(() => this.#apply(this.#core.done(slot, batch, ids.map((id) => ({ id, ok: false, error: reason, runMs: 0 })), this.#clock.now())));
    }
  }

  /** Hands a settled outcome to its waiter, exactly once. */
  #settle(id: number, settle: (waiter: Waiter) => void): void {
    const waiter = this.#waiters.get(id);
    if (waiter === undefined) return;
    this.#waiters.delete(id);
    settle(waiter);
  }

  /** Terminates a slot's thread; its exit event is ignored (the core already knows). */
  #kill(slot: number): void {
    const worker = this.#threads[slot];
    this.#threads[slot] = undefined;
    void worker?.terminate();
  }

  /** Terminates a slot's thread and starts a fresh one. */
  #replace(slot: number): void {
    this.#kill(slot);
    this.#spawn(slot).catch((error: unknown) => {
      // The module loaded before, so this is rare (out of memory, a deleted file): the
      // slot is given up and the core fails the queue if no slot is left.
      this.#apply(this.#core.exited(slot, (error as Error).message, this.#clock.now()));
    });
  }

  /** Keeps one timer at the earliest budget deadline. */
  #arm(): void {
    const next = this.#core.nextDeadline() ?? Number.POSITIVE_INFINITY;
    if (next === this.#timerAt) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = next;
    if (next === Number.POSITIVE_INFINITY) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Number.POSITIVE_INFINITY;
      this.#apply(this.#core.expire(this.#clock.now()));
    }, Math.max(0, Math.ceil(next - this.#clock.now())) + 1);
  }

  /** Terminates every thread and waits for each to stop. */
  async #terminateAll(): Promise<void> {
    const threads = this.#threads.splice(0, this.#threads.length, ...this.#threads.map(() => undefined));
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await Promise.all(threads.map((worker) => worker?.terminate()));
  }
}

