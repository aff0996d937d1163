/**
 * The cluster client's retry rule: after each attempt, one pure decision from the
 * attempts so far, the last outcome and the budget to "retry now at node X", "retry at
 * node X after a backoff" or "stop, with this code".
 *
 * ```text
 *   last outcome                         decision
 *   ───────────────────────────────────  ───────────────────────────────────────────────
 *   ok reply                             answered
 *   E_RAFT_NOT_LEADER + known hint       retry now at the hint (after maxHintHops hops
 *                                        in a row: at the hint, after a backoff)
 *   E_RAFT_NOT_LEADER, no usable hint    retry at the next node after a backoff
 *   refused/unreachable/overloaded       retry at the next node after a backoff  (definite)
 *   timeout/reset/closed/fenced          retry at the next node after a backoff  (indefinite)
 *   E_RAFT_UNCERTAIN                     retry at the same node after a backoff  (indefinite)
 *   unreadable reply                     give up with that code                  (indefinite)
 *   any other refusal                    give up at once with that code          (definite)
 *   ── and before any retry: no attempts left ▶ E_CLIENT_RETRIES_EXHAUSTED,
 *      the wait would end past the time budget ▶ E_CLIENT_DEADLINE
 * ```
 *
 * Every retry carries the request id of the first attempt: the replicas' dedupe table
 * is what makes a retry safe, and it only recognises the same id. Backoff is week 2's
 * full-jitter {@link backoffDelay}; time and randomness are injected, so a decision is a
 * function of its inputs and the whole schedule replays from a seed.
 * @module
 */
import type { Clock } from '../../lib/clock.ts';
import { backoffDelay, type RandomSource, type RetryPolicy } from '../../lib/framing.ts';

/** How many attempts, how much time, and how many leader-hint hops a request may use. */
export interface ClusterRetryPolicy extends RetryPolicy {
  /**
   * Leader-hint redirects followed at once, in a row; the next one waits a backoff first.
   * During an election two nodes can each name the other for a moment, and without this
   * bound the client would bounce between them as fast as the network allows.
   */
  readonly maxHintHops: number;
}

/**
 * Up to 48 attempts within five seconds, backoff ceilings from 25 ms up to 200 ms, two free
 * hint hops. The low ceiling is for failover: while the survivors elect a leader the client
 * can only poll, and once one is elected the next put waits out whatever backoff it is in
 * (up to 1 s, with the 1 s ceiling this policy used to have). The five-second budget, not
 * the attempt count, bounds the extra load on the cluster.
 */
export const DEFAULT_CLUSTER_RETRY_POLICY: ClusterRetryPolicy = { maxAttempts: 48, maxTotalMs: 5000, baseDelayMs: 25, maxDelayMs: 200, maxHintHops: 2 };

/** One finished attempt, as the retry rule sees it. */
export interface AttemptOutcome {
  /** The node the attempt went to (a client address such as `127.0.0.1:7001`). */
  readonly node: string;
  /** The request id the attempt carried. */
  readonly requestId: string;
  /** The refusal or transport error code, or null when the node answered `ok: true`. */
  readonly code: string | null;
  /** With `E_RAFT_NOT_LEADER`: the leader the node named (its client address), or null. */
  readonly leader?: string | null;
}

/** What the retry rule decides from. */
export interface RetryInput {
  /** The cluster's client addresses, in the client's order (the rotation for "next node"). */
  readonly nodes: readonly string[];
  /** The request id of the first attempt; every retry reuses it. */
  readonly requestId: string;
  /** The clock reading when the first attempt began. */
  readonly startedMs: number;
  /** Every attempt so far, oldest first; the last one just finished. */
  readonly attempts: readonly AttemptOutcome[];
  /** The budget. */
  readonly policy: ClusterRetryPolicy;
}

/** The injected clock and jitter source. */
export interface RetryDeps {
  /** Measures the time budget. */
  readonly clock: Clock;
  /** Draws the full jitter. */
  readonly random: RandomSource;
}

/** Why the rule chose a retry. */
export type RetryReason = 'leader_hint' | 'hint_loop' | 'no_hint' | 'stale_hint' | 'unavailable' | 'indefinite';

