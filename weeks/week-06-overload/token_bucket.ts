/**
 * A token bucket for one client's outbound bytes: tokens refill at `ratePerSec` up to
 * `burstBytes`, and each reply spends as many tokens as it has bytes. A client that
 * asks for more than its rate gets its replies later, not never: the bucket says how
 * long to wait. Pure: the caller passes the time with every call.
 *
 * ```
 *   tokens ▲
 *    burst ┤▔▔▔▔▔▔╲        ╱▔▔▔▔▔▔   refill: +rate per second, capped at burst
 *          │       ╲      ╱
 *          │        ╲    ╱            spend: −bytes per reply; a reply larger than
 *        0 ┼─────────╲──╱──────▶ t    the burst may take the bucket below zero,
 *          │          ╲╱              then the next reply waits out the debt
 * ```
 *
 * Over any span of T ms the bytes let through are at most
 * `burstBytes + ratePerSec·T/1000 + max(0, largest reply − burstBytes)`: the property
 * test checks this bound.
 * @module
 */

/** The bucket's two numbers. */
export interface EgressRate {
  /** Refill rate, bytes per second. */
  readonly ratePerSec: number;
  /** The most tokens the bucket holds: the largest burst sent at once. */
  readonly burstBytes: number;
}

/** The default egress rate: 8 MiB/s, bursts of 256 KiB. */
export const DEFAULT_EGRESS_RATE: EgressRate = { ratePerSec: 8 * 1024 * 1024, burstBytes: 256 * 1024 };

/**
 * Checks a rate: a positive rate (Infinity allowed, for "no limit") and a whole burst of at least 1.
 * @throws RangeError naming the bad field
 */
export function checkEgressRate(rate: EgressRate): void {
  if (!(rate.ratePerSec > 0)) throw new RangeError(`ratePerSec must be above 0, got ${rate.ratePerSec}`);
  if (!Number.isSafeInteger(rate.burstBytes) || rate.burstBytes < 1) throw new RangeError(`burstBytes must be a whole number of at least 1, got ${rate.burstBytes}`);
}

// #region token-bucket
/** One client's egress budget. */
export class TokenBucket {
  readonly #rate: EgressRate;
  #tokens: number;
  #atMs: number;

  /**
   * @param rate - refill rate and burst cap
   * @param nowMs - the time the bucket starts full
   */
  constructor(rate: EgressRate, nowMs: number) {
    checkEgressRate(rate);
    this.#rate = rate;
    this.#tokens = rate.burstBytes;
    this.#atMs = nowMs;
  }

  /** Tokens now (may be negative after a reply larger than the burst). */
  tokens(nowMs: number): number {
    this.#refill(nowMs);
    return this.#tokens;
  }

  /**
   * Spends `bytes` tokens if the bucket allows it now.
   * A reply may go when the bucket holds at least `min(bytes, burstBytes)` tokens, so a
   * reply larger than the burst is not starved forever: it goes on a full bucket and
   * leaves a debt.
   * @returns 0 when the bytes were spent; otherwise how many ms to wait before asking again
   */
  take(bytes: number, nowMs: number): number {
    this.#refill(nowMs);
    const needed = Math.min(bytes, this.#rate.burstBytes);
    if (this.#tokens >= needed) {
      this.#tokens -= bytes;
      return 0;
    }
    if (this.#rate.ratePerSec === Infinity) return 0; // unreachable: an infinite rate refills at once
    return Math.max(1, Math.ceil(((needed - this.#tokens) * 1000) / this.#rate.ratePerSec));
  }

  #refill(nowMs: number): void {
    if (nowMs > this.#atMs) {
      const earned = ((nowMs - this.#atMs) * this.#rate.ratePerSec) / 1000;
      this.#tokens = Math.min(this.#rate.burstBytes, this.#tokens + earned);
      this.#atMs = nowMs;
    }
  }
}
// #endregion token-bucket
