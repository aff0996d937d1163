/**
 * From a vitest JSON report to gate verdicts, with no I/O.
 *
 * A gate test names the criteria it proves in its title: `[1.3] records appended …`,
 * or `[1.1][1.5] …` for several. A criterion passes only when at least one of its
 * tests executed and every executed one passed; skipped and todo tests do not count,
 * because `vitest run -t zzz` exits 0 with everything skipped. Vitest's exit code is
 * never consulted. A test the table cannot place (no id, an unknown id, another week's
 * id) is a problem that fails its week, so a typo in an id cannot hide a failing test.
 * @module
 */
import { GateError } from './gate_error.ts';
import { GATE_TABLE, type Criterion, type GateRow } from './table.ts';

/** The status vitest's JSON reporter gives a test. */
export type TestStatus = 'passed' | 'failed' | 'skipped' | 'pending' | 'todo' | 'disabled';

/** One test as the report lists it. */
export interface ReportedTest {
  /** The test's own title, where the `[N.k]` ids sit. */
  readonly title: string;
  /** Describe blocks and title joined, for messages. */
  readonly fullName: string;
  /** How the test ended. */
  readonly status: TestStatus;
}

/** One test file as the report lists it. */
export interface ReportedFile {
  /** Absolute path of the test file. */
  readonly file: string;
  /** An error raised outside any test (the file failed to load, a hook threw); `''` if none. */
  readonly message: string;
  /** The file's tests, in order. */
  readonly tests: readonly ReportedTest[];
}

/** What the runner got from vitest: the parsed report, or why there is none. */
export type ReportOutcome =
  | { readonly files: readonly ReportedFile[] }
  | { readonly error: string };

/** `pass` or `fail`; there is no soft verdict. */
export type Verdict = 'pass' | 'fail';

/** The verdict on one criterion, with the tests that decided it. */
export interface CriterionVerdict {
  /** The criterion's id, e.g. `'1.3'`. */
  readonly id: string;
  /** The criterion's claim. */
  readonly text: string;
  /** `pass` iff at least one test executed and all executed tests passed. */
  readonly verdict: Verdict;
  /** Why: `2 tests`, `no test ran`, `1 of 3 tests failed`, `week not built`, … */
  readonly reason: string;
  /** Every test carrying this id, executed or not. */
  readonly tests: readonly ReportedTest[];
}

/** A week's status: `not built` never passes, and never counts as passed. */
export type WeekStatus = Verdict | 'not built';

/** The verdict on one week. */
export interface WeekVerdict {
  /** The week's gate-table row. */
  readonly row: GateRow;
  /** The gate file relative to the root: where it is, or where it belongs when not built. */
  readonly gatePath: string;
  /** `pass` iff every criterion passes and there are no problems. */
  readonly status: WeekStatus;
  /** One verdict per criterion of the row, in table order. */
  readonly criteria: readonly CriterionVerdict[];
  /** Tests the table cannot place and errors outside tests; each one fails the week. */
  readonly problems: readonly string[];
}

/** How the runner was asked to run: one week, weeks 1..N, or every built week. */
export type GateMode = 'week' | 'through' | 'all';

/** The outcome of one runner invocation. */
export interface GateRun {
  /** How the weeks were selected. */
  readonly mode: GateMode;
  /** The verdict on each selected week, in week order. */
  readonly weeks: readonly WeekVerdict[];
  /** Criteria that passed, in the weeks that count. */
  readonly passed: number;
  /** Criteria that failed plus problems, in the weeks that count. */
  readonly failed: number;
  /** `pass` iff nothing failed. */
  readonly verdict: Verdict;
}

const TEST_STATUSES: ReadonlySet<string> = new Set<TestStatus>([
  'passed',
  'failed',
  'skipped',
  'pending',
  'todo',
  'disabled',
]);

/** A run of `[N.k]` ids at the start of a title, with optional spaces between them. */
const ID_PREFIX = /^\s*((?:\[\d+\.\d+\]\s*)+)/;

/**
 * Parses the document vitest's JSON reporter writes (`--reporter=json`).
 * Only the fields the gate needs are read; everything in them is checked, since a
 * report of the wrong shape must fail the gate rather than crash the runner.
 * @param value - the report, already `JSON.parse`d
 * @returns one entry per test file
 * @throws {@link GateError} `E_GATE_REPORT_INVALID` when a needed field is missing or mistyped
 */
