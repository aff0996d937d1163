/**
 * Test support: drives CLI commands with bad input and checks that every failure is a
 * coded, documented error: one `error[E_CODE]: …` line whose code is in the CLI's
 * catalog, the exit status the catalog gives that code (never 70, "a bug"), and no
 * stack trace. Each week's `bad_input.test.ts` lists cases for the commands it owns,
 * so the check grows with the course.
 *
 * Cases run in-process through {@link runCli} (fast: one process for the whole file);
 * a case with `uid` is spawned as that user, since permissions are per process.
 * @module
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { counterIds, steppingClock } from './clock.ts';
import type { CliIo, CliSpec } from './cli.ts';
import { EXIT, type ErrorSpec } from './errors.ts';
import { runCli } from './node_cli.ts';
import { runCliProcess, type CliResult } from './node_spawn_cli.ts';
import { makeWorkspace, type Workspace } from './node_workspace.ts';

/** One bad command line and what it must fail with. */
export interface BadInputCase {
  /** The arguments after the program name. */
  readonly argv: readonly string[];
  /** The catalog code it must fail with (any catalog code when omitted). */
  readonly code?: string;
  /** Run as this user id in a child process (as root: 65534 is `nobody`). */
  readonly uid?: number;
  /** Bytes fed to stdin. */
  readonly stdin?: string;
}

/** Where a week's CLI spec lives, for the cases spawned as another user. */
export interface SpecModule {
  /** The module's path or URL. */
  readonly module: string | URL;
  /** The name of its exported `CliSpec`. */
  readonly name: string;
}

/** Longest a single case may take before it counts as hung (a server that started). */
const CASE_DEADLINE_MS = 30_000;

/**
 * Runs one command line in this process with captured output.
 * @returns the exit status and what it wrote
 */
export async function runInProcess(spec: CliSpec, argv: readonly string[], stdin = ''): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    stdin: () => Readable.from(stdin === '' ? [] : [Buffer.from(stdin)]),
    clock: steppingClock(Date.parse('2026-12-01T00:00:00.000Z'), 1),
    ids: counterIds('bad'),
  };
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<number>((resolve) => {
    timer = setTimeout(() => resolve(-1), CASE_DEADLINE_MS);
  });
  const code = await Promise.race([runCli(argv, spec, io), hung]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/**
 * What is wrong with how a command failed, if anything.
 * @param result - the command's exit status and output
 * @param spec - the CLI it ran under (its catalog is the one that counts)
 * @param expected - the code it must fail with, if one is required
 * @returns an empty list when the failure is coded and documented, else the problems
 */
export function badInputProblems(result: CliResult, spec: CliSpec, expected?: string): string[] {
  const problems: string[] = [];
  if (result.code === -1) return [`did not finish within ${CASE_DEADLINE_MS} ms`];
  const first = result.stderr.split('\n').find((line) => line.startsWith('error['));
  const code = first === undefined ? undefined : /^error\[([A-Z0-9_]+)\]: \S/.exec(first)?.[1];
  if (code === undefined) problems.push(`no error[CODE] line on stderr: ${JSON.stringify(result.stderr.slice(0, 200))}`);
  const specOf: ErrorSpec | undefined = code === undefined ? undefined : spec.catalog[code];
  if (code !== undefined && specOf === undefined) problems.push(`${code} is not a catalog code`);
  if (code === 'E_INTERNAL' || result.code === EXIT.internal) problems.push(`reported as a bug (exit ${result.code}): ${first ?? ''}`);
  if (specOf !== undefined && result.code !== EXIT[specOf.exit]) problems.push(`${code} exited ${result.code}, the catalog says ${EXIT[specOf.exit]}`);
  if (expected !== undefined && code !== expected) problems.push(`expected ${expected}, got ${code ?? 'no code'}: ${first ?? ''}`);
  if (/\n\s+at .+:\d+:\d+\)?\n/.test(`\n${result.stderr}\n`)) problems.push('printed a stack trace');
  return problems;
}

/**
 * Runs every case and collects the problems, one line per bad case.
 * @param spec - the week's CLI
 * @param where - the module exporting `spec`, for the cases run as another user
 * @returns `["<argv>: <problem>", …]`, empty when every failure is coded and documented
 */
export async function driveBadInput(spec: CliSpec, where: SpecModule, cases: readonly BadInputCase[]): Promise<string[]> {
  const report: string[] = [];
  const run = async (c: BadInputCase): Promise<void> => {
    const result = c.uid === undefined
      ? await runInProcess(spec, c.argv, c.stdin)
      : await runCliProcess(c.argv, { uid: c.uid, spec: where, ...(c.stdin === undefined ? {} : { stdin: c.stdin }) });
    for (const problem of badInputProblems(result, spec, c.code)) report.push(`${c.argv.join(' ')}${c.uid === undefined ? '' : ` (uid ${c.uid})`}: ${problem}`);
  };
  // In-process cases one at a time (they share this process); spawned ones two at a time.
  for (const c of cases.filter((k) => k.uid === undefined)) await run(c);
  const spawned = cases.filter((k) => k.uid !== undefined);
  for (let i = 0; i < spawned.length; i += 2) await Promise.all(spawned.slice(i, i + 2).map(run));
  return report;
}

/**
 * The `noun verb` of every command in a CLI that no case exercises: a new command
 * must come with its bad-input cases.
 * @param nouns - only these groups (a week's own), or every group when omitted
 */
export function commandsWithoutCases(spec: CliSpec, cases: readonly BadInputCase[], nouns?: readonly string[]): string[] {
  const covered = new Set(cases.map((c) => `${c.argv[0]} ${c.argv[1]}`));
  return spec.groups
    .filter((g) => nouns === undefined || nouns.includes(g.noun))
    .flatMap((g) => g.commands.map((c) => `${g.noun} ${c.verb}`))
    .filter((name) => !covered.has(name));
}

/** The user id of `nobody`, for the unreadable-path cases. */
export const NOBODY = 65534;

/** A scratch directory holding one bad argument of each kind. */
export interface BadPaths extends Workspace {
  /** A path whose parent does not exist either. */
  readonly missing: string;
  /** An empty directory, for commands that want a file. */
  readonly dir: string;
  /** A regular file of invalid UTF-8 and broken JSON, for commands that want a directory or a document. */
  readonly garbage: string;
  /** A file of valid JSON that only root can read (mode 0600). */
  readonly secretFile: string;
  /** A directory that only root can enter (mode 0700), holding `keyring.json`. */
  readonly secretDir: string;
}

/** Makes the scratch paths of {@link BadPaths}; remove them with `remove()`. */
export function makeBadPaths(label: string): BadPaths {
  const ws = makeWorkspace(label);
  const paths = {
    ...ws,
    missing: join(ws.dir, 'no', 'such'),
    dir: ws.fresh('dir'),
    garbage: ws.fresh('garbage'),
    secretFile: ws.fresh('secret.json'),
    secretDir: ws.fresh('secret-dir'),
  };
  mkdirSync(paths.dir);
  writeFileSync(paths.garbage, Buffer.from([0xff, 0xfe, 0x20, 0x7b, 0x0a]));
  writeFileSync(paths.secretFile, '{"version": 1, "keys": []}\n', { mode: 0o600 });
  chmodSync(paths.secretFile, 0o600);
  mkdirSync(paths.secretDir, { mode: 0o700 });
  chmodSync(paths.secretDir, 0o700);
  writeFileSync(join(paths.secretDir, 'keyring.json'), '{"version": 1, "keys": []}\n');
  return paths;
}
