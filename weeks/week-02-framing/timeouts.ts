/**
 * The timeout policy of one server connection, as pure bookkeeping: what happened
 * when, and which deadline comes next. The Node adapter arms one timer for the
 * deadline this module names and asks again when it fires; the module itself never
 * reads the wall clock (week 4 swaps the adapter's timers for a timing wheel).
 *
 * Two limits:
 * - **idle timeout**: no byte in either direction for `idleMs` while at a frame
 *   boundary. The peer may be gone without a FIN (a pulled cable, a crashed host).
 * - **read timeout**: a frame has begun but not finished within `readMs` of its
 *   first byte. Measured from the frame's start, not from the last byte, so a peer
 *   that dribbles one byte at a time cannot hold the connection forever.
 * @module
 */
import type { Clock } from '../../lib/clock.ts';

/** The two limits, in milliseconds. */
export interface TimeoutPolicy {
  /** Longest quiet spell at a frame boundary. */
  readonly idleMs: number;
  /** Longest time from a frame's first byte to its last. */
  readonly readMs: number;
}

/** The default limits: 30 s idle, 10 s to finish a frame. */
export const DEFAULT_TIMEOUT_POLICY: TimeoutPolicy = { idleMs: 30_000, readMs: 10_000 };

/** Why a connection is closed when its deadline passes. */
export type TimeoutReason = 'idle_timeout' | 'read_timeout';

/** The next moment a connection must be checked, and what it is checked for. */
export interface Deadline {
  /** Clock time, in milliseconds, at which the limit is reached. */
  readonly atMs: number;
  /** The limit that is reached then. */
  readonly reason: TimeoutReason;
}

// #region activity-tracker
/**
 * The deadlines of one connection. Report traffic with {@link ActivityTracker.onRead}
 * and {@link ActivityTracker.onWrite}; ask {@link ActivityTracker.expired} when a
 * timer fires. Reading the clock only on events and on timer expiry keeps the
 * per-chunk cost to two assignments, with no timer re-armed per chunk.
 */
export class ActivityTracker {
  readonly #policy: TimeoutPolicy;
  readonly #clock: Clock;
  #lastActivityMs: number;
  #frameStartedMs: number | undefined;

  /**
   * @param policy - the limits
   * @param clock - the injected clock; the connection counts as active from now
   */
  constructor(policy: TimeoutPolicy, clock: Clock) {
    for (const [name, ms] of Object.entries(policy)) {
      if (!(Number.isFinite(ms) && ms > 0)) throw new RangeError(`${name} must be a positive number of milliseconds, got ${ms}`);
    }
    this.#policy = policy;
    this.#clock = clock;
    this.#lastActivityMs = clock.now();
  }

  /**
   * Records bytes received.
   * @param midFrame - true when, after these bytes, a frame is begun and unfinished
   * @param completedFrames - how many frames these bytes completed; when any did, an
   *   unfinished frame after them began with these bytes
   */
  onRead(midFrame: boolean, completedFrames = 0): void {
    const now = this.#clock.now();
    this.#lastActivityMs = now;
    if (!midFrame) this.#frameStartedMs = undefined;
    else if (completedFrames > 0 || this.#frameStartedMs === undefined) this.#frameStartedMs = now;
  }

  /** Records bytes sent (a reply counts as activity too). */
  onWrite(): void {
    this.#lastActivityMs = this.#clock.now();
  }

  /** When the open frame's first byte arrived; undefined at a frame boundary. */
  get frameStartedMs(): number | undefined {
    return this.#frameStartedMs;
  }

  /** The next deadline: the read deadline while a frame is open, else the idle one. */
  deadline(): Deadline {
    const idleAt = this.#lastActivityMs + this.#policy.idleMs;
    if (this.#frameStartedMs === undefined) return { atMs: idleAt, reason: 'idle_timeout' };
    // Mid-frame, silence is a stalled frame too: whichever limit comes first closes it.
    return { atMs: Math.min(idleAt, this.#frameStartedMs + this.#policy.readMs), reason: 'read_timeout' };
  }

  /** The deadline if it has passed now, else undefined. */
  expired(): Deadline | undefined {
    const deadline = this.deadline();
    return this.#clock.now() >= deadline.atMs ? deadline : undefined;
  }
}
// #endregion activity-tracker
