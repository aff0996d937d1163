/**
 * The house rules of the repository, checked over source text.
 *
 * `docs/architecture.md` (section 2) sets boundaries that the compiler alone does not
 * see: time flows one way (week N never reaches into a later week, another week's folder,
 * `lib/mod.ts` or `capstone/`), `lib/` barrels are explicit lists, imports never loop,
 * pure modules stay free of Node, and every module says what it is.
 * {@link checkHouseRules} reports each breach as a {@link Violation}; it parses with the
 * TypeScript compiler API (no type check) and does no I/O, so tests can feed it small
 * file sets built in memory.
 *
 * The rules, by name:
 *
 * | rule | what it forbids |
 * |---|---|
 * | `other-week-folder` | a week file importing another week's folder directly |
 * | `later-week` | a week file importing a `lib/` barrel that re-exports its own or a later week |
 * | `aggregate-barrel` | a week file importing `lib/mod.ts` |
 * | `capstone-import` | a week file importing anything in `capstone/` |
 * | `outside-import` | a week file importing any other path (gates/, docs/, a missing file, …) |
 * | `lib-capstone` | a `lib/` file importing `capstone/` |
 * | `barrel-shape` | a `lib/<topic>.ts` barrel with anything but named re-exports of weeks' `mod.ts` |
 * | `cycle` | a loop in the import graph (type-only and dynamic imports count) |
 * | `impure-core` | a pure module importing Node builtins or using `Buffer`, `process`, … |
 * | `missing-module-doc` | a non-test `.ts` module (outside `testdata/`) without a leading `/** … @module *\/` comment |
 * | `outside-path` | a path that reaches outside the repository, in code, JSON, a chapter's commands or `.ci/` |
 *
 * `outside-path` exists because a clone may live anywhere: a test that reads
 * `/work/…/vectors.json` passes on the machine that wrote it and fails on every other. It
 * reads the string literals of `.ts`/`.mjs`/`.js` files, the strings of `.json` files (not
 * `package-lock.json`), the commands and free code of a Markdown file's `console`, shell
 * and `ts`/`js` fences (never its prose or quoted output), and the lines of `.ci/`
 * scripts. It reports an absolute path into a machine's user or workspace folders
 * ({@link MACHINE_ROOTS}: `/work/`, `/home/`, `/root/`, …) wherever it appears, and a
 * relative path that climbs above the repository root (`../shared/…` from the root, say)
 * wherever the text is used as a path: an import, `new URL(…, import.meta.url)`, a
 * `join`/`resolve` from the module's folder, a file function's argument, a command. A
 * relative path climbs from the module's folder when the module names its own location,
 * and from the repository root otherwise (tests, scripts and chapter commands run there).
 * System paths a program uses (`/tmp`, `/dev/null`, `/proc`, `/sys`, `/usr/bin/…`,
 * `/etc/…`), URL paths such as `/healthz` and the placeholder `/path/to/civictrust` pass.
 * @module
 */
import ts from 'typescript';
import { builtinModules } from 'node:module';
import { findFences } from '../docs/regions.ts';
import { parseChapter } from '../docs/transcript.ts';

/**
 * A file handed to the checker: a repo-relative posix path and its text. Code files
 * (`.ts`, `.mts`, `.cts`, `.mjs`, `.cjs`, `.js`) are checked by every rule; `.json`,
 * `.md`, `.sh` and `.ci/` files by `outside-path` only.
 */
export interface SourceFile {
  readonly path: string;
  readonly source: string;
}

/** The name of each rule, as printed in reports and matched by tests. */
export type RuleName =
  | 'other-week-folder'
  | 'later-week'
  | 'aggregate-barrel'
  | 'capstone-import'
  | 'outside-import'
  | 'lib-capstone'
  | 'barrel-shape'
  | 'cycle'
  | 'impure-core'
  | 'missing-module-doc'
  | 'outside-path';

/** Every rule name, in the order reports list them. */
export const RULE_NAMES: readonly RuleName[] = [
  'other-week-folder',
  'later-week',
  'aggregate-barrel',
  'capstone-import',
  'outside-import',
  'lib-capstone',
  'barrel-shape',
  'cycle',
  'impure-core',
  'missing-module-doc',
  'outside-path',
];

