/**
 * Builds the documentation site: the TypeDoc API reference, then every chapter and the
 * top README rendered around one sidebar, then whatever those pages link to (source
 * pages, folder listings, images, other Markdown files), and finally the stylesheet.
 *
 * ```
 *  <out>/index.html                          README.md
 *  <out>/weeks/week-NN-<slug>/index.html     weeks/week-NN-<slug>/README.md
 *  <out>/weeks/week-NN-<slug>/x.ts.html      a source file a chapter links to
 *  <out>/api/…                               TypeDoc, one module per lib/<topic>.ts barrel
 *  <out>/assets/site.css, site.js            docs/assets/ (style, search box, contents)
 *  <out>/assets/minisearch.js                MiniSearch's browser build
 *  <out>/assets/search-index.js              the search index, built from every page and symbol
 * ```
 *
 * Pages are discovered by following links from the README and the chapters, so the
 * site holds exactly what a reader can reach. Every broken link is collected and the
 * build fails once, listing them all. The pure parts live in `./site_links.ts`,
 * `./site_markdown.ts` and `./site_layout.ts`; this module does the file I/O.
 * @module
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ARCS, GATE_TABLE } from '../gates/table.ts';
import { findWeekFolders } from '../gates/weeks.ts';
import { buildApi, type ApiChapter, type ApiSymbols } from './site_api.ts';
import {
  exportedNames,
  pad2,
  renderListing,
  renderPage,
  renderSidebar,
  renderSourceView,
  renderToc,
  SCRIPT,
  sourceAnchors,
  STYLESHEET,
  type PagerLink,
} from './site_layout.ts';
import {
  API_DIR,
  API_SITE_SCHEME,
  API_SOURCE_SCHEME,
  createLinkCollector,
  DocsBuildError,
  formatBrokenLink,
  relativeHref,
  rewriteApiSourceLinks,
  siteTargetOf,
  type BrokenLink,
  type SiteIndex,
  type SiteTarget,
} from './site_links.ts';
import { escapeHtml } from './site_html.ts';
import { collectHeadings, renderMarkdown } from './site_markdown.ts';
import { pageDocuments, renderSearchIndex, SEARCH_INDEX, SEARCH_LIBRARY, symbolDocument, type SearchDocument } from './site_search.ts';

/** Options for {@link buildSite}. */
export interface BuildOptions {
  /** Repository root (holds README.md, weeks/, the lib/ barrels, typedoc.json). */
  readonly root: string;
  /** Output folder; emptied first when a previous build made it. */
  readonly out: string;
  /** Receives progress lines; the command line sends them to stderr. */
  readonly log?: ((line: string) => void) | undefined;
}

/** What a successful build produced. */
export interface BuildReport {
  /** Absolute output folder. */
  readonly out: string;
  /** Week numbers whose chapter was rendered. */
  readonly chapters: readonly number[];
  /** Every generated file outside `api/`, as site paths. */
  readonly pages: readonly string[];
  /** Number of symbols chapters can reach with `api:` links. */
  readonly apiSymbols: number;
  /** Number of documents in the search index (page sections and API symbols). */
  readonly searchDocuments: number;
  /** Wall-clock seconds the build took. */
  readonly seconds: number;
}

/** Name of the file that marks a folder as made by this build, so it may be emptied. */
const MARKER = '.civictrust-site';

/** The stylesheet shipped with the site, next to this module. */
const STYLESHEET_SOURCE = fileURLToPath(new URL('./assets/site.css', import.meta.url));

/** The page script shipped with the site, next to this module. */
const SCRIPT_SOURCE = fileURLToPath(new URL('./assets/site.js', import.meta.url));

/** MiniSearch's browser build (a UMD script defining `window.MiniSearch`), beside its CommonJS build. */
const SEARCH_LIBRARY_SOURCE = join(dirname(createRequire(import.meta.url).resolve('minisearch')), '..', 'umd', 'index.js');

/** `weeks/week-NN-<slug>/README.md`, a chapter. */
const CHAPTER = /^weeks\/week-(\d{2})-[^/]+\/README\.md$/;

/** The default output folder, relative to the repository root. */
export const DEFAULT_OUT = join('docs', '_site');

/**
 * Builds the whole site.
 * @param options - repository root, output folder and progress sink
 * @returns what was built
 * @throws {@link DocsBuildError} `E_DOCS_TYPEDOC` when TypeDoc fails, `E_DOCS_BROKEN_LINK`
 *   when any page has a link that does not resolve (all of them listed in `problems`),
 *   `E_DOCS_USAGE` when the output folder is unsafe to empty
 */
