/**
 * Request deadlines. A request arrives with a time budget (`timeout_ms`); the server
 * turns it into an absolute deadline on its own clock the moment the request's first
 * byte arrives, and every stage the request passes checks that one deadline before
 * spending anything on it:
 *
 * ```
 *   first byte ──▶ admission ──▶ queue ──▶ pool ──▶ reply
 *   deadline =     check          check     check    check      each check that finds
 *   now + budget   (frame read)   (dequeue) (worker) (write)    the deadline passed
 *                                                               drops the request there
 * ```
 *
 * The budget travels relative, not as a timestamp, for the reason gRPC gives: two
 * machines' clocks disagree, and a deadline stamped on one and read on the other is off
 * by the skew. Inside the server it is absolute, so no stage can reset it.
 *
 * Pure: every function takes the time as an argument.
 * @module
 */
import { errorFactory, type CivicError } from '../../lib/errors.ts';
import { OVERLOAD_ERRORS } from './catalog.ts';

const fail = errorFactory(OVERLOAD_ERRORS);

/** The stages that check a deadline, in the order a request meets them. */
export const DEADLINE_STAGES = ['admission', 'queue', 'pool', 'reply'] as const;

/** One of {@link DEADLINE_STAGES}. */
export type DeadlineStage = (typeof DEADLINE_STAGES)[number];

// #region request-deadline
/** A request's deadline: absolute, on the server's clock. */
export interface RequestDeadline {
  /** When the request's first byte arrived (ms). */
  readonly startedMs: number;
  /** The budget the client gave (ms). */
  readonly budgetMs: number;
  /** `startedMs + budgetMs`: at or after this instant the request is expired. */
  readonly atMs: number;
}

/**
 * A deadline `budgetMs` after `startedMs`.
 * @throws RangeError for a negative or non-finite budget
 */
export function deadlineAfter(startedMs: number, budgetMs: number): RequestDeadline {
  if (!(budgetMs >= 0) || !Number.isFinite(budgetMs)) throw new RangeError(`budgetMs must be a finite number of at least 0, got ${budgetMs}`);
  return { startedMs, budgetMs, atMs: startedMs + budgetMs };
}

/** Milliseconds left before the deadline (0 or less once it has passed). */
export function remainingMs(deadline: RequestDeadline, nowMs: number): number {
  return deadline.atMs - nowMs;
}

/** True when the deadline has passed at `nowMs`: the deadline instant itself counts as passed. */
export function isExpired(deadline: RequestDeadline, nowMs: number): boolean {
  return nowMs >= deadline.atMs;
}

/**
 * Checks a deadline at a stage.
 * @throws {@link CivicError} `E_DEADLINE_EXCEEDED` naming the stage and how late it is
 */
export function checkDeadline(deadline: RequestDeadline, nowMs: number, stage: DeadlineStage): void {
  if (isExpired(deadline, nowMs)) throw deadlineError(deadline, nowMs, stage);
}

/** The `E_DEADLINE_EXCEEDED` error for a request found expired at `stage`. */
export function deadlineError(deadline: RequestDeadline, nowMs: number, stage: DeadlineStage): CivicError<'E_DEADLINE_EXCEEDED'> {
  const late = Math.round((nowMs - deadline.atMs) * 1000) / 1000;
  return fail('E_DEADLINE_EXCEEDED', `Cannot finish request: its ${deadline.budgetMs} ms budget ran out ${late} ms before the ${stage} stage`);
}
// #endregion request-deadline

/** One check a request went through: the stage and the time of the check. */
export interface StageCheck {
  /** The stage. */
  readonly stage: DeadlineStage;
  /** When it checked (ms). */
  readonly atMs: number;
}

/**
 * The stage that drops a request: the first check, in the order given, that finds its
 * deadline passed; undefined when every check finds time left. Checks must be in time
 * order, as a request meets them.
 */
export function firstExpiredStage(deadline: RequestDeadline, checks: readonly StageCheck[]): DeadlineStage | undefined {
  return checks.find((c) => isExpired(deadline, c.atMs))?.stage;
}