/** One breach of a house rule, located by file and 1-based line. */
export interface Violation {
  readonly rule: RuleName;
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

/** Options for {@link checkHouseRules}. */
export interface HouseRulesOptions {
  /** Check only these rules (default: all of {@link RULE_NAMES}). */
  readonly rules?: readonly RuleName[];
  /** Names that count as Node builtins without a `node:` prefix (default: `module.builtinModules`). */
  readonly builtinModules?: readonly string[];
}

/** Node globals a pure module must not reference. */
export const NODE_GLOBALS: readonly string[] = ['Buffer', 'process', '__dirname', '__filename', 'require'];

/** How a specifier was written; all kinds count for every rule. */
export type ImportKind = 'import' | 'import-type' | 'export-from' | 'dynamic' | 'import-type-node' | 'require';

/** One module specifier found in a file. */
export interface ImportRef {
  readonly specifier: string;
  readonly kind: ImportKind;
  /** 1-based line of the specifier. */
  readonly line: number;
}

/**
 * Lists the module specifiers of a file: static imports (`import type` included),
 * `export … from`, dynamic `import('…')` with a string literal, `import('…')` types and
 * `import x = require('…')`.
 * @param file - the file to scan
 * @returns the specifiers in source order
 */
export function collectImports(file: SourceFile): ImportRef[] {
  return parse(file).imports.slice();
}

/**
 * Checks the house rules over a set of files.
 *
 * Relative specifiers are resolved against the set itself, so the set should hold
 * every `.ts` file of the repository for the cycle and barrel rules to see the whole
 * graph.
 * @param files - repo-relative posix paths and their text
 * @param opts - which rules to run, and the builtin module list
 * @returns the violations, sorted by file, line and rule; empty when the rules hold
 */
export function checkHouseRules(files: readonly SourceFile[], opts: HouseRulesOptions = {}): Violation[] {
  const enabled = new Set<RuleName>(opts.rules ?? RULE_NAMES);
  const builtins = new Set<string>(opts.builtinModules ?? builtinModules);
  const byPath = new Map<string, Parsed>();
  for (const file of files) if (isCodeFile(file.path)) byPath.set(file.path, parse(file));
  const graph = new ImportGraph(byPath);
  const out: Violation[] = [];
  const report = (rule: RuleName, file: string, line: number, message: string): void => {
    if (enabled.has(rule)) out.push({ rule, file, line, message });
  };

  for (const parsed of byPath.values()) {
    checkWeekImports(parsed, graph, report);
    checkLibCapstone(parsed, graph, report);
    checkBarrelShape(parsed, graph, report);
    checkPurity(parsed, builtins, report);
    checkModuleDoc(parsed, report);
  }
  if (enabled.has('outside-path')) for (const file of files) checkOutsidePaths(file, byPath.get(file.path), report);
  checkCycles(graph, report);
  return out.sort(
    (a, b) =>
      a.file.localeCompare(b.file) || a.line - b.line || RULE_NAMES.indexOf(a.rule) - RULE_NAMES.indexOf(b.rule),
  );
}

/**
 * Formats a violation as `file:line [rule] message`.
 * @param v - the violation
 * @returns one line (more when the message has several)
 */
export function formatViolation(v: Violation): string {
  return `${v.file}:${v.line} [${v.rule}] ${v.message}`;
}

/**
 * Tells whether a path is a pure module: a non-test `.ts` under `weeks/` or `lib/`
 * whose file name does not start with `node_` and that is not under a `testdata/` folder.
 * @param path - repo-relative posix path
 * @returns true when the purity rule applies
 */
export function isPureModule(path: string): boolean {
  if (!/^(weeks|lib)\//.test(path) || !path.endsWith('.ts') || path.endsWith('.test.ts')) return false;
  if (path.split('/').includes('testdata')) return false;
  return !baseName(path).startsWith('node_');
}

// ---------------------------------------------------------------------------------------
// Parsing and resolution

/** A parsed file with its imports. */
interface Parsed {
  readonly path: string;
  readonly sf: ts.SourceFile;
  readonly imports: readonly ImportRef[];
}

/** Reports a violation (filtered by the enabled rules). */
type Report = (rule: RuleName, file: string, line: number, message: string) => void;

/** True for the files the import rules parse: TypeScript and JavaScript modules. */
function isCodeFile(path: string): boolean {
  return /\.(ts|mts|cts|mjs|cjs|js)$/.test(path);
}

/** Parses one file without binding or type-checking. */
function parse(file: SourceFile): Parsed {
  const sf = parseSource(file.path, file.source, /\.(mjs|cjs|js)$/.test(file.path) ? ts.ScriptKind.JS : ts.ScriptKind.TS);
  return { path: file.path, sf, imports: collectImportsOf(sf) };
}

/** Builds a syntax tree (parent pointers set) without binding or type-checking. */
function parseSource(path: string, source: string, kind: ts.ScriptKind): ts.SourceFile {
  return ts.createSourceFile(path, source, ts.ScriptTarget.Latest, true, kind);
}

/** Walks a source file for module specifiers. */
function collectImportsOf(sf: ts.SourceFile): ImportRef[] {
  const out: ImportRef[] = [];
  const add = (lit: ts.Expression | undefined, kind: ImportKind): void => {
    if (lit === undefined || !ts.isStringLiteralLike(lit)) return;
    const line = sf.getLineAndCharacterOfPosition(lit.getStart(sf)).line + 1;
    out.push({ specifier: lit.text, kind, line });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      add(node.moduleSpecifier, node.importClause?.isTypeOnly === true ? 'import-type' : 'import');
    } else if (ts.isExportDeclaration(node)) {
      add(node.moduleSpecifier, 'export-from');
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node.moduleReference.expression, 'require');
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node.arguments[0], 'dynamic');
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal, 'import-type-node');
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** The files of the set and where their relative imports lead. */
class ImportGraph {
  readonly files: ReadonlyMap<string, Parsed>;

