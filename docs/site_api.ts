/**
 * Builds the API reference with TypeDoc, in process, and maps every documented symbol
 * to its page so chapters can link to it with `[appendRecord](api:appendRecord)`.
 *
 * The options live in the top-level `typedoc.json` (entry point `lib/mod.ts`, strict
 * validation, warnings treated as errors), so `npx typedoc` and the site build agree.
 * The build only overrides the output folder and keeps TypeDoc's info lines quiet; its
 * warnings and errors are still printed, with file and line, and fail the build the way
 * TypeDoc's own command line fails: after conversion, after validation, after output.
 * @module
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  Application,
  ReflectionKind,
  RendererEvent,
  TSConfigReader,
  TypeDocReader,
  type ProjectReflection,
  type Reflection,
} from 'typedoc';
import { API_SITE_SCHEME, DocsBuildError, type ApiLookup } from './site_links.ts';

/** Every documented symbol of the API reference and the URL of its page. */
export interface ApiSymbols {
  /** Full name (`WalWriter.append`) → URL relative to the API folder (`classes/WalWriter.html#append`). */
  readonly byFullName: ReadonlyMap<string, string>;
  /** Looks a name up by its full name (`appendRecord`, `LogWriter.append`, `EXIT.ok`). */
  lookup(name: string): ApiLookup;
}

/** Options for {@link buildApi}. */
export interface ApiBuildOptions {
  /** Repository root; `typedoc.json` is read from here. */
  readonly root: string;
  /** Absolute folder to write the API reference to. */
  readonly outDir: string;
}

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
  const entries = app.options.getValue('entryPoints');
  for (const entry of entries) {
    if (!existsSync(entry)) {
      throw new DocsBuildError('E_DOCS_TYPEDOC', `Cannot build the API reference: entry point ${entry} does not exist`);
    }
  }
  checkLogger(app, 'read its options');

  const project = await app.convert();
  if (project === undefined) {
    throw new DocsBuildError('E_DOCS_TYPEDOC', 'Cannot build the API reference: TypeDoc could not convert the project (errors above)');
  }
  checkLogger(app, 'convert lib/mod.ts');
  app.validate(project);
  checkLogger(app, 'validate the documentation');

  let byFullName = new Map<string, string>();
  // The router that knows each page's URL exists only while rendering, so read it at the end.
  app.renderer.on(RendererEvent.END, (event: RendererEvent) => {
    byFullName = collectUrls(app, event.project);
  });
  await app.generateDocs(project, options.outDir);
  checkLogger(app, 'write the HTML');
  return createApiSymbols(byFullName);
}

/**
 * Wraps a full-name → URL map with the lookup chapters use. Names are exact: a member is
 * written with its owner (`api:LogWriter.append`), so a short name never lands on an
 * unrelated member that happens to share it; the error suggests the full names instead.
 * @param byFullName - every symbol's full name and URL
 * @returns the symbol map
 */
export function createApiSymbols(byFullName: ReadonlyMap<string, string>): ApiSymbols {
  return {
    byFullName,
    lookup(name) {
      const url = byFullName.get(name);
      if (url !== undefined) return { url };
      const near = [...byFullName.keys()].filter((full) => full.endsWith(`.${name}`) || full.toLowerCase() === name.toLowerCase());
      const hint = near.length === 0 ? '' : ` (did you mean ${near.slice(0, 5).map((n) => `api:${n}`).join(', ')}?)`;
      return { error: `lib/mod.ts exports no documented symbol named ${name}${hint}` };
    },
  };
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

/** Reads the URL of every declaration that has a page or an anchor on one. */
function collectUrls(app: Application, project: ProjectReflection): Map<string, string> {
  const router = app.renderer.router;
  const urls = new Map<string, string>();
  if (router === undefined) return urls;
  for (const reflection of project.getReflectionsByKind(ReflectionKind.All)) {
    const target: Reflection | undefined = reflection.isReference()
      ? reflection.tryGetTargetReflectionDeep()
      : reflection;
    if (target === undefined || !target.isDeclaration() || !router.hasUrl(target)) continue;
    // An object literal's members sit under an anonymous `__type`; readers write `EXIT.ok`.
    urls.set(reflection.getFullName().replace(/\.__type\b/g, ''), router.getFullUrl(target));
  }
  return urls;
}
