/**
 * The timing wheel against a naive reference model: random schedule, cancel and
 * advance sequences give the same expirations in the same order, never early and at
 * most one tick late; plus the cost claim (a tick looks at one slot, not at every key).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TimingWheel } from './timing_wheel.ts';

/** Fixed seed so a failure reproduces; fast-check prints it (and the shrunk case) on failure. */
const SEED = Number(process.env.FC_SEED ?? 20260401);

// #region reference-model
/**
 * The reference: a plain map scanned in full on every advance. A key is due at the
 * first tick at or after its deadline, but never at a tick the wheel had already
 * passed when the key was scheduled.
 */
class NaiveTimers {
  readonly #tickMs: number;
  readonly #startMs: number;
  #cursor = 0;
  #seq = 0;
  readonly #keys = new Map<number, { deadline: number; due: number; seq: number; cursorTimeAtSchedule: number }>();

  constructor(tickMs: number, startMs: number) {
    this.#tickMs = tickMs;
    this.#startMs = startMs;
  }

  schedule(key: number, deadline: number): void {
    let due = Math.ceil((deadline - this.#startMs) / this.#tickMs);
    if (due <= this.#cursor) due = this.#cursor + 1;
    const cursorTimeAtSchedule = this.#startMs + this.#cursor * this.#tickMs;
    this.#keys.set(key, { deadline, due, seq: this.#seq++, cursorTimeAtSchedule });
  }

  cancel(key: number): boolean {
    return this.#keys.delete(key);
  }

  advance(now: number): number[] {
    const target = Math.floor((now - this.#startMs) / this.#tickMs);
    if (target <= this.#cursor) return [];
    this.#cursor = target;
    const due = [...this.#keys].filter(([, t]) => t.due <= target).sort(([, a], [, b]) => a.due - b.due || a.seq - b.seq);
    for (const [key] of due) this.#keys.delete(key);
    return due.map(([key]) => key);
  }

  pending(): IterableIterator<[number, { deadline: number; cursorTimeAtSchedule: number }]> {
    return this.#keys.entries();
  }

  deadlineOf(key: number): number | undefined {
    return this.#keys.get(key)?.deadline;
  }
}
// #endregion reference-model

type Op =
  | { readonly kind: 'schedule'; readonly key: number; readonly offset: number }
  | { readonly kind: 'cancel'; readonly key: number }
  | { readonly kind: 'advance'; readonly delta: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('schedule' as const), key: fc.nat(12), offset: fc.integer({ min: -60, max: 2_500 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const), key: fc.nat(12) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      delta: fc.oneof(fc.integer({ min: -30, max: 40 }), fc.integer({ min: 0, max: 600 }), fc.integer({ min: 0, max: 6_000 })),
    }),
  },
);

describe('TimingWheel', () => {
  // #region property
  it('expires exactly what the naive model expires, in the same order, never early and at most one tick late', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 25 }),
        fc.integer({ min: 1, max: 16 }),
        fc.integer({ min: -1_000, max: 1_000 }),
        fc.array(opArb, { maxLength: 120 }),
        (tickMs, slots, startMs, ops) => {
          const wheel = new TimingWheel<number>({ tickMs, slots, startMs });
          const model = new NaiveTimers(tickMs, startMs);
          let now = startMs;
          for (const op of ops) {
            if (op.kind === 'schedule') {
              wheel.schedule(op.key, now + op.offset);
              model.schedule(op.key, now + op.offset);
            } else if (op.kind === 'cancel') {
              expect(wheel.cancel(op.key)).toBe(model.cancel(op.key));
            } else {
              now += op.delta;
              const deadlines = new Map([...model.pending()].map(([key, t]) => [key, t.deadline]));
              const got = wheel.advance(now);
              expect(got).toEqual(model.advance(now));
              // Never early: every expired deadline has been reached.
              for (const key of got) expect(deadlines.get(key)).toBeLessThanOrEqual(now);
              // At most one tick late: nothing is still waiting a full tick past its deadline
              // (or past the wheel's time when it was scheduled, for deadlines already gone).
              for (const [, t] of model.pending()) expect(now).toBeLessThan(Math.max(t.deadline, t.cursorTimeAtSchedule) + tickMs);
            }
            expect(wheel.size).toBe([...model.pending()].length);
          }
        },
      ),
      { seed: SEED, numRuns: 400 },
    );
  });
  // #endregion property

  it('moves a deadline when the key is scheduled again (activity resets the idle timer)', () => {
    const wheel = new TimingWheel<string>({ tickMs: 10, slots: 8 });
    wheel.schedule('conn-1', 50);
    wheel.schedule('conn-1', 120);
    expect(wheel.size).toBe(1);
    expect(wheel.advance(60)).toEqual([]);
    expect(wheel.advance(119)).toEqual([]);
    expect(wheel.advance(120)).toEqual(['conn-1']);
    expect(wheel.size).toBe(0);
  });

  it('keeps a deadline several revolutions away until its own tick comes round', () => {
    const wheel = new TimingWheel<string>({ tickMs: 10, slots: 4 }); // one revolution = 40 ms
    wheel.schedule('far', 1_000);
    wheel.schedule('near', 20);
    const fired: [number, string][] = [];
    for (let t = 0; t <= 1_000; t += 10) for (const key of wheel.advance(t)) fired.push([t, key]);
    expect(fired).toEqual([[20, 'near'], [1_000, 'far']]);
  });

  it('fires a deadline that is already past on the next tick, not at once and not never', () => {
    const wheel = new TimingWheel<string>({ tickMs: 10, slots: 8 });
    expect(wheel.advance(100)).toEqual([]);
    wheel.schedule('late', 35);
    expect(wheel.advance(105)).toEqual([]);
    expect(wheel.advance(110)).toEqual(['late']);
  });

  it('returns keys in deadline order after a jump longer than a revolution', () => {
    const wheel = new TimingWheel<string>({ tickMs: 1, slots: 8 });
    for (const [key, deadline] of [['c', 30], ['a', 3], ['d', 30], ['b', 17], ['e', 500]] as const) wheel.schedule(key, deadline);
    expect(wheel.advance(100)).toEqual(['a', 'b', 'c', 'd']);
    expect(wheel.has('e')).toBe(true);
  });

  it('ignores a clock that steps backwards', () => {
    const wheel = new TimingWheel<string>({ tickMs: 10, slots: 8 });
    wheel.schedule('k', 30);
    expect(wheel.advance(20)).toEqual([]);
    expect(wheel.advance(-500)).toEqual([]);
    expect(wheel.nowMs).toBe(20);
    expect(wheel.advance(30)).toEqual(['k']);
  });

  it('cancels, reports deadlines and clears', () => {
    const wheel = new TimingWheel<object>({ tickMs: 5, slots: 3, startMs: 1_000 });
    const a = {};
    const b = {};
    wheel.schedule(a, 1_010);
    wheel.schedule(b, 1_010);
    expect(wheel.deadlineOf(a)).toBe(1_010);
    expect(wheel.cancel(a)).toBe(true);
    expect(wheel.cancel(a)).toBe(false);
    expect(wheel.advance(1_010)).toEqual([b]);
    wheel.schedule(a, 2_000);
    wheel.clear();
    expect(wheel.size).toBe(0);
    expect(wheel.advance(5_000)).toEqual([]);
  });

  // #region no-full-scan
  it('looks only at the current slot on a tick, not at every scheduled key', () => {
    const slots = 512;
    const wheel = new TimingWheel<number>({ tickMs: 10, slots });
    // 10 000 connections with idle deadlines spread over ten revolutions (51.2 s).
    for (let key = 0; key < 10_000; key += 1) wheel.schedule(key, 1_000 + ((key * 7_919) % 51_200));
    const perTick: number[] = [];
    for (let t = 10; t <= 990; t += 10) {
      const before = wheel.examined;
      expect(wheel.advance(t)).toEqual([]);
      perTick.push(wheel.examined - before);
    }
    // A full scan would examine 10 000 keys per tick; the wheel examines one slot's share.
    expect(Math.max(...perTick)).toBeLessThanOrEqual(40);
    expect(perTick.reduce((a, b) => a + b, 0) / perTick.length).toBeLessThan(10_000 / slots + 5);
  });
  // #endregion no-full-scan

  it('refuses a tick or slot count that is not a positive whole number, and a deadline that is not finite', () => {
    expect(() => new TimingWheel({ tickMs: 0, slots: 8 })).toThrow(RangeError);
    expect(() => new TimingWheel({ tickMs: 1.5, slots: 8 })).toThrow(RangeError);
    expect(() => new TimingWheel({ tickMs: 10, slots: 0 })).toThrow(RangeError);
    expect(() => new TimingWheel({ tickMs: 10, slots: 8 }).schedule('k', Number.NaN)).toThrow(RangeError);
  });
});
