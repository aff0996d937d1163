/**
 * The overload ladder: a pure state machine that turns two load signals, the number of
 * requests waiting for a worker and how long the oldest of them has waited, into one of
 * three levels, and the level into an admission decision.
 *
 * ```
 *            depth ≥ shed.enterDepth            depth ≥ reject.enterDepth
 *            or wait ≥ shed.enterWaitMs         or wait ≥ reject.enterWaitMs
 *   ┌────────┐ ───────────────────────▶ ┌──────┐ ──────────────────────▶ ┌────────┐
 *   │ normal │                          │ shed │                         │ reject │
 *   └────────┘ ◀─────────────────────── └──────┘ ◀────────────────────── └────────┘
 *            depth ≤ shed.exitDepth             depth ≤ reject.exitDepth
 *            and wait ≤ shed.exitWaitMs         and wait ≤ reject.exitWaitMs
 *            and holdMs spent at shed           and holdMs spent at reject
 * ```
 *
 * Going up is immediate and may skip a level: the sample that crosses the reject line
 * is refused under the reject level. Going down is one level per step, only once the
 * signals are below the lower exit line (hysteresis) and the level has been held for
 * `holdMs`, so a queue hovering near a threshold does not flap.
 *
 * Every number lives in {@link OVERLOAD_THRESHOLDS}; the chapter quotes that table.
 * No clock is read here: the caller passes the time with each sample.
 * @module
 */

/** The three levels, mildest first. */
export const LADDER_LEVELS = ['normal', 'shed', 'reject'] as const;

/** One of {@link LADDER_LEVELS}. */
export type LadderLevel = (typeof LADDER_LEVELS)[number];

/** How urgent a request is: under `shed`, only `high` is admitted. */
export type Priority = 'high' | 'low';

/** The lines of one level above `normal`. */
export interface LevelThresholds {
  /** At or above this many waiting requests, climb to this level. */
  readonly enterDepth: number;
  /** Step down from this level only with at most this many waiting. */
  readonly exitDepth: number;
  /** At or above this wait of the oldest waiting request (ms), climb to this level. */
  readonly enterWaitMs: number;
  /** Step down from this level only when the oldest has waited at most this long (ms). */
  readonly exitWaitMs: number;
  /** The pause a refused client is told to take before it retries (ms). */
  readonly retryAfterMs: number;
}

/** The whole ladder configuration: one table, no other knobs. */
export interface OverloadThresholds {
  /** When to start refusing low-priority work. */
  readonly shed: LevelThresholds;
  /** When to refuse every new request. */
  readonly reject: LevelThresholds;
  /** The least time spent at a level before stepping down from it (ms). */
  readonly holdMs: number;
}

// #region thresholds
/**
 * The threshold table. Depth counts requests admitted and waiting for a worker (not
 * those running); wait is the age of the oldest of them. Because every admission is
 * judged against this table first, the waiting queue never holds more than
 * `reject.enterDepth` requests: that is the queue's bound.
 */
export const OVERLOAD_THRESHOLDS: OverloadThresholds = {
  shed: { enterDepth: 16, exitDepth: 8, enterWaitMs: 250, exitWaitMs: 100, retryAfterMs: 250 },
  reject: { enterDepth: 32, exitDepth: 24, enterWaitMs: 1000, exitWaitMs: 500, retryAfterMs: 1000 },
  holdMs: 100,
};
// #endregion thresholds

/**
 * Checks a threshold table: whole numbers, every exit line below its enter line, and
 * the reject lines above the shed lines.
 * @throws RangeError naming the first bad entry
 */
export function checkThresholds(table: OverloadThresholds): void {
  const whole = (name: string, value: number, min: number) => {
    if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`${name} must be a whole number of at least ${min}, got ${value}`);
  };
  for (const level of ['shed', 'reject'] as const) {
    const t = table[level];
    whole(`${level}.enterDepth`, t.enterDepth, 1);
    whole(`${level}.exitDepth`, t.exitDepth, 0);
    whole(`${level}.enterWaitMs`, t.enterWaitMs, 1);
    whole(`${level}.exitWaitMs`, t.exitWaitMs, 0);
    whole(`${level}.retryAfterMs`, t.retryAfterMs, 1);
    if (t.exitDepth >= t.enterDepth) throw new RangeError(`${level}.exitDepth must be below ${level}.enterDepth (${t.enterDepth}), got ${t.exitDepth}`);
    if (t.exitWaitMs >= t.enterWaitMs) throw new RangeError(`${level}.exitWaitMs must be below ${level}.enterWaitMs (${t.enterWaitMs}), got ${t.exitWaitMs}`);
  }
  whole('holdMs', table.holdMs, 0);
  if (table.reject.enterDepth <= table.shed.enterDepth) throw new RangeError(`reject.enterDepth must be above shed.enterDepth (${table.shed.enterDepth}), got ${table.reject.enterDepth}`);
  if (table.reject.enterWaitMs <= table.shed.enterWaitMs) throw new RangeError(`reject.enterWaitMs must be above shed.enterWaitMs (${table.shed.enterWaitMs}), got ${table.reject.enterWaitMs}`);
}

/** What the ladder sees at one instant. */
export interface LoadSample {
  /** The time of the sample, on the caller's clock (ms). */
  readonly nowMs: number;
  /** Requests admitted and waiting for a worker. */
  readonly depth: number;
  /** How long the oldest waiting request has waited (ms); 0 when none waits. */
  readonly oldestWaitMs: number;
}

/** The ladder's state: plain data. */
export interface LadderState {
  /** The current level. */
  readonly level: LadderLevel;
  /** When the current level was entered (ms). */
  readonly sinceMs: number;
}