export async function buildSite(options: BuildOptions): Promise<BuildReport> {
  const started = performance.now();
  const root = resolve(options.root);
  const out = resolve(options.out);
  const log = options.log ?? (() => {});
  prepareOutput(root, out, out === resolve(root, DEFAULT_OUT));

  const chapters = new Map<number, string>();
  for (const folder of findWeekFolders(root).values()) {
    const readme = `weeks/${folder.name}/README.md`;
    if (isFile(join(root, readme))) chapters.set(folder.week, readme);
  }
  const built = new Map([...chapters].map(([week, readme]) => [week, siteTargetOf(readme).sitePath]));

  log(`typedoc: lib/ barrels → ${display(root, join(out, API_DIR))} …`);
  const apiChapters = new Map<number, ApiChapter>(GATE_TABLE.map((row) => [row.week, { title: row.title, sitePath: built.get(row.week) }]));
  const api = await buildApi({ root, outDir: join(out, API_DIR), chapters: apiChapters });
  log(`typedoc: ${api.byFullName.size} symbols documented in ${api.modules.length} modules (${seconds(started)} s)`);
  log(`chapters: ${chapters.size} of ${GATE_TABLE.length} built${chapters.size > 0 ? ` (weeks ${[...chapters.keys()].map(pad2).join(', ')})` : ''}`);

  const index = createIndex(root, out, api);
  const apiSources = linkApiToSources(out, (repoPath) => index.kindOf(repoPath) === 'file');
  const broken: BrokenLink[] = [];
  const pages: string[] = [];
  const searchDocs: SearchDocument[] = [];
  const queue: SiteTarget[] = [];
  const queued = new Set<string>();
  function enqueue(target: SiteTarget): void {
    if (queued.has(target.sitePath)) return;
    queued.add(target.sitePath);
    queue.push(target);
  }
  function write(sitePath: string, html: string): void {
    const file = join(out, sitePath);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, html);
    pages.push(sitePath);
  }
  function sidebar(sitePath: string, currentWeek?: number): string {
    return renderSidebar({ arcs: ARCS, weeks: GATE_TABLE, built, fromSitePath: sitePath, currentWeek });
  }

  if (isFile(join(root, 'README.md'))) enqueue(siteTargetOf('README.md'));
  else {
    log('warning: README.md is missing; the home page lists the arcs only');
    write('index.html', renderPage({ title: 'CivicTrust', sitePath: 'index.html', body: fallbackHome(), sidebar: sidebar('index.html') }));
  }
  for (const readme of [...chapters.entries()].sort(([a], [b]) => a - b).map(([, r]) => r)) enqueue(siteTargetOf(readme));
  apiSources.forEach(enqueue);

  for (let i = 0; i < queue.length; i += 1) {
    const target = queue[i];
    if (target === undefined) continue;
    const abs = join(root, target.repoPath);
    switch (target.kind) {
      case 'markdown': {
        const collector = createLinkCollector(target.repoPath, index);
        const rendered = renderMarkdown(readFileSync(abs, 'utf8'), collector.resolve);
        broken.push(...collector.broken);
        collector.targets.forEach(enqueue);
        const week = Number(CHAPTER.exec(target.repoPath)?.[1] ?? NaN);
        const row = GATE_TABLE.find((r) => r.week === week);
        const arc = ARCS.find((a) => a.weeks.includes(week));
        const title = rendered.title ?? target.repoPath;
        searchDocs.push(...pageDocuments({ sitePath: target.sitePath, title: row === undefined ? title : `Week ${pad2(week)} · ${row.title}`, sections: rendered.sections }));
        write(
          target.sitePath,
          renderPage({
            title,
            sitePath: target.sitePath,
            body: rendered.html,
            sidebar: sidebar(target.sitePath, Number.isNaN(week) ? undefined : week),
            eyebrow: row === undefined ? undefined : `Week ${pad2(week)}${arc === undefined ? '' : ` · Arc ${arc.arc} · ${arc.name}`}`,
            pager: row === undefined ? undefined : pagerFor(week, target.sitePath, built),
            toc: renderToc(rendered.headings),
            apiModules: api.modules
              .filter((m) => m.week === week)
              .map((m) => ({ label: m.name, href: apiHref(target.sitePath, m.url) })),
          }),
        );
        break;
      }
      case 'source': {
        const text = readFileSync(abs, 'utf8');
        const apiLinks = exportedNames(text)
          .filter((name) => api.byFullName.has(name))
          .map((name) => ({ label: name, href: apiHref(target.sitePath, api.byFullName.get(name) ?? '') }));
        const week = Number(/^weeks\/week-(\d{2})-/.exec(target.repoPath)?.[1] ?? NaN);
        const chapterPage = built.get(week);
        const chapter = chapterPage === undefined
          ? undefined
          : { href: relativeHref(target.sitePath, chapterPage), label: `Week ${pad2(week)} · ${GATE_TABLE.find((r) => r.week === week)?.title ?? ''}` };
        write(
          target.sitePath,
          renderPage({
            title: target.repoPath,
            sitePath: target.sitePath,
            body: renderSourceView({ repoPath: target.repoPath, text, apiLinks, chapter }),
            sidebar: sidebar(target.sitePath),
          }),
        );
        break;
      }
      case 'listing': {
        const entries = listFolder(root, target.repoPath).flatMap((entry) => {
          const child = target.repoPath === '' ? entry.name : `${target.repoPath}/${entry.name}`;
          // Skips what the index hides: the output folder itself, dependencies.
          if (index.kindOf(child) === undefined) return [];
          const readme = `${child}/README.md`;
          const childTarget = entry.isDir
            ? isFile(join(root, readme)) ? siteTargetOf(readme) : siteTargetOf(child, true)
            : siteTargetOf(child);
          enqueue(childTarget);
          return [{ name: entry.name, isDir: entry.isDir, href: relativeHref(target.sitePath, childTarget.sitePath) }];
        });
        write(
          target.sitePath,
          renderPage({
            title: `${target.repoPath}/`,
            sitePath: target.sitePath,
            body: renderListing({ repoPath: target.repoPath, entries }),
            sidebar: sidebar(target.sitePath),
          }),
        );
        break;
      }
      case 'raw': {
        const file = join(out, target.sitePath);
        mkdirSync(dirname(file), { recursive: true });
        copyFileSync(abs, file);
        pages.push(target.sitePath);
        break;
      }
    }
  }

  mkdirSync(join(out, dirname(STYLESHEET)), { recursive: true });
  for (const [source, sitePath] of [[STYLESHEET_SOURCE, STYLESHEET], [SCRIPT_SOURCE, SCRIPT], [SEARCH_LIBRARY_SOURCE, SEARCH_LIBRARY]] as const) {
    copyFileSync(source, join(out, sitePath));
    pages.push(sitePath);
  }
  searchDocs.push(...apiDocuments(api, built));
  write(SEARCH_INDEX, renderSearchIndex(searchDocs));
  log(`search: ${searchDocs.length} documents indexed`);

  if (broken.length > 0) {
    throw new DocsBuildError(
      'E_DOCS_BROKEN_LINK',
      `Cannot publish the site: ${broken.length} broken link(s)`,
      broken.map(formatBrokenLink),
    );
  }
  const others = pages.length - chapters.size - 1;
  log(`pages: ${chapters.size} chapter(s), the home page and ${others} other file(s)`);
  const report = {
    out,
    chapters: [...chapters.keys()].sort((a, b) => a - b),
    pages,
    apiSymbols: api.byFullName.size,
    searchDocuments: searchDocs.length,
    seconds: Number(seconds(started)),
  };
  log(`done in ${report.seconds} s → ${display(root, join(out, 'index.html'))}`);
  return report;
}

