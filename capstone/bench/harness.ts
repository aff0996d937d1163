/**
 * The benchmark harness behind `npm run bench`: the interface a suite implements, and
 * the engine that runs it.
 *
 * A {@link Suite} is a named list of {@link Figure}s. A figure pairs the thing we built
 * (the *subject*) with a *peer* or *limit* measured in the same run: `LogWriter.append`
 * beside a raw `fs.write` of the same bytes, the CLI's start-up beside `node -e 0`. The
 * harness times both sides the same way, alternating them run by run so that a noisy
 * neighbour hurts both alike, and reports the two medians, their spread, their ratio and,
 * when the figure has one, whether the ratio meets its target. A missed target is news,
 * never a failure: the only failures are a suite that throws and a correctness check
 * that does not hold ({@link SuiteContext.check}).
 *
 * Writing a suite, in short:
 *
 * ```ts
 * export const FRAMING_SUITE: Suite = {
 *   name: 'framing',
 *   title: 'length-prefixed frames vs raw bytes',
 *   figures(ctx) {
 *     const ops = ctx.short ? 50 : 200_000;
 *     return [{
 *       name: 'encode 1 KiB', metric: 'throughput', unit: 'frame', ops, bytesPerOp: 1024,
 *       subject: { label: 'encodeFrame', prepare: () => ({ run() { ... } }) },
 *       peer: { label: 'Uint8Array copy', prepare: () => ({ run() { ... } }) },
 *       relation: 'limit', target: { atLeast: 0.8 },
 *     }];
 *   },
 * };
 * ```
 * @module
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { defineErrors, errorFactory, exitCodeOf, isCivicError, LOG_ERRORS, mergeCatalogs, type ExitCode } from '../../lib/errors.ts';
import { percentile, ratioOf, summarize, targetMet } from './stats.ts';

// ---------------------------------------------------------------------------------------
// The interface suites implement

/**
 * One timed run of a workload, as built by {@link Workload.prepare}. Only {@link run} is
 * timed; {@link finish} runs after the clock stops, to close files and check results.
 */
export interface Trial {
  /** The timed body: performs the figure's `ops` operations, then resolves. */
  run(): Promise<void> | void;
  /**
   * Untimed clean-up after the timed body; the place for correctness checks
   * ({@link SuiteContext.check}) on what the run produced.
   */
  finish?(): Promise<void> | void;
  /**
   * The latency of every operation of the timed body, in seconds, for the percentile
   * metrics (`p50`, `p95`, `p99`): the workload records them itself (start and end of each
   * request) and the harness reads them after {@link run}. Required by those metrics,
   * ignored by the others.
   */
  latencies?(): readonly number[];
}

/** One side of a figure: a labelled way of doing the figure's `ops` operations. */
export interface Workload {
  /** Short label printed beside the number, e.g. `raw fs.write`. */
  readonly label: string;
  /**
   * Builds one trial (untimed): open files, build inputs. Called once per warm-up and
   * once per measured repeat, so every trial starts from the same state.
   */
  prepare(): Promise<Trial> | Trial;
}

/**
 * What a ratio must be for a figure's target to be met (ratio = subject / peer, both
 * in the figure's metric). A throughput target is usually `atLeast` (framed ≥ 0.8 of
 * raw); a latency target `atMost` (start-up ≤ 4× `node -e 0`).
 */
export type Target = { readonly atLeast: number } | { readonly atMost: number };

/**
 * How a figure's number is read: `throughput` is operations per second (higher is
 * better); `latency` is the trial's time divided by its operations, seconds per operation
 * (lower is better); `p50`, `p95` and `p99` are that percentile of the per-operation
 * latencies the trial reports through {@link Trial.latencies} (lower is better), the figure
 * to use where requests overlap and the mean hides the tail. `cpu` is the whole
 * machine's busy CPU time during the trial divided by its operations, seconds per
 * operation (lower is better): every process and the kernel's share, read from Linux's
 * `/proc/stat` by {@link machineBusySeconds}. It is the figure that decides throughput once
 * the machine is saturated, and it counts the work of other processes too, so compare
 * sides on an otherwise idle machine.
 */
