/**
 * The overload ladder's properties: immediate escalation, one step down at a time,
 * hysteresis, no flapping, a bounded queue, and the same trace for the same samples.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  LADDER_LEVELS, OVERLOAD_THRESHOLDS, admissionFor, checkThresholds, initialLadder, ladderStep, predictBurst,
  type LadderState, type LoadSample, type Priority,
} from './ladder.ts';

const T = OVERLOAD_THRESHOLDS;
const rank = (level: string) => LADDER_LEVELS.indexOf(level as (typeof LADDER_LEVELS)[number]);

/** Samples in time order: depth 0-48, wait 0-1500 ms, 0-300 ms apart. */
const samples = fc.array(fc.record({ gap: fc.integer({ min: 0, max: 300 }), depth: fc.integer({ min: 0, max: 48 }), oldestWaitMs: fc.integer({ min: 0, max: 1500 }) }), { maxLength: 200 })
  .map((steps) => {
    let nowMs = 0;
    return steps.map((s): LoadSample => ({ nowMs: (nowMs += s.gap), depth: s.depth, oldestWaitMs: s.oldestWaitMs }));
  });

function trace(input: readonly LoadSample[]): LadderState[] {
  let state = initialLadder(0);
  return input.map((sample) => (state = ladderStep(state, sample).state));
}

describe('the overload ladder', () => {
  it('accepts its own threshold table and refuses tables whose exit lines are not below their enter lines', () => {
    expect(() => checkThresholds(T)).not.toThrow();
    expect(() => checkThresholds({ ...T, shed: { ...T.shed, exitDepth: T.shed.enterDepth } })).toThrow(/shed\.exitDepth/);
    expect(() => checkThresholds({ ...T, reject: { ...T.reject, enterDepth: T.shed.enterDepth } })).toThrow(/reject\.enterDepth/);
  });

  it('climbs at once to the highest level whose enter line a sample reaches, skipping levels if need be', () => {
    fc.assert(fc.property(samples, (input) => {
      let state = initialLadder(0);
      for (const sample of input) {
        state = ladderStep(state, sample).state;
        if (sample.depth >= T.reject.enterDepth || sample.oldestWaitMs >= T.reject.enterWaitMs) expect(state.level).toBe('reject');
        else if (sample.depth >= T.shed.enterDepth || sample.oldestWaitMs >= T.shed.enterWaitMs) expect(rank(state.level)).toBeGreaterThanOrEqual(rank('shed'));
      }
    }));
  });

  it('steps down one level at a time, only below the exit lines and only after holdMs at the level', () => {
    fc.assert(fc.property(samples, (input) => {
      let state = initialLadder(0);
      for (const sample of input) {
        const step = ladderStep(state, sample);
        if (step.change !== undefined && step.change.cause === 'recovered') {
          expect(rank(step.change.from) - rank(step.change.to)).toBe(1);
          const lines = T[step.change.from as 'shed' | 'reject'];
          expect(sample.depth).toBeLessThanOrEqual(lines.exitDepth);
          expect(sample.oldestWaitMs).toBeLessThanOrEqual(lines.exitWaitMs);
          expect(sample.nowMs - state.sinceMs).toBeGreaterThanOrEqual(T.holdMs);
        }
        state = step.state;
      }
    }));
  });

  it('does not flap: a queue hovering between the exit and enter lines keeps whatever level it had', () => {
    const hovering = fc.array(fc.record({ depth: fc.integer({ min: T.shed.exitDepth + 1, max: T.shed.enterDepth - 1 }), wait: fc.integer({ min: 0, max: T.shed.enterWaitMs - 1 }) }), { minLength: 1, maxLength: 100 });
    fc.assert(fc.property(fc.constantFrom('normal', 'shed') as fc.Arbitrary<'normal' | 'shed'>, hovering, (start, input) => {
      let state: LadderState = { level: start, sinceMs: 0 };
      input.forEach((s, i) => {
        state = ladderStep(state, { nowMs: (i + 1) * 1000, depth: s.depth, oldestWaitMs: s.wait }).state;
        expect(state.level).toBe(start);
      });
    }));
  });

  it('is deterministic: the same samples give the same trace', () => {
    fc.assert(fc.property(samples, (input) => {
      expect(trace(input)).toEqual(trace(input));
    }));
  });

  it('admits everything at normal, only high priority at shed, nothing at reject, with the table\'s retry hints', () => {
    expect(admissionFor('normal', 'low')).toEqual({ verdict: 'admit' });
    expect(admissionFor('shed', 'high')).toEqual({ verdict: 'admit' });
    expect(admissionFor('shed', 'low')).toEqual({ verdict: 'refuse', errorCode: 'E_SHED_LOW_PRIORITY', retryAfterMs: T.shed.retryAfterMs });
    expect(admissionFor('reject', 'high')).toEqual({ verdict: 'refuse', errorCode: 'E_OVERLOADED', retryAfterMs: T.reject.retryAfterMs });
  });

  it('keeps the waiting queue at or below reject.enterDepth whatever the arrivals, priorities and completions', () => {
    const events = fc.array(fc.oneof(fc.constantFrom<Priority>('high', 'low'), fc.constant('finish' as const)), { maxLength: 400 });
    fc.assert(fc.property(events, (input) => {
      let state = initialLadder(0);
      let depth = 0;
      input.forEach((event, i) => {
        if (event === 'finish') {
          depth = Math.max(0, depth - 1);
          return;
        }
        state = ladderStep(state, { nowMs: i, depth, oldestWaitMs: 0 }).state;
        if (admissionFor(state.level, event).verdict === 'admit') depth += 1;
        expect(depth).toBeLessThanOrEqual(T.reject.enterDepth);
      });
    }));
  });

  it('predicts a burst of 60 alternating priorities on 2 workers: the shed and reject lines fall where the table puts them', () => {
    const burst = predictBurst(Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? 'high' : 'low')), 2);
    expect(burst.find((b) => b.level === 'shed')).toMatchObject({ index: 19, depth: T.shed.enterDepth });
    expect(burst.find((b) => b.outcome === 'E_SHED_LOW_PRIORITY')).toMatchObject({ index: 20, level: 'shed' });
    const firstReject = burst.findIndex((b) => b.level === 'reject');
    expect(burst[firstReject]).toMatchObject({ depth: T.reject.enterDepth, outcome: 'E_OVERLOADED' });
    expect(burst.slice(firstReject).every((b) => b.outcome === 'E_OVERLOADED')).toBe(true);
    expect(burst.filter((b) => b.outcome === 'admit')).toHaveLength(2 + T.reject.enterDepth);
  });
});
