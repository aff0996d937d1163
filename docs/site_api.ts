/**
 * Builds the API reference with TypeDoc, in process, and maps every documented symbol
 * to its page so chapters can link to it with `[appendRecord](api:appendRecord)`.
 *
 * The options live in the top-level `typedoc.json` (strict validation, warnings treated
 * as errors), so `npx typedoc` and the site build agree. Its entry points are the topic
 * barrels of `lib/` in week order, so the reference has one module per topic; each
 * barrel's `@module` comment carries `@category Week NN`, which groups the modules by
 * week on the index page and in the navigation. The build then adds what `npx typedoc`
 * alone cannot know: the chapter title in each week's heading and a link from each
 * module to its chapter.
 *
 * Chapters link to symbols by their name inside their module (`api:appendRecord`,
 * `api:LogWriter.append`), never by module, so a symbol can move between barrels
 * without breaking a chapter. For the same reason a `{@link Name}` in a doc comment
 * whose file does not import `Name` is resolved here by name across all modules (with
 * one entry point, TypeDoc found such names in the single module by itself).
 *
 * The build only overrides the output folder and keeps TypeDoc's info lines quiet; its
 * warnings and errors are still printed, with file and line, and fail the build the way
 * TypeDoc's own command line fails: after conversion, after validation, after output.
 * @module
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  Application,
  Converter,
  Reflection,
  ReflectionKind,
  ReflectionSymbolId,
  RendererEvent,
  TSConfigReader,
  TypeDocReader,
  type CommentDisplayPart,
  type DeclarationReflection,
  type ProjectReflection,
} from 'typedoc';
import { API_SITE_SCHEME, DocsBuildError, type ApiLookup } from './site_links.ts';

/** A module of the API reference: one topic barrel of `lib/`. */
export interface ApiModule {
  /** The barrel's name (`logger` for `lib/logger.ts`). */
  readonly name: string;
  /** The week whose chapter builds it, from its `@category Week NN` tag. */
  readonly week: number;
  /** URL relative to the API folder (`modules/logger.html`). */
  readonly url: string;
  /** The first sentence of its `@module` comment, as plain text. */
  readonly summary: string;
}

/** A symbol of the API reference as the search index lists it. */
export interface ApiEntry {
  /** Name inside its module (`appendRecord`, `LogWriter.append`). */
  readonly name: string;
  /** TypeDoc's word for its kind (`Function`, `Class`, `Method`, …). */
  readonly kind: string;
  /** The module that exports it. */
  readonly module: string;
  /** The week of that module. */
  readonly week: number | undefined;
  /** The first sentence of its doc comment, as plain text. */
  readonly summary: string;
  /** URL relative to the API folder, with its anchor when it has one. */
  readonly url: string;
}

/** Every documented symbol of the API reference and the URL of its page. */
export interface ApiSymbols {
  /** Name inside its module (`WalWriter.append`) → URL relative to the API folder (`classes/wal.WalWriter.html#append`). */
  readonly byFullName: ReadonlyMap<string, string>;
  /** The modules, in week order. */
  readonly modules: readonly ApiModule[];
  /** The top-level symbols and the members of classes, for the search index. */
  readonly entries: readonly ApiEntry[];
  /** Looks a name up by its name inside its module (`appendRecord`, `LogWriter.append`, `EXIT.ok`). */
  lookup(name: string): ApiLookup;
}

/** A chapter as the API reference names and links it. */
export interface ApiChapter {
  /** Short chapter title (`WAL durability and crash recovery`). */
  readonly title: string;
  /** Site path of the chapter page, when the chapter is built. */
  readonly sitePath?: string | undefined;
}

/** Options for {@link buildApi}. */
export interface ApiBuildOptions {
  /** Repository root; `typedoc.json` is read from here. */
  readonly root: string;
  /** Absolute folder to write the API reference to. */
  readonly outDir: string;
  /** Every week's chapter, for the week headings and the module → chapter links. */
  readonly chapters?: ReadonlyMap<number, ApiChapter> | undefined;
}

