/**
 * The summary reporter inside real vitest runs over gates/testdata/reporter: its line
 * comes last, mentions skipped tests only when there are some, and still prints when
 * the run fails.
 * @module
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const VITEST = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');
const REPORTER = fileURLToPath(new URL('./summary_reporter.ts', import.meta.url));

/** Runs vitest over the reporter fixture with the summary reporter; returns exit code and last stdout line. */
function vitestWithSummary(...filters: string[]): Promise<{ code: number | null; last: string }> {
  const args = [VITEST, 'run', ...filters, '--root', 'gates/testdata/reporter', '--reporter=default', `--reporter=${REPORTER}`];
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, last: stdout.trimEnd().split('\n').at(-1) ?? '' }));
  });
}

describe('SummaryReporter', () => {
  it('ends every run, failing or not, with its count line, naming skipped tests only when there are some', async () => {
    const [failing, passing] = await Promise.all([vitestWithSummary(), vitestWithSummary('passing.test.ts')]);
    expect(failing).toEqual({ code: 1, last: '2 passed, 1 failed, 1 skipped' });
    expect(passing).toEqual({ code: 0, last: '1 passed, 0 failed' });
  });
});
