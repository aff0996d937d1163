/**
 * Shell transcripts in chapters: how they are written, parsed, masked and compared.
 *
 * A chapter shows a terminal session in a ```` ```console ```` fence. Every such fence
 * is a *checked* transcript: `npm run chapters -- check` runs its commands and compares
 * what they print with what the chapter quotes.
 *
 * ````md
 * ```console mask=dur,port
 * $ civictrust echo send --port 7001 hello
 * hello (round trip 1.2 ms)
 * $ printf 'a\n' |
 * >   wc -l
 * 1
 * ```
 * ````
 *
 * - A line starting `$ ` is a command; each following line starting `> ` continues it
 *   (the `$ `/`> ` prompts are dropped, the lines joined with newlines, as a shell reads them).
 * - Every other line, up to the next command, is that command's expected output:
 *   stdout and stderr together, in the order they were written.
 * - Attributes of the fence (words after `console`):
 *
 * | attribute | meaning |
 * |---|---|
 * | `setup` | the chapter's set-up block: what makes every later block runnable on its own |
 * | `mask=a,b` | volatile parts to mask, by name ({@link MASKS}, or a chapter's own `<!-- mask … -->`; a declared mask applies only to the blocks that name it) |
 * | `measured` | the figures are a measurement: every number is masked and runs of spaces fold, so the shape is checked, not the digits |
 * | `long` | takes minutes: run only by `--long`, otherwise parsed and shape-checked |
 * | `timeout=S` | seconds each command of the block may take (default {@link DEFAULT_TIMEOUT_S}) |
 *
 * Masks apply in the order the block lists them, after the defaults and before the
 * numbers `measured` folds: list a narrow mask before a broad one that would eat part of
 * its match. Masks replace a volatile part by a placeholder on *both* sides before comparing, so the
 * chapter keeps the real text a reader will see and the check still holds. Timestamps
 * and UUIDs are masked everywhere ({@link DEFAULT_MASKS}); the repository's own absolute
 * path is written as {@link ROOT_PLACEHOLDER} in quoted output, wherever the clone lives.
 *
 * This module is pure: running the commands is `docs/chapters.ts`'s job.
 * @module
 */
import { findFences, type Fence } from './regions.ts';

/** The fence language of a checked transcript. */
export const TRANSCRIPT_LANG = 'console';

/** Seconds one command may run before the check gives up on it, unless the block says `timeout=`. */
export const DEFAULT_TIMEOUT_S = 120;

/** How quoted output names the repository's root, so the text is the same in every clone. */
export const ROOT_PLACEHOLDER = '/path/to/civictrust';

/** A named pattern of volatile text and the placeholder that stands for each match. */
export interface Mask {
  /** What to mask (global). */
  readonly pattern: RegExp;
  /** What stands for each match (`$1` keeps the pattern's first group). */
  readonly placeholder: string;
  /** One line for `chapters --help` and the docs. */
  readonly describes: string;
}

/** The built-in masks, by the name a fence's `mask=` attribute uses. */
export const MASKS: Readonly<Record<string, Mask>> = {
  ts: { pattern: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)/g, placeholder: '<ts>', describes: 'ISO-8601 timestamps' },
  uuid: { pattern: /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, placeholder: '<uuid>', describes: 'UUIDs (record and request ids)' },
  clock: { pattern: /\b\d\d:\d\d:\d\d\b/g, placeholder: '<hh:mm:ss>', describes: 'wall-clock times of day' },
  dur: {
    pattern: /\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\s?(?:ns|µs|us|ms|s|min|h)\b/g,
    placeholder: '<dur>',
    describes: 'durations with a unit (12ms, 1.5 s, 300 µs)',
  },
  port: {
    pattern: /((?:127\.0\.0\.1|localhost|\[::1\]|0\.0\.0\.0|::):|\bports? |\bport=|--port )\d{2,5}\b/g,
    placeholder: '$1<port>',
    describes: 'TCP ports after a loopback address, `port `, `port=` or `--port `',
  },
  pid: { pattern: /\b(pid[ =:]?|PID |\[pid +)\d+/g, placeholder: '$1<pid>', describes: 'process ids after `pid`' },
  hex: { pattern: /\b[0-9a-f]{16,}\b/g, placeholder: '<hex>', describes: 'long lower-case hex strings (hashes of random data, key ids)' },
  b64: { pattern: /[A-Za-z0-9_-]{22,}={0,2}/g, placeholder: '<b64>', describes: 'long base64/base64url strings (signatures, nonces)' },
  tmp: { pattern: /\/tmp\/[A-Za-z0-9._-]+/g, placeholder: '/tmp/<tmp>', describes: 'a name directly under /tmp' },
  num: { pattern: /\d+(?:\.\d+)?/g, placeholder: '<n>', describes: 'every number (what `measured` applies)' },
};

