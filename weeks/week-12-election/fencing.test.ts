/**
 * The term fence: it admits the current and newer terms, refuses older ones with the
 * definite `E_FENCED_STALE_TERM`, never lowers itself, and (negative control) an
 * unfenced side effect lets a deposed leader act twice.
 * @module
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCivicError } from '../../lib/errors.ts';
import { thrownCode } from '../../lib/testing.ts';
import { TermFence } from './fencing.ts';

describe('TermFence', () => {
  it('admits the current term and a newer one, then refuses the older term with E_FENCED_STALE_TERM', () => {
    const fence = new TermFence();
    fence.check(3, 'answer from n1');
    fence.check(3, 'answer from n1');
    fence.check(4, 'answer from n2');
    expect(fence.highest).toBe(4);
    expect(thrownCode(() => fence.check(3, 'answer from n1'))).toBe('E_FENCED_STALE_TERM');
    expect(fence.highest).toBe(4);
  });

  it('marks a fenced request as definite: nothing was done on its behalf', () => {
    const fence = new TermFence(5);
    let error: unknown;
    try {
      fence.check(2);
    } catch (caught) {
      error = caught;
    }
    expect(isCivicError(error) && error.definite).toBe(true);
  });

  it('raises on observe, never lowers, and verify changes nothing', () => {
    const fence = new TermFence(2);
    fence.observe(7);
    fence.observe(1);
    expect(fence.highest).toBe(7);
    expect(fence.verify(6)).toBe(false);
    expect(fence.verify(9)).toBe(true);
    expect(fence.highest).toBe(7);
  });

  it('admits exactly the terms at or above the running maximum, over any sequence', () => {
    fc.assert(fc.property(fc.array(fc.nat({ max: 20 }), { maxLength: 50 }), (terms) => {
      const fence = new TermFence();
      let max = 0;
      for (const term of terms) {
        const admitted = thrownCode(() => fence.check(term)) === undefined;
        expect(admitted).toBe(term >= max);
        max = Math.max(max, term);
        expect(fence.highest).toBe(max);
      }
    }));
  });

  it('throws RangeError for a term that is not a non-negative integer', () => {
    expect(() => new TermFence(-1)).toThrow(RangeError);
    expect(() => new TermFence().check(1.5)).toThrow(RangeError);
  });

  it('negative control: without the fence a deposed leader performs its side effect after the new one', () => {
    // Two leaders race to write one file: n1 (term 3) was deposed by n2 (term 4) but does not know it yet.
    const attempts = [{ by: 'n2', term: 4 }, { by: 'n1', term: 3 }];
    const run = (fence: TermFence | null): string[] => {
      const written: string[] = [];
      for (const { by, term } of attempts) {
        if (fence !== null && !fence.verify(term)) continue;
        fence?.check(term);
        written.push(by);
      }
      return written;
    };
    expect(run(null)).toEqual(['n2', 'n1']); // the stale write lands last and wins
    expect(run(new TermFence())).toEqual(['n2']);
  });
});
