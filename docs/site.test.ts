/**
 * Tests of the documentation site: the pure pieces (slugs, link resolution, fences,
 * sidebar, source pages) on in-memory input, then one real build of this repository
 * into a temporary folder through the command line, whose every page and link is
 * checked on disk.
 * @module
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCS, GATE_TABLE } from '../gates/table.ts';
import { findWeekFolders } from '../gates/weeks.ts';
import { createApiSymbols } from './site_api.ts';
import { exportedNames, renderSidebar, renderSourceView, sourceAnchors } from './site_layout.ts';
import {
  createLinkCollector,
  formatBrokenLink,
  resolveLink,
  rewriteApiSourceLinks,
  siteTargetOf,
  type SiteIndex,
} from './site_links.ts';
import { collectHeadings, createSlugger, renderMarkdown, slugify } from './site_markdown.ts';

/** The repository root. */
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A small in-memory repository for the resolver. */
const FILES: Record<string, string> = {
  'README.md': '# CivicTrust\n\n## Start here\n',
  'weeks/week-01-cli-logger/README.md': '# Week 1\n\n## The problem\n\n## Step 2 — parse\n\n## The problem\n',
  'weeks/week-01-cli-logger/node_log_file.ts': 'export function appendRecord() {}\n// #region append\nconst x = 1;\n// #endregion append\n',
  'weeks/week-01-cli-logger/diagram.svg': '<svg/>',
  'weeks/week-01-cli-logger/testdata/golden.txt': 'ok\n',
};

/** Folders of the in-memory repository. */
const DIRS = new Set(['weeks', 'weeks/week-01-cli-logger', 'weeks/week-01-cli-logger/testdata']);

/** A symbol map as TypeDoc would produce it. */
const API = createApiSymbols(
  new Map([
    ['appendRecord', 'functions/appendRecord.html'],
    ['LogWriter', 'classes/LogWriter.html'],
    ['LogWriter.append', 'classes/LogWriter.html#append'],
  ]),
);

/** Answers the resolver from {@link FILES} and {@link API}. */
const INDEX: SiteIndex = {
  kindOf: (p) => (p in FILES ? 'file' : DIRS.has(p) ? 'dir' : undefined),
  anchorsOf(target) {
    const text = FILES[target.repoPath];
    if (text === undefined) return undefined;
    if (target.kind === 'markdown') return new Set(collectHeadings(text).map((h) => h.id));
    if (target.kind === 'source') return sourceAnchors(text);
    return undefined;
  },
  apiUrl: (name) => API.lookup(name),
};

const CHAPTER = 'weeks/week-01-cli-logger/README.md';

describe('docs site · heading slugs', () => {
  it('follows GitHub: lower case, punctuation dropped, each space a dash', () => {
    expect(slugify('The problem')).toBe('the-problem');
    expect(slugify('Step 2 — parse')).toBe('step-2--parse');
    expect(slugify('`appendRecord()` contract')).toBe('appendrecord-contract');
    expect(slugify('Self-check & further_reading')).toBe('self-check--further_reading');
  });

  it('numbers repeated headings -1, -2 as GitHub does', () => {
    const slug = createSlugger();
    expect(['Run it', 'Run it', 'Run it', 'Run it 1'].map(slug)).toEqual(['run-it', 'run-it-1', 'run-it-2', 'run-it-1-1']);
  });

  it('puts the ids on the rendered headings', () => {
    const { html, title } = renderMarkdown('# Week 1 — CLI\n\n## The *proof*\n', (href) => href);
    expect(title).toBe('Week 1 — CLI');
    expect(html).toContain('<h1 id="week-1--cli">');
    expect(html).toContain('<h2 id="the-proof">');
  });
});

