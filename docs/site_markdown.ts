/**
 * Renders a chapter's Markdown to HTML with markdown-it, adding what the site needs:
 *
 * - every heading gets a stable `id`, the same slug GitHub gives it, so
 *   `README.md#the-proof` works both on GitHub and on the site;
 * - every link and image goes through a resolver supplied by the caller (see
 *   `./site_links.ts`), which rewrites it or records it as broken;
 * - a fence quoting a region (`ts file=node_log_file.ts region=append`) is shown as code
 *   in its language under a caption naming the file and region, linked to the source
 *   page; the equality of fence and region is checked by `docs/quotes.test.ts`, not here;
 * - code is highlighted here, at build time, with highlight.js (`./site_highlight.ts`),
 *   so a page needs no script to show colours;
 * - a `mermaid` fence stays preformatted text;
 * - the text under each heading is collected as a {@link Section}, which the site's
 *   search index and table of contents are built from.
 *
 * Raw HTML in a chapter is passed through: chapters are our own, trusted text. Its
 * `href`/`src` attributes are not rewritten, so write links in Markdown syntax; the site
 * test still checks every link of every generated page on disk.
 * @module
 */
import MarkdownIt from 'markdown-it';
import type { StateCore, Token } from 'markdown-it';
import { parseFenceInfo } from './regions.ts';
import { highlightCode } from './site_highlight.ts';
import { escapeAttr, escapeHtml } from './site_html.ts';

/** A heading of a rendered document. */
export interface Heading {
  /** 1 for `#`, 2 for `##`, … */
  readonly level: number;
  /** The slug used as the heading's `id`. */
  readonly id: string;
  /** The heading's plain text. */
  readonly text: string;
}

/** The text of a document under one heading, up to the next heading of any level. */
export interface Section {
  /** The heading the text sits under; the text before the first heading has none. */
  readonly heading: Heading | undefined;
  /** Plain text of the paragraphs, lists, tables and quotes, whitespace collapsed (code fences left out). */
  readonly text: string;
}

/** Resolves one link of the document: returns the URL to write into the HTML. */
export type ResolveLink = (href: string, line: number | undefined) => string;

/** A rendered document. */
export interface RenderedMarkdown {
  /** The HTML of the body. */
  readonly html: string;
  /** Text of the first level-1 heading, if there is one. */
  readonly title: string | undefined;
  /** Every heading, in document order. */
  readonly headings: readonly Heading[];
  /** The document's text cut at its headings, in document order. */
  readonly sections: readonly Section[];
}

/** What the plugin rules read from markdown-it's `env`. */
interface SiteEnv {
  resolveLink?: ResolveLink;
  headings?: Heading[];
  sections?: Section[];
}

/**
 * Turns heading text into its base slug the way GitHub does: lower case, every
 * character that is not a letter, digit, mark, connector (`_`), dash or space dropped,
 * then each space replaced by a dash (so `Step 2 — parse` gives `step-2--parse`).
 * @param text - the heading's plain text
 * @returns the slug, before de-duplication
 */