export function parseVitestReport(value: unknown): ReportedFile[] {
  const results = field(value, 'testResults', 'report');
  if (!Array.isArray(results)) throw invalid('report.testResults is not an array');
  return results.map((result: unknown, i) => {
    const where = `report.testResults[${i}]`;
    const file = field(result, 'name', where);
    const message = field(result, 'message', where) ?? '';
    const assertions = field(result, 'assertionResults', where);
    if (typeof file !== 'string') throw invalid(`${where}.name is not a string`);
    if (typeof message !== 'string') throw invalid(`${where}.message is not a string`);
    if (!Array.isArray(assertions)) throw invalid(`${where}.assertionResults is not an array`);
    const tests = assertions.map((assertion: unknown, j) => parseTest(assertion, `${where}.assertionResults[${j}]`));
    return { file, message, tests };
  });
}

/**
 * Reads the criterion ids a test title starts with.
 * @param title - a test title such as `'[1.1][1.5] rejects a bad flag'`
 * @returns the ids without brackets, in order and without repeats; `[]` if the title has none
 */
export function criterionIds(title: string): string[] {
  const prefix = ID_PREFIX.exec(title)?.[1] ?? '';
  const ids = [...prefix.matchAll(/\[(\d+\.\d+)\]/g)].map((match) => match[1] ?? '');
  return [...new Set(ids)];
}

/**
 * Judges one week against the report.
 * @param row - the week's gate-table row
 * @param options.gateFile - absolute path of the week's gate file; `undefined` when not built
 * @param options.gatePath - the gate file relative to the root (where it belongs, if missing), for display
 * @param options.outcome - the parsed report, or why there is none
 * @returns the week's verdict; a week that is not built fails every criterion
 */
export function judgeWeek(
  row: GateRow,
  options: { gateFile: string | undefined; gatePath: string; outcome: ReportOutcome },
): WeekVerdict {
  const { gateFile, gatePath, outcome } = options;
  if (gateFile === undefined) {
    return { row, gatePath, status: 'not built', criteria: failAll(row, 'week not built'), problems: [] };
  }
  if ('error' in outcome) {
    return weekVerdict(row, { gatePath, criteria: failAll(row, `no usable report: ${outcome.error}`), problems: [] });
  }
  const file = outcome.files.find((entry) => entry.file === gateFile);
  if (file === undefined) {
    return weekVerdict(row, { gatePath, criteria: failAll(row, 'the gate file did not run'), problems: [] });
  }
  const { byId, problems } = placeTests(row, file.tests);
  if (file.message !== '') {
    problems.push(`Fix the gate file: it failed outside any test: ${firstLine(file.message)}`);
  }
  const criteria = row.criteria.map((criterion) => judgeCriterion(criterion, byId.get(criterion.id) ?? []));
  return weekVerdict(row, { gatePath, criteria, problems });
}

/**
 * Totals the verdicts of a run. In `all` mode a week that is not built is shown but
 * not judged; in the other modes it was asked for by name, so its criteria count as failed.
 * @param mode - how the weeks were selected
 * @param weeks - the week verdicts, in week order
 */
export function summarizeRun(mode: GateMode, weeks: readonly WeekVerdict[]): GateRun {
  let passed = 0;
  let failed = 0;
  for (const week of weeks) {
    if (mode === 'all' && week.status === 'not built') continue;
    for (const criterion of week.criteria) {
      if (criterion.verdict === 'pass') passed += 1;
      else failed += 1;
    }
    failed += week.problems.length;
  }
  return { mode, weeks, passed, failed, verdict: failed === 0 ? 'pass' : 'fail' };
}

