/**
 * The runner's printed forms: criterion lines, the map of all weeks, the closing
 * count line and the `--json` document.
 * @module
 */
import { describe, expect, it } from 'vitest';
import { formatCriterion, formatMap, formatRun, formatWeek, toJson } from './format.ts';
import { gateRow, GATE_TABLE } from './table.ts';
import { judgeWeek, summarizeRun, type WeekVerdict } from './verdict.ts';

const GATE = '/repo/weeks/week-01-cli-logger/gate.test.ts';
const PATH = 'weeks/week-01-cli-logger/gate.test.ts';

/** Week 1 with two passing tests for [1.3] and nothing else. */
const WEEK_1: WeekVerdict = judgeWeek(gateRow(1), {
  gateFile: GATE,
  gatePath: PATH,
  outcome: {
    files: [
      {
        file: GATE,
        message: '',
        tests: [
          { title: '[1.3] a', fullName: 'a', status: 'passed' },
          { title: '[1.3] b', fullName: 'b', status: 'passed' },
        ],
      },
    ],
  },
});

/** Every week after the first, not built. */
const UNBUILT = GATE_TABLE.slice(1).map((row) =>
  judgeWeek(row, { gateFile: undefined, gatePath: `weeks/week-${row.week}-x/gate.test.ts`, outcome: { files: [] } }),
);

describe('formatCriterion', () => {
  it('prints PASS with the test count, or FAIL with the reason', () => {
    const [first, , third] = WEEK_1.criteria;
    expect(formatCriterion(third!)).toBe(
      'PASS [1.3] Records appended by several processes at once are never interleaved or torn (2 tests)',
    );
    expect(formatCriterion(first!)).toMatch(/^FAIL \[1\.1\] Every row .* — no test ran$/);
  });
});

describe('formatWeek', () => {
  it('prints the row before the criteria, and the week verdict last', () => {
    const lines = formatWeek(WEEK_1);
    expect(lines[0]).toBe('week 1 · CLI contract and append-only logger (arc 1 · Foundations)');
    expect(lines.slice(1, 5).map((line) => line.trim().split(/\s{2,}/)[0])).toEqual([
      'must show',
      'failure drill',
      'pass if',
      'gate',
    ]);
    expect(lines.at(-1)).toBe('week 1: FAIL (1/7 criteria)');
  });
});

describe('formatMap', () => {
  it('lists all 24 weeks under their 6 arcs, unbuilt weeks as "not built"', () => {
    const lines = formatMap([WEEK_1, ...UNBUILT]);
    expect(lines.filter((line) => line.startsWith('Arc '))).toHaveLength(6);
    expect(lines.filter((line) => line.startsWith('  week '))).toHaveLength(24);
    expect(lines[1]).toMatch(/^ {2}week {2}1 {2}FAIL/);
    expect(lines[2]).toMatch(/^ {2}week {2}2 {2}not built/);
  });
});

describe('formatRun', () => {
  it('ends with the plain count line', () => {
    const text = formatRun(summarizeRun('week', [WEEK_1]));
    expect(text.trimEnd().split('\n').at(-1)).toBe('1 passed, 6 failed');
  });

  it('in all mode, prints only built weeks in full, then the map and how many weeks are built', () => {
    const text = formatRun(summarizeRun('all', [WEEK_1, ...UNBUILT]));
    expect(text).not.toContain('week 2 · ');
    expect(text).toContain('1 of 24 weeks built, 0 passing');
    expect(text.trimEnd().split('\n').at(-1)).toBe('1 passed, 6 failed');
  });
});

describe('toJson', () => {
  it('marks unbuilt weeks of an all run as not judged and without a gate file', () => {
    const json = toJson(summarizeRun('all', [WEEK_1, ...UNBUILT]), { ranFiles: [PATH], reportError: undefined });
    expect(json).toMatchObject({ mode: 'all', verdict: 'fail', passed: 1, failed: 6, ranFiles: [PATH], reportError: null });
    expect(json.weeks[0]).toMatchObject({ week: 1, status: 'fail', judged: true, gateFile: PATH });
    expect(json.weeks[1]).toMatchObject({ week: 2, status: 'not built', judged: false, gateFile: null });
  });
});
