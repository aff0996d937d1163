/**
 * The site's HTML around the rendered Markdown: one page template, the course sidebar,
 * and the generated pages for source files and folders. Pure string functions: the
 * build decides what goes in, these decide how it looks.
 *
 * Every URL written here is relative, so the site works opened from disk, copied to any
 * folder, or served under any path prefix.
 * @module
 */
import { highlightLines } from './site_highlight.ts';
import { escapeAttr, escapeHtml } from './site_html.ts';
import { API_DIR, relativeHref } from './site_links.ts';
import type { Heading } from './site_markdown.ts';

/** An arc of the course, as the sidebar needs it (a subset of the gate table's `Arc`). */
export interface SidebarArc {
  /** Arc number, 1-6. */
  readonly arc: number;
  /** Short arc name. */
  readonly name: string;
  /** The month the arc fills. */
  readonly month: number;
  /** What the arc builds, in one sentence (shown as a tooltip). */
  readonly theme: string;
  /** The arc's week numbers, in order. */
  readonly weeks: readonly number[];
}

/** A week, as the sidebar needs it (a subset of the gate table's `GateRow`). */
export interface SidebarWeek {
  /** Week number, 1-24. */
  readonly week: number;
  /** Short chapter title. */
  readonly title: string;
}

/** Everything the sidebar shows. */
export interface SidebarInput {
  /** The arcs, in order. */
  readonly arcs: readonly SidebarArc[];
  /** Every week of the course, built or not. */
  readonly weeks: readonly SidebarWeek[];
  /** Site path of each built week's chapter page, by week number. */
  readonly built: ReadonlyMap<number, string>;
  /** Site path of the page the sidebar is rendered into (links are made relative to it). */
  readonly fromSitePath: string;
  /** The week whose chapter is being shown, if any, marked as the current page. */
  readonly currentWeek?: number | undefined;
}

/** A link in the previous/next bar under a chapter. */
export interface PagerLink {
  /** Relative URL. */
  readonly href: string;
  /** Visible text. */
  readonly label: string;
}

/** Everything one page needs. */
export interface PageInput {
  /** The document title (the site name is appended). */
  readonly title: string;
  /** Site path of the page, which fixes the relative URLs of the stylesheet and the sidebar. */
  readonly sitePath: string;
  /** The main column's HTML. */
  readonly body: string;
  /** The sidebar's HTML, from {@link renderSidebar}. */
  readonly sidebar: string;
  /** A short line above the body (`Week 03 · Arc 1 · Foundations`). */
  readonly eyebrow?: string | undefined;
  /** Links to the previous and next built chapter. */
  readonly pager?: { readonly prev?: PagerLink | undefined; readonly next?: PagerLink | undefined } | undefined;
  /** The page's table of contents, from {@link renderToc}; empty or absent for none. */
  readonly toc?: string | undefined;
  /** Links shown under the eyebrow to the API modules a chapter builds. */
  readonly apiModules?: readonly PagerLink[] | undefined;
}

/** Site path of the stylesheet. */
export const STYLESHEET = 'assets/site.css';

/** Site path of the page script: the search box, and the contents opened beside wide pages. */
export const SCRIPT = 'assets/site.js';

/** The heading levels the table of contents lists. */
const TOC_LEVELS = new Set([2, 3]);

/** The site's name, used in titles and the sidebar. */
const SITE_NAME = 'CivicTrust';

/**
 * Formats a week number the way folder names do: `7` → `07`.
 * @param week - week number
 * @returns two digits
 */
export function pad2(week: number): string {
  return String(week).padStart(2, '0');
}

/**
 * Renders the course sidebar: the home and API links, then every arc with its weeks
 * (the site's name and search box sit above it, in the page's masthead).
 * A built week links to its chapter; a week not built yet is greyed out and says so.
 * @param input - arcs, weeks, which are built, and where the sidebar is rendered
 * @returns the `<nav>` element
 */
export function renderSidebar(input: SidebarInput): string {
  const { fromSitePath } = input;
  const titles = new Map(input.weeks.map((w) => [w.week, w.title]));
  const arcs = input.arcs.map((arc) => {
    const weeks = arc.weeks.map((week) => {
      const title = escapeHtml(titles.get(week) ?? `Week ${week}`);
      const num = `<span class="num">${pad2(week)}</span>`;
      const chapter = input.built.get(week);
      if (chapter === undefined) {
        return (
          `<li class="week unbuilt" data-week="${week}">` +
          `<span class="link">${num} <span class="title">${title}</span> <span class="badge">not built yet</span></span></li>`
        );
      }
      const current = input.currentWeek === week ? ' aria-current="page"' : '';
      return (
        `<li class="week built" data-week="${week}">` +
        `<a class="link" href="${relativeHref(fromSitePath, chapter)}"${current}>${num} <span class="title">${title}</span></a></li>`
      );
    });
    return (
      `<li class="arc" data-arc="${arc.arc}"><p class="arc-name" title="${escapeHtml(arc.theme)}">` +
      `Arc ${arc.arc} · ${escapeHtml(arc.name)} <span class="arc-month">month ${arc.month}</span></p>` +
      `<ol class="weeks">${weeks.join('')}</ol></li>`
    );
  });
  const home = relativeHref(fromSitePath, 'index.html');
  const api = relativeHref(fromSitePath, `${API_DIR}/index.html`);
  return (
    `<nav class="sidebar" id="course-nav" aria-label="Course">` +
    `<ul class="top-links"><li><a href="${home}">Course home</a></li><li><a href="${api}">API reference</a></li></ul>` +
    `<ol class="arcs">${arcs.join('')}</ol></nav>`
  );
}

