/**
 * Runs a chapter's checked transcripts for real and compares what they print.
 *
 * All blocks of one chapter run in order in **one** `bash` process started at the
 * repository root, the way a reader types them into one terminal: the set-up block's
 * shell function and scratch directory carry over to every later block. Standard input
 * is `/dev/null` and stderr is merged into stdout, so output keeps the order it was
 * written in. After each command the script prints a sentinel line (`\x1e` + index +
 * `\x1e`) that splits the stream per command, and tells which command is running when a
 * timeout strikes.
 *
 * The shell runs in its own process group; when it ends (or a command overruns its
 * timeout) the whole group is killed, so a server a block started in the background
 * cannot outlive the check.
 * @module
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  compareOutput,
  normalizeOutput,
  parseChapter,
  type Transcript,
  type TranscriptCommand,
  type TranscriptProblem,
} from './transcript.ts';

/** What to run of a chapter. */
export interface RunChapterOptions {
  /** Absolute repository root: the shell's working directory. */
  readonly root: string;
  /** The chapter's Markdown path relative to the root (for messages). */
  readonly path: string;
  /** The chapter's text. */
  readonly markdown: string;
  /** Run blocks marked `long` too. */
  readonly long?: boolean;
  /** Told before each command starts. */
  readonly progress?: (command: TranscriptCommand, index: number, total: number) => void;
}

/** The result of running one chapter. */
export interface ChapterRun {
  /** The chapter's Markdown path, relative to the root. */
  readonly path: string;
  /** Checked blocks in the chapter. */
  readonly blocks: number;
  /** How many of them ran (none when the chapter is malformed; `long` ones only with `--long`). */
  readonly blocksRun: number;
  /** Commands run. */
  readonly commands: number;
  /** Actual output lines by the command's Markdown line (what `--update` writes). */
  readonly outputs: ReadonlyMap<number, readonly string[]>;
  /** Everything wrong, in Markdown line order; empty when the chapter's transcripts hold. */
  readonly problems: readonly TranscriptProblem[];
  /** Wall-clock seconds the run took. */
  readonly seconds: number;
}

/** Seconds the shell gets, after its last command, to end before the group is killed. */
const GRACE_S = 5;

/**
 * Parses a chapter, runs its checked transcripts and compares every command's output.
 * A malformed chapter is reported without running anything.
 * @param opts - the chapter and where to run it
 * @returns the run's outputs and problems
 */
export async function runChapter(opts: RunChapterOptions): Promise<ChapterRun> {
  const started = performance.now();
  const parsed = parseChapter(opts.markdown);
  const problems: TranscriptProblem[] = [...parsed.problems];
  const blocks = parsed.transcripts;
  if (blocks.length > 0 && !blocks[0]!.setup) {
    problems.push({
      code: 'E_CHAPTER_NO_SETUP',
      line: blocks[0]!.line,
      message: 'Mark the first console block `setup` and make it define everything later blocks use (a reader may start at this chapter)',
    });
  }
  const selected = blocks.filter((b) => opts.long === true || !b.long);
  const outputs = new Map<number, readonly string[]>();
  let commands = 0;
  if (problems.length === 0 && selected.length > 0) {
    const plan = selected.flatMap((block) => block.commands.map((command) => ({ block, command })));
    const raw = await runScript(opts, plan);
    commands = raw.outputs.length;
    raw.outputs.forEach((text, index) => {
      const { block, command } = plan[index]!;
      const actual = normalizeOutput(text, opts.root);
      outputs.set(command.line, actual);
      const problem = compareOutput(block, command, actual, parsed.masks);
      if (problem !== undefined) problems.push(problem);
    });
    if (raw.timedOut !== undefined) {
      const { command, block } = plan[raw.timedOut]!;
      problems.push({
        code: 'E_CHAPTER_TIMEOUT',
        line: command.line,
        message: `Command ran past ${block.timeoutS} s and was killed; make it finish sooner, mark the block long, or raise its timeout=`,
        diff: normalizeOutput(raw.partial, opts.root).map((l) => `+ ${l}`),
      });
    } else if (raw.outputs.length < plan.length) {
      const { command } = plan[raw.outputs.length]!;
      problems.push({
        code: 'E_CHAPTER_NOT_RUN',
        line: command.line,
        message: `The shell ended before this command finished (status ${raw.status}): an earlier command exited it or an open quote swallowed the rest`,
        diff: normalizeOutput(raw.partial, opts.root).map((l) => `+ ${l}`),
      });
    }
  }
  problems.sort((a, b) => a.line - b.line);
  return {
    path: opts.path,
    blocks: blocks.length,
    blocksRun: problems.some((p) => p.code === 'E_CHAPTER_MALFORMED' || p.code === 'E_CHAPTER_UNKNOWN_MASK' || p.code === 'E_CHAPTER_NO_SETUP') ? 0 : selected.length,
    commands,
    outputs,
    problems,
    seconds: (performance.now() - started) / 1000,
  };
}

