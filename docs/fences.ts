/**
 * Type-checks the free-standing TypeScript fences of Markdown chapters.
 *
 * A fence that quotes a region is checked by equality (`quotedFenceMismatch` in `./regions.ts`);
 * any other `ts` fence must compile on its own. Each such fence becomes a virtual file in
 * its chapter's folder, so a relative import such as `../../lib/logger.ts` resolves the
 * same way it would in a module next to the README. All fences of all chapters share
 * one `ts.Program`: the standard library and `@types/node` are parsed once.
 *
 * Skip a deliberately broken example with the flag `no-check`: ```` ```ts no-check ````.
 * @module
 */
import ts from 'typescript';
import path from 'node:path';
import { findFences, type Fence } from './regions.ts';

/** A Markdown file to check: its path (relative to the root, posix separators) and its text. */
export interface MarkdownFile {
  readonly path: string;
  readonly markdown: string;
}

/** One compiler complaint about a fence, located in the Markdown file. */
export interface FenceDiagnostic {
  /** Markdown path as given in {@link MarkdownFile.path}; `''` for a program-wide problem. */
  readonly file: string;
  /** 1-based line in the Markdown file (0 for a program-wide problem). */
  readonly line: number;
  /** 1-based column within the fence's line. */
  readonly column: number;
  /** The TypeScript error number (`2322` for TS2322). */
  readonly code: number;
  /** The compiler's message, nested chains flattened onto separate lines. */
  readonly message: string;
}

/** Options for {@link typeCheckFences}. */
export interface TypeCheckOptions {
  /** Absolute folder the Markdown paths are relative to. */
  readonly rootDir: string;
  /** Compiler options to check with, usually from {@link loadCompilerOptions}. */
  readonly compilerOptions: ts.CompilerOptions;
}

/**
 * Tells whether a fence is a free-standing TypeScript example that must type-check.
 * @param fence - a fence from {@link findFences}
 * @returns true for `ts`/`typescript` fences that quote nothing and are not flagged `no-check`
 */
export function isTypeCheckedFence(fence: Fence): boolean {
  const { attrs } = fence;
  return (
    (fence.lang === 'ts' || fence.lang === 'typescript') &&
    attrs['file'] === undefined &&
    attrs['region'] === undefined &&
    attrs['no-check'] === undefined
  );
}

/**
 * Tells whether a fence quotes a source region (it carries `file=` or `region=`).
 * @param fence - a fence from {@link findFences}
 * @returns true when the fence must equal a region rather than compile on its own
 */
export function isQuotingFence(fence: Fence): boolean {
  return fence.attrs['file'] !== undefined || fence.attrs['region'] !== undefined;
}

/**
 * Names the virtual file a fence is compiled as: `<dir>/__fence_<stem>_L<line>.ts`.
 * @param markdownPath - the Markdown file's path (posix)
 * @param fence - the fence
 * @returns a path in the same folder as the Markdown file
 */
export function fenceFileName(markdownPath: string, fence: Fence): string {
  const dir = path.posix.dirname(markdownPath);
  const stem = path.posix.basename(markdownPath).replace(/\.md$/i, '').replace(/[^A-Za-z0-9_]/g, '_');
  return path.posix.join(dir, `__fence_${stem}_L${fence.line}.ts`);
}

/**
 * Reads the compiler options of a tsconfig file, `extends` included.
 * @param tsconfigPath - absolute path of the tsconfig
 * @returns the parsed options
 * @throws {@link Error} when the file cannot be read or holds invalid options
 */
export function loadCompilerOptions(tsconfigPath: string): ts.CompilerOptions {
  const read = ts.readConfigFile(tsconfigPath, (p) => ts.sys.readFile(p));
  if (read.error !== undefined) throw new Error(`Cannot read ${tsconfigPath}: ${flatten(read.error)}`);
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, path.dirname(tsconfigPath));
  // "No inputs were found" (TS18003) only means the include globs match nothing yet.
  const errors = parsed.errors.filter((d) => d.code !== 18003);
  if (errors.length > 0) throw new Error(`Cannot use ${tsconfigPath}: ${errors.map(flatten).join('; ')}`);
  return parsed.options;
}