/**
 * Renders a page's table of contents: its `##` headings, each with its `###` headings
 * nested under it, linked to their ids. A page with fewer than two such headings has none.
 *
 * It is a `<details>` element: collapsed above the text on narrow screens, opened by the
 * page script (and its summary hidden) where a wide screen shows it beside the text.
 * @param headings - the page's headings, in document order
 * @returns the `<nav class="toc">` element, or `''`
 */
export function renderToc(headings: readonly Heading[]): string {
  const listed = headings.filter((h) => TOC_LEVELS.has(h.level));
  if (listed.length < 2) return '';
  const top = Math.min(...listed.map((h) => h.level));
  let html = '';
  let open = false; // whether a nested list is open under the last top-level item
  listed.forEach((h, i) => {
    const item = `<a href="#${escapeAttr(encodeURIComponent(h.id))}">${escapeHtml(h.text)}</a>`;
    if (h.level === top || i === 0) {
      html += `${open ? '</ol>' : ''}${i === 0 ? '' : '</li>'}<li>${item}`;
      open = false;
    } else {
      html += `${open ? '' : '<ol>'}<li>${item}</li>`;
      open = true;
    }
  });
  html += `${open ? '</ol>' : ''}</li>`;
  return (
    `<nav class="toc" aria-label="On this page"><details><summary>On this page</summary>` +
    `<ol>${html}</ol></details></nav>`
  );
}

/**
 * Renders the search box: an input and an empty result list that the page script fills
 * from the index written at build time (`assets/search-index.js`).
 * @returns the `<div role="search">` element
 */
function renderSearch(): string {
  return (
    `<div class="search" role="search">` +
    `<label class="visually-hidden" for="site-search">Search the chapters and the API</label>` +
    `<input id="site-search" type="search" placeholder="Search chapters and API" autocomplete="off" spellcheck="false" ` +
    `aria-controls="site-search-results" aria-describedby="site-search-status">` +
    `<p id="site-search-status" class="search-status" aria-live="polite"></p>` +
    `<ol id="site-search-results" class="search-results" hidden></ol></div>`
  );
}

/**
 * Renders a whole HTML page: head, skip link, the side column (masthead with the site's
 * name and search box, then the course contents), the page's table of contents, and the
 * main column.
 * @param input - title, body, sidebar, contents and the page's own site path
 * @returns the document, starting with `<!doctype html>`
 */
