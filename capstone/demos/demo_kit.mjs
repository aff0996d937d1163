/**
 * What every monthly demo needs besides its own steps: flags, time and number
 * helpers, markdown tables, child processes it starts and must never leave behind,
 * their JSON-lines logs, and the step-by-step report (`say`, `heading`, `check`)
 * that ends in one PASS/FAIL line and an exit status.
 *
 * A demo keeps a context object `ctx` holding at least `config` (with `json`),
 * `report` (with `checks`), `live` (the set of running children) and the reporting
 * functions of {@link reporting}; the helpers here read and write those fields.
 * @module
 */
import { $, fs, path } from 'zx';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EXIT } from '../../lib/errors.ts';
import { seededRandom } from '../../lib/framing.ts';

/** The repository root, where child processes run. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The `civictrust` CLI entry the demos start. */
export const DEFAULT_ENTRY = path.join(ROOT, 'capstone/bin/civictrust.mjs');
/** The only address the demos use. */
export const HOST = '127.0.0.1';
/** How long a starting child may take to print its address (tsx compiles on first start). */
export const START_TIMEOUT_MS = 30_000;

// ---------------------------------------------------------------------------------
// Flags.

/** Thrown for a bad flag; {@link configureOrExit} turns it into `error[E_DEMO_USAGE]` and exit 2. */
export class UsageError extends Error {}

/** Reads a whole number flag within bounds. */
export function intFlag(values, name, fallback, min, max) {
  const text = values[name];
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`Cannot use --${name} ${JSON.stringify(text)}: it must be a whole number from ${min} to ${max}`);
  }
  return n;
}

/**
 * Parses `argv` strictly (no positionals, no unknown flags) with `parseArgs` options.
 * @returns the flag values
 * @throws UsageError when the flags do not parse
 */
export function parseFlags(argv, options) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError(`Cannot parse the flags: ${error.message}`);
  }
}

/**
 * Runs a demo's `configure(argv)`. A bad flag prints `error[E_DEMO_USAGE]` with a hint
 * on stderr; `--help` prints `usage` on stdout.
 * @param demo - the demo's name on the command line, e.g. `month-1`
 * @returns `{ config }` to run with, or `{ exit }` when there is nothing to run
 */
export function configureOrExit(demo, argv, configure, usage) {
  let config;
  try {
    config = configure(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`error[E_DEMO_USAGE]: ${error.message}\nhint: Run \`npm run demo -- ${demo} --help\` for the flags\n`);
    return { exit: EXIT.usage };
  }
  if (config.help) {
    process.stdout.write(usage);
    return { exit: EXIT.ok };
  }
  return { config };
}

// ---------------------------------------------------------------------------------
// Time, numbers, output.

/** Resolves after `ms` milliseconds. */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** A monotonic time in milliseconds, for measuring intervals. */
export const now = () => performance.now();
/** `value` rounded to `digits` decimals; null for a missing or non-finite value (so it reads as null in the JSON report). */
export const round = (value, digits = 3) => (value === undefined || value === null || !Number.isFinite(value) ? null : Number(value.toFixed(digits)));
/** Milliseconds with two decimals for a table, `-` when missing. */
export const ms = (value) => (value === null || value === undefined ? '-' : value.toFixed(2));
/** Indents every line of `text` by three spaces, under a step's heading. */
export const indent = (text) => text.replace(/^/gm, '   ');

/** A success rate that never rounds a failure away: 100 % only when nothing failed. */
export function percent(ok, total) {
  if (total === 0) return 'n/a';
  if (ok === total) return '100 %';
  return `${(Math.floor((ok / total) * 100_000) / 1000).toFixed(3)} %`;
}

/** A markdown table: header row, alignment row (`r` right-aligns a column), body rows. */
export function markdownTable(header, align, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(align.map((a) => (a === 'r' ? '---:' : '---'))), ...rows.map(line)].join('\n');
}

/** How many times each code occurs in `codes`, as an object (it goes into the JSON report). */
export function countCodes(codes) {
  const counts = {};
  for (const code of codes) counts[code] = (counts[code] ?? 0) + 1;
  return counts;
}

