/**
 * Fenced code blocks in Markdown, and the named source regions they quote.
 *
 * A chapter never keeps its own copy of code. It marks a span of the module with
 * `// #region name` … `// #endregion name` and writes a fence whose info string points
 * at it:
 *
 * ````md
 * ```ts file=node_log_file.ts region=append
 * …the exact text of the region…
 * ```
 * ````
 *
 * `docs/quotes.test.ts` checks that every such fence still equals its region, and the
 * docs site uses the same functions to render the chapters. This module does no I/O:
 * reading files is the caller's job, passed in as a function.
 * @module
 */

/** A region marker line: `// #region name` or `// #endregion name` (text after the name is ignored). */
const MARKER = /^\s*\/\/\s*#(region|endregion)(?=\s|$)\s*(\S*)/;

/** A fenced code block found in a Markdown file. */
export interface Fence {
  /** First word of the info string (`ts`, `sh`, …), or `''` when the fence has none. */
  readonly lang: string;
  /** The whole info string, trimmed (`ts file=wal.ts region=wal-append`). */
  readonly info: string;
  /** The `key=value` words after the language; a bare word maps to `''` (`no-check`). */
  readonly attrs: Readonly<Record<string, string>>;
  /** The lines between the fences, each ending in `\n` (`''` for an empty fence). */
  readonly body: string;
  /** 1-based line of the opening fence in the Markdown file. */
  readonly line: number;
}

/**
 * Splits a fence's info string into its language and its attributes.
 *
 * Words after the first are `key=value` pairs; a value may be wrapped in double
 * quotes to hold spaces. A word without `=` becomes a flag whose value is `''`.
 * @param info - the text after the opening backticks or tildes
 * @returns the language (first word, `''` if none) and the attributes
 * @example
 * parseFenceInfo('ts file=log_file.ts region=append')
 * // → { lang: 'ts', attrs: { file: 'log_file.ts', region: 'append' } }
 */
