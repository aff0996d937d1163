/**
 * The command line of `npm run bench`: parses flags, picks suites, runs them one after
 * another and prints the report (text, or one JSON document with `--json`). Progress
 * goes to stderr in both modes, so `--json` output on stdout always parses.
 *
 * The exit status is 0 unless a suite crashed or one of its correctness checks failed;
 * a missed target never changes it (CI must not fail on a timing).
 * @module
 */
import { parseArgs } from 'node:util';
import type { CliIo } from '../../lib/cli.ts';
import { EXIT, errorFactory, formatError, LOG_ERRORS, type ExitCode } from '../../lib/errors.ts';
import { BENCH_CATALOG, BENCH_ERRORS, describeEnvironment, runSuite, type Environment, type RunOptions, type Suite, type SuiteResult } from './harness.ts';
import { formatHeader, formatSuite, formatSummary } from './report.ts';

/** The streams the bench CLI writes to. */
export type BenchIo = Pick<CliIo, 'stdout' | 'stderr'>;

/** The schema tag of the JSON report; bump it when a field changes meaning. */
export const BENCH_SCHEMA = 'civictrust-bench/1';

/** The JSON document `--json` prints. */
export interface BenchReport {
  /** Always {@link BENCH_SCHEMA}. */
  readonly schema: typeof BENCH_SCHEMA;
  /** When the run started, ISO 8601. */
  readonly started_at: string;
  /** The machine. */
  readonly env: Environment;
  /** How the run was configured, and which suites it ran. */
  readonly options: RunOptions & { readonly suites: readonly string[] };
  /** True when every suite ran to the end with its checks holding. */
  readonly ok: boolean;
  /** The process's exit status. */
  readonly exit: ExitCode;
  /** One entry per suite, in run order. */
  readonly suites: readonly SuiteResult[];
}

/** Defaults of a full run. */
export const FULL_DEFAULTS = { repeats: 5, warmup: 1, seed: 1 } as const;

/** Defaults of a `--short` run: one measured repeat; the warm-up still runs so its path is exercised. */
export const SHORT_DEFAULTS = { repeats: 1, warmup: 1, seed: 1 } as const;

const usageFail = errorFactory(LOG_ERRORS);
const benchFail = errorFactory(BENCH_ERRORS);

/**
 * The `--help` text.
 * @param suites - the registered suites, listed at the end
 * @returns the text, ending with a newline
 */
export function benchHelp(suites: readonly Suite[]): string {
  return `Usage: npm run bench -- [SUITE...] [flags]

Runs the named benchmark suites (all of them when none is named). Every figure is printed
beside its peer or limit measured in the same run, with the ratio of the two medians and
the target when there is one. Targets are reported, never enforced.

Flags:
  --short         tiny counts and ${SHORT_DEFAULTS.repeats} repeat: the CI smoke run (numbers mean nothing)
  --repeats N     measured runs per side of each figure (default ${FULL_DEFAULTS.repeats}, short ${SHORT_DEFAULTS.repeats})
  --warmup N      untimed runs per side before measuring (default ${FULL_DEFAULTS.warmup})
  --seed N        seed for every generated input (default ${FULL_DEFAULTS.seed})
  --json          print one JSON document (schema ${BENCH_SCHEMA}) on stdout instead of tables
  --list          list the suites and exit
  -h, --help      show this help

Progress goes to stderr. Exit status: 0 when every suite ran and its checks held, even if
targets were missed; non-zero when a suite crashed (${EXIT.internal}, or its error's status)
or a correctness check failed (${EXIT.integrity}); ${EXIT.usage} for a wrong command line.

Suites:
${formatList(suites)}`;
}

/** One line per suite: name and title. */
function formatList(suites: readonly Suite[]): string {
  const width = Math.max(0, ...suites.map((s) => s.name.length));
  return suites.map((s) => `  ${s.name.padEnd(width)}  ${s.title}\n`).join('');
}

/** Parses a non-negative integer flag value (positive when `min` is 1). */
function intValue(name: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text)) || Number(text) < min) {
    throw usageFail('E_USAGE_VALUE', `Cannot use --${name} ${text}: give a whole number of at least ${min}`);
  }
  return Number(text);
}

