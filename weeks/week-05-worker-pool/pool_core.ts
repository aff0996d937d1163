/**
 * The worker pool's decisions, without threads: the bounded queue, the worker slots,
 * the execution budget of each running batch, batching, graceful close and the
 * metrics. Events go in (a task submitted, a thread ready, a batch done, a thread
 * dead, the time now); {@link PoolAction}s come out (send this batch to slot 1,
 * settle task 17, replace slot 0's thread). The Node adapter (`node_pool.ts`) runs the
 * threads and the one timer and does what the actions say, so every rule here is
 * tested with plain calls and a number for the time. Pure: no Node, no clock.
 *
 * ```
 *  submit ──► [ queue: FIFO, at most maxQueue waiting ] ──► slot 0: idle | busy([running, next…], deadline)
 *     │ full → E_QUEUE_FULL (definite)                 ──► slot 1: …
 *     │ closing → E_POOL_CLOSED (definite)                  running batch past its deadline → E_TASK_TIMEOUT,
 *                                                            thread ending; the batches behind it go back
 *                                                            to the front of the queue once it is dead
 * ```
 *
 * Invariants: a slot has room (fewer than `pipelineDepth` batches) only while the
 * queue is empty, since a slot with room takes work at once; every accepted task is
 * settled exactly once; a thread runs its batches one after another in the order they
 * were sent, so only the first batch of a slot is running and only it has a budget.
 * @module
 */
import { POOL_ERRORS } from './catalog.ts';
import { PoolMetrics, type PoolStats } from './pool_stats.ts';
import type { TaskErrorData, WireResult, WireTask } from './wire.ts';

/** The pool's fixed limits. */
export interface PoolLimits {
  /** Worker threads, at least 1. */
  readonly workers: number;
  /** Tasks that may wait for a thread; one more is refused with `E_QUEUE_FULL`. */
  readonly maxQueue: number;
  /** Default execution budget of one task, ms. */
  readonly taskBudgetMs: number;
  /** Tasks sent to a thread in one message, at most (default 1). */
  readonly batchSize?: number;
  /**
   * Batches a thread may hold at once, at most (default 2): the one it runs and the
   * ones waiting in its inbox, so that it starts the next without waiting a round trip
   * for it. 1 sends a thread its next batch only after it has answered the last.
   */
  readonly pipelineDepth?: number;
}

/** One task as the caller submits it. */
export interface SubmitRequest {
  /** The handler name. */
  readonly type: string;
  /** The handler's argument; it is copied to the thread. */
  readonly input: unknown;
  /** This task's execution budget, ms (default: the pool's). */
  readonly budgetMs?: number;
  /** Drop the task if it has not reached a thread by this time (pool clock, ms). */
  readonly deadline?: number;
}

/** What the adapter must do next. */
export type PoolAction =
  /** Post these tasks to the slot's thread in one message. */
  | {
      /** Send work to a thread. */
      readonly kind: 'dispatch';
      /** The index of the worker slot whose thread gets the batch (0 to `workers` − 1). */
      readonly slot: number;
      /** The batch's number, unique for the pool's life; the thread's `done` reply must quote it. */
      readonly batch: number;
      /** The batch's tasks, oldest first; the thread runs them one after another. */
      readonly tasks: readonly WireTask[];
    }
  /** Resolve task `id` with `value`. */
  | {
      /** Settle one task's promise with its handler's result. */
      readonly kind: 'resolve';
      /** The id {@link PoolCore.submit} gave the task. */
      readonly id: number;
      /** What the handler returned, as the thread sent it back. */
      readonly value: unknown;
    }
  /** Reject task `id` with the error rebuilt from `error`. */
  | {
      /** Settle one task's promise with an error. */
      readonly kind: 'reject';
      /** The id {@link PoolCore.submit} gave the task. */
      readonly id: number;
      /** Why the task failed, as data; its `definite` says whether the task may have had effects. */
      readonly error: TaskErrorData;
    }
  /** Start a fresh thread in the slot, whose old thread has exited. */
  | {
      /** Start a thread in place of one that overran or crashed; it must report ready again. */
      readonly kind: 'replace';
      /** The index of the worker slot that gets a new thread. */
      readonly slot: number;
    }
  /** Terminate the slot's thread now, and report its exit with {@link PoolCore.exited}. */
  | {
      /** Kill a thread: it overran its budget, or the pool is stopping hard. */
      readonly kind: 'terminate';
      /** The index of the worker slot whose thread is killed. */
      readonly slot: number;
    }
  /** Ask the slot's idle thread to exit by itself (graceful join). */
  | {
      /** Send the thread a `stop` message; it exits once it reads it. */
      readonly kind: 'stop';
      /** The index of the idle worker slot to stop. */
      readonly slot: number;
    };

