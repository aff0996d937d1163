/**
 * The weekly gate: `npm run gate -- <week|all> [--through] [--json] [--root DIR]`.
 *
 * Runs vitest as a child process on the exact `gate.test.ts` path of each selected
 * week, streams its progress to stderr, reads its JSON report and prints one verdict
 * per gate-table criterion. The verdict comes from the report alone, never from
 * vitest's exit code. Exit codes: 0 every judged criterion passed, 1 something failed
 * or the week is not built, 2 the command line is wrong.
 * @module
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatRun, toJson } from './format.ts';
import { formatGateError, GateError } from './gate_error.ts';
import { GATE_TABLE, gateRow } from './table.ts';
import { judgeWeek, parseVitestReport, summarizeRun, type GateMode, type ReportOutcome } from './verdict.ts';
import { findWeekFolders, gatePath, parseWeekArg, type WeekFolder } from './weeks.ts';

const USAGE = `usage: npm run gate -- <week|all> [--through] [--json] [--root DIR]

  <week>      1-24, 01, week-1 or week-01: run that week's gate
  all         run every built week's gate and show the map of all 24 weeks
  --through   run weeks 1 to <week> together; all of them must pass
  --json      print one JSON document on stdout instead of text
  --root DIR  repository root to gate (default: this repository)
  --help      print this help

Exit status: 0 every criterion passed, 1 a criterion failed or the week is not built,
2 the command line is wrong. The last line printed is "N passed, N failed".`;

/** The repository root: the parent of this file's folder. */
const DEFAULT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The parsed command line. */
interface Command {
  readonly help: boolean;
  readonly json: boolean;
  readonly mode: GateMode;
  readonly week: number | 'all';
  readonly root: string;
}

/** Runs the gate CLI on the arguments after the script name; returns the exit code. */
async function main(argv: readonly string[]): Promise<number> {
  try {
    const command = parseCommand(argv);
    if (command.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    return await runGate(command);
  } catch (error) {
    if (!(error instanceof GateError)) throw error;
    process.stderr.write(`${formatGateError(error)}\n`);
    if (error.code === 'E_GATE_USAGE') process.stderr.write(`${USAGE}\n`);
    return error.exitCode;
  }
}

/** Turns argv into a command, or throws a coded usage error. */
function parseCommand(argv: readonly string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        through: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        root: { type: 'string', default: DEFAULT_ROOT },
      },
    });
  } catch (error) {
    throw new GateError('E_GATE_USAGE', `Fix the command line: ${(error as Error).message}`);
  }
  const { values, positionals } = parsed;
  const base = { help: values.help, json: values.json, root: values.root };
  if (values.help) return { ...base, mode: 'all', week: 'all' };
  if (positionals.length !== 1) {
    const got = positionals.length === 0 ? 'none' : positionals.map((arg) => JSON.stringify(arg)).join(', ');
    throw new GateError('E_GATE_USAGE', `Name exactly one week or all: got ${got}`);
  }
  const week = parseWeekArg(positionals[0] ?? '');
  if (week === 'all') {
    if (values.through) throw new GateError('E_GATE_USAGE', 'Drop --through: all already runs every built week');
    return { ...base, mode: 'all', week };
  }
  return { ...base, mode: values.through ? 'through' : 'week', week };
}

