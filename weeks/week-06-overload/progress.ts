/**
 * The minimum-progress rule against slow senders: once a frame has begun, the client
 * must deliver at least `minBytes` of it in every `windowMs` until it is complete, or
 * it is cut with `E_SLOW_CLIENT`.
 *
 * An idle timer cannot catch a Slowloris sender: every byte it dribbles counts as
 * activity and restarts the timer. A whole-frame deadline can, but it punishes a large
 * frame on an honest slow link as much as a trickle. A rate floor per window judges
 * what matters, progress, and catches the trickle one window after it starts.
 *
 * ```
 *   frame begins            window 1 ends             window 2 ends
 *       │◀──── windowMs ────▶│◀──── windowMs ────▶│
 *       │ bytes ≥ minBytes?  │  bytes ≥ minBytes?  │  … until the frame completes
 *       │       yes: go on   │   no: E_SLOW_CLIENT │
 * ```
 *
 * Windows are counted from the first byte of the frame; bytes count toward the window
 * they arrive in. Between frames the meter is idle (the idle timeout of week 2 governs
 * silence there). Pure: the caller passes the time with every call.
 * @module
 */

/** The rule's two numbers. */
export interface ProgressRule {
  /** The length of one window (ms). */
  readonly windowMs: number;
  /** The fewest bytes of an unfinished frame a client must deliver per window; 0 turns the rule off. */
  readonly minBytes: number;
}

/** The default: at least 1 KiB of an open frame every 2 s (4 bits a second would pass an idle timer). */
export const DEFAULT_PROGRESS_RULE: ProgressRule = { windowMs: 2000, minBytes: 1024 };

/** The meter's verdict at an instant. */
export type ProgressVerdict =
  | {
    /** No frame is open: nothing to judge. */
    readonly verdict: 'idle';
  }
  | {
    /** The open frame is on pace so far. */
    readonly verdict: 'ok';
    /** When the current window ends: check again then (ms). */
    readonly checkAtMs: number;
  }
  | {
    /** A whole window passed with too few bytes: cut the client. */
    readonly verdict: 'slow';
    /** The bytes delivered in that window. */
    readonly bytes: number;
    /** When that window ended (ms). */
    readonly windowEndMs: number;
  };

// #region progress-meter
/** Tracks one connection's progress through its open frame. */
export class ProgressMeter {
  readonly #rule: ProgressRule;
  /** When the current window ends; undefined while idle. */
  #windowEndMs: number | undefined;
  #bytes = 0;
  /** The first failed window, once found: the verdict stays `slow`. */
  #failed: { bytes: number; windowEndMs: number } | undefined;

  /** @param rule - window length and byte floor */
  constructor(rule: ProgressRule) {
    if (!(rule.windowMs > 0) || !Number.isFinite(rule.windowMs)) throw new RangeError(`windowMs must be a finite number above 0, got ${rule.windowMs}`);
    if (!Number.isSafeInteger(rule.minBytes) || rule.minBytes < 0) throw new RangeError(`minBytes must be a whole number of at least 0, got ${rule.minBytes}`);
    this.#rule = rule;
  }

  /**
   * Records a chunk.
   * @param bytes - its length
   * @param midFrame - a frame is begun and unfinished once this chunk is decoded
   * @param nowMs - when it arrived
   */
  onBytes(bytes: number, midFrame: boolean, nowMs: number): void {
    if (this.#windowEndMs === undefined) {
      if (midFrame) this.#open(bytes, nowMs);
      return;
    }
    this.#roll(nowMs); // windows that ended before this chunk are judged without it
    if (this.#failed !== undefined) return;
    if (!midFrame) {
      this.#windowEndMs = undefined; // the frame completed: idle until the next one begins
      this.#bytes = 0;
      return;
    }
    this.#bytes += bytes;
  }

  /** The verdict at `nowMs`, judging every window that has ended by then. */
  check(nowMs: number): ProgressVerdict {
    if (this.#windowEndMs === undefined) return { verdict: 'idle' };
    this.#roll(nowMs);
    if (this.#failed !== undefined) return { verdict: 'slow', ...this.#failed };
    return { verdict: 'ok', checkAtMs: this.#windowEndMs };
  }

  #open(bytes: number, nowMs: number): void {
    this.#windowEndMs = nowMs + this.#rule.windowMs;
    this.#bytes = bytes;
  }

  /** Judges each window that ended at or before `nowMs`. */
  #roll(nowMs: number): void {
    while (this.#failed === undefined && this.#windowEndMs !== undefined && nowMs >= this.#windowEndMs) {
      if (this.#bytes < this.#rule.minBytes) {
        this.#failed = { bytes: this.#bytes, windowEndMs: this.#windowEndMs };
        return;
      }
      this.#windowEndMs += this.#rule.windowMs;
      this.#bytes = 0;
    }
  }
}
// #endregion progress-meter