export type Metric = 'throughput' | 'latency' | 'cpu' | PercentileMetric;

/** The percentile metrics: a tail of the per-operation latencies, in seconds. */
export type PercentileMetric = 'p50' | 'p95' | 'p99';

/** The percentile each {@link PercentileMetric} stands for. */
const PERCENTILES: Readonly<Record<PercentileMetric, number>> = { p50: 50, p95: 95, p99: 99 };

/** Whether the peer is another way of doing the job or a floor/ceiling nothing can beat. */
export type Relation = 'peer' | 'limit';

/** One printed row: the subject, its peer or limit, and an optional target on their ratio. */
export interface Figure {
  /** What is measured, e.g. `append 100 B (no sync)`. Unique within its suite. */
  readonly name: string;
  /** How the number reads; see {@link Metric}. */
  readonly metric: Metric;
  /** The noun for one operation, e.g. `rec`, `frame`, `run`: printed as `412k rec/s` or `38 ms/run`. */
  readonly unit: string;
  /** Operations per trial; every trial of both sides performs exactly this many. */
  readonly ops: number;
  /** Bytes each operation moves, when that makes sense; kept in the JSON (`bytes_per_op`) so readers can derive MB/s. */
  readonly bytesPerOp?: number;
  /** What we built. */
  readonly subject: Workload;
  /** What it is measured against, in the same run. */
  readonly peer: Workload;
  /** Whether {@link peer} is a peer or a limit (printed, and kept in the JSON). */
  readonly relation: Relation;
  /** The ratio the figure aims for, if any. */
  readonly target?: Target;
}

/** What the harness hands a suite when it builds its figures. */
export interface SuiteContext {
  /** True in `--short` mode: pick tiny operation counts; the code paths stay the same. */
  readonly short: boolean;
  /** The run's seed (`--seed`); derive every input from it, e.g. with `seededRandom`. */
  readonly seed: number;
  /** A fresh temporary directory for this suite, removed after the suite ends. */
  readonly tmpDir: string;
  /**
   * Asserts a correctness fact about what a workload did (bytes on disk, an exit code).
   * A false condition throws, the suite is reported as failed and the run exits non-zero.
   * @param condition - the fact
   * @param message - what was expected, for the report
   */
  check(condition: boolean, message: string): void;
  /** Writes one progress line to stderr, prefixed with the suite's name. */
  progress(message: string): void;
}

/** A named group of figures: one module under `capstone/bench/suites/`, listed in `run.ts`. */
export interface Suite {
  /** The name used on the command line (`npm run bench -- logger`): lower case, no spaces. */
  readonly name: string;
  /** One line for `--list` and the report's suite header. */
  readonly title: string;
  /**
   * Builds the figures (may create fixtures in `ctx.tmpDir`). Called once per run.
   * @param ctx - the run's mode, seed and scratch directory
   */
  figures(ctx: SuiteContext): Promise<readonly Figure[]> | readonly Figure[];
  /** Runs after the last figure, even when one failed (the harness removes `tmpDir` itself). */
  teardown?(): Promise<void> | void;
}

// ---------------------------------------------------------------------------------------
// Errors

/** The error codes of the benchmark runner itself. */
export const BENCH_ERRORS = defineErrors({
  E_BENCH_SUITE_UNKNOWN: {
    exit: 'usage', http: 404, definite: true,
    summary: 'No benchmark suite has that name',
    action: 'Run `npm run bench -- --list` to see the suites',
  },
  E_BENCH_CHECK: {
    exit: 'integrity', http: 500, definite: false,
    summary: 'A benchmark workload produced a wrong result, so its timing means nothing',
    action: 'Fix the code under test (or the suite) until the check holds; the message says what was expected',
  },
});

/** The catalog the runner maps failures through: week 1's codes plus {@link BENCH_ERRORS}. */
export const BENCH_CATALOG = mergeCatalogs(LOG_ERRORS, BENCH_ERRORS);

const fail = errorFactory(BENCH_ERRORS);

// ---------------------------------------------------------------------------------------
// Results (the JSON report is these objects, so their keys are snake_case)

