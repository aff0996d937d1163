/**
 * Replay defence: a timestamp window and a bounded cache of the nonces seen inside it.
 *
 * A signature proves who sent a message, not that it is new: a captured message
 * verifies as well the second time. So a verifier accepts a message only if its
 * timestamp is inside the window (`now - maxAgeMs <= t <= now + maxFutureSkewMs`)
 * and its `(key_id, nonce)` pair has not been accepted before. The window is what
 * lets the cache forget: a nonce whose timestamp has left the window can never be
 * accepted again anyway (the timestamp check refuses it first), so its entry can go.
 *
 * The cache never forgets an entry that is still inside the window, because that
 * would let the message it stands for be replayed. When it is full of live entries
 * it refuses new nonces with `E_REPLAY_CACHE_FULL` instead: overload is reported,
 * never turned into a replay hole. Memory is bounded by `maxEntries`; size it as the
 * peak accepted rate times the window (`maxAgeMs + maxFutureSkewMs`).
 *
 * ```
 *  entries:  Map  "key_id nonce" -> expiry        (lookup, duplicate check)
 *  expiry:   min-heap of [expiry, "key_id nonce"]  (eviction, oldest first)
 *  expiry = timestamp + maxAgeMs: the last instant the message is still in the window
 * ```
 * @module
 */
import { errorFactory } from '../../lib/errors.ts';
import { SIGN_ERRORS } from './catalog.ts';
import type { NonceEntry } from './nonce_log.ts';

const fail = errorFactory(SIGN_ERRORS);

// #region replay-policy
/** The replay rules. */
export interface ReplayPolicy {
  /** How old a message may be, ms: older timestamps are `E_TIMESTAMP_EXPIRED`. */
  readonly maxAgeMs: number;
  /** How far ahead of the verifier's clock a timestamp may be, ms: further is `E_TIMESTAMP_FUTURE`. */
  readonly maxFutureSkewMs: number;
  /** The most nonces remembered at once. */
  readonly maxEntries: number;
}

/** Two minutes back, thirty seconds ahead, 100,000 nonces (about 800 accepted messages per second). */
export const DEFAULT_REPLAY_POLICY: ReplayPolicy = { maxAgeMs: 120_000, maxFutureSkewMs: 30_000, maxEntries: 100_000 };
// #endregion replay-policy

// #region check-window
/**
 * Checks a message timestamp against the window.
 * @param timestamp - the message's time, ms since the epoch
 * @param now - the verifier's clock
 * @param horizon - the latest clock reading the nonce cache has evicted at
 *   ({@link NonceCache.horizon}); if the clock steps back, the past edge of the window
 *   stays there, so a nonce already forgotten cannot come back into the window
 * @throws {@link CivicError} `E_TIMESTAMP_EXPIRED` or `E_TIMESTAMP_FUTURE`
 */
export function checkWindow(timestamp: number, now: number, policy: ReplayPolicy, horizon: number = now): void {
  const pastEdge = Math.max(now, horizon) - policy.maxAgeMs;
  if (timestamp < pastEdge) {
    throw fail('E_TIMESTAMP_EXPIRED', `Cannot accept message: timestamp is ${pastEdge + policy.maxAgeMs - timestamp} ms old, the window allows ${policy.maxAgeMs}`);
  }
  if (timestamp > now + policy.maxFutureSkewMs) {
    throw fail('E_TIMESTAMP_FUTURE', `Cannot accept message: timestamp is ${timestamp - now} ms ahead, the allowed skew is ${policy.maxFutureSkewMs}`);
  }
}
// #endregion check-window

/** What {@link NonceCache.record} did. */
export type RecordOutcome = 'recorded' | 'duplicate' | 'full';

/** A min-heap of `[expiry, key]` pairs, ordered by expiry. */
class ExpiryHeap {
  readonly #items: [number, string][] = [];

  get size(): number {
    return this.#items.length;
  }

  peek(): [number, string] | undefined {
    return this.#items[0];
  }