describe('docs site · link resolution', () => {
  function resolved(href: string, from = CHAPTER): string {
    const result = resolveLink(href, from, INDEX);
    if (!result.ok) throw new Error(`expected ${href} to resolve: ${result.reason}`);
    return result.href;
  }
  function reason(href: string, from = CHAPTER): string {
    const result = resolveLink(href, from, INDEX);
    if (result.ok) throw new Error(`expected ${href} to fail, got ${result.href}`);
    return result.reason;
  }

  it('maps a chapter README to its index.html and keeps the anchor', () => {
    expect(resolved('../week-01-cli-logger/README.md#step-2--parse', 'weeks/week-01-cli-logger/README.md')).toBe(
      'index.html#step-2--parse',
    );
    expect(resolved('weeks/week-01-cli-logger/README.md#the-problem-1', 'README.md')).toBe(
      'weeks/week-01-cli-logger/index.html#the-problem-1',
    );
    expect(resolved('../../README.md#start-here')).toBe('../../index.html#start-here');
    expect(resolved('../week-01-cli-logger/')).toBe('index.html');
  });

  it('resolves api: names to the API page, members to their anchor', () => {
    expect(resolved('api:appendRecord')).toBe('../../api/functions/appendRecord.html');
    expect(resolved('api:LogWriter.append')).toBe('../../api/classes/LogWriter.html#append');
    expect(resolved('api:appendRecord', 'README.md')).toBe('api/functions/appendRecord.html');
  });

  it('sends source files to their source page, regions and line ranges to anchors', () => {
    expect(resolved('./node_log_file.ts')).toBe('node_log_file.ts.html');
    expect(resolved('node_log_file.ts#region-append')).toBe('node_log_file.ts.html#region-append');
    expect(resolved('./node_log_file.ts#L2-L4')).toBe('node_log_file.ts.html#L2');
    expect(resolved('./diagram.svg')).toBe('diagram.svg');
    expect(resolved('./testdata/')).toBe('testdata/index.html');
    expect(siteTargetOf('weeks/week-01-cli-logger/testdata/golden.txt').sitePath).toBe(
      'weeks/week-01-cli-logger/testdata/golden.txt.html',
    );
  });

  it('keeps links that leave the site and same-page anchors that exist', () => {
    expect(resolved('https://www.rfc-editor.org/rfc/rfc9162#section-2.1')).toBe('https://www.rfc-editor.org/rfc/rfc9162#section-2.1');
    expect(resolved('mailto:course@example.org')).toBe('mailto:course@example.org');
    expect(resolved('#the-problem-1')).toBe('#the-problem-1');
  });

  it('refuses unknown api: names, suggesting the qualified member', () => {
    expect(reason('api:appendRecords')).toMatch(/no documented symbol named appendRecords/);
    expect(reason('api:append')).toMatch(/did you mean api:LogWriter\.append/);
  });

  it('refuses chapters, files and anchors that do not exist', () => {
    expect(reason('../week-02-framing/README.md')).toBe('there is no chapter weeks/week-02-framing/ yet');
    expect(reason('./node_log_file.js')).toBe('weeks/week-01-cli-logger/node_log_file.js does not exist');
    expect(reason('../../README.md#nowhere')).toMatch(/README\.md has no anchor "nowhere"/);
    expect(reason('#the-solution')).toMatch(/no heading of this file has the id "the-solution"/);
    expect(reason('./node_log_file.ts#region-missing')).toMatch(/has no anchor "region-missing"/);
  });

  it('refuses root-relative paths and paths that leave the repository', () => {
    expect(reason('/weeks/week-01-cli-logger/README.md')).toMatch(/relative to this file/);
    expect(reason('../../../shared/DESIGN.md')).toBe('the path leads outside the repository');
  });

  it('reports a broken link in a Markdown document as E_DOCS_BROKEN_LINK naming the file and the link', () => {
    const markdown = [
      '# Week 1',
      '',
      'See [the framing chapter](../week-02-framing/README.md#the-problem) and',
      '[appendRecord](api:appendRecord), then [a typo](api:apendRecord).',
      '',
    ].join('\n');
    const collector = createLinkCollector(CHAPTER, INDEX);
    const { html } = renderMarkdown(markdown, collector.resolve);
    const lines = collector.broken.map(formatBrokenLink);
    expect(lines).toEqual([
      'error[E_DOCS_BROKEN_LINK]: Cannot resolve link in weeks/week-01-cli-logger/README.md:3: ' +
        '"../week-02-framing/README.md#the-problem": there is no chapter weeks/week-02-framing/ yet',
      'error[E_DOCS_BROKEN_LINK]: Cannot resolve link in weeks/week-01-cli-logger/README.md:3: ' +
        '"api:apendRecord": lib/mod.ts exports no documented symbol named apendRecord',
    ]);
    expect(html).toContain('href="../../api/functions/appendRecord.html"');
  });

  it('collects what the links reach, so the build can publish it', () => {
    const collector = createLinkCollector(CHAPTER, INDEX);
    renderMarkdown('[a](./node_log_file.ts) ![d](./diagram.svg) [b](../../README.md)', collector.resolve);
    expect(collector.broken).toEqual([]);
    expect(collector.targets.map((t) => `${t.kind}:${t.sitePath}`)).toEqual([
      'source:weeks/week-01-cli-logger/node_log_file.ts.html',
      'raw:weeks/week-01-cli-logger/diagram.svg',
      'markdown:index.html',
    ]);
  });
});

