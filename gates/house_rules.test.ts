/**
 * The house rules hold on the repository, and each rule catches its own breach.
 *
 * Every negative control starts from a small clean repository built in memory and
 * breaks exactly one rule, then asserts that exactly that rule (and no other) fires.
 * The last test runs the checker over the real source tree.
 * @module
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  checkHouseRules,
  collectImports,
  formatViolation,
  isPureModule,
  RULE_NAMES,
  type RuleName,
  type SourceFile,
  type Violation,
} from './house_rules.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A module with the required leading doc comment. */
function mod(filePath: string, ...body: string[]): SourceFile {
  return { path: filePath, source: [`/** Fixture ${filePath}. @module */`, ...body, ''].join('\n') };
}

/** A small repository that keeps every rule. */
const CLEAN: readonly SourceFile[] = [
  mod('weeks/week-01-cli-logger/mod.ts', "export { log, type Level } from './logger.ts';"),
  mod(
    'weeks/week-01-cli-logger/logger.ts',
    "/** A level. */\nexport type Level = 'info' | 'error';",
    '/** Formats a line. */',
    'export function log(level: Level, text: string): string {',
    '  return `${level} ${text}`;',
    '}',
  ),
  mod(
    'weeks/week-01-cli-logger/node_cli.ts',
    "import { readFileSync } from 'node:fs';",
    "import { log } from './mod.ts';",
    "console.log(log('info', process.argv[2] ?? readFileSync(__filename, 'utf8')), Buffer.alloc(1));",
  ),
  {
    path: 'weeks/week-01-cli-logger/gate.test.ts',
    source: "import { it } from 'vitest';\nimport { log } from './mod.ts';\nit('logs', () => { void log('info', String(process.pid)); });\n",
  },
  { path: 'weeks/week-01-cli-logger/drill.mjs', source: "import { $ } from 'zx';\nawait $`node --version`;\n" },
  mod('lib/logger.ts', "export { log, type Level } from '../weeks/week-01-cli-logger/mod.ts';"),
  mod(
    'weeks/week-02-framing/mod.ts',
    "import { log } from '../../lib/logger.ts';",
    "import type { Level } from '../../lib/logger.ts';",
    "export { frame } from './frame.ts';",
    "/** The level framing logs at. */\nexport const LEVEL: Level = 'info';",
    "/** Logs a frame. */\nexport function trace(n: number): string { return log(LEVEL, String(n)); }",
  ),
  mod(
    'weeks/week-02-framing/frame.ts',
    '// Names that look like Node globals but are not reads of them:',
    'const settings = { process: 1, Buffer: 2, require: 3 };',
    '/** Frames a payload. */',
    'export function frame(payload: Uint8Array, process = settings.process): Uint8Array {',
    '  const out = new Uint8Array(payload.length + 4);',
    '  new DataView(out.buffer).setUint32(0, payload.length + process - settings.Buffer + settings.require - 2);',
    '  out.set(payload, 4);',
    '  return out;',
    '}',
    'function require(name: string): string { return name; }',
    'void require;',
    'class Holder { process = 0; Buffer(): number { return this.process; } }',
    'void Holder;',
  ),
  mod('lib/framing.ts', "export { frame, LEVEL, trace } from '../weeks/week-02-framing/mod.ts';"),
  mod('lib/mod.ts', "export * from './logger.ts';", "export * from './framing.ts';"),
  mod('capstone/main.ts', "import { readFileSync } from 'node:fs';", "import { frame, log } from '../lib/mod.ts';", 'void frame; void log; void readFileSync;'),
  {
    path: 'capstone/cli.ts',
    source: "#!/usr/bin/env node\n/** Fixture CLI. @module */\nimport './main.ts';\nconsole.log(process.argv);\n",
  },
  mod('gates/run.ts', "import { frame } from '../weeks/week-02-framing/mod.ts';", 'void frame;'),
  { path: 'weeks/week-02-framing/testdata/vector.ts', source: 'export const V = Buffer.from([1]);\n' },
  mod('docs/build.ts', "import fs from 'node:fs';", 'void fs;'),
];

