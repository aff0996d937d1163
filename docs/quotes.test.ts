/**
 * Code quoted in the chapters cannot drift from the code it quotes.
 *
 * For every chapter (`weeks/**\/*.md`), the top-level README.md and `docs/*.md`:
 * a fence with `file=` and `region=` must equal that region of the source, and every
 * other `ts` fence must type-check with the repository's compiler options. The unit
 * tests below pin down the parsing rules and include negative controls: a quote one
 * character off, and a fence that does not compile, are both reported.
 * @module
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  extractRegion,
  findFences,
  parseFenceInfo,
  quotedFenceMismatch,
  quotedFilePath,
  type Fence,
} from './regions.ts';
import {
  fenceFileName,
  formatFenceDiagnostic,
  isQuotingFence,
  isTypeCheckedFence,
  loadCompilerOptions,
  typeCheckFences,
  type FenceDiagnostic,
  type MarkdownFile,
} from './fences.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SKIP_DIRS = new Set(['node_modules', 'testdata', '_site', '.git']);

/** Lists the Markdown files whose fences are checked, as repo-relative posix paths. */
function chapterFiles(): string[] {
  const found: string[] = [];
  const walk = (rel: string): void => {
    const abs = path.join(ROOT, rel);
    if (!existsSync(abs)) return;
    for (const entry of readdirSync(abs, { withFileTypes: true })) {
      const child = `${rel}/${entry.name}`;
      if (entry.isDirectory() && !SKIP_DIRS.has(entry.name)) walk(child);
      else if (entry.isFile() && entry.name.endsWith('.md')) found.push(child);
    }
  };
  walk('weeks');
  if (existsSync(path.join(ROOT, 'README.md'))) found.push('README.md');
  if (existsSync(path.join(ROOT, 'docs'))) {
    for (const entry of readdirSync(path.join(ROOT, 'docs'), { withFileTypes: true })) {
      if (entry.isFile() && entry.name.endsWith('.md')) found.push(`docs/${entry.name}`);
    }
  }
  return found.sort();
}

/** Builds a fence by parsing a one-fence document, so tests use the real parser. */
function fenceOf(info: string, body: string, before = ''): Fence {
  const [fence] = findFences(`${before}\`\`\`${info}\n${body}\`\`\`\n`);
  if (fence === undefined) throw new Error('Cannot build fence: the parser found none');
  return fence;
}

const SOURCE = [
  '/** Demo. @module */',
  'export function append(log: string[], line: string): number {',
  '  // #region append',
  '  log.push(line);',
  '',
  '  return log.length;',
  '  // #endregion append',
  '}',
  '',
].join('\n');

describe('parseFenceInfo', () => {
  it('splits the language from key=value attributes', () => {
    expect(parseFenceInfo('ts file=log_file.ts region=append')).toEqual({
      lang: 'ts',
      attrs: { file: 'log_file.ts', region: 'append' },
    });
  });
  it('maps a bare word to a flag with an empty value', () => {
    expect(parseFenceInfo('ts no-check')).toEqual({ lang: 'ts', attrs: { 'no-check': '' } });
  });
  it('reads a double-quoted value with spaces', () => {
    expect(parseFenceInfo('ts file="a b.ts" region=x')).toEqual({ lang: 'ts', attrs: { file: 'a b.ts', region: 'x' } });
  });
  it('returns an empty language for an empty info string', () => {
    expect(parseFenceInfo('   ')).toEqual({ lang: '', attrs: {} });
  });
});

describe('findFences', () => {
  it('reports the 1-based line of the opening fence and the body with a final newline', () => {
    const md = '# Title\n\ntext\n```ts file=a.ts region=r\nconst a = 1;\n```\n';
    expect(findFences(md)).toEqual([
      { lang: 'ts', info: 'ts file=a.ts region=r', attrs: { file: 'a.ts', region: 'r' }, body: 'const a = 1;\n', line: 4 },
    ]);
  });
  it('keeps a shorter fence inside a longer one as body text', () => {
    const md = '````md\n```ts\nx\n```\n````\n```sh\nls\n```\n';
    const fences = findFences(md);
    expect(fences.map((f) => [f.lang, f.line, f.body])).toEqual([
      ['md', 1, '```ts\nx\n```\n'],
      ['sh', 6, 'ls\n'],
    ]);
  });
  it('accepts tildes, CRLF line ends and an indented fence in a list item', () => {
    const md = '- step\r\n\r\n  ~~~ts\r\n  const a = 1;\r\n    indented();\r\n  ~~~\r\n';
    const [fence] = findFences(md);
    expect(fence?.line).toBe(3);
    expect(fence?.body).toBe('const a = 1;\n  indented();\n');
  });
  it('runs an unclosed fence to the end of the document', () => {
    expect(findFences('```ts\na\nb\n').map((f) => f.body)).toEqual(['a\nb\n']);
  });
  it('does not treat inline backticks in the info string as a fence', () => {
    expect(findFences('```not `a` fence\n')).toEqual([]);
  });
});

