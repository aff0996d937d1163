/**
 * The Node adapter of the timing wheel: one `setInterval` per wheel, ticking only
 * while something is scheduled and never keeping the process alive (`unref()`).
 *
 * A server with 10 000 idle connections holds 10 000 entries in one wheel and one
 * libuv timer, instead of 10 000 timers; each tick advances the wheel to
 * `performance.now()` and hands the expired keys to `onExpire`.
 * @module
 */
import { TimingWheel } from './timing_wheel.ts';

/** Options of {@link NodeTimerDriver}. */
export interface TimerDriverOptions<K> {
  /** Tick length in milliseconds; also the interval period. */
  readonly tickMs: number;
  /** Slots in the wheel; one revolution lasts `slots * tickMs`. */
  readonly slots: number;
  /**
   * Called once for each key whose deadline passed, in deadline order. It should not
   * throw; if it does, the other expired keys are still delivered and the first error
   * is rethrown afterwards.
   */
  readonly onExpire: (key: K) => void;
  /** The clock, in milliseconds (default `performance.now`, which never steps back). */
  readonly now?: () => number;
}

/** Drives a {@link TimingWheel} from a real, unref'd interval. */
export class NodeTimerDriver<K> {
  readonly #wheel: TimingWheel<K>;
  readonly #onExpire: (key: K) => void;
  readonly #now: () => number;
  readonly #tickMs: number;
  #interval: ReturnType<typeof setInterval> | undefined;

  /** @param options - tick, slots, the expiry callback and the clock */
  constructor(options: TimerDriverOptions<K>) {
    this.#now = options.now ?? (() => performance.now());
    this.#wheel = new TimingWheel<K>({ tickMs: options.tickMs, slots: options.slots, startMs: this.#now() });
    this.#onExpire = options.onExpire;
    this.#tickMs = options.tickMs;
  }

  /** How many keys are waiting to expire. */
  get size(): number {
    return this.#wheel.size;
  }

  /** How many scheduled entries the wheel has looked at so far (see {@link TimingWheel.examined}). */
  get examined(): number {
    return this.#wheel.examined;
  }

  /** True while the interval is armed (only while something is scheduled). */
  get running(): boolean {
    return this.#interval !== undefined;
  }

  /** Sets `key` to expire `timeoutMs` from now, replacing its old deadline (activity resets it). */
  touch(key: K, timeoutMs: number): void {
    this.scheduleAt(key, this.#now() + timeoutMs);
  }

  // #region driver
  /** Sets `key` to expire at `deadlineMs` on the driver's clock. */
  scheduleAt(key: K, deadlineMs: number): void {
    this.#wheel.schedule(key, deadlineMs);
    if (this.#interval === undefined) {
      this.#interval = setInterval(() => this.tick(), this.#tickMs);
      this.#interval.unref();
    }
  }

  /** Forgets `key`'s deadline; true when it had one. */
  cancel(key: K): boolean {
    const had = this.#wheel.cancel(key);
    if (this.#wheel.size === 0) this.#disarm();
    return had;
  }

  /** Stops the interval and forgets every deadline (for shutdown). */
  stop(): void {
    this.#wheel.clear();
    this.#disarm();
  }

  /**
   * Advances the wheel to the clock's time and delivers the expired keys. The interval
   * calls this; calling it by hand is harmless (tests do, with an injected clock).
   * @throws the first error an `onExpire` call threw, after every key was delivered
   */
  tick(): void {
    const expired = this.#wheel.advance(this.#now());
    if (this.#wheel.size === 0) this.#disarm();
    let first: { error: unknown } | undefined;
    for (const key of expired) {
      try {
        this.#onExpire(key);
      } catch (error) {
        first ??= { error };
      }
    }
    if (first !== undefined) throw first.error;
  }
  // #endregion driver

  #disarm(): void {
    if (this.#interval !== undefined) clearInterval(this.#interval);
    this.#interval = undefined;
  }
}