/** The clean repository with files added or replaced by path. */
function withFiles(...changes: SourceFile[]): SourceFile[] {
  const byPath = new Map(CLEAN.map((f) => [f.path, f]));
  for (const change of changes) byPath.set(change.path, change);
  return [...byPath.values()];
}

/** The rule names of a report, in order. */
function rulesOf(violations: readonly Violation[]): RuleName[] {
  return violations.map((v) => v.rule);
}

describe('collectImports', () => {
  it('finds static, type-only, re-export, dynamic, import-type and side-effect specifiers with their lines', () => {
    const file = mod(
      'weeks/week-03-x/a.ts',
      "import { a } from './a1.ts';",
      "import type { B } from './b.ts';",
      "export { c } from './c.ts';",
      "export * as d from './d.ts';",
      "import './side.ts';",
      "const e = await import('./e.ts');",
      "type F = import('./f.ts').F;",
      'const g = await import(someVariable);',
    );
    expect(collectImports(file).map((r) => [r.specifier, r.kind, r.line])).toEqual([
      ['./a1.ts', 'import', 2],
      ['./b.ts', 'import-type', 3],
      ['./c.ts', 'export-from', 4],
      ['./d.ts', 'export-from', 5],
      ['./side.ts', 'import', 6],
      ['./e.ts', 'dynamic', 7],
      ['./f.ts', 'import-type-node', 8],
    ]);
  });
});

describe('isPureModule', () => {
  it.each([
    ['weeks/week-02-framing/frame.ts', true],
    ['lib/framing.ts', true],
    ['weeks/week-02-framing/node_socket.ts', false],
    ['weeks/week-02-framing/gate.test.ts', false],
    ['weeks/week-02-framing/drill.mjs', false],
    ['weeks/week-02-framing/testdata/gen.ts', false],
    ['capstone/main.ts', false],
    ['gates/run.ts', false],
  ])('%s → %s', (p, pure) => {
    expect(isPureModule(p)).toBe(pure);
  });
});