/** The measurements of one side of a figure. Values are in the figure's metric. */
export interface SideResult {
  /** The workload's label. */
  readonly label: string;
  /** One value per measured repeat, in run order: ops/s (throughput) or s/op (the others). */
  readonly samples: readonly number[];
  /** Median of {@link samples}. */
  readonly median: number;
  /** Smallest sample. */
  readonly min: number;
  /** Largest sample. */
  readonly max: number;
  /** 25th percentile, nearest rank. */
  readonly q1: number;
  /** 75th percentile, nearest rank. */
  readonly q3: number;
}

/** A target and its verdict. `met` is null in short mode, where the numbers are smoke only. */
export interface TargetResult {
  /** `>=` for an `atLeast` target, `<=` for `atMost`. */
  readonly op: '>=' | '<=';
  /** The bound on the ratio. */
  readonly value: number;
  /** Whether the ratio meets it; null when not judged (short mode). */
  readonly met: boolean | null;
}

/** One measured figure. */
export interface FigureResult {
  /** The figure's name. */
  readonly name: string;
  /** How the values read. */
  readonly metric: Metric;
  /** The noun for one operation. */
  readonly unit: string;
  /** Operations per trial. */
  readonly ops: number;
  /** Bytes per operation, or null. */
  readonly bytes_per_op: number | null;
  /** Measured repeats per side. */
  readonly repeats: number;
  /** Untimed warm-up trials per side. */
  readonly warmup: number;
  /** Whether the peer is a peer or a limit. */
  readonly relation: Relation;
  /** What we built. */
  readonly subject: SideResult;
  /** What it was measured against. */
  readonly peer: SideResult;
  /** subject median / peer median. */
  readonly ratio: number;
  /** The target and its verdict, or null. */
  readonly target: TargetResult | null;
}

/** A failure, as data. */
export interface ErrorResult {
  /** The `E_*` code (`E_INTERNAL` for an error without one). */
  readonly code: string;
  /** The message. */
  readonly message: string;
  /** The stack trace of an uncoded error (a crash, likely a bug), else null. */
  readonly stack: string | null;
}

/** One suite's outcome. */
export interface SuiteResult {
  /** The suite's name. */
  readonly name: string;
  /** Its one-line title. */
  readonly title: string;
  /** False when the suite threw or a check failed. */
  readonly ok: boolean;
  /** What went wrong, or null. */
  readonly error: ErrorResult | null;
  /** The exit status this suite alone would give (0 when ok). */
  readonly exit: ExitCode;
  /** Wall-clock time of the whole suite, set-up included. */
  readonly duration_ms: number;
  /** The figures measured before the end (all of them when ok). */
  readonly figures: readonly FigureResult[];
}

/** The machine the numbers came from. */
export interface Environment {
  /** `process.version`. */
  readonly node: string;
  /** `process.versions.v8`. */
  readonly v8: string;
  /** `process.platform`. */
  readonly platform: string;
  /** `process.arch`. */
  readonly arch: string;
  /** The first CPU's model string. */
  readonly cpu: string;
  /** `os.availableParallelism()`: the cores this process may use. */
  readonly cores: number;
  /** Total memory in bytes. */
  readonly memory_bytes: number;
  /** 1-minute load average when the run started (0 on Windows): a busy machine skews numbers. */
  readonly load_1m: number;
  /** True when the process runs with `--expose-gc`, so the harness collects before each trial. */
  readonly gc_between_trials: boolean;
}

/** How a run was configured. */
export interface RunOptions {
  /** Short mode: tiny counts, for CI smoke runs. */
  readonly short: boolean;
  /** Measured repeats per side of every figure. */
  readonly repeats: number;
  /** Untimed warm-up trials per side of every figure. */
  readonly warmup: number;
  /** The seed suites derive their inputs from. */
  readonly seed: number;
}

/** Where the harness sends its side output. */
export interface HarnessHooks {
  /** Receives one progress line (no newline); the CLI writes it to stderr. */
  readonly progress: (line: string) => void;
  /** Directory for suites' scratch directories (default: the OS temp directory). */
  readonly tmpRoot?: string;
}