export function slugify(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/**
 * Creates a slugger for one document: repeated headings get `-1`, `-2`, … as GitHub does.
 * @returns a function from heading text to a unique id within the document
 */
export function createSlugger(): (text: string) => string {
  const used = new Map<string, number>();
  return function slug(text: string): string {
    const base = slugify(text);
    let id = base;
    // github-slugger's loop: bump the base's counter until the suffixed id is unused.
    while (used.has(id)) {
      const n = (used.get(base) ?? 0) + 1;
      used.set(base, n);
      id = `${base}-${n}`;
    }
    used.set(id, 0);
    return id;
  };
}

/**
 * Creates the markdown-it instance the site renders with.
 * @returns a renderer with heading ids, link resolution and captioned fences
 */
export function createMarkdown(): MarkdownIt {
  const md = new MarkdownIt({ html: true, linkify: false, typographer: false });
  md.core.ruler.push('civictrust_heading_ids', headingIdsRule);
  md.core.ruler.push('civictrust_links', linksRule);
  md.renderer.rules.fence = renderFence;
  md.renderer.rules.heading_close = renderHeadingClose;
  return md;
}

/** One shared instance: markdown-it keeps no per-document state outside `env`. */
let shared: MarkdownIt | undefined;

/**
 * Lists the headings of a document without rendering it (the anchors other files may link to).
 * @param markdown - the document's text
 * @returns every heading with its id
 */
export function collectHeadings(markdown: string): Heading[] {
  shared ??= createMarkdown();
  const env: SiteEnv = {};
  shared.parse(markdown, env);
  return env.headings ?? [];
}

/**
 * Renders a document.
 * @param markdown - the document's text
 * @param resolveLink - called for every link and image; its answer is written to the HTML
 * @returns the body HTML, the title and the headings
 */
export function renderMarkdown(markdown: string, resolveLink: ResolveLink): RenderedMarkdown {
  shared ??= createMarkdown();
  const env: SiteEnv = { resolveLink };
  const html = shared.render(markdown, env);
  const headings = env.headings ?? [];
  return { html, title: headings.find((h) => h.level === 1)?.text, headings, sections: env.sections ?? [] };
}

/**
 * Gives each heading an `id`, records it in `env.headings`, and cuts the document's
 * prose into `env.sections` at its headings.
 */
function headingIdsRule(state: StateCore): void {
  const env = state.env as SiteEnv;
  const slug = createSlugger();
  const headings: Heading[] = [];
  const sections: Section[] = [];
  let heading: Heading | undefined;
  let words: string[] = [];
  function close(): void {
    const text = words.join(' ').replace(/\s+/g, ' ').trim();
    if (heading !== undefined || text !== '') sections.push({ heading, text });
  }
  state.tokens.forEach((token, i) => {
    if (token.type === 'inline' && state.tokens[i - 1]?.type !== 'heading_open') words.push(plainText(token));
    if (token.type !== 'heading_open') return;
    const text = plainText(state.tokens[i + 1]);
    const id = slug(text);
    token.attrSet('id', id);
    close();
    heading = { level: Number(token.tag.slice(1)), id, text };
    headings.push(heading);
    words = [];
  });
  close();
  env.headings = headings;
  env.sections = sections;
}

/** Sends every link `href` and image `src` through the resolver. */
function linksRule(state: StateCore): void {
  const resolve = (state.env as SiteEnv).resolveLink;
  if (resolve === undefined) return;
  let line: number | undefined;
  for (const block of state.tokens) {
    // Inline tokens carry no position; the nearest block before them with one (a paragraph,
    // a table row) locates the link.
    if (block.map !== null) line = block.map[0] + 1;
    if (block.type !== 'inline' || block.children === null) continue;
    for (const token of block.children) {
      const attr = token.type === 'link_open' ? 'href' : token.type === 'image' ? 'src' : undefined;
      if (attr === undefined) continue;
      const value = token.attrGet(attr);
      if (value !== null) token.attrSet(attr, resolve(value, line));
    }
  }
}

/** The plain text of an inline token: text and inline code, line breaks as spaces, markup dropped. */
function plainText(inline: Token | undefined): string {
  if (inline === undefined || inline.children === null) return inline?.content ?? '';
  return inline.children
    .map((child) => {
      if (child.type === 'text' || child.type === 'code_inline') return child.content;
      return child.type === 'softbreak' || child.type === 'hardbreak' ? ' ' : '';
    })
    .join('');
}

/** Closes a heading with a small self-link, so readers can copy a section's URL. */
function renderHeadingClose(tokens: Token[], idx: number): string {
  const open = tokens[idx - 2];
  const id = open?.type === 'heading_open' ? open.attrGet('id') : null;
  const tag = tokens[idx]?.tag ?? 'h2';
  if (id === null || id === '') return `</${tag}>\n`;
  return ` <a class="anchor" href="#${escapeAttr(encodeURIComponent(id))}" aria-label="Link to this section">#</a></${tag}>\n`;
}

/**
 * Renders a fence: highlighted code with a language class, a caption for a quoted
 * region, mermaid as plain text.
 */
function renderFence(tokens: Token[], idx: number, _options: unknown, env: SiteEnv): string {
  const token = tokens[idx];
  if (token === undefined) return '';
  const { lang, attrs } = parseFenceInfo(token.info);
  if (lang === 'mermaid') return `<pre class="mermaid">${escapeHtml(token.content)}</pre>\n`;
  const highlighted = highlightCode(token.content, lang);
  const classes = [...(lang === '' ? [] : [`language-${lang}`]), ...(highlighted.highlighted ? ['hljs'] : [])];
  const langClass = classes.length === 0 ? '' : ` class="${escapeAttr(classes.join(' '))}"`;
  const pre = `<pre><code${langClass}>${highlighted.html}</code></pre>`;
  const file = attrs['file'];
  const region = attrs['region'];
  if (file === undefined || file === '') return `${pre}\n`;
  const line = token.map === null ? undefined : token.map[0] + 1;
  const target = region === undefined || region === '' ? file : `${file}#region-${region}`;
  const href = env.resolveLink === undefined ? undefined : env.resolveLink(target, line);
  const name = `<code>${escapeHtml(file)}</code>`;
  const fileLabel = href === undefined ? name : `<a href="${escapeAttr(href)}">${name}</a>`;
  const regionLabel = region === undefined || region === '' ? '' : ` · region <code>${escapeHtml(region)}</code>`;
  return `<figure class="quote"><figcaption>${fileLabel}${regionLabel}</figcaption>${pre}</figure>\n`;
}
