/**
 * `npm run chapters -- check <week|all> [--update] [--long] [--json] [--root DIR]`:
 * re-runs every shell transcript a chapter shows and compares the output it quotes.
 *
 * A chapter's ```` ```console ```` fences are its checked transcripts (the format is in
 * `docs/transcript.ts`). `check` runs them in order in one shell from the repository
 * root and prints, for every command whose output no longer matches, the chapter, the
 * line and a diff. `--update` writes the actual output back into the chapter instead,
 * for review as a diff, the way golden files are refreshed.
 *
 * Exit status: 0 every transcript holds, 1 a transcript differs, timed out or is
 * malformed, 2 the command line is wrong. Progress goes to stderr.
 * @module
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { GateError } from '../gates/gate_error.ts';
import { findWeekFolders, parseWeekArg } from '../gates/weeks.ts';
import { runChapter, type ChapterRun } from './chapter_runner.ts';
import { DEFAULT_MASKS, MASKS, updateChapter } from './transcript.ts';

const USAGE = `usage: npm run chapters -- check <week|all> [--update] [--long] [--json] [--root DIR]

  check <week>  run the checked transcripts (\`\`\`console blocks) of one chapter: 1-24, week-6, week-06
  check all     every built week's chapter, in order
  --update      write the actual output of each command that fails the check into the chapter
                (review the diff before committing); output that differs only inside masks stays
  --long        also run blocks marked long (soaks, full benchmarks)
  --json        print one JSON document on stdout instead of text
  --root DIR    repository root (default: this repository)
  --help        print this help

Block attributes: setup, measured, long, timeout=SECONDS, mask=NAME[,NAME…].
Masks (${DEFAULT_MASKS.join(' and ')} always apply):
${Object.entries(MASKS).map(([name, m]) => `  ${name.padEnd(6)} ${m.describes}`).join('\n')}
A chapter declares its own with a line <!-- mask NAME /REGEX/FLAGS -->.

Exit status: 0 every transcript holds, 1 one differs, timed out or is malformed,
2 the command line is wrong.`;

/** The repository root: the folder above `docs/`. */
const DEFAULT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A chapter to check: its week and Markdown path. */
interface Target {
  readonly week: number;
  readonly path: string;
}

/**
 * Runs the chapters CLI.
 * @param argv - the arguments after the script name
 * @returns the exit status
 */
export async function main(argv: readonly string[]): Promise<number> {
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        update: { type: 'boolean', default: false },
        long: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        root: { type: 'string', default: DEFAULT_ROOT },
      },
    }));
  } catch (error) {
    return usage(`Fix the command line: ${(error as Error).message}`);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [verb, which, ...extra] = positionals;
  if (verb !== 'check' || which === undefined || extra.length > 0) {
    return usage(`Name what to check: chapters check <week|all> (got "${positionals.join(' ')}")`);
  }
  const root = resolve(values.root);
  let targets: Target[];
  try {
    targets = selectChapters(root, which);
  } catch (error) {
    if (!(error instanceof GateError)) throw error;
    return usage(error.message);
  }
  const runs: ChapterRun[] = [];
  for (const target of targets) {
    const file = resolve(root, target.path);
    const markdown = readFileSync(file, 'utf8');
    const run = await runChapter({
      root,
      path: target.path,
      markdown,
      long: values.long,
      progress: (command, index, total) => {
        process.stderr.write(`chapters: ${target.path}:${command.line} [${index + 1}/${total}] $ ${command.command.split('\n')[0]}\n`);
      },
    });
    runs.push(run);
    if (values.update) {
      // The run takes a while: an edit made to the chapter meanwhile must not be overwritten by the copy read before it.
      if (readFileSync(file, 'utf8') !== markdown) {
        process.stderr.write(`error[E_CHAPTERS_EDITED]: ${target.path} changed while its transcripts ran; nothing was written, run --update again\n`);
        return 1;
      }
      // Only outputs that fail the check are rewritten: one that differs inside its masks keeps the figures its prose cites.
      const differing = new Set(run.problems.filter((p) => p.code === 'E_CHAPTER_OUTPUT_DIFFERS').map((p) => p.line));
      const { text, changed } = updateChapter(markdown, new Map([...run.outputs].filter(([line]) => differing.has(line))));
      if (changed > 0) writeFileSync(file, text);
      process.stderr.write(`chapters: ${target.path}: ${changed} output(s) rewritten; review them with git diff\n`);
    }
    if (!values.json) process.stdout.write(formatRun(run, values.update));
  }
  const failed = values.update ? runs.filter((r) => r.problems.some((p) => p.code !== 'E_CHAPTER_OUTPUT_DIFFERS')) : runs.filter((r) => r.problems.length > 0);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(runs.map(toJson), null, 2)}\n`);
  } else {
    process.stdout.write(`${runs.length - failed.length} passed, ${failed.length} failed\n`);
  }
  return failed.length === 0 ? 0 : 1;
}

/** Resolves `<week|all>` to chapter files; `all` means every built week (one with a gate). */
function selectChapters(root: string, which: string): Target[] {
  const week = parseWeekArg(which);
  const folders = [...findWeekFolders(root).values()];
  const chosen = week === 'all' ? folders.filter((f) => f.gateFile !== undefined) : folders.filter((f) => f.week === week);
  if (chosen.length === 0) throw new GateError('E_GATE_NOT_BUILT', `Cannot check week ${which}: it has no chapter folder yet`);
  return chosen.sort((a, b) => a.week - b.week).map((f) => ({ week: f.week, path: relative(root, resolve(f.dir, 'README.md')) }));
}

/** One chapter's verdict for people: a summary line, then each problem with its line and diff. */
function formatRun(run: ChapterRun, updated: boolean): string {
  const head = `${run.problems.length === 0 ? 'PASS' : updated ? 'UPDATED' : 'FAIL'} ${run.path}: ${run.blocksRun} of ${run.blocks} blocks, ${run.commands} commands, ${run.seconds.toFixed(1)} s\n`;
  const body = run.problems
    .filter((p) => !(updated && p.code === 'E_CHAPTER_OUTPUT_DIFFERS'))
    .map((p) => `${run.path}:${p.line}: error[${p.code}]: ${p.message}\n${(p.diff ?? []).map((l) => `    ${l}\n`).join('')}`)
    .join('');
  return head + body;
}

/** One chapter's verdict for machines. */
function toJson(run: ChapterRun): object {
  return {
    chapter: run.path,
    ok: run.problems.length === 0,
    blocks: run.blocks,
    blocksRun: run.blocksRun,
    commands: run.commands,
    seconds: Number(run.seconds.toFixed(3)),
    problems: run.problems,
  };
}

function usage(message: string): number {
  process.stderr.write(`error[E_CHAPTERS_USAGE]: ${message}\n${USAGE}\n`);
  return 2;
}

// Run only as the entry script, so tests can import `main`.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