/** The category tag that places a module in a week: `@category Week 07`. */
const WEEK_CATEGORY = /^Week (\d+)$/;

/** The kinds the search index lists: top-level exports and the members of classes and interfaces. */
const INDEXED_KINDS =
  ReflectionKind.Function | ReflectionKind.Class | ReflectionKind.Interface | ReflectionKind.TypeAlias |
  ReflectionKind.Variable | ReflectionKind.Enum | ReflectionKind.Method | ReflectionKind.Property | ReflectionKind.Accessor;

/**
 * Runs TypeDoc with the repository's `typedoc.json` and returns the symbol map.
 * @param options - repository root and output folder
 * @returns the symbols of the generated reference
 * @throws {@link DocsBuildError} `E_DOCS_TYPEDOC` when the entry point is missing, or when
 *   TypeDoc reports any error or warning (an undocumented export, a broken `{@link}`)
 */
export async function buildApi(options: ApiBuildOptions): Promise<ApiSymbols> {
  const config = join(options.root, 'typedoc.json');
  if (!existsSync(config)) {
    throw new DocsBuildError('E_DOCS_TYPEDOC', `Cannot build the API reference: ${config} does not exist`);
  }
  const app = await Application.bootstrapWithPlugins(
    {
      options: config,
      out: options.outDir,
      logLevel: 'Warn',
      // Rewritten to a relative link on every page by `rewriteApiSourceLinks`.
      navigationLinks: { 'Course chapters': `${API_SITE_SCHEME}index.html` },
    },
    [new TypeDocReader(), new TSConfigReader()],
  );
  for (const entry of app.options.getValue('entryPoints')) {
    if (!existsSync(entry)) {
      throw new DocsBuildError('E_DOCS_TYPEDOC', `Cannot build the API reference: entry point ${entry} does not exist`);
    }
  }
  checkLogger(app, 'read its options');

  // Before TypeDoc resolves links (priority -300), so its own resolution finds the targets.
  app.converter.on(Converter.EVENT_RESOLVE_END, (context) => resolveLinksAcrossModules(context.project), 100);
  const project = await app.convert();
  if (project === undefined) {
    throw new DocsBuildError('E_DOCS_TYPEDOC', 'Cannot build the API reference: TypeDoc could not convert the project (errors above)');
  }
  checkLogger(app, 'convert the lib/ barrels');
  app.validate(project);
  checkLogger(app, 'validate the documentation');
  const weeks = labelWeeks(project, options.chapters ?? new Map());

  let byFullName = new Map<string, string>();
  let entries: ApiEntry[] = [];
  let modules: ApiModule[] = [];
  // The router that knows each page's URL exists only while rendering, so read it at the end.
  app.renderer.on(RendererEvent.END, (event: RendererEvent) => {
    const router = app.renderer.router;
    if (router === undefined) return;
    byFullName = collectUrls(router, event.project);
    entries = collectEntries(router, event.project, weeks);
    modules = [...weeks].flatMap(([module, week]) =>
      router.hasUrl(module)
        ? [{ name: module.name, week, url: router.getFullUrl(module), summary: firstSentence(plainText(module.comment?.summary ?? [])) }]
        : [],
    );
  });
  await app.generateDocs(project, options.outDir);
  checkLogger(app, 'write the HTML');
  return createApiSymbols(byFullName, { modules, entries });
}

/**
 * Wraps a full-name → URL map with the lookup chapters use. Names are exact: a member is
 * written with its owner (`api:LogWriter.append`), so a short name never lands on an
 * unrelated member that happens to share it; the error suggests the full names instead.
 * @param byFullName - every symbol's full name and URL
 * @param listed - the modules and the indexed symbols, when known
 * @returns the symbol map
 */