/** The outcome of {@link PoolCore.submit}. */
export type SubmitOutcome =
  /** Accepted: the task is queued, or already on its way to a thread. */
  | {
      /** Always `true` here: the pool took the task and will settle it exactly once. */
      readonly ok: true;
      /** The task's id; the `resolve` or `reject` action that settles it carries the same id. */
      readonly id: number;
      /** What the adapter must do now, such as dispatching the task to an idle thread. */
      readonly actions: readonly PoolAction[];
    }
  /** Refused at once: the task never entered the queue. */
  | {
      /** Always `false` here: the task was refused and never ran. */
      readonly ok: false;
      /** Why it was refused (`E_POOL_CLOSED`, `E_TASK_UNKNOWN`, `E_QUEUE_FULL`); always definite. */
      readonly error: TaskErrorData;
    };

/** A task the pool has accepted. */
interface Task {
  readonly id: number;
  readonly type: string;
  readonly input: unknown;
  readonly budgetMs: number;
  readonly deadline: number | undefined;
  readonly acceptedAt: number;
  /** True once it went back to the queue from a thread that died before starting it. */
  readonly requeued: boolean;
}

/** A batch sent to a thread: running (the first of its slot) or waiting in the thread's inbox. */
interface Batch {
  readonly number: number;
  readonly tasks: readonly Task[];
  /** Its execution budget, ms, fixed when it is sent; it starts counting when the batch starts. */
  readonly budgetMs: number;
}

/** Where one worker thread is in its life. */
type Slot =
  | { readonly state: 'starting' }
  | { readonly state: 'idle' }
  /** `batches[0]` runs and must finish by `deadline`; the others wait in the thread's inbox, in order. */
  | { readonly state: 'busy'; readonly batches: readonly Batch[]; readonly deadline: number }
  /**
   * The thread overran and is being terminated. While `overran` (the number of the
   * batch that overran) is set, its `done` has not come, so nothing in `batches` has
   * started; once it comes, `batches[0]` may have.
   */
  | { readonly state: 'ending'; readonly batches: readonly Batch[]; readonly overran: number | undefined }
  | { readonly state: 'stopping' }
  | { readonly state: 'stopped' };

/** The default of {@link PoolLimits.pipelineDepth}. */
const DEFAULT_PIPELINE_DEPTH = 2;

/** Checks a limit is a whole number in range; a wrong limit is a programmer error. */
function checkLimit(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`${name} must be a whole number ≥ ${min}, got ${value}`);
}

/** Builds error data from the pool's own catalog. */
function poolError(code: keyof typeof POOL_ERRORS, message: string): TaskErrorData {
  return { code, message, definite: POOL_ERRORS[code].definite };
}

/** The pool's state machine: queue, slots, budgets, batching and metrics, fed by events. */
export class PoolCore {
  readonly #limits: Required<PoolLimits>;
  readonly #slots: Slot[];
  readonly #metrics = new PoolMetrics();
  // The queue is an array read from #head: shift() would be O(n) per task.
  #queue: Task[] = [];
  #head = 0;
  #nextId = 1;
  #nextBatch = 1;
  #batches = 0;
  #replaced = 0;
  #maxDepthSeen = 0;
  #closing = false;
  #types: ReadonlySet<string> | undefined;