/** Why the rule stopped. */
export type RetryStopReason = 'answered' | 'refused' | 'protocol' | 'attempts_exhausted' | 'deadline';

/** The decision after one attempt. */
export type RetryStep =
  | {
    /** Retry, after `delayMs` (0 for a leader hint followed at once). */
    readonly action: 'retry';
    /** Where the next attempt goes. */
    readonly node: string;
    /** The request id to send: always the first attempt's. */
    readonly requestId: string;
    /** Milliseconds to wait first. */
    readonly delayMs: number;
    /** Why. */
    readonly reason: RetryReason;
  }
  | {
    /** Stop: the last reply is the answer, or the client gives up. */
    readonly action: 'stop';
    /** Why. */
    readonly reason: RetryStopReason;
    /**
     * null when answered; the node's code when it refused; `E_CLIENT_RETRIES_EXHAUSTED` or
     * `E_CLIENT_DEADLINE` when the budget ran out; the local code for an unreadable reply.
     */
    readonly code: string | null;
    /**
     * True when the command certainly did not take effect: every attempt ended in a
     * definite refusal or a connection that never carried it.
     */
    readonly definite: boolean;
  };

/** How the rule treats an outcome code. */
export type OutcomeClass = 'answered' | 'redirect' | 'retry_definite' | 'retry_indefinite' | 'protocol' | 'refused';

// #region outcome-classes
/** Nothing was sent, or the node did none of the work and may take it later: try elsewhere. */
const RETRY_DEFINITE: ReadonlySet<string> = new Set([
  'E_NET_REFUSED', 'E_NET_UNREACHABLE', 'E_NET_CONNECT_TIMEOUT', // week 2: the request never left
  'E_OVERLOADED', 'E_SHED_LOW_PRIORITY', 'E_REPLAY_CACHE_FULL', //   weeks 6 and 8: refused for load
]);
/** The command may or may not have been applied: only a retry with the same id is safe. */
const RETRY_INDEFINITE: ReadonlySet<string> = new Set([
  'E_NET_RESET', 'E_NET_CLOSED', 'E_NET_TIMEOUT', 'E_FRAME_TRUNCATED', // week 2: lost mid-request
  'E_DEADLINE_EXCEEDED', //                                             week 6: the server gave up on it
  'E_RAFT_UNCERTAIN', //                                                week 11: appended, commit unknown
  'E_FENCED_STALE_TERM', //                                             our fence threw away the answer
]);
/** The node sent something unreadable: asking again gets the same bytes (week 2's rule), yet it may have acted. */
const PROTOCOL: ReadonlySet<string> = new Set(['E_CLIENT_REPLY_MALFORMED', 'E_FRAME_OVERSIZE', 'E_MESSAGE_MALFORMED']);
// #endregion outcome-classes

/**
 * Sorts an outcome code. Any code not listed is a refusal the node made on purpose (bad
 * signature, invalid command, version conflict, reused request id, expired dedupe, …):
 * a retry would get the same answer, and the KV contract makes every such refusal
 * definite, so the client stops at once.
 */
export function classifyOutcome(code: string | null): OutcomeClass {
  if (code === null) return 'answered';
  if (code === 'E_RAFT_NOT_LEADER') return 'redirect';
  if (RETRY_DEFINITE.has(code)) return 'retry_definite';
  if (RETRY_INDEFINITE.has(code)) return 'retry_indefinite';
  return PROTOCOL.has(code) ? 'protocol' : 'refused';
}

/** True when the outcome says the command certainly had no effect. */
function isDefinite(outcome: AttemptOutcome): boolean {
  const kind = classifyOutcome(outcome.code);
  return kind === 'redirect' || kind === 'retry_definite' || kind === 'refused';
}

/** The hint, when it names another node of the cluster; a hint elsewhere is ignored, so no node can steer the client out of it. */
function usableHint(outcome: AttemptOutcome, nodes: readonly string[]): string | null {
  const hint = outcome.leader ?? null;
  return hint !== null && hint !== outcome.node && nodes.includes(hint) ? hint : null;
}