/** Masks applied to every transcript, declared or not: these never carry meaning a reader checks. */
export const DEFAULT_MASKS: readonly string[] = ['ts', 'uuid'];

/** A stable code for each way a chapter's transcripts can fail their check. */
export type TranscriptErrorCode =
  | 'E_CHAPTER_MALFORMED'
  | 'E_CHAPTER_UNKNOWN_MASK'
  | 'E_CHAPTER_OUTPUT_DIFFERS'
  | 'E_CHAPTER_TIMEOUT'
  | 'E_CHAPTER_NOT_RUN'
  | 'E_CHAPTER_NO_SETUP';

/** One command of a transcript and the output the chapter quotes for it. */
export interface TranscriptCommand {
  /** 1-based Markdown line of the command's `$ ` line. */
  readonly line: number;
  /** The command as the shell reads it (continuation lines joined by `\n`, prompts dropped). */
  readonly command: string;
  /** The command's lines exactly as quoted, prompts included (kept verbatim by `--update`). */
  readonly source: readonly string[];
  /** Quoted output lines (no trailing blank lines). */
  readonly expected: readonly string[];
}

/** A checked transcript: one `console` fence. */
export interface Transcript {
  /** 1-based Markdown line of the opening fence. */
  readonly line: number;
  /** Flagged `setup`: the block that makes the chapter's later blocks runnable. */
  readonly setup: boolean;
  /** Flagged `measured`: numbers are masked, so only the output's shape is checked. */
  readonly measured: boolean;
  /** Flagged `long`: run only by `--long`. */
  readonly long: boolean;
  /** Seconds each command may take. */
  readonly timeoutS: number;
  /** Mask names this block applies, defaults included, in the order given. */
  readonly masks: readonly string[];
  readonly commands: readonly TranscriptCommand[];
}

/** A problem found in a chapter, located at a Markdown line. */
export interface TranscriptProblem {
  /** What kind of problem it is. */
  readonly code: TranscriptErrorCode;
  /** 1-based Markdown line it is at. */
  readonly line: number;
  /** What is wrong and what to do, in one sentence. */
  readonly message: string;
  /** Diff lines (`  ` same, `- ` quoted, `+ ` actual), for output that differs. */
  readonly diff?: readonly string[];
}

/** A chapter's transcripts, the masks it declares, and what is wrong with how they are written. */
export interface ParsedChapter {
  /** The checked transcripts, in order. */
  readonly transcripts: readonly Transcript[];
  /** Built-in masks and the chapter's declared ones, by name. */
  readonly masks: Readonly<Record<string, Mask>>;
  /** How the chapter's transcripts are malformed, if they are. */
  readonly problems: readonly TranscriptProblem[];
}

/** `<!-- mask NAME /REGEX/FLAGS -->`: a chapter's own mask; its placeholder is `<NAME>`. */
const MASK_DECLARATION = /^<!--\s*mask\s+([a-z][a-z0-9-]*)\s+\/(.+)\/([a-z]*)\s*-->\s*$/;

/**
 * Parses every `console` fence of a chapter, and the masks it declares.
 * @param markdown - the chapter's text
 * @returns the transcripts in order, the chapter's masks (built-in and declared), and
 *   `E_CHAPTER_MALFORMED` / `E_CHAPTER_UNKNOWN_MASK` problems; a malformed block is left out
 */
