/**
 * When a client may try again, and how long it waits: bounded retries with
 * exponential backoff and full jitter, and a classification of failures that never
 * retries a request blindly.
 *
 * The rule: a protocol failure (a bad frame, a malformed or mismatched reply) is
 * never retried, because sending the same bytes again gives the same answer. A
 * transport failure is retried when it is definite (the request certainly never
 * reached the server, as with a refused connection) or when the caller has declared
 * the request idempotent. Everything else stops at once. Time and randomness are
 * injected, so the whole schedule is testable without waiting.
 * @module
 */
import type { Clock } from '../../lib/clock.ts';
import { CivicError, isCivicError } from '../../lib/errors.ts';
import type { FrameErrorCode } from './catalog.ts';

/** A source of uniform random numbers in [0, 1), like `Math.random`. */
export type RandomSource = () => number;

/** Random numbers from the web-standard `crypto.getRandomValues`. */
export function systemRandom(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]! / 2 ** 32;
}

/**
 * A seeded generator (mulberry32): the same seed gives the same sequence, so a
 * test or simulation can print its seed and be replayed exactly.
 * @param seed - any 32-bit integer
 */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** How many times, and for how long, a client may try one request. */
export interface RetryPolicy {
  /** Attempts in all, the first included; 1 means never retry. */
  readonly maxAttempts: number;
  /** The time budget from the first attempt's start: no retry is begun whose wait would end past it. */
  readonly maxTotalMs: number;
  /** The backoff ceiling before the first retry; it doubles for each retry after. */
  readonly baseDelayMs: number;
  /** The largest backoff ceiling, whatever the retry number. */
  readonly maxDelayMs: number;
}

/** Four attempts within two seconds, ceilings 50, 100, 200 ms (capped at 1 s). */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 4, maxTotalMs: 2000, baseDelayMs: 50, maxDelayMs: 1000 };

// #region backoff
/**
 * The wait before retry number `retry` (1 for the first retry), with full jitter:
 * uniform between 0 and `min(maxDelayMs, baseDelayMs · 2^(retry-1))`. Spreading the
 * whole interval, not just a slice of it, keeps clients that failed together from
 * coming back together.
 * @see https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 * @param retry - the retry number, from 1
 * @param policy - the base and cap of the ceiling
 * @param random - the injected random source
 * @returns whole milliseconds, from 0 up to (not including) the ceiling
 */
export function backoffDelay(retry: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>, random: RandomSource): number {
  if (!Number.isInteger(retry) || retry < 1) throw new RangeError(`retry must be a positive integer, got ${retry}`);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.floor(random() * ceiling);
}
// #endregion backoff

/** What kind of failure an error is, for the retry rule. */
export type FailureKind = 'transport' | 'protocol' | 'other';

// #region failure-kinds
/** The connection failed: the bytes exchanged so far were fine, the path was not. */
const TRANSPORT: ReadonlySet<string> = new Set<FrameErrorCode>([
  'E_NET_REFUSED', 'E_NET_UNREACHABLE', 'E_NET_CONNECT_TIMEOUT', // definite: nothing was sent
  'E_NET_RESET', 'E_NET_CLOSED', 'E_NET_TIMEOUT', 'E_FRAME_TRUNCATED', // indefinite: it may have arrived
]);
/** The peer spoke, and what it said was wrong: asking again gets the same answer. */
const PROTOCOL: ReadonlySet<string> = new Set<FrameErrorCode>(['E_FRAME_OVERSIZE', 'E_MESSAGE_MALFORMED', 'E_ECHO_MISMATCH']);
// #endregion failure-kinds

/** Sorts an error into transport, protocol or other by its code. */
export function failureKind(error: unknown): FailureKind {
  if (!isCivicError(error)) return 'other';
  if (TRANSPORT.has(error.code)) return 'transport';
  return PROTOCOL.has(error.code) ? 'protocol' : 'other';
}

/** The verdict of {@link classifyFailure}, with the reason logged beside it. */
export type RetryDecision =
  | {
    /** The attempt may be repeated. */
    readonly retry: true;
    /** Nothing was sent, or the caller said repeating is harmless. */
    readonly reason: 'definite_transport' | 'idempotent_request';
  }
  | {
    /** The attempt must not be repeated. */
    readonly retry: false;
    /** A protocol failure, a failure that is not about the connection, or an unclear one on a request that is not idempotent. */
    readonly reason: NoRetryReason;
  };