export function createApiSymbols(
  byFullName: ReadonlyMap<string, string>,
  listed: { readonly modules?: readonly ApiModule[]; readonly entries?: readonly ApiEntry[] } = {},
): ApiSymbols {
  return {
    byFullName,
    modules: listed.modules ?? [],
    entries: listed.entries ?? [],
    lookup(name) {
      const url = byFullName.get(name);
      if (url !== undefined) return { url };
      const near = [...byFullName.keys()].filter((full) => full.endsWith(`.${name}`) || full.toLowerCase() === name.toLowerCase());
      const hint = near.length === 0 ? '' : ` (did you mean ${near.slice(0, 5).map((n) => `api:${n}`).join(', ')}?)`;
      return { error: `the lib/ barrels export no documented symbol named ${name}${hint}` };
    },
  };
}

/**
 * Points every `{@link Name}` that TypeScript could not resolve (the comment's file does
 * not import `Name`) at the one exported declaration of that name in any module, so
 * TypeDoc's link resolution, which runs next, accepts it. Names found in no module, or
 * in two, are left for TypeDoc to report.
 */
function resolveLinksAcrossModules(project: ProjectReflection): void {
  const byName = new Map<string, Reflection[]>();
  for (const module of project.getChildrenByKind(ReflectionKind.Module)) {
    for (const child of module.children ?? []) {
      if (child.isReference()) continue;
      byName.set(child.name, [...(byName.get(child.name) ?? []), child]);
    }
  }
  function target(text: string): Reflection | undefined {
    const [first = '', ...rest] = text.trim().split(/[\s|]/)[0]?.split('.') ?? [];
    const found = byName.get(first);
    let reflection: Reflection | undefined = found?.length === 1 ? found[0] : undefined;
    for (const member of rest) {
      reflection = reflection?.isDeclaration() ? reflection.getChildByName(member) : undefined;
    }
    return reflection;
  }
  function fix(parts: readonly CommentDisplayPart[]): void {
    for (const part of parts) {
      if (part.kind !== 'inline-tag' || !part.tag.startsWith('@link')) continue;
      const known = part.target;
      if (typeof known === 'string' || known instanceof Reflection) continue;
      if (known instanceof ReflectionSymbolId && project.getReflectionsFromSymbolId(known).length > 0) continue;
      const found = target(part.text);
      if (found !== undefined) part.target = found;
    }
  }
  for (const reflection of Object.values(project.reflections)) {
    const comment = reflection.comment;
    if (comment === undefined) continue;
    fix(comment.summary);
    for (const tag of comment.blockTags) fix(tag.content);
  }
}

/**
 * Reads each module's week from its `@category Week NN`, renames the week categories to
 * `Week NN · <chapter title>`, and ends each module's comment with a link to its chapter.
 * @returns each module's week, in week order
 */
function labelWeeks(project: ProjectReflection, chapters: ReadonlyMap<number, ApiChapter>): Map<DeclarationReflection, number> {
  const weeks = new Map<DeclarationReflection, number>();
  for (const category of project.categories ?? []) {
    const week = Number(WEEK_CATEGORY.exec(category.title)?.[1] ?? NaN);
    if (Number.isNaN(week)) continue;
    const chapter = chapters.get(week);
    const label = `Week ${String(week).padStart(2, '0')}${chapter === undefined ? '' : ` · ${chapter.title}`}`;
    category.title = label;
    for (const module of category.children) {
      if (!module.isDeclaration()) continue;
      weeks.set(module, week);
      if (chapter?.sitePath === undefined || module.comment === undefined) continue;
      module.comment.summary.push(
        { kind: 'text', text: '\n\nBuilt in the chapter ' },
        { kind: 'inline-tag', tag: '@link', text: label, target: `${API_SITE_SCHEME}${chapter.sitePath}` },
        { kind: 'text', text: '.' },
      );
    }
  }
  return new Map([...weeks].sort(([, a], [, b]) => a - b));
}


