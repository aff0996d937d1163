/**
 * Where every link of a chapter goes on the built site, decided without touching the disk.
 *
 * Chapters are written to be read on GitHub too, so they link the way GitHub expects:
 * `../week-02-framing/README.md#the-problem`, `./node_log_file.ts`, `./testdata/`. The site
 * keeps those links working offline by mapping each repository path to a page of its own:
 *
 * ```
 *  repository path                     site path                         kind
 *  README.md                           index.html                        markdown
 *  weeks/week-01-x/README.md           weeks/week-01-x/index.html        markdown
 *  weeks/week-01-x/drill.md            weeks/week-01-x/drill.html        markdown
 *  weeks/week-01-x/node_log_file.ts    weeks/week-01-x/node_log_file.ts.html   source
 *  weeks/week-01-x/testdata/           weeks/week-01-x/testdata/index.html     listing
 *  weeks/week-01-x/diagram.svg         weeks/week-01-x/diagram.svg       raw (copied)
 * ```
 *
 * Source files become HTML pages (escaped text with `L<n>` and `region-<name>` anchors)
 * rather than copies: a web server sends `.ts` as `video/mp2t`, so a copied module would
 * download instead of opening. The API reference documents the exported symbols, which a
 * chapter reaches with `[appendRecord](api:appendRecord)`; a source page lists the API
 * entries of the symbols its file exports.
 *
 * Anything that cannot be resolved is a build error, never a dead link: a missing file or
 * chapter, a path leaving the repository, an unknown `api:` name, an anchor no heading
 * carries.
 * @module
 */
import { posix } from 'node:path';

/** The stable codes the docs build fails with. */
export type DocsErrorCode =
  /** A chapter links to a file, chapter, anchor or API symbol that does not exist. */
  | 'E_DOCS_BROKEN_LINK'
  /** TypeDoc reported an error or a warning (an undocumented export, an invalid `{@link}`). */
  | 'E_DOCS_TYPEDOC'
  /** The command line or the output folder is unusable. */
  | 'E_DOCS_USAGE';

/** A docs build failure; `problems` holds one line per broken item when there are several. */
export class DocsBuildError extends Error {
  /** The stable code, printed as `error[CODE]: …`. */
  readonly code: DocsErrorCode;
  /** Every individual problem, already formatted; empty when `message` says it all. */
  readonly problems: readonly string[];

  /**
   * @param code - the stable code
   * @param message - sentence case, action first, colon before the detail
   * @param problems - the individual problems, one formatted line each
   */
  constructor(code: DocsErrorCode, message: string, problems: readonly string[] = []) {
    super(message);
    this.name = 'DocsBuildError';
    this.code = code;
    this.problems = problems;
  }
}

/** How a repository file appears on the site (see the table in the module comment). */
export type TargetKind = 'markdown' | 'source' | 'raw' | 'listing';

/** A page or file the site must contain because something links to it. */
export interface SiteTarget {
  /** Repository path, posix separators, no leading `./` (`''` is the root folder). */
  readonly repoPath: string;
  /** How the target is rendered. */
  readonly kind: TargetKind;
  /** Path of the generated file inside the output folder. */
  readonly sitePath: string;
}

/** The answer to an `api:` lookup: a URL relative to the API folder, or why there is none. */
export type ApiLookup = { readonly url: string } | { readonly error: string };

/** What the resolver needs to know about the repository and the API; the build supplies it. */
export interface SiteIndex {
  /** Whether a repository path is a file, a folder, or absent. */
  kindOf(repoPath: string): 'file' | 'dir' | undefined;
  /** The anchor ids the target's page carries, or `undefined` when they cannot be checked. */
  anchorsOf(target: SiteTarget): ReadonlySet<string> | undefined;
  /** Looks up an exported symbol (`appendRecord`, `WalWriter.append`) in the API reference. */
  apiUrl(name: string): ApiLookup;
}