/** What the command line asks for. */
interface Request {
  readonly help: boolean;
  readonly list: boolean;
  readonly json: boolean;
  readonly options: RunOptions;
  readonly suites: readonly Suite[];
}

/** Parses argv against the registered suites; throws coded usage errors. */
function parseRequest(argv: readonly string[], registered: readonly Suite[]): Request {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        list: { type: 'boolean' },
        json: { type: 'boolean' },
        short: { type: 'boolean' },
        repeats: { type: 'string' },
        warmup: { type: 'string' },
        seed: { type: 'string' },
      },
    });
  } catch (error) {
    throw usageFail('E_USAGE_FLAG', `Cannot parse the command line: ${(error as Error).message}`);
  }
  const { values, positionals } = parsed;
  const short = values.short === true;
  const defaults = short ? SHORT_DEFAULTS : FULL_DEFAULTS;
  const options: RunOptions = {
    short,
    repeats: intValue('repeats', values.repeats, defaults.repeats, 1),
    warmup: intValue('warmup', values.warmup, defaults.warmup, 0),
    seed: intValue('seed', values.seed, defaults.seed, 0),
  };
  const suites: Suite[] = [];
  for (const name of positionals) {
    const suite = registered.find((s) => s.name === name);
    if (suite === undefined) {
      const known = registered.map((s) => s.name).join(', ');
      throw benchFail('E_BENCH_SUITE_UNKNOWN', `Cannot run suite ${name}: no such suite (known: ${known})`);
    }
    if (!suites.includes(suite)) suites.push(suite);
  }
  return {
    help: values.help === true,
    list: values.list === true,
    json: values.json === true,
    options,
    suites: suites.length === 0 ? registered : suites,
  };
}

/**
 * Runs the bench command line.
 * @param argv - the arguments after the script name
 * @param io - where stdout and stderr go
 * @param registered - every suite, in the order `--list` shows and a bare run runs them
 * @returns the exit status
 */
export async function benchMain(argv: readonly string[], io: BenchIo, registered: readonly Suite[]): Promise<ExitCode> {
  let request: Request;
  try {
    request = parseRequest(argv, registered);
  } catch (error) {
    io.stderr(`${formatError(error)}\n`);
    const code = (error as { code?: string }).code;
    const action = code === undefined ? undefined : BENCH_CATALOG[code]?.action;
    io.stderr(`hint: ${action ?? 'Run `npm run bench -- --help` for the flags'}\n`);
    return EXIT.usage;
  }
  if (request.help) {
    io.stdout(benchHelp(registered));
    return EXIT.ok;
  }
  if (request.list) {
    io.stdout(formatList(registered));
    return EXIT.ok;
  }

  const startedAt = new Date().toISOString();
  const env = describeEnvironment();
  if (!request.json) io.stdout(formatHeader(env, request.options));
  const results: SuiteResult[] = [];
  for (const suite of request.suites) {
    const result = await runSuite(suite, request.options, { progress: (line) => io.stderr(`${line}\n`) });
    results.push(result);
    if (result.error !== null) {
      io.stderr(`error[${result.error.code}]: Suite ${suite.name} failed: ${result.error.message}\n`);
      if (result.error.stack !== null) io.stderr(`${result.error.stack}\n`);
      const action = BENCH_CATALOG[result.error.code]?.action;
      if (action !== undefined) io.stderr(`hint: ${action}\n`);
    }
    if (!request.json) io.stdout(formatSuite(result));
  }
  const exit = results.find((r) => !r.ok)?.exit ?? EXIT.ok;
  if (request.json) {
    const report: BenchReport = {
      schema: BENCH_SCHEMA,
      started_at: startedAt,
      env,
      options: { ...request.options, suites: request.suites.map((s) => s.name) },
      ok: exit === EXIT.ok,
      exit,
      suites: results,
    };
    io.stdout(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    io.stdout(formatSummary(results));
  }
  return exit;
}
