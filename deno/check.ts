/**
 * `npm run check:deno`: the pure core runs under Deno.
 *
 * The core modules promise to use only web-standard APIs, so that they run under Deno and
 * in a browser as well as under Node. This check holds them to it in two steps:
 *
 * 1. It asks Deno for the module graph of every `deno/*_test.ts` (`deno info --json`) and
 *    fails, naming the module, line and specifier, when a pure module (a `weeks/` or
 *    `lib/` module whose name does not start with `node_`, the same test as the
 *    `impure-core` house rule) imports a Node builtin. Deno would accept such an import
 *    (it implements `node:*`), so running the tests alone would prove nothing about it.
 * 2. It runs those tests with `deno test`, which type-checks them with Deno's own compiler
 *    and grants only read access to the vector folders: no network, environment,
 *    subprocess or write access.
 *
 * Usage: `node --import tsx deno/check.ts [--root DIR] [--deno PATH]`. `--root` points it
 * at another tree laid out like this repository (its tests use a fixture tree); `--deno`
 * at another binary (default: the `deno` dev dependency in `node_modules/.bin/`).
 * Exit status: 0 when both steps pass, 1 when either fails, 2 on a usage error.
 * @module
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isPureModule } from '../gates/house_rules.ts';

/** The repository this file belongs to. */
const REPO = fileURLToPath(new URL('..', import.meta.url));

/** The Deno binary the dev dependency installs. */
export const DEFAULT_DENO = path.join(REPO, 'node_modules', '.bin', 'deno');

/** Deno's environment: no check for a newer Deno release, which would reach the network. */
const DENO_ENV = { ...process.env, DENO_NO_UPDATE_CHECK: '1' };

/** Folders the Deno tests may read (relative to the root): the published vectors they check. */
export const READABLE = ['testdata', 'weeks/week-08-signatures/testdata'];

/** A pure module that imports a Node builtin. */
export interface ImpureImport {
  /** The module, repo-relative. */
  readonly module: string;
  /** 1-based line of the import. */
  readonly line: number;
  /** What it imports (`node:fs`, `fs`, …). */
  readonly specifier: string;
}

/** The part of `deno info --json` output this check reads. */
export interface DenoGraph {
  readonly modules: readonly {
    readonly specifier: string;
    readonly error?: string;
    readonly dependencies?: readonly { readonly specifier: string; readonly code?: { readonly span?: { readonly start?: { readonly line?: number } } } }[];
  }[];
}

/**
 * Finds the pure modules of a graph that import a Node builtin.
 * @param graph - what `deno info --json` printed
 * @param root - the tree's root folder; modules outside it (npm packages) are not ours
 * @returns the offending imports, and the modules Deno could not load, as messages
 */
export function inspectGraph(graph: DenoGraph, root: string): { impure: ImpureImport[]; broken: string[] } {
  const impure: ImpureImport[] = [];
  const broken: string[] = [];
  for (const mod of graph.modules) {
    if (mod.error !== undefined) broken.push(mod.error);
    if (!mod.specifier.startsWith('file:')) continue;
    const rel = path.relative(root, fileURLToPath(mod.specifier)).split(path.sep).join('/');
    if (rel.startsWith('..') || !isPureModule(rel)) continue;
    for (const dep of mod.dependencies ?? []) {
      if (dep.specifier.startsWith('node:') || isBuiltin(dep.specifier)) {
        impure.push({ module: rel, line: (dep.code?.span?.start?.line ?? 0) + 1, specifier: dep.specifier });
      }
    }
  }
  return { impure, broken };
}

/** Runs the check; returns the exit status. */
function main(argv: readonly string[]): number {
  let root = REPO;
  let deno = DEFAULT_DENO;
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined || (flag !== '--root' && flag !== '--deno')) {
      console.error('usage: node --import tsx deno/check.ts [--root DIR] [--deno PATH]');
      return 2;
    }
    if (flag === '--root') root = path.resolve(value);
    else deno = path.resolve(value);
  }
  if (!existsSync(deno)) {
    console.error(`deno check: no Deno binary at ${deno}; run npm ci (deno is a dev dependency)`);
    return 1;
  }
  const folder = path.join(root, 'deno');
  const tests = readdirSync(folder).filter((name) => name.endsWith('_test.ts')).sort();
  if (tests.length === 0) {
    console.error(`deno check: no *_test.ts in ${folder}`);
    return 1;
  }

  const impure = new Map<string, ImpureImport>();
  const broken = new Set<string>();
  for (const test of tests) {
    const info = spawnSync(deno, ['info', '--json', '--no-lock', pathToFileURL(path.join(folder, test)).href], {
      cwd: root,
      encoding: 'utf8',
      env: { ...DENO_ENV, NO_COLOR: '1' },
    });
    if (info.status !== 0) {
      console.error(`deno check: deno info failed on deno/${test}:\n${info.stderr}`);
      return 1;
    }
    const found = inspectGraph(JSON.parse(info.stdout) as DenoGraph, root);
    for (const x of found.impure) impure.set(`${x.module}:${x.line}:${x.specifier}`, x);
    for (const message of found.broken) broken.add(message);
  }
  if (impure.size > 0 || broken.size > 0) {
    for (const x of impure.values()) {
      console.error(
        `deno check: ${x.module}:${x.line} imports '${x.specifier}': a pure module must run without Node; ` +
          'move the Node-specific code into a node_*.ts adapter',
      );
    }
    for (const message of broken) console.error(`deno check: Deno cannot load a module: ${message}`);
    console.error(`deno check: FAIL (${impure.size} Node import(s) in pure modules, ${broken.size} module(s) not loaded)`);
    return 1;
  }
  console.log(`deno check: the pure modules reached from ${tests.length} test file(s) import nothing from Node`);

  const allowRead = READABLE.map((dir) => path.join(root, dir)).join(',');
  const run = spawnSync(deno, ['test', '--no-lock', '--no-prompt', `--allow-read=${allowRead}`, ...tests.map((t) => `deno/${t}`)], {
    cwd: root,
    env: DENO_ENV,
    stdio: 'inherit',
  });
  if (run.status !== 0) {
    console.error(`deno check: FAIL (deno test exited with ${run.status ?? run.signal})`);
    return 1;
  }
  console.log('deno check: PASS');
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
