/**
 * The gate CLI as a real process, pointed with `--root` at the fixture tree in
 * gates/testdata/tree: week 1 (one passing criterion, one only skipped, an unknown id),
 * week 2 (a folder without a gate) and week 10 (every criterion passing).
 * The child runs start together in `beforeAll` to keep the suite quick.
 * @module
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const TREE = 'gates/testdata/tree';

/** What one run of the CLI printed and how it exited. */
interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node --import tsx gates/run.ts <args>` from the repository root. */
function gate(...args: string[]): Promise<Ran> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'gates/run.ts', ...args], { cwd: REPO });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** The last non-empty line of a text. */
function lastLine(text: string): string {
  return text.trimEnd().split('\n').at(-1) ?? '';
}

const runs: Record<string, Ran> = {};

beforeAll(async () => {
  const commands: Record<string, string[]> = {
    week1: ['week-1', '--root', TREE],
    week1Json: ['01', '--json', '--root', TREE],
    week10: ['week-10', '--root', TREE],
    allJson: ['all', '--json', '--root', TREE],
    week2: ['week-2', '--root', TREE],
    through10: ['10', '--through', '--root', TREE],
    missingRoot: ['1', '--root', 'gates/testdata/no-such-tree'],
    unknown: ['week-99', '--root', TREE],
    badFlag: ['1', '--verbose', '--root', TREE],
    help: ['--help'],
  };
  const results = await Promise.all(Object.values(commands).map((args) => gate(...args)));
  Object.keys(commands).forEach((name, i) => (runs[name] = results[i]!));
});

/** The named run; fails loudly if `beforeAll` did not record it. */
function ran(name: string): Ran {
  const result = runs[name];
  if (result === undefined) throw new Error(`Cannot find run ${name}: beforeAll did not record it`);
  return result;
}

describe('npm run gate -- week-1 (fixture tree)', () => {
  it('runs week 1\'s gate file only, never week 10\'s', () => {
    const json = JSON.parse(ran('week1Json').stdout) as { ranFiles: string[] };
    expect(json.ranFiles).toEqual(['weeks/week-01-fake/gate.test.ts']);
    expect(ran('week1').stderr).toContain('week-01-fake/gate.test.ts');
    expect(ran('week1').stderr).not.toContain('week-10-fake');
  });

  it('prints the row, then PASS for the criterion that ran and FAIL for the ones that did not', () => {
    const { stdout } = ran('week1');
    expect(stdout).toContain('  failure drill  The log path cannot be written (permission denied)');
    expect(stdout).toMatch(/^PASS \[1\.1\] .* \(1 test\)$/m);
    expect(stdout).toMatch(/^FAIL \[1\.2\] .* — no test ran \(1 test skipped\)$/m);
    expect(stdout).toMatch(/^FAIL \[1\.3\] .* — no test ran$/m);
    expect(stdout).toMatch(/^warning: .*carries \[1\.8\], which is not in the gate table$/m);
  });

  it('exits 1 and ends stdout with the count line', () => {
    expect(ran('week1').code).toBe(1);
    expect(lastLine(ran('week1').stdout)).toMatch(/^\d+ passed, \d+ failed$/);
    expect(lastLine(ran('week1').stdout)).toBe('1 passed, 7 failed');
  });

  it('with --json prints one parseable document and nothing else on stdout', () => {
    const json = JSON.parse(ran('week1Json').stdout) as {
      verdict: string;
      weeks: { week: number; criteria: { id: string; verdict: string; tests: unknown[] }[]; problems: string[] }[];
    };
    expect(ran('week1Json').code).toBe(1);
    expect(json.verdict).toBe('fail');
    expect(json.weeks.map((week) => week.week)).toEqual([1]);
    expect(json.weeks[0]?.criteria.map((c) => c.verdict)).toEqual(['pass', ...Array(6).fill('fail')]);
    expect(json.weeks[0]?.criteria[0]?.tests).toHaveLength(1);
    expect(json.weeks[0]?.problems).toHaveLength(1);
  });
});

describe('npm run gate -- week-10 (fixture tree)', () => {
  it('exits 0 when every criterion passes', () => {
    expect(ran('week10').code).toBe(0);
    expect(lastLine(ran('week10').stdout)).toBe('3 passed, 0 failed');
  });
});

describe('npm run gate -- 10 --through (fixture tree)', () => {
  it('gates weeks 1 to 10 in one run and fails, since week 1 fails and weeks 2-9 are not built', () => {
    const { code, stdout, stderr } = ran('through10');
    expect(code).toBe(1);
    expect(stdout).toContain('week 1: FAIL (1/7 criteria, 1 problem)');
    expect(stdout).toContain('week 10: PASS (3/3 criteria)');
    expect(stdout).toMatch(/^weeks 1-10: FAIL$/m);
    expect(stderr).toContain('error[E_GATE_NOT_BUILT]: Build weeks 2, 3, 4, 5, 6, 7, 8, 9 before gating through week 10');
    expect(lastLine(stdout)).toMatch(/^\d+ passed, \d+ failed$/);
  });
});

describe('npm run gate -- all (fixture tree)', () => {
  it('judges the built weeks, shows the rest as not built, and fails because week 1 fails', () => {
    const json = JSON.parse(ran('allJson').stdout) as {
      passed: number;
      failed: number;
      ranFiles: string[];
      weeks: { week: number; status: string; judged: boolean }[];
    };
    expect(ran('allJson').code).toBe(1);
    expect(json.weeks).toHaveLength(24);
    expect(json.ranFiles).toEqual(['weeks/week-01-fake/gate.test.ts', 'weeks/week-10-fake/gate.test.ts']);
    expect(json.weeks.filter((week) => week.judged).map((week) => [week.week, week.status])).toEqual([
      [1, 'fail'],
      [10, 'pass'],
    ]);
    expect(json.weeks[1]).toMatchObject({ week: 2, status: 'not built', judged: false });
    expect([json.passed, json.failed]).toEqual([4, 7]);
  });
});

describe('errors', () => {
  it('exits 1 with E_GATE_NOT_BUILT for a week without a gate, still printing its row', () => {
    const { code, stdout, stderr } = ran('week2');
    expect(code).toBe(1);
    expect(stderr).toMatch(/^error\[E_GATE_NOT_BUILT\]: Build week 2 before gating it: create weeks\/week-02-fake\/gate\.test\.ts/m);
    expect(stdout).toContain('week 2 · Stream-safe framing over TCP');
    expect(lastLine(stdout)).toBe('0 passed, 4 failed');
  });

  it('exits 2 with E_GATE_UNKNOWN_WEEK for a week outside 1-24', () => {
    const { code, stdout, stderr } = ran('unknown');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim()).toBe(
      'error[E_GATE_UNKNOWN_WEEK]: Cannot run gate: no week "week-99" (expected 1-24, week-N or all)',
    );
  });

  it('exits 2 with E_GATE_USAGE for an unknown flag', () => {
    expect(ran('badFlag').code).toBe(2);
    expect(ran('badFlag').stderr).toMatch(/^error\[E_GATE_USAGE\]: Fix the command line: .*--verbose/m);
  });

  it('exits 2 with E_GATE_USAGE when --root does not exist', () => {
    expect(ran('missingRoot').code).toBe(2);
    expect(ran('missingRoot').stderr).toMatch(/^error\[E_GATE_USAGE\]: Point --root at an existing directory/m);
  });

  it('prints usage for --help and exits 0', () => {
    expect(ran('help').code).toBe(0);
    expect(ran('help').stdout).toMatch(/^usage: npm run gate -- <week\|all>/);
  });
});