  push(item: [number, string]): void {
    const a = this.#items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((a[parent] as [number, string])[0] <= item[0]) break;
      a[i] = a[parent] as [number, string];
      i = parent;
    }
    a[i] = item;
  }

  pop(): [number, string] | undefined {
    const a = this.#items;
    const top = a[0];
    const last = a.pop();
    if (top === undefined || last === undefined || a.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= a.length) break;
      const right = left + 1;
      const child = right < a.length && (a[right] as [number, string])[0] < (a[left] as [number, string])[0] ? right : left;
      if ((a[child] as [number, string])[0] >= last[0]) break;
      a[i] = a[child] as [number, string];
      i = child;
    }
    a[i] = last;
    return top;
  }
}

// #region nonce-cache
/** The nonces accepted inside the window, bounded in memory. */
export class NonceCache {
  readonly #policy: ReplayPolicy;
  /** "key_id nonce" -> [expiry, timestamp, seenAt]. */
  readonly #entries = new Map<string, [number, number, number]>();
  readonly #heap = new ExpiryHeap();
  #evicted = 0;
  #horizon = Number.NEGATIVE_INFINITY;

  /** @param policy - the window and the capacity */
  constructor(policy: ReplayPolicy = DEFAULT_REPLAY_POLICY) {
    if (!(policy.maxEntries >= 1) || !(policy.maxAgeMs >= 0) || !(policy.maxFutureSkewMs >= 0)) throw new RangeError('replay policy needs maxEntries >= 1 and non-negative windows');
    this.#policy = policy;
  }

  /** The window and capacity. */
  get policy(): ReplayPolicy {
    return this.#policy;
  }

  /** Nonces remembered now. */
  get size(): number {
    return this.#entries.size;
  }

  /** Entries dropped because their timestamp left the window, since creation. */
  get evicted(): number {
    return this.#evicted;
  }

  /** The latest clock reading entries were evicted at (-Infinity before the first eviction). */
  get horizon(): number {
    return this.#horizon;
  }

  /** True when `(keyId, nonce)` was accepted and is still remembered. */
  has(keyId: string, nonce: string): boolean {
    return this.#entries.has(`${keyId} ${nonce}`);
  }

  /** Drops every entry whose timestamp has left the window; returns how many. */
  evictExpired(now: number): number {
    if (now > this.#horizon) this.#horizon = now;
    let dropped = 0;
    for (let top = this.#heap.peek(); top !== undefined && top[0] < now; top = this.#heap.peek()) {
      this.#heap.pop();
      this.#entries.delete(top[1]);
      dropped += 1;
    }
    this.#evicted += dropped;
    return dropped;
  }

  /** True when a new nonce could be recorded now (after evicting what has expired). */
  hasRoom(now: number): boolean {
    if (this.#entries.size < this.#policy.maxEntries) return true;
    this.evictExpired(now);
    return this.#entries.size < this.#policy.maxEntries;
  }

  /**
   * Remembers `(keyId, nonce)` for a message timestamped `timestamp`. Call it only
   * after the message's signature has verified.
   * @returns `recorded`; `duplicate` when the pair is already there; `full` when every
   *   remembered entry is still inside the window and the cache is at capacity
   */
  record(keyId: string, nonce: string, timestamp: number, now: number): RecordOutcome {
    const key = `${keyId} ${nonce}`;
    if (this.#entries.has(key)) return 'duplicate';
    if (!this.hasRoom(now)) return 'full';
    const expiry = timestamp + this.#policy.maxAgeMs;
    this.#entries.set(key, [expiry, timestamp, now]);
    this.#heap.push([expiry, key]);
    return 'recorded';
  }

  /** Every remembered entry with the timestamp and clock it was recorded with, oldest expiry first (for a durable copy). */
  liveEntries(): NonceEntry[] {
    return [...this.#entries].sort((a, b) => a[1][0] - b[1][0]).map(([key, [, timestamp, seenAt]]) => {
      const space = key.indexOf(' ');
      return { keyId: key.slice(0, space), nonce: key.slice(space + 1), timestamp, seenAt };
    });
  }
}
// #endregion nonce-cache
