/**
 * The Deno check fails on a pure module that imports Node, names the module, line and
 * import, and passes on this repository.
 * @module
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_DENO, inspectGraph } from './check.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const CHECK = fileURLToPath(new URL('./check.ts', import.meta.url));
const TSX = path.join(REPO, 'node_modules', 'tsx', 'dist', 'loader.mjs');
const MISSING_DENO = `no Deno binary at ${DEFAULT_DENO}: run npm ci (deno is a dev dependency)`;

/** Runs the check as `npm run check:deno` does, on another root when given. */
function runCheck(...args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(TSX).href, CHECK, ...args], { cwd: REPO, encoding: 'utf8', timeout: 170_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/**
 * A small tree laid out like the repository: one week whose pure module imports
 * `node:fs` (the breach) beside an adapter that may, and a Deno test reaching both.
 */
function fixtureTree(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'civictrust-deno-check-'));
  const week = path.join(root, 'weeks', 'week-99-fixture');
  mkdirSync(week, { recursive: true });
  mkdirSync(path.join(root, 'deno'));
  writeFileSync(
    path.join(week, 'pure.ts'),
    "/** A pure module. @module */\nimport { readFileSync } from 'node:fs';\nvoid readFileSync;\n/** Doubles. */\nexport const twice = (n: number): number => n * 2;\n",
  );
  writeFileSync(
    path.join(week, 'node_adapter.ts'),
    "/** An adapter may use Node. @module */\nimport { readFileSync } from 'node:fs';\n/** Reads a file. */\nexport const read = (p: string): string => readFileSync(p, 'utf8');\n",
  );
  writeFileSync(
    path.join(root, 'deno', 'fixture_test.ts'),
    "import { twice } from '../weeks/week-99-fixture/pure.ts';\nimport { read } from '../weeks/week-99-fixture/node_adapter.ts';\n" +
      "Deno.test('twice', () => { if (twice(2) !== 4 || typeof read !== 'function') throw new Error('wrong'); });\n",
  );
  trees.push(root);
  return root;
}

const trees: string[] = [];
afterAll(() => {
  for (const root of trees) rmSync(root, { recursive: true, force: true });
});

describe('npm run check:deno', () => {
  it('fails on a pure module that imports node:fs, naming the module, the line and the import', (ctx) => {
    if (!existsSync(DEFAULT_DENO)) ctx.skip(MISSING_DENO);
    const { status, out } = runCheck('--root', fixtureTree());
    expect(status, out).toBe(1);
    expect(out).toContain("deno check: weeks/week-99-fixture/pure.ts:2 imports 'node:fs': a pure module must run without Node");
    expect(out).toContain('FAIL (1 Node import(s) in pure modules, 0 module(s) not loaded)');
    expect(out).not.toContain('node_adapter.ts'); // an adapter may import Node
    expect(out).not.toContain('deno check: PASS'); // and the Deno tests never ran
  }, 180_000);

  // The repository's pure modules reach node_* adapters through the lib/ barrels, so this
  // also shows that an adapter's Node imports are allowed.
  it('passes on this repository: JCS, Ed25519 and the Raft simulator under Deno', (ctx) => {
    if (!existsSync(DEFAULT_DENO)) ctx.skip(MISSING_DENO);
    const { status, out } = runCheck();
    expect(status, out).toBe(0);
    expect(out).toContain('Ed25519 (webcrypto): the RFC 8032 vectors');
    expect(out).toContain('JCS: the first 10,000 ES6 numbers serialise as published');
    expect(out).toContain('Raft simulator: seed 8');
    expect(out).toContain('deno check: PASS');
  }, 180_000);
});

describe('inspectGraph', () => {
  const root = '/repo';
  const mod = (rel: string, ...deps: string[]) => ({
    specifier: pathToFileURL(path.join(root, rel)).href,
    dependencies: deps.map((specifier, i) => ({ specifier, code: { span: { start: { line: i } } } })),
  });

  it('reports Node builtins, with or without node:, imported by pure modules only', () => {
    const graph = {
      modules: [
        mod('weeks/week-02-framing/frame.ts', './catalog.ts', 'node:buffer'),
        mod('lib/framing.ts', 'fs/promises'),
        mod('weeks/week-02-framing/node_echo_server.ts', 'node:net'),
        mod('weeks/week-02-framing/frame.test.ts', 'node:fs'),
        mod('capstone/main.ts', 'node:fs'),
        { specifier: 'https://example.com/x.ts', dependencies: [{ specifier: 'node:fs' }] },
      ],
    };
    expect(inspectGraph(graph, root)).toEqual({
      impure: [
        { module: 'weeks/week-02-framing/frame.ts', line: 2, specifier: 'node:buffer' },
        { module: 'lib/framing.ts', line: 1, specifier: 'fs/promises' },
      ],
      broken: [],
    });
  });

  it('reports a module Deno could not load', () => {
    const graph = { modules: [{ specifier: 'file:///repo/weeks/week-02-framing/x.ts', error: 'Module not found' }] };
    expect(inspectGraph(graph, root).broken).toEqual(['Module not found']);
  });
});
