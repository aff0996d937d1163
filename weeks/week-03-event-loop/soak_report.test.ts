/**
 * Unit and property tests of the soak report: the log-bucket latency histogram, the
 * interval summary, the verdict against the error-rate cap, and the SVG chart.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderSoakSvg, niceCeiling } from './soak_chart.ts';
import { LatencyHistogram, closeInterval, judgeSoak, type SoakInterval } from './soak_report.ts';

describe('LatencyHistogram', () => {
  it('reads every percentile back within 1 % of the exact one, never above the maximum (property)', () => {
    const samples = fc.array(fc.double({ min: 0.001, max: 5000, noNaN: true }), { minLength: 1, maxLength: 300 });
    fc.assert(fc.property(samples, fc.integer({ min: 1, max: 100 }), (values, p) => {
      const h = new LatencyHistogram();
      for (const v of values) h.record(v);
      const sorted = [...values].sort((a, b) => a - b);
      const exact = sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] as number;
      const read = h.percentile(p) as number;
      expect(read).toBeLessThanOrEqual(h.max);
      expect(Math.abs(read - exact) / exact).toBeLessThanOrEqual(0.0101);
    }), { seed: 0x3_5, numRuns: 300 });
  });

  it('merges, counts, and refuses negative or non-finite samples', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    a.record(1);
    b.record(3);
    a.merge(b);
    expect([a.count, a.max, a.mean]).toEqual([2, 3, 2]);
    expect(new LatencyHistogram().percentile(50)).toBeUndefined();
    expect(() => a.record(-1)).toThrow(RangeError);
    expect(() => a.record(Number.NaN)).toThrow(RangeError);
    expect(() => a.percentile(101)).toThrow(RangeError);
  });
});

/** An interval with `ok` replies of 1 ms and `errors` timeouts. */
function interval(startS: number, ok: number, errors: number): SoakInterval {
  const h = new LatencyHistogram();
  for (let i = 0; i < ok; i += 1) h.record(1);
  return closeInterval({ startS, endS: startS + 1 }, h, errors === 0 ? {} : { E_NET_TIMEOUT: errors });
}

describe('judgeSoak', () => {
  it('passes a clean run and reports its totals', () => {
    expect(judgeSoak([interval(0, 2000, 0), interval(1, 2000, 1)])).toEqual({ pass: true, ok: 4000, errors: 1, errorRate: 1 / 4001, problems: [] });
  });

  it('fails a run over the cap, a busy interval over the cap, and an interval that answered nothing', () => {
    const verdict = judgeSoak([interval(0, 2000, 0), interval(1, 1000, 50), interval(2, 0, 0), interval(3, 10, 1)]);
    expect(verdict.pass).toBe(false);
    expect(verdict.problems).toEqual([
      'error rate 1.666 % is over the cap of 0.100 %',
      'error rate 4.762 % in 1-2 s is over the cap',
      'no request was answered in 2-3 s',
    ]); // the 10-request interval with 1 error is judged on the total only
  });

  it('fails an empty run', () => {
    expect(judgeSoak([]).problems).toEqual(['no interval was recorded']);
  });
});

describe('renderSoakSvg', () => {
  it('draws both panels with escaped text, and a gap where an interval has no latency', () => {
    const intervals = [interval(0, 100, 0), interval(1, 0, 0), interval(2, 100, 0)].map((i) => ({
      ...i, server: { connections: 5, rssBytes: 50 * 2 ** 20, heapUsedBytes: 1, loopDelayP99Ms: 1.5, loopDelayMaxMs: 2 },
    }));
    const svg = renderSoakSvg(intervals, { title: 'soak <5 clients> & "friends"', errorRateCap: 0.001 });
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="880"/);
    expect(svg).toContain('soak &lt;5 clients&gt; &amp; &quot;friends&quot;');
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('<circle'); // p50 before and after the empty interval: two one-point runs
    expect(svg).toContain('What the server measured');
  });

  it('adds a throughput panel on request, in requests per second of each interval', () => {
    const intervals = [interval(0, 100, 0), interval(1, 40, 10)];
    const plain = renderSoakSvg(intervals, { title: 't', errorRateCap: 0.01 });
    const withThroughput = renderSoakSvg(intervals, { title: 't', errorRateCap: 0.01, throughput: true });
    expect(plain).not.toContain('Throughput');
    expect(withThroughput).toContain('Throughput');
    const heightOf = (svg: string) => Number(/height="(\d+)"/.exec(svg)?.[1]);
    expect(heightOf(withThroughput) - heightOf(plain)).toBe(210 + 70);
  });

  it('picks nice axis tops', () => {
    expect([0.7, 1, 1.2, 3, 7, 42, 0].map(niceCeiling)).toEqual([1, 1, 2, 5, 10, 50, 1]);
  });
});