/** The outcome of resolving one link. */
export type LinkResolution =
  | { readonly ok: true; readonly href: string; readonly target?: SiteTarget }
  | { readonly ok: false; readonly reason: string };

/** A link that could not be resolved, located in its Markdown file. */
export interface BrokenLink {
  /** Repository path of the Markdown file. */
  readonly file: string;
  /** 1-based line of the paragraph or block holding the link, when known. */
  readonly line: number | undefined;
  /** The link as written. */
  readonly href: string;
  /** Why it does not resolve. */
  readonly reason: string;
}

/** The API reference's folder inside the output folder. */
export const API_DIR = 'api';

/** A URL scheme such as `https:` or `mailto:`; such links leave the site and are kept. */
const SCHEME = /^[a-z][a-z0-9+.-]*:/i;

/** Extensions shown as a source page; anything else not Markdown is copied as it is. */
const TEXT_EXTENSIONS = new Set([
  'ts', 'mts', 'cts', 'js', 'mjs', 'cjs', 'json', 'jsonl', 'txt', 'sh', 'yaml', 'yml', 'toml', 'csv',
  'log', 'diff', 'patch', 'env', 'gitignore',
]);

/** `weeks/week-NN-<slug>`, the folder of a chapter. */
const WEEK_FOLDER = /^weeks\/week-\d{2}-[^/]+/;

/**
 * Formats a broken link as the line the build prints.
 * @param broken - the link and why it fails
 * @returns `error[E_DOCS_BROKEN_LINK]: Cannot resolve link in <file>:<line>: "<href>": <reason>`
 */
export function formatBrokenLink(broken: BrokenLink): string {
  const where = broken.line === undefined ? broken.file : `${broken.file}:${broken.line}`;
  return `error[E_DOCS_BROKEN_LINK]: Cannot resolve link in ${where}: "${broken.href}": ${broken.reason}`;
}

/**
 * Decides how a repository path is published.
 * @param repoPath - posix path relative to the repository root
 * @param isDir - whether the path is a folder without a README.md
 * @returns the target with its kind and site path
 */
export function siteTargetOf(repoPath: string, isDir = false): SiteTarget {
  if (isDir) return { repoPath, kind: 'listing', sitePath: repoPath === '' ? 'index.html' : `${repoPath}/index.html` };
  const base = posix.basename(repoPath);
  if (/\.md$/i.test(base)) {
    const dir = posix.dirname(repoPath);
    const sitePath = /^readme\.md$/i.test(base)
      ? dir === '.' ? 'index.html' : `${dir}/index.html`
      : repoPath.replace(/\.md$/i, '.html');
    return { repoPath, kind: 'markdown', sitePath };
  }
  const dot = base.lastIndexOf('.');
  const ext = dot < 0 ? '' : base.slice(dot + 1).toLowerCase();
  if (dot < 0 || TEXT_EXTENSIONS.has(ext)) return { repoPath, kind: 'source', sitePath: `${repoPath}.html` };
  return { repoPath, kind: 'raw', sitePath: repoPath };
}

/**
 * Writes the relative URL from one generated page to another file of the site.
 * @param fromSitePath - site path of the page holding the link
 * @param toSitePath - site path of the target
 * @returns a relative URL (`../week-02-framing/index.html`, `index.html`)
 */
export function relativeHref(fromSitePath: string, toSitePath: string): string {
  const rel = posix.relative(posix.dirname(fromSitePath), toSitePath);
  return rel.split('/').map(encodeURIComponent).join('/');
}

/**
 * Resolves one link of a Markdown file to its URL on the site.
 *
 * In order: an `api:` link is looked up in the API reference; a link with another
 * scheme (`https:`, `mailto:`) is kept; a root-relative `/path` is refused (it would
 * not work from a file system); a `#fragment` must name a heading of the same file;
 * anything else is a path relative to the Markdown file that must exist in the
 * repository, and its fragment (if any) must name an anchor of the target's page.
 * @param href - the link as written (percent-encoding allowed)
 * @param from - repository path of the Markdown file holding the link
 * @param index - facts about the repository and the API reference
 * @returns the rewritten URL and the target to publish, or the reason it fails
 */