/** Fails when TypeDoc logged an error, or a warning (the config treats warnings as errors). */
function checkLogger(app: Application, step: string): void {
  const { logger } = app;
  const strict = app.options.getValue('treatWarningsAsErrors');
  if (logger.hasErrors() || (strict && logger.hasWarnings())) {
    throw new DocsBuildError(
      'E_DOCS_TYPEDOC',
      `Cannot build the API reference: TypeDoc failed to ${step} with ${logger.errorCount} error(s) and ` +
        `${logger.warningCount} warning(s), printed above (warnings count as errors)`,
    );
  }
}

/** The router of a rendering TypeDoc application. */
type Router = NonNullable<Application['renderer']['router']>;

/** Reads the URL of every declaration that has a page or an anchor on one. */
function collectUrls(router: Router, project: ProjectReflection): Map<string, string> {
  const urls = new Map<string, string>();
  for (const reflection of project.getReflectionsByKind(ReflectionKind.All)) {
    const target: Reflection | undefined = reflection.isReference()
      ? reflection.tryGetTargetReflectionDeep()
      : reflection;
    if (target === undefined || !target.isDeclaration() || !router.hasUrl(target)) continue;
    const name = nameInModule(reflection);
    if (name !== '') urls.set(name, router.getFullUrl(target));
  }
  return urls;
}

/** Lists the symbols the search index holds, with their module, week and first sentence. */
function collectEntries(router: Router, project: ProjectReflection, weeks: ReadonlyMap<DeclarationReflection, number>): ApiEntry[] {
  const entries: ApiEntry[] = [];
  for (const reflection of project.getReflectionsByKind(INDEXED_KINDS)) {
    if (!reflection.isDeclaration() || !router.hasUrl(reflection)) continue;
    const module = moduleOf(reflection);
    const owner = reflection.parent;
    // Members only of classes and interfaces: an options object's fields would drown the results.
    if (module === undefined || (owner !== module && !owner?.kindOf(ReflectionKind.ClassOrInterface))) continue;
    const comment = reflection.comment ?? reflection.signatures?.[0]?.comment ?? reflection.getSignature?.comment;
    entries.push({
      name: nameInModule(reflection),
      kind: ReflectionKind.singularString(reflection.kind),
      module: module.name,
      week: weeks.get(module),
      summary: firstSentence(plainText(comment?.summary ?? [])),
      url: router.getFullUrl(reflection),
    });
  }
  return entries;
}

/** The module a reflection belongs to. */
function moduleOf(reflection: Reflection): DeclarationReflection | undefined {
  let at: Reflection | undefined = reflection;
  while (at !== undefined && !at.kindOf(ReflectionKind.Module)) at = at.parent;
  return at?.isDeclaration() ? at : undefined;
}

/**
 * A reflection's dotted name below its module (`LogWriter.append`); an object literal's
 * members sit under an anonymous `__type`, which readers leave out (`EXIT.ok`).
 */
function nameInModule(reflection: Reflection): string {
  const names: string[] = [];
  for (let at: Reflection | undefined = reflection; at !== undefined && !at.kindOf(ReflectionKind.Module | ReflectionKind.Project); at = at.parent) {
    if (at.name !== '__type') names.unshift(at.name);
  }
  return names.join('.');
}

/** Comment parts as plain text: code without backticks, links as their text. */
function plainText(parts: readonly CommentDisplayPart[]): string {
  return parts
    .map((part) => (part.kind === 'inline-tag' ? part.text.split('|').pop()?.trim() ?? '' : part.text.replace(/`/g, '')))
    .join('')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The first sentence of a text (up to a full stop followed by a space or the end). */
function firstSentence(text: string): string {
  const end = /[.!?](?:\s|$)/.exec(text);
  return end === null ? text : text.slice(0, end.index + 1);
}