// ---------------------------------------------------------------------------------------
// The engine

/**
 * Describes the machine, for the top of every report.
 * @returns node and V8 versions, platform, CPU model, cores, memory, load, GC mode
 */
export function describeEnvironment(): Environment {
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: process.platform,
    arch: process.arch,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memory_bytes: totalmem(),
    load_1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    gc_between_trials: gcHook() !== undefined,
  };
}

/** `globalThis.gc` when node runs with `--expose-gc`. */
function gcHook(): (() => void) | undefined {
  const gc = (globalThis as { gc?: unknown }).gc;
  return typeof gc === 'function' ? (gc as () => void) : undefined;
}

/**
 * The busy time of every CPU in a `/proc/stat` text, in seconds: the `cpu` line's user,
 * nice, system, irq and softirq ticks (idle, iowait and steal are not work done here), at
 * Linux's fixed 100 ticks per second.
 * @param text - the contents of `/proc/stat`
 * @returns the seconds, or null when the text has no `cpu` line
 */
export function parseProcStat(text: string): number | null {
  const line = /^cpu\s+(.*)$/m.exec(text);
  if (line === null) return null;
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = (line[1] as string).trim().split(/\s+/).map(Number);
  return (user + nice + system + irq + softirq) / 100;
}

/**
 * The machine's busy CPU seconds so far, all processes and the kernel ({@link parseProcStat}),
 * or null where there is no `/proc/stat` (not Linux).
 */
