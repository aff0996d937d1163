/**
 * The mapping from a vitest report to criterion verdicts: the rules that keep a gate
 * from passing on tests that did not run, and from hiding tests behind a bad id.
 * @module
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gateRow } from './table.ts';
import {
  criterionIds,
  judgeWeek,
  parseVitestReport,
  summarizeRun,
  type ReportedTest,
  type TestStatus,
  type WeekVerdict,
} from './verdict.ts';

const GATE = '/repo/weeks/week-01-cli-logger/gate.test.ts';
const PATH = 'weeks/week-01-cli-logger/gate.test.ts';

/** A reported test; the full name is the title under a describe block. */
function test(title: string, status: TestStatus = 'passed'): ReportedTest {
  return { title, fullName: `week-1 ${title}`, status };
}

/** Judges week 1 against one gate file holding `tests`. */
function judgeWeek1(tests: readonly ReportedTest[], message = ''): WeekVerdict {
  return judgeWeek(gateRow(1), { gateFile: GATE, gatePath: PATH, outcome: { files: [{ file: GATE, message, tests }] } });
}

/** The verdict and reason of one criterion of a judged week. */
function criterion(week: WeekVerdict, id: string): { verdict: string; reason: string } {
  const found = week.criteria.find((candidate) => candidate.id === id);
  return { verdict: found?.verdict ?? 'missing', reason: found?.reason ?? '' };
}

/** One passing test for each of week 1's criteria. */
const ALL_OF_WEEK_1 = gateRow(1).criteria.map((c) => test(`[${c.id}] holds`));

describe('criterionIds', () => {
  it.each([
    ['[1.3] records are never torn', ['1.3']],
    ['[1.1][1.5] a bad flag exits 2', ['1.1', '1.5']],
    ['  [10.2] [10.3] spaced ids', ['10.2', '10.3']],
    ['[1.1][1.1] repeated id', ['1.1']],
    ['records [1.3] mid-title', []],
    ['[1,3] comma typo', []],
    ['no id at all', []],
  ])('reads %j as %j', (title, ids) => {
    expect(criterionIds(title)).toEqual(ids);
  });
});

describe('judgeWeek', () => {
  it('passes a week whose every criterion has a passing test', () => {
    const week = judgeWeek1(ALL_OF_WEEK_1);
    expect(week.status).toBe('pass');
    expect(criterion(week, '1.3')).toEqual({ verdict: 'pass', reason: '1 test' });
  });

  it('fails a criterion no test ran, with reason "no test ran"', () => {
    const week = judgeWeek1(ALL_OF_WEEK_1.filter((t) => !t.title.startsWith('[1.4]')));
    expect(criterion(week, '1.4')).toEqual({ verdict: 'fail', reason: 'no test ran' });
    expect(week.status).toBe('fail');
  });

  it('does not count skipped or todo tests as run', () => {
    const week = judgeWeek1([test('[1.2] drill', 'skipped'), test('[1.2] drill again', 'todo')]);
    expect(criterion(week, '1.2')).toEqual({ verdict: 'fail', reason: 'no test ran (2 tests skipped)' });
  });

  it('fails a criterion when any executed test with its id failed', () => {
    const week = judgeWeek1([test('[1.5] one'), test('[1.5] two', 'failed'), test('[1.5] three', 'skipped')]);
    expect(criterion(week, '1.5')).toEqual({ verdict: 'fail', reason: '1 of 2 tests failed' });
  });

  it('counts a test carrying several ids toward each of them', () => {
    const week = judgeWeek1([test('[1.1][1.5] a bad flag exits 2 with E_USAGE')]);
    expect(criterion(week, '1.1').verdict).toBe('pass');
    expect(criterion(week, '1.5').verdict).toBe('pass');
    expect(week.criteria.find((c) => c.id === '1.1')?.tests).toHaveLength(1);
  });

  it('flags an id that is not in the table and fails the week even if every criterion passes', () => {
    const week = judgeWeek1([...ALL_OF_WEEK_1, test('[1.8] typo of 1.3', 'failed')]);
    expect(week.criteria.every((c) => c.verdict === 'pass')).toBe(true);
    expect(week.status).toBe('fail');
    expect(week.problems).toEqual([expect.stringContaining('carries [1.8], which is not in the gate table')]);
  });

  it('flags an id that belongs to another week', () => {
    const week = judgeWeek1([...ALL_OF_WEEK_1, test('[2.1] wrong file')]);
    expect(week.problems).toEqual([expect.stringContaining('a week 2 criterion, in the week 1 gate')]);
  });

  it('flags a test without any id, so a failing untagged test cannot hide', () => {
    const week = judgeWeek1([...ALL_OF_WEEK_1, test('1.3 forgot the brackets', 'failed')]);
    expect(week.status).toBe('fail');
    expect(week.problems).toEqual([expect.stringContaining('has no [1.n] prefix')]);
  });

  it('accepts a passing test without an id as support (a unit test the gate imports)', () => {
    const week = judgeWeek1([...ALL_OF_WEEK_1, test('parses an empty body')]);
    expect([week.status, week.problems]).toEqual(['pass', []]);
  });

  it('flags a passing test whose title starts like an id but is not one', () => {
    const week = judgeWeek1([...ALL_OF_WEEK_1, test('[1,3] a typo hides this test')]);
    expect(week.status).toBe('fail');
    expect(week.problems).toEqual([expect.stringContaining('has no [1.n] prefix')]);
  });

  it('flags an error raised outside any test', () => {
    const week = judgeWeek1(ALL_OF_WEEK_1, '\nError: afterAll hook threw\n    at gate.test.ts:9');
    expect(week.problems).toEqual(['Fix the gate file: it failed outside any test: Error: afterAll hook threw']);
  });

  it('fails every criterion when there is no usable report', () => {
    const week = judgeWeek(gateRow(1), { gateFile: GATE, gatePath: PATH, outcome: { error: 'vitest wrote no report' } });
    expect(week.criteria.map((c) => c.reason)).toEqual(Array(7).fill('no usable report: vitest wrote no report'));
    expect(week.status).toBe('fail');
  });

  it('fails every criterion when the report does not list the gate file', () => {
    const outcome = { files: [{ file: '/repo/weeks/week-10-wal-kv/gate.test.ts', message: '', tests: ALL_OF_WEEK_1 }] };
    const week = judgeWeek(gateRow(1), { gateFile: GATE, gatePath: PATH, outcome });
    expect(criterion(week, '1.1')).toEqual({ verdict: 'fail', reason: 'the gate file did not run' });
  });

  it('calls a week without a gate file not built and passes none of its criteria', () => {
    const week = judgeWeek(gateRow(2), { gateFile: undefined, gatePath: 'weeks/week-02-<slug>/gate.test.ts', outcome: { files: [] } });
    expect(week.status).toBe('not built');
    expect(week.criteria.every((c) => c.verdict === 'fail' && c.reason === 'week not built')).toBe(true);
  });

  it('passes a criterion exactly when some test executed and every executed test passed', () => {
    const statuses = fc.constantFrom<TestStatus>('passed', 'failed', 'skipped', 'todo', 'pending', 'disabled');
    fc.assert(
      fc.property(fc.array(statuses, { maxLength: 6 }), (list) => {
        const week = judgeWeek1(list.map((status, i) => test(`[1.6] case ${i}`, status)));
        const executed = list.filter((status) => status === 'passed' || status === 'failed');
        const expected = executed.length > 0 && executed.every((status) => status === 'passed');
        expect(criterion(week, '1.6').verdict).toBe(expected ? 'pass' : 'fail');
      }),
    );
  });
});