/** Why {@link classifyFailure} refused a retry. */
export type NoRetryReason = 'protocol_error' | 'not_retryable' | 'indefinite_not_idempotent';

// #region classify
/**
 * Decides whether a failed attempt may be tried again.
 * @param error - what the attempt threw
 * @param request - whether the caller declared the request idempotent
 * @returns retry or not, and why
 */
export function classifyFailure(error: unknown, request: { readonly idempotent: boolean }): RetryDecision {
  const kind = failureKind(error);
  if (kind === 'protocol') return { retry: false, reason: 'protocol_error' };
  if (kind === 'other') return { retry: false, reason: 'not_retryable' };
  if ((error as CivicError).definite) return { retry: true, reason: 'definite_transport' };
  if (request.idempotent) return { retry: true, reason: 'idempotent_request' };
  return { retry: false, reason: 'indefinite_not_idempotent' };
}
// #endregion classify

/** Why a retry loop stopped retrying. */
export type StopReason = NoRetryReason | 'attempts_exhausted' | 'budget_exhausted';

/** One failed attempt, as reported to {@link RetryOptions.onFailure}. */
export interface AttemptFailure {
  /** The attempt that failed, from 1. */
  readonly attempt: number;
  /** What it threw. */
  readonly error: unknown;
  /** The classification of the error. */
  readonly decision: RetryDecision;
  /** Milliseconds since the first attempt began. */
  readonly elapsedMs: number;
  /** The wait before the next attempt, when there is one. */
  readonly delayMs?: number;
  /** Why there is no next attempt, when there is none. */
  readonly stop?: StopReason;
}

/** Options of {@link withRetry}. */
export interface RetryOptions {
  /** Attempts and time budget. */
  readonly policy: RetryPolicy;
  /** The caller's statement that repeating the request is harmless. */
  readonly idempotent: boolean;
  /** Measures the budget. */
  readonly clock: Clock;
  /** Draws the jitter. */
  readonly random: RandomSource;
  /** Waits; the Node adapter passes a `setTimeout` promise, tests a fake. */
  readonly sleep: (ms: number) => Promise<void>;
  /** Called after every failed attempt, before any wait (the client logs here). */
  readonly onFailure?: (failure: AttemptFailure) => void;
}

// #region with-retry
/**
 * Runs `operation` until it succeeds, the failure may not be retried, or the
 * attempts or the time budget run out.
 * @param operation - one attempt; receives the attempt number, from 1
 * @param options - policy, idempotency, and the injected clock, random source and sleep
 * @returns what the first successful attempt returned
 * @throws {@link CivicError} the last attempt's error, same code and `definite`, its
 *   message ending in how many attempts were made and why it stopped
 */
export async function withRetry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { policy, clock } = options;
  const started = clock.now();
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await operation(attempt);
    } catch (error) {
      const decision = classifyFailure(error, options);
      const elapsedMs = clock.now() - started;
      let stop: StopReason | undefined = decision.retry ? undefined : decision.reason;
      let delayMs = 0;
      if (stop === undefined && attempt >= policy.maxAttempts) stop = 'attempts_exhausted';
      if (stop === undefined) {
        delayMs = backoffDelay(attempt, policy, options.random);
        if (elapsedMs + delayMs >= policy.maxTotalMs) stop = 'budget_exhausted';
      }
      options.onFailure?.({ attempt, error, decision, elapsedMs, ...(stop === undefined ? { delayMs } : { stop }) });
      if (stop !== undefined) throw gaveUp(error, { attempt, elapsedMs, stop });
      await options.sleep(delayMs);
    }
  }
}
// #endregion with-retry

/** The final error: the last one's code and meaning, with the attempt count added. */
function gaveUp(error: unknown, detail: { attempt: number; elapsedMs: number; stop: StopReason }): unknown {
  if (!isCivicError(error) || typeof error.definite !== 'boolean') return error;
  const tries = `${detail.attempt} attempt${detail.attempt === 1 ? '' : 's'} in ${Math.round(detail.elapsedMs)} ms`;
  return new CivicError(error.code, `${error.message} (${tries}, stopped: ${detail.stop})`, { definite: error.definite, cause: error });
}