/** Why the level changed. */
export type LadderCause = 'depth' | 'wait' | 'recovered';

/** One step's result: the new state, and the change if there was one. */
export interface LadderStep {
  /** The state after the sample. */
  readonly state: LadderState;
  /** Present when the level changed. */
  readonly change?: {
    /** The level before. */
    readonly from: LadderLevel;
    /** The level after. */
    readonly to: LadderLevel;
    /** `depth` or `wait` for a climb (depth wins a tie), `recovered` for a step down. */
    readonly cause: LadderCause;
  };
}

/** The ladder at rest, at `nowMs`. */
export function initialLadder(nowMs: number): LadderState {
  return { level: 'normal', sinceMs: nowMs };
}

/** The highest level whose enter line the sample reaches, and which signal reached it. */
function entered(sample: LoadSample, table: OverloadThresholds): { level: LadderLevel; cause: LadderCause } {
  for (const level of ['reject', 'shed'] as const) {
    const t = table[level];
    if (sample.depth >= t.enterDepth) return { level, cause: 'depth' };
    if (sample.oldestWaitMs >= t.enterWaitMs) return { level, cause: 'wait' };
  }
  return { level: 'normal', cause: 'recovered' };
}

// #region ladder-step
/**
 * Feeds one sample to the ladder.
 * @param state - the ladder now
 * @param sample - depth and oldest wait at `sample.nowMs`
 * @param table - the thresholds (default {@link OVERLOAD_THRESHOLDS})
 * @returns the next state and the change, if any
 */
export function ladderStep(state: LadderState, sample: LoadSample, table: OverloadThresholds = OVERLOAD_THRESHOLDS): LadderStep {
  const rank = LADDER_LEVELS.indexOf(state.level);
  const target = entered(sample, table);
  if (LADDER_LEVELS.indexOf(target.level) > rank) {
    // Climb at once, as far as the signals say: the request that crosses the line
    // is already judged under the new level.
    return { state: { level: target.level, sinceMs: sample.nowMs }, change: { from: state.level, to: target.level, cause: target.cause } };
  }
  if (state.level === 'normal') return { state };
  const current = table[state.level];
  const calm = sample.depth <= current.exitDepth && sample.oldestWaitMs <= current.exitWaitMs;
  const held = sample.nowMs - state.sinceMs >= table.holdMs;
  if (!calm || !held) return { state };
  const lower = LADDER_LEVELS[rank - 1] as LadderLevel; // one level per step, never straight to normal
  return { state: { level: lower, sinceMs: sample.nowMs }, change: { from: state.level, to: lower, cause: 'recovered' } };
}
// #endregion ladder-step

/** An admission decision: run it, or refuse it with a code and a retry hint. */
export type Admission =
  | {
    /** The request joins the queue. */
    readonly verdict: 'admit';
  }
  | {
    /** The request is answered with an error at once; none of its work is done. */
    readonly verdict: 'refuse';
    /** `E_SHED_LOW_PRIORITY` under shed, `E_OVERLOADED` under reject. */
    readonly errorCode: 'E_SHED_LOW_PRIORITY' | 'E_OVERLOADED';
    /** How long the client should wait before retrying (ms), from the table. */
    readonly retryAfterMs: number;
  };

// #region admit
/**
 * What a level does with a new request. `normal` admits everything; `shed` refuses
 * low-priority requests and admits high-priority ones; `reject` refuses everything.
 * Work already admitted is never thrown away by the ladder: its deadline decides.
 * @param level - the ladder's level after the request's own sample
 * @param priority - the request's priority
 * @param table - the thresholds, for the retry hints
 */
export function admissionFor(level: LadderLevel, priority: Priority, table: OverloadThresholds = OVERLOAD_THRESHOLDS): Admission {
  if (level === 'reject') return { verdict: 'refuse', errorCode: 'E_OVERLOADED', retryAfterMs: table.reject.retryAfterMs };
  if (level === 'shed' && priority === 'low') return { verdict: 'refuse', errorCode: 'E_SHED_LOW_PRIORITY', retryAfterMs: table.shed.retryAfterMs };
  return { verdict: 'admit' };
}
// #endregion admit

/** One request of a burst, as {@link predictBurst} sees it. */
export interface BurstOutcome {
  /** 1-based position in the burst. */
  readonly index: number;
  /** The request's priority. */
  readonly priority: Priority;
  /** The queue depth the request found. */
  readonly depth: number;
  /** The level it was judged under. */
  readonly level: LadderLevel;
  /** `admit`, or the refusal code. */
  readonly outcome: 'admit' | 'E_SHED_LOW_PRIORITY' | 'E_OVERLOADED';
}

/**
 * Predicts a burst from the table alone: `priorities.length` requests arrive at one
 * instant at an idle server that hands the first `running` of them straight to
 * workers and queues the rest, and no task finishes while the burst arrives.
 * @param priorities - each request's priority, in arrival order
 * @param running - how many requests go straight to a worker (the worker count)
 * @param table - the thresholds
 * @returns one line per request
 */
export function predictBurst(priorities: readonly Priority[], running: number, table: OverloadThresholds = OVERLOAD_THRESHOLDS): BurstOutcome[] {
  let state = initialLadder(0);
  let busy = 0;
  let depth = 0;
  return priorities.map((priority, i) => {
    state = ladderStep(state, { nowMs: 0, depth, oldestWaitMs: 0 }, table).state;
    const admission = admissionFor(state.level, priority, table);
    const line: BurstOutcome = {
      index: i + 1, priority, depth, level: state.level, outcome: admission.verdict === 'admit' ? 'admit' : admission.errorCode,
    };
    if (admission.verdict === 'admit') {
      if (busy < running) busy += 1;
      else depth += 1;
    }
    return line;
  });
}