/**
 * Type-checks every free-standing `ts` fence of the given Markdown files in one program.
 *
 * Fences are compiled as ES modules even without an import or export, so two fences
 * may declare the same name. Only problems inside fences are reported; errors in the
 * modules they import belong to `tsc -p tsconfig.json`.
 * @param files - Markdown files, paths relative to `opts.rootDir`
 * @param opts - the root folder and the compiler options
 * @returns the diagnostics, located by Markdown file and line; empty when all fences compile
 */
export function typeCheckFences(files: readonly MarkdownFile[], opts: TypeCheckOptions): FenceDiagnostic[] {
  const compilerOptions: ts.CompilerOptions = {
    ...opts.compilerOptions,
    noEmit: true,
    moduleDetection: ts.ModuleDetectionKind.Force,
    // A fence is a snippet: it may import a name only to show where it comes from.
    noUnusedLocals: false,
  };
  // Absolute virtual path -> where its fence sits in the Markdown.
  const virtual = new Map<string, { text: string; markdownPath: string; fence: Fence }>();
  for (const file of files) {
    for (const fence of findFences(file.markdown)) {
      if (!isTypeCheckedFence(fence)) continue;
      const absolute = path.resolve(opts.rootDir, fenceFileName(file.path, fence));
      virtual.set(absolute, { text: fence.body, markdownPath: file.path, fence });
    }
  }
  if (virtual.size === 0) return [];

  const host = ts.createCompilerHost(compilerOptions, true);
  const baseGetSourceFile = host.getSourceFile.bind(host);
  const baseFileExists = host.fileExists.bind(host);
  const baseReadFile = host.readFile.bind(host);
  host.getSourceFile = (fileName, languageVersionOrOptions, onError, shouldCreate) => {
    const entry = virtual.get(path.resolve(fileName));
    if (entry === undefined) return baseGetSourceFile(fileName, languageVersionOrOptions, onError, shouldCreate);
    return ts.createSourceFile(fileName, entry.text, languageVersionOrOptions, true);
  };
  host.fileExists = (fileName) => virtual.has(path.resolve(fileName)) || baseFileExists(fileName);
  host.readFile = (fileName) => virtual.get(path.resolve(fileName))?.text ?? baseReadFile(fileName);

  const program = ts.createProgram({ rootNames: [...virtual.keys()], options: compilerOptions, host });
  const out: FenceDiagnostic[] = [];
  for (const d of [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()]) {
    out.push({ file: '', line: 0, column: 0, code: d.code, message: flatten(d) });
  }
  for (const [absolute, entry] of virtual) {
    const sourceFile = program.getSourceFile(absolute);
    if (sourceFile === undefined) continue;
    const found = [...program.getSyntacticDiagnostics(sourceFile), ...program.getSemanticDiagnostics(sourceFile)];
    for (const d of found) {
      const at = d.start === undefined ? { line: 0, character: 0 } : sourceFile.getLineAndCharacterOfPosition(d.start);
      out.push({
        file: entry.markdownPath,
        // The fence body starts on the line after the opening fence.
        line: entry.fence.line + 1 + at.line,
        column: at.character + 1,
        code: d.code,
        message: flatten(d),
      });
    }
  }
  return out;
}

/**
 * Formats a diagnostic as `file:line:column TS1234: message`.
 * @param d - the diagnostic
 * @returns one line per message in the chain
 */
export function formatFenceDiagnostic(d: FenceDiagnostic): string {
  const where = d.file === '' ? '(program)' : `${d.file}:${d.line}:${d.column}`;
  return `${where} TS${d.code}: ${d.message}`;
}

/** Flattens a diagnostic's message chain. */
function flatten(d: ts.Diagnostic): string {
  return ts.flattenDiagnosticMessageText(d.messageText, '\n');
}