/** One command to run, with the block it belongs to. */
interface Step {
  readonly block: Transcript;
  readonly command: TranscriptCommand;
}

/** What the shell printed, split per command. */
interface ScriptResult {
  /** Raw output of each command that finished, in order. */
  readonly outputs: string[];
  /** Index of the command that overran its timeout, if one did. */
  readonly timedOut: number | undefined;
  /** Output after the last sentinel (of the command that did not finish). */
  readonly partial: string;
  readonly status: number | null;
}

const SENTINEL = /\n?\x1e(\d+)\x1e\n/;

/** Writes the plan as one bash script and runs it, splitting its output at the sentinels. */
async function runScript(opts: RunChapterOptions, plan: readonly Step[]): Promise<ScriptResult> {
  const dir = mkdtempSync(join(tmpdir(), 'civictrust-chapter-'));
  const script = join(dir, 'transcript.sh');
  const lines = ['exec </dev/null 2>&1', `cd ${shellQuote(opts.root)} || exit 97`];
  plan.forEach(({ command }, index) => {
    lines.push(command.command, `printf '\\n\\036%d\\036\\n' ${index}`);
  });
  writeFileSync(script, `${lines.join('\n')}\n`);
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', TERM: 'dumb', COLUMNS: '100' };
  // A check run from inside vitest must not make the chapter's own vitest runs think they are nested.
  for (const key of Object.keys(env)) if (key.startsWith('VITEST') || key === 'TEST' || key === 'NODE_OPTIONS') delete env[key];
  const child = spawn('bash', ['--noprofile', '--norc', script], { cwd: opts.root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const outputs: string[] = [];
  let buffer = '';
  let timedOut: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  const killGroup = (): void => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // The group is already gone.
    }
  };
  const arm = (): void => {
    clearTimeout(timer);
    const next = plan[outputs.length];
    if (next === undefined) return;
    opts.progress?.(next.command, outputs.length, plan.length);
    timer = setTimeout(() => {
      timedOut = outputs.length;
      killGroup();
    }, next.block.timeoutS * 1000);
  };
  const onData = (chunk: Buffer): void => {
    buffer += chunk.toString('utf8');
    for (let m = SENTINEL.exec(buffer); m !== null; m = SENTINEL.exec(buffer)) {
      outputs.push(buffer.slice(0, m.index));
      buffer = buffer.slice(m.index + m[0].length);
      arm();
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  arm();
  const status = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  clearTimeout(timer);
  // Background jobs a block started still hold the pipes open: end them, then drain what is left.
  killGroup();
  await new Promise<void>((resolve) => {
    const grace = setTimeout(resolve, GRACE_S * 1000);
    child.on('close', () => {
      clearTimeout(grace);
      resolve();
    });
    if (child.stdout.readableEnded && child.stderr.readableEnded) resolve();
  });
  rmSync(dir, { recursive: true, force: true });
  return { outputs, timedOut, partial: buffer, status };
}

/** Quotes a string for bash. */
function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