describe('docs site · fences and source pages', () => {
  it('renders a quoting fence as code with a caption linked to the region', () => {
    const collector = createLinkCollector(CHAPTER, INDEX);
    const { html } = renderMarkdown('```ts file=node_log_file.ts region=append\nconst x = 1;\n```\n', collector.resolve);
    expect(collector.broken).toEqual([]);
    expect(html).toContain('<figcaption><a href="node_log_file.ts.html#region-append"><code>node_log_file.ts</code></a> · region <code>append</code></figcaption>');
    expect(html).toContain('<pre><code class="language-ts">const x = 1;\n</code></pre>');
  });

  it('leaves a mermaid fence as preformatted text and escapes code', () => {
    const { html } = renderMarkdown('```mermaid\nA-->B\n```\n\n```ts\nconst a = 1 < 2;\n```\n', (h) => h);
    expect(html).toContain('<pre class="mermaid">A--&gt;B\n</pre>');
    expect(html).toContain('const a = 1 &lt; 2;');
  });

  it('gives a source page one anchor per line and per region', () => {
    const text = FILES['weeks/week-01-cli-logger/node_log_file.ts'] ?? '';
    const html = renderSourceView({ repoPath: 'x.ts', text, apiLinks: [] });
    expect(html).toContain('<span class="line" id="L2"><span id="region-append"></span>// #region append</span>');
    expect([...sourceAnchors(text)]).toEqual(['L1', 'L2', 'region-append', 'L3', 'L4']);
  });

  it('finds the names a module exports, declarations and export lists', () => {
    const text = [
      'export function appendRecord() {}',
      'export async function readLog() {}',
      'export class LogWriter {}',
      'export const EXIT = {};',
      'export interface LogRecord {}',
      'export type LogLevel = string;',
      "export { a, b as c, type T } from './x.ts';",
      'function hidden() {}',
    ].join('\n');
    expect(exportedNames(text)).toEqual(['appendRecord', 'readLog', 'LogWriter', 'EXIT', 'LogRecord', 'LogLevel', 'a', 'c', 'T']);
  });

  it("rewrites TypeDoc's Defined-in links to source pages (text outside the repository) and its link to the course", () => {
    const html =
      '<li>Defined in <a href="civictrust-source:weeks/week-01-cli-logger/node_log_file.ts#L12">node_log_file.ts:12</a></li>' +
      '<li>Defined in <a href="civictrust-source:node_modules/typescript/lib/lib.es5.d.ts#L3">lib.es5.d.ts:3</a></li>' +
      '<a href="civictrust-site:index.html" class="tsd-nav-link">Course chapters</a>';
    const out = rewriteApiSourceLinks(html, 'api/functions/appendRecord.html', (p) => p.startsWith('weeks/'));
    expect(out.html).toBe(
      '<li>Defined in <a href="../../weeks/week-01-cli-logger/node_log_file.ts.html#L12">node_log_file.ts:12</a></li>' +
        '<li>Defined in <span>lib.es5.d.ts:3</span></li>' +
        '<a href="../../index.html" class="tsd-nav-link">Course chapters</a>',
    );
    expect(out.sources.map((s) => s.repoPath)).toEqual(['weeks/week-01-cli-logger/node_log_file.ts']);
  });
});