describe('extractRegion', () => {
  it('returns the lines between the markers, dedented, ending in one newline', () => {
    expect(extractRegion(SOURCE, 'append')).toBe('log.push(line);\n\nreturn log.length;\n');
  });
  it('drops the markers of a nested region from the outer quote', () => {
    const src = '// #region outer\nif (a) {\n  // #region inner\n  b();\n  // #endregion inner\n}\n// #endregion outer\n';
    expect(extractRegion(src, 'outer')).toBe('if (a) {\n  b();\n}\n');
    expect(extractRegion(src, 'inner')).toBe('b();\n');
  });
  it('throws naming the known regions when the region is missing', () => {
    expect(() => extractRegion(SOURCE, 'nope')).toThrow('Cannot find region nope: regions in the file: append');
    expect(() => extractRegion('const a = 1;\n', 'x')).toThrow('the file has no regions');
  });
  it('throws when the region is defined twice', () => {
    const src = '// #region a\nx\n// #endregion a\n// #region a\ny\n// #endregion a\n';
    expect(() => extractRegion(src, 'a')).toThrow('defined twice, at lines 1 and 4');
  });
  it('throws when a region is never closed', () => {
    expect(() => extractRegion('// #region a\nx\n', 'a')).toThrow('region a opened at line 1 is never closed');
  });
  it('throws when regions overlap instead of nesting', () => {
    const src = '// #region a\n// #region b\nx\n// #endregion a\n// #endregion b\n';
    expect(() => extractRegion(src, 'a')).toThrow('#endregion a at line 4 closes region b (opened at line 2)');
  });
  it('throws on a stray or nameless #endregion', () => {
    expect(() => extractRegion('x\n// #endregion a\n', 'a')).toThrow('has no matching #region');
    expect(() => extractRegion('// #region a\nx\n// #endregion\n', 'a')).toThrow('#endregion without a name');
  });
  it('returns any indented block unchanged after dedent and marker wrapping (property)', () => {
    const line = fc.stringMatching(/^[a-z(); =]{0,12}$/).filter((l) => !l.includes('#'));
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 8 }), fc.nat(6), (lines, pad) => {
        const body = lines.map((l) => (l.trim() === '' ? '' : l.trimStart()));
        const indent = ' '.repeat(pad);
        const wrapped = [`${indent}// #region p`, ...body.map((l) => (l === '' ? '' : indent + l)), `${indent}// #endregion p`];
        const expected = body.join('\n') + '\n';
        const got = extractRegion(`${wrapped.join('\n')}\n`, 'p');
        // Dedent may strip more when every body line shares extra leading spaces; none do here.
        return got === expected;
      }),
    );
  });
});

describe('quotedFenceMismatch', () => {
  const files: Record<string, string> = { 'weeks/week-01-demo/log.ts': SOURCE };
  const read = (p: string): string => {
    const text = files[p];
    if (text === undefined) throw new Error(`ENOENT: ${p}`);
    return text;
  };
  const md = 'weeks/week-01-demo/README.md';

  it('resolves file= against the Markdown file folder', () => {
    expect(quotedFilePath(md, 'log.ts')).toBe('weeks/week-01-demo/log.ts');
    expect(quotedFilePath(md, '../../lib/x.ts')).toBe('lib/x.ts');
    expect(quotedFilePath('README.md', './lib/x.ts')).toBe('lib/x.ts');
  });
  it('returns undefined when the fence equals its region', () => {
    const fence = fenceOf('ts file=log.ts region=append', 'log.push(line);\n\nreturn log.length;\n');
    expect(quotedFenceMismatch(fence, md, read)).toBeUndefined();
  });
  it('negative control: a fence one character off is reported with file, line, region and the differing line', () => {
    const fence = fenceOf('ts file=log.ts region=append', 'log.push(line);\n\nreturn log.length+1;\n', 'intro\n\n');
    const message = quotedFenceMismatch(fence, md, read);
    expect(message).toBeDefined();
    expect(message).toContain('weeks/week-01-demo/README.md:3');
    expect(message).toContain('weeks/week-01-demo/log.ts region append');
    expect(message).toContain('at line 3 of the quote (Markdown line 6)');
    expect(message).toContain('fence:  "return log.length+1;"');
    expect(message).toContain('region: "return log.length;"');
  });
  it('reports a fence that stops short of its region', () => {
    const fence = fenceOf('ts file=log.ts region=append', 'log.push(line);\n');
    expect(quotedFenceMismatch(fence, md, read)).toContain('fence:  (no line: the text ends here)');
  });
  it('reports a missing file, a missing region and incomplete attributes', () => {
    expect(quotedFenceMismatch(fenceOf('ts file=gone.ts region=a', 'x\n'), md, read)).toContain(
      'cannot quote weeks/week-01-demo/gone.ts region a: ENOENT',
    );
    expect(quotedFenceMismatch(fenceOf('ts file=log.ts region=b', 'x\n'), md, read)).toContain('Cannot find region b');
    expect(quotedFenceMismatch(fenceOf('ts file=log.ts', 'x\n'), md, read)).toContain('needs both file= and region=');
  });
});