export function parseFenceInfo(info: string): { lang: string; attrs: Record<string, string> } {
  const words = [...info.trim().matchAll(/[^\s=]+="[^"]*"|\S+/g)].map((m) => m[0]);
  const attrs: Record<string, string> = {};
  const [first, ...rest] = words;
  // An info string that opens with a key=value (no language) still has its attributes read.
  const lang = first === undefined || first.includes('=') ? '' : first;
  for (const word of first !== undefined && lang === '' ? words : rest) {
    const eq = word.indexOf('=');
    if (eq <= 0) {
      attrs[word] = '';
      continue;
    }
    let value = word.slice(eq + 1);
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    attrs[word.slice(0, eq)] = value;
  }
  return { lang, attrs };
}

/**
 * Lists the fenced code blocks of a Markdown document, in order.
 *
 * Follows CommonMark's fence rules where they matter here: a fence is three or more
 * backticks or tildes; it closes on a line of the same character, at least as long,
 * with nothing after it; a backtick fence's info string holds no backtick; a fence
 * left open runs to the end of the document. An opening fence may be indented (as in
 * a list item); that much indentation is removed from each body line.
 * @param markdown - the document's text (`\n` or `\r\n` line ends)
 * @returns every fence, with its 1-based opening line
 */
export function findFences(markdown: string): Fence[] {
  const lines = splitLines(markdown);
  const fences: Fence[] = [];
  let i = 0;
  while (i < lines.length) {
    const open = /^( *)(`{3,}|~{3,})(.*)$/.exec(lines[i] ?? '');
    if (open === null || (open[2]?.startsWith('`') === true && open[3]?.includes('`') === true)) {
      i += 1;
      continue;
    }
    const indent = open[1]?.length ?? 0;
    const marker = open[2] ?? '```';
    const info = (open[3] ?? '').trim();
    const closing = new RegExp(`^ *${marker[0] === '`' ? '`' : '~'}{${marker.length},} *$`);
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !closing.test(lines[j] ?? '')) {
      body.push(stripIndent(lines[j] ?? '', indent));
      j += 1;
    }
    const { lang, attrs } = parseFenceInfo(info);
    fences.push({ lang, info, attrs, body: joinLines(body), line: i + 1 });
    i = j + 1;
  }
  return fences;
}

/**
 * Returns the text of one named region of a source file.
 *
 * The region is every line strictly between `// #region name` and
 * `// #endregion name`. Marker lines of regions nested inside it are dropped, the
 * indentation its lines share is removed, and the result ends in exactly one `\n`.
 * Every marker in the file is checked, not only the requested pair, so a broken
 * layout is reported wherever it is.
 * @param source - the file's text
 * @param name - the region's name, as written after `#region`
 * @returns the region's text, dedented
 * @throws {@link Error} when the region is missing or appears twice, when any region
 *   is left open or closed under the wrong name, or when an `#endregion` has no name
 */
export function extractRegion(source: string, name: string): string {
  const lines = splitLines(source);
  const open: { name: string; line: number }[] = [];
  const spans: { start: number; end: number }[] = [];
  const seen: string[] = [];
  for (const [index, text] of lines.entries()) {
    const marker = MARKER.exec(text);
    if (marker === null) continue;
    const [, kind, markerName = ''] = marker;
    const lineNo = index + 1;
    if (kind === 'region') {
      if (markerName === '') throw new Error(`Cannot read regions: #region without a name at line ${lineNo}`);
      open.push({ name: markerName, line: lineNo });
      seen.push(markerName);
      continue;
    }
    const top = open.pop();
    if (markerName === '') {
      throw new Error(`Cannot read regions: #endregion without a name at line ${lineNo}`);
    }
    if (top === undefined) {
      throw new Error(`Cannot read regions: #endregion ${markerName} at line ${lineNo} has no matching #region`);
    }
    if (top.name !== markerName) {
      throw new Error(
        `Cannot read regions: #endregion ${markerName} at line ${lineNo} closes region ${top.name} ` +
          `(opened at line ${top.line}); regions must nest`,
      );
    }
    if (markerName === name) spans.push({ start: top.line, end: lineNo });
  }
  const unclosed = open.at(-1);
  if (unclosed !== undefined) {
    throw new Error(`Cannot read regions: region ${unclosed.name} opened at line ${unclosed.line} is never closed`);
  }
  const [span, second] = spans;
  if (span === undefined) {
    const known = seen.length === 0 ? 'the file has no regions' : `regions in the file: ${seen.join(', ')}`;
    throw new Error(`Cannot find region ${name}: ${known}`);
  }
  if (second !== undefined) {
    throw new Error(`Cannot pick region ${name}: it is defined twice, at lines ${span.start} and ${second.start}`);
  }
  // span.start and span.end are 1-based marker lines, so this slice is the lines between them.
  const inner = lines.slice(span.start, span.end - 1).filter((l) => !MARKER.test(l));
  return joinLines(dedent(inner));
}

/**
 * Works out which file a quoting fence points at.
 * @param markdownPath - path of the Markdown file (posix separators)
 * @param file - the fence's `file=` value, relative to the Markdown file's folder
 * @returns the normalized posix path of the quoted file
 */
export function quotedFilePath(markdownPath: string, file: string): string {
  const slash = markdownPath.lastIndexOf('/');
  const dir = slash < 0 ? '' : markdownPath.slice(0, slash);
  return normalizePosix(file.startsWith('/') ? file : dir === '' ? file : `${dir}/${file}`);
}

/**
 * Compares a quoting fence with the region it names.
 * @param fence - a fence with `file=` and `region=` attributes
 * @param markdownPath - the Markdown file's path, used to resolve `file=` and in the message
 * @param readFile - reads a source file by the path {@link quotedFilePath} returns
 * @returns `undefined` when the fence equals its region; otherwise a message naming the
 *   Markdown file and line, the source file and region, and the first line that differs
 *   (also when the attributes are incomplete or the file or region cannot be read)
 */
export function quotedFenceMismatch(
  fence: Fence,
  markdownPath: string,
  readFile: (p: string) => string,
): string | undefined {
  const where = `${markdownPath}:${fence.line}`;
  const file = fence.attrs['file'];
  const region = fence.attrs['region'];
  if (file === undefined || file === '' || region === undefined || region === '') {
    return `${where}: a quoting fence needs both file= and region= (info string: "${fence.info}")`;
  }
  const sourcePath = quotedFilePath(markdownPath, file);
  const label = `${sourcePath} region ${region}`;
  let expected: string;
  try {
    expected = extractRegion(readFile(sourcePath), region);
  } catch (error) {
    return `${where}: cannot quote ${label}: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (expected === fence.body) return undefined;
  const got = splitLines(fence.body.replace(/\n$/, ''));
  const want = splitLines(expected.replace(/\n$/, ''));
  let k = 0;
  while (k < got.length && k < want.length && got[k] === want[k]) k += 1;
  const show = (l: string | undefined): string => (l === undefined ? '(no line: the text ends here)' : JSON.stringify(l));
  return (
    `${where}: fence differs from ${label} at line ${k + 1} of the quote ` +
    `(Markdown line ${fence.line + 1 + k})\n` +
    `  fence:  ${show(got[k])}\n` +
    `  region: ${show(want[k])}\n` +
    `Copy the region into the fence again (the fence has ${got.length} line(s), the region ${want.length})`
  );
}

/** Splits text into lines, accepting `\r\n`; a final line end adds no empty line. */
function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** Joins lines so that each ends in `\n`. */
function joinLines(lines: readonly string[]): string {
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** Removes up to `width` leading spaces, as CommonMark does for an indented fence. */
function stripIndent(line: string, width: number): string {
  let k = 0;
  while (k < width && line[k] === ' ') k += 1;
  return line.slice(k);
}

/** Removes the leading whitespace every non-blank line shares; blank lines become empty. */
function dedent(lines: readonly string[]): string[] {
  let prefix: string | undefined;
  for (const line of lines) {
    if (line.trim() === '') continue;
    const lead = /^\s*/.exec(line)?.[0] ?? '';
    if (prefix === undefined) {
      prefix = lead;
      continue;
    }
    let k = 0;
    while (k < prefix.length && k < lead.length && prefix[k] === lead[k]) k += 1;
    prefix = prefix.slice(0, k);
  }
  const cut = prefix?.length ?? 0;
  return lines.map((line) => (line.trim() === '' ? '' : line.slice(cut)));
}

/** Resolves `.` and `..` segments of a posix path. */
function normalizePosix(path: string): string {
  const absolute = path.startsWith('/');
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' && out.length > 0 && out.at(-1) !== '..') out.pop();
    else if (part === '..' && absolute) continue;
    else out.push(part);
  }
  return `${absolute ? '/' : ''}${out.join('/')}`;
}