/**
 * Rewrites TypeDoc's "Defined in" links in every API page to the site's source pages.
 * @returns the source files the API pages link to, to be published
 */
function linkApiToSources(out: string, publishable: (repoPath: string) => boolean): SiteTarget[] {
  const found: SiteTarget[] = [];
  const apiDir = join(out, API_DIR);
  for (const entry of readdirSync(apiDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.html')) continue;
    const file = join(entry.parentPath, entry.name);
    const html = readFileSync(file, 'utf8');
    if (!html.includes(API_SOURCE_SCHEME) && !html.includes(API_SITE_SCHEME)) continue;
    const sitePath = relative(out, file).split(sep).join('/');
    const rewritten = rewriteApiSourceLinks(html, sitePath, publishable);
    writeFileSync(file, rewritten.html);
    found.push(...rewritten.sources);
  }
  return found;
}

/** Answers the link resolver's questions from the file system and the API map, with caches. */
function createIndex(root: string, out: string, api: ApiSymbols): SiteIndex {
  const outRel = relative(root, out).split(sep).join('/');
  const anchors = new Map<string, ReadonlySet<string> | undefined>();
  return {
    kindOf(repoPath) {
      const first = repoPath.split('/')[0];
      // Build output, VCS internals and dependencies are not part of the course.
      if (first === '.git' || first === 'node_modules') return undefined;
      if (outRel !== '' && !outRel.startsWith('..') && (repoPath === outRel || repoPath.startsWith(`${outRel}/`))) return undefined;
      const stat = statSync(join(root, repoPath), { throwIfNoEntry: false });
      return stat === undefined ? undefined : stat.isDirectory() ? 'dir' : 'file';
    },
    anchorsOf(target) {
      if (anchors.has(target.sitePath)) return anchors.get(target.sitePath);
      let found: ReadonlySet<string> | undefined;
      const file = join(root, target.repoPath);
      if (target.kind === 'markdown' && isFile(file)) {
        found = new Set(collectHeadings(readFileSync(file, 'utf8')).map((h) => h.id));
      } else if (target.kind === 'source' && isFile(file)) {
        found = sourceAnchors(readFileSync(file, 'utf8'));
      }
      anchors.set(target.sitePath, found);
      return found;
    },
    apiUrl: (name) => api.lookup(name),
  };
}

/**
 * Empties the output folder. A folder this build did not make is refused, unless it is
 * the git-ignored default `docs/_site/` (which `npx typedoc` alone also writes to).
 */
function prepareOutput(root: string, out: string, isDefault: boolean): void {
  const up = relative(out, root);
  if (up === '' || (!up.startsWith('..') && !up.startsWith(sep) && !/^[a-z]:/i.test(up))) {
    throw new DocsBuildError('E_DOCS_USAGE', `Cannot write the site to ${out}: it contains the repository`);
  }
  if (existsSync(out)) {
    const entries = readdirSync(out);
    if (entries.length > 0 && !entries.includes(MARKER) && !isDefault) {
      throw new DocsBuildError(
        'E_DOCS_USAGE',
        `Cannot write the site to ${out}: the folder is not empty and was not made by this build; remove it or pick another --out`,
      );
    }
    rmSync(out, { recursive: true, force: true });
  }
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, MARKER), 'Made by `npm run docs`; the next build empties this folder.\n');
}

