/**
 * Renders benchmark results for people: the environment header, one aligned table per
 * suite and a closing summary. Pure string functions over the result objects of
 * `harness.ts`; the machine-readable form is those objects as JSON.
 *
 * A row reads left to right as a sentence: the figure, the subject's median with its
 * min–max range over the measured runs, the peer or limit measured in the same run, the
 * ratio of the two medians, and the target with its verdict.
 *
 * ```text
 * logger  append 100 B (no sync)  LogWriter.append 412k rec/s [398k–425k]  vs limit raw fs.write 520k rec/s [505k–530k]  ratio 0.79  target ≥ 0.70 met
 * ```
 * @module
 */
import type { Environment, FigureResult, Metric, RunOptions, SideResult, SuiteResult } from './harness.ts';

/** A divisor and the suffix it earns. */
interface Scale {
  readonly div: number;
  readonly suffix: string;
}

const RATE_SCALES: readonly Scale[] = [
  { div: 1e9, suffix: 'G' },
  { div: 1e6, suffix: 'M' },
  { div: 1e3, suffix: 'k' },
  { div: 1, suffix: '' },
];

const TIME_SCALES: readonly Scale[] = [
  { div: 1, suffix: 's' },
  { div: 1e-3, suffix: 'ms' },
  { div: 1e-6, suffix: 'µs' },
  { div: 1e-9, suffix: 'ns' },
];

/** Picks the largest scale the value reaches (the smallest scale for tiny values). */
function scaleOf(value: number, scales: readonly Scale[]): Scale {
  return scales.find((s) => Math.abs(value) >= s.div) ?? (scales[scales.length - 1] as Scale);
}

/** Three significant digits (no exponent for values up to 999). */
function digits(x: number): string {
  const a = Math.abs(x);
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/**
 * Formats a number with an SI prefix and three significant digits: `412k`, `41.2k`,
 * `4.12M`, `812`.
 * @param value - a count or rate
 * @returns the text
 */
export function formatCount(value: number): string {
  const s = scaleOf(value, RATE_SCALES);
  return `${digits(value / s.div)}${s.suffix}`;
}

/**
 * Formats a duration in seconds with the unit that keeps it readable: `1.23 s`,
 * `38.2 ms`, `4.10 µs`, `812 ns`.
 * @param seconds - the duration
 * @returns the text
 */
export function formatSeconds(seconds: number): string {
  const s = scaleOf(seconds, TIME_SCALES);
  return `${digits(seconds / s.div)} ${s.suffix}`;
}

/**
 * Formats one value in a figure's metric: `412k rec/s` (throughput), `38.2 ms/run`
 * (latency), `p99 1.20 ms/put` (a percentile) or `cpu 820 µs/put` (machine CPU time).
 * @param value - ops/s or s/op
 * @param metric - how the value reads
 * @param unit - the noun for one operation
 * @returns the text
 */
export function formatValue(value: number, metric: Metric, unit: string): string {
  if (metric === 'throughput') return `${formatCount(value)} ${unit}/s`;
  const time = `${formatSeconds(value)}/${unit}`;
  return metric === 'latency' ? time : `${metric} ${time}`;
}

/**
 * Formats a side's spread as `[min–max]` in the median's scale, or `[1 run]` for a
 * single sample.
 * @param side - the measured side
 * @param metric - how its values read
 * @returns the text
 */
export function formatRange(side: SideResult, metric: Metric): string {
  if (side.samples.length === 1) return '[1 run]';
  if (metric === 'throughput') return `[${formatCount(side.min)}–${formatCount(side.max)}]`;
  const s = scaleOf(side.median, TIME_SCALES);
  return `[${digits(side.min / s.div)}–${digits(side.max / s.div)} ${s.suffix}]`;
}

/**
 * Formats a ratio with two decimals (one above 100).
 * @param ratio - subject / peer
 * @returns the text
 */
export function formatRatio(ratio: number): string {
  return ratio >= 100 ? ratio.toFixed(1) : ratio.toFixed(2);
}

/**
 * The cells of one figure's row.
 * @param suite - the suite's name (first column)
 * @param f - the figure
 * @returns the cells, left to right
 */
export function figureCells(suite: string, f: FigureResult): string[] {
  const side = (s: SideResult): string => `${s.label} ${formatValue(s.median, f.metric, f.unit)} ${formatRange(s, f.metric)}`;
  let target = '';
  if (f.target !== null) {
    const verdict = f.target.met === null ? 'not judged (short)' : f.target.met ? 'met' : 'missed';
    target = `target ${f.target.op === '>=' ? '≥' : '≤'} ${formatRatio(f.target.value)} ${verdict}`;
  }
  return [suite, f.name, side(f.subject), `vs ${f.relation} ${side(f.peer)}`, `ratio ${formatRatio(f.ratio)}`, target];
}

/**
 * Lays rows of cells out as columns two spaces apart, trimming trailing space.
 * @param rows - the cells; rows may differ in length
 * @returns one line per row, without newlines
 */
export function alignColumns(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
}

/**
 * The report's header: the machine, then how the numbers were taken.
 * @param env - from `describeEnvironment`
 * @param options - the run's options
 * @returns lines ending with a newline
 */
export function formatHeader(env: Environment, options: RunOptions): string {
  const gib = (env.memory_bytes / 2 ** 30).toFixed(1);
  // More runnable work than cores: other processes share the CPU and numbers will wobble.
  const busy = env.load_1m > env.cores ? ' (busy: expect noise)' : '';
  const gc = env.gc_between_trials ? 'gc before each trial' : 'no forced gc (run node with --expose-gc for it)';
  const mode = options.short
    ? 'short mode: tiny counts, numbers are smoke only'
    : `median [min–max] of ${options.repeats} run${options.repeats === 1 ? '' : 's'} per side after ${options.warmup} warm-up`;
  return [
    `civictrust bench · node ${env.node} (V8 ${env.v8}) · ${env.platform} ${env.arch} · ${env.cpu} · ${env.cores} cores · ${gib} GiB · load ${env.load_1m}${busy}`,
    `${mode} · seed ${options.seed} · ${gc}`,
    'ratio = subject median / peer median; targets are reported, never enforced',
    '',
  ].join('\n');
}

/**
 * One suite's block: a title line, then its aligned rows, then the failure if any.
 * @param result - the suite's outcome
 * @returns lines ending with a newline
 */
export function formatSuite(result: SuiteResult): string {
  const lines = [`${result.name} — ${result.title} (${(result.duration_ms / 1000).toFixed(1)} s)`];
  lines.push(...alignColumns(result.figures.map((f) => figureCells(result.name, f))));
  if (result.error !== null) lines.push(`${result.name}  FAILED  error[${result.error.code}]: ${result.error.message}`);
  return `${lines.join('\n')}\n\n`;
}

/**
 * The closing line: suites ok and failed, targets met, missed and not judged.
 * @param results - every suite's outcome
 * @returns one line ending with a newline
 */
export function formatSummary(results: readonly SuiteResult[]): string {
  const failed = results.filter((r) => !r.ok).length;
  const targets = results.flatMap((r) => r.figures).flatMap((f) => (f.target === null ? [] : [f.target.met]));
  const count = (v: boolean | null): number => targets.filter((t) => t === v).length;
  let line = `${results.length} suite${results.length === 1 ? '' : 's'}: ${results.length - failed} ok, ${failed} failed`;
  line += ` · targets: ${count(true)} met, ${count(false)} missed`;
  if (count(null) > 0) line += `, ${count(null)} not judged`;
  return `${line}\n`;
}
