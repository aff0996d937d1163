/**
 * A hashed timing wheel (Varghese & Lauck 1987, scheme 6): idle deadlines for many
 * connections, with O(1) schedule, cancel and reschedule, and a tick that looks only
 * at the connections filed under the current slot instead of scanning all of them.
 *
 * Time is quantised into ticks of `tickMs`. A deadline is filed under the first tick
 * at or after it, in slot `tick % slots`; the slots form a ring that the cursor walks
 * one tick at a time. A deadline more than one revolution away shares its slot with
 * nearer ones and is simply passed over until its own tick comes round (its
 * remaining "rounds" are `(tick - cursor) / slots`, computed from the absolute tick
 * it stores rather than kept as a counter).
 *
 * ```
 *          cursor = tick 9 (slot 1)          slots = 8, tickMs = 10
 *                 │
 *   slot  0       ▼  1        2        3     4     5     6     7
 *        ┌──┐   ┌──┐     ┌──┐     ┌──┐
 *        │  │   │a9│     │b10│    │c27│   (each slot: a doubly linked list, in
 *        └──┘   │d17│    └──┘     └──┘     schedule order; a9 = key a, tick 9)
 *               └──┘
 *   advance to tick 9: slot 1 is visited, a (tick 9) expires, d (tick 17) waits
 *   one more revolution. Nothing in slots 0, 2-7 is looked at.
 * ```
 *
 * Pure: no clock of its own. The caller passes the time to {@link TimingWheel.advance}
 * (`node_timer_driver.ts` does it from a real interval).
 * @module
 */

/** Options of {@link TimingWheel}. */
export interface TimingWheelOptions {
  /** Length of one tick in milliseconds: a positive whole number. The wheel's resolution. */
  readonly tickMs: number;
  /** Number of slots: a positive whole number. One revolution lasts `slots * tickMs`. */
  readonly slots: number;
  /** The time of tick 0, in the same clock as the deadlines (default 0). */
  readonly startMs?: number;
}

/** One scheduled deadline: a node of its slot's doubly linked list. */
interface Entry<K> {
  readonly key: K;
  readonly deadlineMs: number;
  /** The tick at which it expires: the first tick whose time is at or after the deadline. */
  readonly tick: number;
  /** Schedule order, to break ties between equal ticks. */
  readonly seq: number;
  prev: Entry<K> | undefined;
  next: Entry<K> | undefined;
}

/**
 * Idle deadlines keyed by connection (or anything else usable as a `Map` key).
 *
 * Contract: a key expires at the first {@link advance} whose time has reached the
 * tick its deadline was filed under, so it is never early and at most one tick late
 * (counted from the later of its deadline and the last `advance` before it was
 * scheduled). Keys that expire in one call come out in deadline-tick order, ties in
 * schedule order.
 */
export class TimingWheel<K> {
  /** The tick length in milliseconds. */
  readonly tickMs: number;
  /** The number of slots in the ring. */
  readonly slots: number;
  readonly #startMs: number;
  readonly #heads: (Entry<K> | undefined)[];
  readonly #tails: (Entry<K> | undefined)[];
  readonly #entries = new Map<K, Entry<K>>();
  /** The last tick processed; the cursor. */
  #tick = 0;
  #seq = 0;
  #examined = 0;

  /**
   * @param options - tick length, slot count and start time
   * @throws RangeError when `tickMs` or `slots` is not a positive whole number
   */
  constructor(options: TimingWheelOptions) {
    const { tickMs, slots, startMs = 0 } = options;
    if (!Number.isSafeInteger(tickMs) || tickMs < 1) throw new RangeError(`tickMs must be a positive whole number, got ${tickMs}`);
    if (!Number.isSafeInteger(slots) || slots < 1) throw new RangeError(`slots must be a positive whole number, got ${slots}`);
    if (!Number.isFinite(startMs)) throw new RangeError(`startMs must be finite, got ${startMs}`);
    this.tickMs = tickMs;
    this.slots = slots;
    this.#startMs = startMs;
    this.#heads = new Array<Entry<K> | undefined>(slots).fill(undefined);
    this.#tails = new Array<Entry<K> | undefined>(slots).fill(undefined);
  }

  /** How many keys are scheduled. */
  get size(): number {
    return this.#entries.size;
  }

  /** The wheel's own time: the time of the last tick processed. */
  get nowMs(): number {
    return this.#startMs + this.#tick * this.tickMs;
  }

