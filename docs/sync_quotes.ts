/**
 * `npm run docs:sync-quotes [-- FILE.md …]`: rewrites every quoting fence
 * (```` ```ts file=… region=… ````) so its body is again the region it names. Run it
 * after changing a quoted region, then reread the prose around each changed quote:
 * the tool keeps the code honest, the author keeps the words honest.
 * @module
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractRegion, findFences, quotedFilePath } from './regions.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Returns the Markdown with each quoting fence's body replaced by its region. */
export function syncQuotes(markdown: string, markdownPath: string, readFile: (path: string) => string): { text: string; changed: number } {
  const lines = markdown.split('\n');
  let changed = 0;
  // Walk backwards so earlier line numbers stay valid while bodies change length.
  for (const fence of findFences(markdown).reverse()) {
    const { file, region } = fence.attrs;
    if (file === undefined || region === undefined) continue;
    const wanted = extractRegion(readFile(quotedFilePath(markdownPath, file)), region);
    if (wanted === fence.body) continue;
    const bodyLines = fence.body === '' ? 0 : fence.body.replace(/\n$/, '').split('\n').length;
    const indent = /^( *)/.exec(lines[fence.line - 1] ?? '')?.[1] ?? '';
    const replacement = wanted.replace(/\n$/, '').split('\n').map((l) => (l === '' ? l : indent + l));
    lines.splice(fence.line, bodyLines, ...replacement);
    changed += 1;
  }
  return { text: lines.join('\n'), changed };
}

function chapters(): string[] {
  const weeks = join(root, 'weeks');
  return readdirSync(weeks)
    .map((name) => join(weeks, name, 'README.md'))
    .filter((p) => statSync(p, { throwIfNoEntry: false })?.isFile() === true)
    .concat(join(root, 'README.md'));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const targets = process.argv.length > 2 ? process.argv.slice(2) : chapters();
  for (const path of targets) {
    const { text, changed } = syncQuotes(readFileSync(path, 'utf8'), path, (p) => readFileSync(p, 'utf8'));
    if (changed > 0) writeFileSync(path, text);
    process.stderr.write(`${relative(root, path)}: ${changed} quote(s) refreshed\n`);
  }
}