  /**
   * @param limits - workers, queue depth, default budget, batch size, pipeline depth
   * @throws RangeError when a limit is not a whole number in range
   */
  constructor(limits: PoolLimits) {
    checkLimit('workers', limits.workers, 1);
    checkLimit('maxQueue', limits.maxQueue, 0);
    checkLimit('batchSize', limits.batchSize ?? 1, 1);
    checkLimit('pipelineDepth', limits.pipelineDepth ?? DEFAULT_PIPELINE_DEPTH, 1);
    if (!(limits.taskBudgetMs > 0)) throw new RangeError(`taskBudgetMs must be > 0, got ${limits.taskBudgetMs}`);
    this.#limits = {
      workers: limits.workers, maxQueue: limits.maxQueue, taskBudgetMs: limits.taskBudgetMs,
      batchSize: limits.batchSize ?? 1, pipelineDepth: limits.pipelineDepth ?? DEFAULT_PIPELINE_DEPTH,
    };
    this.#slots = Array.from({ length: limits.workers }, (): Slot => ({ state: 'starting' }));
  }

  /** Tasks waiting for a thread. */
  get depth(): number {
    return this.#queue.length - this.#head;
  }

  /** Tasks on threads now: running, or next in a thread's inbox. */
  get running(): number {
    let n = 0;
    for (const slot of this.#slots) {
      if (slot.state === 'busy' || slot.state === 'ending') for (const batch of slot.batches) n += batch.tasks.length;
    }
    return n;
  }

  /** True once intake stopped and every thread has exited. */
  get drained(): boolean {
    return this.#closing && this.#slots.every((slot) => slot.state === 'stopped');
  }

  /** True once intake stopped. */
  get closing(): boolean {
    return this.#closing;
  }

  /** Sets the task types the handler module serves; unknown types are then refused at submit. */
  setTypes(types: Iterable<string>): void {
    this.#types = new Set(types);
  }

  // #region submit
  /**
   * Accepts a task into the queue (or straight onto a thread with room), or refuses it at
   * once. Refusals are definite: the task never ran.
   */
  submit(request: SubmitRequest, now: number): SubmitOutcome {
    const budgetMs = request.budgetMs ?? this.#limits.taskBudgetMs;
    if (!(budgetMs > 0)) throw new RangeError(`budgetMs must be > 0, got ${budgetMs}`);
    const refuse = (error: TaskErrorData): SubmitOutcome => {
      this.#metrics.rejected(request.type, error.code);
      return { ok: false, error };
    };
    if (this.#closing) {
      return refuse(poolError('E_POOL_CLOSED', `Cannot accept task ${request.type}: the pool is closing`));
    }
    if (this.#slots.every((slot) => slot.state === 'stopped')) {
      return refuse(poolError('E_POOL_CLOSED', `Cannot accept task ${request.type}: no worker thread is left`));
    }
    if (this.#types !== undefined && !this.#types.has(request.type)) {
      return refuse(poolError('E_TASK_UNKNOWN', `Cannot run task ${request.type}: no such handler (known: ${[...this.#types].join(', ')})`));
    }
    // A slot with room means the queue is empty and the task leaves at once, so only a
    // pool whose every thread holds pipelineDepth batches can be full.
    if (this.depth >= this.#limits.maxQueue && this.#roomiest() === undefined) {
      return refuse(poolError('E_QUEUE_FULL', `Cannot accept task ${request.type}: the queue holds ${this.depth} of ${this.#limits.maxQueue} tasks`));
    }
    const task: Task = { id: this.#nextId++, type: request.type, input: request.input, budgetMs, deadline: request.deadline, acceptedAt: now, requeued: false };
    this.#queue.push(task);
    this.#metrics.accepted(task.type);
    const actions = this.#pump(now);
    this.#maxDepthSeen = Math.max(this.#maxDepthSeen, this.depth);
    return { ok: true, id: task.id, actions };
  }
  // #endregion submit

  /** A slot's thread has loaded the handlers and waits for work. */
  ready(slot: number, now: number): PoolAction[] {
    if (this.#slot(slot).state !== 'starting') return [];
    this.#slots[slot] = { state: 'idle' };
    return this.#pump(now);
  }

  // #region done
  /**
   * A slot's thread reports the outcomes of a batch; a stale report (a batch the slot
   * no longer holds) is ignored. The slot's next batch was already waiting in the
   * thread's inbox and has started by now, so its budget starts now.
   */
  done(slot: number, batch: number, results: readonly WireResult[], now: number): PoolAction[] {
    const current = this.#slot(slot);
    if (current.state !== 'busy' && current.state !== 'ending') return [];
    if (current.state === 'ending' && current.overran === batch) {
      // The overrun batch finished after all, too late: its tasks were already told
      // E_TASK_TIMEOUT. The thread may have started the next batch since.
      this.#slots[slot] = { state: 'ending', batches: current.batches, overran: undefined };
      return [];
    }
    const at = current.batches.findIndex((held) => held.number === batch);
    if (at === -1) return [];
    const actions: PoolAction[] = [];
    // A thread answers in order, so a batch passed over ran without a report.
    for (const skipped of current.batches.slice(0, at)) actions.push(...this.#fail(skipped, 'E_WORKER_EXITED', 'the worker returned no result for it'));
    actions.push(...this.#report(current.batches[at] as Batch, results));
    const rest = current.batches.slice(at + 1);
    if (current.state === 'ending') this.#slots[slot] = { state: 'ending', batches: rest, overran: undefined };
    else this.#slots[slot] = rest.length === 0 ? { state: 'idle' } : { state: 'busy', batches: rest, deadline: now + (rest[0] as Batch).budgetMs };
    actions.push(...this.#pump(now));
    return actions;
  }
  // #endregion done

  /**
   * The adapter could not post batch `batch` (structured clone refused an input): its
   * tasks fail with `error`, and the thread never saw them.
   */
  unsent(slot: number, batch: number, error: TaskErrorData, now: number): PoolAction[] {
    const current = this.#slot(slot);
    if (current.state !== 'busy' && current.state !== 'ending') return [];
    const at = current.batches.findIndex((held) => held.number === batch);
    if (at === -1) return [];
    const actions: PoolAction[] = [];
    for (const task of (current.batches[at] as Batch).tasks) {
      this.#metrics.finished(task.type, 0, error.code);
      actions.push({ kind: 'reject', id: task.id, error });
    }
    const rest = current.batches.filter((_, index) => index !== at);
    if (current.state === 'ending') this.#slots[slot] = { state: 'ending', batches: rest, overran: current.overran };
    else if (rest.length === 0) this.#slots[slot] = { state: 'idle' };
    else this.#slots[slot] = { state: 'busy', batches: rest, deadline: at === 0 ? now + (rest[0] as Batch).budgetMs : current.deadline };
    actions.push(...this.#pump(now));
    return actions;
  }

  // #region expire
  /**
   * Cancels every running batch whose budget ran out by `now`. Its tasks fail with
   * `E_TASK_TIMEOUT` (indefinite: the handler was running and may have had effects),
   * and its thread is terminated: a thread busy in a loop cannot be interrupted any
   * other way. The batches behind it stay with the slot until the thread's exit is
   * reported ({@link PoolCore.exited}), which decides what they become. The other
   * slots are untouched, so they keep serving the queue.
   */
  expire(now: number): PoolAction[] {
    const actions: PoolAction[] = [];
    this.#slots.forEach((slot, index) => {
      if (slot.state !== 'busy' || slot.deadline > now) return;
      const [running, ...behind] = slot.batches as [Batch, ...Batch[]];
      for (const task of running.tasks) {
        this.#metrics.timedOut(task.type);
        actions.push({ kind: 'reject', id: task.id, error: poolError('E_TASK_TIMEOUT', `Cannot finish task ${task.id} (${task.type}): it overran its ${task.budgetMs} ms budget, so its worker was stopped and replaced`) });
      }
      this.#replaced += 1;
      this.#slots[index] = { state: 'ending', batches: behind, overran: running.number };
      actions.push({ kind: 'terminate', slot: index });
    });
    actions.push(...this.#pump(now));
    return actions;
  }
  // #endregion expire

  /** The earliest budget deadline of a running batch, or undefined when none runs. */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const slot of this.#slots) {
      if (slot.state === 'busy' && (next === undefined || slot.deadline < next)) next = slot.deadline;
    }
    return next;
  }

  // #region exited
  /**
   * A slot's thread exited; the adapter has first fed the core every `done` the thread
   * posted before it died. Expected after a stop. Otherwise the thread crashed or was
   * terminated after an overrun, and its batches are sorted by one rule: a thread runs
   * its batches one after another and posts each `done` before it starts the next, so
   * only the first batch it had not answered can have started. That batch fails with
   * `E_WORKER_EXITED` (indefinite) unless it is the overrun batch, already answered
   * `E_TASK_TIMEOUT`; every batch behind it never started and goes back to the front
   * of the queue in its order: no error, nothing run twice. The slot then gets a fresh
   * thread. A thread that dies while starting is not restarted (a module that fails to
   * load would fail again); when no slot is left, the queue fails with `E_WORKER_EXITED`.
   */
  exited(slot: number, detail: string, now: number): PoolAction[] {
    const current = this.#slot(slot);
    const actions: PoolAction[] = [];
    if (current.state === 'busy' || current.state === 'ending') {
      let neverStarted = current.batches;
      if (current.state === 'busy' || current.overran === undefined) {
        const [maybeStarted, ...behind] = current.batches;
        if (maybeStarted !== undefined) {
          const why = current.state === 'busy' ? `its worker died: ${detail}` : 'its worker was stopped for an overrun of the batch before it';
          actions.push(...this.#fail(maybeStarted, 'E_WORKER_EXITED', why));
        }
        neverStarted = behind;
      }
      if (current.state === 'busy') this.#replaced += 1;
      this.#requeue(neverStarted);
      actions.push(...this.#restart(slot));
    } else {
      this.#slots[slot] = { state: 'stopped' };
    }
    if (this.#slots.every((s) => s.state === 'stopped')) actions.push(...this.#failQueue('E_WORKER_EXITED', `no worker is left: ${detail}`));
    actions.push(...this.#pump(now));
    return actions;
  }
  // #endregion exited

  // #region close
  /**
   * Stops intake; queued and running tasks still finish. Each thread is asked to exit
   * once the queue is empty and it is idle; {@link PoolCore.drained} turns true when
   * every thread has exited.
   */
  close(now: number): PoolAction[] {
    this.#closing = true;
    return this.#pump(now);
  }
  // #endregion close

  /**
   * Stops hard: queued tasks fail with `E_POOL_CLOSED` (definite: they never ran),
   * tasks on threads with `E_TASK_ABORTED` (indefinite: a thread's next batch may
   * start before the thread is stopped), and every thread is terminated.
   */
  abort(): PoolAction[] {
    this.#closing = true;
    const actions = this.#failQueue('E_POOL_CLOSED', 'the pool was stopped before the task reached a worker');
    this.#slots.forEach((slot, index) => {
      if (slot.state === 'busy' || slot.state === 'ending') {
        for (const batch of slot.batches) actions.push(...this.#fail(batch, 'E_TASK_ABORTED', 'the pool was stopped while it ran or was about to'));
      }
      if (slot.state !== 'stopped') {
        this.#slots[index] = { state: 'stopped' };
        actions.push({ kind: 'terminate', slot: index });
      }
    });
    return actions;
  }

  /** Counters, percentiles and the queue's state now. */
  stats(): PoolStats {
    return {
      workers: this.#limits.workers,
      maxQueue: this.#limits.maxQueue,
      depth: this.depth,
      maxDepthSeen: this.#maxDepthSeen,
      running: this.running,
      alive: this.#slots.filter((slot) => slot.state !== 'stopped').length,
      batches: this.#batches,
      replacedWorkers: this.#replaced,
      closed: this.#closing,
      ...this.#metrics.snapshot(),
    };
  }

  /** The slot at `index`; a bad index is a programmer error. */
  #slot(index: number): Slot {
    const slot = this.#slots[index];
    if (slot === undefined) throw new RangeError(`no worker slot ${index}`);
    return slot;
  }

  /** Gives a slot whose thread has died a fresh thread, or stops it when a closing pool has no work left. */
  #restart(index: number): PoolAction[] {
    if (this.#closing && this.depth === 0) {
      this.#slots[index] = { state: 'stopped' };
      return [];
    }
    this.#slots[index] = { state: 'starting' };
    return [{ kind: 'replace', slot: index }];
  }

  /** Settles a batch's tasks from the thread's report; a task missing from it failed. */
  #report(batch: Batch, results: readonly WireResult[]): PoolAction[] {
    const actions: PoolAction[] = [];
    const reported = new Map(results.map((result) => [result.id, result]));
    for (const task of batch.tasks) {
      const result = reported.get(task.id);
      if (result === undefined) {
        this.#metrics.lost(task.type, 'E_WORKER_EXITED');
        actions.push({ kind: 'reject', id: task.id, error: poolError('E_WORKER_EXITED', `Cannot finish task ${task.id} (${task.type}): the worker returned no result for it`) });
      } else if (result.ok) {
        this.#metrics.finished(task.type, result.runMs);
        actions.push({ kind: 'resolve', id: task.id, value: result.value });
      } else {
        this.#metrics.finished(task.type, result.runMs, result.error.code);
        actions.push({ kind: 'reject', id: task.id, error: result.error });
      }
    }
    return actions;
  }

  /** Fails every task of a batch that may have started with an indefinite `code`. */
  #fail(batch: Batch, code: 'E_WORKER_EXITED' | 'E_TASK_ABORTED', why: string): PoolAction[] {
    return batch.tasks.map((task): PoolAction => {
      this.#metrics.lost(task.type, code);
      return { kind: 'reject', id: task.id, error: poolError(code, `Cannot finish task ${task.id} (${task.type}): ${why}`) };
    });
  }

  /** Puts the tasks of batches that never started back at the front of the queue, in their order. */
  #requeue(batches: readonly Batch[]): void {
    const tasks = batches.flatMap((batch) => batch.tasks.map((task): Task => ({ ...task, requeued: true })));
    if (tasks.length === 0) return;
    this.#queue = [...tasks, ...this.#queue.slice(this.#head)];
    this.#head = 0;
    this.#maxDepthSeen = Math.max(this.#maxDepthSeen, this.depth);
  }

  /** Rejects every queued task with `code`. */
  #failQueue(code: 'E_POOL_CLOSED' | 'E_WORKER_EXITED', why: string): PoolAction[] {
    const actions: PoolAction[] = [];
    for (let i = this.#head; i < this.#queue.length; i += 1) {
      const task = this.#queue[i] as Task;
      this.#metrics.lost(task.type, code);
      actions.push({ kind: 'reject', id: task.id, error: poolError(code, `Cannot run task ${task.id} (${task.type}): ${why}`) });
    }
    this.#queue = [];
    this.#head = 0;
    return actions;
  }

  /** Takes the next task off the queue, or undefined when it is empty. */
  #take(): Task | undefined {
    if (this.#head >= this.#queue.length) return undefined;
    const task = this.#queue[this.#head] as Task;
    this.#head += 1;
    if (this.#head >= 1024 && this.#head * 2 >= this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    return task;
  }

  // #region pump
  /**
   * Hands queued work to slots with room, up to `batchSize` tasks per message, oldest
   * first, and always to the slot holding the fewest batches (an idle thread before a
   * second batch for a busy one). A task whose deadline has passed is dropped here with
   * `E_TASK_EXPIRED` before it costs a thread anything. A batch's budget is the sum of
   * its tasks' budgets, since a thread runs them one after another; it starts counting
   * now if the slot was idle, else when the batch before it is done. When the pool is
   * closing and the queue is empty, idle threads are asked to exit.
   */
  #pump(now: number): PoolAction[] {
    const actions: PoolAction[] = [];
    for (let index = this.#roomiest(); index !== undefined && this.depth > 0; index = this.#roomiest()) {
      const tasks: Task[] = [];
      let budgetMs = 0;
      while (tasks.length < this.#limits.batchSize) {
        const task = this.#take();
        if (task === undefined) break;
        if (task.deadline !== undefined && task.deadline <= now) {
          this.#metrics.expired(task.type);
          actions.push({ kind: 'reject', id: task.id, error: poolError('E_TASK_EXPIRED', `Cannot run task ${task.id} (${task.type}): its deadline passed after ${now - task.acceptedAt} ms in the queue`) });
          continue;
        }
        if (!task.requeued) this.#metrics.dispatched(task.type, now - task.acceptedAt);
        tasks.push(task);
        budgetMs += task.deadline === undefined ? task.budgetMs : Math.min(task.budgetMs, task.deadline - now);
      }
      if (tasks.length === 0) break;
      const batch: Batch = { number: this.#nextBatch++, tasks, budgetMs };
      this.#batches += 1;
      const slot = this.#slot(index);
      this.#slots[index] = slot.state === 'busy'
        ? { state: 'busy', batches: [...slot.batches, batch], deadline: slot.deadline }
        : { state: 'busy', batches: [batch], deadline: now + budgetMs };
      actions.push({ kind: 'dispatch', slot: index, batch: batch.number, tasks: tasks.map(({ id, type, input }) => ({ id, type, input })) });
    }
    if (this.#closing && this.depth === 0) {
      this.#slots.forEach((slot, index) => {
        if (slot.state === 'idle') {
          this.#slots[index] = { state: 'stopping' };
          actions.push({ kind: 'stop', slot: index });
        }
      });
    }
    return actions;
  }

  /** The slot with room that holds the fewest batches (the lowest index on a tie), or undefined when none has room. */
  #roomiest(): number | undefined {
    let best: number | undefined;
    let fewest = this.#limits.pipelineDepth;
    this.#slots.forEach((slot, index) => {
      const held = slot.state === 'idle' ? 0 : slot.state === 'busy' ? slot.batches.length : Number.POSITIVE_INFINITY;
      if (held < fewest) {
        best = index;
        fewest = held;
      }
    });
    return best;
  }
  // #endregion pump
}