export function parseChapter(markdown: string): ParsedChapter {
  const problems: TranscriptProblem[] = [];
  const masks: Record<string, Mask> = { ...MASKS };
  markdown.split('\n').forEach((text, index) => {
    const m = MASK_DECLARATION.exec(text.trim());
    if (m === null) return;
    const [, name = '', source = '', flags = ''] = m;
    try {
      masks[name] = { pattern: new RegExp(source, flags.includes('g') ? flags : `${flags}g`), placeholder: `<${name}>`, describes: `declared at line ${index + 1}` };
    } catch (error) {
      problems.push({ code: 'E_CHAPTER_UNKNOWN_MASK', line: index + 1, message: `Fix the mask declaration: ${(error as Error).message}` });
    }
  });
  const transcripts: Transcript[] = [];
  for (const fence of findFences(markdown)) {
    if (fence.lang !== TRANSCRIPT_LANG) continue;
    const parsed = parseTranscript(fence, masks);
    problems.push(...parsed.problems);
    if (parsed.transcript !== undefined) transcripts.push(parsed.transcript);
  }
  return { transcripts, masks, problems };
}

/** Parses one `console` fence; a problem instead of a transcript when it cannot be run as written. */
function parseTranscript(fence: Fence, masks: Readonly<Record<string, Mask>>): { transcript?: Transcript; problems: TranscriptProblem[] } {
  const problems: TranscriptProblem[] = [];
  const { attrs } = fence;
  const names = [...DEFAULT_MASKS, ...(attrs['mask'] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')];
  for (const name of names) {
    if (masks[name] === undefined) {
      problems.push({
        code: 'E_CHAPTER_UNKNOWN_MASK',
        line: fence.line,
        message: `Use a known mask instead of "${name}" (${Object.keys(masks).join(', ')}), or declare it: <!-- mask ${name} /regex/ -->`,
      });
    }
  }
  const timeoutS = attrs['timeout'] === undefined ? DEFAULT_TIMEOUT_S : Number(attrs['timeout']);
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) {
    problems.push({ code: 'E_CHAPTER_MALFORMED', line: fence.line, message: `Give timeout= a positive number of seconds, not "${attrs['timeout']}"` });
  }
  const commands: { line: number; lines: string[]; source: string[]; expected: string[] }[] = [];
  const body = fence.body.replace(/\n$/, '');
  (body === '' ? [] : body.split('\n')).forEach((text, index) => {
    const line = fence.line + 1 + index;
    const last = commands.at(-1);
    if (text.startsWith('$ ') || text === '$') {
      commands.push({ line, lines: [text.slice(2)], source: [text], expected: [] });
    } else if ((text.startsWith('> ') || text === '>') && last !== undefined && last.expected.length === 0) {
      last.lines.push(text.slice(2));
      last.source.push(text);
    } else if (last === undefined) {
      problems.push({ code: 'E_CHAPTER_MALFORMED', line, message: 'Start the transcript with a command line (`$ …`): this output belongs to no command' });
    } else {
      last.expected.push(text);
    }
  });
  if (commands.length === 0 && body.trim() === '') {
    problems.push({ code: 'E_CHAPTER_MALFORMED', line: fence.line, message: 'Give the console block at least one command (`$ …`), or make it a `text` block' });
  }
  if (problems.length > 0) return { problems };
  return {
    problems,
    transcript: {
      line: fence.line,
      setup: attrs['setup'] !== undefined,
      measured: attrs['measured'] !== undefined,
      long: attrs['long'] !== undefined,
      timeoutS,
      masks: attrs['measured'] !== undefined ? [...names, 'num'] : names,
      commands: commands.map((c) => ({ line: c.line, command: c.lines.join('\n'), source: c.source, expected: trimTrailingBlank(c.expected) })),
    },
  };
}

/**
 * Turns what a command printed into the lines a chapter would quote: ANSI colours
 * removed, `\r\n` folded, the repository root written as {@link ROOT_PLACEHOLDER},
 * trailing blank lines dropped.
 * @param raw - stdout and stderr as the command wrote them
 * @param root - the repository's absolute path in this run
 */
export function normalizeOutput(raw: string, root: string): string[] {
  // eslint-disable-next-line no-control-regex
  let text = raw.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r\n/g, '\n');
  const bare = root.replace(/\/+$/, '');
  if (bare !== '') text = text.split(bare).join(ROOT_PLACEHOLDER);
  return trimTrailingBlank(text === '' ? [] : text.replace(/\n$/, '').split('\n'));
}

/**
 * Applies a block's masks to one line; with `measured`, also folds runs of spaces so a
 * table whose columns widen with longer numbers keeps its shape.
 * @param line - quoted or actual output
 * @param names - mask names, in order
 * @param masks - the chapter's masks by name
 */