/** Counts from {@link countCodes} as `E_A×3, E_B×1`, or `none`. */
export const codesText = (counts) => (Object.keys(counts).length === 0 ? 'none' : Object.entries(counts).map(([code, n]) => `${code}×${n}`).join(', '));

/** Deterministic payload bytes, so a run can be repeated exactly. */
export function payload(bytes, seed) {
  const random = seededRandom(seed * 7919 + bytes);
  const body = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i += 1) body[i] = Math.floor(random() * 256);
  return body;
}

/** Prints a progress line (`describe(seconds so far)`) every second while `work` runs. */
export async function withTicker(ctx, describe, work) {
  const started = now();
  const ticker = setInterval(() => ctx.progress(describe(Math.round((now() - started) / 1000))), 1000);
  try {
    return await work();
  } finally {
    clearInterval(ticker);
  }
}

// ---------------------------------------------------------------------------------
// Child processes.

/**
 * Starts `node <argv>` in the repository root and waits for the one JSON line it
 * prints once bound. The child joins `ctx.live` until it exits.
 * @param what - the child's name in error messages, e.g. `server`
 * @param notJsonHint - appended to the error when the first line is not JSON
 * @returns the child: `proc`, `pid` (the one it reports, to signal), `info` (its first line), `stdout`
 *   and `stderr` so far, `exited` (a promise of `{ code, signal }`) and `startMs`
 */
