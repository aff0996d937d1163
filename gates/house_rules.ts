/**
 * The house rules of the repository, checked over source text.
 *
 * DESIGN.md fixes a few boundaries that the compiler alone does not see: time flows one
 * way (week N never reaches into a later week, another week's folder, `lib/mod.ts` or
 * `capstone/`), `lib/` barrels are explicit lists, imports never loop, pure modules stay
 * free of Node, and every module says what it is. {@link checkHouseRules} reports each
 * breach as a {@link Violation}; it parses with the TypeScript compiler API (no type
 * check) and does no I/O, so tests can feed it small file sets built in memory.
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
 * @module
 */
import ts from 'typescript';
import { builtinModules } from 'node:module';

/** A source file handed to the checker: a repo-relative posix path and its text. */
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
  | 'missing-module-doc';

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
  for (const file of files) byPath.set(file.path, parse(file));
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

/** Parses one file without binding or type-checking. */
function parse(file: SourceFile): Parsed {
  const kind = file.path.endsWith('.mjs') || file.path.endsWith('.js') ? ts.ScriptKind.JS : ts.ScriptKind.TS;
  const sf = ts.createSourceFile(file.path, file.source, ts.ScriptTarget.Latest, true, kind);
  return { path: file.path, sf, imports: collectImportsOf(sf) };
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
