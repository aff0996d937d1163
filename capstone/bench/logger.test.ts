import { describe, expect, it } from 'vitest';
import { EXIT } from '../../lib/errors.ts';
import { parseRecordLine } from '../../lib/logger.ts';
import { runSuite, type Suite } from './harness.ts';
import { LOGGER_SUITE, makeRecords, RECORD_BYTES } from './suites/logger.ts';

const OPTIONS = { short: true, repeats: 1, warmup: 0, seed: 7 } as const;
const quiet = { progress: () => {} };

describe('logger suite inputs', () => {
  it('builds records of exactly 100 encoded bytes that parse back', () => {
    const { records, lines, bytes } = makeRecords(50, 7);
    expect(lines.every((l) => l.length === RECORD_BYTES)).toBe(true);
    expect(bytes.length).toBe(50 * RECORD_BYTES);
    lines.forEach((line, i) => expect(parseRecordLine(line.subarray(0, -1), i + 1)).toEqual(records[i]));
  });

  it('gives the same bytes for the same seed and different bytes for another seed', () => {
    expect(makeRecords(20, 7).bytes).toEqual(makeRecords(20, 7).bytes);
    expect(makeRecords(20, 7).bytes).not.toEqual(makeRecords(20, 8).bytes);
  });
});

describe('logger suite', () => {
  it('measures its three figures in short mode with every check holding', async () => {
    const result = await runSuite(LOGGER_SUITE, OPTIONS, quiet);
    expect(result.error).toBeNull();
    expect(result.figures.map((f) => [f.name, f.relation, f.metric])).toEqual([
      ['append 100 B (no sync)', 'limit', 'throughput'],
      ['append 100 B + sync', 'limit', 'throughput'],
      ['CLI start-up', 'limit', 'latency'],
    ]);
  });

  it('negative control: a writer that skips its appends fails the byte-for-byte check', async () => {
    // Same suite, but the subject's timed body does nothing: it would look infinitely fast.
    const sabotaged: Suite = {
      ...LOGGER_SUITE,
      async figures(ctx) {
        const [first] = await LOGGER_SUITE.figures(ctx);
        const figure = first!;
        return [{
          ...figure,
          subject: {
            label: 'lazy writer',
            async prepare() {
              const trial = await figure.subject.prepare();
              return { run() {}, finish: () => trial.finish?.() };
            },
          },
        }];
      },
    };
    const result = await runSuite(sabotaged, OPTIONS, quiet);
    expect(result.ok).toBe(false);
    expect(result.error?.code).toBe('E_BENCH_CHECK');
    expect(result.error?.message).toContain('LogWriter.append wrote 0 bytes');
    expect(result.exit).toBe(EXIT.integrity);
  });
});