describe('summarizeRun', () => {
  const passing = judgeWeek1(ALL_OF_WEEK_1);
  const flagged = judgeWeek1([...ALL_OF_WEEK_1, test('[1.9] unknown')]);
  const unbuilt = judgeWeek(gateRow(2), { gateFile: undefined, gatePath: 'weeks/week-02-<slug>/gate.test.ts', outcome: { files: [] } });

  it('counts criteria, and each problem as one failure', () => {
    expect(summarizeRun('week', [passing])).toMatchObject({ passed: 7, failed: 0, verdict: 'pass' });
    expect(summarizeRun('week', [flagged])).toMatchObject({ passed: 7, failed: 1, verdict: 'fail' });
  });

  it('leaves unbuilt weeks out of the count in all mode, but fails them when asked for by name', () => {
    expect(summarizeRun('all', [passing, unbuilt])).toMatchObject({ passed: 7, failed: 0, verdict: 'pass' });
    expect(summarizeRun('through', [passing, unbuilt])).toMatchObject({ passed: 7, failed: 4, verdict: 'fail' });
  });
});

describe('parseVitestReport', () => {
  it('reads files, their outside-test errors and their tests', () => {
    const report = {
      testResults: [
        {
          name: GATE,
          status: 'passed',
          message: '',
          assertionResults: [{ title: '[1.1] ok', fullName: 'week-1 [1.1] ok', status: 'passed', ancestorTitles: [] }],
        },
      ],
    };
    expect(parseVitestReport(report)).toEqual([
      { file: GATE, message: '', tests: [{ title: '[1.1] ok', fullName: 'week-1 [1.1] ok', status: 'passed' }] },
    ]);
  });

  it.each([
    ['null', null],
    ['an array', []],
    ['no testResults', {}],
    ['a file without a name', { testResults: [{ assertionResults: [] }] }],
    ['a test with an unknown status', {
      testResults: [{ name: GATE, assertionResults: [{ title: 't', fullName: 't', status: 'green' }] }],
    }],
  ])('throws E_GATE_REPORT_INVALID for %s', (_, report) => {
    expect(() => parseVitestReport(report)).toThrow(expect.objectContaining({ code: 'E_GATE_REPORT_INVALID' }));
  });
});