  constructor(files: ReadonlyMap<string, Parsed>) {
    this.files = files;
  }

  /**
   * Resolves a relative specifier to a path. Returns the path in the set if one matches
   * (trying `.ts` for `.js`, and `.ts`, `/mod.ts`, `/index.ts` for an extensionless
   * specifier), else the plain normalized path. Bare specifiers give `undefined`.
   */
  resolve(from: string, specifier: string): { path: string; exists: boolean } | undefined {
    if (!specifier.startsWith('./') && !specifier.startsWith('../') && specifier !== '.' && specifier !== '..') {
      return undefined;
    }
    const target = normalize(`${dirName(from)}/${specifier}`);
    const candidates = [target];
    if (target.endsWith('.js')) candidates.push(`${target.slice(0, -3)}.ts`);
    if (target.endsWith('.mjs')) candidates.push(`${target.slice(0, -4)}.mts`);
    if (!/\.[A-Za-z0-9]+$/.test(baseName(target))) candidates.push(`${target}.ts`, `${target}/mod.ts`, `${target}/index.ts`);
    const hit = candidates.find((c) => this.files.has(c));
    return hit === undefined ? { path: target, exists: false } : { path: hit, exists: true };
  }

  /** Outgoing edges of a file, to files in the set, with the line of each import. */
  edges(path: string): { to: string; line: number }[] {
    const parsed = this.files.get(path);
    if (parsed === undefined) return [];
    const out: { to: string; line: number }[] = [];
    for (const ref of parsed.imports) {
      const r = this.resolve(path, ref.specifier);
      if (r?.exists === true) out.push({ to: r.path, line: ref.line });
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------
// Rules

/** `weeks/week-NN-slug/…` → the folder and NN. */
function weekOf(path: string): { folder: string; week: number } | undefined {
  const m = /^weeks\/(week-(\d+)-[^/]+)\//.exec(path);
  return m === null ? undefined : { folder: `weeks/${m[1]}`, week: Number(m[2]) };
}

/** A topic barrel is a non-test `.ts` directly in `lib/`, other than `lib/mod.ts`. */
function isTopicBarrel(path: string): boolean {
  return /^lib\/[^/]+\.ts$/.test(path) && path !== 'lib/mod.ts' && !path.endsWith('.test.ts');
}

/** Weeks a lib file re-exports, following other lib files it re-exports from. */
function barrelWeeks(graph: ImportGraph, path: string, seen = new Set<string>()): Set<number> {
  const weeks = new Set<number>();
  if (seen.has(path)) return weeks;
  seen.add(path);
  for (const ref of graph.files.get(path)?.imports ?? []) {
    const r = graph.resolve(path, ref.specifier);
    if (r === undefined) continue;
    const w = weekOf(r.path);
    if (w !== undefined) weeks.add(w.week);
    else if (r.exists && r.path.startsWith('lib/')) for (const x of barrelWeeks(graph, r.path, seen)) weeks.add(x);
  }
  return weeks;
}

/** Rules `other-week-folder`, `later-week`, `aggregate-barrel`, `capstone-import`, `outside-import`. */
function checkWeekImports(parsed: Parsed, graph: ImportGraph, report: Report): void {
  const own = weekOf(parsed.path);
  if (own === undefined) return;
  const ownLabel = `week ${String(own.week).padStart(2, '0')}`;
  for (const ref of parsed.imports) {
    const r = graph.resolve(parsed.path, ref.specifier);
    const quoted = `'${ref.specifier}'`;
    if (r === undefined) {
      // A bare package or a node: builtin; purity is checked separately.
      if (ref.specifier.startsWith('/') || /^[A-Za-z][A-Za-z0-9+.-]*:/.test(ref.specifier)) {
        if (!ref.specifier.startsWith('node:') && !ref.specifier.startsWith('npm:') && !ref.specifier.startsWith('jsr:')) {
          report('outside-import', parsed.path, ref.line, `Import ${quoted} by a relative path or a package name instead`);
        }
      }
      continue;
    }
    const target = r.path;
    if (target === own.folder || target.startsWith(`${own.folder}/`)) continue;
    const other = weekOf(target);
    if (other !== undefined || target.startsWith('weeks/')) {
      report(
        'other-week-folder',
        parsed.path,
        ref.line,
        `Import ${quoted} through its lib/ barrel: ${ownLabel} may not reach into another week's folder (${target})`,
      );
    } else if (target === 'lib/mod.ts') {
      report(
        'aggregate-barrel',
        parsed.path,
        ref.line,
        `Import the topic barrel instead of ${quoted}: lib/mod.ts aggregates every week, later ones included`,
      );
    } else if (target === 'capstone' || target.startsWith('capstone/')) {
      report('capstone-import', parsed.path, ref.line, `Remove import ${quoted}: weeks never depend on capstone/`);
    } else if (isTopicBarrel(target) && r.exists) {
      const weeks = [...barrelWeeks(graph, target)].sort((a, b) => a - b);
      const late = weeks.filter((w) => w >= own.week);
      if (late.length > 0) {
        report(
          'later-week',
          parsed.path,
          ref.line,
          `Remove import ${quoted}: ${target} re-exports week(s) ${late.join(', ')}, not earlier than ${ownLabel}`,
        );
      } else if (weeks.length === 0) {
        report('outside-import', parsed.path, ref.line, `Cannot place ${target} in time: it re-exports no week's mod.ts`);
      }
    } else {
      const why = r.exists ? 'it is neither in this week nor a lib/ topic barrel' : 'no such file in the repository';
      report('outside-import', parsed.path, ref.line, `Remove import ${quoted} (${target}): ${why}`);
    }
  }
}

/** Rule `lib-capstone`. */
function checkLibCapstone(parsed: Parsed, graph: ImportGraph, report: Report): void {
  if (!parsed.path.startsWith('lib/')) return;
  for (const ref of parsed.imports) {
    const r = graph.resolve(parsed.path, ref.specifier);
    if (r !== undefined && (r.path === 'capstone' || r.path.startsWith('capstone/'))) {
      report('lib-capstone', parsed.path, ref.line, `Remove import '${ref.specifier}': lib/ never depends on capstone/`);
    }
  }
}

/** Rule `barrel-shape`. */
function checkBarrelShape(parsed: Parsed, graph: ImportGraph, report: Report): void {
  if (!isTopicBarrel(parsed.path)) return;
  const { sf } = parsed;
  const lineOf = (node: ts.Node): number => sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
  for (const stmt of sf.statements) {
    if (!ts.isExportDeclaration(stmt) || stmt.moduleSpecifier === undefined) {
      report(
        'barrel-shape',
        parsed.path,
        lineOf(stmt),
        `Keep only \`export { … } from '../weeks/week-NN-…/mod.ts'\` in a barrel; found ${describeStatement(stmt)}`,
      );
      continue;
    }
    const spec = ts.isStringLiteralLike(stmt.moduleSpecifier) ? stmt.moduleSpecifier.text : '';
    if (stmt.exportClause === undefined || !ts.isNamedExports(stmt.exportClause)) {
      report(
        'barrel-shape',
        parsed.path,
        lineOf(stmt),
        `List the names re-exported from '${spec}' (\`export { a, type B } from …\`) instead of \`export *\``,
      );
    }
    const r = graph.resolve(parsed.path, spec);
    if (r === undefined || !/^weeks\/week-\d+-[^/]+\/mod\.ts$/.test(r.path)) {
      report(
        'barrel-shape',
        parsed.path,
        lineOf(stmt),
        `Re-export from a week's mod.ts only; '${spec}' is ${r === undefined ? 'a package' : r.path}`,
      );
    }
  }
}

/** Names a statement's kind for a message. */
function describeStatement(stmt: ts.Statement): string {
  if (ts.isImportDeclaration(stmt)) return 'an import';
  if (ts.isExportDeclaration(stmt)) return 'a local export list';
  if (ts.isExportAssignment(stmt)) return 'a default export';
  return 'a local declaration or statement';
}

/** Rule `impure-core`. */
function checkPurity(parsed: Parsed, builtins: ReadonlySet<string>, report: Report): void {
  if (!isPureModule(parsed.path)) return;
  for (const ref of parsed.imports) {
    const spec = ref.specifier;
    const isBuiltin = spec.startsWith('node:') || builtins.has(spec) || builtins.has(spec.split('/')[0] ?? '');
    if (isBuiltin) {
      report(
        'impure-core',
        parsed.path,
        ref.line,
        `Move the '${spec}' import into a node_*.ts adapter: ${parsed.path} is a pure module`,
      );
    }
  }
  const globals = new Set(NODE_GLOBALS);
  const { sf } = parsed;
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && globals.has(node.text) && isGlobalReference(node)) {
      const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
      report(
        'impure-core',
        parsed.path,
        line,
        `Replace the Node global \`${node.text}\` (use Uint8Array, injected config or a node_*.ts adapter): ${parsed.path} is a pure module`,
      );
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
}

/**
 * Tells whether an identifier reads a global: it is not a property name, not the name
 * being declared, and no enclosing scope declares the same name.
 */
function isGlobalReference(id: ts.Identifier): boolean {
  const parent = id.parent;
  if (
    (ts.isPropertyAccessExpression(parent) && parent.name === id) ||
    (ts.isQualifiedName(parent) && parent.right === id) ||
    (ts.isPropertyAssignment(parent) && parent.name === id) ||
    (ts.isPropertyDeclaration(parent) && parent.name === id) ||
    (ts.isPropertySignature(parent) && parent.name === id) ||
    (ts.isMethodDeclaration(parent) && parent.name === id) ||
    (ts.isMethodSignature(parent) && parent.name === id) ||
    (ts.isGetAccessorDeclaration(parent) && parent.name === id) ||
    (ts.isSetAccessorDeclaration(parent) && parent.name === id) ||
    (ts.isEnumMember(parent) && parent.name === id) ||
    (ts.isBindingElement(parent) && parent.propertyName === id) ||
    (ts.isImportSpecifier(parent) && parent.propertyName === id) ||
    (ts.isExportSpecifier(parent) && parent.propertyName === id) ||
    (ts.isLabeledStatement(parent) && parent.label === id) ||
    ((ts.isBreakStatement(parent) || ts.isContinueStatement(parent)) && parent.label === id) ||
    ts.isJsxAttribute(parent)
  ) {
    return false;
  }
  // `{ process }` shorthand reads the variable, so it stays a reference.
  if (isDeclarationName(id)) return false;
  return !isShadowed(id);
}

/** True when the identifier is the name a declaration introduces. */
function isDeclarationName(id: ts.Identifier): boolean {
  const p = id.parent;
  return (
    ((ts.isVariableDeclaration(p) ||
      ts.isParameter(p) ||
      ts.isFunctionDeclaration(p) ||
      ts.isFunctionExpression(p) ||
      ts.isClassDeclaration(p) ||
      ts.isClassExpression(p) ||
      ts.isInterfaceDeclaration(p) ||
      ts.isTypeAliasDeclaration(p) ||
      ts.isTypeParameterDeclaration(p) ||
      ts.isBindingElement(p) ||
      ts.isImportClause(p) ||
      ts.isNamespaceImport(p) ||
      ts.isImportSpecifier(p) ||
      ts.isImportEqualsDeclaration(p)) &&
      p.name === id)
  );
}

/**
 * True when a scope around the identifier declares its name: a parameter, a variable,
 * function, class or import of an enclosing block or file, a loop variable, or a catch
 * binding. This is a close approximation of JavaScript scoping; it misses `var`
 * hoisted out of a nested block, which then reads as a global (a safe mistake).
 */
function isShadowed(id: ts.Identifier): boolean {
  const name = id.text;
  for (let n: ts.Node | undefined = id.parent; n !== undefined; n = n.parent) {
    if (ts.isFunctionLike(n)) {
      if (n.parameters.some((p) => bindsName(p.name, name))) return true;
      if ((ts.isFunctionExpression(n) || ts.isClassExpression(n)) && n.name?.text === name) return true;
    }
    if (ts.isCatchClause(n) && n.variableDeclaration !== undefined && bindsName(n.variableDeclaration.name, name)) {
      return true;
    }
    if (
      (ts.isForStatement(n) || ts.isForInStatement(n) || ts.isForOfStatement(n)) &&
      n.initializer !== undefined &&
      ts.isVariableDeclarationList(n.initializer) &&
      n.initializer.declarations.some((d) => bindsName(d.name, name))
    ) {
      return true;
    }
    if (ts.isBlock(n) || ts.isSourceFile(n) || ts.isModuleBlock(n) || ts.isCaseClause(n) || ts.isDefaultClause(n)) {
      if (n.statements.some((s) => statementDeclares(s, name))) return true;
    }
  }
  return false;
}

/** True when a statement of a block declares `name`. */
function statementDeclares(s: ts.Statement, name: string): boolean {
  if (ts.isVariableStatement(s)) return s.declarationList.declarations.some((d) => bindsName(d.name, name));
  if (ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s)) return s.name?.text === name;
  if (ts.isImportDeclaration(s)) {
    const clause = s.importClause;
    if (clause === undefined) return false;
    if (clause.name?.text === name) return true;
    const bindings = clause.namedBindings;
    if (bindings === undefined) return false;
    if (ts.isNamespaceImport(bindings)) return bindings.name.text === name;
    return bindings.elements.some((e) => e.name.text === name);
  }
  if (ts.isImportEqualsDeclaration(s)) return s.name.text === name;
  return false;
}

/** True when a binding name (identifier or destructuring pattern) binds `name`. */
function bindsName(b: ts.BindingName, name: string): boolean {
  if (ts.isIdentifier(b)) return b.text === name;
  return b.elements.some((e) => !ts.isOmittedExpression(e) && bindsName(e.name, name));
}

/** Rule `missing-module-doc`. */
function checkModuleDoc(parsed: Parsed, report: Report): void {
  const { path, sf } = parsed;
  if (!/^(weeks|lib|capstone|gates|docs)\//.test(path) || !path.endsWith('.ts') || path.endsWith('.test.ts')) return;
  if (path.split('/').includes('testdata')) return;
  const text = sf.getFullText();
  // getLeadingCommentRanges at 0 skips a shebang line.
  const comments = ts.getLeadingCommentRanges(text, 0) ?? [];
  const hasDoc = comments.some(
    (c) =>
      c.kind === ts.SyntaxKind.MultiLineCommentTrivia &&
      text.startsWith('/**', c.pos) &&
      /@module\b/.test(text.slice(c.pos, c.end)),
  );
  if (!hasDoc) {
    report(
      'missing-module-doc',
      path,
      1,
      'Open the file with a `/** … @module */` comment, before any import, saying what the module is for',
    );
  }
}

/** Rule `cycle`: Tarjan's strongly connected components, then one concrete loop per component. */
function checkCycles(graph: ImportGraph, report: Report): void {
  const paths = [...graph.files.keys()].sort();
  const adjacency = new Map(paths.map((p) => [p, graph.edges(p)]));
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];

  // Iterative Tarjan, so a long import chain cannot overflow the call stack.
  for (const root of paths) {
    if (index.has(root)) continue;
    const work: { node: string; next: number }[] = [{ node: root, next: 0 }];
    index.set(root, counter);
    low.set(root, counter);
    counter += 1;
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const edges = adjacency.get(frame.node) ?? [];
      if (frame.next < edges.length) {
        const to = edges[frame.next]!.to;
        frame.next += 1;
        if (!index.has(to)) {
          index.set(to, counter);
          low.set(to, counter);
          counter += 1;
          stack.push(to);
          onStack.add(to);
          work.push({ node: to, next: 0 });
        } else if (onStack.has(to)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(to)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string | undefined;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        components.push(component);
      }
    }
  }

  for (const component of components) {
    const members = new Set(component);
    const start = [...component].sort()[0]!;
    const selfLoop = (adjacency.get(start) ?? []).find((e) => e.to === start);
    if (component.length === 1 && selfLoop === undefined) continue;
    const loop = selfLoop !== undefined ? [start, start] : shortestLoop(start, members, adjacency);
    const firstEdge = (adjacency.get(start) ?? []).find((e) => e.to === loop[1]);
    report(
      'cycle',
      start,
      firstEdge?.line ?? 1,
      `Break the import cycle ${loop.join(' -> ')}` +
        (component.length > loop.length - 1 ? ` (${component.length} files are tangled: ${[...members].sort().join(', ')})` : ''),
    );
  }
}

/** Breadth-first search for the shortest path from `start` back to itself inside one component. */
function shortestLoop(
  start: string,
  members: ReadonlySet<string>,
  adjacency: ReadonlyMap<string, readonly { to: string }[]>,
): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  for (let head = 0; head < queue.length; head += 1) {
    const node = queue[head]!;
    for (const { to } of adjacency.get(node) ?? []) {
      if (!members.has(to)) continue;
      if (to === start) {
        const path = [start];
        for (let n: string | undefined = node; n !== undefined && n !== start; n = previous.get(n)) path.unshift(n);
        // path is now [first hop, …, node, start].
        return [start, ...path];
      }
      if (!previous.has(to)) {
        previous.set(to, node);
        queue.push(to);
      }
    }
  }
  return [start, start];
}

// ---------------------------------------------------------------------------------------
// Rule `outside-path`

/**
 * Top-level folders that hold one machine's users or workspaces: an absolute path under
 * one of them names a file of that machine, which another clone does not have.
 */
export const MACHINE_ROOTS: readonly string[] = ['work', 'workspace', 'home', 'root', 'Users'];

/** Functions whose first argument is a file the program opens, relative to the working directory. */
const FILE_CALLS: ReadonlySet<string> = new Set([
  'readFileSync', 'readFile', 'writeFileSync', 'writeFile', 'appendFileSync', 'appendFile', 'existsSync',
  'readdirSync', 'readdir', 'opendirSync', 'opendir', 'statSync', 'stat', 'lstatSync', 'lstat', 'openSync',
  'open', 'createReadStream', 'createWriteStream', 'mkdirSync', 'mkdir', 'rmSync', 'rm', 'accessSync',
  'access', 'copyFileSync', 'copyFile', 'cpSync', 'cp', 'realpathSync', 'realpath', 'chdir',
]);

/** Functions that start a process: their string arguments are a command and its arguments. */
const PROCESS_CALLS: ReadonlySet<string> = new Set(['exec', 'execSync', 'execFile', 'execFileSync', 'spawn', 'spawnSync', 'fork']);

/** Path functions that join their arguments into one path. */
const PATH_JOINS: ReadonlySet<string> = new Set(['join', 'resolve']);

/** Fence languages whose lines are shell commands; `console` fences are read through their `$ ` prompts. */
const SHELL_LANGS: ReadonlySet<string> = new Set(['sh', 'bash', 'shell', 'zsh']);

/** Fence languages whose code is checked like a module's. */
const CODE_LANGS: ReadonlyMap<string, ts.ScriptKind> = new Map([
  ['ts', ts.ScriptKind.TS],
  ['typescript', ts.ScriptKind.TS],
  ['js', ts.ScriptKind.JS],
  ['javascript', ts.ScriptKind.JS],
  ['mjs', ts.ScriptKind.JS],
]);

/**
 * A piece of text to scan for paths, at its 1-based line. `from` is the repo-relative
 * folder a relative path in it starts from (`''` for the root, where commands run); when
 * it is absent the text is not known to be a path, and only machine paths are looked for.
 * `climbOnly` marks a second look at a literal already scanned for machine paths.
 */
interface PathText {
  readonly text: string;
  readonly line: number;
  readonly from?: string;
  readonly climbOnly?: boolean;
}

/** Rule `outside-path`: gathers the texts of a file that may name paths, then scans each. */
function checkOutsidePaths(file: SourceFile, parsed: Parsed | undefined, report: Report): void {
  const folder = dirName(file.path);
  let texts: PathText[] = [];
  if (parsed !== undefined) texts = codeTexts(parsed.sf, parsed.imports, folder, 0);
  else if (file.path.endsWith('.json')) texts = baseName(file.path) === 'package-lock.json' ? [] : jsonStrings(file.source, folder);
  else if (file.path.endsWith('.md')) texts = markdownTexts(file.source, folder);
  else if (file.path.startsWith('.ci/') || file.path.endsWith('.sh')) texts = shellLines(file.source.split('\n'), 1);
  for (const t of texts) for (const message of outsidePaths(t)) report('outside-path', file.path, t.line, message);
}

/**
 * The texts of a module: every string literal and template piece (scanned for machine
 * paths), and again, as paths, the literals the module hands to something that opens
 * them: module specifiers and `new URL(…, import.meta.url)` (from the module's folder),
 * `join`/`resolve` from `import.meta` or `__dirname` (the module's folder) or from a
 * literal (the working directory), the first argument of a file function, and the
 * arguments of a process call or of zx's `` $`…` `` (the working directory). Where the
 * start of a relative path is unknown (`join(someDir, '..')`) nothing is assumed.
 */
function codeTexts(sf: ts.SourceFile, imports: readonly ImportRef[], folder: string, lineOffset: number): PathText[] {
  const lineOf = (node: ts.Node): number => lineOffset + sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
  const out: PathText[] = imports.map((ref) => ({ text: ref.specifier, line: lineOffset + ref.line, from: folder, climbOnly: true }));
  const asPath = (node: ts.Node | undefined, from: string): void => {
    if (node !== undefined && ts.isStringLiteralLike(node)) out.push({ text: node.text, line: lineOf(node), from, climbOnly: true });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteralLike(node) || ts.isTemplateHead(node)) {
      out.push({ text: node.text, line: lineOf(node) });
    } else if (ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) {
      // A piece after `${…}` does not start a path: `${ROOT}/home` is relative to ROOT.
      out.push({ text: `_${node.text}`, line: lineOf(node) });
    } else if (ts.isNewExpression(node) && calleeName(node.expression) === 'URL') {
      const [target, base] = node.arguments ?? [];
      if (base !== undefined && base.getText(sf).includes('import.meta')) asPath(target, folder);
    } else if (ts.isCallExpression(node)) {
      const name = calleeName(node.expression);
      const args = node.arguments;
      if (FILE_CALLS.has(name)) asPath(args[0], '');
      else if (PROCESS_CALLS.has(name)) {
        for (const arg of args) {
          if (ts.isArrayLiteralExpression(arg)) arg.elements.forEach((e) => asPath(e, ''));
          else asPath(arg, '');
        }
      } else if (PATH_JOINS.has(name) && args.length > 0) {
        joinedPath(sf, args, folder, lineOf, out);
      }
    } else if (ts.isTaggedTemplateExpression(node) && calleeName(node.tag) === '$') {
      const t = node.template;
      const pieces = ts.isNoSubstitutionTemplateLiteral(t) ? [t.text] : [t.head.text, ...t.templateSpans.map((span) => `_${span.literal.text}`)];
      out.push({ text: pieces.join(' '), line: lineOf(t), from: '', climbOnly: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** The path `join`/`resolve` builds from its leading string arguments, when its start is known. */
function joinedPath(
  sf: ts.SourceFile,
  args: ts.NodeArray<ts.Expression>,
  folder: string,
  lineOf: (node: ts.Node) => number,
  out: PathText[],
): void {
  const first = args[0]!;
  let from: string;
  let rest: readonly ts.Expression[];
  if (ts.isStringLiteralLike(first)) [from, rest] = ['', args];
  else if (/\bimport\.meta\b|\b__dirname\b|\b__filename\b/.test(first.getText(sf))) [from, rest] = [folder, args.slice(1)];
  else return;
  const parts: string[] = [];
  for (const arg of rest) {
    if (!ts.isStringLiteralLike(arg)) break;
    parts.push(arg.text);
  }
  if (parts.length > 0) out.push({ text: parts.join('/'), line: lineOf(first), from, climbOnly: true });
}

/** The name a call is made through: `f` in `f()`, `fs.f()` or `fs.promises.f()`. */
function calleeName(callee: ts.Expression): string {
  if (ts.isIdentifier(callee)) return callee.text;
  if (ts.isPropertyAccessExpression(callee)) return callee.name.text;
  return '';
}

/** Every string (keys and values) of a JSON text, at its line; a relative path starts from the file's folder. */
function jsonStrings(source: string, folder: string): PathText[] {
  const out: PathText[] = [];
  for (const m of source.matchAll(/"(?:[^"\\\n]|\\.)*"/g)) {
    let text: unknown;
    try {
      text = JSON.parse(m[0]);
    } catch {
      continue; // not a JSON string after all (the file is malformed there)
    }
    if (typeof text === 'string') out.push({ text, line: lineAt(source, m.index), from: folder });
  }
  return out;
}

/**
 * The commands and code of a Markdown file: the `$ `/`> ` lines of `console` fences
 * (their output is quoted text, not something the chapter reads), every line of shell
 * fences, and the code of `ts`/`js` fences that quote no file (a `file=` fence is its
 * module's text, checked in the module). Commands run at the repository root.
 */
function markdownTexts(markdown: string, folder: string): PathText[] {
  const out: PathText[] = [];
  for (const transcript of parseChapter(markdown).transcripts) {
    for (const command of transcript.commands) {
      command.source.forEach((text, i) => out.push({ text: text.slice(2), line: command.line + i, from: '' }));
    }
  }
  for (const fence of findFences(markdown)) {
    const kind = CODE_LANGS.get(fence.lang);
    if (SHELL_LANGS.has(fence.lang)) out.push(...shellLines(fence.body.split('\n'), fence.line + 1));
    else if (kind !== undefined && fence.attrs['file'] === undefined) {
      const sf = parseSource('fence.ts', fence.body, kind);
      out.push(...codeTexts(sf, collectImportsOf(sf), folder, fence.line));
    }
  }
  return out;
}

/** The lines of a shell script or fence, as commands run at the repository root; comments left out. */
function shellLines(lines: readonly string[], firstLine: number): PathText[] {
  const out: PathText[] = [];
  lines.forEach((text, i) => {
    if (!text.trimStart().startsWith('#')) out.push({ text, line: firstLine + i, from: '' });
  });
  return out;
}

/** Characters after which a `/` or `..` does not begin a path: it continues a word, URL, variable or path. */
const NOT_A_PATH_START = String.raw`[\w.~$})\-/\\]`;

/** Characters that end a path inside a command or a longer string. */
const PATH_END = String.raw`[^\s'"\x60;|&<>(){},\]]*`;

/** An absolute path whose first folder is a machine root. */
const MACHINE_PATH = new RegExp(String.raw`(?<!${NOT_A_PATH_START})/(${MACHINE_ROOTS.join('|')})(?![\w.-])${PATH_END}`, 'g');

/** A relative path that starts by going up: `..`, `../x`, `./../x`. */
const UPWARD_PATH = new RegExp(String.raw`(?<!${NOT_A_PATH_START})(?:\./)*\.\.(?![\w.-])(?:/${PATH_END})?`, 'g');

/**
 * Finds the paths in a text that reach outside the repository.
 * @param t - the text, and where its relative paths start (absent: it is not known to be a path)
 * @returns one message per offending path
 */
function outsidePaths(t: PathText): string[] {
  // `file:///home/x` names the same file as `/home/x`.
  const text = t.text.replaceAll('file://', ' ');
  const out: string[] = [];
  for (const m of t.climbOnly === true ? [] : text.matchAll(MACHINE_PATH)) {
    out.push(
      `Replace '${m[0]}': /${m[1]}/ is a folder of one machine, absent from other clones; copy what it reads ` +
        'into the repository (testdata/) and reach it relative to this file, or write /path/to/civictrust',
    );
  }
  if (t.from === undefined) return out;
  for (const m of text.matchAll(UPWARD_PATH)) {
    const target = normalize(t.from === '' ? m[0] : `${t.from}/${m[0]}`);
    if (target === '..' || target.startsWith('../')) {
      const start = t.from === '' ? 'the repository root' : `${t.from}/`;
      out.push(`Replace '${m[0]}': from ${start} it climbs out of the repository (to ${target}); copy what it reads into testdata/`);
    }
  }
  return out;
}

/** The 1-based line of a character offset. */
function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line += 1;
  return line;
}

// ---------------------------------------------------------------------------------------
// Posix path helpers (the checker never touches the file system)

/** The folder part of a posix path (`''` at the root). */
function dirName(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

/** The last segment of a posix path. */
function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Resolves `.` and `..` in a relative posix path; a path that climbs above the root keeps its `..`. */
function normalize(path: string): string {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' && out.length > 0 && out.at(-1) !== '..') out.pop();
    else out.push(part);
  }
  return out.join('/');
}
