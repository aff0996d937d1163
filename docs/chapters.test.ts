/**
 * `npm run chapters -- check` on a fixture repository: real bash, real commands.
 *
 * Proves the promises a chapter author relies on: a chapter whose transcripts hold
 * passes; changing a quoted output or a command on purpose fails with the chapter, the
 * line and a diff; `--update` takes the actual output of what fails; a background server cannot
 * outlive the check; a command that hangs is killed at its timeout.
 * @module
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runChapter } from './chapter_runner.ts';

const CLI = fileURLToPath(new URL('./chapters.ts', import.meta.url));

const GOOD = `# Week 1

\`\`\`console setup
$ greet() { echo "hello $1"; }
\`\`\`

\`\`\`console mask=dur
$ greet reader
hello reader
$ printf 'one\\ntwo\\n' |
>   wc -l
2
$ echo "took $((RANDOM % 90 + 10))ms"
took 12ms
$ ls /no/such/path; echo "exit $?"
ls: cannot access '/no/such/path': No such file or directory
exit 2
\`\`\`

\`\`\`console long
$ sleep 600
\`\`\`
`;

let roots: string[] = [];
afterEach(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
  roots = [];
});

/** A repository-shaped fixture with one built week whose chapter is `markdown`. */
function fixture(markdown: string): { root: string; chapter: string } {
  const root = mkdtempSync(join(tmpdir(), 'civictrust-chapters-'));
  roots.push(root);
  const week = join(root, 'weeks', 'week-01-demo');
  mkdirSync(week, { recursive: true });
  writeFileSync(join(week, 'gate.test.ts'), '');
  writeFileSync(join(week, 'README.md'), markdown);
  return { root, chapter: join(week, 'README.md') };
}

/** A process's state letter from /proc (`Z` for a zombie nobody reaped yet), or `gone`. */
function processState(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').charAt(0);
  } catch {
    return 'gone';
  }
}

function check(root: string, ...extra: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', CLI, 'check', 'week-1', '--root', root, ...extra], { encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('chapters check', () => {
  it('passes a chapter whose transcripts hold, skipping the long block', () => {
    const { root } = fixture(GOOD);
    const run = check(root);
    expect(run.stdout).toContain('PASS weeks/week-01-demo/README.md: 2 of 3 blocks, 5 commands');
    expect(run.stdout).toMatch(/^1 passed, 0 failed$/m);
    expect(run.status).toBe(0);
  });

  it('fails with the chapter, the line and a diff when a quoted output is changed on purpose', () => {
    const { root } = fixture(GOOD.replace('hello reader', 'hello world'));
    const run = check(root);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('weeks/week-01-demo/README.md:8: error[E_CHAPTER_OUTPUT_DIFFERS]: Output differs for `greet reader`');
    expect(run.stdout).toContain('    - hello world\n    + hello reader\n');
    expect(run.stdout).toMatch(/^0 passed, 1 failed$/m);
  });

  it('fails when a command is changed on purpose', () => {
    const { root } = fixture(GOOD.replace('$ greet reader', '$ greet writer'));
    const run = check(root);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('README.md:8: error[E_CHAPTER_OUTPUT_DIFFERS]: Output differs for `greet writer`');
    expect(run.stdout).toContain('    - hello reader\n    + hello writer\n');
  });

  it('--update writes the actual output of failing commands only, after which the check passes', () => {
    const { root, chapter } = fixture(GOOD.replace('hello reader', 'hello stale'));
    const run = check(root, '--update');
    expect(run.status).toBe(0);
    // `took 12ms` differs from the run only inside its mask: the quoted figure stays.
    expect(readFileSync(chapter, 'utf8')).toBe(GOOD);
    expect(check(root).status).toBe(0);
  });

  it('--json reports each chapter with its problems', () => {
    const { root } = fixture(GOOD.replace('exit 2', 'exit 0'));
    const run = check(root, '--json');
    const [report] = JSON.parse(run.stdout) as { ok: boolean; problems: { code: string; line: number }[] }[];
    expect(report?.ok).toBe(false);
    expect(report?.problems.map((p) => [p.code, p.line])).toEqual([['E_CHAPTER_OUTPUT_DIFFERS', 15]]);
  });

  it('refuses a chapter whose first console block is not the setup block, running nothing', () => {
    const { root } = fixture(GOOD.replace('```console setup', '```console'));
    const run = check(root);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('error[E_CHAPTER_NO_SETUP]');
    expect(run.stdout).toContain('0 of 3 blocks, 0 commands');
  });

  it('a wrong command line is a usage error with exit 2', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', CLI, 'chekc', 'all'], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('error[E_CHAPTERS_USAGE]');
  });
});

describe('runChapter', () => {
  it('kills a server a block left running in the background when the chapter ends', async () => {
    const { root } = fixture('');
    const pidFile = join(root, 'server.pid');
    const markdown = `\`\`\`console setup\n$ sleep 300 & echo $! > ${pidFile}\n\`\`\`\n`;
    const run = await runChapter({ root, path: 'README.md', markdown });
    expect(run.problems).toEqual([]);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(processState(pid)).toMatch(/^(gone|Z)$/);
  });

  it('kills a command that overruns its timeout and reports it at its line with what it printed', async () => {
    const { root } = fixture('');
    const markdown = '```console setup timeout=1\n$ echo started; sleep 30\nstarted\n$ echo never\nnever\n```\n';
    const started = Date.now();
    const run = await runChapter({ root, path: 'README.md', markdown });
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(run.problems.map((p) => [p.code, p.line])).toEqual([['E_CHAPTER_TIMEOUT', 2]]);
    expect(run.problems[0]?.diff).toEqual(['+ started']);
  });

  it('reports the command the shell never reached when a command exits the shell', async () => {
    const { root } = fixture('');
    const markdown = '```console setup\n$ exit 3\n$ echo after\nafter\n```\n';
    const run = await runChapter({ root, path: 'README.md', markdown });
    expect(run.problems.map((p) => [p.code, p.line])).toEqual([['E_CHAPTER_NOT_RUN', 2]]);
  });
});