describe('typeCheckFences', () => {
  const compilerOptions = loadCompilerOptions(path.join(ROOT, 'tsconfig.json'));
  const check = (files: MarkdownFile[]): FenceDiagnostic[] => typeCheckFences(files, { rootDir: ROOT, compilerOptions });

  it('classifies fences: quoting, free-standing, no-check, other languages', () => {
    expect(isQuotingFence(fenceOf('ts file=a.ts region=r', ''))).toBe(true);
    expect(isTypeCheckedFence(fenceOf('ts', ''))).toBe(true);
    expect(isTypeCheckedFence(fenceOf('typescript', ''))).toBe(true);
    expect(isTypeCheckedFence(fenceOf('ts no-check', ''))).toBe(false);
    expect(isTypeCheckedFence(fenceOf('ts file=a.ts region=r', ''))).toBe(false);
    expect(isTypeCheckedFence(fenceOf('sh', ''))).toBe(false);
    expect(fenceFileName('weeks/week-01-x/README.md', fenceOf('ts', '', 'a\n'))).toBe('weeks/week-01-x/__fence_README_L2.ts');
  });
  it('resolves relative imports from the Markdown file folder and accepts correct code', () => {
    const markdown = [
      '```ts',
      "import { parseFenceInfo } from './regions.ts';",
      "const lang: string = parseFenceInfo('ts').lang;",
      'console.log(lang);',
      '```',
      '',
      '```ts',
      'const lang = 1;', // the same name again: every fence is its own module
      'console.log(lang);',
      '```',
    ].join('\n');
    expect(check([{ path: 'docs/virtual_chapter.md', markdown }])).toEqual([]);
  });
  it('negative control: a fence that does not compile is reported at its Markdown line', () => {
    const markdown = '# Chapter\n\n```ts\nconst ok = 1;\nconst n: number = "one";\n```\n\n```ts no-check\nconst skipped: number = "two";\n```\n';
    const found = check([{ path: 'docs/virtual_chapter.md', markdown }]);
    expect(found.map((d) => [d.file, d.line, d.code])).toEqual([['docs/virtual_chapter.md', 5, 2322]]);
    expect(formatFenceDiagnostic(found[0]!)).toMatch(/^docs\/virtual_chapter\.md:5:7 TS2322: /);
  });
  it('reports an import that does not resolve from the chapter folder', () => {
    const markdown = "```ts\nimport { nothing } from './no_such_module.ts';\nconsole.log(nothing);\n```\n";
    const found = check([{ path: 'docs/virtual_chapter.md', markdown }]);
    expect(found.map((d) => [d.line, d.code])).toEqual([[2, 2307]]);
  });
});

describe('chapter fences in the repository', () => {
  const mdFiles = chapterFiles();
  const loaded: MarkdownFile[] = mdFiles.map((p) => ({ path: p, markdown: readFileSync(path.join(ROOT, p), 'utf8') }));
  let diagnostics: FenceDiagnostic[] = [];

  beforeAll(() => {
    // One program for every fence of every chapter; each file's test reads its share.
    diagnostics = typeCheckFences(loaded, {
      rootDir: ROOT,
      compilerOptions: loadCompilerOptions(path.join(ROOT, 'tsconfig.json')),
    });
  });

  it('builds the fence program without program-wide errors', () => {
    expect(diagnostics.filter((d) => d.file === '').map(formatFenceDiagnostic)).toEqual([]);
  });

  it.each(loaded)('$path: quoted fences equal their regions and ts fences type-check', (file) => {
    const problems: string[] = [];
    const readSource = (p: string): string => readFileSync(path.join(ROOT, p), 'utf8');
    for (const fence of findFences(file.markdown)) {
      if (!isQuotingFence(fence)) continue;
      const mismatch = quotedFenceMismatch(fence, file.path, readSource);
      if (mismatch !== undefined) problems.push(mismatch);
    }
    for (const d of diagnostics) if (d.file === file.path) problems.push(formatFenceDiagnostic(d));
    expect(problems, problems.join('\n\n')).toEqual([]);
  });
});