export function machineBusySeconds(): number | null {
  try {
    return parseProcStat(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return null;
  }
}

/**
 * Prepares, times and finishes one trial of a figure's side; returns its sample in the
 * figure's metric.
 */
async function timeTrial(figure: Figure, workload: Workload): Promise<number> {
  const trial = await workload.prepare();
  gcHook()?.();
  const busyBefore = figure.metric === 'cpu' ? machineBusySeconds() : null;
  const start = process.hrtime.bigint();
  await trial.run();
  const elapsed = process.hrtime.bigint() - start;
  const busyAfter = busyBefore === null ? null : machineBusySeconds();
  await trial.finish?.();
  if (figure.metric === 'cpu') {
    if (busyBefore === null || busyAfter === null) throw new RangeError(`figure ${figure.name}: the cpu metric reads /proc/stat, which this system does not have`);
    return (busyAfter - busyBefore) / figure.ops;
  }
  // A trial of a few cheap operations can read 0 ns on a coarse clock: count it as 1 ns
  // so rates stay finite.
  const seconds = Math.max(Number(elapsed), 1) / 1e9;
  if (figure.metric === 'throughput') return figure.ops / seconds;
  if (figure.metric === 'latency') return seconds / figure.ops;
  const latencies = trial.latencies?.();
  if (latencies === undefined || latencies.length === 0) {
    throw new RangeError(`figure ${figure.name}: ${workload.label} reports no per-operation latencies for ${figure.metric}`);
  }
  return percentile(latencies, PERCENTILES[figure.metric]);
}

/** Summarizes one side. */
function sideResult(label: string, samples: readonly number[]): SideResult {
  const s = summarize(samples);
  return { label, samples, median: s.median, min: s.min, max: s.max, q1: s.q1, q3: s.q3 };
}

/** Checks a figure's static shape before spending time on it. */
function checkFigure(figure: Figure): void {
  if (!Number.isSafeInteger(figure.ops) || figure.ops < 1) {
    throw new RangeError(`figure ${figure.name}: ops must be a positive integer, got ${figure.ops}`);
  }
  if (figure.bytesPerOp !== undefined && !(figure.bytesPerOp > 0)) {
    throw new RangeError(`figure ${figure.name}: bytesPerOp must be positive, got ${figure.bytesPerOp}`);
  }
}

/**
 * Measures one figure: `warmup` untimed trials per side, then `repeats` timed trials per
 * side, alternating which side goes first each round (ABBA…), so slow drift in the
 * machine's speed lands on both sides alike.
 * @param figure - what to measure
 * @param options - repeats and warm-up (short mode uses what it is given)
 * @param progress - receives `warm-up` and `run r/R` notes
 * @returns the figure's result
 */
export async function measureFigure(figure: Figure, options: RunOptions, progress: (note: string) => void): Promise<FigureResult> {
  checkFigure(figure);
  for (let w = 1; w <= options.warmup; w++) {
    progress(options.warmup === 1 ? 'warm-up' : `warm-up ${w}/${options.warmup}`);
    await timeTrial(figure, figure.subject);
    await timeTrial(figure, figure.peer);
  }
  const subject: number[] = [];
  const peer: number[] = [];
  for (let r = 0; r < options.repeats; r++) {
    progress(`run ${r + 1}/${options.repeats}`);
    if (r % 2 === 0) {
      subject.push(await timeTrial(figure, figure.subject));
      peer.push(await timeTrial(figure, figure.peer));
    } else {
      peer.push(await timeTrial(figure, figure.peer));
      subject.push(await timeTrial(figure, figure.subject));
    }
  }
  const s = sideResult(figure.subject.label, subject);
  const p = sideResult(figure.peer.label, peer);
  const ratio = ratioOf(s.median, p.median);
  let target: TargetResult | null = null;
  if (figure.target !== undefined) {
    const met = options.short ? null : targetMet(ratio, figure.target);
    target = 'atLeast' in figure.target
      ? { op: '>=', value: figure.target.atLeast, met }
      : { op: '<=', value: figure.target.atMost, met };
  }
  return {
    name: figure.name,
    metric: figure.metric,
    unit: figure.unit,
    ops: figure.ops,
    bytes_per_op: figure.bytesPerOp ?? null,
    repeats: options.repeats,
    warmup: options.warmup,
    relation: figure.relation,
    subject: s,
    peer: p,
    ratio,
    target,
  };
}

/** Turns anything thrown into a code and a message. */
function errorResult(error: unknown): ErrorResult {
  if (isCivicError(error)) return { code: error.code, message: error.message, stack: null };
  if (error instanceof Error) return { code: 'E_INTERNAL', message: error.message, stack: error.stack ?? null };
  return { code: 'E_INTERNAL', message: String(error), stack: null };
}

/**
 * Runs one suite in a fresh scratch directory and removes the directory afterwards. A
 * throw (a crash or a failed {@link SuiteContext.check}) ends the suite; it is returned as
 * a failed {@link SuiteResult}, never rethrown, so the other suites still run.
 * @param suite - the suite
 * @param options - mode, repeats, warm-up and seed
 * @param hooks - progress output and scratch location
 * @returns the suite's outcome
 */
export async function runSuite(suite: Suite, options: RunOptions, hooks: HarnessHooks): Promise<SuiteResult> {
  const started = performance.now();
  const figures: FigureResult[] = [];
  const tmpDir = await mkdtemp(join(hooks.tmpRoot ?? tmpdir(), `civictrust-bench-${suite.name}-`));
  const ctx: SuiteContext = {
    short: options.short,
    seed: options.seed,
    tmpDir,
    check(condition, message) {
      if (!condition) throw fail('E_BENCH_CHECK', `Check failed: ${message}`);
    },
    progress(message) {
      hooks.progress(`[${suite.name}] ${message}`);
    },
  };
  let error: unknown = undefined;
  let failed = false;
  try {
    hooks.progress(`[${suite.name}] preparing`);
    const list = await suite.figures(ctx);
    for (const [i, figure] of list.entries()) {
      const prefix = `[${suite.name} ${i + 1}/${list.length}] ${figure.name} …`;
      figures.push(await measureFigure(figure, options, (note) => hooks.progress(`${prefix} ${note}`)));
    }
  } catch (caught) {
    failed = true;
    error = caught;
  } finally {
    try {
      await suite.teardown?.();
    } catch (caught) {
      if (!failed) {
        failed = true;
        error = caught;
      }
    }
    await rm(tmpDir, { recursive: true, force: true });
  }
  return {
    name: suite.name,
    title: suite.title,
    ok: !failed,
    error: failed ? errorResult(error) : null,
    exit: failed ? exitCodeOf(error, BENCH_CATALOG) : 0,
    duration_ms: Math.round(performance.now() - started),
    figures,
  };
}
