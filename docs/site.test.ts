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
import MiniSearch from 'minisearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCS, GATE_TABLE } from '../gates/table.ts';
import { findWeekFolders } from '../gates/weeks.ts';
import { createApiSymbols } from './site_api.ts';
import { highlightCode, highlightLines } from './site_highlight.ts';
import { exportedNames, renderPage, renderSidebar, renderSourceView, renderToc, sourceAnchors } from './site_layout.ts';
import {
  createLinkCollector,
  formatBrokenLink,
  resolveLink,
  rewriteApiSourceLinks,
  siteTargetOf,
  type SiteIndex,
} from './site_links.ts';
import { collectHeadings, createSlugger, renderMarkdown, slugify, type Heading } from './site_markdown.ts';
import { pageDocuments, renderSearchIndex, SEARCH_GLOBAL, symbolDocument, type SearchDocument } from './site_search.ts';

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
        '"api:apendRecord": the lib/ barrels export no documented symbol named apendRecord',
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
    expect(html).toContain(
      '<pre><code class="language-ts hljs"><span class="hljs-keyword">const</span> x = <span class="hljs-number">1</span>;\n</code></pre>',
    );
  });

  it('leaves a mermaid fence as preformatted text and escapes code', () => {
    const { html } = renderMarkdown('```mermaid\nA-->B\n```\n\n```ts\nconst a = 1 < 2;\n```\n', (h) => h);
    expect(html).toContain('<pre class="mermaid">A--&gt;B\n</pre>');
    expect(html).toContain('<span class="hljs-number">1</span> &lt; <span class="hljs-number">2</span>;');
  });

  it('gives a source page one anchor per line and per region', () => {
    const text = FILES['weeks/week-01-cli-logger/node_log_file.ts'] ?? '';
    const html = renderSourceView({ repoPath: 'x.ts', text, apiLinks: [] });
    expect(html).toContain('<span class="line" id="L2"><span id="region-append"></span><span class="hljs-comment">// #region append</span></span>');
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

describe('docs site · highlighting at build time', () => {
  it('colours a ts fence with highlight.js classes and keeps it escaped', () => {
    const { html, highlighted } = highlightCode('const ok: boolean = a < b; // why\n', 'ts');
    expect(highlighted).toBe(true);
    expect(html).toBe(
      '<span class="hljs-keyword">const</span> <span class="hljs-attr">ok</span>: <span class="hljs-built_in">boolean</span> = a &lt; b; ' +
        '<span class="hljs-comment">// why</span>\n',
    );
  });

  it('colours a command continued on > lines as one piece of shell, each prompt apart', () => {
    const code = ['$ f() {', '>   echo "a', '> b"', '> }', '> not a prompt after output', ''].join('\n');
    const lines = highlightCode(code, 'console').html.split('\n');
    expect(lines[0]).toBe('<span class="hljs-meta prompt">$ </span><span class="command"><span class="hljs-function"><span class="hljs-title">f</span></span>() {</span>');
    expect(lines[1]).toBe(
      '<span class="hljs-meta prompt">&gt; </span><span class="command">  <span class="hljs-built_in">echo</span> <span class="hljs-string">&quot;a</span></span>',
    );
    expect(lines[2]).toBe('<span class="hljs-meta prompt">&gt; </span><span class="command"><span class="hljs-string">b&quot;</span></span>');
    expect(lines[3]).toBe('<span class="hljs-meta prompt">&gt; </span><span class="command">}</span>');
    const afterOutput = highlightCode(['$ ls', 'x', '> y'].join('\n'), 'console').html.split('\n');
    expect(afterOutput.slice(1)).toEqual(['x', '&gt; y']);
  });

  it('shows a console fence as shell after each $ prompt, continuations included, and output as plain text', () => {
    const code = ['$ npm run gate -- week-1 > out.txt', 'PASS  criterion <1>', '$ echo "a" \\', '  | wc -l', '1', ''].join('\n');
    const { html } = highlightCode(code, 'console');
    const lines = html.split('\n');
    expect(lines[0]).toMatch(/^<span class="hljs-meta prompt">\$ <\/span><span class="command">npm run gate -- week-1 &gt; out.txt<\/span>$/);
    expect(lines[1]).toBe('PASS  criterion &lt;1&gt;');
    expect(lines[2]).toContain('<span class="command"><span class="hljs-built_in">echo</span> <span class="hljs-string">&quot;a&quot;</span> \\</span>');
    expect(lines[3]).toBe('<span class="command">  | <span class="hljs-built_in">wc</span> -l</span>');
    expect(lines[4]).toBe('1');
  });

  it('colours json and sh, and leaves text, untagged and unknown fences plain', () => {
    expect(highlightCode('{"a": 1}', 'json').html).toContain('<span class="hljs-attr">&quot;a&quot;</span>');
    expect(highlightCode('export X=1 # set', 'sh').html).toContain('<span class="hljs-comment"># set</span>');
    for (const lang of ['text', '', 'brainfuck']) {
      expect(highlightCode('if <a> & b', lang)).toEqual({ html: 'if &lt;a&gt; &amp; b', highlighted: false });
    }
  });

  it('cuts a coloured file into balanced lines, reopening a comment that spans lines', () => {
    const lines = highlightLines('/** a\n * b */\nconst x = `1\n2`;', 'ts');
    expect(lines).toEqual([
      '<span class="hljs-comment">/** a</span>',
      '<span class="hljs-comment"> * b */</span>',
      '<span class="hljs-keyword">const</span> x = <span class="hljs-string">`1</span>',
      '<span class="hljs-string">2`</span>;',
    ]);
    expect(highlightLines('a < b\n\nc', 'text')).toEqual(['a &lt; b', '', 'c']);
  });

  it('colours a source page by its extension, one line per anchor', () => {
    const html = renderSourceView({ repoPath: 'weeks/x/config.json', text: '{\n  "a": 1\n}\n', apiLinks: [] });
    expect(html).toContain('<span class="line" id="L2">  <span class="hljs-attr">&quot;a&quot;</span>');
    expect(renderSourceView({ repoPath: 'notes.txt', text: 'const a\n', apiLinks: [] })).toContain('<span class="line" id="L1">const a</span>');
  });

  it('marks a highlighted fence with the hljs class, and a plain one without it', () => {
    const { html } = renderMarkdown('```text\nconst a = 1;\n```\n\n```console\n$ ls\nx\n```\n', (h) => h);
    expect(html).toContain('<pre><code class="language-text">const a = 1;\n</code></pre>');
    expect(html).toContain('<pre><code class="language-console hljs"><span class="hljs-meta prompt">$ </span>');
  });
});

describe('docs site · sections and contents', () => {
  const markdown = [
    '# Week 9 — KV',
    '',
    'Intro line one',
    'and two.',
    '',
    '## The problem',
    '',
    'A *state* machine with `apply()`.',
    '',
    '```ts',
    'const hidden = 1;',
    '```',
    '',
    '### Step 1 — apply',
    '',
    '- one',
    '- two',
    '',
    '## The problem',
    '',
    '| a | b |',
    '|---|---|',
    '| `x` | y |',
    '',
  ].join('\n');

  it('cuts the text at every heading, inline code kept, fences left out, line breaks as spaces', () => {
    const { sections } = renderMarkdown(markdown, (h) => h);
    expect(sections.map((s) => [s.heading?.id, s.text])).toEqual([
      ['week-9--kv', 'Intro line one and two.'],
      ['the-problem', 'A state machine with apply().'],
      ['step-1--apply', 'one two'],
      ['the-problem-1', 'a b x y'],
    ]);
  });

  it('lists the ## and ### headings, ### nested under its ##, linked to the ids the headings carry', () => {
    const { html, headings } = renderMarkdown(markdown, (h) => h);
    const toc = renderToc(headings);
    expect(toc).toBe(
      '<nav class="toc" aria-label="On this page"><details><summary>On this page</summary><ol>' +
        '<li><a href="#the-problem">The problem</a><ol><li><a href="#step-1--apply">Step 1 — apply</a></li></ol></li>' +
        '<li><a href="#the-problem-1">The problem</a></li>' +
        '</ol></details></nav>',
    );
    for (const [, id] of toc.matchAll(/href="#([^"]+)"/g)) expect(html).toContain(`id="${decodeURIComponent(id ?? '')}"`);
  });

  it('escapes heading text and encodes ids, and gives a page with fewer than two headings no contents', () => {
    const headings: Heading[] = [
      { level: 2, id: 'a-b', text: 'a <b>' },
      { level: 2, id: 'é', text: 'é' },
    ];
    expect(renderToc(headings)).toContain('<li><a href="#a-b">a &lt;b&gt;</a></li><li><a href="#%C3%A9">é</a></li>');
    expect(renderToc(headings.slice(0, 1))).toBe('');
    expect(renderToc([{ level: 1, id: 'x', text: 'x' }, { level: 4, id: 'y', text: 'y' }])).toBe('');
  });

  it('puts the contents, the search box and the page script on the page, relative to its depth', () => {
    const html = renderPage({
      title: 'Week 9',
      sitePath: 'weeks/week-09-kv/index.html',
      body: '<h1>Week 9</h1>',
      sidebar: '<nav class="sidebar"></nav>',
      toc: renderToc(renderMarkdown(markdown, (h) => h).headings),
      apiModules: [{ label: 'kv', href: '../../api/modules/kv.html' }],
    });
    expect(html).toContain('<div class="layout with-toc">');
    expect(html).toContain('<input id="site-search" type="search"');
    expect(html).toContain('<script src="../../assets/site.js"></script>');
    expect(html).toContain('<a class="brand" href="../../index.html">CivicTrust</a>');
    expect(html).toContain('In the API reference: <a href="../../api/modules/kv.html"><code>kv</code></a>');
    expect(html.indexOf('<nav class="toc"')).toBeLessThan(html.indexOf('<main'));
  });
});

/** Runs a generated `search-index.js` and loads the index it assigns. */
function loadIndex(script: string): MiniSearch<SearchDocument> {
  const window: Record<string, unknown> = {};
  new Function('window', script)(window);
  const data = window[SEARCH_GLOBAL] as { index: Parameters<typeof MiniSearch.loadJS>[0]; options: Parameters<typeof MiniSearch.loadJS>[1] };
  return MiniSearch.loadJS<SearchDocument>(data.index, data.options);
}

describe('docs site · search index', () => {
  const { sections } = renderMarkdown('# Week 2 — Framing\n\nBytes, not messages.\n\n## Step 1 — Frame one payload\n\nThe encoder checks the size.\n', (h) => h);
  const pages = pageDocuments({ sitePath: 'weeks/week-02-framing/index.html', title: 'Week 02 · Framing', sections });

  it('makes one document per section, the introduction pointing at the page', () => {
    expect(pages.map((d) => [d.id, d.title, d.kind, d.parent, d.text])).toEqual([
      ['weeks/week-02-framing/index.html', 'Week 02 · Framing', 'page', 'Week 02 · Framing', 'Bytes, not messages.'],
      ['weeks/week-02-framing/index.html#step-1--frame-one-payload', 'Step 1 — Frame one payload', 'section', 'Week 02 · Framing', 'The encoder checks the size.'],
    ]);
  });

  it('cuts a long excerpt at a word', () => {
    const [doc] = pageDocuments({ sitePath: 'x.html', title: 'X', sections: [{ heading: undefined, text: 'word '.repeat(60).trim() }] });
    expect(doc?.excerpt.endsWith('word…')).toBe(true);
    expect(doc?.excerpt.length).toBeLessThanOrEqual(161);
  });

  it('writes a script whose index finds sections and symbols by prefix, returning what a result shows', () => {
    const symbol = symbolDocument({
      name: 'FrameDecoder',
      kind: 'Class',
      module: 'module framing · week 2',
      summary: 'Splits a byte stream into frames.',
      url: 'api/classes/framing.FrameDecoder.html',
    });
    const script = renderSearchIndex([...pages, symbol]);
    expect(script).toMatch(/^\/\* Generated by npm run docs: the site's search index \(3 documents\)\. \*\/\nwindow\.CIVICTRUST_SEARCH = \{/);
    const index = loadIndex(script);
    const found = index.search('frame');
    expect(found.map((r) => r.id).sort()).toEqual(['api/classes/framing.FrameDecoder.html', 'weeks/week-02-framing/index.html#step-1--frame-one-payload']);
    expect(found.find((r) => r.kind === 'Class')).toMatchObject({
      title: 'FrameDecoder',
      parent: 'module framing · week 2',
      url: 'api/classes/framing.FrameDecoder.html',
      excerpt: 'Splits a byte stream into frames.',
    });
    expect(index.search('encoder checks').map((r) => r.id)).toEqual(['weeks/week-02-framing/index.html#step-1--frame-one-payload']);
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
        { cwd: ROOT, timeout: 400_000, maxBuffer: 64 * 1024 * 1024 },
        (error, _stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
          resolvePromise({ code, stderr });
        },
      );
    });
  }, 420_000);

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

  it('colours the code of every chapter and gives each chapter its contents', () => {
    for (const folder of findWeekFolders(ROOT).values()) {
      if (!existsSync(join(folder.dir, 'README.md'))) continue;
      const html = readFileSync(join(out, 'weeks', folder.name, 'index.html'), 'utf8');
      expect(html, folder.name).toContain('<nav class="toc" aria-label="On this page">');
      if (html.includes('class="language-ts')) expect(html, folder.name).toMatch(/<code class="language-ts hljs">[\s\S]*?<span class="hljs-keyword">/);
    }
  });

  it('ships the page script, MiniSearch and an index that finds chapters and API symbols', () => {
    for (const asset of ['assets/site.css', 'assets/site.js', 'assets/minisearch.js']) expect(existsSync(join(out, asset)), asset).toBe(true);
    const index = loadIndex(readFileSync(join(out, 'assets', 'search-index.js'), 'utf8'));
    const wal = index.search('WAL').map((r) => String(r.id));
    expect(wal).toContain('weeks/week-10-wal/index.html');
    expect(wal.some((id) => id.startsWith('api/modules/wal.html'))).toBe(true);
    const append = index.search('appendRecord');
    expect(append[0]).toMatchObject({ title: 'appendRecord', kind: 'Function', url: 'api/functions/logger.appendRecord.html' });
    expect(String(append[0]?.['parent'])).toMatch(/^module logger · week 1 · /);
    for (const r of index.search('frame').slice(0, 30)) expect(existsSync(join(out, String(r.id).split('#')[0] ?? '')), String(r.id)).toBe(true);
  });

  it('groups the API reference by week, each module linked to its chapter and back', () => {
    const apiIndex = readFileSync(join(out, 'api', 'index.html'), 'utf8');
    const weeks = [...apiIndex.matchAll(/<h2 class="tsd-anchor-link" id="[^"]*">Week (\d\d) · /g)].map((m) => Number(m[1]));
    // One heading per week that has a barrel, in week order (weeks 1-12 all have one).
    expect(weeks.every((w, i) => i === 0 || w > (weeks[i - 1] ?? 0))).toBe(true);
    expect(weeks).toEqual(expect.arrayContaining(Array.from({ length: 12 }, (_, i) => i + 1)));
    const wal = readFileSync(join(out, 'api', 'modules', 'wal.html'), 'utf8');
    expect(wal).toContain('Built in the chapter <a href="../../weeks/week-10-wal/index.html"');
    const chapter = readFileSync(join(out, 'weeks', 'week-10-wal', 'index.html'), 'utf8');
    expect(chapter).toContain('In the API reference: <a href="../../api/modules/wal.html"><code>wal</code></a>');
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
