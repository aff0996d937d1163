/**
 * What the gate runner prints: a week's row and criterion lines, the map of all 24
 * weeks by arc, the closing `N passed, N failed` line, and the `--json` document.
 * Pure functions from verdicts to text.
 * @module
 */
import { ARCS } from './table.ts';
import type { CriterionVerdict, GateRun, WeekVerdict } from './verdict.ts';

/** The `--json` document: the run, with every week's row, criteria and mapped tests. */
export interface GateRunJson {
  /** How the weeks were selected. */
  readonly mode: GateRun['mode'];
  /** `pass` iff nothing failed. */
  readonly verdict: GateRun['verdict'];
  /** Criteria that passed, in the weeks that count. */
  readonly passed: number;
  /** Criteria that failed plus problems, in the weeks that count. */
  readonly failed: number;
  /** Test files vitest actually ran, relative to the root. */
  readonly ranFiles: readonly string[];
  /** Why no usable report was read, or `null` when one was (or none was needed). */
  readonly reportError: string | null;
  /** One entry per selected week. */
  readonly weeks: readonly WeekJson[];
}

/** One week of the `--json` document. */
export interface WeekJson {
  /** Week number, 1-24. */
  readonly week: number;
  /** Arc number, 1-6. */
  readonly arc: number;
  /** Short chapter title. */
  readonly title: string;
  /** What the demo must show. */
  readonly mustShow: string;
  /** The failure drill. */
  readonly drill: string;
  /** The pass condition. */
  readonly passIf: string;
  /** `pass`, `fail` or `not built`. */
  readonly status: WeekVerdict['status'];
  /** Whether the week counts toward `passed`/`failed` (in `all` mode, unbuilt weeks do not). */
  readonly judged: boolean;
  /** The gate file relative to the root, or `null` when the week is not built. */
  readonly gateFile: string | null;
  /** One verdict per criterion, with the tests mapped to it. */
  readonly criteria: readonly CriterionVerdict[];
  /** Tests the table cannot place, and errors outside tests. */
  readonly problems: readonly string[];
}

/**
 * Formats one week: its row, one line per criterion, its problems and its verdict.
 * @example
 * ```text
 * week 1 · CLI contract and append-only logger (arc 1 · Foundations)
 *   must show      The CLI commands, the logger and the error catalog
 *   ...
 * PASS [1.1] Every row of the 12-case argument matrix … (2 tests)
 * FAIL [1.3] Records appended by several processes … — no test ran
 * ```
 */
export function formatWeek(week: WeekVerdict): string[] {
  const { row } = week;
  const arc = ARCS.find((candidate) => candidate.arc === row.arc);
  const lines = [
    `week ${row.week} · ${row.title} (arc ${row.arc} · ${arc?.name ?? '?'})`,
    `  must show      ${row.mustShow}`,
    `  failure drill  ${row.drill}`,
    `  pass if        ${row.passIf}`,
    `  gate           ${week.status === 'not built' ? `missing: ${week.gatePath}` : week.gatePath}`,
    '',
    ...week.criteria.map(formatCriterion),
    ...week.problems.map((problem) => `warning: ${problem}`),
    `week ${row.week}: ${weekStatus(week)}`,
  ];
  return lines;
}

/** Formats one criterion: `PASS [1.3] text (2 tests)` or `FAIL [1.3] text — no test ran`. */
export function formatCriterion(criterion: CriterionVerdict): string {
  return criterion.verdict === 'pass'
    ? `PASS [${criterion.id}] ${criterion.text} (${criterion.reason})`
    : `FAIL [${criterion.id}] ${criterion.text} — ${criterion.reason}`;
}

/**
 * Formats the map of the whole course for `all`: every arc, every week with its status.
 * @param weeks - the verdicts of all 24 weeks, in week order
 */
export function formatMap(weeks: readonly WeekVerdict[]): string[] {
  const lines: string[] = [];
  for (const arc of ARCS) {
    lines.push(`Arc ${arc.arc} · ${arc.name} (month ${arc.month})`);
    for (const week of weeks.filter((candidate) => candidate.row.arc === arc.arc)) {
      const status = week.status === 'not built' ? 'not built' : week.status.toUpperCase();
      const number = String(week.row.week).padStart(2);
      lines.push(`  week ${number}  ${status.padEnd(9)}  ${week.row.title}${countSuffix(week)}`);
    }
  }
  return lines;
}

/**
 * Formats a whole run as the text the CLI prints on stdout. The last line is always
 * the plain `N passed, N failed` that CI reads.
 */
export function formatRun(run: GateRun): string {
  const judged = run.weeks.filter((week) => run.mode !== 'all' || week.status !== 'not built');
  const blocks = judged.map((week) => formatWeek(week).join('\n'));
  if (run.mode === 'all') blocks.push([...formatMap(run.weeks), builtLine(run.weeks)].join('\n'));
  else if (run.mode === 'through') blocks.push(`weeks 1-${run.weeks.length}: ${run.verdict.toUpperCase()}`);
  return `${blocks.join('\n\n')}\n\n${formatSummaryLine(run)}\n`;
}

/** The closing line, exactly `N passed, N failed`, counting criteria (and problems as failures). */
export function formatSummaryLine(run: GateRun): string {
  return `${run.passed} passed, ${run.failed} failed`;
}

/**
 * Builds the `--json` document.
 * @param run - the run's verdicts
 * @param report - the files vitest ran and why no report was usable, if so
 */
export function toJson(
  run: GateRun,
  report: { ranFiles: readonly string[]; reportError: string | undefined },
): GateRunJson {
  return {
    mode: run.mode,
    verdict: run.verdict,
    passed: run.passed,
    failed: run.failed,
    ranFiles: report.ranFiles,
    reportError: report.reportError ?? null,
    weeks: run.weeks.map((week) => ({
      week: week.row.week,
      arc: week.row.arc,
      title: week.row.title,
      mustShow: week.row.mustShow,
      drill: week.row.drill,
      passIf: week.row.passIf,
      status: week.status,
      judged: run.mode !== 'all' || week.status !== 'not built',
      gateFile: week.status === 'not built' ? null : week.gatePath,
      criteria: week.criteria,
      problems: week.problems,
    })),
  };
}

/** `2 of 24 weeks built, 1 passing`: the map's honest bottom line. */
function builtLine(weeks: readonly WeekVerdict[]): string {
  const built = weeks.filter((week) => week.status !== 'not built').length;
  const passing = weeks.filter((week) => week.status === 'pass').length;
  return `${built} of ${weeks.length} weeks built, ${passing} passing`;
}

/** `PASS (7/7 criteria)`, `FAIL (5/7 criteria, 1 problem)` or `not built`. */
function weekStatus(week: WeekVerdict): string {
  if (week.status === 'not built') return 'not built';
  return `${week.status.toUpperCase()}${countSuffix(week)}`;
}

/** ` (5/7 criteria)`, with problems appended; empty for a week that is not built. */
function countSuffix(week: WeekVerdict): string {
  if (week.status === 'not built') return '';
  const passed = week.criteria.filter((criterion) => criterion.verdict === 'pass').length;
  const problems = week.problems.length;
  const extra = problems === 0 ? '' : `, ${problems} problem${problems === 1 ? '' : 's'}`;
  return ` (${passed}/${week.criteria.length} criteria${extra})`;
}
