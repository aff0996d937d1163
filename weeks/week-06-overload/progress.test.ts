/**
 * The minimum-progress rule: when a trickle is caught, when an honest slow frame is
 * not, and that windows are judged by the bytes that arrived in them.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProgressMeter } from './progress.ts';

const RULE = { windowMs: 1000, minBytes: 100 };

describe('the minimum-progress rule', () => {
  it('is idle between frames: silence there is the idle timer\'s business', () => {
    const meter = new ProgressMeter(RULE);
    expect(meter.check(0)).toEqual({ verdict: 'idle' });
    meter.onBytes(50, false, 0); // a whole frame in one chunk
    expect(meter.check(10_000)).toEqual({ verdict: 'idle' });
  });

  it('cuts a sender that delivers fewer than minBytes of an open frame in the first window, at that window\'s end', () => {
    const meter = new ProgressMeter(RULE);
    meter.onBytes(10, true, 0);
    for (let t = 100; t < 1000; t += 100) meter.onBytes(5, true, t);
    expect(meter.check(999)).toEqual({ verdict: 'ok', checkAtMs: 1000 });
    expect(meter.check(1000)).toEqual({ verdict: 'slow', bytes: 55, windowEndMs: 1000 });
  });

  it('keeps a sender that delivers minBytes per window, however long its frame takes', () => {
    const meter = new ProgressMeter(RULE);
    for (let t = 0; t < 60_000; t += 500) meter.onBytes(50, true, t);
    expect(meter.check(60_000)).toMatchObject({ verdict: 'ok' });
  });

  it('judges a window on the bytes that arrived in it, not on bytes that came late', () => {
    const meter = new ProgressMeter(RULE);
    meter.onBytes(200, true, 0);
    meter.onBytes(200, true, 2500); // window 2 (1000-2000) got nothing
    expect(meter.check(2500)).toEqual({ verdict: 'slow', bytes: 0, windowEndMs: 2000 });
  });

  it('for any trickle, the verdict stays ok inside the first window and is slow at its end exactly when fewer than minBytes arrived', () => {
    const trickle = fc.record({ perTick: fc.integer({ min: 0, max: 9 }), tickMs: fc.integer({ min: 1, max: 100 }), startMs: fc.integer({ min: 0, max: 10_000 }) });
    fc.assert(fc.property(trickle, ({ perTick, tickMs, startMs }) => {
      const meter = new ProgressMeter(RULE);
      meter.onBytes(1, true, startMs);
      let t = startMs;
      for (; t + tickMs < startMs + RULE.windowMs; t += tickMs) {
        meter.onBytes(perTick, true, t + tickMs);
        expect(meter.check(t + tickMs).verdict).toBe('ok');
      }
      const delivered = 1 + perTick * Math.floor((RULE.windowMs - 1) / tickMs);
      expect(meter.check(startMs + RULE.windowMs).verdict).toBe(delivered < RULE.minBytes ? 'slow' : 'ok');
    }));
  });

  it('is off with minBytes 0', () => {
    const meter = new ProgressMeter({ windowMs: 10, minBytes: 0 });
    meter.onBytes(1, true, 0);
    expect(meter.check(1_000_000)).toMatchObject({ verdict: 'ok' });
  });
});