describe('checkHouseRules', () => {
  it('reports nothing for a repository that keeps every rule', () => {
    expect(checkHouseRules(CLEAN).map(formatViolation)).toEqual([]);
  });

  describe('when a week reaches outside what it may import', () => {
    it.each<[string, RuleName, string]>([
      ['a static import of another week folder', 'other-week-folder', "import { log } from '../week-01-cli-logger/logger.ts';"],
      ['a re-export from another week folder', 'other-week-folder', "export { log } from '../week-01-cli-logger/mod.ts';"],
      ['a dynamic import of another week folder', 'other-week-folder', "const m = await import('../week-01-cli-logger/mod.ts');"],
      ['an import() type from another week folder', 'other-week-folder', "type L = import('../week-01-cli-logger/logger.ts').Level;"],
      ['the aggregate barrel', 'aggregate-barrel', "import { log } from '../../lib/mod.ts';"],
      ['a capstone module', 'capstone-import', "import type {} from '../../capstone/main.ts';"],
      ['the gate runner', 'outside-import', "import {} from '../../gates/run.ts';"],
      ['a file that does not exist', 'outside-import', "import {} from '../../lib/nowhere/x.ts';"],
      ['a URL', 'outside-import', "import {} from 'https://example.com/x.ts';"],
    ])('reports %s as %s', (_what, rule, line) => {
      const found = checkHouseRules(withFiles(mod('weeks/week-02-framing/extra.ts', line)));
      expect(rulesOf(found), found.map(formatViolation).join('\n')).toEqual([rule]);
      expect(found[0]).toMatchObject({ file: 'weeks/week-02-framing/extra.ts', line: 2 });
    });

    it('reports a barrel of a later week as later-week', () => {
      const found = checkHouseRules(withFiles(mod('weeks/week-01-cli-logger/extra.ts', "import { frame } from '../../lib/framing.ts';")));
      expect(rulesOf(found)).toEqual(['later-week']);
      expect(found[0]?.message).toContain('lib/framing.ts re-exports week(s) 2');
    });

    it("reports the week's own barrel as later-week (time flows one way, even for week N itself)", () => {
      const found = checkHouseRules(withFiles(mod('weeks/week-01-cli-logger/extra.ts', "import { log } from '../../lib/logger.ts';")));
      expect(rulesOf(found)).toEqual(['later-week']);
    });

    it('accepts bare packages and node: specifiers in a node_ adapter', () => {
      const found = checkHouseRules(
        withFiles(mod('weeks/week-02-framing/node_io.ts', "import fc from 'fast-check';", "import { once } from 'node:events';", 'void fc; void once;')),
      );
      expect(found).toEqual([]);
    });
  });

  it('reports lib-capstone for a lib/ module that imports capstone/', () => {
    const found = checkHouseRules(withFiles(mod('lib/internal/boot.ts', "import '../../capstone/main.ts';")));
    expect(rulesOf(found)).toEqual(['lib-capstone']);
  });

  describe('when a topic barrel is not an explicit list of a week mod.ts', () => {
    it.each<[string, string[]]>([
      ['export *', ["export * from '../weeks/week-02-framing/mod.ts';"]],
      ['export * as', ["export * as framing from '../weeks/week-02-framing/mod.ts';"]],
      ['a re-export of a file other than mod.ts', ["export { frame } from '../weeks/week-02-framing/frame.ts';"]],
      ['a local declaration', ["export { frame } from '../weeks/week-02-framing/mod.ts';", 'export const EXTRA = 1;']],
      ['an import', ["import { frame } from '../weeks/week-02-framing/mod.ts';", 'export { frame };']],
    ])('reports %s as barrel-shape', (_what, body) => {
      const found = checkHouseRules(withFiles(mod('lib/framing.ts', ...body)));
      expect(new Set(rulesOf(found))).toEqual(new Set(['barrel-shape']));
    });
  });

  describe('when imports loop', () => {
    it('reports a two-file cycle with its path', () => {
      const found = checkHouseRules(
        withFiles(
          mod('weeks/week-02-framing/a.ts', "import { b } from './b.ts';", '/** A. */\nexport const a = 1 + b;'),
          mod('weeks/week-02-framing/b.ts', "import type { A } from './c.ts';", '/** B. */\nexport const b: A = 2;'),
          mod('weeks/week-02-framing/c.ts', "import { a } from './a.ts';", '/** A type. */\nexport type A = typeof a;'),
        ),
      );
      expect(rulesOf(found)).toEqual(['cycle']);
      expect(found[0]).toMatchObject({ file: 'weeks/week-02-framing/a.ts', line: 2 });
      expect(found[0]?.message).toContain(
        'weeks/week-02-framing/a.ts -> weeks/week-02-framing/b.ts -> weeks/week-02-framing/c.ts -> weeks/week-02-framing/a.ts',
      );
    });

    it('reports a file that imports itself', () => {
      const found = checkHouseRules(withFiles(mod('capstone/self.ts', "import './self.ts';")));
      expect(rulesOf(found)).toEqual(['cycle']);
      expect(found[0]?.message).toContain('capstone/self.ts -> capstone/self.ts');
    });
  });

  describe('when a pure module touches Node', () => {
    it.each<[string, string]>([
      ['a node: import', "import { readFile } from 'node:fs/promises';"],
      ['a bare builtin import', "import path from 'path';"],
      ['a bare builtin subpath', "import { readFile } from 'fs/promises';"],
      ['Buffer', "const bytes = Buffer.from('x');"],
      ['process', 'const env = process.env;'],
      ['__dirname', 'const here = __dirname;'],
      ['__filename', 'const self = __filename;'],
      ['require', "const m = require('x');"],
      ['Buffer as a type', 'let b: Buffer | undefined;'],
      ['process in shorthand', 'const o = { process };'],
    ])('reports %s as impure-core', (_what, line) => {
      const found = checkHouseRules(withFiles(mod('weeks/week-02-framing/codec.ts', line)));
      expect(rulesOf(found), found.map(formatViolation).join('\n')).toEqual(['impure-core']);
      expect(found[0]?.line).toBe(2);
    });

    it('accepts the same code in a node_ adapter, a test file and a testdata helper', () => {
      const body = "import path from 'node:path';\nconst here = path.dirname(__filename) + process.cwd();";
      const found = checkHouseRules(
        withFiles(
          mod('weeks/week-02-framing/node_codec.ts', body),
          { path: 'weeks/week-02-framing/codec.test.ts', source: body },
          { path: 'weeks/week-02-framing/testdata/make.ts', source: body },
        ),
      );
      expect(found).toEqual([]);
    });
  });

  describe('when a module has no leading @module doc comment', () => {
    it.each<[string, string]>([
      ['no comment at all', "export const a = 1;\n"],
      ['only a line comment', '// Does things.\nexport const a = 1;\n'],
      ['a doc comment without @module', '/** Does things. */\nexport const a = 1;\n'],
      ['a plain block comment', '/* Does things. @module */\nexport const a = 1;\n'],
      ['the doc after an import', "import { frame } from './frame.ts';\n/** Does things. @module */\nexport const a = frame;\n"],
    ])('reports %s as missing-module-doc', (_what, source) => {
      const found = checkHouseRules(withFiles({ path: 'weeks/week-02-framing/helper.ts', source }));
      expect(rulesOf(found)).toEqual(['missing-module-doc']);
    });

    it('applies to gates/, docs/ and capstone/ too, but not to tests or .mjs', () => {
      const bare = 'export const a = 1;\n';
      const found = checkHouseRules(
        withFiles(
          { path: 'gates/x.ts', source: bare },
          { path: 'docs/x.ts', source: bare },
          { path: 'capstone/x.ts', source: bare },
          { path: 'gates/x.test.ts', source: bare },
          { path: 'capstone/bin/x.mjs', source: bare },
        ),
      );
      expect(found.map((v) => `${v.rule} ${v.file}`)).toEqual([
        'missing-module-doc capstone/x.ts',
        'missing-module-doc docs/x.ts',
        'missing-module-doc gates/x.ts',
      ]);
    });
  });

  describe('outside-path: nothing reads a path outside the repository', () => {
    // The fixtures spell machine paths through this helper so that this file, which the
    // rule scans too, holds no such path as a literal of its own.
    const machine = (root: string, rest: string): string => `/${root}/${rest}`;
    const found = (...files: SourceFile[]): string[] =>
      checkHouseRules(withFiles(...files), { rules: ['outside-path'] }).map((v) => `${v.file}:${v.line} ${v.message}`);

    it.each<[string, SourceFile, string]>([
      [
        'an absolute path into the workspace, read by a test',
        mod('weeks/week-02-framing/vectors.test.ts', `const v = readFileSync('${machine('work', 'shared/vectors/v.json')}');`),
        `Replace '${machine('work', 'shared/vectors/v.json')}': ${machine('work', '')} is a folder of one machine`,
      ],
      ['a home folder in any string', mod('capstone/keys.ts', `export const KEYS = '${machine('home', 'dev/keys')}';`), `${machine('home', '')} is a folder of one machine`],
      ["root's home in a template", mod('gates/cfg.ts', `const at = \`${machine('root', '.config')}/\${name}\`;`), `${machine('root', '')} is a folder of one machine`],
      ['a file: URL into a user folder', mod('docs/link.ts', `const u = 'file://${machine('Users', 'me/x.json')}';`), `${machine('Users', '')} is a folder of one machine`],
      [
        'new URL(…, import.meta.url) climbing to a folder beside the clone',
        mod('weeks/week-02-framing/v.test.ts', "const u = new URL('../../../shared/vectors/v.json', import.meta.url);"),
        "Replace '../../../shared/vectors/v.json': from weeks/week-02-framing/ it climbs out of the repository (to ../shared/vectors/v.json)",
      ],
      [
        '../shared/ read from the working directory',
        mod('gates/v.test.ts', "const v = readFileSync('../shared/vectors/v.json', 'utf8');"),
        "Replace '../shared/vectors/v.json': from the repository root it climbs out of the repository",
      ],
      [
        'join from the module folder climbing out',
        mod('weeks/week-02-framing/v.test.ts', "const dir = join(import.meta.dirname, '..', '..', '..', 'shared');"),
        "Replace '../../../shared': from weeks/week-02-framing/ it climbs out",
      ],
      ['a command run by execSync', mod('capstone/run.ts', "execSync('cat ../outside.txt');"), "Replace '../outside.txt'"],
      ['an argument of spawn', mod('capstone/run.ts', "spawn('node', ['../outside.mjs']);"), "Replace '../outside.mjs'"],
      ['a zx command', { path: 'weeks/week-02-framing/drill.mjs', source: 'await $`cat ../../../shared/x`;\n' }, "Replace '../../../shared/x'"],
      ['an import above the root', mod('capstone/main.ts', "import '../../outside.ts';"), "Replace '../../outside.ts': from capstone/ it climbs out"],
      ['a JSON value', { path: 'tsconfig.json', source: '{\n  "extends": "../shared/tsconfig.json"\n}\n' }, "tsconfig.json:2 Replace '../shared/tsconfig.json'"],
      ['a machine path in JSON', { path: 'weeks/week-02-framing/testdata/run.json', source: `{"log": "${machine('home', 'me/run.log')}"}` }, `${machine('home', '')} is a folder`],
      [
        'a chapter command',
        { path: 'weeks/week-02-framing/README.md', source: `# W\n\n\`\`\`console\n$ cat ${machine('work', 'shared/x')}\nout\n\`\`\`\n` },
        `README.md:4 Replace '${machine('work', 'shared/x')}'`,
      ],
      [
        "a chapter command's continuation line",
        { path: 'weeks/week-02-framing/README.md', source: '# W\n\n```console\n$ cat \\\n>   ../x\nout\n```\n' },
        "README.md:5 Replace '../x': from the repository root",
      ],
      ['a shell fence', { path: 'README.md', source: '# R\n\n```sh\ncp ../shared/v.json .\n```\n' }, "README.md:4 Replace '../shared/v.json'"],
      [
        'a free ts fence',
        { path: 'weeks/week-02-framing/README.md', source: `# W\n\n\`\`\`ts\nconst v = readFileSync('${machine('home', 'v.json')}');\n\`\`\`\n` },
        'README.md:4 Replace',
      ],
      ['a CI script', { path: '.ci/run', source: `#!/usr/bin/env bash\nset -e\ncp ${machine('work', 'shared/v.json')} testdata/\n` }, '.ci/run:3 Replace'],
    ])('reports %s', (_what, file, message) => {
      const messages = found(file);
      expect(messages, messages.join('\n')).toHaveLength(1);
      expect(messages[0]).toContain(message);
    });

    it('accepts system paths, URL paths, the placeholder, paths inside the repository and paths that are only data', () => {
      const messages = found(
        mod(
          'weeks/week-02-framing/ok.test.ts',
          "const sys = ['/tmp/x', '/dev/null', '/proc/self/status', '/usr/bin/env', '/etc/hosts', '/sys/fs/cgroup', '/var/log/x', '/srv/x'];",
          "const web = ['/healthz', '/metrics', 'https://example.com/home/x', 'http://127.0.0.1:7001/root'];",
          "const where = '/path/to/civictrust';",
          `const under = \`\${ROOT}${machine('home', 'x')}\`;`,
          "const v = readFileSync(new URL('../../testdata/vectors/v.json', import.meta.url));",
          "const up = join(import.meta.dirname, '..', '..');",
          "expect(resolveLink('../../../README.md')).toBe('the path leads outside the repository');",
          "const unknown = join(someDir, '..', '..', '..');",
          `// a comment may mention ${machine('work', 'main')}`,
        ),
        { path: 'package-lock.json', source: `{"resolved": "${machine('home', 'npm/x.tgz')}"}` },
        {
          path: 'weeks/week-02-framing/README.md',
          source: [
            `# W\n\nProse may say ${machine('work', 'main')}.\n`,
            `\`\`\`console\n$ npm test\n RUN  v4.1.12 ${machine('work', 'main')}\n\`\`\``,
            `\`\`\`text\n${machine('home', 'x')}\n\`\`\``,
            `\`\`\`sh\n# not ${machine('home', 'x')}\ncat weeks/week-02-framing/README.md\n\`\`\``,
            `\`\`\`ts file=frame.ts region=r\nconst v = readFileSync('${machine('home', 'x')}');\n\`\`\``,
            '',
          ].join('\n'),
        },
      );
      expect(messages).toEqual([]);
    });
  });

  it('runs only the rules asked for', () => {
    const files = withFiles({ path: 'gates/x.ts', source: 'export const a = 1;\n' });
    expect(checkHouseRules(files, { rules: ['cycle'] })).toEqual([]);
  });
});

