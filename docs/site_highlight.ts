/**
 * Syntax highlighting of chapter code at build time, with highlight.js: the page gets
 * `<span class="hljs-…">` markup and the site's stylesheet colours it, so no script runs
 * in the reader's browser.
 *
 * | fence            | how it is shown                                                   |
 * |------------------|-------------------------------------------------------------------|
 * | `ts`, `typescript`, `js`, `json`, `sh`, `bash`, `yaml`, `diff` | highlighted in that language |
 * | `console`        | `$ ` commands (and their `> ` or `\` continuation lines) as shell, output plain |
 * | `text`, none, anything else | plain, escaped                                         |
 *
 * Source pages are coloured the same way, one line at a time ({@link highlightLines}).
 * @module
 */
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import diff from 'highlight.js/lib/languages/diff';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import typescript from 'highlight.js/lib/languages/typescript';
import yaml from 'highlight.js/lib/languages/yaml';
import { escapeHtml } from './site_html.ts';

hljs.registerLanguage('typescript', typescript);
hljs.registerLanguage('javascript', javascript);
hljs.registerLanguage('json', json);
hljs.registerLanguage('bash', bash);
hljs.registerLanguage('yaml', yaml);
hljs.registerLanguage('diff', diff);

/** Fence words (and file extensions) that name a language registered above. */
const ALIASES: Readonly<Record<string, string>> = {
  ts: 'typescript',
  typescript: 'typescript',
  js: 'javascript',
  mjs: 'javascript',
  javascript: 'javascript',
  json: 'json',
  jsonc: 'json',
  sh: 'bash',
  bash: 'bash',
  shell: 'bash',
  yaml: 'yaml',
  yml: 'yaml',
  diff: 'diff',
  patch: 'diff',
};

/** Highlighted code, ready to go inside `<code>`. */
export interface HighlightedCode {
  /** The escaped HTML, with `hljs-*` spans when highlighted. */
  readonly html: string;
  /** Whether any highlighting was applied (the fence's language is known). */
  readonly highlighted: boolean;
}

/**
 * Highlights the text of a fence for its language.
 * @param code - the fence's text
 * @param lang - the fence's language word (`ts`, `console`, `text`, `''`)
 * @returns escaped HTML, highlighted when the language is one the site knows
 */
export function highlightCode(code: string, lang: string): HighlightedCode {
  const key = lang.toLowerCase();
  if (key === 'console') return { html: highlightConsole(code), highlighted: true };
  const language = ALIASES[key];
  if (language === undefined) return { html: escapeHtml(code), highlighted: false };
  return { html: hljs.highlight(code, { language, ignoreIllegals: true }).value, highlighted: true };
}

/**
 * Highlights a whole file and cuts the result into lines, each a balanced piece of HTML:
 * a span that a token opens on one line and closes on a later one (a block comment, a
 * template string) is closed at each line end and opened again on the next line, so
 * every line can be wrapped in an element of its own.
 * @param code - the file's text, `\n` line ends
 * @param lang - the language word, as for {@link highlightCode} (`ts`, `json`, `text`)
 * @returns one HTML string per line of `code`
 */
export function highlightLines(code: string, lang: string): string[] {
  const { html } = highlightCode(code, lang);
  const lines: string[] = [];
  const open: string[] = [];
  let line = '';
  for (const [token = ''] of html.matchAll(/<span [^>]*>|<\/span>|[^<]+/g)) {
    if (token.startsWith('<span')) {
      open.push(token);
      line += token;
    } else if (token === '</span>') {
      open.pop();
      line += token;
    } else {
      const [first = '', ...rest] = token.split('\n');
      line += first;
      for (const part of rest) {
        lines.push(line + '</span>'.repeat(open.length));
        line = open.join('') + part;
      }
    }
  }
  lines.push(line);
  return lines;
}

/**
 * Highlights a terminal session the way `docs/transcript.ts` reads one: a line starting
 * `$ ` opens a command; a `> ` line right after it (the shell's continuation prompt), or
 * any line after one ending in a backslash, continues it. Each command is coloured as one
 * piece of shell, so a loop or a quoted string over several lines keeps its colours, with
 * its prompts in a span of their own; every other line is output, shown as it is.
 */
function highlightConsole(code: string): string {
  const out: string[] = [];
  let command: { prompts: string[]; lines: string[] } | undefined;
  function flush(): void {
    if (command === undefined) return;
    const { prompts } = command;
    highlightLines(command.lines.join('\n'), 'sh').forEach((html, i) => {
      const prompt = prompts[i] === '' ? '' : `<span class="hljs-meta prompt">${escapeHtml(prompts[i] ?? '')}</span>`;
      out.push(`${prompt}<span class="command">${html}</span>`);
    });
    command = undefined;
  }
  for (const line of code.split('\n')) {
    const prompt = /^[$>](?: |$)/.exec(line)?.[0];
    const last = command?.lines.at(-1);
    if (prompt?.startsWith('$')) {
      flush();
      command = { prompts: [prompt], lines: [line.slice(prompt.length)] };
    } else if (command !== undefined && prompt !== undefined) {
      command.prompts.push(prompt);
      command.lines.push(line.slice(prompt.length));
    } else if (command !== undefined && last?.endsWith('\\') === true) {
      command.prompts.push('');
      command.lines.push(line);
    } else {
      flush();
      out.push(escapeHtml(line));
    }
  }
  flush();
  return out.join('\n');
}