export function resolveLink(href: string, from: string, index: SiteIndex): LinkResolution {
  const fromSite = siteTargetOf(from).sitePath;
  const decoded = safeDecode(href).trim();
  if (decoded === '') return fail('the link is empty');

  if (decoded.startsWith('api:')) {
    const name = decoded.slice('api:'.length);
    if (name === '') return fail('an api: link needs a symbol name, as in api:appendRecord');
    const found = index.apiUrl(name);
    if ('error' in found) return fail(found.error);
    const [page = '', anchor] = found.url.split('#');
    const url = relativeHref(fromSite, `${API_DIR}/${page}`);
    return { ok: true, href: anchor === undefined ? url : `${url}#${anchor}` };
  }
  if (SCHEME.test(decoded) || decoded.startsWith('//')) return { ok: true, href };
  if (decoded.startsWith('/')) {
    return fail('a path from the site root breaks when the site is opened from disk; write it relative to this file');
  }

  const hash = decoded.indexOf('#');
  const pathPart = (hash < 0 ? decoded : decoded.slice(0, hash)).split('?')[0] ?? '';
  const fragment = hash < 0 ? '' : decoded.slice(hash + 1);

  if (pathPart === '') {
    const self = siteTargetOf(from);
    if (fragment !== '' && !hasAnchor(index, self, fragment)) {
      return fail(`no heading of this file has the id "${fragment}"`);
    }
    return { ok: true, href: fragment === '' ? '#' : `#${encodeURIComponent(fragment)}` };
  }

  const joined = posix.normalize(posix.join(posix.dirname(from), pathPart)).replace(/\/+$/, '');
  const repoPath = joined === '.' ? '' : joined;
  if (repoPath === '..' || repoPath.startsWith('../')) return fail('the path leads outside the repository');
  const kind = repoPath === '' ? 'dir' : index.kindOf(repoPath);
  if (kind === undefined) return fail(missingReason(repoPath, index));

  let target: SiteTarget;
  if (kind === 'dir') {
    const readme = repoPath === '' ? 'README.md' : `${repoPath}/README.md`;
    target = index.kindOf(readme) === 'file' ? siteTargetOf(readme) : siteTargetOf(repoPath, true);
  } else {
    target = siteTargetOf(repoPath);
  }

  let anchor = fragment;
  if (anchor !== '') {
    if (target.kind === 'listing') return fail(`${repoPath}/ is a folder: its page has no anchors`);
    // GitHub's line-range form #L10-L20 scrolls to the first line here.
    if (target.kind === 'source') anchor = anchor.replace(/^(L\d+)-L\d+$/, '$1');
    if (target.kind !== 'raw' && !hasAnchor(index, target, anchor)) {
      const hint = target.kind === 'markdown'
        ? ' (heading ids are GitHub-style slugs: lower case, punctuation dropped, spaces as dashes)'
        : ' (a source page has L<line> and region-<name> anchors)';
      return fail(`${target.repoPath} has no anchor "${fragment}"${hint}`);
    }
  }
  const url = relativeHref(fromSite, target.sitePath);
  return { ok: true, href: anchor === '' ? url : `${url}#${encodeURIComponent(anchor)}`, target };
}

/** What {@link createLinkCollector} returns: a resolver for the renderer plus what it found. */
export interface LinkCollector {
  /** Resolves a link; a broken one is recorded and rendered as `#broken-link`. */
  resolve(href: string, line: number | undefined): string;
  /** The broken links found so far. */
  readonly broken: BrokenLink[];
  /** Every repository target the links reach, in the order first seen. */
  readonly targets: SiteTarget[];
}

/**
 * Creates the link resolver the Markdown renderer calls for one file.
 * @param from - repository path of the Markdown file
 * @param index - facts about the repository and the API reference
 * @returns the resolver and the lists it fills
 */