/** Runs the selected gates and prints their verdicts; returns the exit code. */
async function runGate(command: Command): Promise<number> {
  const root = existingRoot(command.root);
  const folders = findWeekFolders(root);
  const weeks = selectWeeks(command);
  const gateFiles = weeks.flatMap((week) => folders.get(week)?.gateFile ?? []);
  const outcome: ReportOutcome = gateFiles.length === 0 ? { files: [] } : await runVitest(root, gateFiles);
  const verdicts = weeks.map((week) => {
    const folder = folders.get(week);
    return judgeWeek(gateRow(week), { gateFile: folder?.gateFile, gatePath: gatePath(week, folder), outcome });
  });
  const run = summarizeRun(command.mode, verdicts);

  const unbuilt = weeks.filter((week) => folders.get(week)?.gateFile === undefined);
  if (command.mode !== 'all' && unbuilt.length > 0) {
    process.stderr.write(`${formatGateError(notBuilt(unbuilt, { folders, through: command.week }))}\n`);
  }
  if (command.json) {
    // Sorted: vitest reports files in the order they finished, which varies run to run.
    const ranFiles = 'files' in outcome ? outcome.files.map((file) => relative(root, file.file)).sort() : [];
    const reportError = 'error' in outcome ? outcome.error : undefined;
    process.stdout.write(`${JSON.stringify(toJson(run, { ranFiles, reportError }), null, 2)}\n`);
  } else {
    process.stdout.write(formatRun(run));
  }
  return run.verdict === 'pass' ? 0 : 1;
}

/** Resolves `--root` to a real absolute path, or throws a usage error if it does not exist. */
function existingRoot(root: string): string {
  try {
    return realpathSync(resolve(root));
  } catch {
    throw new GateError('E_GATE_USAGE', `Point --root at an existing directory: ${root} was not found`);
  }
}

/** The week numbers a command selects, in order. */
function selectWeeks(command: Command): number[] {
  const last = command.week;
  if (last === 'all') return GATE_TABLE.map((row) => row.week);
  if (command.mode === 'through') return GATE_TABLE.map((row) => row.week).filter((week) => week <= last);
  return [last];
}

/** The `E_GATE_NOT_BUILT` error, saying what to create next. */
function notBuilt(
  weeks: readonly number[],
  context: { folders: ReadonlyMap<number, WeekFolder>; through: number | 'all' },
): GateError {
  const { folders, through } = context;
  const [first] = weeks;
  if (weeks.length === 1 && first !== undefined) {
    const ids = gateRow(first).criteria.map((criterion) => `[${criterion.id}]`);
    const range = `${ids[0]} to ${ids[ids.length - 1]}`;
    return new GateError(
      'E_GATE_NOT_BUILT',
      `Build week ${first} before gating it: create ${gatePath(first, folders.get(first))} with tests for ${range}`,
    );
  }
  return new GateError(
    'E_GATE_NOT_BUILT',
    `Build weeks ${weeks.join(', ')} before gating through week ${through}: each needs its gate.test.ts`,
  );
}

/**
 * Runs vitest once over the given gate files and reads its JSON report.
 * Vitest's stdout (its progress) is sent to our stderr, so stdout stays ours.
 * @returns the parsed report, or why there is none; never throws for a failed run
 */
async function runVitest(root: string, gateFiles: readonly string[]): Promise<ReportOutcome> {
  const vitest = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');
  const scratch = mkdtempSync(join(tmpdir(), 'civictrust-gate-'));
  const reportFile = join(scratch, 'report.json');
  // Each path is passed whole and relative to the root: vitest keeps any test file
  // whose path contains a filter, and a full path contains only itself.
  const args = [
    vitest,
    'run',
    ...gateFiles.map((file) => relative(root, file)),
    '--root',
    root,
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${reportFile}`,
  ];
  try {
    const exit = await new Promise<string>((done) => {
      const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 2, 2] });
      child.on('error', (error) => done(`could not start vitest: ${error.message}`));
      child.on('close', (code, signal) => done(signal === null ? `vitest exited ${code}` : `vitest killed by ${signal}`));
    });
    return readReport(reportFile, exit);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Reads and parses the report file; `exit` describes how vitest ended, for the message. */
function readReport(reportFile: string, exit: string): ReportOutcome {
  let text: string;
  try {
    text = readFileSync(reportFile, 'utf8');
  } catch {
    return { error: `vitest wrote no report (${exit})` };
  }
  try {
    return { files: parseVitestReport(JSON.parse(text)) };
  } catch (error) {
    return { error: `${(error as Error).message} (${exit})` };
  }
}

process.exitCode = await main(process.argv.slice(2));
