import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { iqr, median, percentile, ratioOf, relativeSpread, summarize, targetMet } from './stats.ts';

const samplesArb = fc.array(fc.double({ min: -1e9, max: 1e9, noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 40 });

describe('median', () => {
  it('returns the middle sample of an odd count, in any order', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([7])).toBe(7);
  });

  it('returns the mean of the two middle samples of an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([10, 20])).toBe(15);
  });

  it('does not reorder its argument', () => {
    const xs = [3, 1, 2];
    median(xs);
    expect(xs).toEqual([3, 1, 2]);
  });

  it('throws a RangeError for no samples or a non-finite sample', () => {
    expect(() => median([])).toThrow(RangeError);
    expect(() => median([1, Number.NaN])).toThrow(RangeError);
    expect(() => median([Infinity])).toThrow(RangeError);
  });

  it('lies between the minimum and the maximum and ignores order', () => {
    fc.assert(fc.property(samplesArb, (xs) => {
      const m = median(xs);
      expect(m).toBeGreaterThanOrEqual(Math.min(...xs));
      expect(m).toBeLessThanOrEqual(Math.max(...xs));
      expect(median(xs.slice().reverse())).toBe(m);
    }));
  });
});

describe('percentile (nearest rank)', () => {
  // The worked example of the nearest-rank method: 5 samples, ranks ceil(p/100 × 5).
  const xs = [15, 20, 35, 40, 50];

  it.each([
    [0, 15], [5, 15], [20, 15], [30, 20], [40, 20], [50, 35], [75, 40], [80, 40], [81, 50], [100, 50],
  ])('gives the sample at rank ceil(p/100 × n) for p = %d', (p, want) => {
    expect(percentile(xs, p)).toBe(want);
  });

  it('returns one of the samples, never an interpolation', () => {
    fc.assert(fc.property(samplesArb, fc.double({ min: 0, max: 100, noNaN: true }), (ys, p) => {
      expect(ys).toContain(percentile(ys, p));
    }));
  });

  it('never decreases as p grows', () => {
    fc.assert(fc.property(samplesArb, fc.double({ min: 0, max: 100, noNaN: true }), fc.double({ min: 0, max: 100, noNaN: true }), (ys, a, b) => {
      const [lo, hi] = a <= b ? [a, b] : [b, a];
      expect(percentile(ys, lo)).toBeLessThanOrEqual(percentile(ys, hi));
    }));
  });

  it('gives the minimum at 0 and the maximum at 100', () => {
    fc.assert(fc.property(samplesArb, (ys) => {
      expect(percentile(ys, 0)).toBe(Math.min(...ys));
      expect(percentile(ys, 100)).toBe(Math.max(...ys));
    }));
  });

  it('throws a RangeError for p outside 0-100 or no samples', () => {
    expect(() => percentile(xs, -1)).toThrow(RangeError);
    expect(() => percentile(xs, 100.5)).toThrow(RangeError);
    expect(() => percentile(xs, Number.NaN)).toThrow(RangeError);
    expect(() => percentile([], 50)).toThrow(RangeError);
  });
});

describe('summarize', () => {
  it('reports count, median, extremes and nearest-rank quartiles', () => {
    const s = summarize([9, 1, 8, 2, 7, 3, 6, 4, 5]);
    expect(s).toEqual({ n: 9, median: 5, min: 1, max: 9, q1: 3, q3: 7 });
    expect(iqr(s)).toBe(4);
    expect(relativeSpread(s)).toBeCloseTo(8 / 5);
  });

  it('collapses to the one sample when there is only one', () => {
    const s = summarize([42]);
    expect(s).toEqual({ n: 1, median: 42, min: 42, max: 42, q1: 42, q3: 42 });
    expect(iqr(s)).toBe(0);
    expect(relativeSpread(s)).toBe(0);
  });

  it('keeps min ≤ q1 ≤ median ≤ q3 ≤ max', () => {
    fc.assert(fc.property(samplesArb, (ys) => {
      const s = summarize(ys);
      expect(s.min).toBeLessThanOrEqual(s.q1);
      expect(s.q1).toBeLessThanOrEqual(s.median);
      expect(s.median).toBeLessThanOrEqual(s.q3);
      expect(s.q3).toBeLessThanOrEqual(s.max);
    }));
  });
});

describe('ratio and targets', () => {
  it('divides subject by peer and refuses a peer that is zero, negative or not finite', () => {
    expect(ratioOf(412, 520)).toBeCloseTo(0.7923, 4);
    expect(() => ratioOf(1, 0)).toThrow(RangeError);
    expect(() => ratioOf(1, -2)).toThrow(RangeError);
    expect(() => ratioOf(1, Infinity)).toThrow(RangeError);
  });

  it('meets an atLeast target at or above the bound, inclusive', () => {
    expect(targetMet(0.8, { atLeast: 0.8 })).toBe(true);
    expect(targetMet(0.81, { atLeast: 0.8 })).toBe(true);
    expect(targetMet(0.7999, { atLeast: 0.8 })).toBe(false);
  });

  it('meets an atMost target at or below the bound, inclusive', () => {
    expect(targetMet(4, { atMost: 4 })).toBe(true);
    expect(targetMet(3.2, { atMost: 4 })).toBe(true);
    expect(targetMet(4.01, { atMost: 4 })).toBe(false);
  });
});