function nextNode(node: string, nodes: readonly string[], avoid: string | null = null): string {
  const at = nodes.indexOf(node);
  const next = nodes[(at + 1) % nodes.length] as string; // an unknown node (-1) wraps to the first
  return next === avoid && nodes.length > 2 ? nextNode(next, nodes) : next;
}

/**
 * True when this request's latest attempt at `node` could not reach it (refused, reset,
 * timed out): a hint naming it is stale — the follower still remembers a leader that died
 * and no election has finished yet.
 */
function unreachable(node: string, attempts: readonly AttemptOutcome[]): boolean {
  for (let i = attempts.length - 1; i >= 0; i--) {
    const a = attempts[i] as AttemptOutcome;
    if (a.node !== node) continue;
    const kind = classifyOutcome(a.code);
    return kind === 'retry_definite' || (kind === 'retry_indefinite' && a.code !== 'E_RAFT_UNCERTAIN');
  }
  return false;
}

function checkInput(input: RetryInput): AttemptOutcome {
  const last = input.attempts.at(-1);
  if (last === undefined) throw new RangeError('attempts must hold at least the attempt just finished');
  if (input.nodes.length === 0) throw new RangeError('nodes must name at least one node');
  const { maxAttempts, maxHintHops } = input.policy;
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) throw new RangeError(`maxAttempts must be a positive integer, got ${maxAttempts}`);
  if (!Number.isSafeInteger(maxHintHops) || maxHintHops < 0) throw new RangeError(`maxHintHops must be a non-negative integer, got ${maxHintHops}`);
  return last;
}

// #region retry-decision
/**
 * Decides what follows the attempt that just finished.
 * @param input - the nodes, the request id, the attempts so far and the budget
 * @param deps - the clock (for the budget) and the jitter source
 * @returns a retry (where, after how long, with the original request id) or a stop
 *   (the answer, a definite refusal, or the code of an exhausted budget)
 * @throws RangeError for an empty attempt list, an empty cluster or a bad policy
 */
export function decideRetry(input: RetryInput, deps: RetryDeps): RetryStep {
  const last = checkInput(input);
  const { nodes, policy, attempts } = input;
  const kind = classifyOutcome(last.code);
  if (kind === 'answered') return { action: 'stop', reason: 'answered', code: null, definite: false };
  if (kind === 'refused') return { action: 'stop', reason: 'refused', code: last.code, definite: true };
  if (kind === 'protocol') return { action: 'stop', reason: 'protocol', code: last.code, definite: false };

  // From here on the request is retried, if the budget allows.
  const definite = attempts.every(isDefinite);
  if (attempts.length >= policy.maxAttempts) return { action: 'stop', reason: 'attempts_exhausted', code: 'E_CLIENT_RETRIES_EXHAUSTED', definite };
  const elapsedMs = deps.clock.now() - input.startedMs;
  const retry = (node: string, delayMs: number, reason: RetryReason): RetryStep =>
    elapsedMs + delayMs >= policy.maxTotalMs
      ? { action: 'stop', reason: 'deadline', code: 'E_CLIENT_DEADLINE', definite }
      : { action: 'retry', node, requestId: input.requestId, delayMs, reason };
  const backoff = (): number => backoffDelay(attempts.length, policy, deps.random);

  if (kind === 'redirect') {
    const hint = usableHint(last, nodes);
    if (hint === null) return retry(nextNode(last.node, nodes), backoff(), 'no_hint');
    if (unreachable(hint, attempts)) return retry(nextNode(last.node, nodes, hint), backoff(), 'stale_hint');
    let hops = 0; // redirects with a usable hint at the end of the history, this one included
    for (let i = attempts.length - 1; i >= 0; i--) {
      const a = attempts[i] as AttemptOutcome;
      if (classifyOutcome(a.code) !== 'redirect' || usableHint(a, nodes) === null) break;
      hops++;
    }
    return hops <= policy.maxHintHops ? retry(hint, 0, 'leader_hint') : retry(hint, backoff(), 'hint_loop');
  }
  if (last.code === 'E_RAFT_UNCERTAIN') return retry(last.node, backoff(), 'indefinite'); // it answered, so it is up
  return retry(nextNode(last.node, nodes), backoff(), kind === 'retry_definite' ? 'unavailable' : 'indefinite');
}
// #endregion retry-decision
