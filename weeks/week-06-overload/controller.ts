/**
 * The overload controller: admission, the waiting queue, and dispatch to workers,
 * with the ladder and the deadline checks in between. It owns no socket and reads no
 * clock of its own: the server hands it requests and a callback, a {@link TaskRunner}
 * (week 5's worker pool, or a fake in tests) runs the work, and the injected clock
 * times everything.
 *
 * ```
 *  offer ─▶ [admission] ─▶ waiting queue (FIFO, ≤ reject.enterDepth) ─▶ [queue] ─▶ runner ─▶ [pool] ─▶ [reply] ─▶ done
 *              │  deadline? ladder?            │ swept on every tick                     (worker)     deadline?
 *              ▼                               ▼
 *        refuse / drop                        drop
 * ```
 *
 * Every request offered gets exactly one outcome through its callback: a result, a
 * refusal with a retry hint, a deadline drop naming the stage, or a task failure.
 * The runner is handed at most `concurrency` tasks at once, so the pool's own queue
 * stays empty and the waiting queue here is the one the ladder watches.
 * @module
 */
import type { Clock } from '../../lib/clock.ts';
import { isCivicError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/framing.ts';
import { deadlineError, stageEndMs, stageExpired, type DeadlineStage, type RequestDeadline } from './deadline.ts';
import {
  OVERLOAD_THRESHOLDS, admissionFor, checkThresholds, initialLadder, ladderStep,
  type LadderLevel, type LadderState, type OverloadThresholds, type Priority,
} from './ladder.ts';
import type { TaskName } from './task_message.ts';

/** What runs the work: week 5's `WorkerPool` fits this shape. */
export interface TaskRunner {
  /** Runs task `type` on `input`; rejects with a coded error when the task fails. */
  submit<I, O>(type: string, input: I, options?: { budgetMs?: number }): Promise<O>;
}

/** The input a worker gets for one task. */
export interface TaskInput {
  /** The task's size: rounds, ms or bytes. */
  readonly arg: number;
  /** The request body. */
  readonly body: Uint8Array;
  /** The end of the request's pool stage on the server's clock (ms): the worker checks it before running. */
  readonly deadlineMs: number;
}

/** What a worker returns for one task. */
export type TaskOutput =
  | {
    /** The task ran. */
    readonly dropped: false;
    /** Its result. */
    readonly body: Uint8Array;
  }
  | {
    /** The worker found the deadline passed and did not run the task. */
    readonly dropped: true;
    /** How late it was when the worker looked (ms). */
    readonly lateMs: number;
  };

/** One request, as the server hands it over. */
export interface WorkItem {
  /** The request's id, for logs and the answer. */
  readonly requestId: string;
  /** The task to run. */
  readonly task: TaskName;
  /** Its size. */
  readonly arg: number;
  /** Its priority. */
  readonly priority: Priority;
  /** Its deadline. */
  readonly deadline: RequestDeadline;
  /** Its input bytes. */
  readonly body: Uint8Array;
  /**
   * A check to pass before the task runs, after admission and inside a worker slot
   * (the `authorize` step of a request gate's verdict); a rejection answers with its code instead.
   */
  readonly authorize?: () => Promise<void>;
}

/** How a request ended. */
export type WorkOutcome =
  | {
    /** It ran and here is the result. */
    readonly ok: true;
    /** The result bytes. */
    readonly body: Uint8Array;
  }
  | {
    /** It was refused, dropped or failed. */
    readonly ok: false;
    /** The `E_*` code. */
    readonly errorCode: string;
    /** The human message. */
    readonly message: string;
    /** For a refusal: the client's pause before retrying (ms). */
    readonly retryAfterMs?: number;
    /** For a deadline drop: the stage that noticed. */
    readonly stage?: DeadlineStage;
  };

/** Options of {@link OverloadController}. */
export interface OverloadControllerOptions {
  /** Runs the work. */
  readonly runner: TaskRunner;
  /** How many tasks the runner gets at once (the worker count). */
  readonly concurrency: number;
  /** Times admission, waits and deadlines. */
  readonly clock: Clock;
  /** Receives `ladder changed` and `request dropped` records. */
  readonly logger: Logger;
  /** The threshold table. Default {@link OVERLOAD_THRESHOLDS}. */
  readonly thresholds?: OverloadThresholds;
}

/** The controller's counters. */
export interface ControllerStats {
  /** The ladder's level now. */
  readonly level: LadderLevel;
  /** Requests waiting now. */
  readonly depth: number;
  /** The most requests that ever waited at once. */
  readonly maxDepth: number;
  /** Tasks with the runner now. */
  readonly running: number;
  /** Requests offered. */
  readonly offered: number;
  /** Requests admitted to the queue. */
  readonly admitted: number;
  /** Requests answered with a result. */
  readonly completed: number;
  /** Refusals by code. */
  readonly refused: Readonly<Record<string, number>>;
  /** Deadline drops by stage. */
  readonly dropped: Readonly<Partial<Record<DeadlineStage, number>>>;
  /** Task failures by code. */
  readonly failed: Readonly<Record<string, number>>;
  /** Level changes since start. */
  readonly levelChanges: number;
}

/** A request in the waiting queue. */
interface Waiting {
  readonly item: WorkItem;
  readonly enqueuedMs: number;
  readonly done: (outcome: WorkOutcome) => void;
}

const add = (counts: Record<string, number>, key: string) => (counts[key] = (counts[key] ?? 0) + 1);

// #region controller
/** Admission, queue and dispatch under the overload ladder. */
export class OverloadController {
  readonly #options: OverloadControllerOptions;
  readonly #table: OverloadThresholds;
  #ladder: LadderState;
  /** FIFO; short by construction (at most `reject.enterDepth`), so an array is fine. */
  #queue: Waiting[] = [];
  #running = 0;
  #maxDepth = 0;
  #offered = 0;
  #admitted = 0;
  #completed = 0;
  #levelChanges = 0;
  readonly #refused: Record<string, number> = {};
  readonly #dropped: Partial<Record<DeadlineStage, number>> = {};
  readonly #failed: Record<string, number> = {};
  #onIdle: (() => void) | undefined;

  /** @param options - runner, concurrency, clock, logger and thresholds */
  constructor(options: OverloadControllerOptions) {
    if (!Number.isSafeInteger(options.concurrency) || options.concurrency < 1) throw new RangeError(`concurrency must be a whole number of at least 1, got ${options.concurrency}`);
    this.#table = options.thresholds ?? OVERLOAD_THRESHOLDS;
    checkThresholds(this.#table);
    this.#options = options;
    this.#ladder = initialLadder(options.clock.now());
  }

  /** The ladder's level now. */
  get level(): LadderLevel {
    return this.#ladder.level;
  }

  /** Requests waiting for a worker now. */
  get depth(): number {
    return this.#queue.length;
  }

  /**
   * Offers one request. `done` is called exactly once: at once for a refusal or a
   * request already expired, later for the rest.
   */
  offer(item: WorkItem, done: (outcome: WorkOutcome) => void): void {
    this.#offered += 1;
    const nowMs = this.#options.clock.now();
    // Admission stage: a request that spent its budget (or its admission share) arriving is not worth a slot.
    if (stageExpired(item.deadline, 'admission', nowMs)) return this.#drop(item, done, 'admission', nowMs);
    this.#sample(nowMs);
    const admission = admissionFor(this.#ladder.level, item.priority, this.#table);
    if (admission.verdict === 'refuse') {
      add(this.#refused, admission.errorCode);
      const message = admission.errorCode === 'E_OVERLOADED'
        ? `Cannot accept request: the server is overloaded (${this.#queue.length} waiting); retry after ${admission.retryAfterMs} ms`
        : `Cannot accept low-priority request: the server is shedding load (${this.#queue.length} waiting); retry after ${admission.retryAfterMs} ms`;
      done({ ok: false, errorCode: admission.errorCode, message, retryAfterMs: admission.retryAfterMs });
      return;
    }
    this.#admitted += 1;
    this.#queue.push({ item, enqueuedMs: nowMs, done });
    this.#maxDepth = Math.max(this.#maxDepth, this.#queue.length);
    this.#dispatch();
  }

  /** Time passes: drop expired waiting requests and let the ladder step down if calm. Call it every few tens of ms. */
  tick(): void {
    const nowMs = this.#options.clock.now();
    this.#sweep(nowMs);
    this.#sample(nowMs);
  }

  /** Resolves once nothing waits and nothing runs. */
  idle(): Promise<void> {
    if (this.#queue.length === 0 && this.#running === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.#onIdle;
      this.#onIdle = () => {
        previous?.();
        resolve();
      };
    });
  }

  /** A snapshot of the counters. */
  stats(): ControllerStats {
    return {
      level: this.#ladder.level, depth: this.#queue.length, maxDepth: this.#maxDepth, running: this.#running,
      offered: this.#offered, admitted: this.#admitted, completed: this.#completed,
      refused: { ...this.#refused }, dropped: { ...this.#dropped }, failed: { ...this.#failed }, levelChanges: this.#levelChanges,
    };
  }

  /** Feeds the ladder the queue as it stands, and logs a change of level. */
  #sample(nowMs: number): void {
    const head = this.#queue[0];
    const sample = { nowMs, depth: this.#queue.length, oldestWaitMs: head === undefined ? 0 : nowMs - head.enqueuedMs };
    const step = ladderStep(this.#ladder, sample, this.#table);
    this.#ladder = step.state;
    if (step.change === undefined) return;
    this.#levelChanges += 1;
    const level = step.change.to === 'normal' ? 'info' : 'warn';
    this.#options.logger.log(level, 'ladder changed', {
      fields: {
        result: 'ladder', from: step.change.from, to: step.change.to, cause: step.change.cause,
        depth: sample.depth, oldest_wait_ms: Math.round(sample.oldestWaitMs), running: this.#running,
      },
    });
  }

  /** Queue stage: drop every waiting request whose deadline (or queue share) has passed. */
  #sweep(nowMs: number): void {
    if (!this.#queue.some((w) => stageExpired(w.item.deadline, 'queue', nowMs))) return;
    const keep: Waiting[] = [];
    for (const waiting of this.#queue) {
      if (stageExpired(waiting.item.deadline, 'queue', nowMs)) this.#drop(waiting.item, waiting.done, 'queue', nowMs);
      else keep.push(waiting);
    }
    this.#queue = keep;
    this.#checkIdle();
  }

  /** Hands waiting requests to the runner while it has room. */
  #dispatch(): void {
    while (this.#running < this.#options.concurrency && this.#queue.length > 0) {
      const waiting = this.#queue.shift() as Waiting;
      const nowMs = this.#options.clock.now();
      if (stageExpired(waiting.item.deadline, 'queue', nowMs)) {
        this.#drop(waiting.item, waiting.done, 'queue', nowMs);
        continue;
      }
      this.#run(waiting);
    }
    this.#checkIdle();
  }

  // #region run
  #run({ item, done }: Waiting): void {
    this.#running += 1;
    const poolEndMs = stageEndMs(item.deadline, 'pool');
    const input: TaskInput = { arg: item.arg, body: item.body, deadlineMs: poolEndMs };
    const submit = () => this.#options.runner.submit<TaskInput, TaskOutput>(item.task, input);
    // A gated request's expensive check runs here: admitted, holding a slot, before the
    // task. Without one the task is submitted at once, in this same turn.
    const started = item.authorize === undefined ? submit() : Promise.resolve().then(item.authorize).then(submit);
    started.then(
      (output) => {
        const nowMs = this.#options.clock.now();
        if (output.dropped) this.#drop(item, done, 'pool', poolEndMs + output.lateMs);
        // Reply stage: a result nobody waits for any more is not sent.
        else if (stageExpired(item.deadline, 'reply', nowMs)) this.#drop(item, done, 'reply', nowMs);
        else {
          this.#completed += 1;
          done({ ok: true, body: output.body });
        }
      },
      (error: unknown) => {
        const errorCode = isCivicError(error) ? error.code : 'E_TASK_FAILED';
        add(this.#failed, errorCode);
        done({ ok: false, errorCode, message: error instanceof Error ? error.message : String(error) });
      },
    ).finally(() => {
      this.#running -= 1;
      this.#dispatch();
    }).catch((error: unknown) => {
      // Only a throwing `done` callback lands here: log it rather than crash the server.
      this.#options.logger.error('answer callback failed', { requestId: item.requestId, fields: { result: 'error', detail: String(error) } });
    });
  }
  // #endregion run

  // #region drop
  /** Drops an expired request: one `request dropped` record naming the stage, one error answer. */
  #drop(item: WorkItem, done: (outcome: WorkOutcome) => void, stage: DeadlineStage, nowMs: number): void {
    this.#dropped[stage] = (this.#dropped[stage] ?? 0) + 1;
    const error = deadlineError(item.deadline, nowMs, stage);
    this.#options.logger.warn('request dropped', {
      requestId: item.requestId,
      fields: {
        result: 'dropped', stage, error_code: error.code, task: item.task, priority: item.priority,
        budget_ms: item.deadline.budgetMs, stage_end_ms: Math.round((stageEndMs(item.deadline, stage) - item.deadline.startedMs) * 1000) / 1000,
        late_ms: Math.round((nowMs - stageEndMs(item.deadline, stage)) * 1000) / 1000,
      },
    });
    done({ ok: false, errorCode: error.code, message: error.message, stage });
  }
  // #endregion drop

  #checkIdle(): void {
    if (this.#queue.length > 0 || this.#running > 0 || this.#onIdle === undefined) return;
    const resolve = this.#onIdle;
    this.#onIdle = undefined;
    resolve();
  }
}
// #endregion controller