/** Previous and next built chapters around `week`. */
function pagerFor(week: number, sitePath: string, built: ReadonlyMap<number, string>): { prev?: PagerLink; next?: PagerLink } {
  const weeks = [...built.keys()].sort((a, b) => a - b);
  const at = weeks.indexOf(week);
  function link(w: number | undefined): PagerLink | undefined {
    const page = w === undefined ? undefined : built.get(w);
    if (w === undefined || page === undefined) return undefined;
    return { href: relativeHref(sitePath, page), label: `Week ${pad2(w)} · ${GATE_TABLE.find((r) => r.week === w)?.title ?? ''}` };
  }
  const prev = link(at > 0 ? weeks[at - 1] : undefined);
  const next = link(at >= 0 ? weeks[at + 1] : undefined);
  return { ...(prev === undefined ? {} : { prev }), ...(next === undefined ? {} : { next }) };
}

/** The search documents of the API reference: each module, then each indexed symbol. */
function apiDocuments(api: ApiSymbols, built: ReadonlyMap<number, string>): SearchDocument[] {
  function weekOf(week: number | undefined): string {
    const row = GATE_TABLE.find((r) => r.week === week);
    if (row === undefined) return '';
    return `week ${row.week}${built.has(row.week) ? ` · ${row.title}` : ''}`;
  }
  const modules = api.modules.map((m) =>
    symbolDocument({ name: m.name, kind: 'Module', module: weekOf(m.week), summary: m.summary, url: `${API_DIR}/${m.url}` }),
  );
  const symbols = api.entries.map((e) => {
    const week = weekOf(e.week);
    const module = `module ${e.module}${week === '' ? '' : ` · ${week}`}`;
    return symbolDocument({ name: e.name, kind: e.kind, module, summary: e.summary, url: `${API_DIR}/${e.url}` });
  });
  return [...modules, ...symbols];
}

/** A URL from a site page to an API page, keeping TypeDoc's anchor. */
function apiHref(fromSitePath: string, url: string): string {
  const [page = '', anchor] = url.split('#');
  const href = relativeHref(fromSitePath, `${API_DIR}/${page}`);
  return anchor === undefined ? href : `${href}#${anchor}`;
}

/** The home page used while README.md does not exist: the arcs and their themes. */
function fallbackHome(): string {
  const arcs = ARCS.map((a) => `<li><strong>Arc ${a.arc} · ${escapeHtml(a.name)}</strong>: ${escapeHtml(a.theme)}</li>`);
  return `<h1>CivicTrust</h1>\n<p>The course's README is not written yet. Its arcs:</p>\n<ol>${arcs.join('')}</ol>`;
}

/** Entries of a folder worth publishing: no dotfiles, no dependencies; folders first. */
function listFolder(root: string, repoPath: string): { name: string; isDir: boolean }[] {
  return readdirSync(join(root, repoPath), { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.') && e.name !== 'node_modules' && (e.isDirectory() || e.isFile()))
    .map((e) => ({ name: e.name, isDir: e.isDirectory() }))
    .sort((a, b) => Number(b.isDir) - Number(a.isDir) || a.name.localeCompare(b.name));
}

/** Whether `path` is a regular file. */
function isFile(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
}

/** A path shown relative to the repository when it is inside it. */
function display(root: string, path: string): string {
  const rel = relative(root, path);
  return rel.startsWith('..') ? path : rel;
}

/** Seconds elapsed since `started`, one decimal. */
function seconds(started: number): string {
  return ((performance.now() - started) / 1000).toFixed(1);
}