describe('docs site · sidebar', () => {
  it('lists all 24 weeks by arc, linking built ones and greying the rest', () => {
    const built = new Map([[1, 'weeks/week-01-cli-logger/index.html']]);
    const html = renderSidebar({ arcs: ARCS, weeks: GATE_TABLE, built, fromSitePath: 'weeks/week-01-cli-logger/index.html', currentWeek: 1 });
    expect(html.match(/<li class="week /g)).toHaveLength(24);
    expect(html.match(/<li class="arc"/g)).toHaveLength(6);
    expect(html).toContain('<li class="week built" data-week="1"><a class="link" href="index.html" aria-current="page">');
    expect(html.match(/not built yet/g)).toHaveLength(23);
    expect(html).toContain('href="../../api/index.html"');
  });
});

describe('docs site · full build of this repository', () => {
  let out = '';
  let run: { code: number | null; stderr: string } = { code: null, stderr: '' };

  beforeAll(async () => {
    out = join(mkdtempSync(join(tmpdir(), 'civictrust-site-')), 'site');
    run = await new Promise((resolvePromise) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'docs/build.ts', '--out', out],
        { cwd: ROOT, timeout: 180_000, maxBuffer: 64 * 1024 * 1024 },
        (error, _stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
          resolvePromise({ code, stderr });
        },
      );
    });
  }, 200_000);

  afterAll(() => {
    if (out !== '') rmSync(dirname(out), { recursive: true, force: true });
  });

  it('exits 0 and reports its progress on stderr', () => {
    // On failure, show the end of the output: the error lines come last.
    const tail = run.stderr.split('\n').slice(-15).join('\n');
    expect(run.code, tail).toBe(0);
    expect(run.stderr).toMatch(/docs: typedoc: \d+ symbols documented/);
    expect(run.stderr).toMatch(/docs: chapters: \d+ of 24 built/);
    expect(run.stderr).toMatch(/docs: done in [\d.]+ s → /);
  });

  it('writes the home page, the API index and every built chapter', () => {
    expect(existsSync(join(out, 'index.html'))).toBe(true);
    expect(existsSync(join(out, 'api', 'index.html'))).toBe(true);
    for (const folder of findWeekFolders(ROOT).values()) {
      if (!existsSync(join(folder.dir, 'README.md'))) continue;
      expect(existsSync(join(out, 'weeks', folder.name, 'index.html')), folder.name).toBe(true);
    }
  });

  it('lists the 24 weeks in the sidebar of the home page', () => {
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    const nav = /<nav class="sidebar"[\s\S]*?<\/nav>/.exec(html)?.[0] ?? '';
    const weeks = [...nav.matchAll(/<li class="week (built|unbuilt)" data-week="(\d+)">/g)];
    expect(weeks.map((m) => Number(m[2]))).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    const built = [...findWeekFolders(ROOT).values()].filter((f) => existsSync(join(f.dir, 'README.md'))).map((f) => f.week);
    expect(weeks.filter((m) => m[1] === 'built').map((m) => Number(m[2]))).toEqual(built.sort((a, b) => a - b));
  });

  it('has no broken relative href or src in its pages, links into api/ included', () => {
    const problems: string[] = [];
    const pages = listFiles(out).filter((p) => p.endsWith('.html') && !p.startsWith('api/'));
    expect(pages.length).toBeGreaterThan(0);
    for (const page of pages) {
      const html = readFileSync(join(out, page), 'utf8');
      for (const [, url = ''] of html.matchAll(/\s(?:href|src)="([^"]*)"/g)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(url) || url.startsWith('//')) continue;
        const [path = '', fragment = ''] = url.split('#');
        const target = path === '' ? page : posix.normalize(posix.join(posix.dirname(page), decodeURIComponent(path)));
        if (target.startsWith('../') || !existsSync(join(out, target))) {
          problems.push(`${page}: ${url} (no file ${target})`);
          continue;
        }
        if (fragment !== '' && target.endsWith('.html')) {
          const id = decodeURIComponent(fragment);
          const text = readFileSync(join(out, target), 'utf8');
          if (!text.includes(`id="${id}"`) && !text.includes(`name="${id}"`)) problems.push(`${page}: ${url} (no anchor ${id})`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});

/** Every file under `dir`, as posix paths relative to it. */
function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'));
}