  /**
   * How many scheduled entries {@link advance} has looked at so far, expired or not.
   * A full scan would add `size` per tick; the wheel adds only the occupancy of the
   * slots it passes.
   */
  get examined(): number {
    return this.#examined;
  }

  /** True when `key` is scheduled. */
  has(key: K): boolean {
    return this.#entries.has(key);
  }

  /** The deadline `key` is scheduled for, or `undefined`. */
  deadlineOf(key: K): number | undefined {
    return this.#entries.get(key)?.deadlineMs;
  }

  // #region schedule
  /**
   * Schedules `key` to expire at `deadlineMs`, replacing any deadline it had: this is
   * also how activity on a connection pushes its idle deadline back. O(1).
   * @throws RangeError when the deadline is not a finite number
   */
  schedule(key: K, deadlineMs: number): void {
    if (!Number.isFinite(deadlineMs)) throw new RangeError(`deadlineMs must be finite, got ${deadlineMs}`);
    this.cancel(key);
    // The first tick whose time is at or after the deadline, corrected for rounding,
    // and never a tick already processed: a deadline in the past fires on the next tick.
    let tick = Math.ceil((deadlineMs - this.#startMs) / this.tickMs);
    if (this.#startMs + tick * this.tickMs < deadlineMs) tick += 1;
    if (tick <= this.#tick) tick = this.#tick + 1;
    const entry: Entry<K> = { key, deadlineMs, tick, seq: this.#seq++, prev: undefined, next: undefined };
    const slot = tick % this.slots;
    const tail = this.#tails[slot];
    if (tail === undefined) this.#heads[slot] = entry;
    else {
      tail.next = entry;
      entry.prev = tail;
    }
    this.#tails[slot] = entry;
    this.#entries.set(key, entry);
  }

  /**
   * Removes `key`'s deadline. O(1).
   * @returns true when the key was scheduled
   */
  cancel(key: K): boolean {
    const entry = this.#entries.get(key);
    if (entry === undefined) return false;
    this.#unlink(entry);
    return true;
  }
  // #endregion schedule

  /** Forgets every deadline; the wheel's time stays where it is. */
  clear(): void {
    this.#entries.clear();
    this.#heads.fill(undefined);
    this.#tails.fill(undefined);
  }

  // #region advance
  /**
   * Moves the wheel's time forward to `nowMs` and returns the keys whose deadlines
   * it has passed, removing them. A time at or before the last one is a no-op, so a
   * clock that steps back never expires anything early.
   *
   * Cost: one slot visit per tick crossed, plus the entries filed in those slots.
   * A jump of a whole revolution or more visits every slot once instead of looping
   * over ticks that cannot hold anything new.
   * @param nowMs - the current time, in the clock of the deadlines
   * @returns the expired keys, in deadline-tick order, ties in schedule order
   */
  advance(nowMs: number): K[] {
    let target = Math.floor((nowMs - this.#startMs) / this.tickMs);
    if (this.#startMs + target * this.tickMs > nowMs) target -= 1;
    if (!(target > this.#tick)) return [];
    const expired: Entry<K>[] = [];
    if (target - this.#tick >= this.slots) {
      for (let slot = 0; slot < this.slots; slot += 1) this.#collect(slot, target, expired);
      expired.sort((a, b) => a.tick - b.tick || a.seq - b.seq);
    } else {
      for (let tick = this.#tick + 1; tick <= target; tick += 1) this.#collect(tick % this.slots, tick, expired);
    }
    this.#tick = target;
    return expired.map((entry) => entry.key);
  }
  // #endregion advance

  /** Unlinks every entry of `slot` due at or before `tick` into `out`, in list order. */
  #collect(slot: number, tick: number, out: Entry<K>[]): void {
    let entry = this.#heads[slot];
    while (entry !== undefined) {
      const next = entry.next;
      this.#examined += 1;
      if (entry.tick <= tick) {
        this.#unlink(entry);
        out.push(entry);
      }
      entry = next;
    }
  }

  #unlink(entry: Entry<K>): void {
    const slot = entry.tick % this.slots;
    if (entry.prev === undefined) this.#heads[slot] = entry.next;
    else entry.prev.next = entry.next;
    if (entry.next === undefined) this.#tails[slot] = entry.prev;
    else entry.next.prev = entry.prev;
    entry.prev = undefined;
    entry.next = undefined;
    this.#entries.delete(entry.key);
  }
}