export function renderPage(input: PageInput): string {
  const css = relativeHref(input.sitePath, STYLESHEET);
  const script = relativeHref(input.sitePath, SCRIPT);
  const title = input.title === SITE_NAME ? SITE_NAME : `${input.title} · ${SITE_NAME}`;
  const eyebrow = input.eyebrow === undefined ? '' : `<p class="eyebrow">${escapeHtml(input.eyebrow)}</p>\n`;
  const modules = input.apiModules ?? [];
  const api = modules.length === 0
    ? ''
    : `<p class="chapter-api">In the API reference: ${modules.map((m) => `<a href="${m.href}"><code>${escapeHtml(m.label)}</code></a>`).join(', ')}</p>\n`;
  const pager = renderPager(input.pager);
  const toc = input.toc ?? '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="${css}">
</head>
<body>
<a class="skip" href="#main">Skip to the text</a>
<div class="layout${toc === '' ? '' : ' with-toc'}">
<div class="side">
<header class="masthead"><a class="brand" href="${relativeHref(input.sitePath, 'index.html')}">${SITE_NAME}</a>${renderSearch()}</header>
${input.sidebar}
</div>
${toc === '' ? '' : `${toc}\n`}<main id="main" class="content">
<p class="to-nav"><a href="#course-nav">Course contents</a></p>
${eyebrow}${api}<article>
${input.body}
</article>
${pager}</main>
</div>
<script src="${script}"></script>
</body>
</html>
`;
}

/**
 * Renders the page of a source file: its path, the API entries of the symbols it exports,
 * and its text, coloured by its extension, with an `L<n>` anchor per line and a
 * `region-<name>` anchor per region.
 * @param input - repository path, file text, links to API entries, and a link back to the chapter
 * @returns the body HTML for {@link renderPage}
 */
export function renderSourceView(input: {
  readonly repoPath: string;
  readonly text: string;
  readonly apiLinks: readonly PagerLink[];
  readonly chapter?: PagerLink | undefined;
}): string {
  const text = input.text.replace(/\r\n/g, '\n').replace(/\n$/, '');
  const lines = text.split('\n');
  const coloured = highlightLines(text, languageOf(input.repoPath));
  const seenRegions = new Set<string>();
  const body = lines.map((line, i) => {
    const region = regionName(line);
    let extra = '';
    if (region !== undefined && !seenRegions.has(region)) {
      seenRegions.add(region);
      extra = `<span id="region-${escapeHtml(region)}"></span>`;
    }
    return `<span class="line" id="L${i + 1}">${extra}${coloured[i] ?? ''}</span>`;
  });
  const parts = [`<h1 class="file-title"><code>${escapeHtml(input.repoPath)}</code></h1>`];
  const notes: string[] = [];
  if (input.chapter !== undefined) {
    notes.push(`Explained in <a href="${input.chapter.href}">${escapeHtml(input.chapter.label)}</a>.`);
  }
  if (input.apiLinks.length > 0) {
    const links = input.apiLinks.map((l) => `<a href="${l.href}"><code>${escapeHtml(l.label)}</code></a>`);
    notes.push(`In the API reference: ${links.join(', ')}.`);
  }
  if (notes.length > 0) parts.push(`<p class="file-notes">${notes.join(' ')}</p>`);
  parts.push(`<pre class="source"><code>${body.join('\n')}</code></pre>`);
  return parts.join('\n');
}

/**
 * Lists the anchors a source page carries: `L1`…`Ln` and `region-<name>` for each region.
 * @param text - the file's text
 * @returns the anchor ids
 */
export function sourceAnchors(text: string): Set<string> {
  const lines = text.replace(/\r\n/g, '\n').replace(/\n$/, '').split('\n');
  const anchors = new Set<string>();
  lines.forEach((line, i) => {
    anchors.add(`L${i + 1}`);
    const region = regionName(line);
    if (region !== undefined) anchors.add(`region-${region}`);
  });
  return anchors;
}

/**
 * Renders the page of a folder: a list of its entries.
 * @param input - the folder's repository path and its entries with their URLs
 * @returns the body HTML for {@link renderPage}
 */
export function renderListing(input: {
  readonly repoPath: string;
  readonly entries: readonly { readonly name: string; readonly href: string; readonly isDir: boolean }[];
}): string {
  const items = input.entries.map(
    (e) => `<li><a href="${e.href}"><code>${escapeHtml(e.name)}${e.isDir ? '/' : ''}</code></a></li>`,
  );
  const list = items.length === 0 ? '<p>This folder is empty.</p>' : `<ul class="listing">${items.join('')}</ul>`;
  return `<h1 class="file-title"><code>${escapeHtml(input.repoPath)}/</code></h1>\n${list}`;
}

/**
 * Finds the names a TypeScript module exports, for linking a source page to the API.
 * Covers declarations (`export function f`, `export class C`, `export const x`, …) and
 * export lists (`export { a, b as c, type T }`); `export *` names nothing.
 * @param text - the module's text
 * @returns exported names in order of appearance, without duplicates
 */
export function exportedNames(text: string): string[] {
  const names = new Set<string>();
  const declaration =
    /^export\s+(?:declare\s+)?(?:default\s+)?(?:abstract\s+)?(?:async\s+)?(?:function\*?|class|const|let|var|interface|type|enum)\s+([A-Za-z_$][\w$]*)/gm;
  for (const m of text.matchAll(declaration)) if (m[1] !== undefined) names.add(m[1]);
  for (const m of text.matchAll(/^export\s+(?:type\s+)?\{([^}]*)\}/gm)) {
    for (const part of (m[1] ?? '').split(',')) {
      const words = part.replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '').trim().replace(/^type\s+/, '').split(/\s+as\s+/);
      const name = (words[1] ?? words[0] ?? '').trim();
      if (/^[A-Za-z_$][\w$]*$/.test(name) && name !== 'default') names.add(name);
    }
  }
  return [...names];
}

/** The fence word for a file's language, from its extension (`''`, plain, when unknown). */
function languageOf(repoPath: string): string {
  return /\.([a-z]+)$/i.exec(repoPath)?.[1]?.replace(/^[mc](?=[tj]s$)/, '') ?? '';
}

/** The name of the region a `// #region name` line opens, if it is one. */
function regionName(line: string): string | undefined {
  return /^\s*\/\/\s*#region\s+(\S+)/.exec(line)?.[1];
}

/** Renders the previous/next bar, or nothing. */
function renderPager(pager: PageInput['pager']): string {
  if (pager === undefined || (pager.prev === undefined && pager.next === undefined)) return '';
  const prev = pager.prev === undefined ? '<span></span>' : `<a class="prev" href="${pager.prev.href}">← ${escapeHtml(pager.prev.label)}</a>`;
  const next = pager.next === undefined ? '<span></span>' : `<a class="next" href="${pager.next.href}">${escapeHtml(pager.next.label)} →</a>`;
  return `<nav class="pager" aria-label="Chapters">${prev}${next}</nav>\n`;
}