export function createLinkCollector(from: string, index: SiteIndex): LinkCollector {
  const broken: BrokenLink[] = [];
  const targets: SiteTarget[] = [];
  return {
    broken,
    targets,
    resolve(href, line) {
      const result = resolveLink(href, from, index);
      if (!result.ok) {
        broken.push({ file: from, line, href, reason: result.reason });
        return '#broken-link';
      }
      if (result.target !== undefined) targets.push(result.target);
      return result.href;
    },
  };
}

/**
 * The URL scheme `typedoc.json` gives TypeDoc's "Defined in" links
 * (`sourceLinkTemplate: "civictrust-source:{path}#L{line}"`). The site has no remote
 * repository to point at and must work offline, so the build rewrites these links to its
 * own source pages, whose relative URL depends on the depth of each API page.
 */
export const API_SOURCE_SCHEME = 'civictrust-source:';

/** The URL scheme of links the build adds to TypeDoc pages that point at a site path. */
export const API_SITE_SCHEME = 'civictrust-site:';

/**
 * Rewrites the "Defined in" links of one TypeDoc page to the site's source pages.
 * A link to a file the site cannot publish (a dependency's typings) becomes plain text.
 * Links written `civictrust-site:<site path>` become relative links to that page.
 * @param html - the API page
 * @param pageSitePath - the page's site path (`api/functions/appendRecord.html`)
 * @param publishable - whether a repository path may get a source page
 * @returns the page with relative links, and the source files it now links to
 */
export function rewriteApiSourceLinks(
  html: string,
  pageSitePath: string,
  publishable: (repoPath: string) => boolean,
): { html: string; sources: SiteTarget[] } {
  const sources: SiteTarget[] = [];
  const link = /<a\b([^>]*?)\bhref="civictrust-source:([^"#]*)(?:#L(\d+))?"([^>]*)>([\s\S]*?)<\/a>/g;
  const rewritten = html.replace(link, (_all, before: string, path: string, line: string | undefined, after: string, text: string) => {
    const repoPath = posix.normalize(safeDecode(path));
    if (repoPath.startsWith('../') || !publishable(repoPath)) {
      const attrs = `${before} ${after}`.trim();
      return `<span${attrs === '' ? '' : ` ${attrs}`}>${text}</span>`;
    }
    const target = siteTargetOf(repoPath);
    sources.push(target);
    const href = relativeHref(pageSitePath, target.sitePath) + (line === undefined ? '' : `#L${line}`);
    return `<a${before}href="${href}"${after}>${text}</a>`;
  });
  // Links the build adds to TypeDoc's header (back to the course) name a site path.
  const site = new RegExp(`href="${API_SITE_SCHEME}([^"#]*)(#[^"]*)?"`, 'g');
  const withSite = rewritten.replace(site, (_all, path: string, hash: string | undefined) =>
    `href="${relativeHref(pageSitePath, path)}${hash ?? ''}"`,
  );
  return { html: withSite, sources };
}

/** Whether the target's page is known to carry the anchor; unknown anchor sets pass. */
function hasAnchor(index: SiteIndex, target: SiteTarget, anchor: string): boolean {
  const anchors = index.anchorsOf(target);
  return anchors === undefined || anchors.has(anchor);
}

/** Explains a missing path, naming the chapter when the path is inside one that does not exist. */
function missingReason(repoPath: string, index: SiteIndex): string {
  const week = WEEK_FOLDER.exec(repoPath)?.[0];
  if (week !== undefined && index.kindOf(week) === undefined) return `there is no chapter ${week}/ yet`;
  if (week !== undefined && repoPath === `${week}/README.md`) return `the chapter ${week}/ has no README.md yet`;
  return `${repoPath} does not exist`;
}

/** Undoes percent-encoding, keeping the text when it is not valid encoding. */
function safeDecode(href: string): string {
  try {
    return decodeURI(href);
  } catch {
    return href;
  }
}

/** A failed resolution. */
function fail(reason: string): LinkResolution {
  return { ok: false, reason };
}