export async function startChild(ctx, argv, { what, notJsonHint = '' }) {
  const started = now();
  const proc = $({ cwd: ROOT, quiet: true, nothrow: true })`${process.execPath} ${argv}`;
  const child = { proc, pid: proc.pid, info: undefined, stdout: '', stderr: '' };
  ctx.live.add(child);
  proc.stderr.on('data', (chunk) => (child.stderr += chunk));
  child.exited = proc.then((output) => {
    ctx.live.delete(child);
    return { code: output.exitCode, signal: output.signal };
  });
  child.info = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the ${what} printed no address within ${START_TIMEOUT_MS} ms; stderr: ${child.stderr.trim()}`)), START_TIMEOUT_MS);
    proc.stdout.on('data', (chunk) => {
      child.stdout += chunk;
      const end = child.stdout.indexOf('\n');
      if (end === -1 || child.info !== undefined) return;
      clearTimeout(timer);
      try {
        resolve(JSON.parse(child.stdout.slice(0, end)));
      } catch {
        reject(new Error(`the ${what} printed ${JSON.stringify(child.stdout.slice(0, end))}, not one JSON object${notJsonHint}`));
      }
    });
    child.exited.then((exit) => {
      clearTimeout(timer);
      reject(new Error(`the ${what} exited (${exit.signal ?? `exit ${exit.code}`}) before listening: ${child.stderr.trim().split('\n').slice(0, 2).join(' / ')}`));
    });
  });
  child.startMs = now() - started;
  // The pid the child reports is the process to signal (zx may run it under a shell).
  if (Number.isInteger(child.info.pid)) child.pid = child.info.pid;
  return child;
}

/** Sends `signal` to a child from {@link startChild}; false when it was already gone. */
export function signalChild(child, signal) {
  try {
    process.kill(child.pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** SIGKILLs every child in `ctx.live`, at once and without waiting (also used on exit). */
export function killAll(ctx) {
  for (const child of ctx.live) {
    signalChild(child, 'SIGKILL');
    if (child.proc.pid !== undefined && child.proc.pid !== child.pid) {
      try {
        process.kill(child.proc.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/** Waits for a child to exit, or gives up after `timeoutMs` and returns undefined. */
export async function exitWithin(child, timeoutMs) {
  let timer;
  const timeout = new Promise((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)));
  const exit = await Promise.race([child.exited, timeout]);
  clearTimeout(timer);
  return exit;
}

/**
 * Reads a JSON-lines log's complete lines (a torn last line is left for later); a line
 * that is not JSON is counted, not fatal.
 * @returns `{ records, unreadable }`
 */
export function readJsonLines(file) {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const records = [];
  let unreadable = 0;
  for (const line of text.slice(0, text.lastIndexOf('\n') + 1).split('\n')) {
    if (line === '') continue;
    try {
      records.push(JSON.parse(line));
    } catch {
      unreadable += 1;
    }
  }
  return { records, unreadable };
}

// ---------------------------------------------------------------------------------
// The report.

/**
 * A new report: the demo's name and title, the time it started, its configuration
 * and no checks yet; `pass` and `durationMs` are filled in by {@link verdict}.
 */
export function newReport(demo, title, config) {
  return { demo, title, startedAt: new Date().toISOString(), pass: false, durationMs: 0, config, checks: [] };
}

/**
 * The reporting functions of a demo's context. Steps and checks go to stdout, or to
 * stderr with `--json` (stdout then carries only the JSON report); progress always goes
 * to stderr.
 * @returns `say(line)`, `progress(line)`, `heading(n, title)` and
 *   `check(step, name, pass, detail)`, which records a check in `report.checks` and prints
 *   it with its ok/FAIL verdict
 */
export function reporting(config, report) {
  const human = config.json ? process.stderr : process.stdout;
  const say = (line) => human.write(`${line}\n`);
  return {
    say,
    progress: (line) => process.stderr.write(`   … ${line}\n`),
    heading(n, title) {
      say(`\n${n}. ${title}`);
    },
    check(step, name, pass, detail = '') {
      report.checks.push({ step, name, pass, detail });
      say(`   ${pass ? 'ok  ' : 'FAIL'} ${name}${detail === '' ? '' : ` — ${detail}`}`);
    },
  };
}

/**
 * Runs a demo's steps. Its children die with it however it ends (an exception, SIGINT,
 * SIGTERM, exit): an exception becomes a failed check, a signal ends the process with
 * 128 + its number.
 * @param demo - the demo's name, for the message on a signal
 */
export async function runSteps(ctx, demo, steps) {
  const onExit = () => killAll(ctx);
  const onSignal = (signal) => {
    killAll(ctx);
    process.stderr.write(`${demo}: stopped by ${signal}; child processes killed\n`);
    process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
  };
  process.on('exit', onExit);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await steps();
  } catch (error) {
    ctx.check(0, 'the demo ran to the end', false, String(error?.stack ?? error).split('\n').slice(0, 3).join(' / '));
  } finally {
    killAll(ctx);
    process.off('exit', onExit);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Sets the report's `pass` (every check passed, and there was one) and `durationMs` since `started`. */
export function settle(report, started) {
  report.pass = report.checks.length > 0 && report.checks.every((c) => c.pass);
  report.durationMs = Math.round(now() - started);
}

/**
 * The markdown report's first line: time, verdict, checks and duration, then `tail`.
 */
export function headline(report, tail) {
  return `${report.startedAt} · ${report.pass ? 'PASS' : 'FAIL'} · ${report.checks.filter((x) => x.pass).length}/${report.checks.length} checks · ${(report.durationMs / 1000).toFixed(1)} s · ${tail}`;
}

/** The markdown report's closing section: a `## Checks` heading and one line per check, as lines. */
export function checksSection(report) {
  return [
    '## Checks',
    '',
    ...report.checks.map((x) => `- ${x.pass ? 'ok' : '**FAIL**'} [${x.step}] ${x.name}${x.detail === '' ? '' : ` — ${x.detail}`}`),
    '',
  ];
}

/**
 * Prints the closing PASS/FAIL line, and the JSON report on stdout with `--json`.
 * @returns the exit status: 0 when every check passed, 1 otherwise
 */
export function verdict(ctx, demo) {
  const report = ctx.report;
  const passed = report.checks.filter((c) => c.pass).length;
  ctx.say(`\n${report.pass ? 'PASS' : 'FAIL'}: ${demo} demo, ${passed}/${report.checks.length} checks passed in ${(report.durationMs / 1000).toFixed(1)} s`);
  if (ctx.config.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  return report.pass ? EXIT.ok : EXIT.negative;
}

/** Runs `main(argv)` and sets the exit status when the module at `url` is the process's entry (run directly, not through run.mjs). */
export async function runIfEntry(url, main) {
  if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(url)) {
    process.exitCode = await main(process.argv.slice(2));
  }
}