export function maskLine(line: string, names: readonly string[], masks: Readonly<Record<string, Mask>>): string {
  let out = line;
  for (const name of names) {
    const mask = masks[name];
    if (mask !== undefined) out = out.replace(mask.pattern, mask.placeholder);
  }
  return names.includes('num') ? out.replace(/ {2,}/g, ' ').trimEnd() : out;
}

/**
 * Compares one command's quoted output with what it printed, after masking both.
 * @param transcript - the block the command belongs to (its masks)
 * @param command - the command with its quoted output
 * @param actual - the normalized actual output ({@link normalizeOutput})
 * @param masks - the chapter's masks
 * @returns `undefined` when they agree, else an `E_CHAPTER_OUTPUT_DIFFERS` problem with a diff
 */
export function compareOutput(
  transcript: Transcript,
  command: TranscriptCommand,
  actual: readonly string[],
  masks: Readonly<Record<string, Mask>>,
): TranscriptProblem | undefined {
  const want = command.expected.map((l) => maskLine(l, transcript.masks, masks));
  const got = actual.map((l) => maskLine(l, transcript.masks, masks));
  if (want.length === got.length && want.every((l, i) => l === got[i])) return undefined;
  return {
    code: 'E_CHAPTER_OUTPUT_DIFFERS',
    line: command.line,
    message: `Output differs for \`${firstLine(command.command)}\` (- quoted, + actual; run with --update to take the actual output, then review the diff)`,
    diff: lineDiff(command.expected, actual, want, got),
  };
}

/**
 * A line diff of quoted against actual output, computed on the masked lines and shown
 * with the real ones: `  ` kept, `- ` only quoted, `+ ` only printed.
 */
export function lineDiff(quoted: readonly string[], actual: readonly string[], maskedQuoted: readonly string[], maskedActual: readonly string[]): string[] {
  const n = maskedQuoted.length;
  const m = maskedActual.length;
  // lcs[i][j]: length of the longest common subsequence of quoted[i..] and actual[j..].
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = maskedQuoted[i] === maskedActual[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && maskedQuoted[i] === maskedActual[j]) {
      out.push(`  ${actual[j]}`);
      i++;
      j++;
    } else if (i < n && (j === m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      out.push(`- ${quoted[i]}`);
      i++;
    } else {
      out.push(`+ ${actual[j]}`);
      j++;
    }
  }
  return out;
}

/**
 * Rewrites a chapter's transcripts with what their commands printed (`--update`):
 * command lines stay exactly as written; each output is replaced. Commands missing
 * from `outputs` (not run) keep their quoted output.
 * @param markdown - the chapter
 * @param outputs - actual output lines by the command's Markdown line
 * @returns the new text and how many commands' outputs changed
 */
export function updateChapter(markdown: string, outputs: ReadonlyMap<number, readonly string[]>): { text: string; changed: number } {
  const lines = markdown.split('\n');
  const { transcripts } = parseChapter(markdown);
  let changed = 0;
  // Last command first, so the line numbers of earlier ones stay valid while outputs change length.
  const commands = transcripts.flatMap((t) => t.commands).reverse();
  for (const command of commands) {
    const actual = outputs.get(command.line);
    if (actual === undefined) continue;
    if (actual.length === command.expected.length && actual.every((l, i) => l === command.expected[i])) continue;
    const start = command.line - 1 + command.source.length;
    const indent = /^( *)/.exec(lines[command.line - 1] ?? '')?.[1] ?? '';
    let end = start;
    // The quoted output runs to the next command or the closing fence; trailing blanks are part of it.
    while (end < lines.length && !isCommandOrFence(lines[end]!.slice(indent.length))) end++;
    lines.splice(start, end - start, ...actual.map((l) => (l === '' ? l : indent + l)));
    changed += 1;
  }
  return { text: lines.join('\n'), changed };
}

/** Whether a body line (indent removed) starts the next command or closes the fence. */
function isCommandOrFence(text: string): boolean {
  return text.startsWith('$ ') || text === '$' || /^(`{3,}|~{3,})\s*$/.test(text);
}

function trimTrailingBlank(lines: readonly string[]): string[] {
  let end = lines.length;
  while (end > 0 && lines[end - 1]!.trim() === '') end--;
  return lines.slice(0, end);
}

function firstLine(command: string): string {
  const first = command.split('\n')[0] ?? '';
  return command.includes('\n') ? `${first} …` : first;
}