/**
 * Every file of the repository the `outside-path` rule reads: the tracked files and the
 * new ones git would add (not the ignored ones), with their text.
 */
function trackedFiles(): SourceFile[] {
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: ROOT, encoding: 'utf8' });
  return listed
    .split('\0')
    .filter((p) => /\.(ts|mts|cts|mjs|cjs|js|json|md|sh)$/.test(p) || p.startsWith('.ci/'))
    .filter((p) => existsSync(path.join(ROOT, p)))
    .sort()
    .map((p) => ({ path: p, source: readFileSync(path.join(ROOT, p), 'utf8') }));
}

/** Collects the repository's .ts and .mjs sources the way the rules see them. */
function repositoryFiles(): SourceFile[] {
  const skip = new Set(['node_modules', 'testdata', '.git']);
  const out: SourceFile[] = [];
  const walk = (rel: string): void => {
    const abs = path.join(ROOT, rel);
    if (!existsSync(abs)) return;
    for (const entry of readdirSync(abs, { withFileTypes: true })) {
      const child = `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!skip.has(entry.name) && child !== 'docs/_site') walk(child);
      } else if (entry.isFile() && /\.(ts|mjs)$/.test(entry.name)) {
        out.push({ path: child, source: readFileSync(path.join(ROOT, child), 'utf8') });
      }
    }
  };
  for (const top of ['weeks', 'lib', 'capstone', 'gates', 'docs']) walk(top);
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

describe('the repository', () => {
  it('keeps every house rule about modules', () => {
    const files = repositoryFiles();
    // Guard against a collector that silently finds nothing.
    expect(files.map((f) => f.path)).toContain('gates/house_rules.ts');
    const violations = checkHouseRules(files, { rules: RULE_NAMES.filter((r) => r !== 'outside-path') });
    const report = violations.map(formatViolation).join('\n');
    expect(violations.map(formatViolation), `${violations.length} house-rule violation(s):\n${report}`).toEqual([]);
  });

  it('reads nothing outside itself (outside-path, over every tracked file, testdata and chapters included)', () => {
    const files = trackedFiles();
    expect(files.map((f) => f.path)).toEqual(expect.arrayContaining(['.ci/run', 'package.json', 'README.md', 'weeks/week-08-signatures/ed25519.test.ts']));
    const violations = checkHouseRules(files, { rules: ['outside-path'] });
    const report = violations.map(formatViolation).join('\n');
    expect(violations.map(formatViolation), `${violations.length} path(s) outside the repository:\n${report}`).toEqual([]);
  });
});
