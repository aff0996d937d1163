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
 *
 * Each thread answers its batches on a port of its own (a `MessageChannel` whose other
 * end it receives in `workerData`), so that the adapter can read every answer already
 * posted, synchronously, with `receiveMessageOnPort`: before it calls a batch an
 * overrun, and before it reports a thread's death to the core.
 * @module
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
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
  /**
   * Batches a thread may hold at once (default 2): the one it runs and the next ones,
   * waiting in its inbox, so it never idles for a round trip between batches. 1 sends a
   * thread its next batch only once it has answered the last.
   */
  readonly pipelineDepth?: number;
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

/** One slot's thread and the port on which it posts its `done` messages. */
interface Thread {
  readonly worker: Worker;
  readonly results: MessagePort;
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
  readonly #threads: (Thread | undefined)[];
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

  /** Tasks on threads now: running, or next in a thread's inbox. */
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
    await Promise.all(threads.map((thread) => thread?.worker.terminate()));
    this.#onDrained?.();
  }

  /** Starts the thread of one slot; resolves once it has loaded the handlers. */
  #spawn(slot: number): Promise<void> {
    const { port1: results, port2: resultsForWorker } = new MessageChannel();
    const worker = new Worker(BOOTSTRAP, {
      workerData: { runtime: RUNTIME.href, handlers: this.#handlers.href, results: resultsForWorker },
      transferList: [resultsForWorker],
      // The bootstrap loads tsx itself; the parent's flags (vitest's, the CLI's) stay out.
      execArgv: [],
      name: `civictrust-pool-${slot}`,
    });
    const thread: Thread = { worker, results };
    this.#threads[slot] = thread;
    results.on('message', (message: FromWorker) => {
      if (this.#threads[slot] === thread) this.#hear(slot, message);
    });
    return new Promise<void>((resolve, reject) => {
      let loaded = false;
      let lastError: string | undefined;
      worker.on('message', (message: FromWorker) => {
        if (this.#threads[slot] !== thread) return; // a replaced thread's late words
        if (message.kind === 'ready') {
          loaded = true;
          this.#core.setTypes(message.types);
          resolve();
          this.#apply(this.#core.ready(slot, this.#clock.now()));
        } else if (message.kind === 'load-failed') {
          reject(rebuildTaskError(message.error));
        }
      });
      worker.on('error', (error) => {
        if (!loaded) reject(rebuildTaskError({ code: 'E_WORKER_LOAD', message: `Cannot start worker ${slot}: ${error.message}`, definite: true }));
        lastError = error.message;
      });
      // #region exit
      worker.on('exit', (code) => {
        if (!loaded) reject(rebuildTaskError({ code: 'E_WORKER_LOAD', message: `Cannot start worker ${slot}: it exited with code ${code} before loading ${fileURLToPath(this.#handlers)}`, definite: true }));
        if (this.#threads[slot] !== thread) return;
        // Answers the thread posted before it died may still sit in the port: read them
        // first, so the core knows which batches finished before it sorts the rest.
        this.#drain(slot, thread);
        results.close();
        this.#threads[slot] = undefined;
        this.#apply(this.#core.exited(slot, lastError ?? `exit code ${code}`, this.#clock.now()));
      });
      // #endregion exit
    });
  }

  /** Feeds the core one message from a thread's results port. */
  #hear(slot: number, message: FromWorker): void {
    if (message.kind === 'done') this.#apply(this.#core.done(slot, message.batch, message.results, this.#clock.now()));
  }

  /** Reads, synchronously, every message a thread has posted on its results port and not yet delivered. */
  #drain(slot: number, thread: Thread): void {
    for (let next = receiveMessageOnPort(thread.results); next !== undefined; next = receiveMessageOnPort(thread.results)) {
      this.#hear(slot, next.message as FromWorker);
    }
  }

  /** Does what the core decided, then re-arms the budget timer. */
  #apply(actions: readonly PoolAction[]): void {
    for (const action of actions) {
      switch (action.kind) {
        case 'dispatch': this.#post(action.slot, { kind: 'batch', batch: action.batch, tasks: action.tasks }); break;
        case 'resolve': this.#settle(action.id, (waiter) => waiter.resolve(action.value)); break;
        case 'reject': this.#settle(action.id, (waiter) => waiter.reject(rebuildTaskError(action.error))); break;
        case 'replace': this.#replace(action.slot); break;
        case 'terminate': this.#kill(action.slot); break;
        case 'stop': this.#threads[action.slot]?.worker.postMessage({ kind: 'stop' } satisfies ToWorker); break;
      }
    }
    this.#arm();
    if (this.#core.drained) this.#onDrained?.();
  }

  /** Posts a batch; input that structured clone refuses fails its tasks with `E_TASK_UNCLONEABLE`. */
  #post(slot: number, message: ToWorker): void {
    try {
      this.#threads[slot]?.worker.postMessage(message);
    } catch (error) {
      // Nothing reached the thread. Tell the core after this round of actions, whose
      // later dispatches to the same thread must be posted first, in their order.
      const reason: TaskErrorData = { code: 'E_TASK_UNCLONEABLE', message: `Cannot send the task to a worker: ${(error as Error).message}`, definite: true };
      const batch = message.kind === 'batch' ? message.batch : 0;
      queueMicrotask(() => this.#apply(this.#core.unsent(slot, batch, reason, this.#clock.now())));
    }
  }

  /** Hands a settled outcome to its waiter, exactly once. */
  #settle(id: number, settle: (waiter: Waiter) => void): void {
    const waiter = this.#waiters.get(id);
    if (waiter === undefined) return;
    this.#waiters.delete(id);
    settle(waiter);
  }

  /** Terminates a slot's thread; its exit is reported to the core like any other. */
  #kill(slot: number): void {
    void this.#threads[slot]?.worker.terminate();
  }

  /** Starts a fresh thread in a slot whose old thread has exited. */
  #replace(slot: number): void {
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
    // #region timer
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Number.POSITIVE_INFINITY;
      // A batch's answer may have arrived while this callback waited its turn (timers run
      // before the loop reads ports): read every answer already posted before deciding
      // that a batch overran. What is still missing after this was never posted.
      this.#threads.forEach((thread, slot) => { if (thread !== undefined) this.#drain(slot, thread); });
      this.#apply(this.#core.expire(this.#clock.now()));
    }, Math.max(0, Math.ceil(next - this.#clock.now())) + 1);
    // #endregion timer
  }

  /** Terminates every thread and waits for each to stop. */
  async #terminateAll(): Promise<void> {
    const threads = this.#threads.splice(0, this.#threads.length, ...this.#threads.map(() => undefined));
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    for (const thread of threads) thread?.results.close();
    await Promise.all(threads.map((thread) => thread?.worker.terminate()));
  }
}

