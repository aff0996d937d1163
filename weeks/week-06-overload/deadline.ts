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
 * By default every stage checks the whole deadline. A {@link StageSplit} gives each stage
 * a share of the budget instead: the stages' ends fall one after another, and a stage
 * whose own share has run out drops the request there, even though the whole deadline
 * has not passed yet, so that a request that waited too long for a worker is not run
 * only to miss its deadline while its reply waits to go out.
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

// #region stage-split
/**
 * How a request's budget is shared out over the stages: whole percentages of the budget,
 * one per stage, adding up to 100. Stage `s` must be done by the first byte's time plus
 * the shares of every stage up to and including `s`, so time one stage leaves unused
 * passes on to the next, and the later stages' shares are kept for them.
 */
export type StageSplit = Readonly<Record<DeadlineStage, number>>;

/**
 * Checks a split: a whole percentage from 0 to 100 for every stage, 100 in all.
 * @throws RangeError naming the bad share or the wrong total
 */
export function checkStageSplit(split: StageSplit): void {
  for (const stage of DEADLINE_STAGES) {
    const share = split[stage];
    if (!Number.isSafeInteger(share) || share < 0 || share > 100) throw new RangeError(`the ${stage} share must be a whole percentage from 0 to 100, got ${share}`);
  }
  const total = DEADLINE_STAGES.reduce((sum, stage) => sum + split[stage], 0);
  if (total !== 100) throw new RangeError(`the stage shares must add up to 100, got ${total}`);
}

/**
 * Reads a split written `admission=10,queue=40,pool=40,reply=10` (every stage once).
 * @throws RangeError for an unknown or missing stage, a share that is not a whole number, or a total other than 100
 */
export function parseStageSplit(text: string): StageSplit {
  const shares: Partial<Record<DeadlineStage, number>> = {};
  for (const part of text.split(',')) {
    const [name = '', value = ''] = part.split('=');
    const stage = DEADLINE_STAGES.find((s) => s === name.trim());
    if (stage === undefined || stage in shares) throw new RangeError(`expected each of ${DEADLINE_STAGES.join(', ')} once as STAGE=PERCENT, got "${part}"`);
    shares[stage] = /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  }
  const missing = DEADLINE_STAGES.filter((s) => !(s in shares));
  if (missing.length > 0) throw new RangeError(`the split names no share for ${missing.join(', ')}`);
  const split = shares as StageSplit;
  checkStageSplit(split);
  return split;
}
// #endregion stage-split

// #region request-deadline
/** A request's deadline: absolute, on the server's clock. */
export interface RequestDeadline {
  /** When the request's first byte arrived (ms). */
  readonly startedMs: number;
  /** The budget the client gave (ms). */
  readonly budgetMs: number;
  /** `startedMs + budgetMs`: at or after this instant the request is expired. */
  readonly atMs: number;
  /** Each stage's share of the budget, if the server splits it; without one every stage checks `atMs`. */
  readonly split?: StageSplit;
}

/**
 * A deadline `budgetMs` after `startedMs`, shared out over the stages by `split` if given.
 * @throws RangeError for a negative or non-finite budget, or a split {@link checkStageSplit} refuses
 */
export function deadlineAfter(startedMs: number, budgetMs: number, split?: StageSplit): RequestDeadline {
  if (!(budgetMs >= 0) || !Number.isFinite(budgetMs)) throw new RangeError(`budgetMs must be a finite number of at least 0, got ${budgetMs}`);
  if (split === undefined) return { startedMs, budgetMs, atMs: startedMs + budgetMs };
  checkStageSplit(split);
  return { startedMs, budgetMs, atMs: startedMs + budgetMs, split };
}

/** When `stage` must be done: the end of its share, or the whole deadline without a split. */
export function stageEndMs(deadline: RequestDeadline, stage: DeadlineStage): number {
  if (deadline.split === undefined) return deadline.atMs;
  const upTo = DEADLINE_STAGES.slice(0, DEADLINE_STAGES.indexOf(stage) + 1);
  const percent = upTo.reduce((sum, s) => sum + (deadline.split as StageSplit)[s], 0);
  return percent === 100 ? deadline.atMs : deadline.startedMs + (deadline.budgetMs * percent) / 100;
}

/** Milliseconds left before the deadline (0 or less once it has passed). */
export function remainingMs(deadline: RequestDeadline, nowMs: number): number {
  return deadline.atMs - nowMs;
}

/** True when the deadline has passed at `nowMs`: the deadline instant itself counts as passed. */
export function isExpired(deadline: RequestDeadline, nowMs: number): boolean {
  return nowMs >= deadline.atMs;
}

/** True when `stage`'s time has run out at `nowMs`: its share's end, or the whole deadline without a split. */
export function stageExpired(deadline: RequestDeadline, stage: DeadlineStage, nowMs: number): boolean {
  return nowMs >= stageEndMs(deadline, stage);
}

/**
 * Checks a deadline at a stage: the stage's share of it, if the budget is split.
 * @throws {@link CivicError} `E_DEADLINE_EXCEEDED` naming the stage and how late it is
 */
export function checkDeadline(deadline: RequestDeadline, nowMs: number, stage: DeadlineStage): void {
  if (stageExpired(deadline, stage, nowMs)) throw deadlineError(deadline, nowMs, stage);
}

/** The `E_DEADLINE_EXCEEDED` error for a request found expired at `stage`: past the whole deadline, or past the stage's share. */
export function deadlineError(deadline: RequestDeadline, nowMs: number, stage: DeadlineStage): CivicError<'E_DEADLINE_EXCEEDED'> {
  const endMs = stageEndMs(deadline, stage);
  const late = Math.round((nowMs - endMs) * 1000) / 1000;
  if (endMs >= deadline.atMs) return fail('E_DEADLINE_EXCEEDED', `Cannot finish request: its ${deadline.budgetMs} ms budget ran out ${late} ms before the ${stage} stage`);
  const share = Math.round((endMs - deadline.startedMs) * 1000) / 1000;
  return fail('E_DEADLINE_EXCEEDED', `Cannot finish request: the ${stage} stage's share of its ${deadline.budgetMs} ms budget (done by ${share} ms after the first byte) ran out ${late} ms ago`);
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
 * stage's time run out; undefined when every check finds time left. Checks must be in
 * time order, as a request meets them.
 */
export function firstExpiredStage(deadline: RequestDeadline, checks: readonly StageCheck[]): DeadlineStage | undefined {
  return checks.find((c) => stageExpired(deadline, c.stage, c.atMs))?.stage;
}
