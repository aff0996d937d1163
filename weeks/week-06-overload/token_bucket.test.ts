/**
 * The egress token bucket: its rate bound over any span, the burst cap, and the wait it
 * announces being exactly enough.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token_bucket.ts';

describe('the egress token bucket', () => {
  it('lets a full burst through at once, then makes the next reply wait for exactly the tokens it lacks', () => {
    const bucket = new TokenBucket({ ratePerSec: 1000, burstBytes: 500 }, 0);
    expect(bucket.take(500, 0)).toBe(0);
    expect(bucket.take(100, 0)).toBe(100); // 100 bytes at 1000 B/s
    expect(bucket.take(100, 99)).toBe(1);
    expect(bucket.take(100, 100)).toBe(0);
  });

  it('never holds more than the burst cap, however long it sits idle', () => {
    const bucket = new TokenBucket({ ratePerSec: 1000, burstBytes: 500 }, 0);
    expect(bucket.tokens(1_000_000)).toBe(500);
  });

  it('sends a reply larger than the burst on a full bucket and makes the following ones wait out the debt', () => {
    const bucket = new TokenBucket({ ratePerSec: 1000, burstBytes: 500 }, 0);
    expect(bucket.take(2000, 0)).toBe(0);
    expect(bucket.tokens(0)).toBe(-1500);
    expect(bucket.take(1, 0)).toBe(1501);
  });

  it('over any span lets through at most burst + rate × span + (largest reply − burst), with replies taken as soon as allowed', () => {
    const plan = fc.record({
      rate: fc.integer({ min: 1, max: 100_000 }),
      burst: fc.integer({ min: 1, max: 10_000 }),
      replies: fc.array(fc.record({ bytes: fc.integer({ min: 1, max: 20_000 }), gap: fc.integer({ min: 0, max: 50 }) }), { minLength: 1, maxLength: 100 }),
    });
    fc.assert(fc.property(plan, ({ rate, burst, replies }) => {
      const bucket = new TokenBucket({ ratePerSec: rate, burstBytes: burst }, 0);
      let nowMs = 0;
      const sent: { atMs: number; bytes: number }[] = [];
      for (const reply of replies) {
        nowMs += reply.gap;
        for (;;) {
          const wait = bucket.take(reply.bytes, nowMs);
          if (wait === 0) break;
          nowMs += wait;
        }
        sent.push({ atMs: nowMs, bytes: reply.bytes });
      }
      const largest = Math.max(...replies.map((r) => r.bytes));
      for (let i = 0; i < sent.length; i += 1) {
        let total = 0;
        for (let j = i; j < sent.length; j += 1) {
          total += (sent[j] as { bytes: number }).bytes;
          const span = (sent[j] as { atMs: number }).atMs - (sent[i] as { atMs: number }).atMs;
          expect(total).toBeLessThanOrEqual(burst + (rate * span) / 1000 + Math.max(0, largest - burst) + 1e-6);
        }
      }
    }));
  });

  it('refuses a zero rate and a burst below one byte', () => {
    expect(() => new TokenBucket({ ratePerSec: 0, burstBytes: 1 }, 0)).toThrow(RangeError);
    expect(() => new TokenBucket({ ratePerSec: 1, burstBytes: 0 }, 0)).toThrow(RangeError);
  });
});