/** Sorts a file's tests onto the row's criteria; whatever does not fit becomes a problem. */
function placeTests(
  row: GateRow,
  tests: readonly ReportedTest[],
): { byId: Map<string, ReportedTest[]>; problems: string[] } {
  const byId = new Map<string, ReportedTest[]>(row.criteria.map((criterion) => [criterion.id, []]));
  const problems: string[] = [];
  for (const test of tests) {
    const ids = criterionIds(test.title);
    // A test without an id supports the criteria (a unit test the gate file imports):
    // it proves nothing on its own, but it must not fail. A title that starts like an
    // id but is not one (`[4,3]`, `[4.x]`) is a typo that would hide a test.
    if (ids.length === 0 && (test.status === 'failed' || test.title.trimStart().startsWith('['))) {
      problems.push(`Tag the test with a criterion id: "${test.fullName}" has no [${row.week}.n] prefix${test.status === 'failed' ? ' and failed' : ''}`);
    }
    for (const id of ids) {
      const bucket = byId.get(id);
      if (bucket !== undefined) bucket.push(test);
      else problems.push(misplacedId(row, id, test));
    }
  }
  return { byId, problems };
}

/** Explains why an id found in the week's gate file is not one of the week's criteria. */
function misplacedId(row: GateRow, id: string, test: ReportedTest): string {
  const owner = GATE_TABLE.find((other) => other.criteria.some((criterion) => criterion.id === id));
  if (owner === undefined) {
    return `Fix the criterion id: "${test.fullName}" carries [${id}], which is not in the gate table`;
  }
  return `Move or retag the test: "${test.fullName}" carries [${id}], a week ${owner.week} criterion, in the week ${row.week} gate`;
}

/** Applies the rule: some test executed, and every executed test passed. */
function judgeCriterion(criterion: Criterion, tests: readonly ReportedTest[]): CriterionVerdict {
  const executed = tests.filter((test) => test.status === 'passed' || test.status === 'failed');
  const failures = executed.filter((test) => test.status === 'failed').length;
  const notRun = tests.length - executed.length;
  let verdict: Verdict = 'fail';
  let reason: string;
  if (executed.length === 0) {
    reason = notRun === 0 ? 'no test ran' : `no test ran (${plural(notRun, 'test')} skipped)`;
  } else if (failures > 0) {
    reason = `${failures} of ${plural(executed.length, 'test')} failed`;
  } else {
    verdict = 'pass';
    reason = notRun === 0 ? plural(executed.length, 'test') : `${plural(executed.length, 'test')}, ${notRun} skipped`;
  }
  return { id: criterion.id, text: criterion.text, verdict, reason, tests };
}

/** Fails every criterion of a row for one shared reason. */
function failAll(row: GateRow, reason: string): CriterionVerdict[] {
  return row.criteria.map((criterion) => ({ ...criterion, verdict: 'fail', reason, tests: [] }));
}

/** Assembles a judged week: it passes iff every criterion passes and nothing is out of place. */
function weekVerdict(
  row: GateRow,
  parts: { gatePath: string; criteria: readonly CriterionVerdict[]; problems: readonly string[] },
): WeekVerdict {
  const { gatePath, criteria, problems } = parts;
  const clean = problems.length === 0 && criteria.every((criterion) => criterion.verdict === 'pass');
  return { row, gatePath, status: clean ? 'pass' : 'fail', criteria, problems };
}

/** Parses one entry of `assertionResults`. */
function parseTest(value: unknown, where: string): ReportedTest {
  const title = field(value, 'title', where);
  const fullName = field(value, 'fullName', where);
  const status = field(value, 'status', where);
  if (typeof title !== 'string') throw invalid(`${where}.title is not a string`);
  if (typeof fullName !== 'string') throw invalid(`${where}.fullName is not a string`);
  if (typeof status !== 'string' || !TEST_STATUSES.has(status)) {
    throw invalid(`${where}.status is not a known test status`);
  }
  return { title, fullName, status: status as TestStatus };
}

/** Reads `object[key]`, refusing anything that is not a plain object. */
function field(object: unknown, key: string, where: string): unknown {
  if (typeof object !== 'object' || object === null || Array.isArray(object)) {
    throw invalid(`${where} is not an object`);
  }
  return (object as Record<string, unknown>)[key];
}

/** The coded error for a report of the wrong shape. */
function invalid(detail: string): GateError {
  return new GateError('E_GATE_REPORT_INVALID', `Cannot read the vitest report: ${detail}`);
}

/** `1 test`, `3 tests`. */
function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** The first non-empty line of a possibly multi-line message. */
function firstLine(message: string): string {
  return message.split('\n').find((line) => line.trim() !== '')?.trim() ?? message;
}
